"""Platform signatures (issue 4) and bad platform input."""

from __future__ import annotations

import pytest

from simulation.errors import ScenarioError
from simulation.facts import CASES
from simulation.scenario import load_scenario
from tests.conftest import cli

PLATFORM_CASES = [c for c in CASES if c.section == "platform"]


@pytest.mark.parametrize("case", PLATFORM_CASES, ids=lambda c: c.name)
def test_platform_signature(case):
    out = case.check(True)
    assert out.passed, (f"{case.name}: expected {out.expected}; measured {out.measured}; "
                        f"tolerance {out.tolerance}")


def _base(**changes) -> dict:
    data = {"name": "bad", "days": 5, "audience": {"size": 100, "segments": [
        {"name": "all", "share": 1.0, "platforms": {"facebook": 0.5, "email": 0.5}}]},
        "strategy": {"organic": [{"platform": "facebook", "posts_per_week": 1}]}}
    data.update(changes)
    return data


BAD = {
    "unknown field": (_base(platforms={"facebook": {"cpn": 9.0}}), ["platforms.facebook", "cpn"]),
    "rate above 1": (_base(platforms={"facebook": {"stop_rate": 1.5}}),
                     ["platforms.facebook.stop_rate"]),
    "rate below 0": (_base(platforms={"tiktok": {"interest_rate": -0.1}}),
                     ["platforms.tiktok.interest_rate"]),
    "unknown mechanic": (_base(platforms={"mastodon": {"mechanic": "fediverse"}}),
                         ["platforms.mastodon.mechanic", "fediverse"]),
    "platform the audience does not use": (
        _base(strategy={"organic": [{"platform": "pinterest", "posts_per_week": 1}]}),
        ["strategy.organic.0.platform", "pinterest"]),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_platform_input_is_named(name):
    data, words = BAD[name]
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    text = str(info.value)
    for word in words:
        assert word in text, text


def test_bad_input_exits_2_via_cli(tmp_path):
    import yaml

    for name in sorted(BAD):
        data, words = BAD[name]
        path = tmp_path / f"{name.replace(' ', '_')}.yaml"
        path.write_text(yaml.safe_dump(data))
    proc = cli("validate", *sorted(tmp_path.glob("*.yaml")))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for name in BAD:
        for word in BAD[name][1]:
            assert word in proc.stderr + proc.stdout, (name, proc.stderr)
