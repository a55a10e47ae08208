"""Paired evaluation of candidate plans on common random numbers.

Every candidate runs on the same replicate seeds (:mod:`simulation.experiments.seeds`): replicate
``r`` of two candidates shares its random numbers wherever the runs ask the same question, so the
difference between candidates is measured per seed, with far less noise than two independent
means. Search uses replicates ``0..reps-1``; the final check of the best plan against the
scenario's own plan uses fresh replicates ``reps..2*reps-1`` (see :mod:`.objectives`), so the
reported interval is not inflated by having picked the best of many noisy estimates.

A run is ``(scenario dict, seed)`` and, for influencer seeding, the consumer ids to seed and the
fixed social graph (:mod:`.seeding`). Identical runs are done once (a cache keyed by the scenario's
hash, the ids and the seed). Runs go to this process or to a Dask cluster.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: Summary numbers every run returns (counts; $ for revenue, spend, profit; a ratio for roas;
#: audience: consumers in the run).
RUN_METRICS = ("customers", "revenue", "spend", "profit", "roas", "reach", "purchases",
               "audience")


def scenario_digest(data: dict) -> str:
    """A stable hash of a scenario dict (its JSON with sorted keys)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_one(data: dict, seed: int, ids: Sequence[int] | None = None, graph=None,
            threads: int | None = None) -> dict[str, float]:
    """One run: the scenario ``data`` (a dict) on ``seed``; returns :data:`RUN_METRICS`.

    Args:
        ids: seed exactly these consumers as influencers (see :func:`.seeding.seeded_model`).
        graph: the social graph to use (a :class:`agents.network.SocialGraph`); default: the
            scenario's own, built from ``seed``.
        threads: numba threads for this run (1 on a Dask worker).
    """
    from simulation.experiments.metrics import pick
    from simulation.model import FunnelModel
    from simulation.optimization.seeding import seeded_model
    from simulation.results import Result
    from simulation.scenario import load_scenario

    if threads is not None:
        import numba

        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    scenario = load_scenario(data)
    if ids is not None:
        model = seeded_model(scenario, seed, ids, graph=graph)
    else:
        model = FunnelModel(scenario, seed=seed, graph=graph)
    model.run()
    summary = Result.from_model(model, keep_model=False).summary
    out = pick(summary, list(RUN_METRICS))
    if out["spend"] <= 0:
        out["roas"] = math.nan
    return out


@dataclass(frozen=True)
class Candidate:
    """A plan to evaluate.

    Attributes:
        label: a short name (unique within an optimisation).
        data: the scenario dict with the plan applied (``materialize_agents: false``).
        ids: per replicate, the consumer ids to seed as influencers (``ids(r)``), or None.
        params: what the plan is, for the candidates table (e.g. spend per line, $/day).
    """

    label: str
    data: dict
    ids: Callable[[int], Sequence[int]] | None = None
    params: dict = field(default_factory=dict)


class PairedRunner:
    """Runs candidates on common replicate seeds, in this process or on Dask, with a cache.

    Args:
        seeds: the replicate seeds (replicate r -> ``seeds[r]``); extra seeds can be given per
            call.
        evaluator: None (this process) or an entered
            :class:`simulation.experiments.evaluators.DaskEvaluator`.
        graph: the fixed social graph shared by all runs, or None.
        progress: called as ``progress(runs_done)`` after each batch.
    """

    def __init__(self, seeds: Sequence[int], evaluator=None, graph=None, progress=None):
        self.seeds = list(seeds)
        self.evaluator = evaluator
        self.graph = graph
        self.progress = progress
        self.cache: dict[tuple, dict[str, float]] = {}
        self.runs = 0
        self.errors: list[str] = []  # why runs failed (their metrics are NaN)
        self._graph_future = None

    def evaluate(self, candidates: Sequence[Candidate], seeds: Sequence[int] | None = None,
                 replicate_offset: int = 0) -> list[dict[str, np.ndarray]]:
        """Per candidate, each metric as an array over replicates (NaN where a run failed)."""
        seeds = self.seeds if seeds is None else list(seeds)
        keys, jobs = [], {}
        for c in candidates:
            digest = scenario_digest(c.data)
            row = []
            for r, s in enumerate(seeds):
                ids = None if c.ids is None else tuple(int(i) for i in c.ids(r + replicate_offset))
                key = (digest, ids, s)
                row.append(key)
                if key not in self.cache and key not in jobs:
                    jobs[key] = (c.data, s, ids)
            keys.append(row)
        if jobs:
            for key, out in zip(jobs, self._run(list(jobs.values())), strict=True):
                error = out.pop("_error", None)
                if error:
                    self.errors.append(error)
                self.cache[key] = out
            self.runs += len(jobs)
            if self.progress:
                self.progress(self.runs)
        return [{m: np.array([self.cache[k][m] for k in row], dtype=float) for m in RUN_METRICS}
                for row in keys]

    def _run(self, jobs: list[tuple]) -> list[dict[str, float]]:
        if self.evaluator is None:
            return [_safe(data, s, ids, self.graph, None) for data, s, ids in jobs]
        client = self.evaluator.client
        if self.graph is not None and self._graph_future is None:
            self._graph_future = client.scatter(self.graph, broadcast=True)
        graph = self._graph_future
        futures = [client.submit(_safe, data, s, ids, graph, 1, pure=False)
                   for data, s, ids in jobs]
        return client.gather(futures)


def _safe(data, seed, ids, graph, threads) -> dict[str, float]:
    """:func:`run_one`, with a failing run recorded as NaN metrics (a search goes on)."""
    try:
        return run_one(data, seed, ids, graph, threads)
    except Exception as exc:  # noqa: BLE001 - a failing candidate is infeasible, not fatal
        return {**{m: math.nan for m in RUN_METRICS}, "_error": f"{type(exc).__name__}: {exc}"}
