"""The model the page drives: a FunnelModel that knows when it is done.

The page imports the engine, never the reverse: this subclass lives in viz/ and adds only what a viewer
needs (a lock, Mesa's ``running`` flag at the last day, run-to-end, cached tables) without changing the
daily process. Journeys come from the engine's own journal (``FunnelModel.trace``; see viz/journey.py),
switched on only while a consumer is picked.
"""

from __future__ import annotations

import threading

import pandas as pd

from simulation import kernels as K
from simulation.metrics import platform_table
from simulation.model import FunnelModel
from simulation.results import Result
from viz import config
from viz.recipe import Recipe, ViewError


class ViewModel(FunnelModel):
    """A FunnelModel built from a :class:`~viz.recipe.Recipe`, stepping at most ``spec.days`` days.

    ``lock`` serialises steps and reads: the play loop steps in a worker thread while panels read.
    """

    def __init__(self, recipe: Recipe, limit: int | None = None):
        # No mesa.Agent per consumer: the page never reads them (its panels read the state arrays), and at
        # 10,000 consumers they were half of a model's memory (4.4 -> 2.2 MB) and two thirds of its build
        # time (0.31 -> 0.12 s). They are views with no step of their own, so the run is the same
        # (tests/test_viz.py compares with a FunnelModel built from the scenario as written).
        super().__init__(recipe.spec.model_copy(update={"materialize_agents": False}))
        limit = config.max_audience() if limit is None else limit
        if self.graph.n > limit:  # a graph file's size is known only once it is read
            raise ViewError(recipe.label, f"the graph has {self.graph.n:,} consumers; the web view is "
                                          f"limited to {limit:,}")
        self.recipe = recipe
        # The KPI cards' trust at day 0, summed as the model sums it (ODD 3.3).
        self.initial_trust = float(K.fixed_trust_sum(self.state.trust)) * K.TRUST_UNIT / self.graph.n
        self.lock = threading.RLock()
        self.running = self.spec.days > 0
        self._result: tuple[int, Result] | None = None
        self._tables: tuple | None = None

    def step(self) -> None:
        """One day (nothing once the scenario's days are done)."""
        with self.lock:
            if self.day >= self.spec.days:
                self.running = False
                return
            super().step()
            self.running = self.day < self.spec.days

    def run_to_end(self) -> None:
        """Simulate the remaining days."""
        with self.lock:
            while self.day < self.spec.days:
                self.step()

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(timeseries, per-platform table) so far: what the panels draw, without the long per-day
        platform table that a full Result also builds (cached per day)."""
        with self.lock:
            if self._tables is None or self._tables[0] != self.day:
                ts = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
                self._tables = (self.day, ts, platform_table(self))
            return self._tables[1], self._tables[2]

    def result(self) -> Result:
        """The run so far as a Result (cached per day: several panels read it each redraw)."""
        with self.lock:
            if self._result is None or self._result[0] != self.day:
                self._result = (self.day, Result.from_model(self))
            return self._result[1]
