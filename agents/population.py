"""The population: segments (personas) turned into per-consumer trait arrays.

Each consumer belongs to one segment. Within a segment, traits vary around the segment's value with
standard deviation ``trait_sd`` (clipped to [0, 1]), so that a segment is a distribution and not a
clone army. Platform use is drawn per consumer (a segment's ``share`` of users per platform); daily
activity is the segment's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from platforms.content import Hook


@dataclass
class Population:
    """Per-consumer traits (structure of arrays, one entry per consumer).

    Attributes:
        segment: int16 segment index.
        uses: uint32 bit mask of the platforms the consumer uses (bit p = platform p).
        activity: float64 (segments x platforms), P(open the platform on a day) for users.
        ad_skepticism, peer_susceptibility, price_sensitivity, baseline_trust: float64 in [0, 1].
        hooks: uint8 bit mask of the hooks that resonate (bit h = Hook h).
        professional, in_market: uint8 flags.
        segment_names: the segments' names, by index.
    """

    segment: np.ndarray
    uses: np.ndarray
    activity: np.ndarray
    ad_skepticism: np.ndarray
    peer_susceptibility: np.ndarray
    price_sensitivity: np.ndarray
    baseline_trust: np.ndarray
    hooks: np.ndarray
    professional: np.ndarray
    in_market: np.ndarray
    segment_names: list[str]

    @property
    def size(self) -> int:
        return int(self.segment.shape[0])


def build_population(n: int, segments, platforms: list[str], trait_sd: float,
                     seed: np.random.SeedSequence | int) -> Population:
    """Draw ``n`` consumers from the scenario's segments.

    Args:
        n: number of consumers.
        segments: the scenario's segments (objects with name, share, platforms, traits, hooks).
        platforms: platform names in kernel order (bit p of ``uses`` is ``platforms[p]``).
        trait_sd: spread of traits within a segment.
        seed: seed for this set-up stream (a SeedSequence or an int).
    """
    rng = np.random.default_rng(seed)
    shares = np.array([s.share for s in segments], dtype=np.float64)
    counts = _largest_remainder(n, shares / shares.sum())
    segment = rng.permutation(np.repeat(np.arange(len(segments), dtype=np.int16), counts))
    col = {name: p for p, name in enumerate(platforms)}
    n_seg, n_plat = len(segments), len(platforms)
    use_share = np.zeros((n_seg, n_plat))
    activity = np.zeros((n_seg, n_plat))
    for k, seg in enumerate(segments):
        for name, use in seg.platforms.items():
            share, act = (1.0, float(use)) if isinstance(use, int | float) else (use.share,
                                                                                   use.activity)
            use_share[k, col[name]] = share
            activity[k, col[name]] = act
    draws = rng.random((n, n_plat))
    uses_bits = draws < use_share[segment]
    uses = (uses_bits.astype(np.uint32) << np.arange(n_plat, dtype=np.uint32)).sum(
        axis=1, dtype=np.uint32) if n_plat else np.zeros(n, dtype=np.uint32)

    def trait(name: str) -> np.ndarray:
        mean = np.array([getattr(s, name) for s in segments], dtype=np.float64)[segment]
        return np.clip(mean + trait_sd * rng.standard_normal(n), 0.0, 1.0)

    def flag(name: str) -> np.ndarray:
        p = np.array([getattr(s, name) for s in segments], dtype=np.float64)[segment]
        return (rng.random(n) < p).astype(np.uint8)

    hook_masks = np.array([sum(1 << Hook[h.upper()] for h in s.hooks) for s in segments],
                          dtype=np.uint8)
    return Population(
        segment=segment,
        uses=uses,
        activity=activity,
        ad_skepticism=trait("ad_skepticism"),
        peer_susceptibility=trait("peer_susceptibility"),
        price_sensitivity=trait("price_sensitivity"),
        baseline_trust=np.array([s.baseline_trust for s in segments])[segment].astype(np.float64),
        hooks=hook_masks[segment],
        professional=flag("professional"),
        in_market=flag("in_market"),
        segment_names=[s.name for s in segments],
    )


def _largest_remainder(n: int, shares: np.ndarray) -> np.ndarray:
    """Split n into integer counts proportional to shares (Hamilton's method)."""
    raw = shares * n
    counts = np.floor(raw).astype(np.int64)
    rest = n - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:rest]] += 1
    return counts
