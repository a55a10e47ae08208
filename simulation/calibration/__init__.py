"""Calibration: fit a scenario's parameters to an observed campaign.

Split by role, like :mod:`simulation.experiments`: :mod:`.observed` (reading and checking the
observed CSV), :mod:`.params` (``key=lo:hi`` parameters and the stage-rate multipliers),
:mod:`.simulate` (replicates -> series), :mod:`.objective` (NRMSE, MAPE), :mod:`.fit` (Optuna,
identifiability), :mod:`.report` (files) and :mod:`.commands` (the ``calibrate`` command).

>>> from simulation.calibration import calibrate
>>> cal = calibrate("scenarios/product_launch.yaml", "observed.csv",
...                 ["scale.stop_rate=0.5:2:log"], out="results/cal")  # doctest: +SKIP
>>> cal.best, cal.series, cal.warnings  # doctest: +SKIP
"""

from simulation.calibration.fit import Calibration, calibrate
from simulation.calibration.observed import Observed, load_observed

__all__ = ["Calibration", "Observed", "calibrate", "load_observed"]
