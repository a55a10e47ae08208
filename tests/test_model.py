"""The model: invariants on every run, determinism, Mesa integration, direction of effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agents.consumer import Consumer
from agents.states import Stage
from simulation import FunnelModel, load_scenario, run
from simulation.metrics import STAGE_COLUMNS
from tests.conftest import FLAGSHIP, SCENARIOS, SMALL

INVARIANT_CASES = {
    "flagship_small": (FLAGSHIP, SMALL),
    "facebook_friends": (SCENARIOS / "facebook_friends.yaml", ["days=30"]),
    "well_mixed": (FLAGSHIP, [*SMALL, "audience.network.model=complete",
                              "audience.network.mean_degree=8"]),
    "stochastic_block": (FLAGSHIP, [*SMALL, "audience.network.model=stochastic_block"]),
    "erdos_renyi": (FLAGSHIP, [*SMALL, "audience.network.model=erdos_renyi"]),
}


def check_invariants(result) -> None:
    ts, s, plat = result.timeseries, result.summary, result.platforms
    n = s["audience"]
    # Stage counts sum to the audience size every day.
    assert (ts[STAGE_COLUMNS].sum(axis=1) == n).all()
    # Counts are never negative; reach is cumulative.
    numeric = ts.drop(columns=["day"])
    assert (numeric >= 0).all().all()
    assert (np.diff(ts["reach"]) >= 0).all()
    # customers <= reach <= audience.
    assert s["customers"] <= s["reach"] <= n
    assert ts["new_customers"].sum() == s["customers"]
    # Money adds up: per-platform revenue and spend sum to the totals, daily sums too.
    assert plat["revenue"].sum() == pytest.approx(s["revenue"])
    assert plat["spend"].sum() == pytest.approx(s["spend"])
    assert ts["revenue"].sum() == pytest.approx(s["revenue"])
    assert ts["spend"].sum() == pytest.approx(s["spend"])
    assert s["revenue"] == pytest.approx(s["purchases"] * result.model.spec.product.price)
    if s["spend"] > 0:
        assert s["roas"] == pytest.approx(s["revenue"] / s["spend"])
    # Attribution covers every customer once (first and last touch), and linearly.
    assert plat["customers_first_touch"].sum() == s["customers"]
    assert plat["customers_last_touch"].sum() == s["customers"]
    assert plat["customers_linear"].sum() == pytest.approx(s["customers"])
    # Platform reach is at most the overall reach.
    assert (plat["reach"] <= s["reach"]).all()
    assert sum(s["stages"].values()) == n
    st = result.model.state
    assert ((st.trust >= 0) & (st.trust <= 1)).all()
    assert (st.fatigue >= 0).all()


@pytest.mark.parametrize("case", sorted(INVARIANT_CASES))
def test_invariants(case):
    path, overrides = INVARIANT_CASES[case]
    result = run(load_scenario(path, overrides))
    check_invariants(result)
    assert result.summary["reach"] > 0


def test_flagship_funnel_drops_off(small_flagship):
    s = run(small_flagship).summary
    assert s["impressions"] > s["engagements"] > s["clicks"] > s["customers"] > 0


def test_same_seed_same_result_other_seed_differs(small_flagship):
    a = run(small_flagship, seed=5)
    b = run(small_flagship, seed=5)
    c = run(small_flagship, seed=6)
    assert a.summary == b.summary
    assert a.timeseries.equals(b.timeseries)
    assert a.timeseries["engagements"].tolist() != c.timeseries["engagements"].tolist()


def test_consumers_are_mesa_agents_viewing_the_arrays(small_flagship):
    model = FunnelModel(small_flagship)
    model.run(10)
    consumers = model.agents.select(agent_type=type(model.consumers[0]))
    assert len(consumers) == model.graph.n
    c = model.consumers[7]
    assert c.stage == Stage(int(model.state.stage[7]))
    c.trust = 0.9
    assert model.state.trust[7] == 0.9
    assert set(c.platforms) <= set(model.platform_names)
    assert len(model.datacollector.get_model_vars_dataframe()) == 10


def test_materialize_agents_off():
    model = FunnelModel(load_scenario(FLAGSHIP, [*SMALL, "materialize_agents=false"]))
    model.run(3)
    assert model.consumers == [] and len(model.agents) == 1  # only the brand


def test_no_strategy_no_customers():
    result = run(load_scenario(FLAGSHIP, SMALL), seed=1)
    data = result.model.spec.model_dump()
    data["strategy"] = {}
    bare = run(load_scenario(data))
    assert bare.summary["customers"] == 0
    assert bare.summary["impressions"] == 0
    assert bare.summary["spend"] == 0


def paired(path, overrides_a, overrides_b, metric, seeds=range(6)):
    """Paired difference b - a over common seeds: (mean, standard error)."""
    a = np.array([run(load_scenario(path, overrides_a), seed=s).summary[metric] for s in seeds])
    b = np.array([run(load_scenario(path, overrides_b), seed=s).summary[metric] for s in seeds])
    d = b - a
    return d.mean(), d.std(ddof=1) / np.sqrt(len(d))


def paid_only(budget: float) -> dict:
    return {
        "name": "paid_only", "days": 10, "seed": 0,
        "audience": {"size": 3000, "segments": [
            {"name": "all", "share": 1.0, "platforms": {"facebook": 0.7}}]},
        "strategy": {"paid": [{"platform": "facebook", "daily_budget": budget}]},
    }


def test_more_budget_more_reach():
    reach = [np.mean([run(load_scenario(paid_only(b)), seed=s).summary["reach"]
                      for s in range(4)]) for b in (2, 8, 32)]
    assert reach[0] < reach[1] < reach[2]


# Direction tests: the paired difference must exceed 3 standard errors (fixed seeds).


def test_retargeting_on_more_customers():
    mean, se = paired(FLAGSHIP, ["days=60", "strategy.retargeting.0.daily_budget=0"], ["days=60"],
                      "customers")
    assert mean > 3 * se and mean > 0


def test_peer_sharing_off_fewer_customers():
    path = SCENARIOS / "facebook_friends.yaml"
    mean, se = paired(path, ["behavior.peer_view_prob=0"], [], "customers")
    assert mean > 3 * se and mean > 0


def test_paid_spend_is_billed_only_for_impressions_shown():
    # One paid line, no word of mouth, and ads hidden quickly: every billed impression is shown.
    data = paid_only(40)
    data["behavior"] = {"fatigue_limit": 0.3, "peer_view_prob": 0.0, "review_rate": 0.0}
    result = run(load_scenario(data))
    fb = result.platforms.set_index("platform").loc["facebook"]
    assert result.model.state.hidden.sum() > 0
    assert fb["spend"] == pytest.approx(fb["impressions"] * 9.0 / 1000)
    assert fb["spend"] < 40 * 10  # less than the budget: hidden consumers are not served


def test_explicit_influencer_ids_seed_exactly_those_consumers():
    spec = load_scenario(FLAGSHIP, ["audience.size=2000", "materialize_agents=false",
                                    "strategy.influencers.ids=[1999, 7, 300]"])
    model = FunnelModel(spec)
    assert np.flatnonzero(model.state.influencer).tolist() == [7, 300, 1999]
    assert model.n_influencers == 3  # fees are per influencer: count follows the ids
    assert (model.state.stage[[7, 300, 1999]] >= Stage.ENGAGED).all()


@pytest.mark.parametrize("ids, message", [("[5, 2000]", "is not a consumer"),
                                          ("[5, 5]", "is listed twice")])
def test_influencer_ids_outside_the_graph_or_repeated_are_refused(ids, message):
    from simulation.errors import ScenarioError

    spec = load_scenario(FLAGSHIP, ["audience.size=2000", f"strategy.influencers.ids={ids}"])
    with pytest.raises(ScenarioError, match=message) as err:
        FunnelModel(spec)
    assert "strategy.influencers.ids.1" in str(err.value)


@pytest.mark.parametrize("scenario", ["flagship", "cascade", "bass"])
def test_friends_posts_pushed_or_pulled_give_identical_runs(scenario):
    """The exposure pass gets friends' posts pushed from the posters or pulled by each viewer
    (whichever is less work that day): the two must draw the same numbers in the same order."""
    from simulation.validation import bass_scenario, cascade_scenario

    spec = {"flagship": lambda: load_scenario(FLAGSHIP, ["audience.size=3000", "days=40",
                                                         "materialize_agents=false"]),
            "cascade": lambda: cascade_scenario(3000, 8.0, 0.3, 5, days=30),
            "bass": lambda: bass_scenario(0.01, 0.3, 3000, 30, network="watts_strogatz",
                                          mean_degree=8)}[scenario]()
    tables = []
    for mode in ("push", "pull"):
        model = FunnelModel(spec)
        model.friends_mode = mode
        model.trace([0, 1, 2, 500, 2999])
        model.run()
        ts = model.datacollector.get_model_vars_dataframe()
        tables.append((ts, model.journeys(), model.state.trust.copy()))
    assert tables[0][0].equals(tables[1][0])
    assert tables[0][1].equals(tables[1][1])
    assert np.array_equal(tables[0][2], tables[1][2])
    assert tables[0][0]["impressions"].sum() > 0


def test_sessions_written_between_days_are_seen_by_pushed_and_pulled_posts_alike():
    """With certain sessions (drawn once), pushed views skip the check of who opened the
    platform when everyone did (model._all_active); a session written between days (and
    announced with state_changed) must end that, or push would show posts pull does not."""
    from simulation.validation import cascade_scenario

    spec = cascade_scenario(3000, 8.0, 0.3, 5, days=30)
    tables = []
    for mode in ("push", "pull"):
        model = FunnelModel(spec)
        model.friends_mode = mode
        model.run(2)
        assert model._sessions_fixed and model._all_active != 0
        model.state.active[::3] = 0  # a third of the audience stays offline from now on
        model.state_changed()
        model.run(10)
        assert model._all_active == 0
        tables.append((model.datacollector.get_model_vars_dataframe(), model.state.trust.copy()))
    assert tables[0][0].equals(tables[1][0])
    assert np.array_equal(tables[0][1], tables[1][1])
    assert tables[0][0]["engagements"].iloc[2:].sum() > 0


@pytest.mark.parametrize("scenario", ["flagship", "cascade"])
def test_push_work_counted_on_the_way_equals_a_count_from_scratch(scenario):
    """advance_shares counts tomorrow's push work and view bound while it moves the shares;
    friends_views writes up to that bound into its buffer, so it must never fall short: each
    day it must equal kernels.poster_work over the posters from scratch."""
    from simulation import kernels as K
    from simulation.validation import cascade_scenario

    spec = {"flagship": lambda: load_scenario(FLAGSHIP, ["audience.size=3000", "days=25",
                                                         "materialize_agents=false"]),
            "cascade": lambda: cascade_scenario(3000, 8.0, 0.3, 5, days=25)}[scenario]()
    model = FunnelModel(spec)
    busy = 0
    for _ in range(25):
        model.step()
        expected = K.poster_work(model.graph.indptr, model.state.shared_prev, model._posters)
        assert model._push_work == expected
        busy += expected[1] > 0
    assert busy > 5


def test_packed_and_unpacked_share_masks_give_identical_runs():
    """Pulled friends' posts read a friend's shares from one packed word (up to 21 platforms,
    kernels.pack_kinds) or, beyond, from the three masks: the two must give the same run."""
    from simulation.validation import bass_scenario

    spec = bass_scenario(0.01, 0.3, 3000, 30, network="watts_strogatz", mean_degree=8)
    tables = []
    for packed in (True, False):
        model = FunnelModel(spec)
        model.friends_mode = "pull"
        model._packed = packed  # (before the first day: the recount fills the packed words)
        model.run()
        tables.append((model.datacollector.get_model_vars_dataframe(), model.state.trust.copy()))
    assert tables[0][0].equals(tables[1][0])
    assert np.array_equal(tables[0][1], tables[1][1])
    assert tables[0][0]["shares"].sum() > 0


def test_influencers_written_between_days_are_pushed_and_pulled_alike():
    """Who is an influencer is state: written between days (with state_changed), both ways of
    showing friends' posts must use the new list (the push side keeps a list of their ids)."""
    spec = load_scenario(FLAGSHIP, ["audience.size=3000", "days=20", "materialize_agents=false",
                                    "strategy.influencers.count=20"])
    tables = []
    for mode in ("push", "pull"):
        model = FunnelModel(spec)
        model.friends_mode = mode
        model.run(5)
        before = model.state.influencer.copy()
        model.state.influencer[:] = 0
        model.state.influencer[np.flatnonzero(before == 0)[:20]] = 1  # twenty others
        model.state_changed()
        model.run(15)
        tables.append(model.datacollector.get_model_vars_dataframe())
    assert tables[0].equals(tables[1])


