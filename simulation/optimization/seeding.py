"""``--over influencers``: which consumers to seed as influencers.

The scenario's ``strategy.influencers`` says how many influencers post, where, how often and for
what fee; this module chooses *who*. Consumer ids refer to one social graph, so every run of an
influencer study uses the **same graph**: the scenario's own, built from the scenario's seed
(:func:`fixed_graph`); replicates differ in the population's traits and in every daily draw.

Baselines (each picks ``count`` consumers of the fixed graph):

* ``degree``: most friends (the engine's ``selection: degree``);
* ``kcore``: deepest k-core (networkx ``core_number``; ties by degree), the "well-connected core"
  of Kitsak et al. (2010);
* ``bridge``: largest Burt effective size (the engine's ``selection: bridge``);
* ``random``: a fresh uniform draw per replicate (the mean over random picks, not one lucky set);
* ``celf``: greedy by simulation with lazy-forward evaluation (CELF, Leskovec et al. 2007): add
  the consumer whose seeding raises the mean objective most, measured on the paired replicates;
  a consumer's gain from an earlier round is an upper bound of its gain now (submodularity), so
  only consumers whose stale bound tops the queue are re-simulated. Candidates for CELF are a
  pool of the best ``pool`` consumers by degree, k-core and bridge score (interleaved).

Explicit ids reach the model through the scenario field ``strategy.influencers.ids``
(:func:`seeded_model`), which the engine checks against the graph.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np

from simulation.errors import FunnelsimError, Problem
from simulation.model import FunnelModel, build_graph
from simulation.optimization.plans import Base
from simulation.optimization.runs import Candidate, PairedRunner
from simulation.optimization.study import Study
from simulation.scenario import Scenario

BASELINES = ("degree", "kcore", "bridge", "random")


def seeded_model(scenario: Scenario, seed: int, ids: Sequence[int], graph=None) -> FunnelModel:
    """A model of ``scenario`` on ``seed`` whose seeded influencers are exactly ``ids``.

    ``strategy.influencers.count`` is set to ``len(ids)`` (fees are per influencer); with no ids
    the influencer line is switched off (count 0).

    Raises:
        ValueError: duplicate ids, or an id outside the graph.
    """
    ids = np.asarray(sorted(int(i) for i in ids), dtype=np.int64)
    if len(set(ids.tolist())) != ids.shape[0]:
        raise ValueError("duplicate influencer ids")
    inf = scenario.strategy.influencers
    if inf is None:
        raise ValueError("the scenario has no strategy.influencers to seed")
    update = {"count": int(ids.shape[0]), "ids": ids.tolist() or None}
    strategy = scenario.strategy.model_copy(update={"influencers": inf.model_copy(update=update)})
    scenario = scenario.model_copy(update={"strategy": strategy})
    if ids.shape[0] and (ids.min() < 0 or (graph is not None and ids.max() >= graph.n)):
        raise ValueError(f"influencer ids must be in 0..{graph.n - 1 if graph else 'n - 1'}")
    return FunnelModel(scenario, seed=seed, graph=graph)


def fixed_graph(scenario: Scenario):
    """The scenario's own social graph (the one ``FunnelModel(scenario)`` builds)."""
    graph_seq = np.random.SeedSequence(scenario.seed).spawn(3)[0]
    return build_graph(scenario, graph_seq)


def _top(score: np.ndarray, count: int, tiebreak: np.ndarray | None = None) -> list[int]:
    if tiebreak is None:
        order = np.argsort(-score, kind="stable")
    else:
        order = np.lexsort((np.arange(score.shape[0]), -tiebreak, -score))
    return [int(i) for i in order[:count]]


def kcore_numbers(graph) -> np.ndarray:
    """Core number of every consumer (networkx ``core_number``; self-loops removed)."""
    import networkx as nx

    g = graph.to_networkx()
    g.remove_edges_from(list(nx.selfloop_edges(g)))
    core = nx.core_number(g)
    return np.array([core.get(i, 0) for i in range(graph.n)], dtype=np.int64)


def baseline_ids(graph, method: str, count: int) -> list[int]:
    """``count`` consumers picked by a deterministic baseline (degree, kcore, bridge)."""
    deg = graph.degree().astype(float)
    if method == "degree":
        return _top(deg, count)
    if method == "kcore":
        return _top(kcore_numbers(graph).astype(float), count, tiebreak=deg)
    if method == "bridge":
        return _top(graph.effective_size(), count)
    raise ValueError(method)


def random_ids(n: int, count: int, base_seed: int):
    """Per replicate r, a uniform draw of ``count`` of n consumers (seeded by base seed and r)."""
    def ids(r: int) -> list[int]:
        rng = np.random.default_rng(np.random.SeedSequence(int(base_seed), spawn_key=(2, r)))
        return sorted(int(i) for i in rng.choice(n, size=min(count, n), replace=False))
    return ids


def candidate_pool(graph, size: int) -> list[int]:
    """CELF's candidates: the top consumers by degree, k-core and bridge score, interleaved."""
    lists = [baseline_ids(graph, m, size) for m in ("degree", "kcore", "bridge")]
    out: list[int] = []
    for trio in zip(*lists, strict=True):
        for i in trio:
            if i not in out:
                out.append(i)
    return out[:size]


