"""The ``calibrate`` command of ``funnelsim`` (added to the app by :func:`register`).

User errors (scenario, observed file, parameters, options): one message on stderr, exit code 2,
nothing written."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulation.console import err_console, out_console
from simulation.console import fail as _fail
from simulation.errors import FunnelsimError


def calibrate(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    observed: Annotated[Path, typer.Option(
        help="Observed CSV: a 'day' (or 'week') column and series such as clicks, "
             "new_customers, tiktok.impressions (docs/calibration.md).")],
    params: Annotated[list[str] | None, typer.Option(
        "--params", help="Fit KEY=LOW:HIGH[:log] (a scenario key, or scale.<rate> to multiply a "
                         "rate on every platform). Repeatable. [default: scale.stop_rate, "
                         "scale.interest_rate, scale.trust_gain, scale.conversion_rate, each "
                         "0.5:2:log]")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Output folder [default: results/<name>_calibration].")] = None,
    trials: Annotated[int, typer.Option(help="Parameter sets tried (Optuna trials).")] = 40,
    reps: Annotated[int, typer.Option(help="Replicates per trial (same seeds every trial).")] = 3,
    seed: Annotated[int | None, typer.Option(
        help="Base seed of the replicates and the sampler [default: the scenario's].")] = None,
    holdout: Annotated[int, typer.Option(
        help="Hold out the last DAYS from the fit and report the forecast error on them.")] = 0,
    workers: Annotated[int, typer.Option(
        help="0 runs here; N runs each trial's replicates on a local Dask cluster of N "
             "processes (same results).")] = 0,
    good_within: Annotated[float, typer.Option(
        help="Good parameter sets: objective within this share of the best (0.1 = 10%); used "
             "for the spread and the identifiability warning.")] = 0.1,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a scenario field before fitting: dotted.key=value. "
                      "Repeatable.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print calibration.json only.")] = False,
) -> None:
    """Fit scenario parameters to an observed campaign (Optuna, replicates on common seeds).

    Writes calibrated.yaml, report.md, fit.png, trials.parquet and calibration.json."""
    from simulation.calibration.fit import calibrate as run_calibration
    from simulation.calibration.report import FILES, summary

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err_console, transient=True,
                        disable=as_json or not err_console.is_terminal)
    task = None

    def tick(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            task = progress.add_task("calibrate: evaluations", total=total)
        progress.update(task, completed=done)

    try:
        name = _scenario_name(scenario, list(set_ or []))
        folder = out if out is not None else Path("results") / f"{name}_calibration"
        with progress:
            cal = run_calibration(scenario, observed, list(params or []), sets=list(set_ or []),
                                  trials=trials, reps=reps, seed=seed, holdout=holdout,
                                  workers=workers, out=folder, good_within=good_within,
                                  progress=tick)
    except FunnelsimError as exc:
        _fail(exc)
    info = summary(cal)
    if as_json:
        sys.stdout.write(json.dumps(info) + "\n")
    else:
        _print(cal, folder, FILES)
    for note in cal.warnings:
        err_console.print(f"warning: {note}", markup=False, highlight=False, emoji=False,
                          soft_wrap=True)


def _scenario_name(path: Path, sets: list[str]) -> str:
    from simulation.scenario import load_scenario

    return load_scenario(path, sets).name


def _print(cal, folder: Path, files) -> None:
    table = Table(title=f"calibration of {cal.scenario_name}: best objective "
                        f"{cal.best_objective:.4f} (mean NRMSE)")
    for col in ("parameter", "range", "best", "good values: min - max", "identified"):
        table.add_column(col)
    for _, row in cal.spread.iterrows():
        table.add_row(row["parameter"], f"{row['low']:g} - {row['high']:g}", f"{row['best']:.4g}",
                      f"{row['good_min']:.4g} - {row['good_max']:.4g}",
                      "yes" if row["identified"] else "[red]no[/red]")
    out_console.print(table)
    series = Table(title="fit per series")
    cols = ["series", "nrmse_fit", "mape_fit"]
    if "nrmse_holdout" in cal.series:
        cols += ["nrmse_holdout", "mape_holdout"]
    for c in cols:
        series.add_column(c)
    for _, row in cal.series.iterrows():
        series.add_row(row["series"], *(f"{row[c]:.3f}" for c in cols[1:]))
    out_console.print(series)
    if "nrmse_holdout" in cal.series:
        start = (f" (the scenario's own values: {cal.start_forecast_nrmse:.4f})"
                 if cal.start_forecast_nrmse == cal.start_forecast_nrmse else "")
        out_console.print(f"forecast error on the held-out days: mean NRMSE "
                          f"{cal.forecast_nrmse:.4f}{start}", highlight=False)
    out_console.print(f"wrote {', '.join(str(folder / f) for f in files)}", highlight=False,
                      soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``calibrate`` command to the ``funnelsim`` app."""
    app.command()(calibrate)
