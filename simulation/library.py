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

    def reach(self, idx: np.ndarray, params: PlatformParams) -> np.ndarray:
        """First-day reach of posts ``idx`` (for interest feeds: driven by their engagement)."""
        if params.mechanic != Mechanic.INTEREST_FEED:
            return np.full(idx.shape[0], params.organic_reach)
        impressions = self.impressions[idx]
        rate = self.engagements[idx] / np.maximum(impressions, 1.0)
        reference = params.stop_rate * params.interest_rate
        return interest_feed_reach(rate, impressions, params.test_pool, params.viral_gain,
                                   params.organic_reach, reference)

    def today(self, day: int) -> TodaysLibrary:
        """The live posts and their delivery weights on ``day``."""
        n_plat = len(self.platforms)
        offsets = np.zeros(n_plat + 1, dtype=np.int64)
        cums, cres, posts = [], [], []
        for p, params in enumerate(self.platforms):
            idx = np.flatnonzero(self.platform == p)
            if idx.shape[0]:
                w = library_weights(params.mechanic, day - self.day[idx],
                                    self.reach(idx, params), params.half_life_days,
                                    params.search_rate)
                live = w > _MIN_PULL
                idx, w = idx[live], w[live]
                cums.append(np.cumsum(w))
                cres.append(self.creative[idx])
                posts.append(idx)
            offsets[p + 1] = offsets[p] + (idx.shape[0] if idx.shape[0] else 0)
        def cat(parts, dt):
            return (np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt))
        return TodaysLibrary(offsets, cat(cums, np.float64), cat(cres, np.int64),
                             cat(posts, np.int64))
