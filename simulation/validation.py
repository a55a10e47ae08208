"""Reductions of the general model to models with known answers (Rand & Rust 2011: verification).

Each builder returns an ordinary :class:`~simulation.scenario.Scenario`: the same engine, the same
kernels, only parameters chosen so that the funnel collapses to a textbook process. Nothing here adds
a code path to the engine; the theory functions give the answers the runs must reproduce.

* :func:`bass_scenario`: the Bass (1969) diffusion model. A fully mixed population; every consumer
  meets ``contacts_per_day`` random others a day and sees one ad a day; an ad persuades with
  probability ``p``, a customer met persuades with probability ``q``; one persuasion is a purchase
  (all intermediate stages are passed straight through). Cumulative adopters: column ``adopters`` of
  the timeseries. Theory: :func:`bass_curve`.
* :func:`cascade_scenario`: an independent cascade on an Erdos-Renyi graph. ``seeds`` random
  consumers post once (day 1); every consumer who engages shares once, and each friend who sees a
  share engages: each edge transmits with probability ``transmissibility`` exactly once. Cumulative
  engaged consumers (seeds included): column ``ever_engaged``. Theory: :func:`percolation_size`,
  :func:`small_outbreak_mean`.
"""

from __future__ import annotations

import math

import numpy as np

from simulation.scenario import Scenario, load_scenario

#: The platform of the reductions: every rate that is not the process's own is 0 or 1.
_PASS_THROUGH = {
    "mechanic": "social_feed",
    "stop_rate": 1.0,
    "interest_rate": 1.0,
    "trust_gain": 0.0,
    "conversion_rate": 1.0,
    "click_rate": 1.0,
    "organic_reach": 0.0,
    "share_rate": 0.0,
    "follow_rate": 0.0,
    "cpm": 1.0,
    "targeting_precision": 0.0,
    "retargeting": False,
    "shoppable": False,
}

#: Behaviour that turns every persuasion into the next stage at once (no thresholds, no friction).
_ALL_ONE = {"attention": 1.0, "trust": 1.0, "action": 1.0}
_INSTANT = {
    "purpose_engagement": _ALL_ONE,
    "purpose_click": _ALL_ONE,
    "skepticism_weight": 0.0,
    "hook_miss": 1.0,
    "trust_threshold": 0.0,
    "fatigue_per_ad": 0.0,
    "early_sell_trust_loss": 0.0,
    "early_sell_fatigue": 0.0,
    "peer_quality": 1.0,
    "referral_rate": 0.0,
    "trait_sd": 0.0,
}

#: Ad impressions bought per consumer per day in the Bass reduction. Delivery is Poisson with this
#: mean, capped at one a day, so P(no ad on a day) = e^-60: every consumer sees exactly one ad.
_ADS_PER_CONSUMER = 60.0


def _segment(platform: str, baseline_trust: float) -> dict:
    return {
        "name": "everyone", "share": 1.0,
        "platforms": {platform: {"share": 1.0, "activity": 1.0}},
        "ad_skepticism": 0.0, "peer_susceptibility": 0.5, "price_sensitivity": 0.0,
        "in_market": 0.0, "professional": 0.0, "baseline_trust": baseline_trust,
    }


def bass_scenario(p: float, q: float, size: int, days: int, *, network: str = "complete",
                  mean_degree: float = 1.0, seed: int = 0) -> Scenario:
    """The Bass model as a scenario.

    Args:
        p: coefficient of innovation, per day: P(an ad persuades a non-adopter).
        q: coefficient of imitation, per day: P(adopting | meeting one adopter); the daily hazard
            from word of mouth is ``q`` times the adopters' share among the consumers met.
        size: consumers.
        days: days to simulate.
        network: ``complete`` (fully mixed, the Bass assumption) or a sparse generator
            (``watts_strogatz``, ``erdos_renyi``, ...). On a graph each consumer sees each friend
            who adopted with probability ``1 / mean_degree`` a day, so that the expected number of
            adopters met is the same as in the mixed population.
        mean_degree: contacts per day when fully mixed; friends per consumer on a graph.
        seed: the run's seed.

    Returns:
        A scenario whose timeseries column ``adopters`` is the cumulative number of adopters.
        One day's adoption probability is ``1 - (1 - p)(1 - q F)``, the Bass hazard ``p + q F``
        less the overlap ``p q F`` of the two channels (at most ``p q`` a day).
    """
    mixed = network == "complete"
    data = {
        "name": f"bass_p{p:g}_q{q:g}",
        "description": "Reduction to the Bass (1969) model: ads (p) and word of mouth (q); every "
                       "persuasion is a purchase.",
        "days": days, "seed": seed, "materialize_agents": False,
        "audience": {
            "size": size,
            "network": {"model": network, "mean_degree": mean_degree},
            "segments": [_segment("market", 1.0)],
        },
        "product": {"price": 1.0, "repurchase_days": None},
        "platforms": {"market": dict(_PASS_THROUGH)},
        "strategy": {"paid": [{
            "platform": "market", "daily_budget": size * _ADS_PER_CONSUMER / 1000.0,
            "frequency_cap": 1, "purpose": "action", "quality": 1.0, "format": "image",
        }]},
        "behavior": {
            **_INSTANT,
            "credibility": {"paid": p, "peer": q, "referral": 0.0, "organic": 1.0,
                            "retargeting": 1.0, "influencer": 1.0, "owned": 1.0},
            # Adopters talk every day; each contact is seen (mixed) or each friend with 1/k.
            "review_rate": 1.0, "customer_talk_rate": 1.0,
            "peer_view_prob": 1.0 if mixed else min(1.0, 1.0 / mean_degree),
            "advocate_trust": 1.0,
        },
    }
    return load_scenario(data)


