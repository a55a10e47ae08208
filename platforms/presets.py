"""Platform presets: one row of numbers per platform, each with its source.

A scenario may override any field of a preset (``platforms: {facebook: {cpm: 9.0}}``) or define a new
platform by naming a ``mechanic`` and its numbers. Every field is documented with its unit in
docs/ODD.md; the labels [A]-[D] refer to the source articles listed there.

Rates are per delivered item (an impression) unless said otherwise; the four "stage" rates say how
strongly the platform moves each funnel stage:

* ``stop_rate``: P(stop scrolling | impression) for organic content of neutral format and fitting hook.
* ``interest_rate``: P(engage | stop) for attention content of quality 1.
* ``trust_gain``: trust added per stop of trust content of quality 1 (times ``1 - trust``).
* ``conversion_rate``: P(buy | click) of a trusting consumer with trust 1 and no price friction.
"""

from __future__ import annotations

from platforms.mechanics import Mechanic

#: The fields of a platform and their sources, shared by every preset unless a preset says otherwise.
FIELD_SOURCES: dict[str, str] = {
    "mechanic": "[B] platform descriptions",
    "stop_rate": "assumption, ordered by [B] (YouTube and Pinterest are searched with intent)",
    "interest_rate": "assumption",
    "trust_gain": "assumption, ordered by [B] (YouTube builds trust most, TikTok least)",
    "conversion_rate": "assumption; email set so that clicks convert at ~10.1% [B]",
    "click_rate": "assumption",
    "organic_reach": "assumption (public benchmarks put Facebook organic reach at ~2-6%)",
    "test_pool": "assumption, after [B]: TikTok tests a post on non-followers first",
    "viral_gain": "assumption, after [B]: reach grows with early engagement",
    "search_rate": "assumption",
    "half_life_days": "assumption, after [B]: Pinterest months, TikTok days",
    "share_rate": "assumption",
    "follow_rate": "assumption",
    "cpm": "TikTok $3.50-$7 [B] (midpoint); others: assumption from public 2025 benchmarks",
    "targeting_precision": "assumption, after [B]: Facebook is the platform of targeting",
    "retargeting": "[B]",
    "shoppable": "[B]: shoppable posts on Instagram and Facebook (+25% cart conversion)",
    "formats": "vertical short video +48% engagement vs static [B]; others: assumption",
    "cost_per_send": "assumption (email service pricing, ~$1 per 1,000 sends)",
}

_VERTICAL_VIDEO = 1.48  # +48% engagement of vertical short video over static posts [B]

PRESETS: dict[str, dict] = {
    "facebook": {
        "mechanic": Mechanic.SOCIAL_FEED,
        "stop_rate": 0.15,
        "interest_rate": 0.10,
        "trust_gain": 0.08,
        "conversion_rate": 0.4,
        "click_rate": 0.4,
        "organic_reach": 0.05,
        "half_life_days": 0.5,
        "share_rate": 0.15,
        "follow_rate": 0.10,
        "cpm": 9.0,
        "targeting_precision": 0.8,
        "retargeting": True,
        "shoppable": True,
        "formats": {"short_video": _VERTICAL_VIDEO, "image": 1.0, "carousel": 1.1, "long_video": 0.9,
                    "text": 0.8, "story": 1.1},
    },
    "instagram": {
        "mechanic": Mechanic.SOCIAL_FEED,
        "stop_rate": 0.2,
        "interest_rate": 0.12,
        "trust_gain": 0.1,
        "conversion_rate": 0.35,
        "click_rate": 0.35,
        "organic_reach": 0.08,
        "half_life_days": 1.0,
        "share_rate": 0.12,
        "follow_rate": 0.15,
        "cpm": 8.0,
        "targeting_precision": 0.7,
        "retargeting": True,
        "shoppable": True,
        "formats": {"short_video": _VERTICAL_VIDEO, "image": 1.0, "carousel": 1.15, "story": 1.1},
    },
    "tiktok": {
        "mechanic": Mechanic.INTEREST_FEED,
        "stop_rate": 0.25,
        "interest_rate": 0.12,
        "trust_gain": 0.05,
        "conversion_rate": 0.25,
        "click_rate": 0.3,
        "organic_reach": 0.10,
        "test_pool": 0.02,
        "viral_gain": 4.0,
        "half_life_days": 2.0,
        "share_rate": 0.2,
        "follow_rate": 0.15,
        "cpm": 5.25,
        "targeting_precision": 0.5,
        "retargeting": True,
        "shoppable": True,
        "formats": {"short_video": _VERTICAL_VIDEO, "image": 0.7, "story": 1.0},
    },
    "youtube": {
        "mechanic": Mechanic.SEARCH,
        "stop_rate": 0.4,
        "interest_rate": 0.15,
        "trust_gain": 0.15,
        "conversion_rate": 0.3,
        "click_rate": 0.35,
        "organic_reach": 0.3,
        "search_rate": 0.20,
        "half_life_days": 60.0,
        "share_rate": 0.08,
        "follow_rate": 0.10,
        "cpm": 6.0,
        "targeting_precision": 0.6,
        "retargeting": True,
        "shoppable": False,
        "formats": {"long_video": 1.0, "short_video": _VERTICAL_VIDEO},
    },
    "linkedin": {
        "mechanic": Mechanic.SOCIAL_FEED,
        "stop_rate": 0.15,
        "interest_rate": 0.10,
        "trust_gain": 0.12,
        "conversion_rate": 0.2,
        "click_rate": 0.25,
        "organic_reach": 0.06,
        "half_life_days": 1.0,
        "share_rate": 0.1,
        "follow_rate": 0.10,
        "cpm": 30.0,
        "targeting_precision": 0.9,
        "retargeting": True,
        "shoppable": False,
        "formats": {"text": 1.0, "image": 1.0, "carousel": 1.2, "short_video": 1.2},
    },
    "pinterest": {
        "mechanic": Mechanic.SEARCH,
        "stop_rate": 0.3,
        "interest_rate": 0.10,
        "trust_gain": 0.08,
        "conversion_rate": 0.3,
        "click_rate": 0.30,
        "organic_reach": 0.3,
        "search_rate": 0.15,
        "half_life_days": 120.0,
        "share_rate": 0.1,
        "follow_rate": 0.05,
        "cpm": 5.0,
        "targeting_precision": 0.5,
        "retargeting": True,
        "shoppable": True,
        "formats": {"pin": 1.0, "image": 1.0, "short_video": 1.2},
    },
    "email": {
        "mechanic": Mechanic.OWNED_LIST,
        "stop_rate": 0.25,  # the open rate
        "interest_rate": 0.15,
        "trust_gain": 0.1,
        "conversion_rate": 0.4,
        "click_rate": 0.35,
        "half_life_days": 1.0,
        "share_rate": 0.02,
        "follow_rate": 0.0,
        "cpm": 0.0,
        "cost_per_send": 0.001,
        "targeting_precision": 1.0,
        "retargeting": False,
        "shoppable": False,
        "formats": {"message": 1.0, "image": 1.0, "text": 1.0},
    },
}