def _quiet_cases():
    from simulation.validation import bass_scenario, cascade_scenario

    # Word of mouth only: 40 influencers post weekly (pulled: dense days), friends share, trust
    # decays, customers buy again and refer; the days between are quiet.
    weekly = [*SMALL, "days=40", "strategy.paid=[]", "strategy.retargeting=[]", "strategy.owned=[]",
              "strategy.organic=[]", "strategy.influencers.count=40"]
    return {
        "cascade": lambda: cascade_scenario(4000, 8.0, 0.3, 5, days=30),
        "bass_graph": lambda: bass_scenario(0.01, 0.3, 3000, 30, network="watts_strogatz",
                                            mean_degree=8),
        "weekly_posts": lambda: load_scenario(FLAGSHIP, weekly),
        # Posts, ads and sends every day (no quiet day): each day is screened.
        "flagship": lambda: load_scenario(FLAGSHIP, [*SMALL, "days=30"]),
    }


@pytest.mark.parametrize("scenario", ["cascade", "bass_graph", "weekly_posts", "flagship"])
def test_quiet_days_visit_only_the_worklists_with_identical_outcomes(scenario):
    """On a quiet day (no organic posts, ads or sends) pass B visits only the consumers watched
    since yesterday and those shown a friend's post; on other days it passes over the unwatched
    consumers its draws show nothing (screened). Visiting everyone must give the same run, byte
    for byte: the timeseries, the journeys, every state array."""
    spec = _quiet_cases()[scenario]()
    runs, visited = [], []
    for skip in (True, False):
        model = FunnelModel(spec)
        model.skip_quiet = skip
        model.trace([0, 1, 2, 500, 2999])
        days = []
        for _ in range(spec.days):
            model.step()
            days.append(model.visited)
        visited.append(days)
        runs.append((model.datacollector.get_model_vars_dataframe(), model.journeys(), model.state))
    (ts, journeys, state), (ts_all, journeys_all, state_all) = runs
    assert ts.equals(ts_all) and journeys.equals(journeys_all)
    for name, a, b in zip(state._fields, state, state_all, strict=True):
        assert np.array_equal(a, b), name
    n = state.stage.shape[0]
    assert all(v == n for v in visited[1])
    if scenario == "cascade":
        # The first day is quiet too: the watch list is built from the state (kernels.recount).
        assert visited[0][0] < n // 10
    quiet = [v for v in visited[0] if v < n]
    if scenario == "bass_graph":
        assert not quiet  # an ad for everyone every day: nobody to pass over
    elif scenario == "flagship":
        # Every day screened: the quiet majority shown nothing is passed over.
        assert max(visited[0]) < 0.6 * n
    else:
        assert len(quiet) >= spec.days // 2 and min(quiet) < n // 10
    # The running tallies match the state.
    assert ts[list(STAGE_COLUMNS)].iloc[-1].tolist() == np.bincount(
        state.stage, minlength=len(STAGE_COLUMNS)).tolist()
    assert ts["mean_trust"].iloc[-1] == pytest.approx(state.trust.mean(), abs=1e-10)


