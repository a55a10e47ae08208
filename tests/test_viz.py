"""The web view's logic without a browser: recipes and levers, guards, KPIs, journeys (the engine's
journal, replayed exactly), the sample.

Small models (the flagship at 3,000 consumers) and no exact engine figures: the engine is being
calibrated, so these tests check relations (the figures add up, the journey matches the state).
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from simulation.errors import FunnelsimError
from simulation.journeys import JOURNEY_COLUMNS
from simulation.model import FunnelModel
from viz import config
from viz.journey import JourneyTrace, display_table, shown_rows
from viz.kpis import kpis_at
from viz.panels import export_zip
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
from viz.state import Session

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


def test_a_pick_replays_the_past_exactly_and_traces_the_rest(recipe):
    """A consumer picked on day 12 of a live run: days 1-12 replayed, the rest traced live; together
    they equal a model of the same scenario and seed traced from day 0 (runs are deterministic)."""
    live = ViewModel(recipe)
    assert not live.journal.active  # nobody picked: the kernels trace nothing
    for _ in range(12):
        live.step()
    consumer = int(np.flatnonzero(live.state.touches > 0)[0])  # someone with a past to replay
    trace = JourneyTrace(live, consumer)
    assert trace.from_day == 12 and not trace.ready
    history = trace.replay()
    assert trace.ready and len(history) and history["day"].max() <= 12
    live.run_to_end()
    reference = FunnelModel(recipe.spec)
    reference.trace([consumer])
    reference.run()
    expected = reference.journeys()
    assert expected["day"].max() > 12  # the live part is not empty either
    got = trace.table()
    pd.testing.assert_frame_equal(got, expected)
    # the replay alone is the reference's first 12 days
    pd.testing.assert_frame_equal(history.reset_index(drop=True),
                                  expected[expected["day"] <= 12].reset_index(drop=True))
    # and the live run's figures are those of an untraced run
    plain = FunnelModel(recipe.spec).run()
    assert live.datacollector.get_model_vars_dataframe().equals(
        plain.datacollector.get_model_vars_dataframe())


def test_journey_table_and_exports(recipe):
    live = ViewModel(recipe)
    live.run(20)
    consumer = int(np.flatnonzero(live.state.purchases > 0)[0]) if (live.state.purchases > 0).any() \
        else int(np.flatnonzero(live.state.touches > 0)[0])
    trace = JourneyTrace(live, consumer)
    trace.replay()
    table = trace.table()
    assert list(table.columns) == JOURNEY_COLUMNS and set(table["consumer"]) == {consumer}
    st = live.state
    assert (table["event"] == "touch").sum() == st.touches[consumer]
    assert (table["purchase"] != "").sum() == st.purchases[consumer]
    shown = display_table(shown_rows(table))
    assert list(shown.columns) == ["day", "event", "platform", "source", "purpose", "stage", "purchase",
                                   "trust"]
    assert "impression" not in set(shown["event"])
    assert len(shown_rows(table, impressions=True)) == len(table)
    csv = pd.read_csv(io.StringIO(trace.to_csv()))
    assert list(csv.columns) == JOURNEY_COLUMNS and len(csv) == len(table)
    out = json.loads(trace.to_json())
    assert out["seed"] == live.seed and list(out["journeys"]) == [str(consumer)]
    assert len(out["journeys"][str(consumer)]) == len(shown)
    names = zipfile.ZipFile(io.BytesIO(export_zip(live, trace))).namelist()
    assert f"journey-{consumer}.csv" in names and f"journey-{consumer}.json" in names
    with pytest.raises(ValueError, match="between 0 and"):
        JourneyTrace(live, live.graph.n)


def test_picking_in_a_session_turns_tracing_on_and_off(recipe):
    session = Session(config.FLAGSHIP)
    session.use(recipe)
    model = session.model.value
    assert not model.journal.active
    assert session.pick(5) and model.journal.active and list(model.journal.ids) == [5]
    assert session.journey.value.consumer == 5 and session.selected.value == 5
    assert not session.pick(model.graph.n) and "between 0 and" in session.error.value
    assert session.journey.value.consumer == 5  # a refused id changes nothing
    assert session.pick(None) and not model.journal.active and session.journey.value is None
    session.pick(9)
    session.reset()  # a new model: nobody picked, nothing traced
    assert session.journey.value is None and not session.model.value.journal.active


def test_sample_is_small_connected_and_laid_out(finished):
    sample = build_sample(finished.graph, 400, seed=1)
    assert sample.ids.shape[0] == 400 == np.unique(sample.ids).shape[0]
    assert sample.u.shape[0] > 300  # a snowball keeps friendships
    assert (sample.u < sample.v).all() and sample.v.max() < 400
    assert (sample.xy >= 0).all() and (sample.xy <= 1).all()
    again = build_sample(finished.graph, 400, seed=1)
    assert np.array_equal(sample.ids, again.ids) and np.allclose(sample.xy, again.xy)
