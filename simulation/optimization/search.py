"""Search over a simplex (shares that sum to 1): a coarse grid, then a local pattern search.

Used for the budget split across lines (:mod:`.budget`) and the purpose mix of the organic
calendar (:mod:`.mix`). Deterministic (no sampler to seed), transparent and frugal:

1. **Coarse grid**: every point of the simplex whose shares are multiples of ``1/g`` (``g`` = 4,
   lowered until the grid uses at most half of the trial budget), plus the given starting points
   (e.g. the scenario's own split and the even split).
2. **Local refine**: from the best point, move a step ``h`` (``1/(2g)`` at first) of the total from
   one share to another (every ordered pair); move to the best neighbour if it beats the
   current point, else halve ``h``; stop at ``h < 1/32`` or when the trial budget is spent.

Every point is evaluated on the same replicate seeds (paired), so neighbours are compared with
the noise they share cancelled. Shares are kept on a 1/64 lattice so that points revisited by
the refine are not run twice.

:func:`optuna_search` is the alternative (``--method optuna``): Optuna's TPE sampler, seeded, over
k numbers u_i in (0, 1] mapped to the simplex by w_i = -ln(u_i) / sum_j -ln(u_j) (uniform on the
simplex when the u_i are uniform), after enqueuing the starting points. It scales better to many
lines; on two or three it needs more trials than the grid to settle.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

from simulation.optimization.objectives import rank_key

LATTICE = 64
MIN_STEP = 1 / 32


def snap(w: Sequence[float]) -> tuple[float, ...]:
    """Shares rounded to the 1/64 lattice, still summing to exactly 1."""
    units = [int(round(x * LATTICE)) for x in w]
    units[max(range(len(units)), key=lambda i: units[i])] += LATTICE - sum(units)
    return tuple(u / LATTICE for u in units)


def simplex_grid(k: int, g: int) -> list[tuple[float, ...]]:
    """Points of the k-simplex with shares in multiples of 1/g."""
    pts = []
    for cut in itertools.combinations(range(g + k - 1), k - 1):
        parts, prev = [], -1
        for c in (*cut, g + k - 1):
            parts.append(c - prev - 1)
            prev = c
        pts.append(snap([p / g for p in parts]))
    return pts


def grid_level(k: int, trials: int) -> int:
    """The grid's resolution: 4 divisions, fewer when the grid would exceed trials / 2."""
    g = 4
    while g > 1 and math.comb(g + k - 1, k - 1) > max(trials // 2, k):
        g -= 1
    return g


def simplex_search(k: int, evaluate: Callable[[list[tuple[float, ...]], str], list[tuple]],
                   trials: int, starts: Sequence[Sequence[float]] = ()) -> tuple[float, ...]:
    """Maximise over the k-simplex; returns the best point found.

    Args:
        k: number of shares (>= 1).
        evaluate: called with a batch of new points and a stage name ("grid", "refine");
            returns one ``(mean, feasible)`` per point, in order.
        trials: the most points to evaluate in all.
        starts: points evaluated with the grid (snapped to the lattice).
    """
    if k == 1:
        evaluate([(1.0,)], "grid")
        return (1.0,)
    seen: dict[tuple, tuple] = {}

    def run(points, stage):
        new = [p for p in dict.fromkeys(points) if p not in seen][: max(0, trials - len(seen))]
        if new:
            for p, r in zip(new, evaluate(new, stage), strict=True):
                seen[p] = r
        return [p for p in points if p in seen]

    g = grid_level(k, trials)
    run([snap(s) for s in starts] + simplex_grid(k, g), "grid")
    best = min(seen, key=lambda p: rank_key(*seen[p]))
    h = 1 / (2 * g)
    while h >= MIN_STEP and len(seen) < trials:
        units = round(h * LATTICE)
        moves = []
        for i, j in itertools.permutations(range(k), 2):
            if best[i] * LATTICE >= units:
                w = list(best)
                w[i] -= units / LATTICE
                w[j] += units / LATTICE
                moves.append(snap(w))
        done = run(moves, "refine")
        if not done:
            h /= 2
            continue
        top = min(done, key=lambda p: rank_key(*seen[p]))
        if rank_key(*seen[top]) < rank_key(*seen[best]):
            best = top
        else:
            h /= 2
    return best


def _penalised(mean: float, feasible: bool) -> float:
    """One number for Optuna that ranks like :func:`rank_key`: infeasible plans far below."""
    value = mean if math.isfinite(mean) else -1e15
    return value if feasible else value - 1e12


def optuna_search(k: int, evaluate: Callable[[list[tuple[float, ...]], str], list[tuple]],
                  trials: int, starts: Sequence[Sequence[float]] = (), seed: int = 0
                  ) -> tuple[float, ...]:
    """Maximise over the k-simplex with Optuna's seeded TPE sampler; returns the best point.

    Same contract as :func:`simplex_search`; ``seed`` seeds the sampler (32 bits are used).
    """
    import optuna

    if k == 1:
        evaluate([(1.0,)], "grid")
        return (1.0,)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=int(seed) % 2**32,
                                         n_startup_trials=min(10, max(1, trials // 3)))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for w in starts:  # u_i = exp(-w_i * k): maps back to w exactly (sum of -ln u = k)
        study.enqueue_trial({f"u{i}": max(math.exp(-x * k), 1e-12) for i, x in enumerate(w)})
    seen: dict[tuple, tuple] = {}

    def objective(trial) -> float:
        u = [trial.suggest_float(f"u{i}", 1e-12, 1.0) for i in range(k)]
        e = [-math.log(x) for x in u]
        total = sum(e)
        w = snap([x / total for x in e] if total > 0 else [1 / k] * k)
        if w not in seen:
            seen[w] = evaluate([w], "optuna")[0]
        return _penalised(*seen[w])

    study.optimize(objective, n_trials=trials)
    return min(seen, key=lambda p: rank_key(*seen[p]))
