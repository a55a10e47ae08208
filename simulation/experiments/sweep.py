"""``sweep(spec) -> DataFrame``: plan, check, run on Dask, store as runs finish, resume.

Order of work, so that bad input never leaves anything behind: plan and validate the spec and
every design point; lock the output folder (a second sweep into it is refused while this one
runs; see :class:`~simulation.experiments.storage.FolderLock`); read what an earlier attempt
stored there (and check it is the same sweep); reach the evaluator (start the local cluster or
connect to the scheduler); only then write the manifest, and submit the runs not yet stored.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from simulation.experiments.evaluators import DaskEvaluator, InProcessEvaluator, RunOutput
from simulation.experiments.spec import Plan, plan_sweep
from simulation.experiments.storage import FolderLock, RunStore, coerce, runs_schema, value_type

#: progress(done, failed, total): called once before the first run and after every run.
Progress = Callable[[int, int, int], None]


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("funnelsim")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def sweep(spec: str | Path | dict | Plan, out: str | Path | None = None, *,
          workers: int | None = None, scheduler: str | None = None, client=None,
          in_process: bool = False, progress: Progress | None = None, batch_rows: int = 50,
          batch_seconds: float = 2.0, connect_timeout: float = 10.0) -> pd.DataFrame:
    """Run a parameter sweep and return its table (one row per run, sorted by run id).

    Args:
        spec: a sweep spec file, a dict, or a :class:`Plan` from :func:`plan_sweep`.
        out: folder for runs.parquet, design.parquet, manifest.json (and timeseries/); runs
            already stored there are skipped (resume). None: keep results in memory only.
        workers: local cluster size (default: one worker process per core).
        scheduler: address of an existing Dask scheduler (``tcp://HOST:PORT``).
        client: an existing ``distributed.Client`` to use instead.
        in_process: run here, without Dask (small sweeps, debugging).
        progress: called as ``progress(done, failed, total)``.
        batch_rows, batch_seconds: how often runs.parquet is rewritten (rows, seconds).
        connect_timeout: seconds to wait for ``scheduler`` and its first worker.

    Returns:
        The runs table: run_id, point_id, replicate, seed, one column per parameter, one per
        metric, status, error, duration_s.

    Raises:
        FunnelsimError: bad spec, key, value, design, output folder (another sweep's, or in use
            by a sweep still running) or unreachable scheduler; raised before any run starts and
            before anything is written.
    """
    plan = spec if isinstance(spec, Plan) else plan_sweep(spec)
    param_types = {p.key: value_type([pt[p.key] for pt in plan.points]) for p in plan.params}
    schema = runs_schema(param_types, plan.metrics)
    store = RunStore(Path(out), schema, plan.spec_hash, batch_rows, batch_seconds) if out else None
    # held until the end: a second sweep into the same folder is refused, not interleaved
    with FolderLock(Path(out)) if out else nullcontext():
        stored = store.load_existing() if store else {}
        todo = [i for i in plan.run_ids() if i not in stored]
        if in_process or not todo:  # nothing left to run: no cluster to start
            evaluator = InProcessEvaluator()
        else:
            evaluator = DaskEvaluator(workers=workers, scheduler=scheduler, client=client,
                                      connect_timeout=connect_timeout)
        rows: dict[int, dict] = dict(stored)
        failed = sum(1 for r in stored.values() if r["status"] != "ok")
        with evaluator:
            started = _now()
            manifest = _manifest(plan, store, evaluator.description, started)
            if store:
                store.open(manifest, _design_table(plan, param_types))
            if progress:
                progress(len(rows), failed, plan.n_runs)
            for output in evaluator.run(plan.task(i) for i in todo):
                row = _row(plan, output, param_types)
                rows[row["run_id"]] = row
                failed += output.status != "ok"
                if store:
                    store.add(row, output.timeseries)
                if progress:
                    progress(len(rows), failed, plan.n_runs)
            if store:
                manifest["sessions"][-1].update(finished_at=_now(), runs=len(todo))
                manifest.update(status="complete", finished_at=_now())
                store.finish(manifest)
    table = pa.Table.from_pylist([rows[k] for k in sorted(rows)], schema=schema)
    return table.to_pandas()


def _row(plan: Plan, output: RunOutput, param_types: dict) -> dict[str, Any]:
    keys = plan.row_keys(output.run_id)
    for key, tp in param_types.items():
        keys[key] = coerce(keys[key], tp)
    return {**keys, **output.metrics, "status": output.status, "error": output.error,
            "duration_s": output.duration_s}


def _design_table(plan: Plan, param_types: dict) -> pa.Table:
    """design.parquet: point_id, each parameter's unit coordinate (``unit:KEY``, what SALib's
    analysers read) and value."""
    cols: dict[str, Any] = {"point_id": pa.array(range(len(plan.points)), pa.int64())}
    for j, p in enumerate(plan.params):
        cols[f"unit:{p.key}"] = pa.array(plan.units[:, j].astype(float), pa.float64())
    for p in plan.params:
        cols[p.key] = pa.array([coerce(pt[p.key], param_types[p.key]) for pt in plan.points],
                               param_types[p.key])
    return pa.table(cols)


def _manifest(plan: Plan, store: RunStore | None, executor: str, started: str) -> dict:
    old = {}
    if store and (store.folder / "manifest.json").exists():
        import json

        old = json.loads((store.folder / "manifest.json").read_text())
    sessions = old.get("sessions", [])
    sessions.append({"started_at": started, "executor": executor})
    return {
        "format": 1,
        "name": plan.spec["name"],
        "spec": plan.spec,
        "spec_source": plan.source,
        "spec_hash": plan.spec_hash,
        "base_scenario_hash": plan.base_hash,
        "package_version": package_version(),
        "design": plan.spec["design"],
        "parameters": [{"key": p.key, "values": list(p.values) if p.values else None,
                        "low": p.low, "high": p.high, "integer": p.integer, "log": p.log}
                       for p in plan.params],
        "points": len(plan.points),
        "replicates": plan.replicates,
        "runs": plan.n_runs,
        "seed": plan.spec["seed"],
        "seeds": plan.seeds,
        "seed_rule": "replicate r: SeedSequence(seed, spawn_key=(0, r)).generate_state(1, "
                     "uint64)[0] >> 1; the same at every point",
        "metrics": plan.metrics,
        "started_at": old.get("started_at", started),
        "finished_at": None,
        "status": "running",
        "sessions": sessions,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")




