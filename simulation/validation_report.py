"""The validation report: ``funnelsim validate-model`` writes ``docs/validation.md``.

Following Rand & Rust (2011), the report separates *verification* (does the code do what the model
says?) from *validation* (does the model say something true about the world?):

a. Reduction to the Bass (1969) model over several (p, q): the mean of replicate runs against the
   discrete Bass recursion, with a 4.5 standard-error band; and a sparse graph adopts more slowly.
b. Reduction to the independent cascade on Erdos-Renyi graphs over (c, T) on both sides of the
   threshold: the share of runs that go large and their size against bond percolation
   ``S = 1 - exp(-c T S)``, and the mean small outbreak against ``1 / (1 - c T)``.
c. Direction of effect on a small flagship (``scenarios/product_launch.yaml`` at 4,000 consumers):
   paired runs on common random numbers (same seed), a one-sided paired test at 4.5 standard errors.
d. The stylized facts and platform signatures of :mod:`simulation.facts` (``CASES``), imported when
   the report runs; a missing module or a case that raises is reported as a failing row.

Every case is a :class:`Row` (case, expected, measured, tolerance, pass). A case that fails is
reported, never dropped; the command exits 0 either way (the report is the verdict).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from simulation.scenario import load_scenario
from simulation.validation import (
    bass_curve,
    bass_scenario,
    cascade_scenario,
    percolation_size,
    small_outbreak_mean,
)

#: Tolerance of every statistical case, in standard errors.
Z = 4.5
#: A cascade is "large" when it reaches more than this share of the graph.
LARGE = 0.10

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "scenarios" / "product_launch.yaml"

SECTION_BASS = "Bass reduction"
SECTION_CASCADE = "Independent cascade"
SECTION_DIRECTION = "Direction of effect"
SECTION_FACTS = "Stylized facts"


@dataclass
class Row:
    """One case of the report."""

    section: str
    case: str
    expected: str
    measured: str
    tolerance: str
    passed: bool
    detail: str = ""
    subsection: str = ""


@dataclass(frozen=True)
class Plan:
    """Sizes and replicates of one report. :data:`FULL` is the committed report; :data:`QUICK`
    is a smoke run (tiny sizes, little statistical power)."""

    name: str = "full"
    bass_pairs: tuple[tuple[float, float], ...] = ((0.01, 0.15), (0.005, 0.3), (0.03, 0.1))
    bass_size: int = 20_000
    bass_days: int = 60
    bass_reps: int = 6
    sparse_degree: int = 4
    sparse_day: int = 20
    sparse_reps: int = 3
    cascade_pairs: tuple[tuple[float, float], ...] = (
        (4.0, 0.15), (4.0, 0.5), (10.0, 0.05), (10.0, 0.2), (2.0, 0.3), (2.0, 0.8))
    cascade_n: int = 5_000
    cascade_reps_above: int = 200
    cascade_reps_below: int = 300
    cascade_days_above: int = 80
    cascade_days_below: int = 40
    flagship_size: int = 4_000
    flagship_days: int | None = None  # None: the scenario's own (90)
    direction_seeds: int = 10
    facts_quick: bool = False
    #: numba threads for the report's runs. Results do not depend on it (counter-based random
    #: streams); on a shared 2-core machine one thread per process is several times faster.
    threads: int = 1


FULL = Plan()
QUICK = Plan(name="quick", bass_size=2_000, bass_days=40, bass_reps=3, sparse_reps=2,
             cascade_n=1_000, cascade_reps_above=40, cascade_reps_below=60, cascade_days_above=40,
             cascade_days_below=20, flagship_size=2_000, flagship_days=60, direction_seeds=4,
             facts_quick=True)


@dataclass
class Report:
    """What :func:`write_report` produced."""

    path: Path
    rows: list[Row]
    figures: list[Path]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failing(self) -> list[Row]:
        return [r for r in self.rows if not r.passed]


Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- (a) Bass ------------------------------------------------------------------------------------


def _bass_runs(p: float, q: float, size: int, days: int, reps: int, **kw) -> np.ndarray:
    from simulation.model import FunnelModel

    runs = []
    for s in range(reps):
        model = FunnelModel(bass_scenario(p, q, size, days, seed=s, **kw)).run()
        runs.append(model.datacollector.get_model_vars_dataframe()["adopters"].to_numpy() / size)
    return np.array(runs)


def model_hazard_curve(p: float, q: float, days: int) -> np.ndarray:
    """The model's own mean-field recursion: daily hazard ``1 - (1 - p)(1 - q F)``."""
    f, out = 0.0, np.empty(days)
    for t in range(days):
        f = f + (1.0 - (1.0 - p) * (1.0 - q * f)) * (1.0 - f)
        out[t] = f
    return out


@dataclass
class BassCase:
    p: float
    q: float
    runs: np.ndarray
    theory: np.ndarray
    hazard: np.ndarray
    se: np.ndarray
    tolerance: np.ndarray


