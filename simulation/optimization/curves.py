"""Response curves: a metric against spend on one line, the others held at the best plan.

For each paid or retargeting line, its daily budget takes the levels ``LEVELS x TOTAL`` ($/day)
while every other line keeps its spend in the best plan; each level runs on the same replicate
seeds (paired). ``customers``, ``revenue``, ``profit`` and the run's actual ``spend`` are
reported with 95% intervals, and ``incremental_customers`` = customers at this level - customers
at level 0 (paired, per seed). A curve that flattens while the budget doubles is saturation: the
line's reachable audience (targeting, frequency cap, retargeting pool) is used up.
"""

from __future__ import annotations

import pandas as pd

from simulation.experiments.stats import mean_interval, paired_interval
from simulation.optimization.plans import Base
from simulation.optimization.runs import Candidate, PairedRunner

LEVELS = (0.0, 0.125, 0.25, 0.5, 0.75, 1.0)


def _row(m, ref) -> dict:
    out = {}
    for name in ("customers", "revenue", "profit", "spend", "roas"):
        mean, low, high = mean_interval(m[name])
        out.update({name: mean, f"{name}_low": low, f"{name}_high": high})
    d, dl, dh = paired_interval(ref["customers"], m["customers"])
    out.update(incremental_customers=d, incremental_customers_low=dl,
               incremental_customers_high=dh)
    return out


def response_curves(base: Base, runner: PairedRunner, budget: float, best_spends: list[float],
                    levels=LEVELS) -> pd.DataFrame:
    """One row per line and level: line, platform, daily_budget ($/day), the metrics above."""
    rows = []
    for i, line in enumerate(base.lines):
        cands = []
        for lev in levels:
            spends = list(best_spends)
            spends[i] = budget * lev
            raw = base.with_changes(base.split_changes(spends))
            cands.append(Candidate(f"curve {line.label} {spends[i]:.2f}", base.run_data(raw)))
        results = runner.evaluate(cands)
        for lev, m in zip(levels, results, strict=True):
            rows.append({"line": line.label, "platform": line.platform,
                         "daily_budget": round(budget * lev, 2), **_row(m, results[0])})
    return pd.DataFrame(rows)


def mix_curve(base: Base, runner: PairedRunner, points, make) -> pd.DataFrame:
    """The metrics against the share of sales posts (``points`` from
    :func:`.mix.curve_points`; ``make(w)`` builds the candidate)."""
    cands = [make(w) for w in points]
    results = runner.evaluate(cands)
    return pd.DataFrame([{"share_action": round(w[2], 4), "share_attention": round(w[0], 4),
                          "share_trust": round(w[1], 4), **_row(m, results[0])}
                         for w, m in zip(points, results, strict=True)])
