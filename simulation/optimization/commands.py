"""The ``optimize`` command of ``funnelsim`` (registered on the app by :func:`register`).

User errors (bad budget, unknown objective or search space, a scenario with nothing to optimise)
print one message on stderr and exit with code 2 before anything runs or is written.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from simulation.console import err_console, out_console
from simulation.console import fail as _fail
from simulation.errors import FunnelsimError


def optimize(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    budget: Annotated[float | None, typer.Option(
        help="Total daily budget of the paid and retargeting lines, $ per day. Required for "
             "--over platforms; for mix and influencers it rescales the file's own split.")
    ] = None,
    objective: Annotated[str, typer.Option(help="customers | profit | roas.")] = "customers",
    over: Annotated[str, typer.Option(help="platforms (budget split across paid and "
                                           "retargeting lines) | mix (value/sales mix of the "
                                           "organic posts) | influencers (whom to seed).")
                    ] = "platforms",
    min_roas: Annotated[float | None, typer.Option(
        help="Plans with mean ROAS (revenue / spend) below this are infeasible.")] = None,
    reps: Annotated[int, typer.Option(help="Paired replicates (seeds) per candidate; the final "
                                           "check uses as many fresh ones.")] = 5,
    trials: Annotated[int, typer.Option(help="Most candidates to simulate (influencers: CELF "
                                             "re-evaluations after its first pass).")] = 40,
    seed: Annotated[int | None, typer.Option(help="Base seed of the replicates "
                                                  "(default: the scenario's).")] = None,
    method: Annotated[str, typer.Option(help="platforms, mix: grid (coarse grid + local "
                                             "refine) | optuna (seeded TPE).")] = "grid",
    pool: Annotated[int | None, typer.Option(help="influencers: CELF's candidate consumers "
                                                  "(default: max(20, 3 x count)).")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a scenario field first: dotted.key=value. Repeatable.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: "
                                                  "results/optimize-<name>-<over>).")] = None,
    workers: Annotated[int, typer.Option(help="0 runs in this process; N > 0 on a local Dask "
                                              "cluster of N worker processes.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable output "
                                                         "only.")] = False,
) -> None:
    """Search the best plan (budget split, content mix or influencer seeds) on paired replicates.

    Writes plan.yaml (the scenario with the best plan), report.md, candidates.csv/.parquet,
    confirm.csv, curves.csv and PNGs."""
    from simulation.optimization.api import optimize as run_optimize

    if budget is not None and not math.isfinite(budget):
        budget = math.nan
    try:
        with _Progress(quiet=as_json) as bar:
            opt = run_optimize(scenario, objective=objective, over=over, budget=budget,
                               min_roas=min_roas, reps=reps, trials=trials, seed=seed,
                               workers=workers, overrides=list(set_ or []), pool=pool,
                               method=method, progress=bar)
        folder = out if out is not None else Path("results") / f"optimize-{opt.scenario}-{over}"
        written = opt.write(folder)
    except FunnelsimError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(FunnelsimError(str(out), f"cannot write the outputs: {exc.strerror or exc}"))
    diff = opt.improvement()
    if as_json:
        sys.stdout.write(json.dumps({
            "best": opt.best, "params": opt.best_params, "objective": objective,
            "improvement": {"mean": diff[0], "low": diff[1], "high": diff[2]},
            "verdict": opt.verdict(),
            "confirm": opt.confirm.to_dict("records"), "runs": opt.runs, "out": str(folder)},
            default=float) + "\n")
        return
    out_console.print(result_table(opt))
    out_console.print(f"best: {opt.best}", markup=False, highlight=False)
    for note in opt.notes:
        out_console.print(f"  {note}", markup=False, highlight=False)
    out_console.print(f"{objective}: best - own plan = {diff[0]:,.4g} [95% interval "
                      f"{diff[1]:,.4g}, {diff[2]:,.4g}] (paired, {opt.reps} fresh replicates); "
                      f"{opt.runs} runs", highlight=False)
    out_console.print(opt.verdict(), highlight=False)
    if opt.errors:
        out_console.print(f"{len(opt.errors)} run(s) failed (counted infeasible); first: "
                          f"{opt.errors[0]}", markup=False, highlight=False)
    out_console.print(f"wrote {folder}/: " + ", ".join(p.name for p in written), highlight=False)


def result_table(opt) -> Table:
    """The final check: each plan's metrics with 95% intervals and the paired difference."""
    def cell(r, m, diff=False):
        k = f"{m}_diff" if diff else m
        v = r.get(k)
        if v is None or v != v:
            return ""
        return f"{v:,.4g} [{r[f'{k}_low']:,.4g}, {r[f'{k}_high']:,.4g}]"

    t = Table(title=f"final check on {opt.reps} fresh paired replicates; 95% t intervals")
    for col in ("plan", "customers", "profit $", "ROAS", f"{opt.objective}: - own plan"):
        t.add_column(col, justify="left" if col == "plan" else "right")
    for _, r in opt.confirm.iterrows():
        t.add_row(str(r["plan"]), cell(r, "customers"), cell(r, "profit"), cell(r, "roas"),
                  cell(r, opt.objective, diff=True))
    return t


class _Progress:
    """Runs done so far (a spinner line; the search's total is not known in advance)."""

    def __init__(self, quiet: bool):
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(SpinnerColumn(), TextColumn("[bold]optimize[/]: {task.fields[runs]} "
                                                        "runs"), TimeElapsedColumn(),
                            console=err_console, transient=True,
                            disable=quiet or not err_console.is_terminal)
        self.task = None

    def __enter__(self):
        self.bar.__enter__()
        self.task = self.bar.add_task("optimize", total=None, runs=0)
        return self

    def __exit__(self, *exc):
        self.bar.__exit__(*exc)

    def __call__(self, runs: int) -> None:
        self.bar.update(self.task, runs=runs)


def register(app: typer.Typer) -> None:
    """Add the ``optimize`` command to the ``funnelsim`` app."""
    app.command()(optimize)
