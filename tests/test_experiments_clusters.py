"""Local Dask clusters shared by the experiment tests (no tests here).

Starting a cluster and loading the numba kernels in its workers costs seconds, so each size is
started once per test session and closed when the last module using it is done.
"""

from __future__ import annotations

_CLUSTERS: dict[int, list] = {}  # workers -> [cluster, client, users]


def acquire(workers: int):
    """A client of a local cluster of ``workers`` single-threaded processes on 127.0.0.1."""
    from distributed import Client

    from simulation.experiments.evaluators import DaskEvaluator, local_cluster

    if workers not in _CLUSTERS:
        cluster = local_cluster(workers)
        client = Client(cluster, set_as_default=False)
        DaskEvaluator(client=client).__enter__()  # load the kernels on every worker once
        _CLUSTERS[workers] = [cluster, client, 0]
    _CLUSTERS[workers][2] += 1
    return _CLUSTERS[workers][1]


def release(workers: int) -> None:
    entry = _CLUSTERS[workers]
    entry[2] -= 1
    if entry[2] == 0:
        entry[1].close()
        entry[0].close()
        del _CLUSTERS[workers]
