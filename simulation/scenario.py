"""The scenario file: its schema (pydantic), loading from YAML, ``--set`` overrides, JSON Schema.

A scenario is data only: ``yaml.safe_load``, no code, no imports. Every model is frozen and forbids
unknown keys, so a typo is an error that names the key and suggests the nearest valid one.
Units and sources of every default: docs/ODD.md.
"""

from __future__ import annotations

import math
import os
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from platforms.content import Format, Hook, Purpose, names
from platforms.mechanics import Mechanic
from platforms.registry import PLATFORM_FIELDS, known_platforms, resolve
from simulation.errors import Problem, ScenarioError, nearest

MAX_FILE_BYTES = 5_000_000  # a scenario is a page of YAML; anything bigger is a mistake
MAX_PLATFORMS = 32  # platforms are bits of a uint32 mask in the kernels

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
FormatName = Literal[tuple(names(Format))]  # type: ignore[valid-type]
HookName = Literal[tuple(names(Hook))]  # type: ignore[valid-type]
PurposeName = Literal[tuple(names(Purpose))]  # type: ignore[valid-type]
MechanicName = Literal[tuple(names(Mechanic))]  # type: ignore[valid-type]


class Section(BaseModel):
    """Base of every scenario section: frozen, no unknown keys, finite numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --- audience -------------------------------------------------------------------------------------


class PlatformUse(Section):
    """How a segment uses one platform."""

    share: Probability = Field(1.0, description="share of the segment that uses the platform")
    activity: Probability = Field(description="P(a user opens the platform on a given day)")


class Segment(Section):
    """A persona: a share of the audience with its platforms and traits."""

    name: str = Field(min_length=1)
    share: float = Field(gt=0.0, le=1.0, description="share of the audience")
    platforms: dict[str, Probability | PlatformUse] = Field(
        min_length=1,
        description="platform -> daily activity (0..1), or {share, activity}",
    )
    ad_skepticism: Probability = Field(0.5, description="discount on sponsored stop rates")
    peer_susceptibility: Probability = Field(0.5, description="weight given to friends' content")
    price_sensitivity: Probability = Field(0.5, description="how strongly price lowers buying")
    hooks: list[HookName] = Field(
        default_factory=lambda: names(Hook), min_length=1, description="hooks that resonate"
    )
    professional: Probability = Field(0.0, description="share who are professionals (LinkedIn)")
    in_market: Probability = Field(0.05, description="share with purchase intent from the start")
    baseline_trust: Probability = Field(0.15, description="trust in the brand before any touch")


class Network(Section):
    """The social graph: a generator or a file (edge list, GraphML, GEXF)."""

    model: (
        Literal[
            "barabasi_albert", "watts_strogatz", "powerlaw_cluster", "stochastic_block",
            "erdos_renyi", "complete",
        ]
        | None
    ) = Field(None, description="generator; powerlaw_cluster when neither model nor file is given")
    mean_degree: float = Field(10.0, gt=0.0, le=10_000, description="mean friends per consumer")
    triangle_prob: Probability = Field(0.3, description="powerlaw_cluster: P(close a triangle)")
    rewire_prob: Probability = Field(0.1, description="watts_strogatz: P(rewire an edge)")
    communities: int = Field(10, ge=1, le=100_000, description="stochastic_block: communities")
    mixing: Probability = Field(0.1, description="stochastic_block: share of edges between them")
    file: str | None = Field(None, description="graph file, relative to the scenario file")
    format: Literal["edgelist", "graphml", "gexf"] | None = Field(
        None, description="file format; by default from the file's extension"
    )

    @model_validator(mode="after")
    def _model_or_file(self) -> Network:
        if self.model is not None and self.file is not None:
            raise ValueError("give either 'model' (a generator) or 'file' (a graph file), not both")
        return self


def _default_segments() -> list[Segment]:
    return [
        Segment(
            name="everyone", share=1.0,
            platforms={"facebook": 0.6, "instagram": 0.6, "tiktok": 0.5, "youtube": 0.5,
                       "email": 0.5},
        )
    ]


class Audience(Section):
    """Who the consumers are and how they are connected."""

    size: int | None = Field(
        None, ge=1, le=20_000_000,
        description="number of consumers; taken from the graph when network.file is given",
    )
    network: Network = Field(default_factory=Network)
    segments: list[Segment] = Field(default_factory=_default_segments, min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Audience:
        total = sum(s.share for s in self.segments)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"segment shares must sum to 1, they sum to {total:g}")
        seen = [s.name for s in self.segments]
        if len(set(seen)) != len(seen):
            raise ValueError(f"segment names must be unique, got {seen}")
        if self.size is None and self.network.file is None:
            raise ValueError("audience.size is required unless network.file gives the graph")
        return self


class Product(Section):
    """What is sold."""

    price: float = Field(100.0, gt=0.0, le=1e7, description="$ per purchase")
    margin: Probability = Field(0.4, description="gross margin as a share of price")
    repurchase_days: float | None = Field(
        120.0, gt=0.0, description="mean days between purchases of a customer; null: one-off"
    )


# --- platforms --------------------------------------------------------------------------------------


class PlatformSpec(Section):
    """Overrides of a platform preset, or a new platform (give its mechanic)."""

    mechanic: MechanicName | None = None
    stop_rate: Probability | None = None
    interest_rate: Probability | None = None
    trust_gain: Probability | None = None
    conversion_rate: Probability | None = None
    click_rate: Probability | None = None
    organic_reach: Probability | None = None
    test_pool: Probability | None = None
    viral_gain: NonNegative | None = None
    search_rate: Probability | None = None
    half_life_days: Annotated[float, Field(gt=0.0)] | None = None
    share_rate: Probability | None = None
    follow_rate: Probability | None = None
    cpm: NonNegative | None = None
    cost_per_send: NonNegative | None = None
    targeting_precision: Probability | None = None
    retargeting: bool | None = None
    shoppable: bool | None = None
    paid_ads: bool | None = None
    promotion_penalty: Probability | None = None
    intent_lift: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    professional_focus: Probability | None = None
    formats: dict[FormatName, NonNegative] | None = None


assert set(PlatformSpec.model_fields) == set(PLATFORM_FIELDS), "PlatformSpec and presets diverged"


# --- strategy ------------------------------------------------------------------------------------


class Creative(Section):
    """What a post or ad looks like and which job it does."""

    format: FormatName = "image"
    hook: HookName = "result"
    purpose: PurposeName = "attention"
    quality: Probability = Field(0.7, description="0..1, multiplies engagement and trust gain")


class OrganicStream(Creative):
    """A stream of the brand's own posts on one platform."""

    platform: str
    posts_per_week: float = Field(ge=0.0, le=70.0)
    cost_per_post: NonNegative = Field(0.0, description="$ to produce one post")


