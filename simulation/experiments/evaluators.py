"""Evaluators: where runs execute. A local Dask cluster, an existing Dask scheduler, or this
process (for small comparisons and notebooks).

A task carries everything its run needs: the base scenario as a plain dict (paths already
absolute), the run's ``--set`` overrides, the seed, and what to keep. The worker validates and
builds the model from that alone, so runs do not depend on which worker takes them or on any
state left by earlier tasks: the same task gives the same row anywhere.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from simulation.errors import FunnelsimError, Problem

#: Seconds to wait for an external scheduler (and for its first worker).
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class RunTask:
    """One run: a scenario (base dict + overrides) and a seed.

    Attributes:
        run_id: the run's id in its sweep (row key; order of the table).
        base: the base scenario as a dict (``Scenario.model_dump(mode="json")``).
        overrides: ``dotted.key=value`` items applied to ``base`` for this run.
        seed: the model seed.
        metrics: dotted summary names to return.
        timeseries: also return the daily table.
        threads: numba threads the run may use (1 when one worker runs per core).
    """

    run_id: int
    base: dict
    overrides: tuple[str, ...]
    seed: int
    metrics: tuple[str, ...]
    timeseries: bool = False
    threads: int = 1


@dataclass
class RunOutput:
    """What a run sends back. ``status`` is "ok" or "error" (then ``error`` says why and every
    metric is NaN); ``duration_s`` is the worker's wall time for the run, in seconds."""

    run_id: int
    metrics: dict[str, float]
    status: str
    error: str
    duration_s: float
    timeseries: object = field(default=None, repr=False)


def execute(task: RunTask) -> RunOutput:
    """Run one task (on a worker or here). Never raises: a failing run returns its error."""
    t0 = time.perf_counter()
    try:
        import numba

        from simulation.experiments.metrics import pick
        from simulation.results import run
        from simulation.scenario import load_scenario

        # Thread-local in numba: affects only this task's thread.
        numba.set_num_threads(max(1, min(task.threads, numba.config.NUMBA_NUM_THREADS)))
        scenario = load_scenario(task.base, list(task.overrides))
        result = run(scenario, seed=task.seed)
        metrics = pick(result.summary, list(task.metrics))
        ts = result.timeseries if task.timeseries else None
        status, error = "ok", ""
    except Exception as exc:  # noqa: BLE001 - a failing run is recorded, not fatal
        metrics = {m: math.nan for m in task.metrics}
        ts, status = None, "error"
        error = _describe(exc)
    return RunOutput(task.run_id, metrics, status, error, time.perf_counter() - t0, ts)


def _describe(exc: BaseException) -> str:
    """A one-paragraph description of a failure: type, message and the innermost frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def warm_up() -> float:
    """Import the engine and load (or compile) its numba kernels with a tiny run; seconds taken."""
    t0 = time.perf_counter()
    from simulation.results import run
    from simulation.scenario import load_scenario

    tiny = {"name": "warm_up", "days": 2, "audience": {"size": 200},
            "strategy": {"paid": [{"platform": "facebook", "daily_budget": 10}],
                         "retargeting": [{"platform": "facebook", "daily_budget": 5}],
                         "organic": [{"platform": "tiktok", "posts_per_week": 3}],
                         "owned": [{"platform": "email", "capture_rate": 0.1}]}}
    run(load_scenario(tiny), seed=1)
    return time.perf_counter() - t0


def _probe(address: str, timeout: float) -> None:
    """Fail fast when nothing listens at a tcp:// address (Dask's own connect retries until its
    timeout even when the connection is refused)."""
    import socket

    if not address.startswith("tcp://"):
        return
    host, _, port = address.removeprefix("tcp://").rpartition(":")
    if not port.isdigit():
        raise ValueError(f"no port in {address!r}")
    with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
        pass


class InProcessEvaluator:
    """Runs tasks one after another in this process (no Dask): for small jobs and tests of
    statistics, where starting workers would cost more than the runs."""

    description = "this process"

    def __enter__(self) -> InProcessEvaluator:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def run(self, tasks: Iterable[RunTask]) -> Iterator[RunOutput]:
        for task in tasks:
            yield execute(task)


def local_cluster(workers: int, **options):
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded processes, reachable from this
    machine only: the scheduler, its HTTP server and the workers listen on 127.0.0.1, each on a
    free port the system picks. (Without ``dashboard_address`` the scheduler's HTTP server takes
    port 8787 even when the dashboard is off, and a second cluster warns "Port 8787 is already in
    use" and moves.) No dashboard: the HTTP server only serves the scheduler's health, info and
    metrics routes. ``options`` are added to, or replace, LocalCluster's arguments."""
    from distributed import LocalCluster

    kwargs = dict(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                  scheduler_port=0, dashboard_address="127.0.0.1:0",
                  scheduler_kwargs={"dashboard": False}, silence_logs=logging.ERROR)
    return LocalCluster(**{**kwargs, **options})


