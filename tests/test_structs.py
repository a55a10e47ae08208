"""The kernels' world (simulation.structs): borrowed, uncounted views must neither leak nor free early."""

import sys

import numpy as np

from simulation import FunnelModel, load_scenario
from simulation import kernels as K
from simulation.structs import set_friends


def _model():
    scenario = load_scenario("scenarios/product_launch.yaml", ["audience.size=2000", "days=5"])
    return FunnelModel(scenario, seed=1).run(2)


def test_kernel_calls_leave_the_world_count_unchanged_and_it_frees_its_arrays():
    model = _model()
    w = model.world_for_day(False, model.library.today(2))
    arrays = [model.state.trust, model._tallies["ev"], model._sums]
    held = [sys.getrefcount(a) for a in arrays]
    assert w._meminfo.refcount == 1
    K.sessions_and_eligibility(np.uint64(5), 2, model.n_chunks, w)
    set_friends(w, np.zeros(0, np.uint32), True, np.zeros(0, np.int64), False, False)  # none to see
    K.exposures_and_responses(np.uint64(5), 2, model.n_chunks, w)
    # Each call unboxes the world once; an uncounted type must give that count back, or every
    # day's world (and the tallies it holds) would leak.
    assert w._meminfo.refcount == 1
    # Field reads are borrowed views: they add no reference to the arrays.
    assert [sys.getrefcount(a) for a in arrays] == held
    del w
    model._world = None  # the model's one world: dropping it releases its arrays
    assert [sys.getrefcount(a) for a in arrays] == [r - 1 for r in held]


def test_one_world_a_model_given_each_day_fresh_tallies_and_releasing_yesterdays_arrays():
    model = _model()
    w = model.world_for_day(False, model.library.today(2))
    K.sessions_and_eligibility(np.uint64(5), 2, model.n_chunks, w)
    K.exposures_and_responses(np.uint64(5), 2, model.n_chunks, w)
    assert model._tallies["ev"].any() and model._tallies["visits"].sum() == model.graph.n
    lib = model.library.today(3)
    before = [sys.getrefcount(a) for a in (lib.offsets, lib.cumulative, lib.creative)]
    assert model.world_for_day(True, lib) is w  # the same world, given the new day
    assert [sys.getrefcount(a) for a in (lib.offsets, lib.cumulative, lib.creative)] == [
        r + 1 for r in before]  # the world holds today's library
    for name in ("ev", "ev_line", "stage_counts", "trust_change", "new_reach", "visits",
                 "log_n"):
        assert not model._tallies[name].any(), name  # cleared for the new day
    model.world_for_day(False, model.library.today(4))
    assert [sys.getrefcount(a) for a in (lib.offsets, lib.cumulative, lib.creative)] == before
    model.trace([3])  # new journal buffers: a new world
    assert model.world_for_day(False, model.library.today(4)) is not w


def test_set_friends_keeps_the_new_arrays_alive_after_the_caller_drops_them():
    model = _model()
    w = model.world_for_day(False, model.library.today(2))
    views = np.arange(3, dtype=np.int64) << 33
    before = sys.getrefcount(views)
    set_friends(w, np.zeros(0, np.uint32), True, views, True, False)
    assert sys.getrefcount(views) == before + 1  # the world holds it
    set_friends(w, np.zeros(0, np.uint32), False, np.zeros(0, np.int64), False, True)
    assert sys.getrefcount(views) == before  # and lets it go when replaced


def test_no_compiled_function_taking_a_world_returns_an_array():
    """A field read from a world is a view that owns nothing (structs._define_attributes): a
    compiled function taking a world must not hand one back to Python. Checks every version
    compiled or loaded by a run (of the kernels and the structs modules), by its return type."""
    from numba import types
    from numba.core.registry import CPUDispatcher

    from simulation import structs

    model = _model()
    model.run(3)
    world_types = (structs.WorldStruct, structs.BorrowedWorldStruct)

    def holds_array(ty):
        if isinstance(ty, types.Array):
            return True
        return isinstance(ty, types.BaseTuple) and any(holds_array(t) for t in ty.types)

    checked = []
    for module in (K, structs):
        for name in dir(module):
            fn = getattr(module, name)
            if not isinstance(fn, CPUDispatcher):
                continue
            for sig, cres in fn.overloads.items():
                if any(isinstance(t, world_types) for t in sig):
                    checked.append(name)
                    assert not holds_array(cres.signature.return_type), name
    # The passes and the setter were among those checked (the check is not vacuous).
    assert {"sessions_and_eligibility", "exposures_and_responses", "set_friends"} <= set(checked)
