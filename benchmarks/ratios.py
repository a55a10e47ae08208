"""The side-by-side table of ``make bench``: funnelsim against what a user would otherwise pick.

Reads the figures the benchmark scripts saved with ``--record`` (benchmarks/out/*.json), prints
one table of ratios with their targets, and records it in benchmarks/RESULTS.md. Run after the
benchmarks (``make bench`` does).

    python benchmarks/ratios.py
"""

from __future__ import annotations

import json

from common import FIGURES, machine, record


def _load(name: str) -> dict | None:
    path = FIGURES / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def rows() -> list[tuple[str, str, str, str]]:
    """(comparison, measured, target, met) rows from the saved figures."""
    out = []
    mesa = _load("bench_mesa")
    for r in (mesa or {}).get("rows", []):
        ratio = r["mesa_cpu"] / r["funnelsim_cpu"]
        how = "" if r["mesa_measured"] else " (Mesa extrapolated from its first days)"
        out.append((f"vs idiomatic Mesa, Bass on a graph, {r['consumers']:,} consumers x 90 days",
                    f"{ratio:.0f}x faster{how}", ">= 100x", _met(ratio >= 100)))
    cascade = _load("bench_cascade")
    for r in (cascade or {}).get("rows", []):
        nd = r["ndlib_cpu"] / r["funnelsim_cpu"]
        cy = r["funnelsim_cpu"] / r["cynetdiff_cpu"]
        out.append((f"vs NDlib, independent cascade, {r['nodes']:,} nodes", f"{nd:.1f}x faster",
                    ">= 100x", _met(nd >= 100)))
        out.append((f"vs cynetdiff, independent cascade, {r['nodes']:,} nodes",
                    f"{cy:.1f}x slower", "within 2x", _met(cy <= 2)))
    scale = _load("bench_scale")
    if scale:
        for m in scale["models"]:
            out.append((f"one simulated day vs streaming state + CSR once, {m['consumers']:,}",
                        f"{m['stream_ratio']:.0f}x", "<= 10x", _met(m["stream_ratio"] <= 10)))
        for m in scale["models"]:
            target = {100_000: 2.0, 1_000_000: 10.0}.get(m["consumers"])
            if target:
                out.append((f"flagship, {m['consumers']:,} consumers x {m['days']} days, one core",
                            f"{m['run_cpu']:.2f} s", f"<= {target:g} s",
                            _met(m["run_cpu"] <= target and m["days"] == 90)))
        for g in scale["graphs"]:
            if g["consumers"] == 1_000_000:
                out.append(("graph generation, 1,000,000 nodes, mean degree 10", f"{g['cpu_s']:.2f} s",
                            "<= 5 s", _met(g["cpu_s"] <= 5)))
        if scale.get("exponent") is not None:
            out.append(("scaling exponent of time per day vs consumers + edges",
                        f"{scale['exponent']:.2f}", "<= 1", _met(scale["exponent"] <= 1)))
        out.append((f"import of a {scale['import_edges']:,}-edge file", f"{scale['import_cpu']:.2f} s",
                    "<= 5 s", _met(scale["import_cpu"] <= 5)))
    run = _load("bench_run")
    for r in (run or {}).get("rows", []):
        if not r["agents"] or r["consumers"] == 10_000:
            target = 0.5 if r["consumers"] == 10_000 else 5.0
            out.append((f"flagship, {r['consumers']:,} consumers x 90 days (foundation target)",
                        f"{r['model_s']:.2f} s", f"<= {target:g} s", _met(r["model_s"] <= target)))
    sweep = _load("bench_sweep")
    if sweep:
        out.append((f"sweep of {sweep['runs']} runs, 2 workers vs 1", f"{sweep['speedup']:.2f}x",
                    ">= 1.7x", _met(sweep["speedup"] >= 1.7)))
    view = _load("bench_view")
    if view:
        out.append(("web view, step + redraw at 10,000 consumers (median)",
                    f"{view['step_median_s']:.3f} s", "< 0.5 s", _met(view["step_median_s"] < 0.5)))
    return out


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def main() -> None:
    lines = ["| comparison | measured (CPU time, one core) | target | |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows()]
    table = "\n".join(lines)
    print(table)
    record("ratios", f"## Side by side: the ratio table of `make bench` ({machine()})\n\n"
           f"Command: `make bench` (the figures of the sections below).\n\n{table}\n")


if __name__ == "__main__":
    main()