def test_writing_the_state_between_days_is_seen_on_a_quiet_day():
    """A Consumer's setters tell the model (state_changed), as must code writing the arrays: the
    next day recounts the tallies, re-reads who posted and rebuilds the watch list from the
    state, so a changed consumer is not skipped as quiet."""
    spec = _quiet_cases()["cascade"]()
    runs = []
    for skip in (True, False):
        model = FunnelModel(spec)
        model.skip_quiet = skip
        model.run(5)
        Consumer(model, 10).trust = 0.9  # above its baseline: it decays from tomorrow on
        Consumer(model, 11).stage = Stage.ENGAGED
        model.run(5)
        # Writing the arrays directly: the caller says so.
        model.state.trust[100:200] = 0.9
        model.state.fatigue[300] = 0.5
        model.state_changed()
        model.run(5)
        runs.append((model.datacollector.get_model_vars_dataframe(), model.state))
    (ts, state), (ts_all, state_all) = runs
    assert ts.equals(ts_all)
    for name, a, b in zip(state._fields, state, state_all, strict=True):
        assert np.array_equal(a, b), name
    assert 0.15 < state.trust[10] < 0.9 and 0.15 < state.trust[150] < 0.9  # they decayed
    assert 0.0 < state.fatigue[300] < 0.5
    assert ts[list(STAGE_COLUMNS)].sum(axis=1).eq(4000).all()
    assert ts[list(STAGE_COLUMNS)].iloc[-1].tolist() == np.bincount(
        state.stage, minlength=len(STAGE_COLUMNS)).tolist()
    assert ts["mean_trust"].iloc[-1] == pytest.approx(state.trust.mean(), abs=1e-10)


