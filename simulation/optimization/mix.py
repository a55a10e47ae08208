"""``--over mix``: the value/sales mix of the organic calendar.

A candidate is the share of organic posts by purpose: ``attention`` and ``trust`` ("jabs": give
value, build interest and proof) against ``action`` ("right hooks": sell). Each platform keeps its
total posts per week; only their purposes change (:meth:`.plans.Base.mix_changes`). Searched by
:func:`.search.simplex_search` over the three shares, from the scenario's own mix and the even
mix. The curve: the objective against the share of sales posts, with attention and trust keeping
the scenario's own ratio.
"""

from __future__ import annotations

import math

from simulation.errors import FunnelsimError, Problem
from simulation.optimization.plans import PURPOSES, Base
from simulation.optimization.runs import Candidate
from simulation.optimization.search import optuna_search, simplex_search
from simulation.optimization.study import Study

CURVE_SHARES = (0.0, 0.125, 0.25, 0.375, 0.5, 0.75, 1.0)


def check_mix(base: Base) -> None:
    if not any(o.posts_per_week > 0 for o in base.scenario.strategy.organic):
        raise FunnelsimError("--over mix", [Problem(
            "strategy.organic", "the scenario has no organic posts to mix",
            suggestion="add streams under strategy.organic (e.g. {platform: instagram, "
                       "posts_per_week: 4})")])


def mix_label(w) -> str:
    return "mix " + " / ".join(f"{p} {x:.0%}" for p, x in zip(PURPOSES, w, strict=True))


def mix_candidate(base: Base, w, label: str | None = None) -> Candidate:
    raw = base.with_changes(base.mix_changes(w))
    return Candidate(label or mix_label(w), base.run_data(raw),
                     params={f"share:{p}": round(x, 4) for p, x in zip(PURPOSES, w, strict=True)})


def optimize_mix(base: Base, study: Study, trials: int, method: str = "grid",
                 seed: int = 0) -> dict:
    """Search the mix; returns {"best", "own", "even", "weights"}."""
    own_w = base.own_mix()
    own = Candidate("own plan", base.run_data(base.raw),
                    params={f"share:{p}": round(x, 4) for p, x in zip(PURPOSES, own_w,
                                                                       strict=True)})
    study.evaluate([own], "reference")
    even = (1 / 3, 1 / 3, 1 / 3)

    def evaluate(points, stage):
        return study.evaluate([mix_candidate(base, w) for w in points], stage)

    if method == "optuna":
        best_w = optuna_search(3, evaluate, trials, starts=[own_w, even], seed=seed)
    else:
        best_w = simplex_search(3, evaluate, trials, starts=[own_w, even])
    best = mix_candidate(base, best_w)
    even_c = mix_candidate(base, even)
    return {"best": study.candidates.get(best.label, best), "own": own,
            "even": study.candidates.get(even_c.label, even_c), "weights": best_w}


def curve_points(base: Base) -> list[tuple[float, float, float]]:
    """Mixes along the sales share, attention:trust in the scenario's own ratio."""
    a, t, _ = base.own_mix()
    ratio = a / (a + t) if (a + t) > 0 and not math.isnan(a) else 0.5
    return [((1 - s) * ratio, (1 - s) * (1 - ratio), s) for s in CURVE_SHARES]
