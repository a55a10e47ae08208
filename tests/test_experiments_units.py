"""Units of the experiments package that need no model run: values, designs, seeds, intervals,
spec validation (every bad spec is refused before anything runs)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from scipy import stats

from simulation.errors import FunnelsimError
from simulation.experiments.parameters import Parameter, format_value, parameter_from_spec, parse_param_option
from simulation.experiments.samplers import sample
from simulation.experiments.seeds import replicate_seed, replicate_seeds
from simulation.experiments.spec import plan_sweep
from simulation.experiments.stats import mean_interval, paired_interval, unpaired_interval
from tests.conftest import FLAGSHIP


@pytest.mark.parametrize("value", [0, 7, -3, 0.1, 1e-05, 2.5e20, 1.0, True, False, None, "10",
                                   "tiktok", "a: b"])
def test_format_value_round_trips_through_yaml(value):
    assert yaml.safe_load(format_value(value)) == value
    assert type(yaml.safe_load(format_value(value))) is type(value)


def test_range_and_values_map_the_unit_interval():
    p = Parameter("x", low=0.0, high=200.0)
    assert p.value_at(0) == 0.0 and p.value_at(1) == 200.0 and p.value_at(0.25) == 50.0
    q = Parameter("x", low=1, high=10, integer=True)
    assert q.value_at(0.5) == 6 and isinstance(q.value_at(0.5), int)
    v = Parameter("x", values=("a", "b", "c"))
    assert [v.value_at(u) for u in (0, 0.33, 0.34, 0.66, 0.67, 1.0)] == list("aabbcc")
    assert [v.value_at(u) for u in v.grid_units()] == ["a", "b", "c"]
    lg = Parameter("x", low=1.0, high=100.0, log=True)
    assert lg.value_at(0.5) == pytest.approx(10.0)


def test_designs_have_the_documented_sizes():
    ps = [Parameter("a", low=0.0, high=1.0, levels=3), Parameter("b", values=(1, 2))]
    assert sample("grid", ps, 0, 1).shape == (6, 2)
    assert sample("random", ps, 10, 1).shape == (10, 2)
    lhs = sample("lhs", ps, 10, 1)
    # Latin hypercube: each of the 10 slices of each axis holds exactly one point
    assert all(sorted(np.floor(lhs[:, j] * 10).astype(int)) == list(range(10)) for j in range(2))
    assert sample("sobol", ps, 8, 1).shape == (8 * (2 + 2), 2)
    assert sample("sobol", ps, 8, 1, second_order=True).shape == (8 * (2 * 2 + 2), 2)
    assert sample("morris", ps, 5, 1).shape == (5 * 3, 2)
    assert np.array_equal(sample("lhs", ps, 10, 7), sample("lhs", ps, 10, 7))


def test_replicate_seeds_follow_the_documented_rule():
    seeds = replicate_seeds(42, 4)
    assert seeds == replicate_seeds(42, 4) and len(set(seeds)) == 4
    assert replicate_seeds(42, 6)[:4] == seeds  # adding replicates keeps earlier seeds
    child = np.random.SeedSequence(42).spawn(1)[0].spawn(3)[2]  # spawn_key (0, 2)
    assert replicate_seed(42, 2) == int(child.generate_state(1, dtype=np.uint64)[0] >> 1)
    assert all(0 <= s < 2**63 for s in seeds)


def test_intervals_match_textbook_formulas():
    rng = np.random.default_rng(3)
    x = rng.normal(10, 2, 25)
    m, lo, hi = mean_interval(x)
    half = stats.t.ppf(0.975, 24) * x.std(ddof=1) / 5
    assert m == pytest.approx(x.mean()) and hi - m == pytest.approx(half)
    y = x + rng.normal(1, 0.1, 25)
    d, dlo, dhi = paired_interval(x, y)
    _, ulo, uhi = unpaired_interval(x, y)
    assert d == pytest.approx((y - x).mean()) and dhi - dlo < (uhi - ulo) / 5
    assert math.isnan(mean_interval([1.0])[1])


def test_coverage_of_the_mean_interval_is_95_percent():
    """Over 2,000 normal samples of 10 the interval covers the true mean 95% of the time
    (binomial standard error 0.49 points; tolerance 5 standard errors)."""
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(2000):
        _, lo, hi = mean_interval(rng.normal(5.0, 3.0, 10))
        hits += lo <= 5.0 <= hi
    assert abs(hits / 2000 - 0.95) < 5 * math.sqrt(0.95 * 0.05 / 2000)


def _spec(**kw):
    spec = {"base": str(FLAGSHIP), "set": ["audience.size=500", "days=5"], "design": "grid",
            "parameters": {"strategy.retargeting.0.daily_budget": [0, 50]}}
    spec.update(kw)
    return spec


@pytest.mark.parametrize("change, words", [
    ({"parameters": {"strategy.retargeting.0.daly_budget": [0, 1]}}, "did you mean 'daily_budget'"),
    ({"parameters": {"strategy.paid.4.daily_budget": [0, 1]}}, "no list item 4"),
    ({"parameters": {"product.price": {"range": [100, 100]}}}, "empty range"),
    ({"parameters": {"product.price": {"range": [200, 100]}}}, "empty range"),
    ({"parameters": {"product.price": []}}, "empty list of values"),
    ({"parameters": {"product.price": [10, -5]}}, "design point 1"),
    ({"design": "latin"}, "unknown design 'latin'"),
    ({"design": "sobol", "samples": 10}, "power of 2"),
    ({"replicates": 0}, "replicates"),
    ({"metrics": ["custmers"]}, "did you mean 'customers'"),
    ({"base": "nowhere.yaml"}, "file not found"),
    ({"replicas": 3}, "did you mean 'replicates'"),
])
def test_bad_specs_are_refused_with_one_clear_message(change, words):
    with pytest.raises(FunnelsimError) as err:
        plan_sweep(_spec(**change))
    assert words in str(err.value)


def test_param_option_parses_yaml_scalars():
    assert parse_param_option("days=30,60") == ("days", [30, 60])
    assert parse_param_option("strategy.paid.0.objective=reach, conversions")[1] == [
        "reach", "conversions"]
    with pytest.raises(FunnelsimError, match="empty list"):
        parse_param_option("days=")
    with pytest.raises(FunnelsimError, match="parameters.x"):
        parameter_from_spec("x", {"range": [1, 2], "step": 3}, "f")


def test_plan_ids_seeds_and_overrides():
    plan = plan_sweep(_spec(replicates=3, seed=5))
    assert plan.n_runs == 6 and plan.seeds == replicate_seeds(5, 3)
    task = plan.task(4)  # point 1, replicate 1
    assert task.seed == plan.seeds[1]
    assert task.overrides == ("strategy.retargeting.0.daily_budget=50",)
    assert plan.row_keys(4)["point_id"] == 1
