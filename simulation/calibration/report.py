"""The calibration's files, written whole (temporary file, fsync, rename) into the output folder:

* ``calibrated.yaml``: the scenario as given (with ``--set`` applied) and the fitted values set
  (a ``scale.<rate>`` multiplier is written out as each platform's rate, under ``platforms:``);
* ``report.md``: fit quality per series, the spread of good parameter sets, identifiability
  warnings and, with a holdout, the forecast error;
* ``fit.png``: observed against simulated per series, with the band over replicates;
* ``trials.parquet``: one row per trial; ``calibration.json``: the numbers of the report.

The files hold no clock times, so the same inputs and seed give byte-identical files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from simulation.calibration.fit import COLLINEAR, MAX_SPAN, PROFILE, Calibration
from simulation.errors import FunnelsimError
from simulation.experiments.storage import atomic_write

FILES = ("calibrated.yaml", "report.md", "fit.png", "trials.parquet", "calibration.json")


def calibrated_yaml(cal: Calibration) -> str:
    """The calibrated scenario as YAML text (checked to load)."""
    from simulation.scenario import apply_override, load_scenario

    data = cal.raw
    for item in cal.overrides:
        data = apply_override(data, item, cal.source)
    load_scenario(data)  # must still be a valid scenario
    head = (f"# Calibrated by 'funnelsim calibrate' from {Path(cal.source).name} against "
            f"{Path(cal.observed.source).name}\n# (seed {cal.seed}, {len(cal.trials)} trials x "
            f"{cal.reps} replicates; objective {cal.best_objective:.4f} mean NRMSE).\n"
            "# Fitted: " + ", ".join(f"{k}={v:.6g}" for k, v in cal.best.items()) + "\n")
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _fmt(x, digits=3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def _table(df, columns) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(_fmt(row[c]) for c in columns) + " |")
    return "\n".join(lines)


def report_md(cal: Calibration) -> str:
    """The markdown report."""
    obs = cal.observed
    unit = obs.unit
    ok = cal.trials[cal.trials["state"] == "ok"]
    start = cal.trials[cal.trials["origin"] == "start"]
    lines = [f"# Calibration of {cal.scenario_name}", "",
             f"Scenario `{Path(cal.source).name}` fitted to `{Path(obs.source).name}`: "
             f"{obs.periods} {unit}s, series {', '.join(f'`{c}`' for c in obs.columns)}.",
             f"Fit window: {unit}s 1-{cal.fit_periods}"
             + (f"; held out: {unit}s {cal.fit_periods + 1}-{obs.periods} "
                f"({cal.holdout_days} days)." if cal.fit_periods < obs.periods else "."),
             f"Optuna TPE (seeded), {len(cal.trials)} trials ({len(ok)} ok) x {cal.reps} "
             f"replicates on common seeds (base seed {cal.seed}).",
             "Objective: mean over series of NRMSE = RMSE(simulated mean, observed) / "
             "mean(observed), over the fit window.", "",
             f"**Best objective: {cal.best_objective:.4f}**"
             + (f" (the scenario's own values: {float(start['objective'].iloc[0]):.4f})"
                if len(start) and math.isfinite(float(start['objective'].iloc[0])) else ""), "",
             "## Fitted parameters", "",
             f"Good values: those of the trials within {cal.good_within:.0%} of the best objective "
             "(`good_sets` of them) and the profile points within the same margin. Profile: the "
             "objective with that parameter alone moved to 0%, 25%, 50%, 75% and 100% of its "
             "range (the other parameters at their best). Span: the good values' width as a "
             "share of the range (log scale for log ranges).", "",
             _table(cal.spread, ["parameter", "low", "high", "scale", "start", "best", "good_min",
                                 "good_max", "good_span", "good_sets", "profile",
                                 "identified"]), ""]
    if len(cal.pairs):
        lines += ["Collinearity index of each pair near the best (Brun, Reichert & Kuensch 2001), "
                  "from the profile's sensitivities: 1 = independent effects on the series; "
                  f"{COLLINEAR:g} or more = one compensates the other (warned); values of a few "
                  "mean a partial trade-off; - = a parameter with no effect near the best. Replicate "
                  "noise in the sensitivities makes it an underestimate.", "",
                  _table(cal.pairs, ["a", "b", "collinearity"]), ""]
    if cal.warnings:
        lines += ["## Identifiability warnings", "",
                  f"Rule: a parameter is not identified when its good values (trials and profile "
                  f"points within {cal.good_within:.0%} of the best objective) span "
                  f"{MAX_SPAN:.0%} of its range or more.", ""]
        lines += [f"- {w}" for w in cal.warnings] + [""]
    else:
        lines += ["Every parameter is identified by the data (rule in docs/calibration.md).", ""]
    cols = ["series", "nrmse_fit", "mape_fit"]
    if "nrmse_holdout" in cal.series:
        cols += ["nrmse_holdout", "mape_holdout"]
    lines += ["## Fit per series", "",
              "NRMSE: RMSE / mean(observed). MAPE: mean |simulated - observed| / observed over "
              f"{unit}s with a nonzero observation (a share: 0.12 = 12%). Simulated: the mean over "
              "the best trial's replicates.", "", _table(cal.series, cols), ""]
    if "nrmse_holdout" in cal.series:
        start = (f"; the scenario's own values: {cal.start_forecast_nrmse:.4f}"
                 if math.isfinite(cal.start_forecast_nrmse) else "")
        lines += [f"**Forecast error on the held-out {unit}s: mean NRMSE "
                  f"{cal.forecast_nrmse:.4f}** (fit window: "
                  f"{float(cal.series['nrmse_fit'].mean()):.4f}{start}).", ""]
    lines += ["![observed against simulated](fit.png)", "",
              "Files: `calibrated.yaml` (the scenario with the fitted values), `trials.parquet` "
              "(every trial), `calibration.json` (these numbers).", ""]
    return "\n".join(lines)


def figure(cal: Calibration):
    """Observed (dots) against the simulated mean (line) and min-max band over replicates."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    obs = cal.observed
    n = len(obs.columns)
    ncol = min(3, n)
    nrow = math.ceil(n / ncol)
    fig = Figure(figsize=(4.2 * ncol, 3.0 * nrow))
    fig.subplots_adjust(left=0.08 if ncol > 1 else 0.14, right=0.98, bottom=0.12 / nrow + 0.04,
                        top=1 - 0.1 / nrow, wspace=0.25, hspace=0.45)
    FigureCanvasAgg(fig)
    x = np.arange(1, obs.periods + 1)
    for k, name in enumerate(obs.columns):
        ax = fig.add_subplot(nrow, ncol, k + 1)
        runs = cal.runs[:, k, :]
        ax.fill_between(x, runs.min(axis=0), runs.max(axis=0), color="#9ecae1", alpha=0.6,
                        label=f"simulated, {cal.reps} replicates (min-max)")
        ax.plot(x, runs.mean(axis=0), color="#08519c", lw=1.5, label="simulated mean")
        ax.plot(x, obs.series[name], "o", ms=2.5, color="#d94801", label="observed")
        if cal.fit_periods < obs.periods:
            ax.axvline(cal.fit_periods + 0.5, color="#555", ls="--", lw=1)
            ax.text(cal.fit_periods + 0.7, ax.get_ylim()[1] * 0.95, "holdout", fontsize=7,
                    va="top", color="#555")
        row = cal.series.iloc[k]
        held = (f", holdout {row['nrmse_holdout']:.2f}" if "nrmse_holdout" in cal.series
                and math.isfinite(row["nrmse_holdout"]) else "")
        ax.set_title(f"{name}  (NRMSE fit {row['nrmse_fit']:.2f}{held})", fontsize=9)
        ax.set_xlabel(obs.unit, fontsize=8)
        ax.tick_params(labelsize=7)
        if k == 0:
            ax.legend(fontsize=6, loc="upper left")
    return fig


