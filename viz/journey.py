"""A picked consumer's journey, from the engine's own journal (the function behind ``funnelsim trace``).

The page keeps no recorder of its own. Nothing is traced until someone is picked, so the engine's
kernels run with tracing off (one empty array tested per exposure, nothing written). When a consumer is
picked on day D:

- the live model starts tracing that consumer (``FunnelModel.trace``), so days D+1 onwards are
  journalled as the run goes on;
- days 1..D are *replayed*: a second model with the same scenario and seed (and the same graph object, so
  nothing is rebuilt) traces the consumer for D days, in a background thread. Runs are deterministic (every
  random number derives from the seed and the day), so the replay is the run the page showed, exactly;
  tests/test_viz.py checks it against a model traced from day 0.

The journey is then the replay's rows followed by the live rows: the table ``FunnelModel.journeys()``
returns (one row per exposure or day-end event, :data:`simulation.journeys.JOURNEY_COLUMNS`). Picking
another consumer starts again; clearing the pick turns tracing off.
"""

from __future__ import annotations

import json
import threading

import pandas as pd

from simulation.journeys import JOURNEY_COLUMNS
from simulation.model import FunnelModel

#: Columns the page shows (the ``funnelsim trace`` table: stage before/after folded into one).
SHOWN_COLUMNS = ["day", "event", "platform", "source", "purpose", "stage", "purchase", "trust"]


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in JOURNEY_COLUMNS})


class JourneyTrace:
    """The journey of ``consumer`` on ``model`` (a :class:`~viz.runner.ViewModel`), picked at
    ``model.day``."""

    def __init__(self, model, consumer: int):
        if not 0 <= consumer < model.graph.n:
            raise ValueError(f"consumer id must be between 0 and {model.graph.n - 1:,}")
        self.model = model
        self.consumer = int(consumer)
        with model.lock:  # no step in between: the live journal starts exactly after day D
            model.trace([self.consumer])
            self.from_day = int(model.day)
        self._history: pd.DataFrame | None = _empty() if self.from_day == 0 else None
        self._done = threading.Event()
        if self._history is not None:
            self._done.set()

    @property
    def ready(self) -> bool:
        """True once days 1..D have been replayed."""
        return self._done.is_set()

    def replay(self, cancel: threading.Event | None = None) -> pd.DataFrame | None:
        """Days 1..D of the journey: the same scenario and seed rerun with the consumer traced (None if
        cancelled). Safe to call again: the second call returns the first one's rows."""
        if self._history is not None:
            return self._history
        twin = FunnelModel(self.model.spec, self.model.seed, graph=self.model.graph)
        twin.trace([self.consumer])
        for _ in range(self.from_day):
            if cancel is not None and cancel.is_set():
                return None
            twin.step()
        self._history = twin.journeys()
        self._done.set()
        return self._history

    def table(self) -> pd.DataFrame:
        """The journey so far (replayed days, then live days): ``FunnelModel.journeys()`` columns. Before
        the replay is done, only the live days."""
        with self.model.lock:
            live = self.model.journeys()
        history = self._history
        parts = [t for t in (history, live) if t is not None and len(t)]
        if not parts:
            return _empty()
        out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
        return out[out["consumer"] == self.consumer].reset_index(drop=True)

    def summary(self) -> str:
        """One line about the consumer now (the engine's ``consumer_summary``)."""
        with self.model.lock:
            return self.model.consumer_summary(self.consumer)

    # -- exports ------------------------------------------------------------------------------

    def to_csv(self) -> str:
        """Every row (impressions included), all of ``JOURNEY_COLUMNS``."""
        return self.table().to_csv(index=False)

    def to_json(self) -> str:
        """The ``funnelsim trace --json`` shape: ``{scenario, seed, journeys: {id: rows}}`` (touches and
        day-end events; impressions that did not stop the consumer left out, as the command does)."""
        table = shown_rows(self.table(), impressions=False)
        rows = table.drop(columns="consumer").to_dict("records")
        return json.dumps({"scenario": self.model.spec.name, "seed": self.model.seed,
                           "journeys": {str(self.consumer): rows}}, indent=2, default=str) + "\n"


def shown_rows(table: pd.DataFrame, impressions: bool = False) -> pd.DataFrame:
    """Rows as ``funnelsim trace`` lists them: impressions that did not stop the consumer only when
    asked for."""
    return table if impressions else table[table["event"] != "impression"]


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The page's table: ``funnelsim trace``'s columns, the stage change folded into one cell."""
    if not len(table):
        return pd.DataFrame(columns=SHOWN_COLUMNS)
    stage = [f"{b} -> {a}" if changed else a for b, a, changed in
             zip(table["stage_before"], table["stage_after"], table["stage_change"], strict=True)]
    out = table.assign(stage=stage, trust=[f"{t:.3f}" for t in table["trust"].astype(float)])
    return out[SHOWN_COLUMNS].reset_index(drop=True)
