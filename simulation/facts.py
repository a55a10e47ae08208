"""Stylized facts, platform signatures and scenario claims, as runnable cases.

Each :class:`Case` runs the model over several fixed seeds and returns an :class:`Outcome`
(expected, measured, tolerance, passed). The test suite runs every case with ``quick=True`` (small
audiences, few seeds); the validation report runs them with ``quick=False`` (report sizes, more
seeds). Comparisons of two strategies use paired seeds: the same seed gives both arms the same
graph, population and random numbers (common random numbers), so the paired difference has a far
smaller variance than two independent samples. A directional claim passes when the mean paired
difference exceeds ``Z`` standard errors; a figure from the source passes when the measured value
falls in the source's range (or within ``Z`` binomial standard errors of the source's figure).

The scenarios named here are the files in ``scenarios/``; the variants compared are the
``--variant '...'`` strings written in each scenario's description, so the command a user reads is
the comparison that is tested.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from simulation import kernels as K
from simulation.model import FunnelModel
from simulation.results import Result
from simulation.scenario import load_scenario
from simulation.streams import day_key, subkey

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FLAGSHIP = SCENARIOS / "product_launch.yaml"
Z = 4.0  # standard errors a paired difference must exceed


@dataclass
class Outcome:
    """The result of one case."""

    expected: str
    measured: str
    tolerance: str
    passed: bool
    detail: str = ""


@dataclass
class Case:
    """A stylized fact, a platform signature or a scenario's claim."""

    name: str
    section: str  # "stylized fact" | "platform" | "scenario"
    check: Callable[[bool], Outcome]


# --- running ----------------------------------------------------------------------------------------


def seeds(quick: bool, full: int = 10, small: int = 3) -> list[int]:
    """The fixed seeds of a case."""
    return list(range(1, 1 + (small if quick else full)))


@lru_cache(maxsize=256)
def _cached(source: str, overrides: tuple[str, ...], seed: int, days: int | None) -> Result:
    spec = load_scenario(_source(source), [*overrides, "materialize_agents=false"])
    return _run_spec(spec, seed, days)


def _source(source: str):
    if source.startswith("{"):
        import json

        return json.loads(source)
    return Path(source)


def _run_spec(spec, seed: int, days: int | None) -> Result:
    model = FunnelModel(spec, seed=seed)
    model.run(days)
    return Result.from_model(model)


def run(source, overrides=(), seed: int = 1, days: int | None = None) -> Result:
    """Run a scenario file (or dict) with overrides on one seed; repeated calls are cached."""
    import json

    key = json.dumps(source, sort_keys=True) if isinstance(source, dict) else str(source)
    return _cached(key, tuple(overrides), int(seed), days)


def variant(path: Path, label: str) -> list[str]:
    """The overrides of the ``--variant 'label: k=v; k=v'`` documented in a scenario's description."""
    spec = load_scenario(path)
    for text in re.findall(r"--variant '([^']*)'", spec.description):
        name, _, body = text.partition(":")
        if name.strip() == label:
            return [s.strip() for s in body.split(";") if s.strip()]
    raise KeyError(f"{path.name}: no --variant '{label}: ...' in its description")


