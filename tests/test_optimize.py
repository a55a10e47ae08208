"""funnelsim optimize: the budget split finds the clearly better platform, CELF seeding beats
random seeding, the content mix keeps the calendar's size, bad input exits 2 writing nothing.

Statistical checks are paired (common random numbers, fixed seeds) with ~4-5 standard-error
margins. Small audiences (2,000 consumers, 30 days) keep the file well under a minute.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from simulation.optimization import optimize
from simulation.optimization.search import simplex_grid, snap
from simulation.optimization.seeding import baseline_ids, fixed_graph, kcore_numbers, seeded_model
from simulation.scenario import load_scenario
from tests.conftest import SCENARIOS, cli

#: Two feeds identical except in price (scenarios/optimize/two_feeds.yaml): 'cheap' sells
#: impressions at a tenth of 'dear's CPM. The file's own plan splits $20/day evenly.
TWO_FEEDS = yaml.safe_load((SCENARIOS / "optimize" / "two_feeds.yaml").read_text())
#: Only influencers reach anyone (scenarios/optimize/seeding.yaml): whom they are decides all.
SEEDING = yaml.safe_load((SCENARIOS / "optimize" / "seeding.yaml").read_text())


def _paired(runs, a: str, b: str, metric: str = "customers") -> tuple[float, float]:
    """Mean and standard error of b - a over the replicates both ran."""
    x = runs[runs["plan"] == a].sort_values("replicate")[metric].to_numpy()
    y = runs[runs["plan"] == b].sort_values("replicate")[metric].to_numpy()
    d = y - x
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))


@pytest.fixture(scope="module")
def split():
    return optimize(TWO_FEEDS, budget=20, objective="customers", over="platforms", reps=4,
                    trials=10)


def test_budget_goes_to_the_cheap_platform_and_beats_the_even_split(split, tmp_path):
    spends = split.best_params
    assert spends["spend:paid.1:cheap"] >= 0.75 * 20, spends
    assert math.isclose(sum(spends.values()), 20, abs_tol=0.05)
    # The file's own plan is the even split; the best plan beats it on fresh, paired seeds.
    mean, low, _ = split.improvement()
    assert low > 0, split.confirm
    own = split.confirm["plan"].iloc[0]
    d, se = _paired(split.confirm_runs, own, split.confirmed_best)
    assert d > 4 * se > 0 or (d > 0 and se == 0)
    # Response curves: customers rise with the cheap line's spend (more than the dear line's).
    c = split.curves
    cheap = c[c["platform"] == "cheap"].sort_values("daily_budget")
    dear = c[c["platform"] == "dear"].sort_values("daily_budget")
    assert cheap["incremental_customers"].iloc[-1] > dear["incremental_customers"].iloc[-1]
    assert cheap["incremental_customers"].iloc[-1] > cheap["incremental_customers"].iloc[1]
    # Files: the plan is a valid scenario with the best budgets.
    written = {p.name for p in split.write(tmp_path)}
    assert {"plan.yaml", "report.md", "candidates.csv", "candidates.parquet", "curves.csv",
            "curves.png", "confirm.csv", "confirm.png"} <= written
    plan = load_scenario(tmp_path / "plan.yaml")
    assert plan.strategy.paid[1].daily_budget == pytest.approx(spends["spend:paid.1:cheap"])
    assert "Improvement" in (tmp_path / "report.md").read_text()
    assert not list(tmp_path.glob(".*.tmp"))


def test_optuna_method_also_finds_the_cheap_platform():
    opt = optimize(TWO_FEEDS, budget=20, objective="customers", over="platforms", reps=2,
                   trials=8, method="optuna", seed=3)
    assert opt.best_params["spend:paid.1:cheap"] >= 0.75 * 20, opt.candidates
    assert set(opt.candidates["stage"]) == {"reference", "optuna"}


def test_min_roas_makes_plans_infeasible():
    opt = optimize(TWO_FEEDS, budget=20, objective="customers", over="platforms", reps=2,
                   trials=4, min_roas=1e6)
    assert not opt.candidates["feasible"].any()


def test_celf_seeding_beats_random_seeding():
    opt = optimize(SEEDING, objective="customers", over="influencers", reps=4, trials=40,
                   pool=12)
    assert len(opt.seed_ids["celf"]) == 5
    runs = opt.confirm_runs
    assert "random" in set(runs["plan"]) and opt.confirmed_best != "random"
    d, se = _paired(runs, "random", opt.confirmed_best)
    assert d > 4.5 * se and d > 0, opt.confirm
    table = opt.candidates.set_index("candidate")
    assert table.loc["celf", "objective"] > table.loc["random", "objective"]
    # CELF's greedy curve starts at no seeds and rises.
    assert opt.curves["seeds"].tolist() == list(range(6))
    assert opt.curves["customers_mean"].iloc[-1] > opt.curves["customers_mean"].iloc[0]


def test_seeded_model_seeds_exactly_the_given_ids():
    sc = load_scenario(SEEDING)
    graph = fixed_graph(sc)
    model = seeded_model(sc, 3, [7, 1, 42], graph=graph)
    assert np.flatnonzero(model.state.influencer).tolist() == [1, 7, 42]
    assert model.n_influencers == 3
    assert (model.state.stage[[1, 7, 42]] >= 2).all()
    # The fixed graph is the model's own for the scenario's seed.
    from simulation.model import FunnelModel

    own = FunnelModel(sc.model_copy(update={"materialize_agents": False}))
    assert np.array_equal(own.graph.indices, graph.indices)


def test_explicit_ids_reproduce_the_engines_own_selection():
    """Seeding the top-degree ids through seeded_model gives the very run of selection: degree."""
    from simulation.optimization.runs import run_one

    sc = load_scenario(SEEDING)
    graph = fixed_graph(sc)
    data = {**sc.model_dump(mode="json"), "materialize_agents": False}
    ids = baseline_ids(graph, "degree", sc.strategy.influencers.count)
    a, b = run_one(data, 17, ids, graph=graph), run_one(data, 17, graph=graph)
    for m in ("customers", "revenue", "spend", "reach", "purchases"):
        assert a[m] == b[m], m


def test_baselines():
    import networkx as nx

    graph = fixed_graph(load_scenario(SEEDING))
    deg = graph.degree()
    top = baseline_ids(graph, "degree", 5)
    assert sorted(deg[top]) == sorted(np.sort(deg)[-5:])
    core = kcore_numbers(graph)
    g = graph.to_networkx()
    g.remove_edges_from(list(nx.selfloop_edges(g)))
    expected = nx.core_number(g)
    assert core.tolist() == [expected[i] for i in range(graph.n)]
    assert core[baseline_ids(graph, "kcore", 5)].min() == core.max()


def test_simplex_grid():
    assert len(simplex_grid(3, 4)) == 15
    assert all(math.isclose(sum(p), 1.0) for p in simplex_grid(4, 3))
    assert sum(snap([0.3333, 0.3333, 0.3334])) == 1.0


def test_mix_keeps_posts_per_platform(tmp_path):
    opt = optimize("scenarios/jab_jab_right_hook.yaml", objective="customers", over="mix",
                   reps=2, trials=5, overrides=["audience.size=1000", "days=20"])
    shares = [opt.best_params[f"share:{p}"] for p in ("attention", "trust", "action")]
    assert math.isclose(sum(shares), 1.0, abs_tol=1e-3)
    organic = opt.plan["strategy"]["organic"]
    assert len(organic) == 3 and {o["purpose"] for o in organic} == {"attention", "trust",
                                                                     "action"}
    assert sum(o["posts_per_week"] for o in organic) == pytest.approx(4.0, abs=1e-3)
    assert opt.curves["share_action"].tolist()[0] == 0.0
    load_scenario(opt.plan)


def test_own_plan_best_writes_a_report(tmp_path):
    """With one trial the only candidate is the file's own mix: the final check has one plan."""
    opt = optimize("scenarios/jab_jab_right_hook.yaml", objective="profit", over="mix", reps=2,
                   trials=1, overrides=["audience.size=500", "days=10"])
    assert opt.improvement() == (0.0, 0.0, 0.0)
    assert "own plan is the best" in opt.verdict()
    names = {p.name for p in opt.write(tmp_path)}
    assert {"report.md", "confirm.png", "plan.yaml"} <= names


