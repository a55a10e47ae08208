"""Optimisation: where to put the budget, what to post, whom to seed (issue 8, ``optimize``).

Split by role: :mod:`.plans` (apply a candidate to a scenario; the budget's unit), :mod:`.runs`
(paired runs on common random numbers, here or on Dask), :mod:`.objectives` (what is maximised,
the ROAS constraint), :mod:`.search` (grid + local refine on a simplex), :mod:`.budget` (the split
across lines), :mod:`.mix` (the organic purpose mix), :mod:`.seeding` (influencer baselines and
CELF), :mod:`.curves` (response curves), :mod:`.study` (candidates and the final check),
:mod:`.report` (files) and :mod:`.commands` (the ``funnelsim optimize`` command).

>>> from simulation.optimization import optimize
>>> opt = optimize("scenarios/product_launch.yaml", budget=230, objective="profit",
...                over="platforms", reps=5)                        # doctest: +SKIP
>>> opt.best, opt.improvement()                                     # doctest: +SKIP
"""

from simulation.optimization.api import OVER, Optimization, optimize
from simulation.optimization.objectives import OBJECTIVES

__all__ = ["OBJECTIVES", "OVER", "Optimization", "optimize"]
