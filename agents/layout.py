"""Where the per-consumer arrays live in memory: one 128-byte record per consumer.

The state and traits are used as separate arrays (``state.trust``, ``traits.uses``: a structure
of arrays). Those a consumer's day reads are, in memory, the fields of one record per consumer
(numpy views into a structured array, each with a stride of 128 bytes), so that visiting one
consumer touches two cache lines rather than one line in each of some thirty arrays. That is
what a sparse day costs: a cascade visits a few scattered consumers, and each visit waited for
a cache miss per array (half the time of the exposure pass at a million consumers). Dense
passes read every field anyway and are no slower.

Fields of more than one value per consumer per platform (``pre_touches``, ``activity``) and
``shared_prev`` (read from the posters' side, :func:`simulation.kernels.friends_views`) stay
separate arrays.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agents.consumer import ConsumerState
from agents.population import Population

#: Bytes per consumer record: two 64-byte cache lines, the records aligned to lines.
RECORD_BYTES = 128
_LINE = 64

#: The record's fields, widest first so that each is aligned to its size (no padding).
RECORD = np.dtype([
    # 8 bytes
    ("trust", np.float64), ("fatigue", np.float64), ("revenue", np.float64),
    ("ad_skepticism", np.float64), ("peer_susceptibility", np.float64),
    ("price_sensitivity", np.float64), ("baseline_trust", np.float64),
    # 4 bytes
    ("active", np.uint32), ("last_touch_day", np.int32), ("last_engaged_day", np.int32),
    ("last_share_day", np.int32), ("touches", np.int32), ("first_purchase_day", np.int32),
    ("purchases", np.int32), ("follows", np.uint32), ("subscribed", np.uint32),
    ("reached", np.uint32), ("uses", np.uint32), ("shared_now", np.uint32, (3,)),
    # 2 and 1 bytes
    ("segment", np.int16),
    ("stage", np.int8), ("hidden", np.uint8), ("first_platform", np.int8),
    ("first_source", np.int8), ("last_platform", np.int8), ("last_source", np.int8),
    ("purchase_platform", np.int8), ("purchase_source", np.int8), ("influencer", np.uint8),
    ("hooks", np.uint8), ("professional", np.uint8), ("in_market", np.uint8),
], align=True)
assert RECORD.itemsize <= RECORD_BYTES
RECORD = np.dtype({"names": list(RECORD.names),
                   "formats": [RECORD.fields[f][0] for f in RECORD.names],
                   "offsets": [RECORD.fields[f][1] for f in RECORD.names],
                   "itemsize": RECORD_BYTES})


def consumer_records(n: int) -> np.ndarray:
    """``n`` zeroed records (:data:`RECORD`), the first starting on a cache line."""
    raw = np.zeros(n * RECORD_BYTES + _LINE, dtype=np.uint8)
    start = -raw.ctypes.data % _LINE
    return raw[start:start + n * RECORD_BYTES].view(RECORD)


def in_records(state: ConsumerState, population: Population
               ) -> tuple[ConsumerState, Population, np.ndarray]:
    """The same state and population, their record fields moved into one record per consumer.

    Returns:
        ``(state, population, records)``: the state and population hold views into
        ``records`` for the fields of :data:`RECORD` (same values, dtypes and shapes) and their
        other arrays as they were.
    """
    records = consumer_records(population.size)

    def move(name: str, values: np.ndarray) -> np.ndarray:
        if name not in RECORD.names:
            return values
        records[name] = values
        return records[name]

    state = ConsumerState(**{f: move(f, a) for f, a in state._asdict().items()})
    population = dataclasses.replace(population, **{
        f.name: move(f.name, getattr(population, f.name))
        for f in dataclasses.fields(population) if f.name in RECORD.names})
    return state, population, records
