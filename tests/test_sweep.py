"""Sweeps on real Dask clusters: determinism across 1 worker, 2 workers and an external
scheduler with two `dask worker` processes; resume after SIGKILL; a failing run is stored with
its error; bad input exits 2 before anything runs or is written; a folder another sweep is
writing is refused; two local clusters at once take free ports on 127.0.0.1.

The shared spec sweeps a graph file (one good, one with no edges: every run on it raises at model
build time, on the worker) against the retargeting budget, 4 replicates: 24 runs, 12 failing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
import yaml

from simulation.experiments import sweep
from simulation.experiments.storage import read_runs, without_timings
from tests.conftest import FLAGSHIP, ROOT, cli
from tests.test_experiments_clusters import acquire, release

TOTAL = 24


@pytest.fixture(scope="module")
def dask_client_1():
    yield acquire(1)
    release(1)


@pytest.fixture(scope="module")
def dask_client_2():
    yield acquire(2)
    release(2)


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sweepspec")
    g = nx.powerlaw_cluster_graph(3000, 5, 0.3, seed=7)
    nx.write_edgelist(g, folder / "good.txt", data=False)
    (folder / "broken.txt").write_text("# an edge list with no edges\n")
    spec = {
        "name": "determinism",
        "base": str(FLAGSHIP),
        "set": ["audience.size=null", "audience.network.model=null",
                "audience.network.file=good.txt", "days=40"],
        "design": "grid",
        "replicates": 4,
        "seed": 99,
        "parameters": {"audience.network.file": ["good.txt", "broken.txt"],
                       "strategy.retargeting.0.daily_budget": [0, 40, 160]},
        "metrics": ["customers", "revenue", "spend", "reach", "mean_trust", "stages.customer"],
    }
    # the base's own file is relative to the base scenario, so give it absolute
    spec["set"][2] = f"audience.network.file={folder / 'good.txt'}"
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture(scope="module")
def reference(spec_file, dask_client_1, tmp_path_factory) -> pd.DataFrame:
    """The sweep on a local cluster of one worker process."""
    out = tmp_path_factory.mktemp("one") / "sweep"
    df = sweep(spec_file, out, client=dask_client_1)
    assert df.equals(read_runs(out))  # the stored table is the returned one
    return df


def test_sweep_table_is_complete_and_failures_are_recorded(reference):
    df = reference
    assert list(df["run_id"]) == list(range(TOTAL))
    assert df["run_id"].is_unique
    broken = df["audience.network.file"].str.endswith("broken.txt")
    assert (df.loc[broken, "status"] == "error").all() and broken.sum() == 12
    assert df.loc[broken, "error"].str.contains("no edges").all()
    assert df.loc[broken, "customers"].isna().all()
    ok = df[~broken]
    assert (ok["status"] == "ok").all() and (ok["error"] == "").all()
    assert (ok["customers"] >= 0).all() and ok["revenue"].notna().all()
    # every point ran the same four seeds (common random numbers)
    assert df.groupby("point_id")["seed"].apply(tuple).nunique() == 1
    # retargeting spend shows up: zero budget spends less than 160 $/day, seed for seed
    spend = ok.pivot_table(index="seed", columns="strategy.retargeting.0.daily_budget",
                           values="spend")
    assert (spend[160] > spend[0]).all()


def test_two_workers_give_the_same_table(spec_file, reference, dask_client_2, tmp_path):
    df = sweep(spec_file, tmp_path / "two", client=dask_client_2)
    pd.testing.assert_frame_equal(without_timings(df), without_timings(reference))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(procs) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=15)


def test_external_scheduler_and_two_dask_workers(spec_file, reference, tmp_path):
    """`dask scheduler` + two `dask worker` processes on 127.0.0.1, a sweep through --scheduler;
    every process is stopped at the end, whatever happens."""
    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ)
    procs = []
    try:
        procs.append(subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
             "--idle-timeout", "300"], cwd=ROOT, env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for i in range(2):
            procs.append(subprocess.Popen(
                [dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                 "--no-dashboard", "--name", f"w{i}", "--death-timeout", "120", "--no-nanny"],
                cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=90)
        out = tmp_path / "ext"
        res = cli("sweep", spec_file, "--out", out, "--scheduler", address, "--json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["runs"] == TOTAL
        pd.testing.assert_frame_equal(without_timings(read_runs(out)), without_timings(reference))
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["status"] == "complete" and address in manifest["sessions"][0]["executor"]
    finally:
        _stop(procs)
    assert all(p.poll() is not None for p in procs)


def test_resume_after_sigkill_gives_the_uninterrupted_table(spec_file, reference, tmp_path):
    out = tmp_path / "resume"
    cmd = [sys.executable, "-m", "simulation.cli", "sweep", str(spec_file), "--out", str(out),
           "--workers", "2", "--batch-size", "2", "--json"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    stored = 0
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / "runs.parquet").exists():
                stored = len(read_runs(out))  # always a whole table (atomic rename)
                if stored >= 4:
                    break
            time.sleep(0.02)
    finally:
        # SIGKILL the sweep and its worker processes: nothing gets to clean up
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert 4 <= stored < TOTAL, f"killed after {stored} runs were stored"
    partial = read_runs(out)
    assert partial["run_id"].is_unique and len(partial) < TOTAL
    res = cli("sweep", spec_file, "--out", out, "--workers", "2", "--json")
    assert res.returncode == 0, res.stderr
    final = read_runs(out)
    assert final["run_id"].is_unique and len(final) == TOTAL
    pd.testing.assert_frame_equal(without_timings(final), without_timings(reference))
    # the runs stored before the kill were kept, not run again
    kept = final.set_index("run_id").loc[partial["run_id"], "duration_s"]
    assert (kept.to_numpy() == partial["duration_s"].to_numpy()).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["sessions"]) == 2 and manifest["status"] == "complete"
    assert manifest["sessions"][1]["runs"] == TOTAL - len(partial)
    assert not list(out.glob(".*.tmp"))


def test_rerun_of_a_finished_sweep_runs_nothing(spec_file, reference, tmp_path, dask_client_2):
    out = tmp_path / "again"
    first = sweep(spec_file, out, client=dask_client_2)
    second = sweep(spec_file, out)  # nothing left to run: no cluster is even started
    pd.testing.assert_frame_equal(first, second)


def test_timeseries_are_kept_when_asked(spec_file, tmp_path, dask_client_2):
    out = tmp_path / "ts"
    spec = yaml.safe_load(spec_file.read_text())
    spec.update(replicates=1, timeseries=True, set=[*spec["set"], "days=10"])
    path = spec_file.parent / "ts.yaml"  # next to the graph files it names
    path.write_text(yaml.safe_dump(spec))
    df = sweep(path, out, client=dask_client_2)
    ok = df[df["status"] == "ok"]
    files = sorted((out / "timeseries").glob("run-*.parquet"))
    assert len(files) == len(ok)
    ts = pd.read_parquet(files[0])
    assert len(ts) == 10 and ts["run_id"].nunique() == 1 and "new_customers" in ts


@pytest.mark.parametrize("args, words", [
    (["--param", "strategy.retargeting.0.daly_budget=1,2"], "did you mean 'daily_budget'"),
    (["--param", "strategy.retargeting.0.daily_budget="], "empty list of values"),
    (["--design", "latin"], "unknown design"),
    (["--scheduler", "tcp://127.0.0.1:{port}", "--connect-timeout", "2"], "cannot reach"),
])
def test_bad_input_exits_2_before_anything_runs(spec_file, tmp_path, args, words):
    out = tmp_path / "bad"
    args = [a.format(port=_free_port()) for a in args]
    res = cli("sweep", spec_file, "--out", out, *args)
    assert res.returncode == 2
    assert words in res.stderr and "Traceback" not in res.stderr
    assert len([ln for ln in res.stderr.splitlines() if ln.startswith("error:")]) == 1
    assert not out.exists()


def test_empty_range_in_the_spec_file_exits_2(spec_file, tmp_path):
    spec = yaml.safe_load(spec_file.read_text())
    spec["parameters"] = {"product.price": {"range": [50, 50]}}
    bad = tmp_path / "empty.yaml"
    bad.write_text(yaml.safe_dump(spec))
    res = cli("sweep", bad, "--out", tmp_path / "o")
    assert res.returncode == 2 and "empty range" in res.stderr
    assert not (tmp_path / "o").exists()


def test_a_folder_of_another_sweep_is_refused(spec_file, reference, tmp_path, dask_client_2):
    out = tmp_path / "other"
    sweep(spec_file, out, client=dask_client_2)
    before = (out / "runs.parquet").read_bytes()
    res = cli("sweep", spec_file, "--out", out, "--replicates", "5")
    assert res.returncode == 2 and "different sweep" in res.stderr
    assert (out / "runs.parquet").read_bytes() == before


def test_two_local_clusters_at_once_listen_on_free_local_ports():
    """Two local clusters at once (e.g. two sweeps): each scheduler's HTTP server takes a free port
    on 127.0.0.1, so neither warns "Port 8787 is already in use" (not even when 8787 is taken)."""
    import warnings

    from simulation.experiments.evaluators import DaskEvaluator

    with socket.socket() as taken, warnings.catch_warnings(record=True) as caught:
        try:
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        except OSError:
            pass  # already in use: just as good
        warnings.simplefilter("always")
        with DaskEvaluator(workers=1) as a, DaskEvaluator(workers=1) as b:
            servers = [e._cluster.scheduler.http_server for e in (a, b)]
            assert [s.address for s in servers] == ["127.0.0.1", "127.0.0.1"]
            assert 8787 not in {s.port for s in servers} and servers[0].port != servers[1].port
            assert all(e._cluster.scheduler.address.startswith("tcp://127.0.0.1:") for e in (a, b))
    assert not [w for w in caught if "already in use" in str(w.message)], \
        [str(w.message) for w in caught]


def test_a_folder_in_use_by_another_sweep_is_refused(spec_file, tmp_path):
    """While a process holds the folder's lock (here a child standing in for a running sweep), a
    sweep into that folder exits 2 with one message naming the holder's PID and writes nothing;
    once the holder is gone the folder is free."""
    from simulation.experiments.storage import LOCK

    out = tmp_path / "busy"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time\n"
         f"fd = os.open({str(out / LOCK)!r}, os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "os.write(fd, f'{os.getpid()}\\n'.encode())\n"
         "print('locked', flush=True)\n"
         "time.sleep(120)\n"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = sorted(p.name for p in out.iterdir())
        res = cli("sweep", spec_file, "--out", out, "--workers", "0")
        assert res.returncode == 2, res.stderr
        assert "in use by another sweep" in res.stderr and f"PID {holder.pid}" in res.stderr
        assert str(out) in res.stderr and "Traceback" not in res.stderr
        assert len([ln for ln in res.stderr.splitlines() if ln.startswith("error:")]) == 1
        assert sorted(p.name for p in out.iterdir()) == before == [LOCK]
        assert (out / LOCK).read_text() == f"{holder.pid}\n"
    finally:
        holder.kill()
        holder.wait(timeout=30)
    # the holder died without cleaning up: its stale lock file does not block the next sweep
    spec = yaml.safe_load(spec_file.read_text())
    spec.update(replicates=1, parameters={"strategy.retargeting.0.daily_budget": [0]},
                set=[*spec["set"], "days=5"])
    path = spec_file.parent / "small.yaml"
    path.write_text(yaml.safe_dump(spec))
    df = sweep(path, out, in_process=True)
    assert len(df) == 1 and (df["status"] == "ok").all()
    assert not (out / LOCK).exists() and (out / "runs.parquet").exists()
