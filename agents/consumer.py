"""Consumers: the state arrays, and ``Consumer``, the Mesa agent that is a view onto one entry.

The daily process runs on the arrays (structure of arrays, compiled kernels). Each ``Consumer`` is a
real ``mesa.Agent`` whose attributes are properties reading and writing those arrays, so
``model.agents``, agent selection and inspection work the Mesa way while the step never loops over
agents in Python.
"""

from __future__ import annotations

from collections import namedtuple

import mesa
import numpy as np

from agents.states import Source, Stage

#: Per-consumer state arrays (a namedtuple so the numba kernels can take it as one argument).
ConsumerState = namedtuple("ConsumerState", [
    "stage",  # int8, Stage
    "trust",  # float64 in [0, 1]
    "fatigue",  # float64 >= 0, from sponsored exposures (and selling too early)
    "hidden",  # uint8, 1 once the consumer hides the brand's ads
    "active",  # uint32 bit mask: platforms opened today
    "last_touch_day",  # int32, day of the last stop (-1: never)
    "last_engaged_day",  # int32, day of the last engagement (very negative: never)
    "last_share_day",  # int32, day of the last share of brand content (very negative: never)
    "touches",  # int32, stops of brand-related content, all time
    "pre_touches",  # int32 (consumers x platforms), stops before the first purchase
    "first_platform", "first_source",  # int8, the first touch (-1: none)
    "last_platform", "last_source",  # int8, the latest touch
    "purchase_platform", "purchase_source",  # int8, the touch that made the first purchase
    "first_purchase_day",  # int32 (-1: not a customer)
    "purchases",  # int32
    "revenue",  # float64, $
    "follows",  # uint32 bit mask: follows the brand on platform p
    "subscribed",  # uint32 bit mask: on the brand's owned list on platform p
    "reached",  # uint32 bit mask: ever shown brand content on platform p
    "influencer",  # uint8, seeded influencer
    "shared_prev",  # uint32 (consumers x 3): yesterday's shares, reviews, referrals by platform
    "shared_now",  # uint32 (consumers x 3): today's
])

#: Per-consumer traits, fixed for a run (see agents.population.Population).
Traits = namedtuple("Traits", [
    "segment", "uses", "activity", "ad_skepticism", "peer_susceptibility", "price_sensitivity",
    "baseline_trust", "hooks", "professional", "in_market",
])


def new_state(n: int, n_platforms: int, baseline_trust: np.ndarray) -> ConsumerState:
    """Fresh state for ``n`` unaware consumers on ``n_platforms`` platforms."""

    def minus_one(dtype):
        return np.full(n, -1, dtype=dtype)

    return ConsumerState(
        stage=np.zeros(n, dtype=np.int8),
        trust=baseline_trust.astype(np.float64).copy(),
        fatigue=np.zeros(n), hidden=np.zeros(n, dtype=np.uint8),
        active=np.zeros(n, dtype=np.uint32),
        last_touch_day=minus_one(np.int32), last_engaged_day=np.full(n, -10**6, dtype=np.int32),
        last_share_day=np.full(n, -10**6, dtype=np.int32),
        touches=np.zeros(n, dtype=np.int32),
        pre_touches=np.zeros((n, max(n_platforms, 1)), dtype=np.int32),
        first_platform=minus_one(np.int8), first_source=minus_one(np.int8),
        last_platform=minus_one(np.int8), last_source=minus_one(np.int8),
        purchase_platform=minus_one(np.int8), purchase_source=minus_one(np.int8),
        first_purchase_day=minus_one(np.int32),
        purchases=np.zeros(n, dtype=np.int32), revenue=np.zeros(n),
        follows=np.zeros(n, dtype=np.uint32), subscribed=np.zeros(n, dtype=np.uint32),
        reached=np.zeros(n, dtype=np.uint32), influencer=np.zeros(n, dtype=np.uint8),
        shared_prev=np.zeros((n, 3), dtype=np.uint32), shared_now=np.zeros((n, 3), dtype=np.uint32),
    )


class Consumer(mesa.Agent):
    """One consumer: a view onto entry ``index`` of the model's state arrays.

    Reading ``consumer.trust`` reads ``model.state.trust[index]``; setting it writes there. The
    agent has no step of its own: the model's kernels move every consumer at once.
    """

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index

    # -- state ---------------------------------------------------------------------------------

    @property
    def stage(self) -> Stage:
        return Stage(int(self.model.state.stage[self.index]))

    @stage.setter
    def stage(self, value: Stage) -> None:
        self.model.state.stage[self.index] = int(Stage(value))
        self.model.state_changed()

    @property
    def trust(self) -> float:
        return float(self.model.state.trust[self.index])

    @trust.setter
    def trust(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"trust must be in [0, 1], got {value}")
        self.model.state.trust[self.index] = value
        self.model.state_changed()

    @property
    def fatigue(self) -> float:
        return float(self.model.state.fatigue[self.index])

    @property
    def touches(self) -> int:
        return int(self.model.state.touches[self.index])

    @property
    def purchases(self) -> int:
        return int(self.model.state.purchases[self.index])

    @property
    def revenue(self) -> float:
        return float(self.model.state.revenue[self.index])

    @property
    def hides_ads(self) -> bool:
        return bool(self.model.state.hidden[self.index])

    @property
    def is_influencer(self) -> bool:
        return bool(self.model.state.influencer[self.index])

    # -- traits --------------------------------------------------------------------------------

    @property
    def segment(self) -> str:
        pop = self.model.population
        return pop.segment_names[int(pop.segment[self.index])]

    @property
    def platforms(self) -> list[str]:
        """Platforms this consumer uses."""
        return self._platforms_in(self.model.population.uses[self.index])

    @property
    def follows(self) -> list[str]:
        """Platforms on which this consumer follows the brand."""
        return self._platforms_in(self.model.state.follows[self.index])

    @property
    def subscribed(self) -> list[str]:
        """Owned lists (email, SMS) this consumer is subscribed to."""
        return self._platforms_in(self.model.state.subscribed[self.index])

    @property
    def first_touch(self) -> tuple[str, str] | None:
        """(platform, source) of the first touch, or None."""
        return self._touch(self.model.state.first_platform, self.model.state.first_source)

    @property
    def last_touch(self) -> tuple[str, str] | None:
        """(platform, source) of the latest touch, or None."""
        return self._touch(self.model.state.last_platform, self.model.state.last_source)

    @property
    def friends(self) -> np.ndarray:
        """Indices of this consumer's friends in the social graph."""
        g = self.model.graph
        return g.indices[g.indptr[self.index]:g.indptr[self.index + 1]]

    def _platforms_in(self, mask) -> list[str]:
        return [p for b, p in enumerate(self.model.platform_names) if (int(mask) >> b) & 1]

    def _touch(self, platforms, sources):
        p = int(platforms[self.index])
        if p < 0:
            return None
        return self.model.platform_names[p], Source(int(sources[self.index])).name.lower()

    def __repr__(self) -> str:
        return (f"Consumer({self.index}, stage={self.stage.name.lower()}, trust={self.trust:.2f}, "
                f"touches={self.touches}, purchases={self.purchases})")
