"""``optimize``: search a plan for a scenario and measure it against the scenario's own plan."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from simulation.errors import FunnelsimError, Problem, nearest
from simulation.experiments.seeds import replicate_seeds
from simulation.optimization import budget as budget_mod
from simulation.optimization import mix as mix_mod
from simulation.optimization import seeding as seeding_mod
from simulation.optimization.curves import mix_curve, response_curves
from simulation.optimization.objectives import OBJECTIVES
from simulation.optimization.plans import PURPOSES, Base, check_budget
from simulation.optimization.runs import PairedRunner, scenario_digest
from simulation.optimization.study import Study, confirm
from simulation.scenario import Scenario, load_scenario

OVER = ("platforms", "mix", "influencers")
METHODS = ("grid", "optuna")


@dataclass
class Optimization:
    """The outcome of :func:`optimize`.

    Attributes:
        over, objective, min_roas, budget ($/day or None), reps, seed: the question asked.
        candidates: one row per candidate plan evaluated in the search (best first): its
            parameters, mean objective, feasibility, each metric's mean and 95% interval, and the
            paired difference against the scenario's own plan on the search replicates.
        best: the best candidate's label; ``best_params``: what it is.
        confirm: the own plan, the best plan and a reference plan (even split, even mix, random
            seeding) re-run on fresh replicates; means, 95% intervals and paired differences
            against the own plan (first row). The reported improvement comes from this table;
            ``confirm_runs`` has its runs (one row per plan and replicate).
        curves: response curves (platforms: metric against each line's daily budget; mix:
            against the share of sales posts; influencers: CELF's objective against seeds).
        plan: the scenario mapping with the best plan applied (``plan.yaml``).
        notes: lines for the plan file's header and the report.
        seed_ids: influencers: the consumer ids each method seeds.
        runs: simulations run; errors: why runs failed, if any.
    """

    scenario: str
    over: str
    objective: str
    min_roas: float | None
    budget: float | None
    reps: int
    seed: int
    days: int
    audience: int
    candidates: pd.DataFrame
    best: str
    best_params: dict
    confirm: pd.DataFrame
    confirm_runs: pd.DataFrame
    curves: pd.DataFrame
    plan: dict
    notes: list[str] = field(default_factory=list)
    seed_ids: dict = field(default_factory=dict)
    runs: int = 0
    errors: list[str] = field(default_factory=list)
    confirmed_best: str = ""  # the best plan's row in ``confirm`` (the own plan's, if the same)

    def improvement(self, metric: str | None = None) -> tuple[float, float, float]:
        """(best - own plan, low, high): the paired difference on the fresh replicates."""
        metric = metric or self.objective
        row = self.confirm[self.confirm["plan"] == (self.confirmed_best or self.best)].iloc[0]
        if row["plan"] == self.confirm["plan"].iloc[0]:  # the own plan is the best
            return 0.0, 0.0, 0.0
        return (float(row[f"{metric}_diff"]), float(row[f"{metric}_diff_low"]),
                float(row[f"{metric}_diff_high"]))

    def verdict(self) -> str:
        """One sentence on the improvement's 95% interval on the fresh replicates."""
        d, low, high = self.improvement()
        if d == low == high == 0.0:
            return "the scenario's own plan is the best plan found"
        if low > 0:
            return "the best plan is clearly better than the scenario's own plan"
        if high < 0:
            return ("on fresh replicates the best plan is worse than the scenario's own plan: "
                    "its lead in the search was noise (more --reps)")
        return ("the best plan is not clearly better than the scenario's own plan (the "
                "interval contains 0)")

    def write(self, out: str | Path) -> list[Path]:
        """Write plan.yaml, report.md, candidates.csv/.parquet, curves.csv, confirm.csv and the
        figures to ``out`` (each file atomically); returns the paths."""
        from simulation.optimization.report import write_outputs

        return write_outputs(self, Path(out))


def check_inputs(objective: str, over: str, reps: int, trials: int, min_roas: float | None,
                 workers: int | None, pool: int | None, method: str = "grid") -> None:
    """Raise :class:`FunnelsimError` (exit 2 on the command line) for a bad option."""
    if objective not in OBJECTIVES:
        raise FunnelsimError("--objective", [Problem("", "unknown objective", value=objective,
                                                     suggestion=nearest(objective, OBJECTIVES))])
    if over not in OVER:
        raise FunnelsimError("--over", [Problem("", "unknown search space", value=over,
                                                suggestion=nearest(over, OVER))])
    if method not in METHODS:
        raise FunnelsimError("--method", [Problem("", "unknown search method", value=method,
                                                  suggestion=nearest(method, METHODS))])
    if reps < 2:
        raise FunnelsimError("--reps", [Problem("", "at least 2 replicates are needed for an "
                                                    "interval", value=reps)])
    if trials < 1:
        raise FunnelsimError("--trials", [Problem("", "expected 1 or more", value=trials)])
    if min_roas is not None and (not math.isfinite(min_roas) or min_roas < 0):
        raise FunnelsimError("--min-roas", [Problem("", "expected a ratio >= 0 (revenue / spend)",
                                                    value=min_roas)])
    if workers is not None and workers < 0:
        raise FunnelsimError("--workers", [Problem("", "expected 0 or more", value=workers)])
    if pool is not None and pool < 1:
        raise FunnelsimError("--pool", [Problem("", "expected 1 or more", value=pool)])


def optimize(scenario: str | Path | dict | Scenario, *, objective: str = "customers",
             over: str = "platforms", budget: float | None = None,
             min_roas: float | None = None, reps: int = 5, trials: int = 40,
             seed: int | None = None, workers: int = 0, overrides: list[str] | None = None,
             pool: int | None = None, method: str = "grid", progress=None) -> Optimization:
    """Search the best plan for a scenario on paired replicates.

    Args:
        scenario: a scenario file, dict or :class:`Scenario`.
        objective: ``customers`` (count), ``profit`` ($, revenue x margin - spend) or ``roas``
            (revenue / spend), averaged over replicates.
        over: ``platforms`` (split of the daily budget across paid and retargeting lines),
            ``mix`` (purposes of the organic posts) or ``influencers`` (whom to seed).
        budget: total daily budget of the paid and retargeting lines, $ per day. Required for
            ``platforms``; for ``mix``/``influencers`` it rescales the scenario's own split
            (default: the file's budgets as they are).
        min_roas: plans whose mean ROAS is below this are infeasible.
        reps: replicates (seeds) per candidate; the final check uses as many fresh ones.
        trials: the most candidates to simulate in the search (``platforms``, ``mix``); for
            ``influencers``, the most CELF re-evaluations after its first pass over the pool.
        seed: base seed of the replicates (default: the scenario's).
        workers: 0 runs here; N > 0 on a local Dask cluster of N single-threaded processes.
        overrides: ``dotted.key=value`` items applied to the scenario first (``--set``).
        pool: influencers: CELF's candidate consumers (default max(20, 3 x count)).
        method: platforms and mix: ``grid`` (coarse grid + local refine, deterministic) or
            ``optuna`` (TPE sampler seeded by ``seed``); see :mod:`.search`.
        progress: called as ``progress(runs_done)``.

    Raises:
        FunnelsimError: bad input (nothing has run).
    """
    check_inputs(objective, over, reps, trials, min_roas, workers, pool, method)
    base = Base(scenario, overrides)
    check_budget(budget, base.lines, required=over == "platforms")
    if over == "mix":
        mix_mod.check_mix(base)
    count = seeding_mod.check_influencers(base) if over == "influencers" else 0
    if budget is not None and over != "platforms":
        spends = base.own_spends()
        k = len(spends)
        w = [x / sum(spends) for x in spends] if sum(spends) > 0 else [1 / k] * k
        base.raw = base.with_changes(base.split_changes([budget * x for x in w]))
        base.scenario = load_scenario(base.raw)
    sc = base.scenario
    seed = sc.seed if seed is None else int(seed)
    seeds = replicate_seeds(seed, 2 * reps)
    search_seeds, fresh = seeds[:reps], seeds[reps:]
    evaluator = None
    if workers:
        from simulation.experiments.evaluators import DaskEvaluator

        evaluator = DaskEvaluator(workers=workers).__enter__()
    try:
        graph = seeding_mod.fixed_graph(sc) if over == "influencers" else None
        runner = PairedRunner(search_seeds, evaluator, graph=graph, progress=progress)
        study = Study(runner, objective, min_roas)
        notes: list[str] = []
        seed_ids: dict = {}
        if over == "platforms":
            res = budget_mod.optimize_split(base, budget, study, trials, method, seed)
            best_spends = [budget * x for x in res["weights"]]
            curves = response_curves(base, runner, budget, best_spends)
            plan = base.with_changes(base.split_changes(best_spends))
            plans = [res["own"], res["best"], res["even"]]
            notes.append("daily budgets ($/day): " + ", ".join(
                f"{line.label} {s:,.2f}" for line, s in zip(base.lines, best_spends,
                                                            strict=True)))
        elif over == "mix":
            res = mix_mod.optimize_mix(base, study, trials, method, seed)
            curves = mix_curve(base, runner, mix_mod.curve_points(base),
                               lambda w: mix_mod.mix_candidate(base, w, f"curve {w}"))
            plan = base.with_changes(base.mix_changes(res["weights"]))
            plans = [res["own"], res["best"], res["even"]]
            notes.append("organic posts by purpose: " + ", ".join(
                f"{p} {x:.0%}" for p, x in zip(PURPOSES, res["weights"], strict=True)))
        else:
            batch = max(1, workers or 1)
            res = seeding_mod.optimize_seeding(base, study, runner, count,
                                               pool or max(20, 3 * count), trials, seed, batch)
            seed_ids = res["ids"]
            curves = pd.DataFrame(res["curve"], columns=["seeds", objective + "_mean",
                                                         "customers_mean"]) \
                if objective != "customers" else pd.DataFrame(
                    [(k, c) for k, _, c in res["curve"]], columns=["seeds", "customers_mean"])
            method = res["best"].params.get("method")
            plan, notes = _seeding_plan(base, method, seed_ids)
            plans = [res["own"], res["best"], res["random"]]
        unique: dict = {}
        for c in plans:  # the same plan under two names (e.g. own split = even split) runs once
            unique.setdefault((scenario_digest(c.data), c.ids is None or tuple(c.ids(0))), c)
        best_key = (scenario_digest(res["best"].data),
                    res["best"].ids is None or tuple(res["best"].ids(0)))
        confirmed_best = unique[best_key].label
        plans = list(unique.values())
        confirmed, confirm_runs = confirm(runner, plans, fresh, offset=reps)
    finally:
        if evaluator is not None:
            evaluator.__exit__(None, None, None)
    best = res["best"]
    plan["name"] = f"{sc.name}_optimized"[:80]
    return Optimization(
        scenario=sc.name, over=over, objective=objective, min_roas=min_roas, budget=budget,
        reps=reps, seed=seed, days=sc.days, audience=_audience(sc, confirm_runs),
        candidates=study.table(), best=best.label, best_params=dict(best.params),
        confirm=confirmed, confirm_runs=confirm_runs, curves=curves, plan=plan, notes=notes,
        seed_ids=seed_ids,
        runs=runner.runs, errors=runner.errors, confirmed_best=confirmed_best)


def _audience(sc: Scenario, runs: pd.DataFrame) -> int:
    """Consumers in the runs (the graph file's size when the scenario names no size)."""
    if sc.audience.size:
        return int(sc.audience.size)
    sizes = runs["audience"].dropna() if "audience" in runs else []
    return int(sizes.iloc[0]) if len(sizes) else 0


def _seeding_plan(base: Base, method: str | None, ids: dict) -> tuple[dict, list[str]]:
    """The plan file for seeding: a built-in selection when one won, else the chosen ids
    (``strategy.influencers.ids``, consumers of the scenario's own graph)."""
    if method in ("degree", "bridge", "random"):
        return (base.with_changes({"strategy.influencers.selection": method}),
                [f"seed influencers by selection: {method}"])
    if method in ("kcore", "celf"):
        chosen = [int(i) for i in ids[method]]
        return (base.with_changes({"strategy.influencers.ids": chosen,
                                   "strategy.influencers.count": len(chosen)}),
                [f"seed these consumers ({method}; ids of the scenario's own graph, seed "
                 f"{base.scenario.seed}): strategy.influencers.ids"])
    return base.raw, ["the scenario's own selection is best"]