def _bass_case(p: float, q: float, plan: Plan) -> BassCase:
    runs = _bass_runs(p, q, plan.bass_size, plan.bass_days, plan.bass_reps)
    theory = bass_curve(p, q, plan.bass_days)
    hazard = model_hazard_curve(p, q, plan.bass_days)
    reps = runs.shape[0]
    binomial = np.sqrt(theory * (1 - theory) / plan.bass_size)
    spread = runs.std(axis=0, ddof=1) if reps > 1 else binomial
    se = np.maximum(binomial, spread) / math.sqrt(reps)
    return BassCase(p, q, runs, theory, hazard, se, Z * se + np.abs(theory - hazard))


def bass_rows(plan: Plan, log: Log) -> tuple[list[Row], list[BassCase], dict]:
    rows, cases = [], []
    for p, q in plan.bass_pairs:
        t0 = time.perf_counter()
        c = _bass_case(p, q, plan)
        cases.append(c)
        mean = c.runs.mean(axis=0)
        gap = np.abs(mean - c.theory)
        worst = int(np.argmax(gap / c.tolerance))
        ok = bool(np.all(gap <= c.tolerance))
        outside = int((gap > c.tolerance).sum())
        detail = "" if ok else (
            f"the simulated mean leaves the band on {outside} of {plan.bass_days} days, most on "
            f"day {worst + 1} (gap {gap[worst]:.4f} > {c.tolerance[worst]:.4f})")
        rows.append(Row(
            SECTION_BASS, f"Bass p={p:g}, q={q:g}: adopter share, days 1-{plan.bass_days}",
            "F(t) of the discrete Bass recursion on every day",
            f"worst day {worst + 1}: simulated {mean[worst]:.4f} vs theory {c.theory[worst]:.4f} "
            f"(|gap| {gap[worst]:.4f}); {plan.bass_reps} runs of {plan.bass_size:,}",
            f"{Z:g} SE + hazard overlap pqF; {c.tolerance[worst]:.4f} on that day",
            ok, detail))
        log(f"  Bass p={p:g} q={q:g}: {'pass' if ok else 'FAIL'} ({time.perf_counter() - t0:.1f} s)")

    # Direction: the same p, q on a sparse graph (each friend seen with 1/k) adopts more slowly.
    t0 = time.perf_counter()
    p, q = plan.bass_pairs[0]
    mixed = cases[0].runs
    sparse = _bass_runs(p, q, plan.bass_size, plan.bass_days, plan.sparse_reps,
                        network="watts_strogatz", mean_degree=plan.sparse_degree)
    day = min(plan.sparse_day, plan.bass_days) - 1
    m, s = mixed[:, day], sparse[:, day]
    se = math.sqrt(_var(m) / m.size + _var(s) / s.size + 2 * 0.25 / plan.bass_size)
    diff = float(m.mean() - s.mean())
    ok = diff > Z * se
    rows.append(Row(
        SECTION_BASS, f"Bass p={p:g}, q={q:g} on a Watts-Strogatz graph (k={plan.sparse_degree})",
        f"adopts more slowly than fully mixed: F_mixed - F_sparse > 0 on day {day + 1}",
        f"F_mixed {m.mean():.4f} - F_sparse {s.mean():.4f} = {diff:+.4f} (SE {se:.4f}, "
        f"z = {diff / se:.1f})",
        f"difference > {Z:g} SE", ok,
        "" if ok else "clustering did not slow adoption measurably at this size and number of runs"))
    log(f"  Bass sparse graph: {'pass' if ok else 'FAIL'} ({time.perf_counter() - t0:.1f} s)")
    return rows, cases, {"sparse": sparse, "sparse_day": day + 1}


def _var(x: np.ndarray) -> float:
    return float(x.var(ddof=1)) if x.size > 1 else 0.0


