"""The fit's objective and error measures.

For each observed series ``y`` (one number per day or week) and the simulated mean over
replicates ``m`` (same periods):

* ``NRMSE = sqrt(mean((m - y)^2)) / scale``, ``scale = mean(|y|)`` over the same periods (the
  RMSE as a share of the series' average level; 1 in the series' own unit when ``y`` is all
  zero). Dividing by the level makes series of different scales (impressions in thousands,
  customers in units, $) weigh equally.
* ``MAPE = mean(|m - y| / |y|)`` over the periods where ``y`` is not 0 (NaN when there are none),
  a share (0.12 = 12%).

The objective is the mean of the series' NRMSEs (dimensionless; 0 is a perfect fit). The mean
over replicates is compared, not each replicate, so that noise in a single run is not fitted.

In the objective the squared error is **corrected for the replicates' noise**: with R >= 2
replicates, ``mean((m - y)^2)`` overstates the model's error by the variance of the mean,
``s^2 / R`` (``s^2`` the replicates' sample variance that period), and that excess grows with
the series' level, so an uncorrected fit would pull rates of noisy, sparse series (a few
customers a day) down. The objective uses ``max(0, mean((m - y)^2 - s^2 / R))`` (an unbiased
estimate of the squared error of the model's expected series). The report's NRMSE and MAPE are
the plain ones.
"""

from __future__ import annotations

import numpy as np


def nrmse(sim: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """NRMSE of each row: ``sim`` and ``obs`` are (series, periods); returns (series,)."""
    rmse = np.sqrt(np.mean((sim - obs) ** 2, axis=-1))
    scale = np.mean(np.abs(obs), axis=-1)
    return rmse / np.where(scale > 0, scale, 1.0)


def mape(sim: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """MAPE of each row over periods with a nonzero observation (NaN when there are none)."""
    nz = obs != 0
    err = np.where(nz, np.abs(sim - obs) / np.where(nz, np.abs(obs), 1.0), 0.0)
    count = nz.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, err.sum(axis=-1) / np.maximum(count, 1), np.nan)


def corrected_nrmse(runs: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """NRMSE per series with the replicate-noise correction: ``runs`` (replicates, series,
    periods), ``obs`` (series, periods); returns (series,)."""
    reps = runs.shape[0]
    mean = runs.mean(axis=0)
    sq = (mean - obs) ** 2
    if reps > 1:
        sq = sq - runs.var(axis=0, ddof=1) / reps
    rmse = np.sqrt(np.maximum(sq.mean(axis=-1), 0.0))
    scale = np.mean(np.abs(obs), axis=-1)
    return rmse / np.where(scale > 0, scale, 1.0)


def objective(runs: np.ndarray, obs: np.ndarray, periods: int) -> tuple[float, np.ndarray]:
    """The objective over the first ``periods`` periods.

    Args:
        runs: simulated replicates, (replicates, series, periods_total).
        obs: observed, (series, periods_total).
        periods: periods used (the fitting window; the rest is held out).

    Returns:
        (mean corrected NRMSE, corrected NRMSE per series).
    """
    per = corrected_nrmse(runs[:, :, :periods], obs[:, :periods])
    return float(per.mean()), per
