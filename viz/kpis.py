"""Key figures of a run at any day, computed from its daily timeseries.

The cards and the A/B compare use the same function, so a baseline that ran to the end and a current run
at day 30 are compared at day 30 on equal terms. At the last day the figures equal the run's summary
(``simulation.metrics.summary``); tests/test_viz.py checks that.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from simulation.metrics import STAGE_COLUMNS


@dataclass(frozen=True)
class Kpi:
    """One key figure: its name, how to show it, and whether more is better."""

    key: str
    label: str
    fmt: str  # "int", "pct", "money", "ratio", "trust"
    higher_is_better: bool = True


KPIS = [
    Kpi("reach", "Reach", "int"),
    Kpi("customers", "Customers", "int"),
    Kpi("conversion_rate", "Conversion rate", "pct"),
    Kpi("spend", "Spend", "money", higher_is_better=False),
    Kpi("revenue", "Revenue", "money"),
    Kpi("cac", "CAC", "money", higher_is_better=False),
    Kpi("roas", "ROAS", "ratio"),
    Kpi("mean_trust", "Mean trust", "trust"),
]


def kpis_at(ts: pd.DataFrame, day: int, initial_trust: float | None = None) -> dict:
    """The key figures after ``day`` days (0: before the first day) from a run's timeseries."""
    rows = ts[ts["day"] <= day] if len(ts) else ts
    if len(rows) == 0:
        return {"day": 0, "reach": 0, "customers": 0, "conversion_rate": None, "spend": 0.0,
                "revenue": 0.0, "cac": None, "roas": None, "mean_trust": initial_trust}
    last = rows.iloc[-1]
    customers = int(rows["new_customers"].sum())
    reach = int(last["reach"])
    spend, revenue = float(rows["spend"].sum()), float(rows["revenue"].sum())
    return {
        "day": int(last["day"]),
        "reach": reach,
        "customers": customers,
        "conversion_rate": customers / reach if reach else None,
        "spend": spend,
        "revenue": revenue,
        "cac": spend / customers if customers else None,
        "roas": revenue / spend if spend else None,
        "mean_trust": float(last["mean_trust"]),
    }


def stages_at(ts: pd.DataFrame, day: int) -> dict:
    """Consumers per stage after ``day`` days (empty before the first day)."""
    rows = ts[ts["day"] <= day] if len(ts) else ts
    if len(rows) == 0:
        return {}
    last = rows.iloc[-1]
    return {s: int(last[s]) for s in STAGE_COLUMNS}


def fmt(value, kind: str) -> str:
    """A figure as the page shows it; ``n/a`` when undefined (e.g. CAC with no customers)."""
    if value is None:
        return "n/a"
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "pct":
        return f"{100 * value:.2f}%"
    if kind == "money":
        return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"
    if kind == "ratio":
        return f"{value:.2f}x"
    return f"{value:.3f}"


def difference(base, current, kind: str) -> str:
    """``current - base`` as text with its relative change, or n/a."""
    if base is None or current is None:
        return "n/a"
    delta = current - base
    sign = "+" if delta > 0 else "" if delta == 0 else "-"
    body = fmt(abs(delta), "int" if kind == "int" else kind)
    if kind == "pct":
        body = f"{100 * abs(delta):.2f} pts"
    rel = f" ({100 * delta / abs(base):+.1f}%)" if base else ""
    return f"{sign}{body}{rel}"
