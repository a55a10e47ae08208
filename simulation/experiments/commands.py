"""The ``compare``, ``sweep`` and ``analyze`` commands of ``funnelsim`` (registered on the app by
:func:`register`). Heavy imports (Dask, SALib, matplotlib) happen inside the commands so the
CLI starts fast. User errors: one message on stderr, exit code 2, nothing written."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from simulation.console import err_console, out_console
from simulation.console import fail as _fail
from simulation.errors import FunnelsimError, Problem

SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="Override a scenario field for every run: dotted.key=value. Repeatable.")]
WorkersOpt = Annotated[int | None, typer.Option(
    help="Local Dask worker processes [default: one per core]; 0 runs in this process.")]
SchedulerOpt = Annotated[str | None, typer.Option(
    help="Use an existing Dask scheduler, e.g. tcp://10.0.0.5:8786.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable output only.")]



class RunProgress:
    """A rich progress bar of runs: done / total, failed, elapsed and estimated time left."""

    def __init__(self, label: str, quiet: bool):
        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TextColumn("[red]{task.fields[failed]} failed"),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=err_console, transient=False, disable=quiet)
        self.label = label
        self.task = None
        self.done = self.failed = self.total = 0

    def __enter__(self) -> RunProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)

    def __call__(self, done: int, failed: int, total: int) -> None:
        if self.task is None:
            self.task = self.bar.add_task(self.label, total=total, completed=done, failed=failed)
        self.bar.update(self.task, completed=done, failed=failed)
        self.done, self.failed, self.total = done, failed, total


def _evaluator(workers: int | None, scheduler: str | None):
    from simulation.experiments.evaluators import DaskEvaluator, InProcessEvaluator

    if scheduler is None and workers == 0:
        return InProcessEvaluator()
    if workers is not None and workers < 0:
        raise FunnelsimError("--workers", [Problem("", "expected 0 or more", value=workers)])
    return DaskEvaluator(workers=workers, scheduler=scheduler)


def sweep(
    spec: Annotated[Path, typer.Argument(help="Sweep spec (YAML), e.g. scenarios/sweeps/"
                                              "retargeting_budget.yaml.")],
    out: Annotated[Path | None, typer.Option(help="Output folder [default: results/<name>]. "
                                                  "Runs already stored there are skipped.")] = None,
    param: Annotated[list[str] | None, typer.Option(
        help="Sweep a key over values: key=v1,v2,... (adds to or replaces the spec's). "
             "Repeatable.")] = None,
    set_: SetOpt = None,
    design: Annotated[str | None, typer.Option(help="grid | random | lhs | sobol | morris.")] = None,
    samples: Annotated[int | None, typer.Option(help="Points (random, lhs), N (sobol), "
                                                     "trajectories (morris).")] = None,
    replicates: Annotated[int | None, typer.Option(help="Runs (seeds) per point.")] = None,
    seed: Annotated[int | None, typer.Option(help="Base seed of replicates and design.")] = None,
    timeseries: Annotated[bool, typer.Option(help="Also keep each run's daily table.")] = False,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    batch_size: Annotated[int, typer.Option(help="Write runs.parquet every N finished runs "
                                                 "(or every 2 s).")] = 50,
    connect_timeout: Annotated[float, typer.Option(
        help="Seconds to wait for --scheduler and its first worker.")] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Run a parameter sweep on Dask (resumable).

    Writes runs.parquet (as runs finish), design.parquet and manifest.json."""
    from simulation.experiments.parameters import parse_param_option
    from simulation.experiments.spec import plan_sweep
    from simulation.experiments.sweep import sweep as run_sweep

    try:
        params = [parse_param_option(p) for p in param or []]
        if batch_size < 1:
            raise FunnelsimError("--batch-size", [Problem("", "expected 1 or more",
                                                          value=batch_size)])
        plan = plan_sweep(spec, params, list(set_ or []), design=design, samples=samples,
                          replicates=replicates, seed=seed, timeseries=timeseries or None)
        folder = out if out is not None else Path("results") / plan.spec["name"]
        if workers is not None and workers < 0:
            raise FunnelsimError("--workers", [Problem("", "expected 0 or more", value=workers)])
        with RunProgress(f"{plan.spec['name']}: runs", quiet=as_json) as bar:
            table = run_sweep(plan, folder, workers=workers, scheduler=scheduler,
                              in_process=workers == 0 and scheduler is None, progress=bar,
                              batch_rows=batch_size, connect_timeout=connect_timeout)
    except FunnelsimError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(FunnelsimError(str(out), f"cannot write the outputs: {exc.strerror or exc}"))
    failed = int((table["status"] != "ok").sum())
    info = {"out": str(folder), "runs": int(len(table)), "failed": failed,
            "points": len(plan.points), "replicates": plan.replicates}
    if as_json:
        sys.stdout.write(json.dumps(info) + "\n")
        return
    out_console.print(f"{len(table)} runs ({len(plan.points)} points x {plan.replicates} "
                      f"replicates), {failed} failed; wrote {folder}/runs.parquet, "
                      f"design.parquet, manifest.json", highlight=False)
    if failed:
        first = table[table["status"] != "ok"].iloc[0]
        out_console.print(f"first failure (run {first['run_id']}): {first['error']}",
                          highlight=False, markup=False)


