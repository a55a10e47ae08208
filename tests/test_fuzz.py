"""Fuzzing the scenario loader and a short run with hypothesis (issue 9).

Four generators, all reproducible (``derandomize=True``): valid scenarios built from the schema,
near-valid ones with exactly one field broken, random YAML (random data and random text), and random
``--set`` strings. Each document is written to a file and loaded with ``load_scenario`` in-process.
The promises checked:

* nothing escapes but :class:`simulation.errors.FunnelsimError` (no traceback for any input);
* every rejection names where: a key path, or a line of the YAML, or says what is wrong with the
  whole file; a broken field is named by its own path (or a parent's);
* every valid scenario is accepted, and a short run of it (3 days, <= 300 consumers) keeps the run
  invariants: stages sum to the audience, money is finite and not negative, customers <= reach.
"""

from __future__ import annotations

import math
import re

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from platforms.mechanics import Mechanic
from platforms.registry import known_platforms, resolve
from simulation.errors import FunnelsimError
from simulation.metrics import STAGE_COLUMNS
from simulation.scenario import Scenario, apply_override, load_scenario

PLATFORMS = known_platforms()
LISTED = {n for n in PLATFORMS if resolve(n).mechanic in (Mechanic.OWNED_LIST, Mechanic.MESSAGING)}
FEEDS = [n for n in PLATFORMS if n not in LISTED]
ADS = [n for n in FEEDS if resolve(n).paid_ads]
RETARGET = [n for n in ADS if resolve(n).retargeting]
WHOLE_FILE = ("unknown key", "expected KEY=VALUE", "a scenario must be a mapping", "file is larger",
              "not a UTF-8", "YAML does not parse")
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


def _valid_names(kind):
    from platforms.content import Format, Hook, Purpose, names

    return names({"format": Format, "hook": Hook, "purpose": Purpose}[kind])


FORMATS, HOOKS, PURPOSES = _valid_names("format"), _valid_names("hook"), _valid_names("purpose")

prob = st.floats(0.0, 1.0, allow_nan=False)


def creative():
    return st.fixed_dictionaries({}, optional={
        "format": st.sampled_from(FORMATS), "hook": st.sampled_from(HOOKS),
        "purpose": st.sampled_from(PURPOSES), "quality": prob})


@st.composite
def scenarios(draw, max_size: int = 20_000_000, max_days: int = 3650) -> dict:
    """A valid scenario document, built from the schema's rules."""
    n_seg = draw(st.integers(1, 3))
    shares = [1.0 / n_seg] * n_seg
    segments = []
    for i in range(n_seg):
        used = draw(st.lists(st.sampled_from(PLATFORMS), min_size=1, max_size=4, unique=True))
        platforms = {p: draw(st.one_of(prob, st.fixed_dictionaries({"activity": prob},
                                                                   optional={"share": prob})))
                     for p in used}
        seg = {"name": f"seg{i}", "share": shares[i], "platforms": platforms}
        seg.update(draw(st.fixed_dictionaries({}, optional={
            "ad_skepticism": prob, "peer_susceptibility": prob, "price_sensitivity": prob,
            "in_market": prob, "baseline_trust": prob, "professional": prob,
            "hooks": st.lists(st.sampled_from(HOOKS), min_size=1, max_size=3, unique=True)})))
        segments.append(seg)
    audience_platforms = sorted({p for s in segments for p in s["platforms"]})
    feeds = [p for p in audience_platforms if p in FEEDS]
    ads = [p for p in audience_platforms if p in ADS]
    retarget = [p for p in audience_platforms if p in RETARGET]
    network = draw(st.one_of(st.just({}), st.fixed_dictionaries({
        "model": st.sampled_from(["barabasi_albert", "watts_strogatz", "powerlaw_cluster",
                                  "stochastic_block", "erdos_renyi", "complete"]),
        "mean_degree": st.floats(0.5, 30.0)}, optional={"communities": st.integers(1, 20),
                                                       "mixing": prob, "triangle_prob": prob,
                                                       "rewire_prob": prob})))
    strategy: dict = {}
    if feeds:
        strategy["organic"] = draw(st.lists(st.fixed_dictionaries(
            {"platform": st.sampled_from(feeds), "posts_per_week": st.floats(0.0, 70.0)},
            optional={"cost_per_post": st.floats(0, 1e4)}).map(lambda d: d), max_size=3))
    if ads:
        strategy["paid"] = draw(st.lists(st.builds(
            lambda base, extra: {**base, **extra},
            st.fixed_dictionaries({"platform": st.sampled_from(ads),
                                   "daily_budget": st.floats(0.0, 5e3)},
                                  optional={"objective": st.sampled_from(
                                      ["reach", "engagement", "conversions"]),
                                      "frequency_cap": st.integers(1, 100)}),
            creative()), max_size=3))
    if retarget:
        strategy["retargeting"] = draw(st.lists(st.fixed_dictionaries(
            {"platform": st.sampled_from(retarget), "daily_budget": st.floats(0.0, 5e3)},
            optional={"pool": st.sampled_from(["aware", "engaged", "customers"]),
                      "window_days": st.integers(1, 3650)}), max_size=2))
    strategy["owned"] = draw(st.lists(st.fixed_dictionaries(
        {"platform": st.sampled_from(sorted(LISTED)), "capture_rate": prob},
        optional={"sends_per_week": st.floats(0.0, 14.0), "unsubscribe_rate": prob}), max_size=2))
    if feeds and draw(st.booleans()):
        strategy["influencers"] = {"count": draw(st.integers(0, 20)),
                                   "platform": draw(st.sampled_from(feeds)),
                                   "fee": draw(st.floats(0.0, 1e4)),
                                   "selection": draw(st.sampled_from(["degree", "random", "bridge"]))}
    if draw(st.booleans()):
        strategy["referral"] = {"reward": draw(st.floats(0.0, 500.0))}
    doc = {
        "name": draw(st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True)),
        "days": draw(st.integers(1, max_days)),
        "seed": draw(st.integers(0, 2**63 - 1)),
        "audience": {"size": draw(st.integers(1, max_size)), "network": network,
                     "segments": segments},
        "strategy": strategy,
    }
    if draw(st.booleans()):
        doc["product"] = draw(st.fixed_dictionaries({}, optional={
            "price": st.floats(0.01, 1e6), "margin": prob,
            "repurchase_days": st.one_of(st.none(), st.floats(1.0, 1e4))}))
    return doc


