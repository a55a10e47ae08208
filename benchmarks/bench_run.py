"""Benchmark: model time of the flagship strategy at 10,000 and 100,000 consumers x 90 days.

Each case runs in its own process (so peak memory is that case's), after one warm-up run that
compiles or loads the numba cache. Model time = FunnelModel construction excluded, ``run(90)``
timed; graph generation and set-up are reported separately. Prints a table and, with
``--record``, writes it to benchmarks/RESULTS.md.

    python benchmarks/bench_run.py [--record] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from common import record  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = [(10_000, True), (100_000, False), (100_000, True)]


def one_case(size: int, agents: bool) -> dict:
    sys.path.insert(0, str(ROOT))
    from simulation import FunnelModel, load_scenario

    flagship = ROOT / "scenarios" / "product_launch.yaml"
    warm = load_scenario(flagship, ["audience.size=2000", "days=30"])  # loads every kernel
    FunnelModel(warm).run()
    spec = load_scenario(flagship, [f"audience.size={size}", "days=90",
                                    f"materialize_agents={str(agents).lower()}"])
    t0 = time.perf_counter()
    model = FunnelModel(spec)
    t1 = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"consumers": size, "agents": agents, "setup_s": round(t1 - t0, 3),
            "model_s": round(t2 - t1, 3), "peak_mb": round(peak_mb),
            "customers": int(model.state.purchases.astype(bool).sum())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--threads", type=int, default=1, help="numba threads (target: one core)")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        size, agents = args.case.split(",")
        print(json.dumps(one_case(int(size), agents == "1")))
        return
    env = {**os.environ, "NUMBA_NUM_THREADS": str(args.threads)}
    rows = []
    for size, agents in CASES:
        out = subprocess.run([sys.executable, __file__, "--case", f"{size},{int(agents)}"],
                             capture_output=True, text=True, env=env, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    targets = {10_000: "<= 0.5 s", 100_000: "<= 5 s, peak <= 1 GB"}
    lines = ["| consumers | Mesa agents created | set-up (s) | model run, 90 days (s) | "
             "peak memory (MB) | target |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['consumers']:,} | {'yes' if r['agents'] else 'no'} | {r['setup_s']} | "
                     f"{r['model_s']} | {r['peak_mb']} | {targets[r['consumers']]} |")
    table = "\n".join(lines)
    print(table)
    if args.record:
        head = (f"## bench_run.py ({time.strftime('%Y-%m-%d')}, {platform.processor() or 'cpu'}, "
                f"{os.cpu_count()} cores, NUMBA_NUM_THREADS={args.threads})\n\n"
                f"Command: `.venv/bin/python benchmarks/bench_run.py --record`\n\n")
        load = os.getloadavg()[0]
        record("bench_run", head + table + f"\n\nLoad average at the end: {load:.1f}.\n",
               {"rows": rows})


if __name__ == "__main__":
    main()