def bass_figure(cases: list[BassCase], extra: dict, plan: Plan, path: Path) -> Path:
    """Top row: the adopter share against the Bass recursion for each (p, q); bottom row: the gap
    (simulated mean minus theory) against the tolerance; right: the sparse-graph direction case."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(17, 8), layout="constrained")
    keys = "ABC"[:len(cases)]
    mosaic = [[*keys, "D"], [*"EFG"[:len(cases)], "D"]]
    ax = fig.subplot_mosaic(mosaic)
    days = np.arange(1, plan.bass_days + 1)
    for top, bottom, c in zip(keys, "EFG", cases, strict=False):
        a, b = ax[top], ax[bottom]
        mean = c.runs.mean(axis=0)
        for run in c.runs:
            a.plot(days, run, color="tab:blue", alpha=0.15, lw=0.8)
        a.fill_between(days, mean - 1.96 * c.se, mean + 1.96 * c.se, color="tab:blue", alpha=0.35,
                       label="simulated mean, 95% band")
        a.plot(days, mean, color="tab:blue", lw=1.5)
        a.plot(days, c.theory, color="black", lw=1.2, label="Bass recursion (theory)")
        a.set_title(f"Bass p={c.p:g}, q={c.q:g} ({plan.bass_reps} runs of {plan.bass_size:,})")
        a.set_ylabel("cumulative adopter share F(t)")
        a.set_ylim(0, 1.02)
        a.grid(alpha=0.3)
        a.legend(loc="lower right", fontsize=8)
        b.fill_between(days, -c.tolerance, c.tolerance, color="tab:green", alpha=0.15,
                       label=f"tolerance: {Z:g} SE + hazard overlap")
        b.fill_between(days, mean - c.theory - 1.96 * c.se, mean - c.theory + 1.96 * c.se,
                       color="tab:blue", alpha=0.35, label="simulated - theory, 95% band")
        b.plot(days, mean - c.theory, color="tab:blue", lw=1.2)
        b.plot(days, c.hazard - c.theory, color="tab:orange", lw=1.2, ls="--",
               label="model's hazard 1-(1-p)(1-qF) - Bass")
        b.axhline(0, color="black", lw=0.8)
        b.set_xlabel("day")
        b.set_ylabel("gap in F(t)")
        b.grid(alpha=0.3)
        b.legend(loc="lower right", fontsize=7)
    d = ax["D"]
    c = cases[0]
    for label, runs, color in (("fully mixed", c.runs, "tab:blue"),
                               (f"Watts-Strogatz, k={plan.sparse_degree}", extra["sparse"], "tab:red")):
        mean = runs.mean(axis=0)
        d.plot(days, mean, color=color, lw=1.8, label=f"{label} (mean of {runs.shape[0]})")
        for run in runs:
            d.plot(days, run, color=color, alpha=0.2, lw=0.8)
    d.plot(days, c.theory, color="black", lw=1, ls=":", label="Bass recursion")
    d.axvline(extra["sparse_day"], color="grey", lw=0.8, ls="--", label="day compared")
    d.set_title(f"A sparse graph adopts more slowly\n(p={c.p:g}, q={c.q:g})")
    d.set_xlabel("day")
    d.set_ylabel("cumulative adopter share F(t)")
    d.set_ylim(0, 1.02)
    d.grid(alpha=0.3)
    d.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


# --- (b) cascades --------------------------------------------------------------------------------


@dataclass
class CascadeCase:
    c: float
    t: float
    n: int
    sizes: np.ndarray

    @property
    def r(self) -> float:
        return self.c * self.t


#: A cascade run stops after this many days with no newly engaged consumer: nobody is left to
#: share (each engaged consumer shares once, the next day), so its final size is already known.
QUIET_DAYS = 3


def _cascade_sizes(n: int, c: float, t: float, reps: int, days: int) -> np.ndarray:
    from simulation.model import FunnelModel

    sizes = np.empty(reps)
    for s in range(reps):
        model = FunnelModel(cascade_scenario(n, c, t, 1, days=days, seed=s))
        last, quiet = -1, 0
        for _ in range(days):
            model.step()
            size = model.today["ever_engaged"]
            quiet = quiet + 1 if size == last else 0
            last = size
            if quiet >= QUIET_DAYS:
                break
        sizes[s] = last
    return sizes


def cascade_rows(plan: Plan, log: Log) -> tuple[list[Row], list[CascadeCase]]:
    rows, cases = [], []
    n = plan.cascade_n
    for c, t in plan.cascade_pairs:
        t0 = time.perf_counter()
        r = c * t
        above = r > 1.0
        reps = plan.cascade_reps_above if above else plan.cascade_reps_below
        days = plan.cascade_days_above if above else plan.cascade_days_below
        sizes = _cascade_sizes(n, c, t, reps, days)
        case = CascadeCase(c, t, n, sizes)
        cases.append(case)
        label = f"cascade c={c:g}, T={t:g} (cT={r:.2g}, {'above' if above else 'below'} threshold)"
        large = sizes > LARGE * n
        k = int(large.sum())
        if above:
            s = percolation_size(c, t)
            se = math.sqrt(s * (1 - s) / reps)
            got = k / reps
            ok = abs(got - s) <= Z * se
            rows.append(Row(
                SECTION_CASCADE, f"{label}: share of runs that go large",
                f"S = {s:.3f} (one seed starts a giant outbreak with probability S)",
                f"{got:.3f} ({k} of {reps} runs > {LARGE:.0%} of n)", f"±{Z:g} SE = ±{Z * se:.3f}",
                ok, "" if ok else f"|{got:.3f} - {s:.3f}| exceeds {Z:g} binomial SE"))
            if k >= 2:
                share = sizes[large] / n
                tol = Z * share.std(ddof=1) / math.sqrt(k) + 2.0 / n
                ok2 = abs(share.mean() - s) <= tol
                measured = f"{share.mean():.4f} (mean of {k} large runs, n={n:,})"
                why = "" if ok2 else (f"|{share.mean():.4f} - {s:.4f}| exceeds the finite-size spread "
                                      "of the giant component")
            else:
                tol, ok2, measured = math.nan, False, f"{k} large runs: too few to measure"
                why = "fewer than two runs went large, so their size cannot be compared"
            rows.append(Row(
                SECTION_CASCADE, f"{label}: size of large outbreaks", f"S = {s:.4f} of n", measured,
                f"±({Z:g} SE + 2/n) = ±{tol:.4f}", ok2, why))
        else:
            rows.append(Row(
                SECTION_CASCADE, f"{label}: large outbreaks", "none (S = 0 below the threshold)",
                f"{k} of {reps} runs > {LARGE:.0%} of n; largest {int(sizes.max()):,}",
                "0 runs", k == 0,
                "" if k == 0 else "a cascade below the threshold reached a sizeable share of the graph"))
            mu = small_outbreak_mean(c, t)
            se = math.sqrt(r / (1 - r) ** 3 / reps)
            ok = abs(sizes.mean() - mu) <= Z * se
            rows.append(Row(
                SECTION_CASCADE, f"{label}: mean outbreak from one seed",
                f"1/(1-cT) = {mu:.3f} consumers (seed included)",
                f"{sizes.mean():.3f} (mean of {reps} runs)", f"±{Z:g} SE = ±{Z * se:.3f}", ok,
                "" if ok else "the mean differs from a Poisson branching process's total progeny"))
        passed = all(x.passed for x in rows if x.case.startswith(label))
        log(f"  {label}: {'pass' if passed else 'FAIL'} ({time.perf_counter() - t0:.1f} s)")
    return rows, cases


def cascade_figure(cases: list[CascadeCase], path: Path) -> Path:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.8), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    rs = np.linspace(0.0, 3.2, 321)
    ax.plot(rs, [percolation_size(r, 1.0) for r in rs], color="black", lw=1.5,
            label="theory: S = 1 - exp(-cTS)")
    colors = {}
    for case in cases:
        color = colors.setdefault(case.c, f"C{len(colors)}")
        reps = case.sizes.size
        large = case.sizes > LARGE * case.n
        k = int(large.sum())
        p = k / reps
        half = 1.96 * math.sqrt(max(p * (1 - p), 1.0 / reps) / reps)
        x = case.r + 0.05 * (list(colors).index(case.c) - 1)
        ax.errorbar(x - 0.015, p, yerr=half, fmt="o", color=color, capsize=3,
                    label=f"c={case.c:g}: share of runs that go large")
        if k >= 2:
            share = case.sizes[large] / case.n
            ax.errorbar(x + 0.015, share.mean(), yerr=1.96 * share.std(ddof=1) / math.sqrt(k),
                        fmt="s", mfc="white", color=color, capsize=3,
                        label=f"c={case.c:g}: size of large outbreaks")
    ax.axvline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("cT (mean transmissions per engaged consumer)")
    ax.set_ylabel("S (share of the graph) / share of runs")
    ax.set_title("Independent cascade = bond percolation\n"
                 "(bars: 95% intervals; points offset a little in cT)")
    ax.set_ylim(-0.03, 1.0)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    ax.legend(unique.values(), unique.keys(), fontsize=8, loc="upper left")

    rb = np.linspace(0.0, 0.8, 200)
    bx.plot(rb, 1.0 / (1.0 - rb), color="black", lw=1.5, label="theory: 1/(1-cT)")
    for case in cases:
        if case.r >= 1.0:
            continue
        color = colors[case.c]
        sem = case.sizes.std(ddof=1) / math.sqrt(case.sizes.size)
        x = case.r + 0.01 * (list(colors).index(case.c) - 1)
        bx.errorbar(x, case.sizes.mean(), yerr=1.96 * sem, fmt="o", color=color, capsize=3,
                    label=f"c={case.c:g}, T={case.t:g}: mean of {case.sizes.size} runs")
    bx.set_xlabel("cT")
    bx.set_ylabel("mean outbreak size (consumers, seed included)")
    bx.set_title("Below the threshold: mean small outbreak\n(bars: 95% intervals)")
    bx.grid(alpha=0.3)
    bx.legend(fontsize=8, loc="upper left")
    return _save(fig, path)


# --- (c) direction of effect ---------------------------------------------------------------------


@dataclass(frozen=True)
class DirectionCase:
    """Arm ``b`` against arm ``a`` on the same seeds: ``sign * (b - a) > Z * SE``."""

    case: str
    metric: str
    a: str
    b: str
    sign: int
    expected: str


DIRECTION_CASES = (
    DirectionCase("paid budget $10 -> $30 a day: customers", "customers", "budget10", "budget30", +1,
                  "more customers"),
    DirectionCase("paid budget $10 -> $30 a day: spend", "spend", "budget10", "budget30", +1,
                  "more spend"),
    DirectionCase("price $100 -> $150: customers", "customers", "base", "price150", -1,
                  "fewer customers"),
    DirectionCase("peer_view_prob 0.5 -> 0.8: consumers ever engaged", "ever_engaged", "base",
                  "peer08", +1, "more consumers engaged"),
    DirectionCase("trust_threshold 0.3 -> 0.5: customers", "customers", "base", "trust05", -1,
                  "fewer customers"),
    DirectionCase("organic posts x2 on every stream (no paid line): reach", "reach", "nopaid",
                  "nopaid_posts2", +1, "more reach"),
    DirectionCase("retargeting off -> on ($80 a day): customers", "customers", "retarget_off", "base",
                  +1, "more customers"),
)


def _arms(plan: Plan) -> dict[str, list[str]]:
    base = [f"audience.size={plan.flagship_size}", "materialize_agents=false"]
    if plan.flagship_days is not None:
        base.append(f"days={plan.flagship_days}")
    flagship = load_scenario(FLAGSHIP)
    double = [f"strategy.organic.{i}.posts_per_week={2 * s.posts_per_week:g}"
              for i, s in enumerate(flagship.strategy.organic)]
    nopaid = [f"strategy.paid.{i}.daily_budget=0" for i in range(len(flagship.strategy.paid))]
    return {
        "base": base,
        "budget10": [*base, "strategy.paid.0.daily_budget=10"],
        "budget30": [*base, "strategy.paid.0.daily_budget=30"],
        "price150": [*base, "product.price=150"],
        "peer08": [*base, "behavior.peer_view_prob=0.8"],
        "trust05": [*base, "behavior.trust_threshold=0.5"],
        "nopaid": [*base, *nopaid],
        "nopaid_posts2": [*base, *nopaid, *double],
        "retarget_off": [*base, "strategy.retargeting.0.daily_budget=0"],
    }


@dataclass
class DirectionResult:
    case: DirectionCase
    a: np.ndarray
    b: np.ndarray

    @property
    def diff(self) -> np.ndarray:
        return self.b - self.a

    @property
    def se(self) -> float:
        d = self.diff
        return float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else math.nan

    @property
    def z(self) -> float:
        m = self.case.sign * float(self.diff.mean())
        if self.se == 0:
            return math.inf if m > 0 else (-math.inf if m < 0 else 0.0)
        return m / self.se

    @property
    def passed(self) -> bool:
        return bool(self.z > Z)


def direction_rows(plan: Plan, log: Log) -> tuple[list[Row], list[DirectionResult]]:
    from simulation.results import run

    arms = _arms(plan)
    scenarios = {name: load_scenario(FLAGSHIP, ov) for name, ov in arms.items()}
    cache: dict[tuple[str, int], dict] = {}

    def metric(arm: str, seed: int, name: str) -> float:
        if (arm, seed) not in cache:
            result = run(scenarios[arm], seed=seed)
            cache[arm, seed] = {**result.summary,
                                "ever_engaged": float(result.timeseries["ever_engaged"].iloc[-1])}
        return float(cache[arm, seed][name])

    rows, results = [], []
    for case in DIRECTION_CASES:
        t0 = time.perf_counter()
        seeds = range(plan.direction_seeds)
        a = np.array([metric(case.a, s, case.metric) for s in seeds])
        b = np.array([metric(case.b, s, case.metric) for s in seeds])
        res = DirectionResult(case, a, b)
        results.append(res)
        d = float(res.diff.mean())
        fmt = ",.0f" if case.metric != "spend" else ",.2f"
        rows.append(Row(
            SECTION_DIRECTION, case.case,
            f"{case.expected} (paired difference {'>' if case.sign > 0 else '<'} 0)",
            f"{a.mean():{fmt}} -> {b.mean():{fmt}}: difference {d:+,.1f} (SE {res.se:,.2f}, "
            f"z = {res.z:.1f}; {len(seeds)} paired seeds)",
            f"|difference| > {Z:g} SE, right sign", res.passed,
            "" if res.passed else (
                "the effect has the wrong sign" if res.z < 0 else
                f"the effect has the expected sign but only {res.z:.1f} SE: too small to tell "
                f"from noise with {len(seeds)} seeds")))
        log(f"  {case.case}: {'pass' if res.passed else 'FAIL'} ({time.perf_counter() - t0:.1f} s)")
    return rows, results


def direction_figure(results: list[DirectionResult], path: Path) -> Path:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 0.55 * len(results) + 1.6), layout="constrained")
    ax = fig.subplots()
    finite = [abs(r.z) for r in results if math.isfinite(r.z)] or [Z]
    cap = max(2 * Z, 1.2 * max(finite))
    zs = [r.z if math.isfinite(r.z) else math.copysign(cap, r.z) for r in results]
    ypos = np.arange(len(results))[::-1]
    colors = ["tab:green" if r.passed else "tab:red" for r in results]
    ax.barh(ypos, zs, color=colors)
    for y, z, r in zip(ypos, zs, results, strict=True):
        label = f"{r.z:.1f}" if math.isfinite(r.z) else "no noise: every seed agrees"
        ax.text(max(z, 0) * 1.08 + 0.3, y, label, va="center", fontsize=8)
    ax.axvline(Z, color="black", ls="--", lw=1, label=f"{Z:g} SE: the pass line")
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(ypos, [r.case.case.replace("$", r"\$") for r in results], fontsize=8)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("paired difference in the expected direction, in standard errors (z; linear to 10, "
                  "then log)")
    ax.set_title("Direction of effect on the flagship (paired seeds, common random numbers)")
    ax.set_xlim(min(-1.0, min(zs) * 1.3), max(zs) * 3)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


# --- (d) stylized facts --------------------------------------------------------------------------


def fact_rows(quick: bool, log: Log) -> tuple[list[Row], str]:
    """Rows for :data:`simulation.facts.CASES`; a missing or broken module is a failing row.
    Returns the rows and a plain note about the module's state."""
    try:
        facts = importlib.import_module("simulation.facts")
    except ModuleNotFoundError as exc:
        if exc.name not in ("simulation.facts", "simulation"):
            note = f"simulation/facts.py fails to import: {type(exc).__name__}: {exc}"
        else:
            note = "simulation/facts.py does not exist: the stylized facts were not checked."
        log(f"  {note}")
        return [Row(SECTION_FACTS, "simulation.facts (the stylized facts and platform signatures)",
                    "the module with CASES", "missing" if "exist" in note else "import error",
                    "-", False, note)], note
    except Exception as exc:  # a broken module is a failing case, not a crash of the report
        note = f"simulation/facts.py fails to import: {type(exc).__name__}: {exc}"
        log(f"  {note}")
        return [Row(SECTION_FACTS, "simulation.facts", "the module imports", "import error", "-",
                    False, note)], note
    cases = list(getattr(facts, "CASES", None) or [])
    if not cases:
        note = "simulation/facts.py has no CASES (or an empty list): no stylized facts were checked."
        return [Row(SECTION_FACTS, "simulation.facts.CASES", "a list of cases", "empty or missing",
                    "-", False, note)], note
    rows = []
    for case in cases:
        t0 = time.perf_counter()
        name = str(getattr(case, "name", case))
        section = str(getattr(case, "section", "") or "stylized facts")
        try:
            out = case.check(quick)
            rows.append(Row(SECTION_FACTS, name, str(out.expected), str(out.measured),
                            str(out.tolerance), bool(out.passed), str(getattr(out, "detail", "") or ""),
                            subsection=section))
        except Exception as exc:
            rows.append(Row(SECTION_FACTS, name, "-", "error", "-", False,
                            f"the check raised {type(exc).__name__}: {exc}", subsection=section))
        log(f"  {name}: {'pass' if rows[-1].passed else 'FAIL'} ({time.perf_counter() - t0:.1f} s)")
    return rows, f"{len(cases)} cases from simulation/facts.py (quick={quick})."


