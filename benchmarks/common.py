"""Helpers shared by the benchmark scripts: clocks, peak memory, load, and one case per process."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    """The machine's load averages (1, 5, 15 min): figures taken under load are not comparable."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def peak_mb() -> float:
    """Peak resident memory of this process, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def clock() -> tuple[float, float]:
    """(wall, CPU) seconds: CPU time is the steadier figure on a shared machine."""
    return time.perf_counter(), time.process_time()


def run_case(script: str, *case: str) -> dict:
    """Run ``script --case ...`` in a fresh one-thread process (so peak memory is that case's)
    and return the JSON object its last line prints."""
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, script, "--case", *case], capture_output=True,
                         text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"case {case} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def runs_in_turns(script: str, cases: dict[str, tuple[tuple[str, ...], int]]) -> dict[str, list]:
    """Each case's runs (``{name: (case arguments, runs)}``), in fresh processes (see
    :func:`run_case`), the cases taking turns: one run each, then again, so that a slow spell
    of a shared machine falls on all of them rather than on one case's runs."""
    runs = {name: [] for name in cases}
    for k in range(max(n for _, n in cases.values())):
        for name, (case, n) in cases.items():
            if k < n:
                runs[name].append(run_case(script, *case))
    return runs


def fastest(runs: list[dict]) -> dict:
    """The run with the least CPU time."""
    return min(runs, key=lambda r: r["run_cpu"])


RESULTS = ROOT / "benchmarks" / "RESULTS.md"
FIGURES = ROOT / "benchmarks" / "out"  # each benchmark's headline figures, read by ratios.py


def machine() -> str:
    """One line about the machine and the moment, for a section's heading."""
    return (f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
            f"load {load()}")


def record(name: str, text: str, figures: dict | None = None) -> None:
    """Replace benchmark ``name``'s section of RESULTS.md (between its markers), keeping the rest,
    and save its headline figures to ``benchmarks/out/<name>.json`` for the ratio table."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    body = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    block = f"{start}\n{text.rstrip()}\n{end}"
    if start in body and end in body:
        body = body[:body.index(start)] + block + body[body.index(end) + len(end):]
    else:
        body = body.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(body)
    if figures is not None:
        FIGURES.mkdir(exist_ok=True)
        (FIGURES / f"{name}.json").write_text(json.dumps(figures, indent=1))
