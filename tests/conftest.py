"""Shared fixtures: small versions of the built-in scenarios, so the suite stays fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
FLAGSHIP = SCENARIOS / "product_launch.yaml"
FUNNELSIM = [sys.executable, "-m", "simulation.cli"]

#: The flagship at a tenth of its size: the same strategy, quick to run many times.
SMALL = ["audience.size=3000", "days=60"]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the funnelsim CLI in a fresh process."""
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([*FUNNELSIM, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=600)


@pytest.fixture(scope="session")
def small_flagship():
    from simulation import load_scenario

    return load_scenario(FLAGSHIP, SMALL)