@pytest.mark.parametrize("args, message", [
    (["--budget", "0"], "budget > 0"),
    (["--budget", "-5"], "budget > 0"),
    (["--budget", "20", "--objective", "sales"], "unknown objective"),
    (["--budget", "20", "--over", "platfroms"], "did you mean 'platforms'"),
    ([], "required for --over platforms"),
    (["--budget", "20", "--reps", "1"], "at least 2"),
    (["--budget", "20", "--min-roas", "-1"], "ratio >= 0"),
    (["--over", "influencers"], "seeds no influencers"),
    (["--budget", "20", "--method", "annealing"], "unknown search method"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, args, message):
    from typer.testing import CliRunner

    from simulation.cli import app

    path = tmp_path / "two_feeds.yaml"
    path.write_text(yaml.safe_dump(TWO_FEEDS))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["optimize", str(path), *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_no_paid_lines_for_platforms_exits_2(tmp_path):
    path = tmp_path / "seeding.yaml"
    path.write_text(yaml.safe_dump(SEEDING))
    out = tmp_path / "out"
    proc = cli("optimize", path, "--budget", "10", "--out", out)
    assert proc.returncode == 2
    assert "no paid or retargeting lines" in proc.stderr
    assert proc.stderr.count("error:") == 1 and "Traceback" not in proc.stderr
    assert not out.exists()
