"""Compiled views of the consumers' state and traits, for the kernels.

The model keeps the state and traits as namedtuples of numpy arrays (:mod:`agents.consumer`), which
Python code reads directly. The kernels take them as numba StructRefs holding the *same* arrays:
a StructRef passes to a compiled helper as one pointer, while a namedtuple of 25 arrays is passed
by value with a reference-count update for every array, about 0.5 us a call; per consumer and
exposure that was most of the engine's time. Writes through either view change the same memory.
"""

from __future__ import annotations

from numba import njit, types
from numba.experimental import structref

from agents.consumer import ConsumerState, Traits


@structref.register
class StateStruct(types.StructRef):
    """Numba type of the kernels' view of :class:`agents.consumer.ConsumerState`."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


@structref.register
class TraitsStruct(types.StructRef):
    """Numba type of the kernels' view of :class:`agents.consumer.Traits`."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class StateView(structref.StructRefProxy):
    """Python handle of a :class:`StateStruct` (the model reads the namedtuple instead)."""


class TraitsView(structref.StructRefProxy):
    """Python handle of a :class:`TraitsStruct`."""


structref.define_proxy(StateView, StateStruct, list(ConsumerState._fields))
structref.define_proxy(TraitsView, TraitsStruct, list(Traits._fields))


@njit(cache=True)
def _new_state(*arrays):
    return StateView(*arrays)


@njit(cache=True)
def _new_traits(*arrays):
    return TraitsView(*arrays)


def state_view(state: ConsumerState) -> StateView:
    """The kernels' view of ``state`` (same arrays, no copy)."""
    return _new_state(*state)


def traits_view(traits: Traits) -> TraitsView:
    """The kernels' view of ``traits`` (same arrays, no copy)."""
    return _new_traits(*traits)
