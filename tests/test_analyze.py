"""analyze: bands, heatmaps, SALib indices and the report, on sweeps run on a local cluster."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from simulation.experiments import sweep
from simulation.experiments.analyze import analyze, band_summary
from simulation.experiments.stats import mean_interval
from tests.conftest import FLAGSHIP, cli
from tests.test_experiments_clusters import acquire, release

BASE = {"base": str(FLAGSHIP), "set": ["audience.size=2000", "days=30"], "seed": 3}
# product.margin changes profit but nothing a consumer does: a parameter with no effect on
# customers, which the indices must find exactly so.
RANGES = {"behavior.trust_threshold": {"range": [0.05, 0.6]},
          "product.margin": {"range": [0.2, 0.6]}}


@pytest.fixture(scope="module")
def client():
    yield acquire(2)
    release(2)


def _links(report: str) -> list[str]:
    return re.findall(r"\]\(([^)]+)\)", report)


def test_grid_analysis_bands_heatmap_and_report(tmp_path, client):
    out = tmp_path / "grid"
    runs = sweep({**BASE, "design": "grid", "replicates": 3,
                  "parameters": {"strategy.retargeting.0.daily_budget": [0, 60],
                                 "strategy.paid.0.daily_budget": [0, 100, 200]},
                  "metrics": ["customers", "spend"]}, out, client=client)
    report = analyze(out)
    text = report.read_text()
    for link in _links(text):
        assert (report.parent / link).stat().st_size > 0
    names = {p.name for p in report.parent.glob("*.png")}
    assert "customers__vs__strategy.paid.0.daily_budget.png" in names
    assert any("heatmap" in n for n in names)
    # the band at each value: the t interval over that value's runs
    summary = band_summary(runs, "strategy.paid.0.daily_budget", "spend")
    at = runs[runs["strategy.paid.0.daily_budget"] == 100]["spend"]
    assert summary.set_index("x").loc[100, ["mean", "low", "high"]].tolist() == pytest.approx(
        list(mean_interval(at)))
    res = cli("analyze", out, "--metric", "customers")
    assert res.returncode == 0, res.stderr


def test_sobol_indices_find_the_influential_and_the_inert(tmp_path, client):
    out = tmp_path / "sobol"
    sweep({**BASE, "design": "sobol", "samples": 16, "replicates": 1, "parameters": RANGES,
           "metrics": ["customers", "profit"]}, out, client=client)
    analyze(out)
    idx = pd.read_csv(out / "analysis" / "sensitivity.csv").set_index(["metric", "parameter"])
    # margin cannot change customers: its Saltelli estimates are exactly 0
    assert idx.loc[("customers", "product.margin"), "S1"] == 0
    assert idx.loc[("customers", "product.margin"), "ST"] == 0
    assert idx.loc[("customers", "behavior.trust_threshold"), "ST"] > 0.5
    assert idx.loc[("profit", "product.margin"), "ST"] > 0
    assert (out / "analysis" / "sensitivity.png").stat().st_size > 0
    assert "Sensitivity (SALib)" in (out / "analysis" / "report.md").read_text()


def test_morris_indices(tmp_path, client):
    out = tmp_path / "morris"
    runs = sweep({**BASE, "design": "morris", "samples": 6, "replicates": 1,
                  "parameters": RANGES, "metrics": ["customers"]}, out, client=client)
    assert len(runs) == 6 * 3
    analyze(out)
    idx = pd.read_csv(out / "analysis" / "sensitivity.csv").set_index("parameter")
    assert idx.loc["product.margin", "mu_star"] == 0
    assert idx.loc["behavior.trust_threshold", "mu_star"] > 0
    assert np.isfinite(idx["mu_star_conf"]).all()


def test_analyze_refuses_a_folder_that_is_not_a_sweep(tmp_path):
    res = cli("analyze", tmp_path)
    assert res.returncode == 2 and "not a sweep folder" in res.stderr
    assert not (tmp_path / "analysis").exists()
