"""The consumers' record layout (agents.layout): where the arrays live, never what they hold."""

from __future__ import annotations

import dataclasses

import numpy as np

from agents.consumer import ConsumerState, Traits, new_state
from agents.layout import RECORD, RECORD_BYTES, consumer_records, in_records
from agents.population import Population, build_population
from agents.states import Stage
from simulation import FunnelModel, load_scenario


def _model(size=600):
    return FunnelModel(load_scenario("scenarios/product_launch.yaml",
                                     [f"audience.size={size}", "days=5"]), seed=4)


def test_every_record_field_is_a_state_or_population_field():
    known = set(ConsumerState._fields) | {f.name for f in dataclasses.fields(Population)}
    assert set(RECORD.names) <= known
    assert RECORD.itemsize == RECORD_BYTES == 128
    # Each field is aligned to its own size (the kernels' loads are aligned).
    for name in RECORD.names:
        dtype, offset = RECORD.fields[name][:2]
        assert offset % dtype.base.itemsize == 0, name


def test_records_start_on_a_cache_line():
    for n in (1, 7, 1000):
        assert consumer_records(n).ctypes.data % 64 == 0


def test_model_state_and_traits_are_views_into_one_record_per_consumer():
    m = _model()
    base = m._records
    for name in RECORD.names:
        arr = getattr(m.state, name, None)
        if arr is None:
            arr = getattr(m.traits, name)
        assert np.shares_memory(arr, base), name
        assert arr.strides[0] == RECORD_BYTES, name
        assert arr.flags.aligned, name
    # The population the model keeps is the same memory as the traits the kernels read.
    assert np.shares_memory(m.population.uses, m.traits.uses)
    # Fields outside the record stay separate, contiguous arrays.
    assert m.state.shared_prev.flags.c_contiguous
    assert not np.shares_memory(m.state.pre_touches, base)


def test_moving_into_records_keeps_every_value_dtype_and_shape():
    spec = _model(50).spec
    platforms = spec.platforms_used()
    pop = build_population(500, spec.audience.segments, platforms, 0.1, 3)
    state = new_state(500, len(platforms), pop.baseline_trust)
    state.trust[:] = np.linspace(0, 1, 500)
    state.stage[::3] = 2
    state.shared_now[5] = (1, 2, 3)
    before_state = {f: a.copy() for f, a in state._asdict().items()}
    before_pop = {f: getattr(pop, f).copy() for f in Traits._fields}
    moved, moved_pop, records = in_records(state, pop)
    for f, a in moved._asdict().items():
        assert a.dtype == before_state[f].dtype and a.shape == before_state[f].shape, f
        np.testing.assert_array_equal(a, before_state[f], err_msg=f)
    for f in Traits._fields:
        np.testing.assert_array_equal(getattr(moved_pop, f), before_pop[f], err_msg=f)
    # A write through a view is a write to the record.
    moved.stage[7] = 4
    assert records["stage"][7] == 4


def test_an_agent_setter_writes_the_record_the_kernels_read():
    m = _model()
    m.consumers[11].trust = 0.75
    m.consumers[12].stage = Stage.ENGAGED
    assert m._records["trust"][11] == 0.75 and m._records["stage"][12] == int(Stage.ENGAGED)
