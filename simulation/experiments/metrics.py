"""Which outputs of a run a sweep keeps, read from the run's summary by dotted name."""

from __future__ import annotations

import math
from typing import Any

from simulation.errors import FunnelsimError, Problem, nearest

#: The summary's numbers kept by default (one column each; units as in summary.json: counts,
#: $ for revenue/spend/profit/cac/ltv, ratios for conversion_rate/roas/roi, trust in [0, 1]).
DEFAULT_METRICS = [
    "reach", "impressions", "engagements", "clicks", "customers", "purchases", "repeat_purchases",
    "conversion_rate", "revenue", "spend", "profit", "cac", "roas", "roi", "ltv", "mean_trust",
    "touches_to_first_purchase.mean", "touches_to_first_purchase.median",
    "stages.unaware", "stages.aware", "stages.engaged", "stages.trusting", "stages.customer",
    "stages.advocate",
]
#: Summary sections whose keys depend on the scenario (platforms, sources): any sub-key is allowed.
OPEN_SECTIONS = ("attribution.", "customers_by_source.")


def check_metrics(metrics: list[str], where: str) -> list[str]:
    """Validate metric names; returns them in order without duplicates.

    Raises:
        FunnelsimError: for a name that is not in the summary.
    """
    out = []
    for i, m in enumerate(metrics):
        if not isinstance(m, str) or not (m in DEFAULT_METRICS or m.startswith(OPEN_SECTIONS)):
            raise FunnelsimError(where, [Problem(f"metrics.{i}", "unknown metric", value=m,
                                                 suggestion=nearest(str(m), DEFAULT_METRICS))])
        if m not in out:
            out.append(m)
    if not out:
        raise FunnelsimError(where, [Problem("metrics", "no metrics to keep",
                                             suggestion="omit 'metrics' to keep the summary")])
    return out


def pick(summary: dict, names: list[str]) -> dict[str, float]:
    """The named numbers of a summary as floats; NaN where undefined (e.g. CAC with no
    customers). A missing ``customers_by_source`` entry is 0: the summary omits zero counts."""
    out = {}
    for name in names:
        node: Any = summary
        for part in name.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None and name.startswith("customers_by_source."):
            node = 0
        out[name] = math.nan if node is None else float(node)
    return out
