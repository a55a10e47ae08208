"""Paired what-if comparisons on common random numbers (DESIGN.md section 5).

Every strategy runs on the same replicate seeds, so replicate ``r`` of strategy B and of strategy
A share their random numbers wherever they ask the same question; the per-seed difference B - A
cancels that shared noise and its interval is far narrower than the difference of two
independent means.

The no-spend control (``control=True``) of a strategy is the same scenario, the same seeds, with
its media spend set to zero and nothing else changed:

* every paid line (``strategy.paid.*``) and retargeting line (``strategy.retargeting.*``) is kept
  with ``daily_budget: 0`` (so no impressions are bought);
* influencers are kept with ``posts_per_week: 0`` and ``fee: 0`` (no sponsored posts);
* the referral reward is ``0`` (advocates still recommend at the base rate, unpaid);
* organic posting, owned lists (email/SMS sends), audience, platforms, behaviour, days and seed
  are unchanged.

Lines are zeroed rather than removed so the scenario names the same platforms in the same order:
the random streams are keyed by platform index, and the population's traits by the platform list,
so removing a line could change unrelated draws and break the pairing. Whatever the control still
costs (content production, send costs) is its ``spend``; incremental figures subtract it:
incremental customers = customers - control customers; incremental ROAS = (revenue - control
revenue) / (spend - control spend), computed per seed and averaged.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.experiments.evaluators import InProcessEvaluator, RunTask
from simulation.experiments.metrics import check_metrics
from simulation.experiments.seeds import replicate_seeds
from simulation.experiments.stats import mean_interval, paired_interval, unpaired_interval
from simulation.scenario import Scenario, load_scenario

#: Metrics reported by default (summary names; $ for revenue, spend, profit, cac).
COMPARE_METRICS = ["reach", "customers", "conversion_rate", "revenue", "spend", "profit", "cac",
                   "roas", "mean_trust", "touches_to_first_purchase.mean"]
INCREMENTAL = ["incremental_customers", "incremental_revenue", "incremental_spend",
               "incremental_roas"]


def no_spend_control(scenario: Scenario) -> Scenario:
    """The scenario's no-spend control (see the module docstring for the exact definition)."""
    data = scenario.model_dump(mode="json")
    strategy = data["strategy"]
    for line in [*strategy["paid"], *strategy["retargeting"]]:
        line["daily_budget"] = 0.0
    if strategy.get("influencers"):
        strategy["influencers"].update(posts_per_week=0.0, fee=0.0)
    if strategy.get("referral"):
        strategy["referral"]["reward"] = 0.0
    return load_scenario(data)


@dataclass
class Comparison:
    """The outcome of :func:`compare`.

    Attributes:
        labels: the strategies, the first being the reference of the differences.
        runs: one row per strategy and replicate: strategy, replicate, seed, metrics and, with a
            control, ``control:<metric>`` and the incremental columns.
        table: one row per metric and strategy: n, mean, low, high (95% t interval), and against
            the first strategy: diff, diff_low, diff_high (paired, per seed) and
            unpaired_low, unpaired_high (Welch, ignoring the pairing; for reference).
        failures: errors of runs that raised (their metrics are NaN and left out).
    """

    labels: list[str]
    runs: pd.DataFrame
    table: pd.DataFrame
    control: bool
    failures: list[str]

    def to_csv(self, path: str | Path) -> None:
        self.table.to_csv(path, index=False)

    def figure(self, metrics: list[str] | None = None):
        """Each metric's means with 95% intervals (top) and paired differences against the first
        strategy (bottom)."""
        from simulation.experiments.plots import compare_figure

        return compare_figure(self, metrics)


