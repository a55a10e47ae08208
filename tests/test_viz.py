"""The web view's logic without a browser: recipes and levers, guards, KPIs, journeys, the sample.

Small models (the flagship at 3,000 consumers) and no exact engine figures: the engine is being
calibrated, so these tests check relations (the figures add up, the journey matches the state).
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation.errors import FunnelsimError
from viz import config
from viz.kpis import kpis_at
from viz.recipe import (
    ViewError,
    base_from_file,
    base_from_upload,
    builtin_scenarios,
    lever_specs,
    lever_values,
    make_recipe,
    sales_share,
)
from viz.runner import ViewModel
from viz.sample import build_sample

SMALL = {"audience.size": 3000, "days": 30}


@pytest.fixture(scope="module")
def recipe():
    return make_recipe(base_from_file(config.FLAGSHIP), SMALL)


@pytest.fixture(scope="module")
def finished(recipe):
    model = ViewModel(recipe)
    model.run_to_end()
    return model


def test_builtin_scenarios_are_read_from_the_folder():
    names = builtin_scenarios()
    assert config.FLAGSHIP in names
    assert names == sorted(p.stem for p in config.SCENARIO_DIR.glob("*.yaml"))


def test_levers_rebuild_a_valid_scenario(recipe):
    values = lever_values(recipe)
    keys = [lever.key for lever in lever_specs(recipe)]
    assert {"audience.size", "days", "seed", "product.price", "influencers.count"} <= set(keys)
    assert set(keys) <= set(values)
    moved = recipe.with_lever("paid.0.daily_budget", 321).with_lever("product.price", 55)
    assert moved.spec.strategy.paid[0].daily_budget == 321
    assert moved.spec.product.price == 55
    assert recipe.spec.product.price != 55 or recipe.spec.strategy.paid[0].daily_budget != 321
    assert "daily_budget: 321" in moved.to_yaml()


def test_retargeting_off_keeps_its_switch(recipe):
    off = recipe.with_lever("retargeting.on", False)
    assert off.spec.strategy.retargeting == []
    assert "retargeting.on" in [lever.key for lever in lever_specs(off)]
    assert lever_values(off)["retargeting.on"] is False


def test_sales_share_splits_posts_and_keeps_the_total(recipe):
    total = sum(o.posts_per_week for o in recipe.spec.strategy.organic)
    mixed = recipe.with_lever("organic.sales_share", 0.5)
    streams = mixed.spec.strategy.organic
    assert sum(o.posts_per_week for o in streams) == pytest.approx(total)
    assert sales_share(streams) == pytest.approx(0.5, abs=1e-3)


def test_audience_above_the_limit_is_refused(recipe):
    with pytest.raises(ViewError, match="limited to 200,000"):
        recipe.with_lever("audience.size", config.DEFAULT_MAX_AUDIENCE + 1)
    with pytest.raises(ViewError, match="limited to 5,000"):
        make_recipe(recipe.base, SMALL | {"audience.size": 6000}, limit=5000)


def test_uploads_are_checked():
    good = (config.SCENARIO_DIR / f"{config.FLAGSHIP}.yaml").read_text()
    assert make_recipe(base_from_upload("mine.yaml", len(good), good)).spec.name
    with pytest.raises(ViewError, match="1 MB"):
        base_from_upload("big.yaml", config.MAX_UPLOAD_BYTES + 1, None)
    with pytest.raises(FunnelsimError, match="YAML does not parse"):
        base_from_upload("bad.yaml", 20, "name: x\naudience: {size: [\n")
    with pytest.raises(FunnelsimError, match="unknown key"):
        make_recipe(base_from_upload("typo.yaml", 40, "name: x\naudince: {size: 10}\n"))
    with pytest.raises(ViewError, match="cannot read graph files"):
        base_from_upload("file.yaml", 60, "name: x\naudience: {network: {file: /etc/passwd}}\n")


def test_kpis_at_the_end_match_the_summary(finished):
    result = finished.result()
    k = kpis_at(result.timeseries, finished.day)
    s = result.summary
    assert k["reach"] == s["reach"]
    assert k["customers"] == s["customers"]
    assert k["spend"] == pytest.approx(s["spend"], rel=1e-9, abs=1e-6)
    assert k["revenue"] == pytest.approx(s["revenue"], rel=1e-9, abs=1e-6)
    assert kpis_at(result.timeseries, 0)["reach"] == 0
    assert kpis_at(result.timeseries, 10)["spend"] <= k["spend"]


def test_the_model_stops_at_its_last_day(finished):
    assert finished.day == finished.spec.days and not finished.running
    finished.step()
    assert finished.day == finished.spec.days


def test_journeys_agree_with_the_state(finished):
    st = finished.state
    touched = np.flatnonzero(st.touches > 0)
    assert touched.size
    for i in touched[:: max(1, touched.size // 25)]:
        rows = finished.day_log.journey(int(i), finished.platform_names)
        assert sum(r["touches"] for r in rows) == st.touches[i]
        assert sum(r["purchases"] for r in rows) == st.purchases[i]
        assert rows[-1]["stage"].split(" -> ")[-1] == ["unaware", "aware", "engaged", "trusting",
                                                       "customer", "advocate"][st.stage[i]]
        assert [r["day"] for r in rows] == sorted({r["day"] for r in rows})
    untouched = np.flatnonzero((st.touches == 0) & (st.stage == 0) & (st.purchases == 0))
    if untouched.size:
        assert finished.day_log.journey(int(untouched[0]), finished.platform_names) == []


def test_sample_is_small_connected_and_laid_out(finished):
    sample = build_sample(finished.graph, 400, seed=1)
    assert sample.ids.shape[0] == 400 == np.unique(sample.ids).shape[0]
    assert sample.u.shape[0] > 300  # a snowball keeps friendships
    assert (sample.u < sample.v).all() and sample.v.max() < 400
    assert (sample.xy >= 0).all() and (sample.xy <= 1).all()
    again = build_sample(finished.graph, 400, seed=1)
    assert np.array_equal(sample.ids, again.ids) and np.allclose(sample.xy, again.xy)