class Targeting(Section):
    """Who paid impressions may go to."""

    segments: list[str] | None = Field(None, description="segment names; all when null")
    in_market_only: bool = False
    professionals_only: bool = False


class PaidLine(Creative):
    """A paid line: a daily budget turned into impressions at the platform's CPM."""

    platform: str
    daily_budget: NonNegative = Field(description="$ per day")
    objective: Literal["reach", "engagement", "conversions"] = "reach"
    targeting: Targeting = Field(default_factory=Targeting)
    frequency_cap: int = Field(3, ge=1, le=100, description="impressions per consumer per day")


class RetargetingLine(Section):
    """Paid impressions on a pool of consumers who already engaged (or bought)."""

    platform: str
    pool: Literal["aware", "engaged", "customers"] = "engaged"
    window_days: int = Field(30, ge=1, le=3650, description="days since the last engagement")
    daily_budget: NonNegative = Field(description="$ per day")
    frequency_cap: int = Field(3, ge=1, le=100, description="impressions per consumer per day")
    creative: PurposeName = Field("action", description="the purpose of the ad")
    format: FormatName = "image"
    hook: HookName = "result"
    quality: Probability = 0.7


class Influencers(Creative):
    """Seeded influencers: consumers of the graph who post about the brand for a fee."""

    count: int = Field(0, ge=0, le=100_000)
    selection: Literal["degree", "random", "bridge"] = Field(
        "degree", description="degree: best connected; random; bridge: most brokerage "
                              "(Burt's effective size: friends who do not know each other)")
    platform: str = "instagram"
    posts_per_week: float = Field(1.0, ge=0.0, le=70.0)
    fee: NonNegative = Field(0.0, description="$ per influencer per post")
    campaign_days: int | None = Field(
        None, ge=1, le=3650, description="influencers post during the first N days (null: all)")
    ids: list[Annotated[int, Field(ge=0)]] | None = Field(
        None, max_length=100_000,
        description="explicit consumer ids (0-based graph nodes) to seed; overrides count and "
                    "selection (e.g. the picks of funnelsim optimize --over influencers)")
    purpose: PurposeName = "trust"


