"""Counter-based random streams.

Every decision draws a uniform number that is a pure function of (run key, day, consumer, tag),
where the tag names the decision (its kind, platform, source and index). So results do not depend
on the order consumers are processed in or on the number of threads, and two strategies run with
the same seed share their random numbers wherever they ask the same question (common random
numbers: paired comparisons with far smaller variance).

The mixer is SplitMix64's finaliser (Steele, Lea & Flood 2014), a bijection of 64-bit words with
full avalanche; chaining it over the key parts gives a hash-based generator in the manner of
Salmon et al. (2011), "Parallel random numbers: as easy as 1, 2, 3". Tests check uniformity and
independence of neighbouring counters.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

# Decision kinds (the high bits of a tag). New kinds go at the end to keep old streams stable.
SESSION = 1
EXPOSURE = 2
RESPONSE = 3
SHARE = 4
RETENTION = 5
DECAY = 6
DELIVERY = 7


@njit(cache=True, inline="always")
def mix(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser: a bijective 64-bit mixer."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def subkey(key: np.uint64, part: np.int64) -> np.uint64:
    """Derive the key of a sub-stream (a day, a consumer) from its parent's key."""
    return mix(key ^ (np.uint64(part) * _GOLDEN + _GOLDEN))


@njit(cache=True, inline="always")
def uniform(key: np.uint64, tag: np.int64) -> float:
    """A uniform number in [0, 1) for decision ``tag`` of the stream ``key``."""
    return float(mix(key ^ (np.uint64(tag) * _M2 + _GOLDEN)) >> _S11) * _TO_UNIT


@njit(cache=True, inline="always")
def make_tag(kind: int, platform: int, source: int, index: int) -> np.int64:
    """Pack a decision's identity into one integer (index < 2**40)."""
    return np.int64((((kind * 64 + platform) * 16 + source) << 40) + index)


def run_key(seed: int) -> np.uint64:
    """The root key of a run, derived from its seed through numpy's SeedSequence."""
    state = np.random.SeedSequence(int(seed)).generate_state(1, dtype=np.uint64)
    return np.uint64(state[0])


def day_key(key: np.uint64, day: int) -> np.uint64:
    """The key of one day's stream (computed once per day in Python)."""
    return np.uint64(_subkey_py(np.uint64(key), day))


@njit(cache=True)
def _subkey_py(key, part):
    return subkey(key, part)


@njit(cache=True)
def uniforms(key: np.uint64, consumers: np.ndarray, tag: int) -> np.ndarray:
    """Vector of draws for many consumers of one day key (used by tests and set-up)."""
    out = np.empty(consumers.shape[0], dtype=np.float64)
    for j in range(consumers.shape[0]):
        out[j] = uniform(subkey(key, consumers[j]), tag)
    return out
