"""Counter-based random streams: uniform, independent across counters, order-free."""

from __future__ import annotations

import numpy as np
from scipy import stats

from simulation.streams import day_key, run_key, uniforms


def test_uniform_distribution():
    u = uniforms(day_key(run_key(1), 0), np.arange(200_000, dtype=np.int64), 7)
    assert ((u >= 0) & (u < 1)).all()
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    # Mean within 5 standard errors of 1/2.
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)


def test_neighbouring_counters_and_tags_are_independent():
    key = day_key(run_key(2), 3)
    ids = np.arange(100_000, dtype=np.int64)
    a, b = uniforms(key, ids, 1), uniforms(key, ids, 2)
    c = uniforms(key, ids + 1, 1)
    for x, y in ((a, b), (a, c)):
        assert abs(np.corrcoef(x, y)[0, 1]) < 5 / np.sqrt(ids.size)


def test_draws_do_not_depend_on_order_and_seeds_differ():
    key = day_key(run_key(3), 9)
    ids = np.arange(1000, dtype=np.int64)
    perm = np.random.default_rng(0).permutation(ids)
    assert np.array_equal(uniforms(key, ids, 4)[perm], uniforms(key, perm, 4))
    assert not np.array_equal(uniforms(key, ids, 4), uniforms(day_key(run_key(4), 9), ids, 4))


def test_global_random_state_untouched(small_flagship):
    import random

    from simulation import run

    py, np_state = random.getstate(), np.random.get_state()
    run(small_flagship, days=3)
    assert random.getstate() == py
    after = np.random.get_state()
    assert all(np.array_equal(x, y) for x, y in zip(np_state, after, strict=True))
