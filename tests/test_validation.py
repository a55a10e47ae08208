"""Verification: the general model reduces to the Bass model and to bond percolation.

Tolerances are 4.5 standard errors. For the Bass curve the standard error is the larger of the
binomial one and the spread across replicates (adoption times are correlated, so a trajectory
varies more than a binomial draw), plus the known gap between the model's daily hazard
``1 - (1 - p)(1 - qF)`` and the Bass hazard ``p + qF``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulation.model import FunnelModel
from simulation.validation import (
    bass_closed_form,
    bass_curve,
    bass_scenario,
    cascade_scenario,
    percolation_size,
    small_outbreak_mean,
)

Z = 4.5


def _adopter_share(p, q, size, days, seeds, **kw) -> np.ndarray:
    runs = []
    for s in seeds:
        model = FunnelModel(bass_scenario(p, q, size, days, seed=s, **kw)).run()
        runs.append(model.datacollector.get_model_vars_dataframe()["adopters"].to_numpy() / size)
    return np.array(runs)


def _channel_overlap(p, q, days) -> np.ndarray:
    """|Bass recursion - the model's exact mean-field recursion| per day."""
    f, out = 0.0, []
    for _ in range(days):
        f = f + (1.0 - (1.0 - p) * (1.0 - q * f)) * (1.0 - f)
        out.append(f)
    return np.abs(bass_curve(p, q, days) - np.array(out))


def test_bass_recursion_matches_closed_form_for_small_steps():
    # Sanity of the theory itself: with small daily rates the recursion is the closed form.
    p, q = 0.001, 0.01
    t = np.arange(1, 1001)
    assert np.max(np.abs(bass_curve(p, q, 1000) - bass_closed_form(p, q, t))) < 0.01


def test_fully_mixed_population_follows_the_bass_curve():
    p, q, size, days, reps = 0.01, 0.15, 20_000, 45, 6
    runs = _adopter_share(p, q, size, days, range(reps))
    theory = bass_curve(p, q, days)
    binomial_se = np.sqrt(theory * (1 - theory) / size)
    spread_se = runs.std(axis=0, ddof=1)
    se = np.maximum(binomial_se, spread_se) / math.sqrt(reps)
    gap = np.abs(runs.mean(axis=0) - theory)
    tolerance = Z * se + _channel_overlap(p, q, days)
    worst = int(np.argmax(gap / tolerance))
    assert np.all(gap <= tolerance), (worst, gap[worst], tolerance[worst])
    # And the curve is an S: the peak of new adopters is in the middle, not on day 1.
    new = np.diff(runs.mean(axis=0))
    assert 5 < int(np.argmax(new)) < 35


def test_sparse_graph_adopts_more_slowly_than_a_mixed_population():
    p, q, size, days = 0.01, 0.15, 20_000, 20
    mixed = _adopter_share(p, q, size, days, range(3))[:, -1]
    sparse = _adopter_share(p, q, size, days, range(3), network="watts_strogatz",
                            mean_degree=4)[:, -1]
    se = math.sqrt(mixed.var(ddof=1) / 3 + sparse.var(ddof=1) / 3 + 2 * 0.25 / size)
    assert mixed.mean() - sparse.mean() > Z * se


def _cascade_sizes(n, c, t, reps, days=60) -> np.ndarray:
    sizes = []
    for s in range(reps):
        model = FunnelModel(cascade_scenario(n, c, t, 1, days=days, seed=s)).run()
        sizes.append(model.today["ever_engaged"])
    return np.array(sizes, dtype=float)


def test_cascade_above_threshold_matches_bond_percolation():
    n, c, t, reps = 5_000, 4.0, 0.5, 200
    sizes = _cascade_sizes(n, c, t, reps)
    s = percolation_size(c, t)
    large = sizes > 0.1 * n
    # For Erdos-Renyi graphs the chance that one seed starts a large outbreak is S itself.
    assert abs(large.mean() - s) <= Z * math.sqrt(s * (1 - s) / reps)
    share = sizes[large] / n
    # Finite-size spread of the giant component plus 1/n rounding.
    assert abs(share.mean() - s) <= Z * share.std(ddof=1) / math.sqrt(large.sum()) + 2.0 / n


@pytest.mark.parametrize(("c", "t"), [(4.0, 0.15), (2.0, 0.3)])
def test_cascade_below_threshold_has_mean_size_one_over_one_minus_ct(c, t):
    n, reps = 5_000, 400
    sizes = _cascade_sizes(n, c, t, reps, days=40)
    r = c * t
    # Total progeny of a Poisson(r) branching process: mean 1/(1-r), variance r/(1-r)^3.
    se = math.sqrt(r / (1 - r) ** 3 / reps)
    assert abs(sizes.mean() - small_outbreak_mean(c, t)) <= Z * se
    assert sizes.max() < 0.05 * n  # no large outbreaks below the threshold
    assert percolation_size(c, t) == 0.0


def test_reductions_are_ordinary_scenarios():
    from simulation.results import run

    result = run(bass_scenario(0.02, 0.2, 500, 5))
    assert {"adopters", "ever_engaged"} <= set(result.timeseries.columns)
    assert result.timeseries["adopters"].is_monotonic_increasing


def test_binomial_draw_has_binomial_moments_even_when_p0_underflows():
    from scipy import stats

    from simulation.kernels import binomial_from_uniform

    u = (np.arange(20_000) + 0.5) / 20_000  # a quasi-uniform grid: the draw is the quantile
    for trials, prob in [(1, 0.3), (12, 0.1), (10_000, 0.2), (5_000, 0.001)]:
        draws = np.array([binomial_from_uniform(trials, prob, x) for x in u])
        mean, sd = trials * prob, math.sqrt(trials * prob * (1 - prob))
        assert abs(draws.mean() - mean) <= 0.01 * sd + 0.01
        assert abs(draws.std() - sd) <= 0.02 * sd + 0.01
        assert draws.min() >= 0 and draws.max() <= trials
        # Quantiles agree with scipy's binomial within one count.
        for q in (0.1, 0.5, 0.9):
            assert abs(np.quantile(draws, q) - stats.binom.ppf(q, trials, prob)) <= 1
