"""The brand: a Mesa agent that executes the strategy day by day.

Each day the brand publishes the posts its content calendar schedules, turns each paid and
retargeting line's daily budget into impressions (budget / CPM x 1,000), has its influencers post
and sends to its owned lists. It decides *what* goes out; the platforms' mechanics (in the kernels)
decide who sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np


def scheduled(day: int, per_week: float) -> int:
    """Posts due on ``day`` (0-based) for a cadence of ``per_week``, spread evenly.

    Over any 7 consecutive days the count is ``per_week`` rounded down or up, and over a run it
    adds up exactly: ``floor((day + 1) * per_week / 7) - floor(day * per_week / 7)``.
    """
    return int(np.floor((day + 1) * per_week / 7.0 + 1e-9) - np.floor(day * per_week / 7.0 + 1e-9))


@dataclass(frozen=True)
class OrganicPlan:
    platform: int
    creative: int
    posts_per_week: float
    cost_per_post: float


@dataclass(frozen=True)
class AdPlan:
    platform: int
    creative: int
    daily_budget: float
    cpm: float


@dataclass(frozen=True)
class InfluencerPlan:
    platform: int
    creative: int
    count: int
    posts_per_week: float
    fee: float
    campaign_days: int | None = None  # posts only during the first N days (None: all days)


@dataclass(frozen=True)
class OwnedPlan:
    platform: int
    creative: int
    sends_per_week: float
    cost_per_send: float


@dataclass
class DailyActions:
    """What the brand does on one day."""

    posts: list[tuple[int, int]] = field(default_factory=list)  # (platform, creative)
    impressions: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per ad line
    influencer_posts: int = 0  # posts per influencer today
    sends: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # per owned line
    fixed_costs: dict[int, float] = field(default_factory=dict)  # platform -> $ (content, fees)


class Brand(mesa.Agent):
    """The advertiser. ``act(day)`` returns the day's :class:`DailyActions`."""

    def __init__(self, model, organic: list[OrganicPlan], ads: list[AdPlan],
                 influencers: InfluencerPlan | None, owned: list[OwnedPlan]):
        super().__init__(model)
        self.organic = organic
        self.ads = ads
        self.influencers = influencers
        self.owned = owned

    def publish(self, day: int, actions: DailyActions) -> None:
        """Organic posts the content calendar schedules today, and their production cost."""
        for stream in self.organic:
            for _ in range(scheduled(day, stream.posts_per_week)):
                actions.posts.append((stream.platform, stream.creative))
                _add(actions.fixed_costs, stream.platform, stream.cost_per_post)

    def buy_impressions(self, day: int, actions: DailyActions) -> None:
        """Each ad line's daily budget as impressions at its platform's CPM."""
        actions.impressions = np.array(
            [a.daily_budget / a.cpm * 1000.0 if a.cpm > 0 else 0.0 for a in self.ads])

    def brief_influencers(self, day: int, actions: DailyActions) -> None:
        """Influencer posts due today, paid per influencer per post."""
        plan = self.influencers
        if plan is None or plan.count == 0:
            return
        if plan.campaign_days is not None and day >= plan.campaign_days:
            return
        actions.influencer_posts = scheduled(day, plan.posts_per_week)
        _add(actions.fixed_costs, plan.platform, actions.influencer_posts * plan.count * plan.fee)

    def send(self, day: int, actions: DailyActions) -> None:
        """Which owned lists get a send today."""
        actions.sends = np.array([scheduled(day, o.sends_per_week) > 0 for o in self.owned],
                                 dtype=bool)

    def act(self, day: int) -> DailyActions:
        """Everything the brand does on ``day``."""
        actions = DailyActions()
        self.publish(day, actions)
        self.buy_impressions(day, actions)
        self.brief_influencers(day, actions)
        self.send(day, actions)
        return actions


def _add(costs: dict[int, float], platform: int, amount: float) -> None:
    if amount:
        costs[platform] = costs.get(platform, 0.0) + amount