def _paths(node, prefix=()):
    """Every key path of a document (dicts by key, lists by index)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        yield (*prefix, k)
        yield from _paths(v, (*prefix, k))


BROKEN = st.sampled_from([None, -1, -1e9, 1e300, "not a number", [], {}, {"bogus": 1}, [1, 2],
                          True, "", float("nan"), float("inf"), 2**70, "x" * 200])


@st.composite
def near_valid(draw):
    """A valid scenario with one field broken: a wrong value, a misspelled key or a missing key."""
    doc = draw(scenarios())
    paths = [p for p in _paths(doc) if p]
    path = draw(st.sampled_from(paths))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    how = draw(st.sampled_from(["value", "typo", "delete"]))
    last = path[-1]
    if how == "typo" and isinstance(parent, dict):
        parent[str(last) + "x"] = parent.pop(last)
        path = (*path[:-1], str(last) + "x")
    elif how == "delete" and isinstance(parent, dict):
        del parent[last]
    else:
        parent[last], how = draw(BROKEN), "value"
    return doc, ".".join(map(str, path)), how


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30)


def _write(tmp_path, text: str):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


def _dump(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _check_rejection(exc: FunnelsimError) -> None:
    assert exc.problems, exc
    for p in exc.problems:
        where = p.path or ("line " in p.message) or p.message.startswith(WHOLE_FILE)
        assert where, f"a rejection that names no key path or line: {exc}"
    assert "Traceback" not in str(exc)


def _load(tmp_path, text: str, overrides=()):
    """load_scenario on a file; returns the Scenario or the FunnelsimError (anything else fails)."""
    try:
        return load_scenario(_write(tmp_path, text), list(overrides))
    except FunnelsimError as exc:
        _check_rejection(exc)
        return exc


# --- the generators ------------------------------------------------------------------------------


@settings(FUZZ, max_examples=200)
@given(doc=scenarios())
def test_valid_scenarios_are_accepted(tmp_path, doc):
    out = _load(tmp_path, _dump(doc))
    assert isinstance(out, Scenario), out
    assert out.audience.size == doc["audience"]["size"] and out.days == doc["days"]


@settings(FUZZ, max_examples=200)
@given(case=near_valid())
def test_near_valid_scenarios_name_the_broken_key(tmp_path, case):
    doc, broken, how = case
    out = _load(tmp_path, _dump(doc))
    if isinstance(out, Scenario) or how == "delete":
        # The new value happened to be valid; or a deleted key took its default, which may clash
        # with another section (default segments that do not use a platform of the strategy):
        # _load already checked that the error names a key path.
        return
    paths = [p.path for p in out.problems]
    related = [p for p in paths if p == "" or broken.startswith(p) or p.startswith(broken)
               or _same_parent(p, broken)]
    assert related, f"broke {broken!r}, the error names {paths}: {out}"


def _same_parent(a: str, b: str) -> bool:
    """Cross-field checks (shares sum, unknown platform) name the section, not the field."""
    return a.rsplit(".", 1)[0] == b.rsplit(".", 1)[0] or b.startswith(a.rsplit(".", 2)[0])


@settings(FUZZ, max_examples=100)
@given(data=json_like)
def test_random_yaml_data(tmp_path, data):
    out = _load(tmp_path, yaml.safe_dump(data, allow_unicode=True))
    assert isinstance(out, FunnelsimError | Scenario)


@settings(FUZZ, max_examples=100)
@given(text=st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.sampled_from(list("{}[]:-,&*!|>'\"#%@` \n\tab01.?~")), max_size=200),
    st.builds(lambda doc, cut: _dump(doc)[:cut], scenarios(), st.integers(0, 400))))
def test_random_yaml_text(tmp_path, text):
    if re.search(r"[\ud800-\udfff]", text):
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    out = _load(tmp_path, text)
    assert isinstance(out, FunnelsimError | Scenario)


KEYS = st.one_of(
    st.sampled_from(["days", "seed", "name", "audience.size", "audience.segments.0.share",
                     "audience.segments.7.share", "audience.network.model", "strategy.paid.0.daily_budget",
                     "strategy.paid.x.daily_budget", "product.price", "product", "platforms.tiktok.cpm",
                     "platforms.newnet.mechanic", "behavior.credibility.peer", "days.x", "", ".",
                     "audience..size", "strategy.influencers.count", "stage_labels.customer"]),
    st.text(max_size=30))
VALUES = st.one_of(st.sampled_from(["30", "-1", "1e400", ".nan", "[1, 2]", "{a: 1}", "null", "~", "",
                                    "'x'", "&a [*a]", "!!python/object/apply:os.system [id]",
                                    "[" * 60 + "]" * 60, "0x10", "true", "2**70"]),
                   st.text(max_size=40))


@settings(FUZZ, max_examples=150)
@given(items=st.lists(st.builds(lambda k, v, eq: f"{k}{'=' if eq else ''}{v}", KEYS, VALUES,
                                st.booleans()), min_size=1, max_size=3))
def test_set_overrides(tmp_path, items):
    """``--set`` strings through load_scenario(path, overrides) and apply_override directly."""
    from tests.conftest import FLAGSHIP

    items = [i.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for i in items]
    text = FLAGSHIP.read_text()
    out = _load(tmp_path, text, items)
    assert isinstance(out, FunnelsimError | Scenario)
    try:
        data = apply_override(yaml.safe_load(text), items[0])
        assert isinstance(data, dict)
    except FunnelsimError as exc:
        _check_rejection(exc)


# --- short runs ----------------------------------------------------------------------------------


@settings(FUZZ, max_examples=30)
@given(doc=scenarios(max_size=300, max_days=3))
def test_accepted_scenarios_run_and_keep_invariants(tmp_path, doc):
    from simulation.model import FunnelModel
    from simulation.results import Result

    spec = load_scenario(_write(tmp_path, _dump(doc)))
    model = FunnelModel(spec)
    model.run()
    result = Result.from_model(model)
    s, ts = result.summary, result.timeseries
    n = spec.audience.size
    assert s["audience"] == n and s["days"] == spec.days == len(ts)
    assert (ts[STAGE_COLUMNS].sum(axis=1) == n).all()
    assert sum(s["stages"].values()) == n
    for key in ("revenue", "spend", "impressions", "engagements", "clicks", "customers", "reach"):
        assert math.isfinite(s[key]) and s[key] >= 0, (key, s[key])
    assert s["customers"] <= s["reach"] <= n
    numeric = ts.drop(columns=["day"]).to_numpy(dtype=float)
    assert np.isfinite(numeric).all() and (numeric >= 0).all()
    assert (np.diff(ts["ever_engaged"].to_numpy()) >= 0).all()
    assert 0.0 <= s["mean_trust"] <= 1.0
