"""Metric definitions: the daily row, the per-platform table and the summary.

Names are stable: they are the columns of ``timeseries.csv`` and ``platforms.csv`` and the keys of
``summary.json``. Definitions: docs/ODD.md, section "Observation".
"""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd

from agents.states import Source, Stage
from simulation import kernels as K

STAGE_COLUMNS = [s.name.lower() for s in Stage]

#: Columns of timeseries.csv, in order.
TIMESERIES_COLUMNS = ["day", *STAGE_COLUMNS, "impressions", "reach", "stops", "engagements",
                      "clicks", "follows", "subscribers", "shares", "new_customers",
                      "adopters", "ever_engaged", "repeat_purchases", "revenue", "spend", "mean_trust"]

#: Columns of the per-platform daily table (long format: one row per day and platform).
PLATFORM_DAY_COLUMNS = ["impressions", "new_reach", "stops", "engagements", "clicks", "follows",
                        "subscribers", "shares", "new_customers", "repeat_purchases", "revenue",
                        "spend"]


def model_reporters() -> dict:
    """Mesa DataCollector reporters: each reads the model's row for the day just simulated."""
    return {col: (lambda m, c=col: m.today[c]) for col in TIMESERIES_COLUMNS}


class DailyCollector(mesa.DataCollector):
    """Mesa's DataCollector of the daily row (:func:`model_reporters`), collecting faster.

    Mesa's ``collect`` calls each reporter and deep-copies what it returns, in case it is a
    mutable object the model changes later: about 30 us a day for the row's 22 columns, a
    third of the engine's Python time per day. The row's values are Python ints and floats,
    which nothing can change, so this ``collect`` appends them as they are. The stored data,
    ``get_model_vars_dataframe`` and the rest are Mesa's (a test compares with Mesa's own).
    """

    def __init__(self):
        super().__init__(model_reporters=model_reporters())

    def collect(self, model) -> None:
        self._collection_steps.append(model.time)
        row = model.today
        for column, values in self.model_vars.items():
            values.append(row[column])


#: The event tally behind each of PLATFORM_DAY_COLUMNS but the last (spend).
_DAY_EVENTS = np.array([K.E_IMPRESSIONS, K.E_REACH, K.E_STOPS, K.E_ENGAGEMENTS, K.E_CLICKS,
                        K.E_FOLLOWS, K.E_SUBSCRIBES, K.E_SHARES, K.E_NEW_CUSTOMERS, K.E_REPEAT,
                        K.E_REVENUE])


def platform_day_row(ev: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """One day's per-platform table (PLATFORM_DAY_COLUMNS x platforms) from the event tallies."""
    return np.concatenate((ev[_DAY_EVENTS], spend[None, :]))


def platform_table(model) -> pd.DataFrame:
    """One row per platform: totals, reach, and customers attributed by first, last and linear
    touch. Revenue and spend add up to the run's totals."""
    days = np.array(model.platform_days) if model.platform_days else np.zeros(
        (0, len(PLATFORM_DAY_COLUMNS), len(model.platform_names)))
    tot = days.sum(axis=0)
    col = {c: i for i, c in enumerate(PLATFORM_DAY_COLUMNS)}
    st = model.state
    customers = st.first_purchase_day >= 0
    n_plat = len(model.platform_names)
    first = np.bincount(st.first_platform[customers].astype(np.int64), minlength=n_plat)
    last = np.bincount(st.purchase_platform[customers].astype(np.int64), minlength=n_plat)
    pre = st.pre_touches[customers].astype(np.float64)
    totals = pre.sum(axis=1, keepdims=True)
    linear = (pre / np.maximum(totals, 1.0)).sum(axis=0)
    reach = np.array([((st.reached >> np.uint32(p)) & 1).sum() for p in range(n_plat)])
    df = pd.DataFrame({
        "platform": model.platform_names,
        "impressions": tot[col["impressions"]].astype(np.int64),
        "reach": reach.astype(np.int64),
        "stops": tot[col["stops"]].astype(np.int64),
        "engagements": tot[col["engagements"]].astype(np.int64),
        "clicks": tot[col["clicks"]].astype(np.int64),
        "follows": tot[col["follows"]].astype(np.int64),
        "subscribers": tot[col["subscribers"]].astype(np.int64),
        "shares": tot[col["shares"]].astype(np.int64),
        "new_customers": tot[col["new_customers"]].astype(np.int64),
        "repeat_purchases": tot[col["repeat_purchases"]].astype(np.int64),
        "revenue": tot[col["revenue"]],
        "spend": tot[col["spend"]],
        "customers_first_touch": first[:n_plat].astype(np.int64),
        "customers_last_touch": last[:n_plat].astype(np.int64),
        "customers_linear": linear[:n_plat] if n_plat else np.zeros(0),
    })
    return df


def summary(model, timeseries: pd.DataFrame, platforms: pd.DataFrame) -> dict:
    """The run's summary object (summary.json)."""
    st = model.state
    n = int(st.stage.shape[0])
    customers_mask = st.first_purchase_day >= 0
    customers = int(customers_mask.sum())
    revenue = float(platforms["revenue"].sum())
    spend = float(platforms["spend"].sum())
    reach = int((st.reached != 0).sum())
    touches = st.pre_touches[customers_mask].sum(axis=1)
    margin = model.spec.product.margin
    sources = [s.name.lower() for s in Source]
    by_source = np.bincount(st.purchase_source[customers_mask].astype(np.int64),
                            minlength=len(sources))
    last = timeseries.iloc[-1] if len(timeseries) else None
    return {
        "scenario": model.spec.name,
        "audience": n,
        "days": int(model.day),
        "seed": int(model.seed),
        "reach": reach,
        "impressions": int(platforms["impressions"].sum()),
        "engagements": int(platforms["engagements"].sum()),
        "clicks": int(platforms["clicks"].sum()),
        "customers": customers,
        "purchases": int(st.purchases.sum()),
        "repeat_purchases": int(platforms["repeat_purchases"].sum()),
        "conversion_rate": _ratio(customers, reach),
        "revenue": round(revenue, 6),
        "spend": round(spend, 6),
        "profit": round(revenue * margin - spend, 6),
        "cac": _ratio(spend, customers),
        "roas": _ratio(revenue, spend),
        "roi": _ratio(revenue - spend, spend),
        "ltv": _ratio(revenue, customers),
        "mean_trust": round(float(st.trust.mean()), 10) if n else None,
        "stages": {s: int(last[s]) if last is not None else 0 for s in STAGE_COLUMNS},
        "stage_labels": {s: model.spec.stage_label(s) for s in STAGE_COLUMNS},
        "touches_to_first_purchase": {
            "mean": round(float(touches.mean()), 6) if customers else None,
            "median": float(np.median(touches)) if customers else None,
        },
        "attribution": {
            row.platform: {
                "first_touch": int(row.customers_first_touch),
                "last_touch": int(row.customers_last_touch),
                "linear": round(float(row.customers_linear), 6),
            }
            for row in platforms.itertuples()
        },
        "customers_by_source": {s: int(c) for s, c in zip(sources, by_source, strict=False)
                                if c},
    }


def _ratio(a: float, b: float) -> float | None:
    """a / b rounded, or None when b is 0 (JSON null: undefined, not zero)."""
    if b == 0:
        return None
    value = a / b
    return None if math.isnan(value) else round(value, 10)