class OwnedLine(Section):
    """An owned list (email, SMS): capture from engagement, then regular sends."""

    platform: str = "email"
    capture_rate: Probability = Field(description="P(subscribe | engage with the brand)")
    sends_per_week: float = Field(2.0, ge=0.0, le=14.0)
    unsubscribe_rate: Probability = Field(0.002, description="P(unsubscribe | a send)")
    purpose: PurposeName = "action"
    format: FormatName = "message"
    hook: HookName = "result"
    quality: Probability = 0.7


class Referral(Section):
    """A referral programme: advocates' referrals carry an offer."""

    reward: NonNegative = Field(0.0, description="$ paid per referred purchase")


class Strategy(Section):
    """Everything the brand does."""

    organic: list[OrganicStream] = Field(default_factory=list)
    paid: list[PaidLine] = Field(default_factory=list)
    retargeting: list[RetargetingLine] = Field(default_factory=list)
    influencers: Influencers | None = None
    owned: list[OwnedLine] = Field(default_factory=list, max_length=8)
    referral: Referral | None = None


# --- behaviour -----------------------------------------------------------------------------------


class Credibility(Section):
    """Weight of content by its source [D]: friends' content over sponsored content."""

    peer: Probability = 1.0
    referral: Probability = 1.0
    influencer: Probability = 0.9
    owned: Probability = 0.85
    organic: Probability = 0.8
    paid: Probability = 0.6
    retargeting: Probability = 0.65


class PurposeEngagement(Section):
    """Multiplier of P(engage | stop) by content purpose."""

    attention: NonNegative = 1.0
    trust: NonNegative = 0.6
    action: NonNegative = 0.3


class PurposeClick(Section):
    """Multiplier of a trusting consumer's P(click | stop) by content purpose."""

    attention: NonNegative = 0.2
    trust: NonNegative = 1.0
    action: NonNegative = 1.0


def _default_trust_lift() -> dict[str, float]:
    return {"long_video": 2.0, "carousel": 1.3, "answer": 1.5, "short_video": 0.8}


