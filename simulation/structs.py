"""The kernels' world: one compiled view of everything a simulated day reads and writes.

The model keeps the consumers' state and traits as namedtuples of numpy arrays
(:mod:`agents.consumer`), which Python code reads directly. The kernels take them, with the day's
parameters, graph and tally arrays, as one numba StructRef holding the *same* arrays (no copy):
writes through either view change the same memory. One StructRef argument is one pointer and one
reference count, where a namedtuple of 25 arrays is passed by value with a reference count update
for each array, about 0.5 us a call; per consumer and per exposure that was most of the engine's
time. Building the view costs about 6 us, so the model builds a fresh one each day.
"""

from __future__ import annotations

from numba import njit, types
from numba.experimental import structref

from agents.consumer import ConsumerState, Traits

#: The day's fields beyond the state and traits (see ``FunnelModel.step`` and the kernels).
DAY_FIELDS = (
    # graph and friends' content
    "indptr", "indices", "shared_any", "friend_any", "peer_push", "peer_at", "peer_key",
    "complete", "mean_degree", "sharers",
    # influencers today
    "influencer_on", "infl_platform", "infl_creative", "n_influencers",
    # parameters: platforms, creatives, behaviour, credibility, public platforms
    "plat", "cre", "beh", "cred", "public", "peer_creative",
    # today's organic library, ad lines and owned lists
    "lib_off", "lib_cum", "lib_creative", "ad_i", "ad_f", "owned_i", "owned_f",
    # worklists: quiet day?, watched consumers (in, out), who posted, per chunk
    "sparse", "watch_in", "watch_in_n", "watch_out", "watch_out_n", "posters", "posters_n",
    "visits",
    # tallies, per chunk
    "sums", "ev", "ev_line", "ev_post", "stage_counts", "trust_change", "new_reach",
    # the journal of traced consumers
    "traced", "log", "log_n",
)
WORLD_FIELDS = ConsumerState._fields + Traits._fields + DAY_FIELDS


@structref.register
class WorldStruct(types.StructRef):
    """Numba type of the kernels' world."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class World(structref.StructRefProxy):
    """Python handle of a :class:`WorldStruct` (Python code reads the model's arrays instead)."""


structref.define_proxy(World, WorldStruct, list(WORLD_FIELDS))


@njit(cache=True)
def _new_world(*fields):
    return World(*fields)


def world(state: ConsumerState, traits: Traits, **day) -> World:
    """The kernels' view of ``state``, ``traits`` and the day's arrays (the :data:`DAY_FIELDS`)."""
    missing = set(DAY_FIELDS) ^ set(day)
    if missing:
        raise TypeError(f"world(): fields missing or unknown: {sorted(missing)}")
    return _new_world(*state, *traits, *(day[name] for name in DAY_FIELDS))
