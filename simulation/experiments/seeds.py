"""Seeds of a sweep or comparison, derived reproducibly from one base seed.

The base seed (the spec's ``seed``, or the base scenario's) roots a ``numpy.random.SeedSequence``
tree (DESIGN.md section 5)::

    SeedSequence(base)                   # spawn_key ()
      child 0: replicates                # spawn_key (0,)
        replicate r: SeedSequence(base, spawn_key=(0, r)) -> its first 64-bit word >> 1
      child 1: the design sampler        # spawn_key (1,) (random, LHS, Sobol scrambling, Morris)

Replicate ``r`` gets the same seed at every design point and in every compared strategy, so
differences between points or strategies are paired on common random numbers. The seed of a
replicate depends only on (base, r): adding replicates later keeps the earlier ones' seeds.
"""

from __future__ import annotations

import numpy as np

MAX_SEED = 2**63  # the scenario schema's bound on seeds


def replicate_seed(base: int, replicate: int) -> int:
    """The model seed of replicate ``replicate`` (0-based) under base seed ``base``."""
    seq = np.random.SeedSequence(int(base), spawn_key=(0, int(replicate)))
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def replicate_seeds(base: int, count: int) -> list[int]:
    """Seeds of replicates 0..count-1."""
    return [replicate_seed(base, r) for r in range(count)]


def design_seed(base: int) -> int:
    """A 32-bit seed for the design's sampler (SALib takes an int)."""
    seq = np.random.SeedSequence(int(base), spawn_key=(1,))
    return int(seq.generate_state(1, dtype=np.uint32)[0])
