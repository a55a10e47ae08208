"""Web view responsiveness: a step with its redraw at 10,000 consumers, and a 90-day run to the end at
20,000 consumers (targets: < 0.5 s and < 5 s; DESIGN.md and the web-view issue).

The page is rendered in-process with Solara (``solara.render``, the same components and the same render
path as the server, without a browser): a Step is the engine's day plus the synchronous re-render of
every panel (KPI cards, the SVG stage chart from Mesa's DataCollector, funnel, platform table,
network colours, journey, compare). Browser paint time is not included; the browser tests show it
is small next to this.

    python benchmarks/bench_view.py [--record] [--steps N]

The script prints a markdown section; ``--record`` also writes it to benchmarks/RESULTS.md (and its
figures to benchmarks/out/bench_view.json for the ratio table).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import solara  # noqa: E402

import viz.state as view_state  # noqa: E402
from viz.app import Page  # noqa: E402


def render_page():
    """Render the page in-process; returns its Session."""
    sessions = []
    original = view_state.Session.__init__

    def capture(self, *args, **kwargs):
        original(self, *args, **kwargs)
        sessions.append(self)

    view_state.Session.__init__ = capture
    try:
        solara.render(Page(), handle_error=False)
    finally:
        view_state.Session.__init__ = original
    return sessions[0]


def use_audience(session, size: int) -> None:
    if not session.move("audience.size", size):
        raise SystemExit(f"could not build {size:,} consumers: {session.error.value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="print the markdown section (always done)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps at 10,000 consumers")
    args = parser.parse_args()

    session = render_page()
    use_audience(session, 10_000)
    for _ in range(3):  # compile the kernels, warm matplotlib's font cache
        session.step()
    steps, engine = [], []
    for _ in range(args.steps):
        model = session.model.value
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        view_state.force_update()
        t2 = time.perf_counter()
        engine.append(t1 - t0)
        steps.append(t2 - t0)

    use_audience(session, 20_000)
    model = session.model.value
    t0 = time.perf_counter()
    session.run_to_end()
    run_s = time.perf_counter() - t0
    days = model.day

    med, worst = statistics.median(steps), max(steps)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "## Web view (benchmarks/bench_view.py)", "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, solara {solara.__version__}; page rendered in-process; "
        f"load average during the run {load} (other work on the machine slows every figure).", "",
        "| measure | result | target |", "| --- | --- | --- |",
        f"| 10,000 consumers: step + redraw, median of {len(steps)} | {med:.3f} s "
        f"(engine {statistics.median(engine):.3f} s, redraw {med - statistics.median(engine):.3f} s) "
        f"| < 0.5 s {'ok' if med < 0.5 else 'MISSED'} |",
        f"| 10,000 consumers: step + redraw, slowest | {worst:.3f} s | |",
        f"| 20,000 consumers: run to the end ({days} days) + redraw | {run_s:.2f} s | < 5 s "
        f"{'ok' if run_s < 5 else 'MISSED'} |",
    ]
    print("\n".join(lines))
    if args.record:
        from common import record

        record("bench_view", "\n".join(lines) + "\n", {"step_median_s": med, "run_to_end_s": run_s})

if __name__ == "__main__":
    main()