def compare(strategies: Iterable[tuple[str, Scenario]], reps: int = 20, seed: int | None = None,
            metrics: list[str] | None = None, control: bool = False, evaluator=None,
            progress=None) -> Comparison:
    """Run each strategy on the same ``reps`` seeds and compare them.

    Args:
        strategies: (label, scenario) pairs; the first is the reference.
        reps: replicates (seeds) per strategy.
        seed: base seed of the replicate seeds (default: the first scenario's); see
            :mod:`simulation.experiments.seeds`.
        metrics: summary names to compare (default :data:`COMPARE_METRICS`).
        control: also run each strategy's no-spend control; adds incremental metrics.
        evaluator: where to run (default: this process); e.g. a ``DaskEvaluator``, entered.
        progress: called as ``progress(done, failed, total)``.
    """
    strategies = list(strategies)
    if not strategies:
        raise ValueError("nothing to compare")
    metrics = check_metrics(list(metrics or COMPARE_METRICS), "compare")
    needed = list(dict.fromkeys([*metrics, "customers", "revenue", "spend"])) if control else metrics
    base_seed = strategies[0][1].seed if seed is None else int(seed)
    seeds = replicate_seeds(base_seed, reps)
    # Identical (scenario, seed) pairs run once: e.g. two strategies with the same control.
    jobs: dict[tuple[str, int], int] = {}
    dicts: list[dict] = []
    cells: dict[tuple[str, str, int], int] = {}
    for label, scenario in strategies:
        kinds = [("strategy", scenario)] + ([("control", no_spend_control(scenario))]
                                            if control else [])
        for kind, sc in kinds:
            data = {**sc.model_dump(mode="json"), "materialize_agents": False}
            digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
            for r, s in enumerate(seeds):
                if (digest, s) not in jobs:
                    jobs[(digest, s)] = len(dicts)
                    dicts.append({"base": data, "seed": s})
                cells[(label, kind, r)] = jobs[(digest, s)]
    tasks = [RunTask(i, d["base"], (), d["seed"], tuple(needed)) for i, d in enumerate(dicts)]
    results: dict[int, dict] = {}
    failed, failures = 0, []
    with evaluator or InProcessEvaluator() as ev:
        if progress:
            progress(0, 0, len(tasks))
        for out in ev.run(tasks):
            results[out.run_id] = out.metrics
            if out.status != "ok":  # recorded as NaN; intervals use the seeds that ran
                failed += 1
                failures.append(out.error)
            if progress:
                progress(len(results), failed, len(tasks))
    runs = _runs_table(strategies, seeds, metrics, control, cells, results)
    table = _summary_table([lab for lab, _ in strategies], runs,
                           metrics + (INCREMENTAL if control else []))
    return Comparison([lab for lab, _ in strategies], runs, table, control, failures)


def _runs_table(strategies, seeds, metrics, control, cells, results) -> pd.DataFrame:
    rows = []
    for label, _ in strategies:
        for r, s in enumerate(seeds):
            m = results[cells[(label, "strategy", r)]]
            row = {"strategy": label, "replicate": r, "seed": s, **{k: m[k] for k in metrics}}
            if control:
                c = results[cells[(label, "control", r)]]
                row.update({f"control:{k}": c[k] for k in ("customers", "revenue", "spend")})
                d_spend = m["spend"] - c["spend"]
                row.update(
                    incremental_customers=m["customers"] - c["customers"],
                    incremental_revenue=m["revenue"] - c["revenue"],
                    incremental_spend=d_spend,
                    incremental_roas=(m["revenue"] - c["revenue"]) / d_spend if d_spend > 0
                    else math.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def _summary_table(labels: list[str], runs: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    rows = []
    first = runs[runs["strategy"] == labels[0]].sort_values("replicate")
    for metric in metrics:
        a = first[metric].to_numpy(float)
        for label in labels:
            b = runs[runs["strategy"] == label].sort_values("replicate")[metric].to_numpy(float)
            mean, low, high = mean_interval(b)
            if label == labels[0]:
                d = (math.nan,) * 3
                u = (math.nan,) * 3
            else:
                d = paired_interval(a, b)
                u = unpaired_interval(a, b)
            rows.append({"metric": metric, "strategy": label, "n": int(np.isfinite(b).sum()),
                         "mean": mean, "low": low, "high": high, "diff": d[0], "diff_low": d[1],
                         "diff_high": d[2], "unpaired_low": u[1], "unpaired_high": u[2]})
    return pd.DataFrame(rows)
