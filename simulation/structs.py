"""The kernels' world: one compiled view of everything a simulated day reads and writes.

The model keeps the consumers' state and traits as namedtuples of numpy arrays
(:mod:`agents.consumer`), which Python code reads directly. The kernels take them, with the day's
parameters, graph and tally arrays, as one numba StructRef holding the *same* arrays (no copy):
writes through either view change the same memory. One StructRef argument is one pointer, where a
namedtuple of 25 arrays is passed by value with a reference count update for each array, about
0.5 us a call; per consumer and per exposure that was most of the engine's time. Numba still
counted references to the StructRef and to each field read, atomically; the kernels therefore
take a :class:`BorrowedWorld` (not counted) and read fields as borrowed views (see
:func:`_define_attributes` for the rule this imposes on kernels). Building a world costs about
40 us (a dispatcher checks each of its fields), so a model builds one, and each day
:func:`set_day` and then :func:`set_friends` change the few fields that differ.
"""

from __future__ import annotations

from numba import njit, types
from numba.core import cgutils, imputils
from numba.core.datamodel import default_manager, models
from numba.core.extending import (
    NativeValue,
    infer_getattr,
    lower_getattr_generic,
    lower_setattr_generic,
    unbox,
)
from numba.core.typing.templates import AttributeTemplate
from numba.experimental import structref

from agents.consumer import ConsumerState, Traits

#: The day's fields beyond the state and traits (see ``FunnelModel.step`` and the kernels).
DAY_FIELDS = (
    # graph and friends' content
    "indptr", "indices", "shared_any", "shared_kinds", "packed", "friend_any", "peer_push",
    "peer_views",
    "complete", "mean_degree", "sharers",
    # influencers today
    "influencer_on", "infl_platform", "infl_creative", "n_influencers",
    # parameters: platforms, creatives, behaviour, credibility, public platforms
    "plat", "cre", "beh", "cred", "public", "peer_creative",
    # today's organic library, ad lines and owned lists
    "lib_off", "lib_cum", "lib_creative", "ad_i", "ad_f", "owned_i", "owned_f",
    # worklists: quiet day?, screened day?, watched consumers (in, out), who posted, per chunk
    "sparse", "screen", "watch_in", "watch_in_n", "watch_out", "watch_out_n", "posters", "posters_n",
    "visits",
    # tallies, per chunk
    "sums", "ev", "ev_line", "ev_post", "stage_counts", "trust_change", "new_reach",
    # the journal of traced consumers
    "traced", "log", "log_n",
)
WORLD_FIELDS = ConsumerState._fields + Traits._fields + DAY_FIELDS


class _UnliteralFields:
    """Fields typed by their values' general types (an int field, not the literal 3)."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class WorldStruct(_UnliteralFields, types.StructRef):
    """Numba type of the kernels' world."""


def _define_attributes(struct_type):
    """Field reads and writes of ``struct_type``, as numba's ``structref.register`` defines
    them, except that reading an array field gives a *borrowed view*: the array without its
    reference-counted owner.

    Numba's own getattr counts a new reference to the array (an atomic increment, and an atomic
    decrement when the local dies) on every ``w.field`` read; the kernels read fields per
    consumer and per exposure, and these atomics were about a third of a cascade's kernel time.
    A view with no owner (a null meminfo, as numba's ``carray`` gives) skips both. It is safe
    because the world (an argument of every kernel) owns the arrays for the whole call; the rule
    that follows: a kernel must not return a world field (or a slice or view of one) to Python,
    nor store a field read into another field or a container: such a view owns nothing and would
    outlive its memory (tests/test_structs.py checks that no compiled kernel taking a world
    returns an array). Writing a field from an owned array (``w.field = a``, as
    :func:`set_friends` does with arrays from Python) counts references as usual.
    """

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


default_manager.register(WorldStruct, models.StructRefModel)
_define_attributes(WorldStruct)


class World(structref.StructRefProxy):
    """Python handle of a :class:`WorldStruct` (Python code reads the model's arrays instead)."""


structref.define_proxy(World, WorldStruct, list(WORLD_FIELDS))


@njit(cache=True)
def _new_world(*fields):
    return World(*fields)


class BorrowedWorldStruct(_UnliteralFields, types.StructRef):
    """Numba type of a world the kernels use without counting references to it (see
    :class:`BorrowedWorld`): the same layout as :class:`WorldStruct`."""


