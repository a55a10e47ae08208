"""The page's matplotlib figures (Figure objects, not pyplot: panels draw from several threads)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from simulation.figures import STAGE_COLOURS
from simulation.metrics import STAGE_COLUMNS

#: Stage -> colour, shared by the charts and the network (Mesa's plot component takes this dict).
STAGE_COLOURS_BY_NAME = dict(zip(STAGE_COLUMNS, STAGE_COLOURS, strict=True))
#: Darker greys than the static figure's, so unaware nodes stay visible on white.
NODE_COLOURS = ["#bdbdbd", *STAGE_COLOURS[1:]]


def stage_axes(ax, days: int | None = None) -> None:
    """Post-processing of Mesa's stage plot: x is the day (row k of the timeseries is day k + 1) over the
    whole run, with markers while there are too few days for a line to show."""
    ax.set_ylabel("consumers")
    for line in ax.get_lines():
        x = np.asarray(line.get_xdata(), dtype=float) + 1
        line.set_xdata(x)
        if x.shape[0] < 3:
            line.set_marker("o")
    ax.relim()
    ax.autoscale_view()
    if days:
        ax.set_xlim(0, days)
    # Mesa's figure is 6.4 x 4.8 in at 100 dpi; smaller and at 80 dpi it encodes about twice as fast.
    ax.figure.set_size_inches(6.4, 3.6)
    ax.figure.set_dpi(80)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper right", fontsize=7, ncol=2)


def funnel_figure(stages: dict, audience: int) -> Figure:
    """The drop-off funnel now: consumers at or beyond each stage, with each step's share."""
    fig = Figure(figsize=(5.2, 3.2), layout="constrained")
    ax = fig.subplots()
    names = STAGE_COLUMNS[1:]
    counts = [stages.get(s, 0) for s in STAGE_COLUMNS]
    beyond = [int(sum(counts[k:])) for k in range(1, len(STAGE_COLUMNS))]
    y = np.arange(len(names))[::-1]
    ax.barh(y, beyond, color=STAGE_COLOURS[1:], height=0.7)
    ax.set_yticks(y, [n.capitalize() for n in names])
    top = max(max(beyond), 1)
    ax.set_xlim(0, top * 1.45)
    for k, value in enumerate(beyond):
        prev = audience if k == 0 else beyond[k - 1]
        share = f"  {100 * value / prev:.1f}% of {'audience' if k == 0 else names[k - 1]}" if prev else ""
        ax.text(value + top * 0.01, y[k], f"{value:,}{share}", va="center", fontsize=7.5)
    ax.set_xlabel("consumers at or beyond the stage")
    ax.set_title("Drop-off funnel", fontsize=10)
    return fig


def platform_figure(platforms: pd.DataFrame) -> Figure:
    """Spend and revenue per platform, and customers by last touch."""
    fig = Figure(figsize=(5.2, 3.2), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(platforms))
    ax.bar(x - 0.2, platforms["spend"], width=0.4, label="spend", color="#de2d26")
    ax.bar(x + 0.2, platforms["revenue"], width=0.4, label="revenue", color="#31a354")
    ax.set_xticks(x, platforms["platform"], rotation=30, fontsize=8)
    ax.set_ylabel("$")
    ax.set_title("Money per platform (revenue by purchase platform)", fontsize=10)
    ax.legend(fontsize=7)
    return fig


def compare_figure(base: pd.DataFrame, current: pd.DataFrame, day: int) -> Figure:
    """Cumulative customers and spend of the baseline (dashed) and the current run, up to ``day``."""
    fig = Figure(figsize=(10, 3), layout="constrained")
    left, right = fig.subplots(1, 2)
    for ts, style, label in ((base, "--", "baseline"), (current, "-", "current")):
        rows = ts[ts["day"] <= day]
        left.plot(rows["day"], rows["new_customers"].cumsum(), style, label=label, color="#31a354")
        right.plot(rows["day"], rows["spend"].cumsum(), style, label=label, color="#de2d26")
    left.set(title="Customers (cumulative)", xlabel="day")
    right.set(title="Spend (cumulative, $)", xlabel="day")
    for ax in (left, right):
        ax.legend(fontsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig
