"""What the optimiser maximises, the ROAS constraint, and paired intervals.

Objectives (per run, from the run's summary; then averaged over replicates):

* ``customers``: consumers who bought at least once (count).
* ``profit``: revenue x product margin - spend ($ over the whole run; spend includes every paid,
  retargeting, influencer, content and send cost of the scenario).
* ``roas``: revenue / spend (ratio; undefined, so NaN, for a run that spent nothing).

``--min-roas X`` makes a plan whose mean ROAS over the replicates is below ``X`` infeasible: it is
ranked after every feasible plan, whatever its objective. A plan whose runs failed is infeasible.
"""

from __future__ import annotations

import math

import numpy as np

from simulation.experiments.stats import mean_interval, paired_interval

OBJECTIVES = ("customers", "profit", "roas")


def score(metrics: dict[str, np.ndarray], objective: str, min_roas: float | None
          ) -> tuple[float, bool]:
    """(mean objective over replicates, feasible) of one candidate's runs."""
    values = metrics[objective]
    if np.isnan(metrics["customers"]).any():
        return math.nan, False
    mean = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
    roas = metrics["roas"]
    mean_roas = float(np.nanmean(roas)) if np.isfinite(roas).any() else math.nan
    feasible = math.isfinite(mean) and (
        min_roas is None or (math.isfinite(mean_roas) and mean_roas >= min_roas))
    return mean, feasible


def rank_key(mean: float, feasible: bool) -> tuple:
    """Sort key, best first: feasible plans by objective, then the infeasible ones."""
    return (0 if feasible else 1, -mean if math.isfinite(mean) else math.inf)


def summarize(metrics: dict[str, np.ndarray], reference: dict[str, np.ndarray] | None = None,
              names=("customers", "profit", "roas", "revenue", "spend")) -> dict[str, float]:
    """Mean and 95% interval of each metric; with ``reference`` (the same seeds), the paired
    difference (candidate - reference) and its 95% interval (NaN without a reference)."""
    out: dict[str, float] = {}
    for m in names:
        mean, low, high = mean_interval(metrics[m])
        out.update({m: mean, f"{m}_low": low, f"{m}_high": high})
        d, dl, dh = (paired_interval(reference[m], metrics[m]) if reference is not None
                     else (math.nan,) * 3)
        out.update({f"{m}_diff": d, f"{m}_diff_low": dl, f"{m}_diff_high": dh})
    return out
