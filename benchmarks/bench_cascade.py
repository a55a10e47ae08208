"""Benchmark: a pure independent cascade in funnelsim, NDlib and cynetdiff (issue 7).

funnelsim runs ``simulation.validation.cascade_scenario(n, c, T, seeds)`` (Erdos-Renyi graph of mean
degree c; every engaged consumer shares once, each edge passes it on with probability T). NDlib's
``IndependentCascadesModel`` (every edge's ``threshold`` set to T) and cynetdiff's
``IndependentCascadeModel`` (``activation_prob=T``) run on the same graph from the same seed
consumers. Each engine runs until the cascade is over: funnelsim day by day until a day with no
newly engaged consumer (nothing shared that day, so nothing more can happen), NDlib until no node
is infected, cynetdiff ``advance_until_completion``. Set-up (graph conversion, model configuration)
is timed apart from the run. Each case runs in its own process with ``NUMBA_NUM_THREADS=1``;
funnelsim and cynetdiff run ``REPEATS`` times each, taking turns (fresh processes), and the
fastest run counts, as their runs are short enough for a busy machine to blur one (NDlib, a
minute at 1M, runs once).

Final reach (seeds included) must agree: the tolerance is 5 standard deviations of the final size
of a supercritical cascade, taken as ``2 sqrt(n)`` consumers, and each is compared with the giant
component of bond percolation, ``percolation_size(c, T)``.

Prints a markdown table; ``--record`` prints it as a section to paste into benchmarks/RESULTS.md.

    python benchmarks/bench_cascade.py [--record] [--sizes 100000 ...]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import resource
import sys
from pathlib import Path

import numpy as np
from common import clock, fastest, load, machine, record, runs_in_turns  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
C, T, SEEDS, MAX_DAYS = 10.0, 0.15, 20, 200
REPEATS = 5  # runs of the fast engines (fresh processes; a run varies by up to 1.5x here); the fastest counts




def _model(n: int):
    from simulation import FunnelModel
    from simulation.validation import cascade_scenario

    model = FunnelModel(cascade_scenario(n, C, T, SEEDS, days=MAX_DAYS, seed=3))
    return model, np.flatnonzero(model.state.influencer).tolist()


def _result(engine, n, edges, setup, run, reach, steps) -> dict:
    return {"engine": engine, "n": n, "edges": edges, "setup_wall": setup[0], "setup_cpu": setup[1],
            "run_wall": run[0], "run_cpu": run[1], "reach": int(reach), "steps": steps,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "load": load()}


def case_funnelsim(n: int) -> dict:
    from simulation import FunnelModel
    from simulation.validation import cascade_scenario

    FunnelModel(cascade_scenario(2000, C, T, 5, days=30)).run()  # load every kernel it calls
    w0, c0 = clock()
    model, _ = _model(n)
    w1, c1 = clock()
    gc.collect()  # the set-up's garbage is the set-up's: not collected on the run's clock
    w1g, c1g = clock()
    last, steps = -1, 0
    while steps < MAX_DAYS:
        model.step()
        steps += 1
        now = model.today["ever_engaged"]
        if now == last:
            break
        last = now
    w2, c2 = clock()
    return _result("funnelsim", n, model.graph.n_edges, (w1 - w0, c1 - c0), (w2 - w1g, c2 - c1g),
                   model.today["ever_engaged"], steps)


def case_ndlib(n: int) -> dict:
    import ndlib.models.ModelConfig as mc
    from ndlib.models.epidemics import IndependentCascadesModel

    model, seeds = _model(n)
    w0, c0 = clock()
    g = model.graph.to_networkx()
    ic = IndependentCascadesModel(g, seed=3)
    config = mc.Configuration()
    config.add_model_initial_configuration("Infected", seeds)
    for e in g.edges():
        config.add_edge_configuration("threshold", e, T)
    ic.set_initial_status(config)
    w1, c1 = clock()
    np.random.seed(3)  # NDlib draws from numpy's global generator
    steps = 0
    while True:
        it = ic.iteration(node_status=False)
        steps += 1
        if it["node_count"][1] == 0 or steps >= MAX_DAYS:
            break
    w2, c2 = clock()
    reach = it["node_count"][1] + it["node_count"][2]
    return _result("NDlib", n, model.graph.n_edges, (w1 - w0, c1 - c0), (w2 - w1, c2 - c1), reach,
                   steps)


def case_cynetdiff(n: int) -> dict:
    import array

    from cynetdiff.models import IndependentCascadeModel

    model, seeds = _model(n)
    w0, c0 = clock()
    g = model.graph
    starts = array.array("I", g.indptr[:-1].astype(np.uint32).tobytes())
    edges = array.array("I", g.indices.astype(np.uint32).tobytes())
    ic = IndependentCascadeModel(starts, edges, activation_prob=T, rng=3)
    ic.set_seeds(seeds)
    w1, c1 = clock()
    ic.advance_until_completion()
    w2, c2 = clock()
    return _result("cynetdiff", n, g.n_edges, (w1 - w0, c1 - c0), (w2 - w1, c2 - c1),
                   ic.get_num_activated_nodes(), None)



def _fastest(n: int, engines: tuple[str, ...], repeats: int) -> list[dict]:
    """Each engine's run with the least CPU time of ``repeats`` (each in a fresh process, the
    engines taking turns: :func:`common.runs_in_turns`), with the range."""
    runs = runs_in_turns(__file__, {e: ((e, str(n)), repeats) for e in engines})
    out = []
    for e in engines:
        best = fastest(runs[e])
        slowest = max(r["run_cpu"] for r in runs[e])
        best["spread"] = f" (fastest of {repeats}; slowest {slowest:.3f})" if repeats > 1 else ""
        out.append(best)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--record", action="store_true", help="print a section for RESULTS.md")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--case", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        sys.path.insert(0, str(ROOT))
        fn = {"funnelsim": case_funnelsim, "ndlib": case_ndlib, "cynetdiff": case_cynetdiff}
        print(json.dumps(fn[args.case[0]](int(args.case[1]))))
        return

    from simulation.validation import percolation_size

    lines = ["| nodes | engine | set-up wall / CPU (s) | run wall / CPU (s) | steps | final reach | "
             "reach vs funnelsim (tolerance) | funnelsim speed-up (CPU) | peak RSS (MB) | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    figures = []
    for n in args.sizes:
        rows = _fastest(n, ("funnelsim", "cynetdiff"), REPEATS) + _fastest(n, ("ndlib",), 1)
        figures.append({"nodes": n, **{f"{r['engine'].lower()}_cpu": r["run_cpu"] for r in rows},
                        **{f"{r['engine'].lower()}_reach": r["reach"] for r in rows}})
        fs = rows[0]
        tol = 5 * 2 * math.sqrt(n)
        for r in rows:
            gap = r["reach"] - fs["reach"]
            ok = "ok" if abs(gap) <= tol else "DIFFERS"
            lines.append(
                f"| {n:,} | {r['engine']} | {r['setup_wall']:.2f} / {r['setup_cpu']:.2f} | "
                f"{r['run_wall']:.3f} / {r['run_cpu']:.3f}{r['spread']} | {r['steps'] or ''} | "
                f"{r['reach']:,} | "
                f"{gap:+,} ({ok}, +/-{tol:,.0f}) | {r['run_cpu'] / fs['run_cpu']:.2f}x | "
                f"{r['peak_mb']:.0f} | {r['load']} |")
        theory = percolation_size(C, T) * n
        lines.append(f"| {n:,} | theory: giant component of bond percolation | | | | {theory:,.0f} "
                     f"| | | | |")
    table = "\n".join(lines)
    print(table)
    if args.record:
        head = (f"## bench_cascade.py ({machine()}, one core per case)\n\nCommand: `.venv/bin/python "
                f"benchmarks/bench_cascade.py --record`\n\nIndependent cascade on an Erdos-Renyi "
                f"graph, mean degree {C:g}, edge probability T = {T}, {SEEDS} random seeds (the same "
                f"graph and seeds for all engines). Speed-up = engine's run CPU time / funnelsim's "
                f"(> 1: funnelsim faster); funnelsim and cynetdiff: the fastest of {REPEATS} runs, each in "
                f"a fresh process. Targets: >= 100x vs NDlib, within 2x of cynetdiff.\n\n")
        record("bench_cascade", head + table + "\n", {"rows": figures})

if __name__ == "__main__":
    main()
