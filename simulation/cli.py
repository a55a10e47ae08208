"""The ``funnelsim`` command line (typer + rich).

User errors print one clear message (file, key path, value, what was expected, a suggestion) on
stderr and exit with code 2, never a traceback; nothing is written when the input is bad.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulation.errors import FunnelsimError

app = typer.Typer(
    name="funnelsim",
    help="Simulate audiences moving through social-media marketing funnels.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
from simulation.console import err_console, out_console  # noqa: E402
from simulation.console import fail as _fail  # noqa: E402

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a scenario field: dotted.key=value (list items by "
                               "index, e.g. strategy.paid.0.daily_budget=200). Repeatable."),
]



def engine_compiled() -> bool:
    """Whether numba's cache holds the compiled kernels for the current source (else the first
    run compiles them, about a minute, silently: a user should know why it waits)."""
    from simulation import kernels

    source = Path(kernels.__file__)
    cache = Path(os.environ.get("NUMBA_CACHE_DIR") or source.parent / "__pycache__")
    stamp = source.stat().st_mtime
    return any(f.stat().st_mtime >= stamp
               for f in cache.rglob("kernels.exposures_and_responses-*.nbi"))


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    days: Annotated[int | None, typer.Option(help="Days to simulate (overrides the file).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (overrides the file).")] = None,
    set_: SetOption = None,
    out: Annotated[Path | None, typer.Option(help="Output folder [default: results/<name>].")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON only.")] = False,
) -> None:
    """Run a scenario: print its summary and write summary.json, timeseries.csv, platforms.csv
    and funnel.png."""
    from simulation.model import FunnelModel
    from simulation.results import Result

    overrides = list(set_ or [])
    if days is not None:
        overrides.append(f"days={days}")
    if seed is not None:
        overrides.append(f"seed={seed}")
    try:
        spec = _load(scenario, overrides)
        if not as_json and not engine_compiled():
            err_console.print("First run: compiling the engine (about a minute, once).")
        model = FunnelModel(spec)
    except FunnelsimError as exc:
        _fail(exc)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=True,
                  disable=as_json or not err_console.is_terminal) as progress:
        task = progress.add_task(f"{spec.name}: day", total=spec.days)
        for _ in range(spec.days):
            model.step()
            progress.advance(task)
    result = Result.from_model(model)
    folder = out if out is not None else Path("results") / spec.name
    try:
        written = write_outputs(result, folder)
    except OSError as exc:
        _fail(FunnelsimError(str(folder), f"cannot write the outputs: {exc.strerror or exc}"))
    if as_json:
        sys.stdout.write(json.dumps(result.summary, indent=2) + "\n")
        return
    out_console.print(summary_table(result.summary))
    out_console.print("wrote:")
    for path in written:
        out_console.print(f"  {path}", highlight=False)


def _load(path: Path, overrides: list[str]):
    from simulation.scenario import load_scenario

    return load_scenario(path, overrides)


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


def write_outputs(result, folder: Path) -> list[Path]:
    """Write the run's files into ``folder``. Each file appears whole or not at all: it is
    written to a temporary file in the same folder (``.NAME.PID.*.tmp``), flushed to disk (fsync)
    and renamed into place; the folder is fsync'd after the renames where the system allows it.
    Temporary files that an earlier, killed write left (their process is gone) are removed first."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "summary.json": lambda p: p.write_text(json.dumps(result.summary, indent=2) + "\n"),
        "timeseries.csv": lambda p: result.timeseries.to_csv(p, index=False),
        "platforms.csv": lambda p: result.platforms.to_csv(p, index=False),
        "funnel.png": lambda p: _save_figure(result, p),
    }
    _remove_stale_temporaries(folder, files)
    written = []
    for name, writer in files.items():
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=folder)
        os.close(fd)
        try:
            writer(Path(tmp))
            os.chmod(tmp, _FILE_MODE)  # mkstemp makes files private; outputs follow the umask
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, folder / name)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        written.append(folder / name)
    _fsync_folder(folder)
    return written


