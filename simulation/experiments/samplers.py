"""Designs: where in parameter space a sweep runs.

Each sampler returns an array of unit coordinates, one row per design point and one column per
parameter, in [0, 1]; :meth:`Parameter.value_at` turns a coordinate into a scenario value. The
Latin hypercube, Sobol (Saltelli's scheme, scrambled) and Morris (trajectories) designs are SALib's
samplers on the unit cube, so SALib's analysers can read the same rows back in order.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from simulation.experiments.parameters import Parameter

DESIGNS = ("grid", "random", "lhs", "sobol", "morris")


def unit_problem(params: list[Parameter]) -> dict:
    """SALib's problem definition on the unit cube (names are the dotted keys)."""
    return {"num_vars": len(params), "names": [p.key for p in params],
            "bounds": [[0.0, 1.0]] * len(params)}


def sample(design: str, params: list[Parameter], samples: int, seed: int, *,
           second_order: bool = False, morris_levels: int = 4) -> np.ndarray:
    """Unit coordinates of the design's points.

    Args:
        design: one of :data:`DESIGNS`.
        params: the swept parameters (columns, in order).
        samples: random/LHS: points; Sobol: base sample N (points = N (D + 2), or N (2D + 2)
            with second-order indices); Morris: trajectories (points = N (D + 1)). Unused by grid.
        seed: the sampler's seed (see :func:`simulation.experiments.seeds.design_seed`).
        second_order: Sobol only: also sample for second-order indices.
        morris_levels: Morris only: levels of the grid the trajectories move on.
    """
    if design == "grid":
        return np.array(list(itertools.product(*[p.grid_units() for p in params])), dtype=float)
    if design == "random":
        return np.random.default_rng(seed).random((samples, len(params)))
    problem = unit_problem(params)
    if design == "lhs":
        from SALib.sample import latin

        return np.asarray(latin.sample(problem, samples, seed=seed), dtype=float)
    if design == "sobol":
        from SALib.sample import sobol

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SALib's notes about N; the spec checks N itself
            return np.asarray(sobol.sample(problem, samples, calc_second_order=second_order,
                                           scramble=True, seed=seed), dtype=float)
    if design == "morris":
        from SALib.sample import morris

        return np.asarray(morris.sample(problem, samples, num_levels=morris_levels, seed=seed),
                          dtype=float)
    raise ValueError(f"unknown design {design!r}")
