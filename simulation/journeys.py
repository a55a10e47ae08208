"""Consumer journeys: every exposure of chosen consumers, day by day (``funnelsim trace``).

Tracing is off unless asked for: the kernels then test one empty array per exposure and write
nothing. When consumers are traced, the kernels append a row per exposure (and per day-end event:
a repeat purchase on the repurchase cycle, or a stage lost to forgetting or fading trust) to a
per-chunk buffer; :class:`Journal` sizes the buffers, collects them after each day in consumer
order and turns them into a table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agents.states import Source, Stage
from platforms.content import Purpose
from simulation import kernels as K

#: Rows a traced consumer may add in one day before the journal marks the day truncated.
ROWS_PER_CONSUMER_DAY = 256

JOURNEY_COLUMNS = ["day", "consumer", "event", "platform", "source", "purpose", "stage_before",
                   "stage_after", "stage_change", "stopped", "engaged", "clicked", "purchase",
                   "trust"]


class Journal:
    """The journal of the traced consumers of one model.

    Args:
        n: consumers in the model.
        n_chunks: the kernels' chunks.
        ids: consumers to trace (empty: tracing off).
    """

    def __init__(self, n: int, n_chunks: int, ids=()):
        ids = np.unique(np.asarray(list(ids), dtype=np.int64))
        if ids.size and (ids.min() < 0 or ids.max() >= n):
            raise ValueError(f"consumer ids must be in 0..{n - 1}")
        self.ids = ids
        self.traced = np.zeros(n if ids.size else 0, dtype=np.uint8)
        self.traced[ids] = 1
        size = (n + n_chunks - 1) // n_chunks
        per_chunk = np.bincount(ids // size, minlength=n_chunks) if ids.size else np.zeros(1)
        self.capacity = int(per_chunk.max()) * ROWS_PER_CONSUMER_DAY
        self.n_chunks = n_chunks
        self.rows: list[np.ndarray] = []
        self.truncated_days: list[int] = []

    @property
    def active(self) -> bool:
        return self.ids.size > 0

    def buffers(self) -> tuple[np.ndarray, np.ndarray]:
        """Today's empty per-chunk buffers for the kernel."""
        return (np.zeros((self.n_chunks, self.capacity, K.N_JCOLS), dtype=np.int64),
                np.zeros(self.n_chunks, dtype=np.int64))

    def collect(self, day: int, log: np.ndarray, log_n: np.ndarray) -> None:
        """Keep the rows the kernel wrote today (chunk order = consumer order)."""
        if not self.active:
            return
        if (log_n > self.capacity).any():
            self.truncated_days.append(day + 1)
        for ch in range(self.n_chunks):
            k = min(int(log_n[ch]), self.capacity)
            if k:
                self.rows.append(log[ch, :k].copy())

    def table(self, platform_names: list[str], stage_labels: dict[str, str] | None = None
              ) -> pd.DataFrame:
        """The journal as a table (one row per exposure or day-end event), ordered by consumer,
        then day, then the order things happened in."""
        rows = np.concatenate(self.rows) if self.rows else np.zeros((0, K.N_JCOLS), np.int64)
        stages = [s.name.lower() for s in Stage]
        labels = {s: (stage_labels or {}).get(s, s) for s in stages}
        sources = {int(s): s.name.lower() for s in Source}
        sources.update({K.J_RETENTION: "repurchase cycle", K.J_DAY_END: "day end"})
        purposes = {int(p): p.name.lower() for p in Purpose}
        result = rows[:, K.J_RESULT]
        before = [labels[stages[s]] for s in rows[:, K.J_STAGE_BEFORE]]
        after = [labels[stages[s]] for s in rows[:, K.J_STAGE_AFTER]]
        event = np.where(rows[:, K.J_SOURCE] == K.J_RETENTION, "repeat purchase",
                         np.where(rows[:, K.J_SOURCE] == K.J_DAY_END, "stage decay",
                                  np.where(result & K.R_STOPPED, "touch", "impression")))
        purchase = np.where(result & K.R_FIRST_PURCHASE, "first",
                            np.where(result & K.R_REPEAT_PURCHASE, "repeat", ""))
        table = pd.DataFrame({
            "day": rows[:, K.J_DAY] + 1,
            "consumer": rows[:, K.J_CONSUMER],
            "event": event,
            "platform": [platform_names[p] if p >= 0 else "" for p in rows[:, K.J_PLATFORM]],
            "source": [sources[s] for s in rows[:, K.J_SOURCE]],
            "purpose": [purposes.get(p, "") for p in rows[:, K.J_PURPOSE]],
            "stage_before": before,
            "stage_after": after,
            "stage_change": rows[:, K.J_STAGE_BEFORE] != rows[:, K.J_STAGE_AFTER],
            "stopped": (result & K.R_STOPPED) != 0,
            "engaged": (result & K.R_ENGAGED) != 0,
            "clicked": (result & K.R_CLICKED) != 0,
            "purchase": purchase,
            "trust": rows[:, K.J_TRUST_PPM] / 1e6,
        }, columns=JOURNEY_COLUMNS)
        return table.sort_values(["consumer", "day"], kind="stable").reset_index(drop=True)