def check_influencers(base: Base) -> int:
    inf = base.scenario.strategy.influencers
    if inf is None or inf.count <= 0:
        raise FunnelsimError("--over influencers", [Problem(
            "strategy.influencers", "the scenario seeds no influencers (count 0 or no section)",
            suggestion="add e.g. --set strategy.influencers.count=10 (with a platform and fee)")])
    if base.scenario.audience.network.model == "complete":
        raise FunnelsimError("--over influencers", [Problem(
            "audience.network.model", "a well-mixed (complete) population has no graph to seed",
            value="complete", suggestion="use a generated graph or a graph file")])
    return inf.count


class Seeding:
    """Candidates that seed explicit ids on the study's fixed graph."""

    def __init__(self, base: Base, count: int):
        self.base = base
        self.count = count

    def candidate(self, label: str, ids, params: dict | None = None) -> Candidate:
        fn = ids if callable(ids) else (lambda r, fixed=tuple(sorted(ids)): fixed)
        n = len(fn(0))
        raw = self.base.with_changes({"strategy.influencers.count": n}) if n else \
            self.base.with_changes({"strategy.influencers.count": 0})
        return Candidate(label, self.base.run_data(raw), ids=fn if n else None,
                         params=params or {})


def celf(seeding: Seeding, runner: PairedRunner, objective: str, pool: list[int], count: int,
         max_evals: int, batch: int = 1) -> dict:
    """CELF greedy seeding by simulation on the runner's (paired) seeds.

    Returns ``{"ids": chosen (in order of choice), "curve": [(k, mean objective, mean
    customers)] for k = 0..count, "evals": set evaluations}``. After ``max_evals`` set
    evaluations (the first pass over the pool is ``len(pool) + 1`` of them) the remaining picks
    take the highest (possibly stale) bounds unchecked.
    """
    def f(sets: list[list[int]]) -> list[dict]:
        cands = [seeding.candidate(f"celf {s}", s) for s in sets]
        return runner.evaluate(cands)

    def mean(m) -> float:  # -inf when undefined (e.g. ROAS of runs that spent nothing)
        x = m[objective]
        return float(np.nanmean(x)) if np.isfinite(x).any() else -np.inf

    evals = 0
    chosen: list[int] = []
    base_m = f([[]])[0]
    f_s = mean(base_m)
    curve = [(0, f_s, float(np.nanmean(base_m["customers"])))]
    singles = f([[v] for v in pool])
    evals += len(pool) + 1
    heap = [(-_gain(mean(m), f_s), v, 0, mean(m), float(np.nanmean(m["customers"])))
            for v, m in zip(pool, singles, strict=True)]
    heapq.heapify(heap)
    while len(chosen) < count and heap:
        neg, v, it, value, cust = heap[0]
        if it == len(chosen) or evals >= max_evals:
            heapq.heappop(heap)
            chosen.append(v)
            if it != len(chosen) - 1:  # unchecked pick: value unknown, measure the set
                m = f([chosen])[0]
                value, cust = mean(m), float(np.nanmean(m["customers"]))
                evals += 1
            f_s = value
            curve.append((len(chosen), value, cust))
            continue
        stale = []
        while heap and len(stale) < batch and heap[0][2] != len(chosen):
            stale.append(heapq.heappop(heap))
        results = f([[*chosen, s[1]] for s in stale])
        evals += len(stale)
        for s, m in zip(stale, results, strict=True):
            heapq.heappush(heap, (-_gain(mean(m), f_s), s[1], len(chosen), mean(m),
                                  float(np.nanmean(m["customers"]))))
    return {"ids": chosen, "curve": curve, "evals": evals}


def _gain(value: float, current: float) -> float:
    """Marginal gain; -inf for an undefined value, the value itself over an undefined base."""
    if not np.isfinite(value):
        return -np.inf
    return value - current if np.isfinite(current) else value


def optimize_seeding(base: Base, study: Study, runner: PairedRunner, count: int, pool: int,
                     trials: int, seed: int, batch: int = 1) -> dict:
    """Evaluate the baselines and CELF; returns {"best", "own", "ids": {label: ids}, "curve"}."""
    graph = runner.graph
    seeding = Seeding(base, count)
    own = Candidate(f"own plan (selection: {base.scenario.strategy.influencers.selection})",
                    base.run_data(base.raw))
    study.evaluate([own], "reference")
    ids = {m: baseline_ids(graph, m, count) for m in ("degree", "kcore", "bridge")}
    cands = [seeding.candidate(m, ids[m], {"method": m}) for m in ("degree", "kcore", "bridge")]
    cands.append(seeding.candidate("random", random_ids(graph.n, count, seed),
                                   {"method": "random"}))
    study.evaluate(cands, "baseline")
    candidates = candidate_pool(graph, pool)
    result = celf(seeding, runner, study.objective, candidates, count,
                  max_evals=len(candidates) + 1 + trials, batch=batch)
    ids["celf"] = sorted(result["ids"])
    study.evaluate([seeding.candidate("celf", ids["celf"], {"method": "celf"})], "celf")
    best = study.best()
    return {"best": best, "own": own, "ids": ids, "curve": result["curve"],
            "celf_evals": result["evals"], "random": cands[-1]}
