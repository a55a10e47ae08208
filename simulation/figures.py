"""The static funnel figure of a run (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from simulation.metrics import STAGE_COLUMNS  # noqa: E402

STAGE_COLOURS = ["#d9d9d9", "#9ecae1", "#4292c6", "#6a51a3", "#31a354", "#e6550d"]
#: Under the drop-off panel: its steps are separate counts, not nested sets.
DROPOFF_FOOTNOTE = ("Stages are counted separately: a consumer can click without engaging, so a step "
                    "can exceed the one before.")


def funnel_figure(result):
    """Two panels: consumers per stage per day (stacked), and the drop-off from impressions to
    customers on a log scale with each step's conversion percentage. The steps are counted
    separately (a trusting consumer can click without engaging), which a footnote says."""
    ts, s = result.timeseries, result.summary
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), constrained_layout=True)
    days = ts["day"].to_numpy()
    labels = s.get("stage_labels") or {c: c.capitalize() for c in STAGE_COLUMNS}
    left.stackplot(days, [ts[c].to_numpy() for c in STAGE_COLUMNS],
                   labels=[labels[c] for c in STAGE_COLUMNS], colors=STAGE_COLOURS)
    left.set(xlabel="day", ylabel="consumers", xlim=(days.min(), days.max()) if len(days) else None,
             title=f"{s['scenario']}: consumers per stage")
    left.legend(loc="upper left", fontsize=8, ncol=2)
    steps = ["impressions", "stops", "engagements", "clicks", f"new {labels['customer'].lower()}s"]
    values = [s["impressions"], int(ts["stops"].sum()), s["engagements"], s["clicks"],
              s["customers"]]
    y = np.arange(len(steps))[::-1]
    right.barh(y, np.maximum(values, 0.8), color="#4292c6", log=True)
    right.set_yticks(y, [st[0].upper() + st[1:] for st in steps])
    for k in range(len(steps)):
        label = f"{values[k]:,}"
        if k > 0 and values[k - 1]:
            label += f"  ({100 * values[k] / values[k - 1]:.1f}% of previous)"
        right.text(max(values[k], 1) * 1.1, y[k], label, va="center", fontsize=9)
    right.set_xlim(0.8, max(max(values), 10) * 40)
    right.set(xlabel="count over the run (log scale)",
              title=f"drop-off: impressions to {labels['customer'].lower()}s (reach {s['reach']:,})")
    fig.suptitle(_money_line(s), fontsize=10, color="#444")
    # a figure-level label, so the constrained layout makes room for it below the x labels
    fig.supxlabel(DROPOFF_FOOTNOTE, x=0.99, ha="right", fontsize=8, color="#666", style="italic")
    return fig


def _money_line(s: dict) -> str:
    def fmt(v, spec):
        return "n/a" if v is None else format(v, spec)
    return (f"spend ${s['spend']:,.0f}   revenue ${s['revenue']:,.0f}   "
            f"ROAS {fmt(s['roas'], '.2f')}   CAC ${fmt(s['cac'], ',.2f')}   "
            f"customers {s['customers']:,}")