# --- the report ----------------------------------------------------------------------------------


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, format="png", metadata={"Software": None})
    return path


def _cell(text: str) -> str:
    """Text for a Markdown table cell or list item: pipes and dollar signs (math on GitHub)
    escaped, on one line."""
    return str(text).replace("|", "\\|").replace("$", "\\$").replace("\n", " ").strip() or "-"


def _table(rows: list[Row]) -> list[str]:
    lines = ["| case | expected | measured | tolerance | pass |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {_cell(r.case)} | {_cell(r.expected)} | {_cell(r.measured)} | "
                     f"{_cell(r.tolerance)} | {'pass' if r.passed else '**FAIL**'} |")
    return lines


def _duration(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s} s" if m else f"{s} s"


INTRO = """\
Rand and Rust (2011, "Agent-based modeling in marketing: guidelines for rigor", *International
Journal of Research in Marketing* 28(3)) separate two questions. **Verification** asks whether the
code does what the model says: here, whether the general funnel model, with its parameters set so
that it collapses to a textbook process, reproduces that process's known answers (*docking*:
sections 1 and 2), and whether each lever moves the outputs in the direction the model's rules imply
(*direction of effect*: section 3). **Validation** asks whether the model says something true about
the world: whether its default scenarios reproduce the stylized facts of social-media marketing and
the platforms' signatures (section 4). Passing verification does not validate the model, and a
validation case that fails says where the model and the world part."""


