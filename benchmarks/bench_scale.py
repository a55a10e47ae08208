"""Benchmark: scale to a million consumers on one core (issue 7).

Every case runs in its own process with ``NUMBA_NUM_THREADS=1`` (so peak RSS is that case's), after
a warm-up run that loads the numba cache. Each figure is wall time (``perf_counter``) and CPU time
(``process_time``); the machine's load average is printed with every row, because other work on a
shared machine inflates wall time but hardly CPU time.

Cases:

* graph generation: the flagship's generator (``simulation.model.build_graph`` of
  scenarios/product_launch.yaml: powerlaw_cluster, triangle_prob 0.3) at mean degree 10;
* model run: the flagship strategy with ``audience.size=N``, ``audience.network.mean_degree=10``,
  ``materialize_agents=false``; set-up (graph + population) and the run are timed apart, and the
  run day by day, with the CPU time inside each numba kernel measured by wrapping the kernel entry
  points (``simulation.kernels``) in this process only;
* the fitted exponent of time per simulated day against consumers + edges (log-log least squares
  over 10k, 100k, 1M, on the days all three runs share);
* importing an edge-list file of 1M edges with ``agents.network.read_graph`` (a temp file);
* memory bandwidth (numpy streaming copy of a 512 MB array, read + write bytes per second) and the
  ratio of one simulated day to the time to stream the state arrays, traits and CSR once.

Prints markdown tables; ``--record`` prints them as a section with a heading and the command to paste
into benchmarks/RESULTS.md (this script never writes that file).

    python benchmarks/bench_scale.py [--record] [--days-1m D] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import clock, load, machine, peak_mb, record, run_case  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "scenarios" / "product_launch.yaml"
DEGREE = 10
SIZES = (10_000, 100_000, 1_000_000)
IMPORT_EDGES = 1_000_000





def _spec(size: int, days: int, agents: bool = False):
    from simulation import load_scenario

    return load_scenario(FLAGSHIP, [f"audience.size={size}", f"days={days}",
                                    f"audience.network.mean_degree={DEGREE}",
                                    f"materialize_agents={str(agents).lower()}"])


def _warm() -> None:
    from simulation import FunnelModel

    # 30 days: every kernel the run calls is loaded from numba's cache before the clock starts.
    FunnelModel(_spec(2000, 30)).run()


# --- cases (each in its own process) -------------------------------------------------------------


def case_graph(size: int) -> dict:
    from simulation.model import build_graph

    build_graph(_spec(2000, 1), 1)  # load the generator's numba cache
    spec = _spec(size, 1)
    w0, c0 = clock()
    g = build_graph(spec, 42)
    w1, c1 = clock()
    return {"case": "graph", "consumers": size, "edges": g.n_edges, "wall_s": w1 - w0,
            "cpu_s": c1 - c0, "peak_mb": peak_mb(), "load": load()}


def case_model(size: int, days: int, agents: bool) -> dict:
    from simulation import FunnelModel
    from simulation import kernels as K

    _warm()
    spent = {"sessions_and_eligibility": 0.0, "exposures_and_responses": 0.0}

    def timed(name, fn):
        def wrapper(*args):
            t = time.process_time()
            fn(*args)
            spent[name] += time.process_time() - t
        return wrapper

    # The model calls the kernels as K.<name>(...): wrapping the module attributes times them.
    for name in spent:
        setattr(K, name, timed(name, getattr(K, name)))
    spec = _spec(size, days, agents)
    w0, c0 = clock()
    model = FunnelModel(spec)
    w1, c1 = clock()
    day_wall, day_cpu = [], []
    for _ in range(days):
        a, b = clock()
        model.step()
        c, d = clock()
        day_wall.append(c - a)
        day_cpu.append(d - b)
    st = model.state
    arrays = [getattr(st, f) for f in st._fields] + [getattr(model.traits, f)
                                                     for f in model.traits._fields]
    state_bytes = sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))
    csr_bytes = model.graph.indptr.nbytes + model.graph.indices.nbytes
    return {"case": "model", "consumers": size, "edges": model.graph.n_edges, "days": days,
            "agents": agents, "setup_wall_s": w1 - w0, "setup_cpu_s": c1 - c0,
            "day_wall": day_wall, "day_cpu": day_cpu, "kernels": spent,
            "state_bytes": state_bytes, "csr_bytes": csr_bytes, "peak_mb": peak_mb(),
            "customers": int((st.purchases > 0).sum()), "load": load()}


def case_write_edges(path: str) -> dict:
    from agents.network import generate

    # powerlaw_cluster with m = 5 links per new node: 200,000 nodes give ~1,000,000 edges.
    g = generate("powerlaw_cluster", IMPORT_EDGES // 5, DEGREE, 7)
    u, v = g.edges()
    order = np.random.default_rng(0).permutation(u.shape[0])  # a file is not sorted
    with open(path, "w") as fh:
        fh.write("# funnelsim bench_scale: an edge list\n")
        fh.write("\n".join(f"{a} {b}" for a, b in zip(u[order].tolist(), v[order].tolist(),
                                                       strict=True)))
        fh.write("\n")
    return {"case": "write", "edges": int(u.shape[0]), "bytes": os.path.getsize(path)}


def case_import(path: str) -> dict:
    from agents.network import read_graph

    w0, c0 = clock()
    g = read_graph(path)
    w1, c1 = clock()
    return {"case": "import", "nodes": g.n, "edges": g.n_edges, "wall_s": w1 - w0,
            "cpu_s": c1 - c0, "peak_mb": peak_mb(), "bytes": os.path.getsize(path),
            "load": load()}


def case_bandwidth() -> dict:
    src = np.ones(64 * 1024 * 1024)  # 512 MB
    dst = np.empty_like(src)
    best = (np.inf, np.inf)
    for _ in range(6):
        w0, c0 = clock()
        np.copyto(dst, src)
        w1, c1 = clock()
        best = min(best, (w1 - w0, c1 - c0))
    moved = 2 * src.nbytes  # read + write
    return {"case": "bandwidth", "gb_s": moved / best[0] / 1e9, "gb_s_cpu": moved / best[1] / 1e9,
            "load": load()}


# --- driver --------------------------------------------------------------------------------------



def _fit(x: list[float], y: list[float]) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--record", action="store_true", help="print a section for RESULTS.md")
    ap.add_argument("--days-1m", type=int, default=90, help="days of the 1M run (default 90)")
    ap.add_argument("--quick", action="store_true", help="10k and 100k only, no 1M cases")
    ap.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        sys.path.insert(0, str(ROOT))
        kind, rest = args.case[0], args.case[1:]
        if kind == "graph":
            res = case_graph(int(rest[0]))
        elif kind == "model":
            res = case_model(int(rest[0]), int(rest[1]), rest[2] == "1")
        elif kind == "write":
            res = case_write_edges(rest[0])
        elif kind == "import":
            res = case_import(rest[0])
        else:
            res = case_bandwidth()
        print(json.dumps(res))
        return

    sizes = SIZES[:2] if args.quick else SIZES
    graphs = [run_case(__file__, "graph", str(n)) for n in sizes]
    models = [run_case(__file__, "model", str(n), str(90 if n < 1_000_000 else args.days_1m), "0")
              for n in sizes]
    with_agents = None if args.quick else run_case(__file__, "model", "1000000", "3", "1")
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "edges.txt")
        run_case(__file__, "write", path)
        imported = run_case(__file__, "import", path)
    bw = run_case(__file__, "bandwidth")

    out = []
    out.append("| consumers | edges | graph generation wall / CPU (s) | peak RSS (MB) | load avg "
               "(1/5/15 min) | target |")
    out.append("|---|---|---|---|---|---|")
    for g in graphs:
        target = "<= 5 s" if g["consumers"] == 1_000_000 else ""
        out.append(f"| {g['consumers']:,} | {g['edges']:,} | {g['wall_s']:.2f} / {g['cpu_s']:.2f} | "
                   f"{g['peak_mb']:.0f} | {g['load']} | {target} |")
    out.append("")
    out.append("| consumers | days | set-up wall / CPU (s) | model run wall / CPU (s) | per day CPU (ms) "
               "| kernels CPU: sessions / exposures (s) | ns per consumer-day (CPU) | peak RSS (MB) | "
               "customers | load avg | target |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    targets = {100_000: "run <= 2 s", 1_000_000: "run <= 10 s (90 days), peak <= 3 GB"}
    for m in models + ([with_agents] if with_agents else []):
        run_w, run_c = sum(m["day_wall"]), sum(m["day_cpu"])
        k = m["kernels"]
        ns = run_c / (m["consumers"] * m["days"]) * 1e9
        label = f"{m['consumers']:,}" + (" (Mesa agents created)" if m["agents"] else "")
        target = "" if m["agents"] else targets.get(m["consumers"], "")
        out.append(f"| {label} | {m['days']} | {m['setup_wall_s']:.2f} / {m['setup_cpu_s']:.2f} | "
                   f"{run_w:.2f} / {run_c:.2f} | {run_c / m['days'] * 1e3:.1f} | "
                   f"{k['sessions_and_eligibility']:.2f} / {k['exposures_and_responses']:.2f} | "
                   f"{ns:.0f} | {m['peak_mb']:.0f} | {m['customers']:,} | {m['load']} | {target} |")
    common = min(m["days"] for m in models)
    x = [m["consumers"] + m["edges"] for m in models]
    per_day_cpu = [sum(m["day_cpu"][:common]) / common for m in models]
    per_day_wall = [sum(m["day_wall"][:common]) / common for m in models]
    out.append("")
    lines = ["| quantity | value | target |", "|---|---|---|"]
    if len(models) >= 2:
        span = ", ".join(f"{v * 1e3:.1f}" for v in per_day_cpu)
        lines.append(f"| exponent of time per day vs consumers + edges (CPU; first {common} days; "
                     f"{span} ms/day) | {_fit(x, per_day_cpu):.2f} (wall: {_fit(x, per_day_wall):.2f}) "
                     f"| <= 1 |")
    lines.append(f"| import {imported['edges']:,}-edge list ({imported['bytes'] / 1e6:.0f} MB, "
                 f"{imported['nodes']:,} nodes) with read_graph, wall / CPU (s) | "
                 f"{imported['wall_s']:.2f} / {imported['cpu_s']:.2f} (peak {imported['peak_mb']:.0f} MB, "
                 f"load {imported['load']}) | <= 5 s |")
    lines.append(f"| memory bandwidth, numpy copy of 512 MB (read + write) | {bw['gb_s']:.1f} GB/s "
                 f"(load {bw['load']}) | |")
    for m in models:
        stream_s = (m["state_bytes"] + m["csr_bytes"]) / (bw["gb_s"] * 1e9)
        day = sum(m["day_cpu"]) / m["days"]
        lines.append(f"| {m['consumers']:,}: one day (CPU, mean of {m['days']}) / streaming state "
                     f"{m['state_bytes'] / 1e6:.0f} MB + CSR {m['csr_bytes'] / 1e6:.0f} MB once "
                     f"({stream_s * 1e3:.1f} ms) | {day / stream_s:.0f}x | <= 10x |")
    out.extend(lines)
    table = "\n".join(out)
    print(table)
    if args.record:
        cmd = "NUMBA_NUM_THREADS=1 (set per case) .venv/bin/python benchmarks/bench_scale.py --record"
        if args.days_1m != 90:
            cmd += f" --days-1m {args.days_1m}"
        figures = {
            "graphs": [{k: g[k] for k in ("consumers", "edges", "cpu_s", "wall_s")} for g in graphs],
            "models": [{"consumers": m["consumers"], "days": m["days"], "run_cpu": sum(m["day_cpu"]),
                        "peak_mb": m["peak_mb"], "stream_ratio": sum(m["day_cpu"]) / m["days"] / (
                            (m["state_bytes"] + m["csr_bytes"]) / (bw["gb_s"] * 1e9))}
                       for m in models],
            "exponent": _fit(x, per_day_cpu) if len(models) >= 2 else None,
            "import_cpu": imported["cpu_s"], "import_edges": imported["edges"],
        }
        record("bench_scale", f"## bench_scale.py ({machine()}, one core per case)\n\n"
               f"Command: `{cmd}`\n\n{table}\n", figures)

if __name__ == "__main__":
    main()
