"""Every stylized fact, platform signature and scenario claim of simulation.facts holds (quick mode:
small audiences, a few fixed seeds, paired where strategies are compared)."""

from __future__ import annotations

import pytest

from simulation.facts import CASES


@pytest.mark.parametrize("case", [c for c in CASES if c.section == "stylized fact"], ids=lambda c: c.name)
def test_case(case):
    out = case.check(True)
    assert out.passed, (f"{case.name}: expected {out.expected}; measured {out.measured}; "
                        f"tolerance {out.tolerance}. {out.detail}")


def test_cases_have_unique_names_and_known_sections():
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names)
    assert {c.section for c in CASES} == {"stylized fact", "platform", "scenario"}
