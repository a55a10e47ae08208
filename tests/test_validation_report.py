"""The validation report: a quick run writes the table and the figures, every row has a verdict,
the stylized facts are reported (a missing module is a failing row, not a silent gap), and the
command refuses bad arguments with exit code 2. The statistics themselves are tested in
tests/test_validation.py."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, replace

import pytest
from typer.testing import CliRunner

from simulation import validation_report as vr

#: Even smaller than QUICK: the report's machinery, not its statistical power.
TINY = replace(vr.QUICK, name="tiny", bass_size=1_000, bass_days=25, bass_reps=2, sparse_reps=2,
               cascade_n=500, cascade_reps_above=12, cascade_reps_below=15, cascade_days_above=30,
               cascade_days_below=15, flagship_size=600, flagship_days=15, direction_seeds=2)


@dataclass
class _Outcome:
    expected: str
    measured: str
    tolerance: str
    passed: bool
    detail: str = ""


@dataclass
class _Case:
    name: str
    section: str
    check: object


def _fake_facts(monkeypatch):
    def boom(quick):
        raise RuntimeError("no data")

    module = types.ModuleType("simulation.facts")
    module.CASES = [
        _Case("drop-off at every step", "stylized facts",
              lambda quick: _Outcome("each stage smaller", "yes", "strict", True)),
        _Case("email converts | clicks", "platform signatures",
              lambda quick: _Outcome("~10%", "4%", "5-15%", False, "too few email clicks")),
        _Case("raises", "platform signatures", boom),
    ]
    monkeypatch.setitem(sys.modules, "simulation.facts", module)


def _table_rows(text: str) -> list[list[str]]:
    """Cells of every row of every `case | expected | measured | tolerance | pass` table."""
    rows, in_table = [], False
    for line in text.splitlines():
        if line.startswith("| case | expected | measured | tolerance | pass |"):
            in_table = True
            continue
        if in_table and line.startswith("| ---"):
            continue
        if in_table and line.startswith("|"):
            cells = [c.strip() for c in line.replace("\\|", "/").replace("\\$", "$").strip("|").split("|")]
            rows.append(cells)
        else:
            in_table = False
    return rows


def test_quick_report_has_a_verdict_for_every_case_and_its_figures(tmp_path, monkeypatch):
    # Through the command, as `make validate` runs it; exit 0 although a fact fails.
    _fake_facts(monkeypatch)
    monkeypatch.setattr(vr, "QUICK", TINY)
    out = tmp_path / "docs" / "validation.md"
    result = CliRunner().invoke(_cli(), ["validate-model", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "cases pass" in result.output and "FAIL" in result.output
    text = out.read_text()

    rows = _table_rows(text)
    assert len(rows) > 20
    assert all(len(r) == 5 and r[4] in ("pass", "**FAIL**") for r in rows), rows
    assert f"of {len(rows)} cases pass" in text
    for heading in ("Bass model", "bond percolation", "Direction of effect", "Stylized facts"):
        assert heading in text
    # Both sides of the percolation threshold and every direction case are there.
    cases = " ".join(r[0] for r in rows)
    assert "above threshold" in cases and "below threshold" in cases and "Watts-Strogatz" in cases
    assert all(c.case in cases for c in vr.DIRECTION_CASES)

    # The figures exist, are PNGs, and the report links them relative to itself.
    for name in ("bass", "cascade", "direction"):
        png = tmp_path / "docs" / "img" / "validation" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](img/validation/{name}.png)" in text

    # The facts: a passing case, a failing one with its reason, and one that raises.
    verdict = {r[0]: r[4] for r in rows}
    assert verdict["drop-off at every step"] == "pass"
    assert verdict["email converts / clicks"] == "**FAIL**"
    assert verdict["raises"] == "**FAIL**"
    assert "### Platform signatures" in text
    # Failing cases are named plainly, with why.
    failing = text.split("### Cases that fail", 1)[1].split("## 1.", 1)[0]
    assert "too few email clicks" in failing and "RuntimeError: no data" in failing


def test_a_missing_facts_module_is_a_failing_row(monkeypatch):
    monkeypatch.setitem(sys.modules, "simulation.facts", None)  # import raises ModuleNotFoundError
    rows, note = vr.fact_rows(quick=True, log=lambda m: None)
    assert len(rows) == 1 and not rows[0].passed
    assert "does not exist" in note and "not checked" in rows[0].detail


def _cli():
    from simulation.cli import app

    return app


@pytest.mark.parametrize("args", [
    ["--bogus"],
    ["--out"],
    ["--out", "{tmp}/report.txt"],
    ["--out", "{tmp}"],
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, args):
    args = [a.format(tmp=tmp_path) for a in args]
    result = CliRunner().invoke(_cli(), ["validate-model", *args])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "img").exists()