def cascade_scenario(n: int, mean_degree: float, transmissibility: float, seeds: int = 1, *,
                     days: int = 80, seed: int = 0) -> Scenario:
    """An independent cascade on an Erdos-Renyi graph as a scenario.

    Args:
        n: consumers.
        mean_degree: mean friends per consumer (c).
        transmissibility: P(an edge passes the cascade on), T.
        seeds: consumers who start it (seeded influencers posting once, on day 1).
        days: days to simulate (a cascade moves one generation a day).
        seed: the run's seed (graph, seeds and draws).

    Returns:
        A scenario whose timeseries column ``ever_engaged`` is the cumulative cascade size,
        seeds included.
    """
    platform = {**_PASS_THROUGH, "share_rate": 1.0, "click_rate": 0.0, "conversion_rate": 0.0}
    data = {
        "name": f"cascade_c{mean_degree:g}_T{transmissibility:g}",
        "description": "Reduction to the independent cascade model (bond percolation).",
        "days": days, "seed": seed, "materialize_agents": False,
        "audience": {
            "size": n,
            "network": {"model": "erdos_renyi", "mean_degree": mean_degree},
            "segments": [_segment("network", 0.15)],
        },
        "platforms": {"network": platform},
        "strategy": {"influencers": {
            "count": seeds, "selection": "random", "platform": "network", "posts_per_week": 7.0,
            "campaign_days": 1, "purpose": "attention", "quality": 1.0, "fee": 0.0,
        }},
        "behavior": {
            **_INSTANT,
            "credibility": {"peer": 1.0, "influencer": 1.0, "referral": 1.0, "organic": 1.0,
                            "paid": 1.0, "retargeting": 1.0, "owned": 1.0},
            "peer_view_prob": transmissibility, "influencer_reach": transmissibility,
            "reshare_after_days": 100_000, "review_rate": 0.0, "customer_talk_rate": 0.0,
        },
    }
    return load_scenario(data)


# --- theory ---------------------------------------------------------------------------------------


def bass_curve(p: float, q: float, days: int) -> np.ndarray:
    """Cumulative adopter share after each day, by the discrete Bass recursion
    ``F(t+1) = F(t) + (p + q F(t)) (1 - F(t))``, ``F(0) = 0``. Length ``days``."""
    f, out = 0.0, np.empty(days)
    for t in range(days):
        f = f + (p + q * f) * (1.0 - f)
        out[t] = f
    return out


def bass_closed_form(p: float, q: float, t: np.ndarray) -> np.ndarray:
    """The continuous Bass solution ``F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})``."""
    e = np.exp(-(p + q) * np.asarray(t, dtype=np.float64))
    return (1.0 - e) / (1.0 + (q / p) * e)


def percolation_size(c: float, t: float) -> float:
    """Share S of the giant outbreak: the root of ``S = 1 - exp(-c T S)`` (0 below threshold)."""
    r = c * t
    if r <= 1.0:
        return 0.0
    s = 1.0
    for _ in range(200):
        s = 1.0 - math.exp(-r * s)
    return s


def small_outbreak_mean(c: float, t: float) -> float:
    """Mean outbreak size from one seed below the threshold, seed included: ``1 / (1 - c T)``."""
    r = c * t
    if r >= 1.0:
        return math.inf
    return 1.0 / (1.0 - r)