class Behavior(Section):
    """The model's behavioural parameters (DESIGN.md 4.3); units and sources in docs/ODD.md."""

    credibility: Credibility = Field(default_factory=Credibility)
    purpose_engagement: PurposeEngagement = Field(default_factory=PurposeEngagement)
    purpose_click: PurposeClick = Field(default_factory=PurposeClick)
    format_trust_lift: dict[FormatName, NonNegative] = Field(default_factory=_default_trust_lift)
    skepticism_weight: Probability = Field(
        0.5, description="share of ad skepticism that discounts sponsored stop rates")
    hook_miss: Probability = Field(0.6, description="stop multiplier when the hook does not fit")
    trust_threshold: Probability = Field(0.3, description="trust needed to become trusting")
    trust_half_life_days: float = Field(60.0, gt=0.0)
    fatigue_per_ad: NonNegative = Field(0.05, description="fatigue per sponsored impression")
    fatigue_weight: NonNegative = Field(0.25, description="stop-rate loss per unit of fatigue")
    fatigue_limit: float = Field(5.0, gt=0.0, description="fatigue at which ads get hidden")
    fatigue_half_life_days: float = Field(7.0, gt=0.0)
    annoyance_trust_loss: Probability = Field(0.1, description="trust lost on hiding ads")
    early_sell_trust_loss: Probability = Field(0.01, description="per sales stop before trust")
    early_sell_fatigue: NonNegative = Field(0.1, description="per sales stop before trust")
    memory_half_life_days: float = Field(30.0, gt=0.0, description="untouched attention fades")
    max_feed_exposures: int = Field(3, ge=1, le=50, description="library items/platform/day")
    peer_view_prob: Probability = Field(0.5, description="P(see a friend's share | active)")
    peer_quality: Probability = Field(0.8, description="quality of friends' shares and reviews")
    influencer_reach: Probability = Field(0.3, description="P(follower sees a post | active)")
    review_rate: Probability = Field(0.2, description="P(new customer posts a review)")
    customer_talk_rate: Probability = Field(
        0.0, description="P(a customer mentions the brand to friends) per day after the review day")
    reshare_after_days: int = Field(
        0, ge=0, le=100_000, description="days before a consumer shares brand content again")
    referral_rate: Probability = Field(0.02, description="P(advocate refers a friend) per day")
    referral_reward_elasticity: NonNegative = Field(2.0, description="per reward/price")
    advocate_trust: Probability = Field(0.7, description="trust for a repeat buyer to advocate")
    owned_repurchase_boost: NonNegative = Field(1.0, description="repurchase lift on touch days")
    shoppable_lift: NonNegative = Field(1.25, description="conversion lift of shoppable posts")
    price_reference: float = Field(100.0, gt=0.0, description="$ at which price friction is e^-s")
    trait_sd: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        0.1, description="spread of traits within a segment"
    )


# --- the scenario --------------------------------------------------------------------------------


class Scenario(Section):
    """A complete what-if: audience, product, platforms, strategy and behaviour."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,80}$", description="used in output paths")
    description: str = ""
    days: int = Field(90, ge=1, le=3650)
    seed: int = Field(0, ge=0, lt=2**63)
    audience: Audience
    product: Product = Field(default_factory=Product)
    platforms: dict[str, PlatformSpec] = Field(default_factory=dict)
    strategy: Strategy = Field(default_factory=Strategy)
    behavior: Behavior = Field(default_factory=Behavior)
    materialize_agents: bool = Field(True, description="create one mesa.Agent per consumer")
    stage_labels: dict[Literal["unaware", "aware", "engaged", "trusting", "customer", "advocate"],
                       Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=dict, description="display names of funnel stages (e.g. customer: lead); "
                                          "output columns keep the standard names")

    def stage_label(self, stage: str) -> str:
        """The display name of a stage (its renamed label, or the stage name capitalised)."""
        return self.stage_labels.get(stage, stage.capitalize())

    def platform_overrides(self) -> dict[str, dict]:
        return {n: s.model_dump(exclude_none=True) for n, s in self.platforms.items()}

    def platforms_used(self) -> list[str]:
        """Platforms the audience uses or the strategy names, in a stable order."""
        used: list[str] = []
        for seg in self.audience.segments:
            used += list(seg.platforms)
        s = self.strategy
        used += [x.platform for x in (*s.organic, *s.paid, *s.retargeting, *s.owned)]
        if s.influencers is not None and s.influencers.count > 0:
            used.append(s.influencers.platform)
        return list(dict.fromkeys(used))


# --- loading -------------------------------------------------------------------------------------


def load_scenario(
    source: str | Path | dict, overrides: list[str] | tuple[str, ...] = ()
) -> Scenario:
    """Load and validate a scenario from a YAML file or a dict, applying ``--set`` overrides.

    Raises:
        ScenarioError: with the file, key path, value, expectation and a suggestion.
    """
    if isinstance(source, dict):
        label, base_dir, data = "<scenario>", Path.cwd(), _deep_copy(source)
    else:
        path = Path(source)
        label, base_dir, data = str(path), path.resolve().parent, _read_yaml(path)
    for item in overrides:
        data = apply_override(data, item, label)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(label, _problems(exc)) from None
    problems = check_references(scenario)
    if problems:
        raise ScenarioError(label, problems)
    return _resolve_paths(scenario, base_dir, label)


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        hint = "check the path; built-in scenarios are in the scenarios/ folder"
        raise ScenarioError(str(path), [Problem("", "file not found", suggestion=hint)])
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError(str(path), f"file is larger than {MAX_FILE_BYTES:,} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "not a UTF-8 text file") from None
    return parse_yaml(text, str(path))


#: Bounds on what YAML may build, checked on libyaml's event stream before any object is made, so
#: a "billion laughs" bomb or a 10,000-level nest is refused in milliseconds, not after it fills memory.
MAX_YAML_NODES = 50_000  # keys, values and lists after expanding aliases; a scenario has ~300
MAX_YAML_DEPTH = 50  # nesting levels; a scenario nests 6 or 7 (Python's recursion limit is ~300 here)


class YamlLimitError(yaml.MarkedYAMLError):
    """Well-formed YAML that is too big, too deep or self-referencing to be a scenario."""


def safe_yaml(text: str) -> Any:
    """``yaml.safe_load`` (plain data, no tags that build objects) with bounds on size and depth.

    Raises:
        yaml.YAMLError: a :class:`YamlLimitError` (with the line) past ``MAX_YAML_NODES`` expanded
            nodes or ``MAX_YAML_DEPTH`` levels, or on an alias to a value that contains it.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise yaml.YAMLError(f"not valid UTF-8 text: {exc.reason} at character {exc.start}") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    total, sizes, stack = 0, {}, []  # stack: [anchor, expanded size] of each open collection

    def limit(problem: str, mark: Any) -> YamlLimitError:
        return YamlLimitError(None, None, problem, mark)

    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            stack.append([event.anchor, 1])
            if len(stack) > MAX_YAML_DEPTH:
                raise limit(f"nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark)
            add = 1
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            anchor, size = stack.pop()
            if anchor is not None:
                sizes[anchor] = size
            if stack:
                stack[-1][1] += size
            continue
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            add = 1
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _ in stack):
                raise limit(f"alias *{event.anchor} refers to a value that contains it",
                            event.start_mark)
            add = sizes.get(event.anchor, 1)  # an undefined alias: the loader names it below
        else:
            continue
        total += add
        if stack and not isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            stack[-1][1] += add
        if total > MAX_YAML_NODES:
            raise limit(f"more than {MAX_YAML_NODES:,} values once aliases (*name) are expanded; "
                        "a scenario is a page of settings", event.start_mark)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader


