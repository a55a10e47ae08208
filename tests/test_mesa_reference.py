"""The idiomatic Mesa reference (benchmarks/mesa_reference.py) and funnelsim's Bass reduction on a
graph (simulation.validation.bass_scenario) give the same mean adoption curve.

Both run on the same graphs (funnelsim generates each replicate's Erdos-Renyi graph; the Mesa model
gets it as a NetworkX graph) with independent random numbers. Tolerance: 4.5 standard errors of the
difference of the two means, per day; the standard error is the larger of the replicate spread and
the binomial one, so days where every run is at 0 or at saturation do not give a zero tolerance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import mesa_reference
from simulation.model import FunnelModel
from simulation.validation import bass_scenario

Z = 4.5
P, Q, K, SIZE, DAYS, REPS = 0.01, 0.3, 10, 2500, 30, 8


@pytest.fixture(scope="module")
def curves():
    funnel, graphs = [], []
    for s in range(REPS):
        model = FunnelModel(bass_scenario(P, Q, SIZE, DAYS, network="erdos_renyi", mean_degree=K,
                                          seed=s)).run()
        funnel.append(model.datacollector.get_model_vars_dataframe()["adopters"].to_numpy())
        graphs.append(model.graph.to_networkx())
    mesa_runs = [mesa_reference.adoption_curve(g, P, Q, K, DAYS, seed=1000 + s)
                 for s, g in enumerate(graphs)]
    return np.array(funnel, dtype=float) / SIZE, np.array(mesa_runs, dtype=float) / SIZE, graphs


def _within(a: np.ndarray, b: np.ndarray) -> tuple[bool, int, float, float]:
    share = (a.mean(axis=0) + b.mean(axis=0)) / 2
    binomial = np.sqrt(share * (1 - share) / SIZE)
    se_a = np.maximum(a.std(axis=0, ddof=1), binomial) / math.sqrt(a.shape[0])
    se_b = np.maximum(b.std(axis=0, ddof=1), binomial) / math.sqrt(b.shape[0])
    gap = np.abs(a.mean(axis=0) - b.mean(axis=0))
    tol = Z * np.sqrt(se_a**2 + se_b**2)
    worst = int(np.argmax(gap / np.maximum(tol, 1e-12)))
    return bool(np.all(gap <= tol)), worst, float(gap[worst]), float(tol[worst])


def test_mesa_reference_and_funnelsim_give_the_same_adoption_curve(curves):
    funnel, mesa_runs, _ = curves
    ok, day, gap, tol = _within(funnel, mesa_runs)
    assert ok, f"day {day + 1}: gap {gap:.4f} > tolerance {tol:.4f}"
    # The curve is an S that saturates, not a trivial one: both channels are at work.
    mean = funnel.mean(axis=0)
    assert mean[0] < 0.03 and mean[-1] > 0.9
    assert 3 < int(np.argmax(np.diff(mean))) < DAYS - 5


def test_the_tolerance_detects_a_different_rule(curves):
    # Power: the same comparison rejects a Mesa model whose word of mouth is 40% stronger.
    funnel, _, graphs = curves
    stronger = np.array([mesa_reference.adoption_curve(g, P, Q * 1.4, K, DAYS, seed=2000 + s)
                         for s, g in enumerate(graphs)], dtype=float) / SIZE
    assert not _within(funnel, stronger)[0]