def _remove_stale_temporaries(folder: Path, names) -> None:
    """Remove ``.NAME.*.tmp`` files of a write that was killed: those whose process (the PID in
    the name) is gone, and those of the earlier naming, without a PID. A concurrent writer's files
    (its process alive) are left alone."""
    for name in names:
        for path in folder.glob(f".{name}.*.tmp"):
            pid = path.name[len(name) + 2:].split(".", 1)[0]
            if pid.isdigit() and _process_alive(int(pid)):
                continue
            try:
                path.unlink()
            except OSError:  # gone already (another writer cleaned it), or not ours to remove
                pass


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would end the process there: keep its files
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, another user's
        return True
    return True


def _fsync_folder(folder: Path) -> None:
    """Make the renames durable (POSIX); folders cannot be opened or fsync'd everywhere."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _save_figure(result, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig = result.plot()
    fig.savefig(path, dpi=120, format="png", metadata={"Software": None})
    plt.close(fig)


def summary_table(summary: dict) -> Table:
    """The summary as a rich table."""

    def money(v):
        return "n/a" if v is None else f"${v:,.2f}"

    def num(v, spec=",.0f"):
        return "n/a" if v is None else format(v, spec)

    t = Table(title=f"{summary['scenario']}: {summary['audience']:,} consumers, "
                    f"{summary['days']} days, seed {summary['seed']}", show_header=False)
    t.add_column("metric", style="bold")
    t.add_column("value", justify="right")
    touches = summary["touches_to_first_purchase"]
    rows = [
        ("reach", num(summary["reach"])), ("impressions", num(summary["impressions"])),
        ("engagements", num(summary["engagements"])), ("clicks", num(summary["clicks"])),
        ("customers", num(summary["customers"])),
        ("conversion rate (customers / reach)",
         "n/a" if summary["conversion_rate"] is None else f"{summary['conversion_rate']:.2%}"),
        ("revenue", money(summary["revenue"])), ("spend", money(summary["spend"])),
        ("CAC", money(summary["cac"])), ("ROAS", num(summary["roas"], ".2f")),
        ("LTV", money(summary["ltv"])), ("mean trust", num(summary["mean_trust"], ".3f")),
        ("touches to first purchase (mean / median)",
         f"{num(touches['mean'], '.1f')} / {num(touches['median'], '.0f')}"),
    ]
    labels = summary.get("stage_labels", {})
    rows += [(f"  {labels.get(stage, stage)} (last day)", num(count))
             for stage, count in summary["stages"].items()]
    for name, value in rows:
        t.add_row(name, value)
    return t


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
    set_: SetOption = None,
) -> None:
    """Check scenario files (schema, references, graph files) without running them."""
    from simulation.model import build_graph

    bad = 0
    for path in files:
        try:
            spec = _load(path, list(set_ or []))
            if spec.audience.network.file is not None:
                graph = build_graph(spec, 0)
                size = f"{graph.n:,} consumers from {Path(spec.audience.network.file).name}"
            else:
                size = f"{spec.audience.size:,} consumers"
            out_console.print(f"ok: {path} ({spec.name}: {size}, {spec.days} days)",
                              highlight=False, soft_wrap=True)
        except FunnelsimError as exc:
            bad += 1
            err_console.print(f"error: {exc}", markup=False, highlight=False, emoji=False,
                              soft_wrap=True)
    if bad:
        raise typer.Exit(code=2)


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of scenario files (for editor completion)."""
    from simulation.scenario import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)


# compare, sweep, analyze: simulation/experiments/commands.py
from simulation.experiments.commands import register as _register_experiments  # noqa: E402

_register_experiments(app)
# calibrate: simulation/calibration/commands.py
from simulation.calibration.commands import register as _register_calibration  # noqa: E402

_register_calibration(app)
# optimize: simulation/optimization/commands.py
from simulation.optimization.commands import register as _register_optimization  # noqa: E402

_register_optimization(app)


