"""The brand's post library: every organic post, its age, and its pull today.

Feeds show a post for a day or two, search keeps it for months; the platform's mechanic and
half-life decide (:mod:`platforms.mechanics`). Interest-feed posts carry their engagement so far,
which sets how far they travel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from platforms.mechanics import Mechanic, interest_feed_reach, library_weights
from platforms.registry import PlatformParams

_MIN_PULL = 1e-4  # posts whose pull has decayed below this are no longer delivered


@dataclass
class TodaysLibrary:
    """The live posts, grouped by platform, as the kernel reads them."""

    offsets: np.ndarray  # int64 (platforms + 1): posts of platform p are [offsets[p], offsets[p+1])
    cumulative: np.ndarray  # float64: cumulative weights within each platform's block
    creative: np.ndarray  # int64: creative of each live post
    post: np.ndarray  # int64: id of each live post in the library


class PostLibrary:
    """All posts published so far (a handful per day, so plain growing arrays)."""

    def __init__(self, platforms: list[PlatformParams]):
        self.platforms = platforms
        # Each platform's parameters as arrays, indexed by platform: today() computes every
        # post's weight in one pass (a loop over the platforms cost ~70 us a day in numpy calls).
        self._par = _ParameterArrays.of(platforms)
        self.platform = np.zeros(0, dtype=np.int64)
        self.day = np.zeros(0, dtype=np.int64)
        self.creative = np.zeros(0, dtype=np.int64)
        self.impressions = np.zeros(0)
        self.engagements = np.zeros(0)

    def __len__(self) -> int:
        return int(self.platform.shape[0])

    def publish(self, posts: list[tuple[int, int]], day: int) -> None:
        if not posts:
            return
        plat, cre = np.array(posts, dtype=np.int64).T
        self.platform = np.concatenate([self.platform, plat])
        self.creative = np.concatenate([self.creative, cre])
        self.day = np.concatenate([self.day, np.full(plat.shape[0], day, dtype=np.int64)])
        self.impressions = np.concatenate([self.impressions, np.zeros(plat.shape[0])])
        self.engagements = np.concatenate([self.engagements, np.zeros(plat.shape[0])])

    def record(self, post: np.ndarray, impressions: np.ndarray, engagements: np.ndarray) -> None:
        """Add a day's organic impressions and engagements to the posts that got them."""
        np.add.at(self.impressions, post, impressions)
        np.add.at(self.engagements, post, engagements)

    def today(self, day: int) -> TodaysLibrary:
        """The live posts and their delivery weights on ``day``: every post's weight in one pass
        of the mechanics' functions, given its platform's parameters."""
        par = self._par
        # Posts grouped by platform, each group in publication order.
        post = np.argsort(self.platform, kind="stable")
        p = self.platform[post]
        organic = par.organic_reach[p]
        # Interest feeds: a post's reach follows its engagement so far; the others, organic reach.
        impressions = self.impressions[post]
        rate = self.engagements[post] / np.maximum(impressions, 1.0)
        reach = np.where(par.mechanic[p] == Mechanic.INTEREST_FEED, interest_feed_reach(
            rate, impressions, par.test_pool[p], par.viral_gain[p], organic, par.reference[p]),
            organic)
        w = library_weights(par.mechanic[p], day - self.day[post], reach, par.half_life[p],
                            par.search_rate[p])
        live = w > _MIN_PULL
        post, w, p = post[live], w[live], p[live]
        offsets = np.zeros(len(self.platforms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(p, minlength=len(self.platforms)), out=offsets[1:])
        cumulative = np.empty_like(w)
        for q in np.flatnonzero(offsets[1:] > offsets[:-1]):  # each platform's own running sum
            np.cumsum(w[offsets[q]:offsets[q + 1]], out=cumulative[offsets[q]:offsets[q + 1]])
        return TodaysLibrary(offsets, cumulative, self.creative[post], post)


@dataclass(frozen=True)
class _ParameterArrays:
    """The platforms' delivery parameters, one entry per platform (see :meth:`PostLibrary.today`)."""

    mechanic: np.ndarray
    organic_reach: np.ndarray
    test_pool: np.ndarray
    viral_gain: np.ndarray
    reference: np.ndarray  # the engagement rate of reach 1: stop rate x interest rate
    half_life: np.ndarray
    search_rate: np.ndarray

    @classmethod
    def of(cls, platforms: list[PlatformParams]) -> _ParameterArrays:
        def col(f, dtype=np.float64):
            return np.array([f(q) for q in platforms], dtype=dtype)

        return cls(
            mechanic=col(lambda q: int(q.mechanic), np.int64),
            organic_reach=col(lambda q: q.organic_reach),
            test_pool=col(lambda q: q.test_pool),
            viral_gain=col(lambda q: q.viral_gain),
            reference=col(lambda q: q.stop_rate * q.interest_rate),
            half_life=col(lambda q: q.half_life_days),
            search_rate=col(lambda q: q.search_rate),
        )
