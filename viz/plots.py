"""The page's figures: matplotlib (Figure objects, not pyplot: panels draw from several threads) for the
exports and the A/B compare, and the stage chart as SVG (redrawn every step, so it must be cheap)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from simulation.figures import STAGE_COLOURS
from simulation.metrics import STAGE_COLUMNS

#: Stage -> colour, shared by the charts and the network.
STAGE_COLOURS_BY_NAME = dict(zip(STAGE_COLUMNS, STAGE_COLOURS, strict=True))
#: Darker greys than the static figure's, so unaware nodes stay visible on white.
NODE_COLOURS = ["#bdbdbd", *STAGE_COLOURS[1:]]


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


def _nice_step(top: float, ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 x 10^k) giving about ``ticks`` ticks up to ``top``."""
    raw = max(top, 1.0) / ticks
    power = 10.0 ** np.floor(np.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def stage_svg(ts: pd.DataFrame, days: int, audience: int) -> str:
    """Consumers per stage over time as an SVG line chart (x: day 0..``days``, y: consumers), drawn from
    the model's daily timeseries (its Mesa DataCollector). A string, a few kilobytes: about a millisecond
    to make, against about 0.3 s for a matplotlib PNG, which under 20 sessions was most of the server's
    work (docs/web.md, "Under load")."""
    w, h, left, right, top, bottom = 560, 290, 62, 12, 12, 36
    pw, ph = w - left - right, h - top - bottom
    days = max(int(days), 1)
    x = ts["day"].to_numpy(dtype=float) if len(ts) else np.zeros(0)
    ymax = float(ts[STAGE_COLUMNS].to_numpy().max()) if len(ts) else float(audience)
    ystep = _nice_step(ymax)
    ytop = max(ystep * np.ceil(max(ymax, 1.0) / ystep), ystep)

    def sx(v):
        return left + pw * np.asarray(v, dtype=float) / days

    def sy(v):
        return top + ph * (1 - np.asarray(v, dtype=float) / ytop)

    out = [f'<svg viewBox="0 0 {w} {h}" width="100%" xmlns="http://www.w3.org/2000/svg" '
           f'class="stage-svg" data-days="{len(ts)}" style="font:14px sans-serif">']
    for v in np.arange(0, ytop + ystep / 2, ystep):
        y = sy(v)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{v:,.0f}</text>')
    xstep = _nice_step(days, 6)
    for v in np.arange(0, days + xstep / 2, xstep):
        out.append(f'<text x="{sx(v):.1f}" y="{top + ph + 15}" text-anchor="middle" '
                   f'fill="#555">{v:.0f}</text>')
    out.append(f'<path d="M{left} {top}V{top + ph}H{left + pw}" fill="none" stroke="#999"/>'
               f'<text x="{left + pw / 2}" y="{h - 3}" text-anchor="middle" fill="#333">day</text>'
               f'<text x="12" y="{top + ph / 2}" text-anchor="middle" fill="#333" '
               f'transform="rotate(-90 12 {top + ph / 2})">consumers</text>')
    for k, (name, colour) in enumerate(STAGE_COLOURS_BY_NAME.items()):
        if len(ts):
            xs, ys = sx(x), sy(ts[name].to_numpy(dtype=float))
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))
            out.append(f'<polyline class="stage-line" data-stage="{name}" points="{points}" fill="none" '
                       f'stroke="{colour}" stroke-width="2"/>')
            if len(ts) < 3:  # too few days for a line to show
                out.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>'
                           for a, b in zip(xs, ys, strict=True))
        lx, ly = left + pw - 282 + 95 * (k % 3), top + 10 + 16 * (k // 3)
        out.append(f'<rect x="{lx}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{lx + 14}" y="{ly + 1}" fill="#333">{name}</text>')
    out.append("</svg>")
    return "".join(out)
