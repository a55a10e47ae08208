"""funnelsim's engine: scenarios, the funnel model, runs and their results.

>>> from simulation import load_scenario, run
>>> result = run(load_scenario("scenarios/product_launch.yaml"), seed=1)  # doctest: +SKIP
"""

from simulation.model import FunnelModel
from simulation.results import Result, run
from simulation.scenario import Scenario, load_scenario

__all__ = ["FunnelModel", "Result", "Scenario", "load_scenario", "run"]