def _strategies(files: list[Path], sets: list[str], variants: list[str]):
    """(label, scenario) pairs: each file, then each variant of the first file."""
    from simulation.scenario import load_scenario

    out = []
    for path in files:
        sc = load_scenario(path, sets)
        out.append([sc.name if len(files) == 1 or not variants else path.stem, sc])
    for i, text in enumerate(variants):
        label, _, body = text.partition(":") if ":" in text.split("=", 1)[0] else ("", "", text)
        items = [s.strip() for s in body.split(";") if s.strip()]
        if not items:
            raise FunnelsimError("--variant", [Problem("", "no overrides in the variant",
                                                       value=text, suggestion="e.g. --variant "
                                                       "'big_rt: strategy.retargeting.0."
                                                       "daily_budget=200'")])
        sc = load_scenario(files[0], [*sets, *items])
        out.append([label.strip() or f"variant{i + 1}", sc])
    labels = [lab for lab, _ in out]
    for i, lab in enumerate(labels):  # same names (a file and its variants): make them unique
        if labels.count(lab) > 1:
            out[i][0] = f"{lab}#{labels[:i + 1].count(lab)}"
    return [tuple(x) for x in out]


def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files; the first is the "
                                                         "reference of the differences.")],
    reps: Annotated[int, typer.Option(help="Replicates (seeds) per strategy.")] = 20,
    set_: SetOpt = None,
    variant: Annotated[list[str] | None, typer.Option(
        help="A variant of the first file: 'label: key=value; key=value'. Repeatable.")] = None,
    control: Annotated[bool, typer.Option(
        help="Also run each strategy's no-spend control (paid, retargeting and influencer "
             "budgets and referral rewards at 0): incremental customers and ROAS.")] = False,
    seed: Annotated[int | None, typer.Option(help="Base seed of the replicates "
                                                  "[default: the first scenario's].")] = None,
    metric: Annotated[list[str] | None, typer.Option(help="Metric to compare. Repeatable.")] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    out: Annotated[Path | None, typer.Option(help="Output folder [default: "
                                                  "results/compare-<names>].")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare strategies on the same seeds (paired differences, 95% intervals).

    Writes compare.csv, compare_runs.csv and compare.png."""
    from simulation.experiments.compare import compare as run_compare
    from simulation.experiments.plots import save
    from simulation.experiments.storage import atomic_write

    try:
        if reps < 2:
            raise FunnelsimError("--reps", [Problem("", "at least 2 replicates are needed for an "
                                                        "interval", value=reps)])
        strategies = _strategies(list(scenarios), list(set_ or []), list(variant or []))
        if len(strategies) < 2 and not control:
            raise FunnelsimError("compare", [Problem("", "nothing to compare with",
                                                     suggestion="give two scenario files, a "
                                                     "--variant, or --control")])
        from simulation.experiments.compare import COMPARE_METRICS
        from simulation.experiments.metrics import check_metrics

        metrics = check_metrics(list(metric or COMPARE_METRICS), "--metric")
        evaluator = _evaluator(workers, scheduler)
        with RunProgress("compare: runs", quiet=as_json) as bar:
            result = run_compare(strategies, reps=reps, seed=seed, metrics=metrics,
                                 control=control, evaluator=evaluator, progress=bar)
        folder = out if out is not None else Path("results") / ("compare-" + "-".join(
            lab.replace("#", "") for lab in result.labels))[:120]
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "compare.csv", lambda p: result.table.to_csv(p, index=False))
        atomic_write(folder / "compare_runs.csv", lambda p: result.runs.to_csv(p, index=False))
        save(result.figure(), folder / "compare.png")
    except FunnelsimError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(FunnelsimError(str(out), f"cannot write the outputs: {exc.strerror or exc}"))
    if as_json:
        sys.stdout.write(json.dumps({"labels": result.labels, "reps": reps,
                                     "table": result.table.to_dict("records")}, default=float)
                         + "\n")
        return
    out_console.print(compare_table(result, reps))
    if result.failures:
        out_console.print(f"{len(result.failures)} run(s) failed: {result.failures[0]}",
                          markup=False)
    out_console.print(f"wrote {folder}/compare.csv, compare_runs.csv, compare.png",
                      highlight=False)


def compare_table(result, reps: int) -> Table:
    """Means [95% interval] per strategy and paired differences against the first."""
    def cell(m, lo, hi):
        if m != m:  # NaN
            return "n/a"
        return f"{m:,.4g} [{lo:,.4g}, {hi:,.4g}]" if lo == lo else f"{m:,.4g}"

    labels = result.labels
    t = Table(title=f"{reps} paired replicates (common random numbers); 95% t intervals")
    t.add_column("metric", style="bold")
    for lab in labels:
        t.add_column(lab, justify="right")
    for lab in labels[1:]:
        t.add_column(f"{lab} - {labels[0]} (paired)", justify="right")
    for metric, g in result.table.groupby("metric", sort=False):
        g = g.set_index("strategy").loc[labels]
        row = [cell(r["mean"], r["low"], r["high"]) for _, r in g.iterrows()]
        row += [cell(r["diff"], r["diff_low"], r["diff_high"]) for _, r in g.iloc[1:].iterrows()]
        t.add_row(metric, *row)
    return t


def analyze(
    folder: Annotated[Path, typer.Argument(help="A sweep's output folder.")],
    out: Annotated[Path | None, typer.Option(help="Where to write [default: "
                                                  "FOLDER/analysis].")] = None,
    metric: Annotated[list[str] | None, typer.Option(help="Metric to plot. Repeatable.")] = None,
) -> None:
    """Plot a sweep, compute SALib indices (Sobol, Morris) and write a report.

    Figures: each metric against each parameter with 95% bands; heatmaps of two parameters."""
    from simulation.experiments.analyze import analyze as run_analyze

    try:
        report = run_analyze(folder, out, list(metric or []))
    except FunnelsimError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(FunnelsimError(str(out or folder), f"cannot write: {exc.strerror or exc}"))
    out_console.print(f"wrote {report} and its figures", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the experiment commands to the ``funnelsim`` app."""
    app.command()(compare)
    app.command()(sweep)
    app.command()(analyze)
