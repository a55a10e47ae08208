"""Figures of comparisons and sweeps (matplotlib, Agg): intervals, bands, heatmaps, indices."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; never a window (workers and CI have no display)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

KEY_METRICS = ["customers", "revenue", "profit", "roas", "incremental_customers",
               "incremental_roas"]


def compare_figure(comparison, metrics: list[str] | None = None):
    """Top row: each strategy's mean with its 95% interval; bottom row: the paired difference
    against the first strategy with its 95% interval (zero marked)."""
    table = comparison.table
    present = list(dict.fromkeys(table["metric"]))
    metrics = metrics or [m for m in KEY_METRICS if m in present] or present[:4]
    labels = comparison.labels
    fig, axes = plt.subplots(2, len(metrics), figsize=(3.6 * len(metrics), 1.2 + 0.9 *
                                                         len(labels) * 2), squeeze=False)
    y = np.arange(len(labels))[::-1]
    for j, metric in enumerate(metrics):
        t = table[table["metric"] == metric].set_index("strategy").loc[labels]
        ax = axes[0, j]
        ax.errorbar(t["mean"], y, xerr=[t["mean"] - t["low"], t["high"] - t["mean"]], fmt="o",
                    capsize=3)
        ax.set_yticks(y, labels if j == 0 else [""] * len(labels))
        ax.set_title(metric, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        ax = axes[1, j]
        d = t.iloc[1:]
        if len(d):
            ax.errorbar(d["diff"], y[1:], xerr=[d["diff"] - d["diff_low"],
                                                d["diff_high"] - d["diff"]], fmt="s",
                        color="C1", capsize=3)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y[1:], [f"{lab} - {labels[0]}" for lab in labels[1:]] if j == 0
                      else [""] * (len(labels) - 1))
        ax.set_ylim(-0.5, len(labels) - 0.5)
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].set_ylabel("mean, 95% interval")
    axes[1, 0].set_ylabel("paired difference, 95%")
    fig.tight_layout()
    return fig


def band_figure(summary: pd.DataFrame, param: str, metric: str, by: str | None = None):
    """A metric against a parameter: the mean over replicates with its 95% band; one line per
    value of ``by`` (a second parameter) when given. ``summary`` has columns x, mean, low, high
    (and ``by``)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    groups = [(None, summary)] if by is None else list(summary.groupby(by, sort=True))
    for i, (value, g) in enumerate(groups):
        g = g.sort_values("x")
        label = None if by is None else f"{by.rsplit('.', 1)[-1]} = {value}"
        ax.plot(g["x"], g["mean"], marker="o", ms=3, color=f"C{i}", label=label)
        ax.fill_between(g["x"], g["low"], g["high"], color=f"C{i}", alpha=0.2, lw=0)
    ax.set_xlabel(param)
    ax.set_ylabel(f"{metric} (mean, 95% band)")
    if by is not None:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def heatmap_figure(grid: pd.DataFrame, metric: str):
    """Mean of a metric over two parameters (rows: first, columns: second)."""
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    im = ax.imshow(grid.to_numpy(float), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v)
                                         for v in grid.columns], rotation=45, fontsize=8)
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v)
                                         for v in grid.index], fontsize=8)
    ax.set_xlabel(grid.columns.name)
    ax.set_ylabel(grid.index.name)
    for (i, j), v in np.ndenumerate(grid.to_numpy(float)):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(im, ax=ax, label=f"{metric} (mean)")
    fig.tight_layout()
    return fig


def indices_figure(indices: pd.DataFrame, method: str):
    """Bar chart of sensitivity indices per metric and parameter, with 95% intervals:
    Sobol S1 and ST, or Morris mu* (scaled by the metric's largest mu* so metrics compare)."""
    metrics = list(dict.fromkeys(indices["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.8 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        t = indices[indices["metric"] == metric]
        y = np.arange(len(t))
        short = [k.rsplit(".", 2)[-2] + "." + k.rsplit(".", 1)[-1] if k.count(".") else k
                 for k in t["parameter"]]
        if method == "sobol":
            ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="S1 (first order)", capsize=2)
            ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="ST (total)", capsize=2)
            ax.set_xlim(left=min(0, float(np.nanmin(t["S1"] - t["S1_conf"]))))
        else:
            top = float(np.nanmax(t["mu_star"])) or 1.0
            ax.barh(y, t["mu_star"] / top, 0.6, xerr=t["mu_star_conf"] / top, capsize=2,
                    label="mu* / max mu*")
        ax.set_yticks(y, short, fontsize=8)
        ax.set_title(metric, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def save(fig, path) -> None:
    """Save a figure atomically (temporary file, then rename) and close it."""
    from simulation.experiments.storage import atomic_write

    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png",
                                             metadata={"Software": None}))
    plt.close(fig)
