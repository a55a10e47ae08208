"""The post library's daily weights: every post in one pass, equal bit for bit to each
platform's posts computed apart by the mechanics' functions with that platform's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from platforms.mechanics import Mechanic, interest_feed_reach, library_weights
from platforms.presets import PRESETS
from platforms.registry import resolve
from simulation.library import _MIN_PULL, PostLibrary


def _per_platform(library: PostLibrary, day: int):
    """The weights one platform at a time, with scalar parameters (the library's rule)."""
    offsets, cums, creatives, posts = [0], [], [], []
    for p, params in enumerate(library.platforms):
        idx = np.flatnonzero(library.platform == p)
        if params.mechanic == Mechanic.INTEREST_FEED:
            impressions = library.impressions[idx]
            rate = library.engagements[idx] / np.maximum(impressions, 1.0)
            reach = interest_feed_reach(rate, impressions, params.test_pool, params.viral_gain,
                                        params.organic_reach,
                                        params.stop_rate * params.interest_rate)
        else:
            reach = np.full(idx.shape[0], params.organic_reach)
        w = library_weights(params.mechanic, day - library.day[idx], reach,
                            params.half_life_days, params.search_rate)
        idx, w = idx[w > _MIN_PULL], w[w > _MIN_PULL]
        offsets.append(offsets[-1] + idx.shape[0])
        cums.append(np.cumsum(w))
        creatives.append(library.creative[idx])
        posts.append(idx)
    return np.array(offsets), np.concatenate(cums), np.concatenate(creatives), np.concatenate(posts)


@pytest.mark.parametrize("seed", range(6))
def test_todays_weights_match_each_platform_computed_apart(seed):
    rng = np.random.default_rng(seed)
    names = list(rng.choice(sorted(PRESETS), size=int(rng.integers(1, 9)), replace=False))
    library = PostLibrary([resolve(name) for name in names])
    mechanics = {Mechanic(q.mechanic) for q in library.platforms}
    for day in range(120):
        posts = [(int(rng.integers(len(names))), int(rng.integers(5)))
                 for _ in range(int(rng.poisson(1.5)))]
        library.publish(posts, day)
        lib = library.today(day)
        expected = _per_platform(library, day)
        for got, want in zip((lib.offsets, lib.cumulative, lib.creative, lib.post), expected,
                             strict=True):
            assert got.dtype == want.dtype and np.array_equal(got, want), day
        # Feed the interest feeds' reach: impressions and engagements for the live posts.
        shown = rng.poisson(40.0, lib.post.shape[0]).astype(np.float64)
        library.record(lib.post, shown, rng.binomial(shown.astype(np.int64), 0.05))
    assert len(library) > 100 and mechanics  # (a real mix: posts on every drawn platform)


def test_an_empty_library_has_no_live_posts():
    library = PostLibrary([resolve("tiktok"), resolve("email")])
    lib = library.today(3)
    assert lib.offsets.tolist() == [0, 0, 0] and lib.cumulative.shape == (0,)