def _clean(x):
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def summary(cal: Calibration) -> dict:
    """The report's numbers (``calibration.json``)."""
    return _clean({
        "scenario": cal.source, "observed": cal.observed.source, "unit": cal.observed.unit,
        "periods": cal.observed.periods, "fit_periods": cal.fit_periods,
        "holdout_days": cal.holdout_days, "seed": cal.seed, "reps": cal.reps,
        "replicate_seeds": cal.seeds, "trials": len(cal.trials),
        "best": cal.best, "best_objective": cal.best_objective,
        "forecast_nrmse": cal.forecast_nrmse, "start_forecast_nrmse": cal.start_forecast_nrmse,
        "overrides": cal.overrides,
        "series": cal.series.to_dict(orient="records"),
        "parameters": cal.spread.to_dict(orient="records"),
        "pairs": cal.pairs.to_dict(orient="records"), "warnings": cal.warnings,
        "rule": {"good_within": cal.good_within, "max_span": MAX_SPAN, "profile": list(PROFILE),
                 "collinear": COLLINEAR},
    })


def write(cal: Calibration, out: Path) -> list[Path]:
    """Write the calibration's files into ``out`` (created); returns their paths.

    Raises:
        FunnelsimError: the folder cannot be written.
    """
    text = calibrated_yaml(cal)
    md = report_md(cal)
    fig = figure(cal)
    table = pa.Table.from_pandas(cal.trials, preserve_index=False)
    info = json.dumps(summary(cal), indent=2) + "\n"
    try:
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / f for f in FILES]
        atomic_write(paths[0], lambda p: p.write_text(text, encoding="utf-8"))
        atomic_write(paths[1], lambda p: p.write_text(md, encoding="utf-8"))
        atomic_write(paths[2], lambda p: fig.savefig(p, dpi=110, format="png",
                                                     metadata={"Software": None}))
        atomic_write(paths[3], lambda p: pq.write_table(table, p))
        atomic_write(paths[4], lambda p: p.write_text(info, encoding="utf-8"))
    except OSError as exc:
        raise FunnelsimError(str(out), f"cannot write the outputs: {exc.strerror or exc}") from None
    return paths
