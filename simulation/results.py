"""``run(scenario, seed) -> Result``: a finished run's tables, summary and figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from simulation.metrics import PLATFORM_DAY_COLUMNS, platform_table, summary
from simulation.model import FunnelModel
from simulation.scenario import Scenario, load_scenario


@dataclass
class Result:
    """The outputs of one run.

    Attributes:
        summary: the summary object (``summary.json``).
        timeseries: one row per day (``timeseries.csv``).
        platforms: one row per platform (``platforms.csv``).
        platform_timeseries: one row per day and platform (long format).
        model: the finished model (its state arrays, graph and agents), when kept.
    """

    summary: dict
    timeseries: pd.DataFrame
    platforms: pd.DataFrame
    platform_timeseries: pd.DataFrame
    model: FunnelModel | None = field(default=None, repr=False)

    @classmethod
    def from_model(cls, model: FunnelModel, keep_model: bool = True) -> Result:
        ts = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        platforms = platform_table(model)
        rows = []
        for day, table in enumerate(model.platform_days, start=1):
            for p, name in enumerate(model.platform_names):
                rows.append({"day": day, "platform": name,
                             **{c: float(table[k, p]) for k, c in enumerate(PLATFORM_DAY_COLUMNS)}})
        pts = pd.DataFrame(rows, columns=["day", "platform", *PLATFORM_DAY_COLUMNS])
        return cls(summary(model, ts, platforms), ts, platforms, pts,
                   model if keep_model else None)

    def plot(self, path: str | Path | None = None):
        """The funnel figure: consumers per stage over time and the drop-off from impressions to
        customers. Saves a PNG when ``path`` is given; returns the matplotlib Figure."""
        from simulation.figures import funnel_figure

        fig = funnel_figure(self)
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig


def run(scenario: Scenario | str | Path | dict, seed: int | None = None,
        days: int | None = None) -> Result:
    """Run a scenario (an object, a file path or a dict) and return its :class:`Result`."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    model = FunnelModel(scenario, seed=seed)
    model.run(days)
    return Result.from_model(model)