def paired(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean and standard error of the paired difference b - a."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("inf")
    return float(d.mean()), se


def _more(name_a: str, a: list[float], name_b: str, b: list[float], what: str,
          fmt: str = "{:.1f}") -> Outcome:
    """Outcome of the directional claim "b > a" on paired seeds."""
    mean, se = paired(a, b)
    ok = mean > 0 and mean > Z * se
    f = fmt.format
    return Outcome(
        expected=f"{what}: {name_b} > {name_a}",
        measured=f"{name_b} {f(np.mean(b))} vs {name_a} {f(np.mean(a))} "
                 f"(paired difference {f(mean)} ± {f(se)} SE, {len(a)} seeds)",
        tolerance=f"difference > {Z:g} SE", passed=bool(ok))


def _arms(path: Path, label: str, metric: Callable[[Result], float], quick: bool,
          quick_overrides: tuple[str, ...] = (), n: int = 3) -> tuple[list[float], list[float]]:
    """``metric`` of the file and of its variant ``label`` on the same seeds."""
    extra = list(quick_overrides) if quick else []
    alt = variant(path, label)
    ss = seeds(quick, small=n)
    base = [metric(run(path, extra, s)) for s in ss]
    other = [metric(run(path, [*alt, *extra], s)) for s in ss]
    return base, other


def summary(key: str) -> Callable[[Result], float]:
    return lambda r: float(r.summary[key] or 0.0)


def _platform(r: Result, name: str):
    return r.platforms.set_index("platform").loc[name]


def click_conversion(r: Result, name: str) -> tuple[float, float]:
    """(purchases, clicks) on a platform: purchases made at a click there."""
    row = _platform(r, name)
    return float(row["new_customers"] + row["repeat_purchases"]), float(row["clicks"])


def _bit(r: Result, name: str) -> np.uint32:
    return np.uint32(1 << r.model.platform_names.index(name))


# --- the flagship: drop-off, touches, ROAS, email ----------------------------------------------------


def _flagship(quick: bool) -> list[Result]:
    return [run(FLAGSHIP, (), s) for s in seeds(quick, full=8, small=3)]


def funnel_drop_off(quick: bool) -> Outcome:
    steps = ["impressions", "stops", "engagements", "clicks", "purchases"]
    ratios = []
    for r in _flagship(quick):
        ts = r.timeseries
        counts = [ts["impressions"].sum(), ts["stops"].sum(), ts["engagements"].sum(),
                  ts["clicks"].sum(), r.summary["purchases"]]
        ratios.append([b / a for a, b in zip(counts, counts[1:], strict=False)])
    ratios = np.array(ratios)
    worst = ratios.max(axis=0)
    text = ", ".join(f"{b}/{a} {w:.3f}" for a, b, w in zip(steps, steps[1:], worst, strict=False))
    return Outcome(expected="each funnel step keeps a small share of the one before [B]",
                   measured=f"largest ratio over seeds: {text}",
                   tolerance="every ratio < 0.5 in every seed", passed=bool((ratios < 0.5).all()))


def touches_before_purchase(quick: bool) -> Outcome:
    med = [r.summary["touches_to_first_purchase"]["median"] for r in _flagship(quick)]
    m = float(np.mean(med))
    return Outcome(expected="7-10 touches before buying a $100 product [B]",
                   measured=f"median touches before the first purchase {m:.1f} (per seed {med})",
                   tolerance="mean of the per-seed medians in [7, 10]", passed=7.0 <= m <= 10.0)


def flagship_roas(quick: bool) -> Outcome:
    roas = [r.summary["roas"] for r in _flagship(quick)]
    m = float(np.mean(roas))
    se = float(np.std(roas, ddof=1) / np.sqrt(len(roas)))
    return Outcome(expected="about $5.20 of revenue per $1 spent [B]",
                   measured=f"flagship ROAS {m:.2f} ± {se:.2f} SE",
                   tolerance="mean ROAS in [3, 8]", passed=3.0 <= m <= 8.0)


def email_click_conversion(quick: bool) -> Outcome:
    buys = clicks = 0.0
    for r in _flagship(quick):
        b, c = click_conversion(r, "email")
        buys, clicks = buys + b, clicks + c
    rate = buys / max(clicks, 1.0)
    target = 0.101
    se = np.sqrt(target * (1 - target) / max(clicks, 1.0))
    return Outcome(expected="email converts clicks at about 10.1% [B]",
                   measured=f"{rate:.1%} of {clicks:.0f} email clicks bought (flagship, pooled)",
                   tolerance=f"within {Z:g} binomial SE ({Z * se:.1%}) of 10.1%",
                   passed=abs(rate - target) <= Z * se)


# --- per-exposure persuasion of friends' content and ads -------------------------------------------


def exposure_probe(spec, seed: int, platform: str, creative: int, source: int) -> dict:
    """Expose every consumer of a fresh model once to ``creative`` from ``source`` (the model's
    exposure rule, simulation.kernels._expose) and report the share who stop, who engage and the
    mean trust gained per exposure."""
    model = FunnelModel(spec, seed=seed)
    st, n = model.state, model.graph.n
    p = model.platform_names.index(platform)
    w = model.world_for_day(False, model.library.today(0))
    ev = model._tallies["ev"]
    dkey = day_key(model.key, 0)
    before = st.trust.copy()
    engaged = 0
    for i in range(n):
        r = K._expose(i, creative, source, 0, np.uint64(subkey(dkey, i)), 0, 0, w, False)
        engaged += r & K.R_ENGAGED
    model.state_changed()  # the probe wrote the state outside a step (ODD 3.3)
    return {"stop": ev[0, K.E_STOPS, p] / n, "engage": engaged / n,
            "trust": float((st.trust - before).mean()), "model": model}


def peer_vs_sponsored(quick: bool) -> Outcome:
    spec = load_scenario(FLAGSHIP, ["audience.size=3000" if quick else "audience.size=20000",
                                    "materialize_agents=false"])
    peer, paid = [], []
    for s in seeds(quick, full=8, small=4):
        m = FunnelModel(spec, seed=s)
        p = m.platform_names.index("facebook")
        review = int(m.peer_creative[p, 1])  # a friend's review: trust content, same creative
        peer.append(exposure_probe(spec, s, "facebook", review, K.S_PEER)["trust"])
        paid.append(exposure_probe(spec, s, "facebook", review, K.S_PAID)["trust"])
    out = _more("a sponsored post", paid, "a friend's share", peer,
                "trust gained per exposure to the same content", fmt="{:.4f}")
    out.expected += " [D]; 90% trust reviews/UGC more than ads [B]"
    return out


# --- strategy comparisons on the scenario files ----------------------------------------------------

SMALL = ("audience.size=3000",)


def retargeting_raises_conversions(quick: bool) -> Outcome:
    path = SCENARIOS / "retargeting_ab.yaml"
    with_rt, cold = _arms(path, "cold_only", summary("customers"), quick, SMALL)
    return _more("cold reach only", cold, "with retargeting", with_rt,
                 "customers at the same budget (retargeting_ab)")


def jab_beats_all_sales(quick: bool) -> Outcome:
    path = SCENARIOS / "jab_jab_right_hook.yaml"
    jab, sales = _arms(path, "all_sales", summary("customers"), quick, SMALL)
    return _more("all-sales calendar", sales, "jab-jab-jab-right-hook", jab,
                 "customers (jab_jab_right_hook) [C]")


def micro_beats_mass(quick: bool) -> Outcome:
    path = SCENARIOS / "micro_vs_mass.yaml"
    micro, mass = _arms(path, "mass_reach", summary("roi"), quick, SMALL)
    out = _more("mass reach", mass, "micro-community", micro, "ROI (micro_vs_mass)", "{:.2f}")
    ratio = (1 + np.mean(micro)) / (1 + np.mean(mass))
    out.detail = (f"ROAS ratio micro/mass {ratio:.2f}; the source's +25% ROI is a direction here: "
                  "the model's gap depends on how distinct the niche is")
    return out


def influencer_degree_beats_random(quick: bool) -> Outcome:
    path = SCENARIOS / "influencer_seeding.yaml"
    hub, rnd = _arms(path, "random", summary("reach"), quick, SMALL)
    return _more("random seeds", rnd, "high-degree seeds", hub, "reach (influencer_seeding)",
                 "{:.0f}")


def influencer_customers(quick: bool) -> Outcome:
    path = SCENARIOS / "influencer_seeding.yaml"
    hub, rnd = _arms(path, "random", summary("customers"), quick, ())
    return _more("random seeds", rnd, "high-degree seeds", hub,
                 "customers for the same fees (influencer_seeding)")


def influencer_bridge_beats_random(quick: bool) -> Outcome:
    path = SCENARIOS / "influencer_seeding.yaml"
    ss = seeds(quick, small=3)
    extra = list(SMALL) if quick else []
    rnd = [float(run(path, [*variant(path, "random"), *extra], s).summary["reach"]) for s in ss]
    bridge = [float(run(path, [*variant(path, "bridge"), *extra], s).summary["reach"]) for s in ss]
    return _more("random seeds", rnd, "bridging seeds", bridge, "reach (influencer_seeding)",
                 "{:.0f}")


def conversational_beats_cold(quick: bool) -> Outcome:
    path = SCENARIOS / "conversational_commerce.yaml"
    chat, cold = _arms(path, "cold_site", lambda r: r.summary["customers"] /
                       max(r.summary["spend"], 1.0) * 1000, quick, SMALL)
    return _more("cold traffic to a site", cold, "Content -> DM -> WhatsApp", chat,
                 "customers per $1,000 (conversational_commerce) [B]")


def reddit_participation_vs_promotion(quick: bool) -> Outcome:
    path = SCENARIOS / "reddit_participation.yaml"

    def reddit_trust(r: Result) -> float:
        reached = (r.model.state.reached & _bit(r, "reddit")) != 0
        return float(r.model.state.trust[reached].mean())

    part, promo = _arms(path, "promoting", reddit_trust, quick, SMALL)
    out = _more("promoting", promo, "participating", part,
                "mean trust of the Reddit members reached (reddit_participation)", "{:.3f}")
    pc, mc = _arms(path, "promoting", summary("customers"), quick, SMALL)
    sells = _more("promoting", mc, "participating", pc, "customers")
    out.measured += f"; customers: {sells.measured}"
    out.passed = out.passed and sells.passed
    return out


# --- platform signatures -----------------------------------------------------------------------------


def _one_platform(platform: str, segments_platforms: dict, organic: list[dict], size: int,
                  days: int, **extra) -> dict:
    """A small scenario with one kind of content, for platform signatures."""
    seg = {"name": "all", "share": 1.0, "platforms": segments_platforms, "in_market": 0.05,
           "hooks": ["recognition", "result", "curiosity"], **extra.pop("segment", {})}
    data = {"name": f"{platform}_signature", "days": days, "seed": 1,
            "audience": {"size": size, "segments": [seg]},
            "strategy": {"organic": organic, **extra.pop("strategy", {})}}
    data.update(extra)
    return data


def tiktok_reach_by_engagement(quick: bool) -> Outcome:
    """A brand with no followers: TikTok shows its posts to non-followers, by engagement."""
    size = 3000 if quick else 10000

    def scenario(quality: float) -> dict:
        return _one_platform("tiktok", {"tiktok": 0.7, "facebook": 0.7}, [
            {"platform": "tiktok", "posts_per_week": 3, "format": "short_video",
             "hook": "curiosity", "purpose": "attention", "quality": quality},
            {"platform": "facebook", "posts_per_week": 3, "format": "short_video",
             "hook": "curiosity", "purpose": "attention", "quality": quality}], size, 30)

    hi, lo, ratio, fb, follows = [], [], [], [], []
    for s in seeds(quick, small=3):
        a, b = run(scenario(0.9), (), s), run(scenario(0.3), (), s)
        ra = int(_platform(a, "tiktok")["reach"])
        hi.append(ra)
        lo.append(int(_platform(b, "tiktok")["reach"]))
        fb.append(int(_platform(a, "facebook")["impressions"]))
        follows.append(int(_platform(a, "tiktok")["follows"]))
        ratio.append(ra / max(int(_platform(a, "tiktok")["follows"]), 1))
    out = _more("a low-engagement post (quality 0.3)", lo, "a high-engagement post (0.9)", hi,
                "TikTok reach of a new account", "{:.0f}")
    beyond = min(ratio) > 5 and max(fb) == 0
    out.expected += "; reach far beyond followers (Facebook shows a new page's posts to nobody)"
    out.measured += (f"; TikTok reach / followers gained >= {min(ratio):.1f}; Facebook organic "
                     f"impressions without followers: {max(fb)}")
    out.tolerance += "; reach > 5x followers; Facebook 0"
    out.passed = out.passed and beyond
    return out


def _late_share(path_or_dict, overrides, seed: int, platform: str, early_days: int,
                cut: int) -> float:
    """Share of the impressions of the posts published in the first ``early_days`` days that
    came after day ``cut``."""
    spec = load_scenario(path_or_dict, [*overrides, "materialize_agents=false"])
    model = FunnelModel(spec, seed=seed)
    model.run(cut)
    lib = model.library
    p = model.platform_names.index(platform)
    early = np.flatnonzero((lib.platform == p) & (lib.day < early_days))
    at_cut = lib.impressions[early].sum()
    model.run(spec.days - cut)
    total = lib.impressions[early].sum()
    return float((total - at_cut) / max(total, 1.0))


def pinterest_lasts_months(quick: bool) -> Outcome:
    path = SCENARIOS / "pinterest_evergreen.yaml"
    extra = list(SMALL) if quick else []
    pin = [_late_share(path, extra, s, "pinterest", 28, 60) for s in seeds(quick, small=3)]
    tik = [_late_share(path, extra, s, "tiktok", 28, 60) for s in seeds(quick, small=3)]
    ok = min(pin) > 0.2 and max(tik) < 0.01
    return Outcome(
        expected="a pin keeps drawing impressions for months; a TikTok post's pull is gone in days"
                 " [B] (pinterest_evergreen)",
        measured=f"share of the impressions of the first four weeks' posts after day 60: "
                 f"Pinterest {np.mean(pin):.1%} (min {min(pin):.1%}), TikTok {np.mean(tik):.2%}",
        tolerance="Pinterest > 20% in every seed, TikTok < 1%", passed=bool(ok))


def pinterest_intent(quick: bool) -> Outcome:
    path = SCENARIOS / "pinterest_evergreen.yaml"
    share, base = [], []
    for s in seeds(quick, small=3):
        r = run(path, ["audience.size=3000", "days=14"] if quick else ["days=14"], s)
        reached = (r.model.state.reached & _bit(r, "pinterest")) != 0
        share.append(float(r.model.traits.in_market[reached].mean()))
        base.append(float(r.model.traits.in_market.mean()))
    ok = min(share) > 3 * max(base)
    return Outcome(expected="Pinterest (search) reaches consumers with intent first",
                   measured=f"in-market share of those Pinterest reached in the first two weeks "
                            f"{np.mean(share):.0%} vs {np.mean(base):.0%} of the audience",
                   tolerance="> 3x the audience's share in every seed", passed=bool(ok))


def youtube_long_form_trust(quick: bool) -> Outcome:
    size = 3000 if quick else 10000

    def per_stop(fmt: str, s: int) -> float:
        data = _one_platform("youtube", {"youtube": 0.6}, [
            {"platform": "youtube", "posts_per_week": 2, "format": fmt, "hook": "result",
             "purpose": "trust", "quality": 0.8}], size, 30, segment={"in_market": 0.3})
        r = run(data, (), s)
        gain = float((r.model.state.trust - r.model.traits.baseline_trust).sum())
        return gain / max(float(_platform(r, "youtube")["stops"]), 1.0)

    ss = seeds(quick, small=3)
    long_, short = [per_stop("long_video", s) for s in ss], [per_stop("short_video", s) for s in ss]
    return _more("short video", short, "long-form video", long_,
                 "YouTube trust above baseline per stop [B]", "{:.4f}")


def facebook_retargeting(quick: bool) -> Outcome:
    out = retargeting_raises_conversions(quick)
    out.expected = "Facebook: with the same budget, retargeting the engaged beats cold reach [B]; " \
                   + out.expected
    return out


def linkedin_professionals(quick: bool) -> Outcome:
    path = SCENARIOS / "b2b_linkedin.yaml"
    extra = ["strategy.paid.0.targeting.professionals_only=false"]
    if quick:
        extra.append("audience.size=3000")
    share, users, trust, base = [], [], [], []
    for s in seeds(quick, small=3):
        r = run(path, extra, s)
        p = r.model.platform_names.index("linkedin")
        bit = _bit(r, "linkedin")
        pro = r.model.traits.professional == 1
        stops = r.model.state.pre_touches[:, p]
        share.append(float(stops[pro].sum() / max(stops.sum(), 1)))
        uses = (r.model.traits.uses & bit) != 0
        users.append(float(pro[uses].mean()))
        reached = ((r.model.state.reached & bit) != 0) & pro
        trust.append(float(r.model.state.trust[reached].mean()))
        base.append(float(r.model.traits.baseline_trust[reached].mean()))
    ok = min(share) > 1.5 * max(users) and min(np.subtract(trust, base)) > 0.03
    return Outcome(
        expected="LinkedIn: attention concentrated on professionals; authority content builds "
                 "trust [B] (b2b_linkedin, targeting off)",
        measured=f"professionals' share of LinkedIn stops {np.mean(share):.0%} vs "
                 f"{np.mean(users):.0%} of its users; trust of the professionals reached "
                 f"{np.mean(trust):.3f} vs baseline {np.mean(base):.3f}",
        tolerance="share > 1.5x users' share and trust > baseline + 0.03 in every seed",
        passed=bool(ok))


def reddit_signature(quick: bool) -> Outcome:
    """Reddit alone: promotion lowers trust, participation raises it and converts."""
    path = SCENARIOS / "reddit_participation.yaml"
    reddit_only = ["strategy.paid.0.daily_budget=0", "strategy.organic.1.posts_per_week=0"]
    extra = list(SMALL) if quick else []
    promo_delta, part_delta = [], []
    for s in seeds(quick, small=3):
        for arm, out in ((["strategy.organic.0.purpose=action"], promo_delta), ([], part_delta)):
            r = run(path, [*reddit_only, *arm, *extra], s)
            reached = (r.model.state.reached & _bit(r, "reddit")) != 0
            out.append(float((r.model.state.trust - r.model.traits.baseline_trust)[reached].mean()))
    buys = {"reddit": [0.0, 0.0], "instagram": [0.0, 0.0]}
    for s in seeds(quick, small=3):
        r = run(path, extra, s)
        for name in buys:
            b, c = click_conversion(r, name)
            buys[name][0] += b
            buys[name][1] += c
    rd, ig = (buys[n][0] / max(buys[n][1], 1) for n in ("reddit", "instagram"))
    se = np.sqrt(rd * (1 - rd) / max(buys["reddit"][1], 1) + ig * (1 - ig) /
                 max(buys["instagram"][1], 1))
    ok = max(promo_delta) < 0 and min(part_delta) > 0 and rd - ig > 2 * se
    return Outcome(
        expected="Reddit: promotion lowers trust, participation raises it and brings high-intent "
                 "visits [B]",
        measured=f"trust change of members reached: promoting {np.mean(promo_delta):+.3f}, "
                 f"participating {np.mean(part_delta):+.3f}; purchases per click Reddit {rd:.1%} "
                 f"vs Instagram {ig:.1%}",
        tolerance="promoting < 0 < participating in every seed; Reddit's click conversion above "
                  "Instagram's by > 2 SE (pooled)", passed=bool(ok))


def quora_search(quick: bool) -> Outcome:
    size = 3000 if quick else 10000
    data = _one_platform("quora", {"quora": 0.5}, [
        {"platform": "quora", "posts_per_week": 2, "format": "answer", "hook": "recognition",
         "purpose": "trust", "quality": 0.8}], size, 120, segment={"in_market": 0.1})
    late, share, base = [], [], []
    for s in seeds(quick, small=3):
        late.append(_late_share(data, [], s, "quora", 28, 60))
        r = run(data, ["days=14"], s)
        reached = (r.model.state.reached & _bit(r, "quora")) != 0
        share.append(float(r.model.traits.in_market[reached].mean()))
        base.append(float(r.model.traits.in_market.mean()))
    ok = min(late) > 0.2 and min(share) > 3 * max(base)
    return Outcome(
        expected="Quora answers keep drawing search traffic for months, aimed at problem-aware "
                 "consumers [B]",
        measured=f"share of the first four weeks' answers' impressions after day 60 "
                 f"{np.mean(late):.0%}; in-market share of those reached in two weeks "
                 f"{np.mean(share):.0%} vs {np.mean(base):.0%} of the audience",
        tolerance="> 20% after day 60; > 3x the audience's in-market share", passed=bool(ok))


def _messaging_scenario(platform: str, size: int, share_rate: float | None = None) -> dict:
    data = _one_platform(platform, {"instagram": 0.7, platform: 0.9}, [
        {"platform": "instagram", "posts_per_week": 3, "format": "carousel", "hook": "result",
         "purpose": "trust", "quality": 0.75}], size, 60,
        segment={"baseline_trust": 0.2},
        strategy={"paid": [{"platform": "instagram", "daily_budget": 15, "frequency_cap": 1,
                            "format": "short_video", "hook": "result", "purpose": "trust"}],
                  "owned": [{"platform": platform, "capture_rate": 0.2, "sends_per_week": 2,
                             "unsubscribe_rate": 0.0, "purpose": "action"}]})
    if share_rate is not None:
        data["platforms"] = {platform: {"share_rate": share_rate}}
    return data


def _strangers(r: Result, platform: str) -> int:
    """Consumers reached on ``platform`` with no chain of friendships, through consumers reached
    there, to someone on its list or a customer (forwards and reviews travel only along
    friendships: no discovery)."""
    st, g = r.model.state, r.model.graph
    bit = _bit(r, platform)
    reached = (st.reached & bit) != 0
    linked = ((st.subscribed & bit) != 0) | (st.first_purchase_day >= 0)
    frontier = list(np.flatnonzero(linked))
    while frontier:
        i = frontier.pop()
        for j in g.indices[g.indptr[i]:g.indptr[i + 1]]:
            if reached[j] and not linked[j]:
                linked[j] = True
                frontier.append(j)
    return int((reached & ~linked).sum())


def messaging_signature(quick: bool) -> Outcome:
    size = 3000 if quick else 8000
    outside, conv = [], {}
    other = [0.0, 0.0]
    for platform in ("whatsapp", "telegram", "discord"):
        b_tot = c_tot = 0.0
        for s in seeds(quick, small=2):
            r = run(_messaging_scenario(platform, size), (), s)
            outside.append(_strangers(r, platform))
            b, c = click_conversion(r, platform)
            b_tot, c_tot = b_tot + b, c_tot + c
            ob, oc = click_conversion(r, "instagram")
            other = [other[0] + ob, other[1] + oc]
        conv[platform] = b_tot / max(c_tot, 1)
    ig = other[0] / max(other[1], 1)
    # [B] names WhatsApp and Telegram as the apps for closing; Discord is "similar, suited to
    # products needing an active community": it must not convert worse than Instagram.
    ok = (max(outside) == 0 and min(conv["whatsapp"], conv["telegram"]) > ig
          and conv["discord"] >= ig - 0.01)
    return Outcome(
        expected="WhatsApp/Telegram/Discord: no discovery (only the opted-in and their friends); "
                 "the highest conversion of those who get there [B]",
        measured=f"consumers reached there with no chain of friends to the list or a customer: "
                 f"{max(outside)}; purchases per click "
                 f"{', '.join(f'{k} {v:.0%}' for k, v in conv.items())} vs Instagram {ig:.0%}",
        tolerance="0 strangers reached; WhatsApp and Telegram above Instagram, Discord not below "
                  "it by more than 1 point (pooled clicks)", passed=bool(ok),
        detail="Discord converts clicks about as well as Instagram, not better: the model does not "
               "reproduce 'highest conversion' for Discord (docs/ODD.md 7.24)")


def conversational_signature(quick: bool) -> Outcome:
    out = conversational_beats_cold(quick)
    out.expected = "the Content -> DM -> WhatsApp -> Sale path beats cold traffic to a site [B]: " \
                   + out.expected
    return out


def owned_lists_only_subscribers(quick: bool) -> Outcome:
    size = 3000 if quick else 8000
    outside = []
    for platform in ("email", "sms"):
        for s in seeds(quick, small=2):
            data = _messaging_scenario(platform, size)
            r = run(data, (), s)
            bit = _bit(r, platform)
            reached = (r.model.state.reached & bit) != 0
            subscribed = (r.model.state.subscribed & bit) != 0
            outside.append(int((reached & ~subscribed).sum()))
    return Outcome(expected="email and SMS reach only their subscribers",
                   measured=f"consumers reached by email/SMS who never subscribed: {max(outside)}",
                   tolerance="0", passed=max(outside) == 0)


def b2b_scenario(quick: bool) -> Outcome:
    path = SCENARIOS / "b2b_linkedin.yaml"
    extra = list(SMALL) if quick else []
    leads = [run(path, extra, s).summary["customers"] for s in seeds(quick, small=3)]
    out = linkedin_professionals(quick)
    out.expected = "b2b_linkedin: " + out.expected
    out.measured += f"; leads (customers) per seed with targeting on: {leads}"
    # Leads are rare events (a few per run at this size): the funnel must produce them, pooled.
    out.tolerance += "; leads > 0 pooled over the seeds"
    out.passed = out.passed and sum(leads) > 0
    return out


CASES: list[Case] = [
    Case("funnel drop-off", "stylized fact", funnel_drop_off),
    Case("touches before a $100 purchase", "stylized fact", touches_before_purchase),
    Case("flagship ROAS near $5.20", "stylized fact", flagship_roas),
    Case("retargeting raises conversions", "stylized fact", retargeting_raises_conversions),
    Case("peer shares persuade more than sponsored posts", "stylized fact", peer_vs_sponsored),
    Case("micro-communities earn a higher ROI than mass reach", "stylized fact", micro_beats_mass),
    Case("all-sales calendar loses to jab-jab-jab-right-hook", "stylized fact",
         jab_beats_all_sales),
    Case("email converts clicks near 10%", "stylized fact", email_click_conversion),
    Case("tiktok: reach by engagement, beyond followers", "platform", tiktok_reach_by_engagement),
    Case("pinterest: impressions last months, tiktok days", "platform", pinterest_lasts_months),
    Case("youtube: long-form builds more trust per stop", "platform", youtube_long_form_trust),
    Case("facebook: retargeting beats cold reach", "platform", facebook_retargeting),
    Case("linkedin: professionals and authority", "platform", linkedin_professionals),
    Case("reddit: participate, do not promote", "platform", reddit_signature),
    Case("quora: long-lived search for the problem-aware", "platform", quora_search),
    Case("messaging: no discovery, highest conversion", "platform", messaging_signature),
    Case("messaging: DM path beats cold traffic", "platform", conversational_signature),
    Case("email/sms: only subscribers", "platform", owned_lists_only_subscribers),
    Case("retargeting_ab", "scenario", retargeting_raises_conversions),
    Case("jab_jab_right_hook", "scenario", jab_beats_all_sales),
    Case("micro_vs_mass", "scenario", micro_beats_mass),
    Case("influencer_seeding: reach", "scenario", influencer_degree_beats_random),
    Case("influencer_seeding: customers", "scenario", influencer_customers),
    Case("influencer_seeding: bridges", "scenario", influencer_bridge_beats_random),
    Case("b2b_linkedin", "scenario", b2b_scenario),
    Case("pinterest_evergreen", "scenario", pinterest_lasts_months),
    Case("conversational_commerce", "scenario", conversational_beats_cold),
    Case("reddit_participation", "scenario", reddit_participation_vs_promotion),
]
