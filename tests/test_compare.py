"""Paired comparisons on common random numbers, and the no-spend control."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.experiments.compare import compare, no_spend_control
from simulation.scenario import load_scenario
from tests.conftest import FLAGSHIP, cli

SMALL = ["audience.size=2000", "days=40"]


@pytest.fixture(scope="module")
def retargeting_on_off():
    """The flagship with and without its retargeting line (20 paired seeds, in process)."""
    off = load_scenario(FLAGSHIP, [*SMALL, "strategy.retargeting.0.daily_budget=0"])
    on = load_scenario(FLAGSHIP, SMALL)
    return compare([("off", off), ("on", on)], reps=20, seed=11, control=True,
                   metrics=["customers", "revenue", "spend", "reach", "mean_trust"])


def test_paired_interval_is_much_narrower_than_unpaired(retargeting_on_off):
    t = retargeting_on_off.table.set_index(["metric", "strategy"])
    width = {}
    for metric in ("customers", "reach", "mean_trust"):
        row = t.loc[(metric, "on")]
        width[metric] = (row["diff_high"] - row["diff_low"],
                         row["unpaired_high"] - row["unpaired_low"])
    # common random numbers cancel the noise both runs share
    assert width["reach"][0] < 0.5 * width["reach"][1]
    assert width["mean_trust"][0] < 0.5 * width["mean_trust"][1]
    assert width["customers"][0] < width["customers"][1]


def test_identical_strategies_differ_by_exactly_zero():
    sc = load_scenario(FLAGSHIP, ["audience.size=800", "days=15"])
    res = compare([("a", sc), ("b", sc)], reps=3, seed=1, metrics=["customers", "revenue"])
    b = res.table[res.table["strategy"] == "b"]
    assert (b["diff"] == 0).all() and (b["diff_low"] == 0).all() and (b["diff_high"] == 0).all()


def test_no_spend_control_zeroes_media_and_keeps_everything_else():
    sc = load_scenario(FLAGSHIP, SMALL)
    ctrl = no_spend_control(sc)
    s = ctrl.strategy
    assert all(line.daily_budget == 0 for line in [*s.paid, *s.retargeting])
    assert s.influencers.posts_per_week == 0 and s.influencers.fee == 0
    assert s.referral.reward == 0
    assert ctrl.platforms_used() == sc.platforms_used()  # same streams, same pairing
    assert s.organic == sc.strategy.organic and s.owned == sc.strategy.owned
    assert ctrl.audience == sc.audience and ctrl.behavior == sc.behavior
    assert ctrl.days == sc.days and ctrl.seed == sc.seed


def test_incremental_metrics_are_paired_against_the_control(retargeting_on_off):
    runs = retargeting_on_off.runs
    on = runs[runs["strategy"] == "on"]
    assert np.array_equal(on["incremental_customers"],
                          on["customers"] - on["control:customers"])
    ratio = (on["revenue"] - on["control:revenue"]) / (on["spend"] - on["control:spend"])
    assert np.allclose(on["incremental_roas"], ratio)
    # the control buys no media: what it spends is only owned-list sends and content
    assert (on["control:spend"] < 0.01 * on["spend"]).all()
    # both strategies have the same organic plan, hence the same control runs
    off = runs[runs["strategy"] == "off"]
    assert np.array_equal(off["control:customers"], on["control:customers"])
    # paid media brings customers: the 95% interval of incremental customers is above zero
    t = retargeting_on_off.table.set_index(["metric", "strategy"])
    assert t.loc[("incremental_customers", "on"), "low"] > 0


def test_compare_cli_writes_csv_and_png(tmp_path):
    out = tmp_path / "cmp"
    res = cli("compare", FLAGSHIP, "--set", "audience.size=800", "--set", "days=15",
              "--variant", "no_rt: strategy.retargeting.0.daily_budget=0", "--reps", "3",
              "--control", "--workers", "0", "--metric", "customers", "--metric", "spend",
              "--out", out)
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out / "compare.csv")
    assert set(table["strategy"]) == {"product_launch", "no_rt"}
    assert {"incremental_customers", "incremental_roas"} <= set(table["metric"])
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert len(pd.read_csv(out / "compare_runs.csv")) == 6
    assert "paired" in res.stdout


@pytest.mark.parametrize("args, words", [
    (["--control", "--metric", "custmers"], "did you mean 'customers'"),
    (["--variant", "x: strategy.retargeting.0.daly_budget=1"], "did you mean 'daily_budget'"),
    (["--reps", "1", "--control"], "at least 2 replicates"),
    ([], "nothing to compare"),
])
def test_compare_bad_input_exits_2(tmp_path, args, words):
    out = tmp_path / "cmp"
    res = cli("compare", FLAGSHIP, "--workers", "0", "--out", out, *args)
    assert res.returncode == 2 and words in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()
