"""Consumer journeys: what happened to each consumer, day by day, recorded as the model runs.

The engine keeps only each consumer's current state (stage, touches, last source and platform). After
every day the recorder compares it with the day before and keeps a row for each consumer whose touches,
stage or purchases changed: a change log, so memory grows with what happens, not with audience x days.
A consumer's journey is then their rows, in order. The engine records the last touch of a day only, so a
day with several touches shows the count and the last one's source and platform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.states import Source, Stage


@dataclass(frozen=True)
class DayLog:
    """The consumers who changed on one day (``ids`` sorted) and their state at the end of it."""

    day: int
    ids: np.ndarray
    stage_before: np.ndarray
    stage: np.ndarray
    touches: np.ndarray  # touches gained that day
    source: np.ndarray
    platform: np.ndarray
    trust: np.ndarray
    purchases: np.ndarray  # purchases made that day


class JourneyRecorder:
    """Keeps a :class:`DayLog` per simulated day for a model's consumers."""

    def __init__(self, model):
        st = model.state
        self._stage = st.stage.copy()
        self._touches = st.touches.copy()
        self._purchases = st.purchases.copy()
        self.initial_trust = st.trust.copy()
        self.logs: list[DayLog] = []

    def record(self, model) -> None:
        """Log the day just simulated (call after each ``model.step()``)."""
        st = model.state
        changed = ((st.touches != self._touches) | (st.stage != self._stage)
                   | (st.purchases != self._purchases))
        ids = np.flatnonzero(changed)
        self.logs.append(DayLog(
            day=int(model.day), ids=ids, stage_before=self._stage[ids], stage=st.stage[ids].copy(),
            touches=(st.touches[ids] - self._touches[ids]).astype(np.int32),
            source=st.last_source[ids].copy(), platform=st.last_platform[ids].copy(),
            trust=st.trust[ids].astype(np.float32),
            purchases=(st.purchases[ids] - self._purchases[ids]).astype(np.int32)))
        self._stage[ids] = st.stage[ids]
        self._touches[ids] = st.touches[ids]
        self._purchases[ids] = st.purchases[ids]

    def journey(self, consumer: int, platform_names: list[str]) -> list[dict]:
        """The days on which ``consumer`` was touched, bought or changed stage, oldest first."""
        rows = []
        for log in self.logs:
            k = int(np.searchsorted(log.ids, consumer))
            if k >= log.ids.shape[0] or log.ids[k] != consumer:
                continue
            before, after = Stage(int(log.stage_before[k])), Stage(int(log.stage[k]))
            source, platform = int(log.source[k]), int(log.platform[k])
            rows.append({
                "day": log.day,
                "touches": int(log.touches[k]),
                "source": Source(source).name.lower() if source >= 0 else "",
                "platform": platform_names[platform] if 0 <= platform < len(platform_names) else "",
                "stage": after.name.lower() if before == after
                else f"{before.name.lower()} -> {after.name.lower()}",
                "purchases": int(log.purchases[k]),
                "trust": round(float(log.trust[k]), 3),
            })
        return rows

    @property
    def nbytes(self) -> int:
        """Memory held by the log (for the benchmark)."""
        return sum(sum(getattr(log, f).nbytes for f in ("ids", "stage_before", "stage", "touches", "source",
                                                         "platform", "trust", "purchases"))
                   for log in self.logs)