def parse_yaml(text: str, label: str) -> dict:
    """Parse YAML text into a mapping; errors say the line."""
    try:
        data = safe_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        raise ScenarioError(label, f"YAML does not parse: {line}{what}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(label, f"YAML does not parse: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(
            label, [Problem("", "a scenario must be a mapping of keys to values",
                            value=type(data).__name__, suggestion="start with 'name: ...'")]
        )
    return data


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def _problems(exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = ".".join(str(p) for p in loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = _annotation_at(Scenario, loc[:-1])
            valid = list(parent.model_fields) if _is_model(parent) else []
            out.append(Problem(path, f"unknown key '{loc[-1]}'", suggestion=nearest(loc[-1], valid)))
            continue
        msg = err["msg"]
        if kind == "missing":
            msg = "this key is required"
        elif msg.startswith("Value error, "):
            msg = msg.removeprefix("Value error, ")
        # Unions report one error per branch; tagged branch names only add noise.
        path = ".".join(str(p) for p in loc if not _is_branch_tag(p))
        value = None if kind == "missing" or isinstance(err.get("input"), dict) else err["input"]
        out.append(Problem(path, msg, value=value))
    # Keep the first error per path (a union reports one per branch).
    seen, unique = set(), []
    for p in out:
        if p.path not in seen:
            seen.add(p.path)
            unique.append(p)
    return unique


def _is_branch_tag(part: object) -> bool:
    return isinstance(part, str) and (part in ("float", "PlatformUse") or part.startswith("literal["))


def check_references(scenario: Scenario) -> list[Problem]:
    """Cross-field checks: every platform and segment named exists and can do what is asked."""
    overrides = scenario.platform_overrides()
    known = known_platforms(overrides)
    problems: list[Problem] = []

    def platform_ok(path: str, name: str) -> bool:
        if name not in known:
            problems.append(Problem(path, f"unknown platform '{name}'", value=name,
                                    suggestion=nearest(name, known) +
                                    " (or define it under 'platforms:' with a mechanic)"))
            return False
        return True

    for name, spec in overrides.items():
        if name not in known:
            platform_ok(f"platforms.{name}", name)
            continue
        try:
            resolve(name, spec)
        except ValueError as exc:
            problems.append(Problem(f"platforms.{name}", str(exc)))
    for i, seg in enumerate(scenario.audience.segments):
        for name in seg.platforms:
            platform_ok(f"audience.segments.{i}.platforms.{name}", name)
    s = scenario.strategy
    seg_names = [seg.name for seg in scenario.audience.segments]
    audience_platforms = {name for seg in scenario.audience.segments for name in seg.platforms}
    for section, items in (("organic", s.organic), ("paid", s.paid),
                           ("retargeting", s.retargeting), ("owned", s.owned)):
        for i, item in enumerate(items):
            path = f"strategy.{section}.{i}.platform"
            if not platform_ok(path, item.platform):
                continue
            params = resolve(item.platform, overrides.get(item.platform))
            mech = params.mechanic
            listed = mech in (Mechanic.OWNED_LIST, Mechanic.MESSAGING)
            if section == "owned" and not listed:
                problems.append(Problem(path, f"'{item.platform}' is not an owned list or a "
                                        "messaging app", value=item.platform,
                                        suggestion="owned lines go on email, sms, whatsapp, "
                                                   "telegram or discord"))
            if section == "organic" and listed:
                problems.append(Problem(path, f"'{item.platform}' has no feed: it reaches only "
                                        "opted-in contacts", value=item.platform,
                                        suggestion="put it under strategy.owned"))
            if section in ("paid", "retargeting") and not params.paid_ads:
                problems.append(Problem(path, f"'{item.platform}' sells no ads", value=item.platform,
                                        suggestion="use a platform with paid_ads: true, or "
                                                   "strategy.owned for opted-in contacts"))
            elif section == "retargeting" and not params.retargeting:
                problems.append(Problem(path, f"'{item.platform}' does not support retargeting",
                                        value=item.platform))
            if section != "owned" and item.platform not in audience_platforms:
                problems.append(Problem(path, f"no segment of the audience uses '{item.platform}'",
                                        value=item.platform,
                                        suggestion="add it to a segment's platforms, or "
                                                   f"use one of {sorted(audience_platforms)}"))
    for i, line in enumerate(s.paid):
        for name in line.targeting.segments or []:
            if name not in seg_names:
                problems.append(Problem(f"strategy.paid.{i}.targeting.segments", f"unknown "
                                        f"segment '{name}'", suggestion=nearest(name, seg_names)))
    if s.influencers is not None and s.influencers.count > 0:
        name = s.influencers.platform
        if platform_ok("strategy.influencers.platform", name) and name not in audience_platforms:
            problems.append(Problem("strategy.influencers.platform",
                                    f"no segment of the audience uses '{name}'", value=name,
                                    suggestion=f"use one of {sorted(audience_platforms)}"))
    if len(scenario.platforms_used()) > MAX_PLATFORMS:
        problems.append(Problem("platforms", f"at most {MAX_PLATFORMS} platforms per scenario"))
    return problems


def _resolve_paths(scenario: Scenario, base_dir: Path, label: str) -> Scenario:
    net = scenario.audience.network
    if net.file is None:
        return scenario
    # A relative path stays inside the scenario's folder (a shared scenario must not read
    # ../../home/you/anything); a file elsewhere is named by an absolute path, visibly.
    if not Path(net.file).is_absolute() and ".." in Path(os.path.normpath(net.file)).parts:
        raise ScenarioError(label, [Problem(
            "audience.network.file", "a relative path must stay inside the scenario's folder",
            value=net.file, suggestion="move the file next to the scenario, or give an absolute path")])
    path = (base_dir / net.file).resolve()
    # ...and so does the file it names: a symbolic link inside the folder (data/etc -> /etc) must
    # not lead out of it either. The check is on the resolved location, after every link.
    folder = base_dir.resolve()
    if not Path(net.file).is_absolute() and not path.is_relative_to(folder):
        raise ScenarioError(label, [Problem(
            "audience.network.file", "a relative path must stay inside the scenario's folder, "
            f"but it leads through a symbolic link to {path}, outside {folder}",
            value=net.file, suggestion="copy the file next to the scenario, or give its absolute "
                                       "path")])
    if not path.is_file():
        raise ScenarioError(label, [Problem("audience.network.file", "graph file not found",
                                            value=net.file,
                                            suggestion=f"paths are relative to {base_dir}")])
    audience = scenario.audience.model_copy(
        update={"network": net.model_copy(update={"file": str(path)})})
    return scenario.model_copy(update={"audience": audience})


# --- overrides (--set dotted.key=value) -----------------------------------------------------------


def apply_override(data: dict, item: str, label: str = "--set") -> dict:
    """Apply ``dotted.key=value`` to a scenario mapping; the value is parsed as YAML.

    List items are addressed by index (``strategy.paid.0.daily_budget=200``). Keys must exist in
    the schema (they need not be in the file yet).
    """
    if "=" not in item:
        raise ScenarioError("--set", [Problem("", "expected KEY=VALUE", value=item,
                                              suggestion="e.g. --set days=30")])
    key, raw = item.split("=", 1)
    parts = key.strip().split(".")
    try:
        value = safe_yaml(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    data = _deep_copy(data)
    node: Any = data
    tp: Any = Scenario
    for depth, part in enumerate(parts):
        path = ".".join(parts[: depth + 1])
        tp, problem = _child_type(tp, part, node, path)
        if problem:
            raise ScenarioError("--set", [problem])
        last = depth == len(parts) - 1
        if isinstance(node, list):
            idx = int(part)
            if last:
                node[idx] = value
            else:
                node = node[idx]
            continue
        if last:
            node[part] = value
        else:
            if not isinstance(node.get(part), dict | list):
                node[part] = {}
            node = node[part]
    return data


def _child_type(tp: Any, part: str, node: Any, path: str) -> tuple[Any, Problem | None]:
    tp = _unwrap(tp)
    if isinstance(node, list):
        if not part.isdigit() or int(part) >= len(node):
            return None, Problem(path, f"no list item {part}", value=part,
                                 suggestion=f"indices run from 0 to {len(node) - 1}")
        return typing.get_args(tp)[0] if typing.get_args(tp) else Any, None
    if _is_model(tp):
        if part not in tp.model_fields:
            return None, Problem(path, f"unknown key '{part}'",
                                 suggestion=nearest(part, tp.model_fields))
        return tp.model_fields[part].annotation, None
    if typing.get_origin(tp) is dict:
        return typing.get_args(tp)[1], None
    if typing.get_origin(tp) is list:
        return None, Problem(path, "this list is not in the scenario yet",
                             suggestion="add the item to the file first")
    return None, Problem(path, "cannot set a key inside a plain value")


def _unwrap(tp: Any) -> Any:
    """Strip Optional/Annotated; prefer the model or container branch of a union."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            structured = [a for a in args if _is_model(_strip(a)) or typing.get_origin(a) in
                          (dict, list)]
            tp = structured[0] if structured else args[0]
        else:
            return tp


def _strip(tp: Any) -> Any:
    return typing.get_args(tp)[0] if typing.get_origin(tp) is Annotated else tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _annotation_at(tp: Any, loc: tuple) -> Any:
    for part in loc:
        tp = _unwrap(tp)
        if _is_model(tp):
            if part not in tp.model_fields:
                # a union branch tag such as 'PlatformUse'
                continue
            tp = tp.model_fields[part].annotation
        elif typing.get_origin(tp) in (dict, list):
            tp = typing.get_args(tp)[-1]
        elif isinstance(part, str) and part == getattr(tp, "__name__", None):
            continue
    tp = _unwrap(tp)
    return tp


def json_schema() -> dict:
    """The JSON Schema of a scenario file, for editor completion."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "funnelsim scenario"
    return schema
