"""Scenario loading, overrides and the messages for bad input."""

from __future__ import annotations

import pydantic
import pytest

from simulation.errors import ScenarioError
from simulation.scenario import Scenario, apply_override, json_schema, load_scenario
from tests.conftest import FLAGSHIP, SCENARIOS


def base() -> dict:
    return {
        "name": "t", "days": 5, "seed": 1,
        "audience": {"size": 100, "segments": [
            {"name": "a", "share": 0.5, "platforms": {"facebook": 0.5}},
            {"name": "b", "share": 0.5, "platforms": {"tiktok": {"share": 0.5, "activity": 0.9}}},
        ]},
        "strategy": {"paid": [{"platform": "facebook", "daily_budget": 10}]},
    }


def error_of(data, overrides=()) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(data, list(overrides))
    return str(info.value)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_builtin_scenarios_load(path):
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.description, "every built-in scenario says what it teaches"


def test_defaults_and_frozen():
    s = load_scenario(base())
    assert s.behavior.trust_threshold == pytest.approx(0.3)
    with pytest.raises(pydantic.ValidationError):
        s.days = 3  # frozen


def test_unknown_key_is_named_with_suggestion():
    data = base()
    data["strategy"]["paid"][0]["daily_budgt"] = 5
    msg = error_of(data)
    assert "strategy.paid.0.daily_budgt" in msg and "daily_budget" in msg


def test_wrong_type_names_path_and_value():
    data = base()
    data["days"] = "ninety"
    msg = error_of(data)
    assert "days" in msg and "'ninety'" in msg


def test_negative_budget_and_size():
    data = base()
    data["strategy"]["paid"][0]["daily_budget"] = -5
    assert "strategy.paid.0.daily_budget" in error_of(data)
    data = base()
    data["audience"]["size"] = -1
    assert "audience.size" in error_of(data)


def test_segment_shares_must_sum_to_one():
    data = base()
    data["audience"]["segments"][0]["share"] = 0.7
    assert "sum to 1" in error_of(data)


def test_unknown_platform_suggests_nearest():
    data = base()
    data["strategy"]["paid"][0]["platform"] = "facebok"
    msg = error_of(data)
    assert "strategy.paid.0.platform" in msg and "facebook" in msg


def test_new_platform_defined_by_mechanic():
    data = base()
    data["platforms"] = {"mastodon": {"mechanic": "social_feed", "stop_rate": 0.1}}
    data["strategy"]["organic"] = [{"platform": "mastodon", "posts_per_week": 3}]
    assert "no segment of the audience uses 'mastodon'" in error_of(data)
    data["audience"]["segments"][0]["platforms"]["mastodon"] = 0.3
    assert "mastodon" in load_scenario(data).platforms_used()


def test_missing_file_and_bad_yaml(tmp_path):
    assert "file not found" in error_of(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\naudience:\n  size: [1, 2\n")
    assert "line 4" in error_of(bad) or "line 3" in error_of(bad)


def test_graph_file_must_exist(tmp_path):
    data = base()
    data["audience"] = {"network": {"file": "missing.txt"}}
    msg = error_of(data)
    assert "audience.network.file" in msg and "not found" in msg


def test_overrides_any_field_and_list_items():
    s = load_scenario(FLAGSHIP, ["days=10", "strategy.paid.0.daily_budget=200",
                                 "audience.segments.1.platforms.facebook=0.5",
                                 "platforms.tiktok.cpm=4", "strategy.referral.reward=0"])
    assert s.days == 10 and s.strategy.paid[0].daily_budget == 200
    assert s.audience.segments[1].platforms["facebook"] == 0.5
    assert s.platforms["tiktok"].cpm == 4


def test_override_unknown_key_and_bad_index():
    with pytest.raises(ScenarioError, match="did you mean 'days'"):
        load_scenario(FLAGSHIP, ["dayz=3"])
    with pytest.raises(ScenarioError, match="no list item 7"):
        load_scenario(FLAGSHIP, ["strategy.paid.7.daily_budget=3"])
    with pytest.raises(ScenarioError, match="KEY=VALUE"):
        apply_override({}, "days")


def test_override_value_is_validated():
    with pytest.raises(ScenarioError, match="strategy.paid.0.daily_budget"):
        load_scenario(FLAGSHIP, ["strategy.paid.0.daily_budget=-1"])


def test_json_schema_lists_sections():
    schema = json_schema()
    assert {"audience", "strategy", "behavior", "days", "seed"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_stage_labels_rename_stages_for_display_only():
    from simulation.results import run

    data = base()
    data["stage_labels"] = {"customer": "Lead", "trusting": "Qualified"}
    result = run(load_scenario(data))
    assert result.summary["stage_labels"]["customer"] == "Lead"
    assert result.summary["stage_labels"]["aware"] == "Aware"
    assert "customer" in result.timeseries.columns  # output columns keep the standard names
    data["stage_labels"] = {"buyer": "Lead"}
    assert "stage_labels" in error_of(data)


def test_new_list_or_chat_platform_sells_no_ads_unless_it_says_so():
    data = base()
    data["platforms"] = {"signal": {"mechanic": "messaging", "conversion_rate": 0.5}}
    data["audience"]["segments"][0]["platforms"]["signal"] = 0.5
    data["strategy"]["paid"] = [{"platform": "signal", "daily_budget": 10}]
    assert "'signal' sells no ads" in error_of(data)
    data["platforms"]["signal"]["paid_ads"] = True
    assert "signal" in load_scenario(data).platforms_used()