class DaskEvaluator:
    """Runs tasks on Dask: a local cluster (one single-threaded worker process per core, on
    127.0.0.1) or an existing scheduler (``tcp://HOST:PORT``), or a ``distributed.Client`` the
    caller already has. Results are yielded as runs finish, in any order.

    Raises (on entering):
        FunnelsimError: the scheduler cannot be reached, or has no workers, within
            ``connect_timeout`` seconds.
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 client=None, connect_timeout: float = CONNECT_TIMEOUT):
        self.workers = workers
        self.scheduler = scheduler
        self.connect_timeout = connect_timeout
        self.client = client
        self._owns = client is None
        self._cluster = None
        self.description = ""

    def __enter__(self) -> DaskEvaluator:
        from distributed import Client

        if self.client is not None:
            self.description = f"Dask client {self.client.scheduler.address}"
        elif self.scheduler is not None:
            try:
                _probe(self.scheduler, self.connect_timeout)
                self.client = Client(self.scheduler, timeout=self.connect_timeout,
                                     set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise FunnelsimError("--scheduler", [Problem(
                    "", f"cannot reach the Dask scheduler within {self.connect_timeout:g} s "
                        f"({type(exc).__name__})", value=self.scheduler,
                    suggestion="start it with 'dask scheduler' and check HOST:PORT, or omit "
                               "--scheduler to use a local cluster")]) from None
            self.description = f"Dask scheduler {self.scheduler}"
        else:
            import os

            n = self.workers or os.cpu_count() or 1
            self._cluster = local_cluster(n)
            self.client = Client(self._cluster, set_as_default=False)
            self.description = f"local Dask cluster, {n} worker process(es)"
        try:
            self._warm()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _warm(self) -> None:
        """Wait for workers and load the numba kernels on each once, so the first runs are not
        charged the compile (or cache load) and timings compare like with like."""
        try:
            self.client.wait_for_workers(1, timeout=self.connect_timeout)
        except TimeoutError:
            raise FunnelsimError("--scheduler", [Problem(
                "", f"the scheduler has no workers after {self.connect_timeout:g} s",
                value=self.scheduler, suggestion="start workers with 'dask worker HOST:PORT'")]
            ) from None
        addresses = list(self.client.scheduler_info(n_workers=-1)["workers"])
        futures = [self.client.submit(warm_up, workers=[a], allow_other_workers=False,
                                      pure=False) for a in addresses]
        self.client.gather(futures)

    def __exit__(self, *exc) -> None:
        if self._owns and self.client is not None:
            self.client.close()
            self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def run(self, tasks: Iterable[RunTask]) -> Iterator[RunOutput]:
        from distributed import as_completed

        futures = {}
        for task in tasks:
            fut = self.client.submit(execute, task, pure=False)
            futures[fut] = task
        for fut in as_completed(list(futures), loop=self.client.loop):
            task = futures.pop(fut)
            try:
                out = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. the worker died: record, go on
                out = RunOutput(task.run_id, {m: math.nan for m in task.metrics}, "error",
                                f"worker failure: {_describe(exc)}", math.nan)
            fut.release()
            yield out