@app.command()
def trace(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    consumer: Annotated[list[int] | None, typer.Option(
        "--consumer", help="Consumer id to trace (repeatable).")] = None,
    sample: Annotated[int | None, typer.Option(
        help="Trace this many consumers drawn at random (seeded by the run's seed).")] = None,
    days: Annotated[int | None, typer.Option(help="Days to simulate (overrides the file).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (overrides the file).")] = None,
    set_: SetOption = None,
    impressions: Annotated[bool, typer.Option(
        help="Also list impressions that did not stop the consumer.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the journeys as JSON.")] = False,
) -> None:
    """Each chosen consumer's journey, day by day: every touch (source, platform, content purpose),
    stage change and purchase."""
    import numpy as np

    from simulation.model import FunnelModel

    overrides = list(set_ or [])
    if days is not None:
        overrides.append(f"days={days}")
    if seed is not None:
        overrides.append(f"seed={seed}")
    if not consumer and not sample:
        _fail(FunnelsimError("trace", "name consumers with --consumer ID or --sample N"))
    try:
        spec = _load(scenario, overrides)
        model = FunnelModel(spec)
    except FunnelsimError as exc:
        _fail(exc)
    n = model.graph.n
    ids = list(consumer or [])
    bad = [i for i in ids if not 0 <= i < n]
    if bad:
        _fail(FunnelsimError(str(scenario), f"--consumer {bad[0]}: ids run from 0 to {n - 1}"))
    if sample:
        rng = np.random.default_rng(np.random.SeedSequence([model.seed, 7]))
        ids += rng.choice(n, size=min(sample, n), replace=False).tolist()
    model.trace(ids)
    model.run()
    table = model.journeys()
    if not impressions:
        table = table[table["event"] != "impression"]
    if as_json:
        out = {str(i): table[table["consumer"] == i].drop(columns="consumer").to_dict("records")
               for i in sorted(set(ids))}
        sys.stdout.write(json.dumps({"scenario": spec.name, "seed": model.seed, "journeys": out},
                                    indent=2, default=str) + "\n")
        return
    for i in sorted(set(ids)):
        rows = table[table["consumer"] == i]
        t = Table(title=f"consumer {i}: {model.consumer_summary(i)}", title_justify="left")
        for col in ("day", "event", "platform", "source", "purpose", "stage", "purchase", "trust"):
            t.add_column(col, justify="right" if col in ("day", "trust") else "left")
        if rows.empty:
            t.add_row("", "no touches", "", "", "", "", "", "")
        for r in rows.itertuples():
            stage = f"{r.stage_before} -> {r.stage_after}" if r.stage_change else r.stage_after
            t.add_row(str(r.day), r.event, r.platform, r.source, r.purpose, stage, r.purchase,
                      f"{r.trust:.3f}")
        out_console.print(t)


# validate-model: simulation/validation_report.py
from simulation.validation_report import validate_model_command  # noqa: E402

app.command("validate-model")(validate_model_command)


@app.command()
def view(
    scenario: Annotated[str | None, typer.Argument(help="Scenario file or built-in name "
                                                        "(default: product_launch).")] = None,
    host: Annotated[str, typer.Option(help="Address to bind; 127.0.0.1 keeps the page local.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    max_audience: Annotated[int | None, typer.Option(help="Largest audience the page builds "
                                                          "(default: 200,000).")] = None,
) -> None:
    """Serve the web view (Solara) and print its address; Ctrl+C stops it."""
    from viz.server import serve

    try:
        serve(scenario, host=host, port=port, max_audience=max_audience,
              on_ready=lambda url: out_console.print(f"funnelsim web view: {url}  (Ctrl+C stops it)",
                                                     highlight=False))
    except (FunnelsimError, ValueError) as exc:
        _fail(exc)


def main() -> None:
    """Entry point of the ``funnelsim`` console script."""
    try:
        app()
    except FunnelsimError as exc:  # pragma: no cover - commands catch their own
        err_console.print(f"error: {exc}", markup=False, highlight=False, emoji=False, soft_wrap=True)
        sys.exit(2)




if __name__ == "__main__":
    main()