class _UncountedModel(models.StructRefModel):
    """A struct reference numba does not count: passing it to a compiled call, or letting a local
    die, changes no reference count (no atomic increment and decrement per call)."""

    def has_nrt_meminfo(self):
        return False

    def contains_nrt_meminfo(self):
        return False

    def traverse(self, builder):
        return []


class BorrowedWorld(structref.StructRefProxy):
    """Python handle of a :class:`BorrowedWorldStruct`. It holds the world's memory (the same
    MemInfo object as the :class:`World` it came from), so the world lives as long as this
    handle; compiled code only ever receives it as an argument (it never creates, returns or
    keeps one), so no count is needed there. Kernels call helpers with the world for every
    consumer and exposure; counting it was about a tenth of their time."""


default_manager.register(BorrowedWorldStruct, _UncountedModel)
_define_attributes(BorrowedWorldStruct)


@unbox(BorrowedWorldStruct)
def _unbox_borrowed(typ, obj, c):
    """The handle's struct reference, not counted: numba's unboxing of the MemInfo counts one
    (for the callee to release when its argument dies, which an uncounted type never does), so
    it is released here; the handle holds the world for the whole call. (No boxing is defined:
    compiled code cannot return a borrowed world.)"""
    mi_obj = c.pyapi.object_getattr_string(obj, "_meminfo")
    mip_type = types.MemInfoPointer(types.voidptr)
    unboxed = c.unbox(mip_type, mi_obj)
    mi = unboxed.value
    c.context.nrt.decref(c.builder, mip_type, mi)  # (a no-op on the null of a failed unbox)
    out = structref._Utils(c.context, c.builder, typ).new_struct_ref(mi)._getvalue()
    c.pyapi.decref(mi_obj)
    return NativeValue(out, is_error=unboxed.is_error)


def world(state: ConsumerState, traits: Traits, **day) -> BorrowedWorld:
    """The kernels' view of ``state``, ``traits`` and the day's arrays (the :data:`DAY_FIELDS`)."""
    missing = set(DAY_FIELDS) ^ set(day)
    if missing:
        raise TypeError(f"world(): fields missing or unknown: {sorted(missing)}")
    owned = _new_world(*state, *traits, *(day[name] for name in DAY_FIELDS))
    borrowed = _BORROWED.get(owned._type)
    if borrowed is None:  # (a numba type of 115 fields takes about 0.1 ms to build: once)
        borrowed = _BORROWED[owned._type] = BorrowedWorldStruct(
            list(owned._type.field_dict.items()))
    return BorrowedWorld._numba_box_(borrowed, owned._meminfo)


#: The borrowed type of each world type (field types vary with the scenario's arrays).
_BORROWED: dict = {}


@njit(cache=True)
def set_day(w, lib_off, lib_cum, lib_creative, ev_post, sharers, influencer_on, watch_in,
            watch_in_n, watch_out, watch_out_n, no_friends, no_views):
    """Give the model's world ``w`` a new day (see ``FunnelModel.world_for_day``): the day's
    post library, tallies of its posts, sharers and influencer flag, the worklists (swapped
    daily), no friends' posts (pushed, none: a pull would read ``friend_any``) and not quiet;
    the day's tallies cleared. One call of a few microseconds, where building a world takes
    some forty. The arrays must be owned (from Python), not views read from a world (see
    :func:`_define_attributes`)."""
    w.lib_off = lib_off
    w.lib_cum = lib_cum
    w.lib_creative = lib_creative
    w.ev_post = ev_post
    w.sharers = sharers
    w.influencer_on = influencer_on
    w.watch_in = watch_in
    w.watch_in_n = watch_in_n
    w.watch_out = watch_out
    w.watch_out_n = watch_out_n
    set_friends(w, no_friends, True, no_views, False, False)
    # (Writes through field views change the world's arrays: nothing is kept or returned.)
    w.sums[:] = 0.0
    w.ev[:] = 0.0
    w.ev_line[:] = 0.0
    w.stage_counts[:] = 0
    w.trust_change[:] = 0
    w.new_reach[:] = 0
    w.visits[:] = 0
    w.log_n[:] = 0


@njit(cache=True)
def set_friends(w, friend_any, push, peer_views, sparse, screen):
    """Give world ``w`` today's friends' posts and the day's flags, quiet (``sparse``) or
    screened (see ``FunnelModel.step`` and ``FunnelModel._friends_today``). As for
    :func:`set_day`, the arrays must be owned."""
    w.friend_any = friend_any
    w.peer_push = push
    w.peer_views = peer_views
    w.sparse = sparse
    w.screen = screen
