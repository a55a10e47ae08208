"""``--over platforms``: the split of the total daily budget across paid and retargeting lines.

Each candidate gives line ``i`` the share ``w_i`` of TOTAL (``daily_budget = w_i x TOTAL``, $/day;
shares sum to 1), searched by :func:`.search.simplex_search` from the scenario's own split
(rescaled to TOTAL) and the even split. The scenario's own plan, with its own budgets, is the
reference.
"""

from __future__ import annotations

from simulation.optimization.plans import Base
from simulation.optimization.runs import Candidate
from simulation.optimization.search import optuna_search, simplex_search
from simulation.optimization.study import Study


def split_label(base: Base, w) -> str:
    return "split " + " / ".join(f"{line.platform} {x:.0%}" for line, x in zip(base.lines, w,
                                                                              strict=True))


def split_candidate(base: Base, budget: float, w, label: str | None = None) -> Candidate:
    """The scenario with line i at ``w[i] x budget`` $/day."""
    spends = [budget * x for x in w]
    raw = base.with_changes(base.split_changes(spends))
    return Candidate(label or split_label(base, w), base.run_data(raw),
                     params={f"spend:{line.label}": round(s, 2)
                             for line, s in zip(base.lines, spends, strict=True)})


def own_candidate(base: Base) -> Candidate:
    return Candidate("own plan", base.run_data(base.raw),
                     params={f"spend:{line.label}": s
                             for line, s in zip(base.lines, base.own_spends(), strict=True)})


def optimize_split(base: Base, budget: float, study: Study, trials: int,
                   method: str = "grid", seed: int = 0) -> dict:
    """Search the split; returns {"best": Candidate, "own": Candidate, "even": Candidate,
    "weights": best shares}."""
    k = len(base.lines)
    own = own_candidate(base)
    study.evaluate([own], "reference")
    spends = base.own_spends()
    even = tuple([1 / k] * k)
    own_w = tuple(x / sum(spends) for x in spends) if sum(spends) > 0 else even

    def evaluate(points, stage):
        return study.evaluate([split_candidate(base, budget, w) for w in points], stage)

    if method == "optuna":
        best_w = optuna_search(k, evaluate, trials, starts=[own_w, even], seed=seed)
    else:
        best_w = simplex_search(k, evaluate, trials, starts=[own_w, even])
    best = split_candidate(base, budget, best_w)
    best = study.candidates.get(best.label, best)
    even_c = split_candidate(base, budget, even)
    return {"best": best, "own": own, "even": study.candidates.get(even_c.label, even_c),
            "weights": best_w}