def render(rows: list[Row], figures: dict[str, str], plan: Plan, seconds: float,
           timings: dict[str, float], facts_note: str) -> str:
    failing = [r for r in rows if not r.passed]
    by = {s: [r for r in rows if r.section == s] for s in
          (SECTION_BASS, SECTION_CASCADE, SECTION_DIRECTION, SECTION_FACTS)}
    out = ["# Validation report", ""]
    compile_ = timings.get("compile", 0.0)
    extra = (f" (plus {_duration(compile_)} loading the numba kernels, or compiling them after they "
             "change)") if compile_ >= 1.0 else ""
    out += [f"_Written by `funnelsim validate-model` ({plan.name} mode) in {_duration(seconds)}{extra} on a "
            f"{os.cpu_count()}-core machine (shared with other work; the runs use {plan.threads} numba "
            f"thread{'s' if plan.threads > 1 else ''}, which does not change their results); regenerate "
            f"with `make validate`. Every statistical tolerance is {Z:g} standard errors._", ""]
    if plan.name != "full":
        out += ["> **Quick mode**: tiny sizes and few replicates, a smoke run of the report itself. "
                "Its verdicts have little statistical power; the committed report is the full one.", ""]
    out += [INTRO, "", "## Summary", ""]
    out += [f"**{len(rows) - len(failing)} of {len(rows)} cases pass.**", ""]
    out += ["| section | cases | pass | fail | time |", "| --- | --- | --- | --- | --- |"]
    for s, rs in by.items():
        nf = sum(not r.passed for r in rs)
        out.append(f"| {s} | {len(rs)} | {len(rs) - nf} | {nf} | {_duration(timings.get(s, 0.0))} |")
    out += ["", "### Cases that fail", ""]
    if not failing:
        out += ["None.", ""]
    for r in failing:
        why = _cell(r.detail).rstrip(".") if r.detail else f"outside the tolerance ({_cell(r.tolerance)})"
        out.append(f"- **{_cell(r.case)}** ({r.section}): expected {_cell(r.expected)}; measured "
                   f"{_cell(r.measured)}. Why: {why}.")
    if failing:
        out.append("")

    out += ["## 1. Reduction to the Bass model (verification)", ""]
    out += [
        f"`simulation.validation.bass_scenario(p, q, size, days)` is an ordinary scenario: a fully "
        f"mixed population of {plan.bass_size:,} in which one ad a day persuades with probability p "
        "and each customer met persuades with probability q, and every persuasion is a purchase. "
        f"The figure shows the cumulative adopter share of {plan.bass_reps} replicate runs (thin "
        "lines), their mean with a 95% band, and the discrete Bass recursion "
        "F(t+1) = F(t) + (p + qF(t))(1 - F(t)). The tolerance on each day is "
        f"{Z:g} standard errors (the larger of the binomial one and the spread across runs, over "
        "the square root of the number of runs) plus the known gap between the model's daily hazard "
        "1 - (1-p)(1-qF) and Bass's p + qF (the dashed orange curve is the recursion with the "
        "model's hazard: the two channels cannot both persuade the same consumer on one day). "
        f"The fourth panel is a direction test: on a Watts-Strogatz graph with {plan.sparse_degree} "
        "friends each (each friend seen with probability 1/k, so the expected adopters met is the "
        "same), word of mouth stays local and adoption is slower; compared on day "
        f"{min(plan.sparse_day, plan.bass_days)}.", ""]
    out += [f"![Bass reduction]({figures['bass']})", ""] if "bass" in figures else []
    out += [*_table(by[SECTION_BASS]), ""]

    out += ["## 2. Independent cascade and bond percolation (verification)", ""]
    out += [
        "`simulation.validation.cascade_scenario(n, c, T)` is an independent cascade on an "
        f"Erdos-Renyi graph of {plan.cascade_n:,} consumers with mean degree c: one seed posts once "
        "and each newly engaged consumer passes it on to each friend with probability T, once. "
        "Above the threshold (cT > 1) a run goes large (more than "
        f"{LARGE:.0%} of the graph) with probability S and then reaches a share S of the graph, "
        "where S = 1 - exp(-cTS) (Newman 2002); the binomial standard error of the share of runs "
        "and the spread of the large runs' sizes (plus 2/n for rounding) set the tolerances. Below "
        "the threshold no run goes large, and the mean outbreak from one seed is the total progeny "
        "of a Poisson(cT) branching process, 1/(1 - cT), with variance cT/(1 - cT)^3. Runs: "
        f"{plan.cascade_reps_above} per pair above the threshold, {plan.cascade_reps_below} below; "
        f"a run stops after {QUIET_DAYS} days with no newly engaged consumer (each engaged consumer "
        "shares once, the next day, so nobody is left to pass it on and the final size is known).",
        ""]
    out += [f"![Cascade against percolation]({figures['cascade']})", ""] if "cascade" in figures else []
    out += [*_table(by[SECTION_CASCADE]), ""]

    days = "its 90 days" if plan.flagship_days is None else f"{plan.flagship_days} days"
    out += ["## 3. Direction of effect (verification)", ""]
    out += [
        f"The flagship, `scenarios/product_launch.yaml`, at {plan.flagship_size:,} consumers over "
        f"{days}. Each case runs two arms on the same {plan.direction_seeds} seeds: a run's random "
        "numbers are keyed by (seed, day, consumer, decision), so the arms share their noise and "
        "the per-seed differences isolate the lever. A case passes when the mean paired difference "
        f"has the expected sign and exceeds {Z:g} standard errors of the differences. Two design "
        "choices: at this audience size the flagship's paid TikTok line delivers everything it can "
        "(frequency cap times the active audience) at a few tens of dollars a day, so the budget "
        "case compares \\$10 with \\$30 a day, below that point; and the paid line alone reaches "
        "nearly every reachable "
        "consumer, so the posting case is run with the paid line's budget at 0 (organic reach is "
        "then not masked). Metrics: `customers`, `spend` and `reach` of the summary; "
        "`ever_engaged` (consumers who ever engaged) of the last day.", ""]
    out += [f"![Direction of effect]({figures['direction']})", ""] if "direction" in figures else []
    out += [*_table(by[SECTION_DIRECTION]), ""]

    out += ["## 4. Stylized facts and platform signatures (validation)", ""]
    out += [_cell(facts_note), ""]
    facts_rows = by[SECTION_FACTS]
    subsections = list(dict.fromkeys(r.subsection for r in facts_rows))
    for sub in subsections:
        rs = [r for r in facts_rows if r.subsection == sub]
        if sub:
            out += [f"### {sub[:1].upper() + sub[1:]}", ""]
        out += [*_table(rs), ""]
        notes = [r for r in rs if r.detail]
        if notes:
            out += [f"- *{_cell(r.case)}*: {_cell(r.detail)}" for r in notes] + [""]
    return "\n".join(out).rstrip() + "\n"


