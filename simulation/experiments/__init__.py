"""Experiments: paired comparisons, parameter sweeps on Dask, sensitivity analysis.

Split by role, like the EMA Workbench: :mod:`.parameters` (swept keys, values, ranges),
:mod:`.samplers` (designs), :mod:`.evaluators` (where runs execute), :mod:`.storage` (the sweep
folder), :mod:`.sweep` (the orchestration), :mod:`.compare` (paired what-ifs) and
:mod:`.analyze` (plots, SALib indices, report).

>>> from simulation.experiments import sweep
>>> runs = sweep("scenarios/sweeps/retargeting_budget.yaml", out="results/sweep")  # doctest: +SKIP
"""

from simulation.experiments.spec import Plan, plan_sweep
from simulation.experiments.sweep import sweep

__all__ = ["Plan", "plan_sweep", "sweep"]