def test_shares_written_between_days_reach_friends_the_next_day():
    """After state_changed(), the next day re-reads who shared from ``shared_prev``."""
    model = FunnelModel(_quiet_cases()["cascade"]())
    model.run(30)  # the cascade is over: nothing is shown any more
    assert model.today["impressions"] == 0
    model.state.shared_prev[:10, 0] = 1  # ten consumers shared yesterday on platform 0
    model.state_changed()
    model.step()
    assert model.today["impressions"] > 0  # their friends see the shares


def test_daily_collector_stores_what_mesas_own_collector_stores():
    """metrics.DailyCollector skips Mesa's per-value deepcopy; what it stores must not change."""
    import mesa

    from simulation.metrics import DailyCollector, model_reporters

    model = FunnelModel(load_scenario("scenarios/product_launch.yaml",
                                      ["audience.size=1500", "days=8"]), seed=2)
    mesas = mesa.DataCollector(model_reporters=model_reporters())
    for _ in range(8):
        model.step()
        mesas.collect(model)
    assert isinstance(model.datacollector, DailyCollector)
    ours = model.datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(ours, mesas.get_model_vars_dataframe())
    assert ours["engagements"].sum() > 0 and ours["mean_trust"].nunique() > 1  # (something ran)
    assert model.datacollector._collection_steps == mesas._collection_steps