@contextlib.contextmanager
def _numba_threads(n: int):
    import numba

    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(old)


def write_report(out: Path, *, quick: bool = False, plan: Plan | None = None,
                 log: Log = _stderr) -> Report:
    """Run every case and write the report to ``out`` and its figures to ``img/validation/``
    beside it. Returns the rows; cases that fail are in the report, they do not raise."""
    plan = plan or (QUICK if quick else FULL)
    with _numba_threads(plan.threads):
        return _write_report(Path(out), plan, log)


def _warm_up() -> None:
    from simulation.results import run

    run(bass_scenario(0.01, 0.1, 200, 2))
    run(cascade_scenario(200, 3.0, 0.5, days=2))
    run(load_scenario(FLAGSHIP, ["audience.size=300", "days=2", "materialize_agents=false"]))


def _write_report(out: Path, plan: Plan, log: Log) -> Report:
    img = out.parent / "img" / "validation"
    img.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    # Load (or, after the kernels change, compile) the numba kernels before the clock starts: a
    # one-off cost of the checkout, not of the report.
    t0 = time.perf_counter()
    _warm_up()
    timings["compile"] = time.perf_counter() - t0
    log(f"numba kernels loaded ({timings['compile']:.1f} s)")
    start = time.perf_counter()
    rows: list[Row] = []
    figures: dict[str, str] = {}
    written: list[Path] = []

    def rel(path: Path) -> str:
        return path.relative_to(out.parent).as_posix()

    log(f"validate-model ({plan.name}): (a) Bass reduction")
    t0 = time.perf_counter()
    bass, bass_cases, extra = bass_rows(plan, log)
    written.append(bass_figure(bass_cases, extra, plan, img / "bass.png"))
    figures["bass"] = rel(written[-1])
    rows += bass
    timings[SECTION_BASS] = time.perf_counter() - t0

    log("(b) independent cascade")
    t0 = time.perf_counter()
    cascade, cascade_cases = cascade_rows(plan, log)
    written.append(cascade_figure(cascade_cases, img / "cascade.png"))
    figures["cascade"] = rel(written[-1])
    rows += cascade
    timings[SECTION_CASCADE] = time.perf_counter() - t0

    log("(c) direction of effect")
    t0 = time.perf_counter()
    direction, direction_results = direction_rows(plan, log)
    written.append(direction_figure(direction_results, img / "direction.png"))
    figures["direction"] = rel(written[-1])
    rows += direction
    timings[SECTION_DIRECTION] = time.perf_counter() - t0

    log("(d) stylized facts")
    t0 = time.perf_counter()
    facts, facts_note = fact_rows(plan.facts_quick, log)
    rows += facts
    timings[SECTION_FACTS] = time.perf_counter() - t0

    seconds = time.perf_counter() - start
    text = render(rows, figures, plan, seconds, timings, facts_note)
    _write_atomic(out, text)
    return Report(out, rows, written, seconds, timings)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --- the command ---------------------------------------------------------------------------------


