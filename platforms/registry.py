"""Resolve platform presets and a scenario's overrides into complete platform parameters."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from platforms.content import Format
from platforms.mechanics import Mechanic
from platforms.presets import PRESETS


@dataclass(frozen=True)
class PlatformParams:
    """Every number of one platform. Units and sources: docs/ODD.md, section "Platforms"."""

    name: str
    mechanic: Mechanic
    stop_rate: float = 0.05  # P(stop | impression)
    interest_rate: float = 0.10  # P(engage | stop), attention content, quality 1
    trust_gain: float = 0.05  # trust added per stop of trust content (x (1 - trust))
    conversion_rate: float = 0.05  # P(buy | click), trusting consumer, trust 1
    click_rate: float = 0.25  # P(click | stop) of action content
    organic_reach: float = 0.05  # share of eligible consumers shown a post on its first day
    test_pool: float = 0.0  # interest feed: share of active users in a new post's test pool
    viral_gain: float = 0.0  # interest feed: reach multiplier per unit of relative engagement
    search_rate: float = 0.0  # search: P(a consumer with intent searches today)
    half_life_days: float = 1.0  # days for a post's pull to halve
    share_rate: float = 0.02  # P(share | engage)
    follow_rate: float = 0.05  # P(follow | engage)
    cpm: float = 10.0  # $ per 1,000 paid impressions
    cost_per_send: float = 0.0  # $ per owned-list send
    targeting_precision: float = 0.5  # 0..1, how much paid delivery favours the targeted
    retargeting: bool = True
    shoppable: bool = False
    paid_ads: bool = True  # sells ad impressions (messaging apps, email and SMS do not)
    promotion_penalty: float = 0.0  # trust lost per stop of the brand's sales content (communities)
    intent_lift: float = 1.0  # multiplier on click and conversion rates of visits from here
    professional_focus: float = 0.0  # share of non-professionals' activity the platform loses
    formats: dict[str, float] = field(default_factory=dict)  # stop-rate lift per format

    def format_lift(self, fmt: str) -> float:
        """Stop-rate multiplier of a format on this platform (1 for formats it does not list)."""
        return self.formats.get(fmt, 1.0)


PLATFORM_FIELDS = tuple(f.name for f in fields(PlatformParams) if f.name != "name")


def known_platforms(overrides: dict[str, dict] | None = None) -> list[str]:
    """Names of the presets plus platforms a scenario defines with a mechanic of their own."""
    defined = [n for n, o in (overrides or {}).items() if o.get("mechanic") is not None]
    return sorted(set(PRESETS) | set(defined))


def resolve(name: str, override: dict | None = None) -> PlatformParams:
    """A preset with a scenario's override applied (fields left out keep the preset's values)."""
    base = dict(PRESETS.get(name, {}))
    override = {k: v for k, v in (override or {}).items() if v is not None}
    if "formats" in override:
        override["formats"] = {**base.get("formats", {}), **override["formats"]}
    merged = {**base, **override}
    if "mechanic" not in merged:
        raise KeyError(name)
    mech = merged["mechanic"]
    merged["mechanic"] = Mechanic[mech.upper()] if isinstance(mech, str) else Mechanic(mech)
    if merged["mechanic"] in (Mechanic.OWNED_LIST, Mechanic.MESSAGING):
        # Lists and chats sell no ad inventory unless a scenario says so.
        merged.setdefault("paid_ads", False)
        merged.setdefault("retargeting", False)
    merged["formats"] = {f: float(v) for f, v in merged.get("formats", {}).items()}
    unknown = set(merged["formats"]) - {f.name.lower() for f in Format}
    if unknown:
        raise ValueError(f"unknown formats {sorted(unknown)}")
    return PlatformParams(name=name, **merged)
