"""Simulated series: run a scenario's replicates and read the observed file's series from them.

A task is self-contained (a scenario dict, ``--set`` overrides, a seed, the series to return) so
it runs the same in this process or on a Dask worker (:mod:`simulation.experiments.evaluators`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulation.calibration.observed import Observed


@dataclass(frozen=True)
class SeriesTask:
    """One replicate of one parameter set.

    Attributes:
        key: the caller's id for the result (e.g. (trial, replicate)).
        base: the scenario as a dict (paths absolute).
        overrides: ``dotted.key=value`` items (the parameter values, the horizon).
        seed: the model seed (common random numbers: the same seeds for every trial).
        columns: observed series names (``METRIC`` or ``PLATFORM.METRIC``).
        period_days: 1 (daily series) or 7 (weekly sums).
    """

    key: tuple
    base: dict
    overrides: tuple[str, ...]
    seed: int
    columns: tuple[str, ...]
    period_days: int = 1


def simulate(task: SeriesTask) -> tuple[tuple, np.ndarray]:
    """Run one replicate; returns (key, array of shape (columns, periods)).

    Totals come from the model's daily row (``reach`` there is cumulative, so its daily
    difference is the new reach); platform series from ``model.platform_days`` (``reach`` is
    the platform's ``new_reach``). Weekly series are sums over each 7 days.
    """
    from simulation.metrics import PLATFORM_DAY_COLUMNS
    from simulation.model import FunnelModel
    from simulation.scenario import load_scenario

    scenario = load_scenario(task.base, list(task.overrides))
    model = FunnelModel(scenario, seed=task.seed)
    model.run()
    daily = model.datacollector.get_model_vars_dataframe()
    plat = np.array(model.platform_days, dtype=np.float64)  # (days, columns, platforms)
    col = {c: i for i, c in enumerate(PLATFORM_DAY_COLUMNS)}
    col["reach"] = col["new_reach"]
    names = model.platform_names
    rows = []
    for name in task.columns:
        prefix, _, metric = name.rpartition(".")
        if prefix:
            # A parameter can drop a platform from the run (e.g. no influencers): then it is 0.
            rows.append(plat[:, col[metric], names.index(prefix)] if prefix in names
                        else np.zeros(plat.shape[0]))
        elif metric == "reach":
            cum = daily["reach"].to_numpy(dtype=np.float64)
            rows.append(np.diff(cum, prepend=0.0))
        else:
            rows.append(daily[metric].to_numpy(dtype=np.float64))
    out = np.vstack(rows)
    if task.period_days > 1:
        k = task.period_days
        out = out[:, : out.shape[1] // k * k].reshape(len(rows), -1, k).sum(axis=2)
    return task.key, out


def run_tasks(tasks: Sequence[SeriesTask], client=None) -> dict[tuple, np.ndarray]:
    """Run tasks here (``client`` None) or on a Dask client; results by key (order-free)."""
    if client is None:
        return dict(simulate(t) for t in tasks)
    futures = [client.submit(simulate, t, pure=False) for t in tasks]
    return dict(client.gather(futures))


def stack(results: dict[tuple, np.ndarray], trial, reps: int) -> np.ndarray:
    """One trial's replicates as an array (replicates, columns, periods)."""
    return np.stack([results[(trial, r)] for r in range(reps)])


def observed_matrix(observed: Observed) -> np.ndarray:
    """The observed series as an array (columns, periods)."""
    return np.vstack([observed.series[c] for c in observed.columns])
