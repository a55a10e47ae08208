"""``funnelsim analyze DIR``: figures, sensitivity indices and a Markdown report of a sweep.

Writes into ``DIR/analysis/``:

* ``<metric>__vs__<parameter>.png``: the metric against the parameter, mean over replicates with a
  95% t band. On a grid of two parameters there is one line per value of the other; with more
  parameters, or on a sampled design (random, LHS, Sobol, Morris), runs are grouped into
  quantile bins of the parameter and averaged over everything else.
* ``<metric>__heatmap__<p1>__<p2>.png``: the mean over two parameters (grid designs).
* for Sobol and Morris designs: ``sensitivity.csv`` and ``sensitivity.png`` (SALib's indices on
  the per-point mean over replicates; bootstrap 95% intervals with a fixed seed).
* ``report.md``: what was run and links to all of the above.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.errors import FunnelsimError, Problem
from simulation.experiments.stats import mean_interval
from simulation.experiments.storage import DESIGN, MANIFEST, RUNS, atomic_write

KEY_METRICS = ["customers", "revenue", "spend", "profit", "roas", "cac", "reach", "mean_trust"]
MAX_BINS = 8
SALIB_SEED = 12345  # bootstrap of the indices' intervals: fixed so reports are reproducible


def load_sweep(folder: str | Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """(manifest, runs, design) of a sweep folder.

    Raises:
        FunnelsimError: the folder is not a sweep's output (or its files are unreadable).
    """
    folder = Path(folder)
    missing = [n for n in (MANIFEST, RUNS, DESIGN) if not (folder / n).is_file()]
    if missing:
        raise FunnelsimError(str(folder), [Problem("", f"not a sweep folder: no {missing[0]}",
                                                   suggestion="give the --out folder of "
                                                              "'funnelsim sweep'")])
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        runs = pd.read_parquet(folder / RUNS)
        design = pd.read_parquet(folder / DESIGN)
    except (OSError, ValueError) as exc:
        raise FunnelsimError(str(folder), f"cannot read the sweep's files: {exc}") from None
    return manifest, runs, design


def analyze(folder: str | Path, out: str | Path | None = None,
            metrics: list[str] | None = None) -> Path:
    """Analyse a sweep folder; returns the path of the Markdown report.

    Args:
        folder: a sweep's output folder.
        out: where to write (default ``folder/analysis``).
        metrics: metrics to plot (default: the key money and funnel metrics the sweep kept).
    """
    from simulation.experiments import plots

    manifest, runs, design = load_sweep(folder)
    out = Path(out) if out is not None else Path(folder) / "analysis"
    kept = manifest["metrics"]
    if metrics:
        unknown = [m for m in metrics if m not in kept]
        if unknown:
            raise FunnelsimError(str(folder), [Problem("metrics", "the sweep did not keep this "
                                                       "metric", value=unknown[0],
                                                       suggestion="kept: " + ", ".join(kept))])
    else:
        metrics = [m for m in KEY_METRICS if m in kept] or kept[:6]
    params = [p["key"] for p in manifest["parameters"]]
    ok = runs[runs["status"] == "ok"]
    out.mkdir(parents=True, exist_ok=True)
    figures: list[tuple[str, str]] = []
    grid = manifest["design"] == "grid"
    for metric in metrics:
        for param in params:
            others = [p for p in params if p != param]
            by = others[0] if grid and len(others) == 1 and ok[others[0]].nunique() <= 8 else None
            summary = band_summary(ok, param, metric, by, binned=not grid)
            name = f"{_slug(metric)}__vs__{_slug(param)}.png"
            plots.save(plots.band_figure(summary, param, metric, by), out / name)
            figures.append((f"{metric} against {param}", name))
        if len(params) >= 2:
            for i, p1 in enumerate(params[:4]):
                for p2 in params[i + 1:4]:
                    table = heatmap_table(ok, p1, p2, metric, binned=not grid)
                    name = f"{_slug(metric)}__heatmap__{_slug(p1)}__{_slug(p2)}.png"
                    plots.save(plots.heatmap_figure(table, metric), out / name)
                    figures.append((f"{metric} over {p1} and {p2}", name))
    indices = None
    if manifest["design"] in ("sobol", "morris"):
        indices = sensitivity(manifest, runs, design, metrics)
        atomic_write(out / "sensitivity.csv", lambda p: indices.to_csv(p, index=False))
        plots.save(plots.indices_figure(indices, manifest["design"]), out / "sensitivity.png")
    report = _report(manifest, runs, metrics, figures, indices)
    atomic_write(out / "report.md", lambda p: p.write_text(report))
    return out / "report.md"


def band_summary(runs: pd.DataFrame, param: str, metric: str, by: str | None = None,
                 binned: bool = False) -> pd.DataFrame:
    """Mean and 95% interval of ``metric`` per value of ``param`` (and of ``by``): columns x,
    mean, low, high, n. ``binned``: group a continuous parameter into quantile bins (x is the
    bin's mean parameter value)."""
    df = runs[[c for c in (param, metric, by) if c]].copy()
    if binned and pd.api.types.is_numeric_dtype(df[param]) and df[param].nunique() > MAX_BINS:
        bins = pd.qcut(df[param], MAX_BINS, duplicates="drop")
        keys = [bins] + ([df[by]] if by else [])
        x = df.groupby(keys, observed=True)[param].transform("mean")
        df = df.assign(_x=x)
    else:
        df = df.assign(_x=df[param])
    rows = []
    for key, g in df.groupby(["_x"] + ([by] if by else []), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        mean, low, high = mean_interval(g[metric])
        row = {"x": key[0], "mean": mean, "low": low, "high": high, "n": len(g)}
        if by:
            row[by] = key[1]
        rows.append(row)
    return pd.DataFrame(rows)


def heatmap_table(runs: pd.DataFrame, p1: str, p2: str, metric: str,
                  binned: bool = False) -> pd.DataFrame:
    """Mean of ``metric`` with ``p1`` down the rows and ``p2`` across; continuous parameters
    are put in up to five quantile bins (labelled by their mean value)."""
    df = runs[[p1, p2, metric]].copy()
    for p in (p1, p2):
        if binned and pd.api.types.is_numeric_dtype(df[p]) and df[p].nunique() > 5:
            bins = pd.qcut(df[p], 5, duplicates="drop")
            df[p] = df.groupby(bins, observed=True)[p].transform("mean").round(6)
    table = df.pivot_table(index=p1, columns=p2, values=metric, aggfunc="mean")
    table.index.name, table.columns.name = p1, p2
    return table


def sensitivity(manifest: dict, runs: pd.DataFrame, design: pd.DataFrame,
                metrics: list[str]) -> pd.DataFrame:
    """SALib indices per metric and parameter, from the per-point mean over replicates.

    Sobol: S1 and ST (and their 95% bootstrap half-widths); Morris: mu, mu_star, sigma and
    mu_star_conf, in the metric's unit per unit of the parameter's normalised range. A metric
    with a point where every replicate failed (or is undefined, e.g. CAC with no customers) is
    skipped: the estimators need every point of the design.
    """
    from SALib.analyze import morris, sobol

    from simulation.experiments.samplers import unit_problem

    class _P:  # unit_problem only reads .key
        def __init__(self, key):
            self.key = key

    params = [p["key"] for p in manifest["parameters"]]
    problem = unit_problem([_P(k) for k in params])
    X = design.sort_values("point_id")[[f"unit:{k}" for k in params]].to_numpy(float)
    rows = []
    for metric in metrics:
        means = runs[runs["status"] == "ok"].groupby("point_id")[metric].mean()
        y = means.reindex(range(len(design))).to_numpy(float)
        if not np.all(np.isfinite(y)):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if manifest["design"] == "sobol":
                res = sobol.analyze(problem, y, calc_second_order=manifest["spec"]["second_order"],
                                    seed=SALIB_SEED)
                for j, k in enumerate(params):
                    rows.append({"metric": metric, "parameter": k, "S1": res["S1"][j],
                                 "S1_conf": res["S1_conf"][j], "ST": res["ST"][j],
                                 "ST_conf": res["ST_conf"][j]})
            else:
                res = morris.analyze(problem, X, y, num_levels=manifest["spec"]["morris_levels"],
                                     seed=SALIB_SEED)
                for j, k in enumerate(params):
                    rows.append({"metric": metric, "parameter": k, "mu": res["mu"][j],
                                 "mu_star": res["mu_star"][j], "sigma": res["sigma"][j],
                                 "mu_star_conf": res["mu_star_conf"][j]})
    return pd.DataFrame(rows)


def _report(manifest: dict, runs: pd.DataFrame, metrics: list[str],
            figures: list[tuple[str, str]], indices: pd.DataFrame | None) -> str:
    spec = manifest["spec"]
    failed = runs[runs["status"] != "ok"]
    lines = [f"# Sweep report: {manifest['name']}", ""]
    if spec.get("description"):
        lines += [spec["description"], ""]
    lines += [
        f"- base scenario: `{spec['base']}` with `{'`, `'.join(spec['set']) or 'no overrides'}`",
        f"- design: **{manifest['design']}**, {manifest['points']} points x "
        f"{manifest['replicates']} replicates = {manifest['runs']} runs "
        f"({len(runs)} stored, {len(failed)} failed)",
        f"- seed {manifest['seed']}; replicate r runs with the same seed at every point "
        "(common random numbers)",
        "- parameters: " + ", ".join(f"`{p['key']}`" for p in manifest["parameters"]),
        f"- status: {manifest['status']}; started {manifest['started_at']}, finished "
        f"{manifest['finished_at']}",
        "",
        "Bands and intervals are 95% t intervals of the mean over replicates.",
        "",
    ]
    if len(failed):
        lines += ["## Failed runs", "", "| run | error |", "|---|---|"]
        lines += [f"| {r.run_id} | {str(r.error).replace('|', '/')[:200]} |"
                  for r in failed.head(20).itertuples()]
        lines.append("")
    if indices is not None:
        lines += ["## Sensitivity (SALib)", "", "![indices](sensitivity.png)", "",
                  "Table: [sensitivity.csv](sensitivity.csv). Indices from the per-point mean "
                  "over replicates; +- is the 95% bootstrap half-width.", ""]
        if manifest["design"] == "sobol":
            lines += ["| metric | parameter | S1 | ST |", "|---|---|---|---|"]
            lines += [f"| {r.metric} | `{r.parameter}` | {r.S1:.3f} +- {r.S1_conf:.3f} | "
                      f"{r.ST:.3f} +- {r.ST_conf:.3f} |" for r in indices.itertuples()]
        else:
            lines += ["| metric | parameter | mu* | sigma |", "|---|---|---|---|"]
            lines += [f"| {r.metric} | `{r.parameter}` | {r.mu_star:.4g} +- "
                      f"{r.mu_star_conf:.3g} | {r.sigma:.4g} |" for r in indices.itertuples()]
        lines.append("")
    lines += ["## Figures", ""]
    lines += [f"- [{title}]({name})" for title, name in figures]
    lines.append("")
    lines += ["## Means over all runs", "", "| metric | mean | 95% interval |", "|---|---|---|"]
    ok = runs[runs["status"] == "ok"]
    for m in metrics:
        mean, low, high = mean_interval(ok[m])
        lines.append(f"| {m} | {_fmt(mean)} | {_fmt(low)} .. {_fmt(high)} |")
    return "\n".join(lines) + "\n"


def _fmt(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.4g}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
