"""Benchmark: funnelsim vs idiomatic Mesa on the same word-of-mouth-plus-ads rules (issue 7).

funnelsim runs ``simulation.validation.bass_scenario(p, q, N, days, network="erdos_renyi",
mean_degree=k)``; Mesa runs benchmarks/mesa_reference.py (Consumer agents on
``mesa.discrete_space.Network``) on the same graph (tests/test_mesa_reference.py shows the two give
the same adoption curve). Each case runs in its own process with ``NUMBA_NUM_THREADS=1``; funnelsim
after a warm-up run (numba cache loaded). Model time = the days simulated, set-up excluded and
reported apart (for Mesa: the NetworkX graph, the Network space and the agents). funnelsim runs
``REPEATS`` times per size, and Mesa as often at 10,000 (taking turns), the fastest counting;
Mesa's long run at 100,000 runs once.

Mesa at 100,000 consumers runs only the first ``--mesa-days`` days (default 10); its 90-day time is
extrapolated with the day-by-day profile measured at 10,000 (Mesa's cost per day falls as consumers
adopt, because adopters skip their step): ``T100k(90) = T100k(first d) x T10k(90) / T10k(first d)``.
``--full`` runs Mesa at 100,000 for all days instead.

Prints a markdown table; ``--record`` prints it as a section (heading and command) to paste into
benchmarks/RESULTS.md (this script never writes that file).

    python benchmarks/bench_mesa.py [--record] [--mesa-days D] [--full]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common import clock, fastest, load, machine, peak_mb, record, runs_in_turns  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
P, Q, K, DAYS = 0.002, 0.1, 10, 90
SIZES = (10_000, 100_000)
REPEATS = 3  # runs of funnelsim (and of Mesa at 10,000); the fastest counts





def _scenario(size: int, days: int):
    from simulation.validation import bass_scenario

    return bass_scenario(P, Q, size, days, network="erdos_renyi", mean_degree=K, seed=1)


def case_funnelsim(size: int) -> dict:
    from simulation import FunnelModel
    from simulation.validation import bass_scenario

    # Warm every kernel the run calls (numba loads each from its cache at the first call): 60 days
    # reach the days on which friends' posts are pulled rather than pushed.
    FunnelModel(bass_scenario(P, Q, 2000, 60, network="erdos_renyi", mean_degree=K)).run()
    w0, c0 = clock()
    model = FunnelModel(_scenario(size, DAYS))
    w1, c1 = clock()
    model.run()
    w2, c2 = clock()
    adopters = model.datacollector.get_model_vars_dataframe()["adopters"].tolist()
    return {"engine": "funnelsim", "consumers": size, "edges": model.graph.n_edges, "days": DAYS,
            "setup_wall": w1 - w0, "setup_cpu": c1 - c0, "run_wall": w2 - w1, "run_cpu": c2 - c1,
            "day_cpu": [], "adopters": adopters, "peak_mb": peak_mb(), "load": load()}


def case_mesa(size: int, days: int) -> dict:
    from benchmarks.mesa_reference import BassNetworkModel
    from simulation import FunnelModel

    graph = FunnelModel(_scenario(size, days)).graph  # the same graph funnelsim runs on
    w0, c0 = clock()
    model = BassNetworkModel(graph.to_networkx(), P, Q, K, seed=1)
    w1, c1 = clock()
    day_cpu, day_wall = [], []
    for _ in range(days):
        a, b = clock()
        model.step()
        c, d = clock()
        day_wall.append(c - a)
        day_cpu.append(d - b)
    adopters = model.datacollector.get_model_vars_dataframe()["adopters"].tolist()
    return {"engine": "mesa", "consumers": size, "edges": graph.n_edges, "days": days,
            "setup_wall": w1 - w0, "setup_cpu": c1 - c0, "run_wall": sum(day_wall),
            "run_cpu": sum(day_cpu), "day_cpu": day_cpu, "day_wall": day_wall,
            "adopters": adopters, "peak_mb": peak_mb(), "load": load()}



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--record", action="store_true", help="print a section for RESULTS.md")
    ap.add_argument("--mesa-days", type=int, default=10, help="Mesa days timed at 100,000")
    ap.add_argument("--full", action="store_true", help="run Mesa at 100,000 for all 90 days")
    ap.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        sys.path.insert(0, str(ROOT))
        if args.case[0] == "funnelsim":
            res = case_funnelsim(int(args.case[1]))
        else:
            res = case_mesa(int(args.case[1]), int(args.case[2]))
        print(json.dumps(res))
        return

    rows = []
    mesa10k = None
    for size in SIZES:
        mesa_days = DAYS if size == SIZES[0] or args.full else args.mesa_days
        # funnelsim's runs (a tenth of a second at 10,000) are short enough for a busy machine to
        # blur one: the fastest of REPEATS counts; Mesa's too at 10,000 (2 s), taking turns
        # with funnelsim; Mesa's long run at 100,000 runs once.
        runs = runs_in_turns(__file__, {
            "funnelsim": (("funnelsim", str(size)), REPEATS),
            "mesa": (("mesa", str(size), str(mesa_days)), REPEATS if size == SIZES[0] else 1)})
        fs, me = fastest(runs["funnelsim"]), fastest(runs["mesa"])
        if size == SIZES[0]:
            mesa10k = me
        if mesa_days == DAYS:
            mesa_cpu, mesa_wall, how = me["run_cpu"], me["run_wall"], "measured"
        else:
            # Scale by the 10k profile: share of the 90-day time spent in the first d days.
            share = sum(mesa10k["day_cpu"][:mesa_days]) / sum(mesa10k["day_cpu"])
            share_w = sum(mesa10k["day_wall"][:mesa_days]) / sum(mesa10k["day_wall"])
            mesa_cpu, mesa_wall = me["run_cpu"] / share, me["run_wall"] / share_w
            how = (f"extrapolated: {mesa_days} days measured ({me['run_cpu']:.1f} s CPU), which took "
                   f"{share:.0%} of the 90-day CPU time at 10,000")
        rows.append((size, fs, me, mesa_cpu, mesa_wall, how))

    lines = ["| consumers | edges | funnelsim set-up / run, wall / CPU (s) | Mesa set-up wall / CPU (s) "
             "| Mesa run, 90 days, wall / CPU (s) | Mesa run | ratio (CPU) | ratio (wall) | "
             "adopters at day 90 (funnelsim / Mesa) | peak RSS funnelsim / Mesa (MB) | load avg | "
             "target |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for size, fs, me, mesa_cpu, mesa_wall, how in rows:
        mesa_adopt = f"{me['adopters'][-1]:,}" if me["days"] == DAYS else (
            f"{me['adopters'][-1]:,} at day {me['days']} (funnelsim {fs['adopters'][me['days'] - 1]:,})")
        lines.append(
            f"| {size:,} | {fs['edges']:,} | {fs['setup_wall']:.2f} / {fs['setup_cpu']:.2f}; "
            f"{fs['run_wall']:.3f} / {fs['run_cpu']:.3f} | {me['setup_wall']:.1f} / "
            f"{me['setup_cpu']:.1f} | {mesa_wall:.1f} / {mesa_cpu:.1f} | {how} | "
            f"{mesa_cpu / fs['run_cpu']:.0f}x | {mesa_wall / fs['run_wall']:.0f}x | "
            f"{fs['adopters'][-1]:,} / {mesa_adopt} | {fs['peak_mb']:.0f} / {me['peak_mb']:.0f} | "
            f"{fs['load']} ; {me['load']} | >= 100x |")
    table = "\n".join(lines)
    print(table)
    if args.record:
        cmd = ".venv/bin/python benchmarks/bench_mesa.py --record" + (" --full" if args.full else "")
        head = (f"## bench_mesa.py ({machine()}, one core per case)\n\nCommand: `{cmd}`\n\n"
                f"Rules: Bass diffusion on an Erdos-Renyi graph of mean degree {K}, p = {P} (ads), "
                f"q = {Q} (each adopted friend persuades with q / k a day), {DAYS} days; the same "
                f"graph for both engines.\n\n")
        record("bench_mesa", head + table + "\n", {"rows": [
            {"consumers": size, "funnelsim_cpu": fs["run_cpu"], "mesa_cpu": mesa_cpu,
             "mesa_measured": how == "measured"} for size, fs, me, mesa_cpu, mesa_wall, how in rows]})

if __name__ == "__main__":
    main()