def validate_model_command(
    out: Annotated[Path, typer.Option(
        help="The report (Markdown); its figures go to img/validation/ beside it.")
    ] = Path("docs/validation.md"),
    quick: Annotated[bool, typer.Option(
        "--quick", help="Tiny sizes and few replicates: a smoke run of the report (under a "
                        "minute), with little statistical power.")] = False,
) -> None:
    """Check the model against known results (Bass, bond percolation), direction-of-effect cases
    and the stylized facts, and write the validation report. Exits 0 even when a case fails: the
    report says which and why."""
    from rich.console import Console

    err = Console(stderr=True)
    problem = None
    if out.suffix.lower() not in (".md", ".markdown"):
        problem = f"--out {out}: expected a Markdown file name ending in .md"
    elif out.is_dir():
        problem = f"--out {out}: is a folder; expected a Markdown file name such as {out / 'validation.md'}"
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problem = f"--out {out}: cannot create the folder {out.parent}: {exc.strerror or exc}"
        if problem is None and not os.access(out.parent, os.W_OK):
            problem = f"--out {out}: the folder {out.parent} is not writable"
    if problem is not None:
        err.print(f"error: {problem}", markup=False, highlight=False, emoji=False, soft_wrap=True)
        raise typer.Exit(code=2)
    report = write_report(out, quick=quick,
                          log=lambda m: err.print(m, markup=False, highlight=False, emoji=False))
    failing = report.failing
    print(f"{len(report.rows) - len(failing)} of {len(report.rows)} cases pass "
          f"({_duration(report.seconds)} + {_duration(report.timings.get('compile', 0.0))} loading the "
          f"kernels); wrote {out} and {len(report.figures)} figures in "
          f"{out.parent / 'img' / 'validation'}")
    for r in failing:
        print(f"  FAIL {r.section}: {r.case}")


__all__ = ["FULL", "QUICK", "Plan", "Report", "Row", "render", "validate_model_command",
           "write_report"]
