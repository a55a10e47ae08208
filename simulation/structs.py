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
from numba.core import cgutils, imputils
from numba.core.datamodel import default_manager, models
from numba.core.extending import infer_getattr, lower_getattr_generic, lower_setattr_generic
from numba.core.typing.templates import AttributeTemplate
from numba.experimental import structref

from agents.consumer import ConsumerState, Traits

#: The day's fields beyond the state and traits (see ``FunnelModel.step`` and the kernels).
DAY_FIELDS = (
    # graph and friends' content
    "indptr", "indices", "shared_any", "friend_any", "peer_push", "peer_views",
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


class WorldStruct(types.StructRef):
    """Numba type of the kernels' world."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


def _register_borrowing(struct_type):
    """Register ``struct_type`` as numba's ``structref.register`` does, except that reading an
    array field gives a *borrowed view*: the array without its reference-counted owner.

    Numba's own getattr counts a new reference to the array (an atomic increment, and an atomic
    decrement when the local dies) on every ``w.field`` read; the kernels read fields per
    consumer and per exposure, and these atomics were about a third of a cascade's kernel time.
    A view with no owner (a null meminfo, as numba's ``carray`` gives) skips both. It is safe
    because the world (an argument of every kernel) owns the arrays for the whole call; the rule
    that follows: a kernel must not return a world field (or a slice of one) to Python, nor
    keep it beyond the call. Writing a field (``w.field = a``) counts references as usual.
    """
    default_manager.register(struct_type, models.StructRefModel)

    @infer_getattr
    class _Attribute(AttributeTemplate):
        key = struct_type

        def generic_resolve(self, typ, attr):
            return typ.field_dict.get(attr)

    @lower_getattr_generic(struct_type)
    def _getattr(context, builder, typ, val, attr):
        utils = structref._Utils(context, builder, typ)
        value = getattr(utils.get_data_struct(val), attr)
        fieldtype = typ.field_dict[attr]
        if isinstance(fieldtype, types.Array):
            view = cgutils.create_struct_proxy(fieldtype)(context, builder, value=value)
            view.meminfo = cgutils.get_null_value(view.meminfo.type)
            return imputils.impl_ret_untracked(context, builder, fieldtype, view._getvalue())
        return imputils.impl_ret_borrowed(context, builder, fieldtype, value)

    @lower_setattr_generic(struct_type)
    def _setattr(context, builder, sig, args, attr):
        inst_type, val_type = sig.args
        instance, val = args
        data = structref._Utils(context, builder, inst_type).get_data_struct(instance)
        casted = context.cast(builder, val, val_type, inst_type.field_dict[attr])
        old = getattr(data, attr)
        context.nrt.incref(builder, val_type, casted)
        context.nrt.decref(builder, val_type, old)  # last: the new value may be the old one
        setattr(data, attr, casted)

    return struct_type


_register_borrowing(WorldStruct)


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


@njit(cache=True)
def set_friends(w, friend_any, push, peer_views, sparse):
    """Give world ``w`` today's friends' posts and quiet-day flag (see
    ``FunnelModel._friends_today``): a few microseconds, where building a new world takes
    about twenty (every field is an argument the dispatcher checks)."""
    w.friend_any = friend_any
    w.peer_push = push
    w.peer_views = peer_views
    w.sparse = sparse
