"""The CLI: outputs, JSON mode, byte-identical reruns, and clear errors with exit code 2."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from simulation.metrics import TIMESERIES_COLUMNS
from tests.conftest import FLAGSHIP, SCENARIOS, cli

FAST = ["--set", "audience.size=2000", "--days", "20"]


def test_run_writes_outputs_and_prints_summary(tmp_path):
    out = tmp_path / "out"
    proc = cli("run", FLAGSHIP, *FAST, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "customers" in proc.stdout and "summary.json" in proc.stdout
    ts = pd.read_csv(out / "timeseries.csv")
    assert list(ts.columns) == TIMESERIES_COLUMNS and len(ts) == 20
    plat = pd.read_csv(out / "platforms.csv")
    assert {"platform", "impressions", "reach", "spend", "customers_first_touch",
            "customers_last_touch"} <= set(plat.columns)
    summary = json.loads((out / "summary.json").read_text())
    for key in ("audience", "days", "seed", "reach", "impressions", "customers",
                "conversion_rate", "revenue", "spend", "cac", "roas", "mean_trust", "stages",
                "touches_to_first_purchase", "attribution"):
        assert key in summary
    assert (out / "funnel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob(".*tmp"))



def test_a_first_run_says_it_compiles_the_engine(tmp_path, monkeypatch):
    """Without numba's cache the first run compiles for about a minute: the CLI says so, and
    says nothing once the cache is there."""
    import os

    from simulation import cli as cli_module

    cli("run", FLAGSHIP, *FAST, "--out", tmp_path / "first")  # (fills the cache if need be)
    assert cli_module.engine_compiled()
    proc = cli("run", FLAGSHIP, *FAST, "--out", tmp_path / "out")
    assert proc.returncode == 0 and "compiling" not in proc.stderr
    empty = tmp_path / "cache"
    empty.mkdir()
    monkeypatch.setitem(os.environ, "NUMBA_CACHE_DIR", str(empty))
    assert not cli_module.engine_compiled()
    stale = empty / "kernels.exposures_and_responses-1.py312.nbi"
    stale.write_bytes(b"")
    os.utime(stale, (0, 0))  # older than the source: numba would compile again
    assert not cli_module.engine_compiled()
    os.utime(stale)
    assert cli_module.engine_compiled()


def test_dropoff_chart_says_its_steps_are_counted_separately():
    """Clicks are not a subset of engagements (a trusting consumer can click without engaging), so
    the drop-off panel's "% of previous" can pass 100%: a footnote on funnel.png says so."""
    import matplotlib.pyplot as plt

    from simulation.figures import DROPOFF_FOOTNOTE
    from simulation.results import run
    from simulation.scenario import load_scenario

    result = run(load_scenario(FLAGSHIP, ["audience.size=500"]), days=5)
    fig = result.plot()
    try:
        texts = [t.get_text() for t in fig.texts]
        assert DROPOFF_FOOTNOTE in texts and "click without engaging" in DROPOFF_FOOTNOTE
    finally:
        plt.close(fig)

def test_json_prints_only_the_summary(tmp_path):
    proc = cli("run", FLAGSHIP, *FAST, "--out", tmp_path, "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["days"] == 20


def test_two_processes_byte_identical_other_seed_differs(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert cli("run", FLAGSHIP, *FAST, "--seed", seed, "--out", tmp_path / name,
                   "--json").returncode == 0
    for f in ("summary.json", "timeseries.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
        assert (tmp_path / "a" / f).read_bytes() != (tmp_path / "c" / f).read_bytes()


def test_validate_and_schema():
    proc = cli("validate", *sorted(SCENARIOS.glob("*.yaml")))
    assert proc.returncode == 0, proc.stderr
    oks = [line for line in proc.stdout.splitlines() if line.startswith("ok: ")]
    assert len(oks) == len(list(SCENARIOS.glob("*.yaml")))
    schema = json.loads(cli("schema").stdout)
    assert "strategy" in schema["properties"]


BAD_CASES = {
    "missing file": ("{missing}", "file not found"),
    "yaml syntax": ("name: x\naudience: {size: [1, 2\n", "line"),
    "unknown key": ("name: x\ndayz: 3\naudience: {size: 10}\n", "did you mean 'days'"),
    "wrong type": ("name: x\ndays: many\naudience: {size: 10}\n", "days"),
    "negative size": ("name: x\naudience: {size: -5}\n", "audience.size"),
    "negative budget": ("name: x\naudience: {size: 10}\nstrategy:\n  paid:\n"
                        "    - {platform: facebook, daily_budget: -1}\n", "daily_budget"),
    "shares": ("name: x\naudience:\n  size: 10\n  segments:\n"
               "    - {name: a, share: 0.5, platforms: {facebook: 0.5}}\n", "sum to 1"),
    "unknown platform": ("name: x\naudience: {size: 10}\nstrategy:\n  organic:\n"
                         "    - {platform: tiktock, posts_per_week: 1}\n", "tiktok"),
    "missing graph": ("name: x\naudience: {network: {file: none.txt}}\n", "graph file not found"),
    "bad graph line": ("name: x\naudience: {network: {file: g.txt}}\n", "line 3"),
    "set unknown key": ("name: x\naudience: {size: 10}\n", "did you mean 'days'"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_clear_message_exit_2_nothing_written(case, tmp_path):
    text, expected = BAD_CASES[case]
    path = tmp_path / "bad.yaml"
    if text == "{missing}":
        path = tmp_path / "missing.yaml"
    else:
        path.write_text(text)
    (tmp_path / "g.txt").write_text("# edges\n0 1\n2\n3 4\n")
    extra = ["--set", "dayz=3"] if case == "set unknown key" else []
    out = tmp_path / "out"
    for command in (["run", path, "--out", out, *extra], ["validate", path, *extra]):
        proc = cli(*command)
        assert proc.returncode == 2, (case, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert expected in proc.stderr, proc.stderr
        assert proc.stderr.count("error:") == 1
    assert not out.exists()


def test_outputs_follow_the_umask(tmp_path, small_flagship):
    import stat

    from simulation.cli import write_outputs
    from simulation.results import run

    written = write_outputs(run(small_flagship, days=3), tmp_path / "out")
    for path in written:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o044, f"{path.name} is private ({oct(mode)})"