def test_shares_written_without_state_changed_fail_cleanly_not_past_the_buffer():
    """Pushed views go to a buffer sized from the shares the model knows of; shares written
    between days without state_changed() must stop the run with a clear error, never write
    past the buffer."""
    from simulation.validation import cascade_scenario

    model = FunnelModel(cascade_scenario(4000, 8.0, 1.0, 5, days=20))
    model.friends_mode = "push"
    while model._posters.size <= 20:
        model.step()
    # A review by each of yesterday's posters, written behind the model's back.
    model.state.shared_prev[model._posters, 1] |= model.state.shared_prev[model._posters, 0]
    with pytest.raises(RuntimeError, match="state_changed"):
        model.step()


def test_a_deep_copy_mid_run_goes_on_like_the_original():
    """copy.deepcopy of a model (to branch a what-if from day 3) keeps its own record layout and
    world, and runs on exactly as the original does."""
    import copy

    from agents.layout import RECORD_BYTES

    model = FunnelModel(load_scenario(FLAGSHIP, ["audience.size=2000", "days=10"]), seed=5)
    model.run(3)
    twin = copy.deepcopy(model)
    assert twin.state.trust.strides[0] == RECORD_BYTES
    assert np.shares_memory(twin.state.trust, twin._records)
    assert not np.shares_memory(twin.state.trust, model.state.trust)
    model.run(4)
    twin.run(4)
    assert model.datacollector.get_model_vars_dataframe().equals(
        twin.datacollector.get_model_vars_dataframe())
    for name in model.state._fields:
        assert np.array_equal(getattr(model.state, name), getattr(twin.state, name)), name


def test_a_friend_list_longer_than_a_view_holds_is_refused(monkeypatch):
    """A pushed view holds a friend's position in 26 bits (kernels.MAX_FRIENDS): a graph with a
    longer friend list must be refused with the scenario's error, not corrupt views."""
    from simulation import kernels as K
    from simulation.errors import ScenarioError
    from simulation.validation import cascade_scenario

    spec = cascade_scenario(500, 8.0, 0.3, 5, days=5)
    FunnelModel(spec)  # fine as it is
    monkeypatch.setattr(K, "MAX_FRIENDS", 4)  # (a real case needs 2**26 friends: gigabytes)
    with pytest.raises(ScenarioError, match="audience.network"):
        FunnelModel(spec)
