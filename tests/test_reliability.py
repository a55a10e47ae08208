"""Reliability (issue 9): determinism everywhere, crash safety of sweeps, flat memory over long runs,
graph file caps. docs/RELIABILITY.md lists every promise with the test that keeps it.

Complements tests/test_hardening.py (hostile YAML, the flagship across processes and numba threads,
SIGKILL of ``write_outputs`` and of ``funnelsim run``) and tests/test_sweep.py (one SIGKILL and
resume on Dask, 1 and 2 workers and an external scheduler on the flagship); nothing here repeats
them. The figures measured (times, memory slopes) are printed and written to
``tests/artifacts/reliability.json`` (ignored by git) for docs/RELIABILITY.md.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
import yaml

from simulation.experiments import sweep
from simulation.experiments.storage import read_runs, without_timings
from tests.conftest import FLAGSHIP, FUNNELSIM, ROOT, SCENARIOS, cli
from tests.test_hardening import GROWTH, SECONDS, PeakRss

SMALL = ["audience.size=2000", "days=30"]
#: The flagship and two library scenarios, small. The flagship's own files across processes and
#: numba threads are compared in tests/test_hardening.py; here it joins the Dask comparisons.
CASES = {
    "product_launch": (FLAGSHIP, SMALL),
    "retargeting_ab": (SCENARIOS / "retargeting_ab.yaml", SMALL),
    "influencer_seeding": (SCENARIOS / "influencer_seeding.yaml", SMALL),
}
LIBRARY = ("retargeting_ab", "influencer_seeding")
FIGURES = ROOT / "tests" / "artifacts" / "reliability.json"


def record(**figures) -> None:
    """Add measured figures to tests/artifacts/reliability.json (and print them, for pytest -s)."""
    FIGURES.parent.mkdir(exist_ok=True)
    old = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    old.update(figures)
    FIGURES.write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")
    print(json.dumps(figures, indent=2))


# --- determinism ---------------------------------------------------------------------------------


def digest(summary: dict, timeseries: pd.DataFrame) -> str:
    """SHA-256 of the summary (canonical JSON) and the daily table (CSV): the run's outputs."""
    h = hashlib.sha256(json.dumps(summary, sort_keys=True).encode())
    h.update(timeseries.to_csv(index=False).encode())
    return h.hexdigest()


def run_digest(path: str, sets: list[str], threads: int | None = None) -> tuple[str, int]:
    """Run a scenario with ``threads`` numba threads (default: the process's) and hash its outputs;
    returns the digest and the threads used. Also run on Dask workers."""
    import numba

    from simulation import load_scenario
    from simulation.results import run

    if threads is not None:  # thread-local in numba
        numba.set_num_threads(threads)
    result = run(load_scenario(path, sets))
    return digest(result.summary, result.timeseries), numba.get_num_threads()


@pytest.fixture(scope="module")
def reference_digests() -> dict[str, str]:
    """Each case run in this process."""
    return {name: run_digest(str(path), sets)[0] for name, (path, sets) in CASES.items()}


def _sweep_spec(folder: Path, name: str) -> Path:
    from simulation import load_scenario

    path, sets = CASES[name]
    price = load_scenario(path, sets).product.price
    spec = {"name": f"det_{name}", "base": str(path), "set": sets, "design": "grid",
            "replicates": 2, "seed": 5, "timeseries": True,
            "parameters": {"product.price": [price, price * 1.5]}}
    file = folder / f"{name}.yaml"
    file.write_text(yaml.safe_dump(spec))
    return file


def _sweep_outputs(spec: Path, out: Path, **kwargs) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The sweep's table without timings, and its daily tables by file name."""
    table = without_timings(sweep(spec, out, **kwargs))
    series = {p.name: pd.read_parquet(p) for p in sorted((out / "timeseries").glob("*.parquet"))}
    return table, series


def test_identical_across_processes_threads_sweep_workers_and_dask(reference_digests, tmp_path):
    """One local Dask cluster on 127.0.0.1 (worker processes with NUMBA_NUM_THREADS=2), first with
    one worker, then scaled to two. Compared with this process (its own hash seed and threads):

    * each case's digest on each worker process, with 1 and with 2 numba threads;
    * for the two library scenarios, the same sweep (2 prices x 2 replicates, every summary metric
      and each run's daily table) in this process, on 1 worker and on 2 workers; and the sweep's run
      at the base price equals the scenario run directly with that seed.

    The flagship's written files from two fresh processes with 1 and 2 threads are compared in
    tests/test_hardening.py; the flagship's sweeps on 1 and 2 workers in tests/test_sweep.py."""
    from distributed import Client

    from simulation import load_scenario
    from simulation.experiments.evaluators import local_cluster
    from simulation.experiments.metrics import DEFAULT_METRICS, pick
    from simulation.results import run

    specs = {name: _sweep_spec(tmp_path, name) for name in LIBRARY}
    here = {name: _sweep_outputs(specs[name], tmp_path / f"{name}_here", in_process=True)
            for name in LIBRARY}
    cluster = local_cluster(1, env={"NUMBA_NUM_THREADS": "2"})
    try:
        with Client(cluster, set_as_default=False) as client:
            for workers in (1, 2):
                if workers == 2:
                    cluster.scale(2)
                    client.wait_for_workers(2, timeout=120)
                # every case on every worker, with 1 and 2 numba threads
                futures = []
                for address in client.scheduler_info(n_workers=-1)["workers"]:
                    for name, (path, sets) in CASES.items():
                        for threads in (1, 2):
                            futures.append(((name, address, threads), client.submit(
                                run_digest, str(path), sets, threads, pure=False,
                                workers=[address], allow_other_workers=False)))
                assert len(futures) == workers * len(CASES) * 2
                for (name, address, threads), fut in futures:
                    got, used = fut.result(timeout=300)
                    assert used == threads and got == reference_digests[name], (name, address,
                                                                                  threads)
                # the sweeps
                for name in LIBRARY:
                    table, series = _sweep_outputs(specs[name], tmp_path / f"{name}_{workers}",
                                                   client=client)
                    pd.testing.assert_frame_equal(table, here[name][0])
                    assert list(series) == list(here[name][1])
                    for file, ts in here[name][1].items():
                        pd.testing.assert_frame_equal(series[file], ts)
    finally:
        cluster.close()
    for name in LIBRARY:
        table, series = here[name]
        assert (table["status"] == "ok").all() and len(table) == 4 and len(series) == 4
        first = table.iloc[0]
        path, sets = CASES[name]
        direct = run(load_scenario(path, sets), seed=int(first["seed"]))
        expected = pick(direct.summary, DEFAULT_METRICS)
        assert {m: first[m] for m in DEFAULT_METRICS} == pytest.approx(expected, rel=0, abs=0,
                                                                        nan_ok=True)
        ts = series["run-000000.parquet"].drop(columns="run_id")
        pd.testing.assert_frame_equal(ts, direct.timeseries.reset_index(drop=True),
                                      check_dtype=False)


# --- crash safety: SIGKILL a sweep five times, resume ------------------------------------------

CRASH_SETS = ["audience.size=2000", "days=30"]


@pytest.fixture(scope="module")
def crash_spec(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """45 runs (15 points x 3 replicates) and their table from an uninterrupted in-process sweep."""
    folder = tmp_path_factory.mktemp("crash")
    spec = {"name": "crash", "base": str(FLAGSHIP), "set": CRASH_SETS, "design": "grid",
            "replicates": 3, "seed": 11,
            "parameters": {"strategy.retargeting.0.daily_budget": [0, 20, 40, 80, 160],
                           "product.price": [80, 100, 120]}}
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    reference = sweep(path, folder / "reference", in_process=True)
    assert len(reference) == 45 and (reference["status"] == "ok").all()
    return path, reference


def _stored(out: Path) -> pd.DataFrame | None:
    try:
        return read_runs(out)
    except FileNotFoundError:
        return None


def _funnelsim(args: list[str]) -> None:
    """``funnelsim ARGS`` in this process (the console script's entry point)."""
    from simulation.cli import main

    sys.argv = ["funnelsim", *args]
    main()


def test_sweep_killed_five_times_then_resumed_equals_uninterrupted(crash_spec, tmp_path):
    """``funnelsim sweep`` (in-process evaluator, runs.parquet rewritten after every run) is
    SIGKILLed five times at seeded random points, then run to the end:

    * kill 1: a fresh ``python -m simulation.cli sweep`` process, a random 0-50 ms after it created
      the output folder (writing the manifest and the design, the first runs);
    * kills 2-5: the same command in a child of a fork server that has the engine imported (so it
      starts at once), killed a random 0-50 ms after a random 1-8 further runs were stored - a
      rewrite of runs.parquet or the manifest may be under way.

    After every kill the stored table is whole and each of its rows equals the uninterrupted
    sweep's row. The final, uninterrupted session (a fresh process) gives the uninterrupted table
    (timings aside), did not rerun the stored runs, and leaves no temporary file. A kill on Dask
    (the sweep and its worker processes) is tests/test_sweep.py's."""
    import multiprocessing

    spec, reference = crash_spec
    total = len(reference)
    ref = without_timings(reference).set_index("run_id")
    out = tmp_path / "sweep"
    args = ["sweep", str(spec), "--out", str(out), "--workers", "0", "--batch-size", "1", "--json"]
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["simulation.cli", "tests.test_reliability"])
    rng = random.Random(2026)
    killed_with, kept = [], {}
    for k in range(5):
        before = _stored(out)
        n_before = 0 if before is None else len(before)
        if k == 0:
            proc = subprocess.Popen([*FUNNELSIM, *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.05))
            proc.kill()
            assert proc.wait(timeout=30) == -signal.SIGKILL, "the sweep ended before the kill"
        else:
            target = min(n_before + rng.randint(1, 8), total - 6)
            child = ctx.Process(target=_funnelsim, args=(args,), daemon=True)
            child.start()
            deadline = time.monotonic() + 120
            while child.is_alive() and time.monotonic() < deadline:
                now = _stored(out)
                if now is not None and len(now) >= target:
                    break
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.05))
            child.kill()
            child.join(timeout=30)
            assert child.exitcode == -signal.SIGKILL, f"session {k} ended by itself"
        now = _stored(out)
        n_now = 0 if now is None else len(now)
        killed_with.append(n_now)
        if now is not None:  # whole, unique, and every stored row is the reference's row
            assert now["run_id"].is_unique and n_now < total
            got = without_timings(now).set_index("run_id")
            pd.testing.assert_frame_equal(got, ref.loc[got.index])
            kept.update(dict(zip(now["run_id"], now["duration_s"], strict=True)))
        if (out / "manifest.json").exists():
            assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    assert killed_with == sorted(killed_with) and 0 < killed_with[-1] < total, killed_with
    res = cli(*args)
    assert res.returncode == 0, res.stderr
    final = read_runs(out)
    pd.testing.assert_frame_equal(without_timings(final), without_timings(reference))
    durations = final.set_index("run_id")["duration_s"]
    assert all(durations[i] == d for i, d in kept.items())  # stored runs were not run again
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert sum(s.get("runs", 0) for s in manifest["sessions"]) == total - killed_with[-1]
    assert not list(out.glob(".*.tmp"))
    record(crash_stored_after_each_kill=killed_with)


def test_runs_table_can_be_read_while_it_is_rewritten(tmp_path):
    """A reader polling runs.parquet (a progress view, this file's tests) while the sweep renames new
    versions into place never fails: ``read_runs`` reads through one open file. Reading by path,
    as pyarrow does, failed on about 2% of reads in this race (pages of the new file, footer of
    the old)."""
    import threading

    import pyarrow as pa
    import pyarrow.parquet as pq

    from simulation.experiments.storage import RUNS, atomic_write

    stop = threading.Event()

    def rewrite():
        n = 1
        while not stop.is_set():
            table = pa.table({"run_id": list(range(n)), "error": ["x" * (n % 7)] * n})
            atomic_write(tmp_path / RUNS, lambda p, t=table: pq.write_table(t, p))
            n += 1

    atomic_write(tmp_path / RUNS, lambda p: pq.write_table(pa.table({"run_id": [0]}), p))
    writer = threading.Thread(target=rewrite, daemon=True)
    writer.start()
    reads, deadline = 0, time.monotonic() + 1.5
    try:
        while time.monotonic() < deadline:
            df = read_runs(tmp_path)
            assert list(df["run_id"]) == list(range(len(df)))
            reads += 1
    finally:
        stop.set()
        writer.join()
    assert reads > 50


# --- long runs: memory stays flat ---------------------------------------------------------------


def deep_size(obj, seen=None) -> int:
    """Bytes held by a tree of dicts, lists, tuples, numbers, strings and numpy arrays."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, list | tuple | set):
        size += sum(deep_size(v, seen) for v in obj)
    elif isinstance(obj, np.ndarray) and obj.base is None:
        size += 0  # getsizeof counts the data of an array that owns it
    return size


def slope(values: list[int] | np.ndarray) -> float:
    """Least-squares growth per step (bytes per day or per run)."""
    y = np.asarray(values, dtype=float)
    return float(np.polyfit(np.arange(y.shape[0]), y, 1)[0])


#: Consumers in the long run. A leak of one int32 per consumer per day would be 40 KB a day.
LONG_AUDIENCE = 10_000
#: Allowed growth beyond the results, per day. RSS moves in steps when malloc's arenas grow (a
#: 2 MB step over 300 days reads as ~7 KB/day); 24 KB/day allows three such steps and still
#: catches any leaked per-consumer array of int32 or wider (>= 40 KB/day at 10,000 consumers).
DAY_SLACK = 24 * 1024


def test_365_day_run_memory_is_flat():
    """The flagship at 10,000 consumers for 365 days, RSS sampled after every day: past a 60-day
    warm-up, growth per day stays within what the day's results themselves take (one timeseries
    row, one row per platform, the day's posts) plus DAY_SLACK."""
    from simulation import FunnelModel, load_scenario

    model = FunnelModel(load_scenario(FLAGSHIP, [f"audience.size={LONG_AUDIENCE}", "days=365"]))
    model.step()  # the kernels are loaded outside the measurement
    proc = psutil.Process()
    rss = []
    start = time.perf_counter()
    for _ in range(364):
        model.step()
        rss.append(proc.memory_info().rss)
    elapsed = time.perf_counter() - start
    assert model.day == 365
    results = deep_size(model.platform_days) + deep_size(model.datacollector.model_vars) + \
        deep_size(getattr(model.library, "__dict__", {}))
    per_day_results = results / model.day
    growth = slope(rss[60:])
    record(long_run={"consumers": LONG_AUDIENCE, "days": 365, "seconds": round(elapsed, 1),
                     "rss_slope_bytes_per_day": round(growth), "results_bytes_per_day":
                     round(per_day_results), "rss_growth_after_day_60_mb":
                     round((rss[-1] - rss[60]) / 2**20, 2), "rss_end_mb": round(rss[-1] / 2**20)})
    assert growth < per_day_results + DAY_SLACK, (growth, per_day_results)


#: Allowed growth per run beyond the stored row. A run's leaked model (500 consumers' state
#: arrays, their graph and parameters) is ~160 KB (tracemalloc), five times this; a malloc step of
#: 10 MB over 800 runs reads as ~19 KB per run.
RUN_SLACK = 32 * 1024
SAMPLE_EVERY = 25


def test_1000_run_sweep_memory_is_flat(tmp_path):
    """1,000 tiny runs (500 consumers x 10 days; 100 points x 10 replicates) through the sweep
    machinery in this process - evaluator, row building, the RunStore rewriting runs.parquet. Every
    25 runs, after a full garbage collection, RSS is sampled: past 200 runs, growth per run stays
    within the row kept for it plus RUN_SLACK. (Each run leaves reference cycles - Mesa's model and
    its agents - that Python's collector frees in bulk: without the collection RSS rises in a
    sawtooth of ~10 MB and falls back, also recorded.) Dask workers run the same ``execute``."""
    import gc

    spec = {"name": "thousand", "base": str(FLAGSHIP), "set": ["audience.size=500", "days=10"],
            "design": "grid", "replicates": 10, "seed": 3,
            "parameters": {"product.price": [float(p) for p in np.linspace(50, 149, 100)]},
            "metrics": ["customers", "revenue", "spend", "reach", "mean_trust"]}
    proc = psutil.Process()
    rss: list[int] = []
    peak = [0]

    def progress(done, failed, total):
        peak[0] = max(peak[0], proc.memory_info().rss)
        if done and done % SAMPLE_EVERY == 0:
            gc.collect()
            rss.append(proc.memory_info().rss)

    warm = spec | {"replicates": 1, "parameters": {"product.price": [50.0, 60.0]}}
    sweep(warm, tmp_path / "s", in_process=True)  # imports and kernels loaded before measuring
    gc.collect()
    base = proc.memory_info().rss
    start = time.perf_counter()
    df = sweep(spec, tmp_path / "t", in_process=True, progress=progress, batch_rows=50)
    elapsed = time.perf_counter() - start
    assert len(df) == 1000 and (df["status"] == "ok").all() and len(rss) == 1000 // SAMPLE_EVERY
    row = deep_size(df.iloc[0].to_dict())
    growth = slope(rss[200 // SAMPLE_EVERY:]) / SAMPLE_EVERY
    record(thousand_runs={"runs": 1000, "seconds": round(elapsed, 1), "ms_per_run":
                          round(elapsed, 1), "rss_slope_bytes_per_run": round(growth),
                          "row_bytes": row, "rss_growth_after_run_200_mb":
                          round((rss[-1] - rss[200 // SAMPLE_EVERY]) / 2**20, 2),
                          "peak_above_start_mb": round((peak[0] - base) / 2**20, 1)})
    assert growth < row + RUN_SLACK, (growth, row)


# --- graph files: caps, refused with a clear message in bounded time and memory ---------------

BODY = "  segments: [{name: all, share: 1, platforms: {facebook: 0.5}}]\n"


def _graph_cases(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (graph file, a phrase its refusal must contain). Files over the caps are sparse
    (truncate), so the test writes nothing big; the compressed bomb is 0.3 MB of gzip."""
    from agents import network

    cases = {}
    big = folder / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(network.MAX_EDGELIST_BYTES + 1)
    cases["edge_list_over_the_cap"] = (big, f"larger than {network.MAX_EDGELIST_BYTES:,} bytes")
    big_xml = folder / "big.graphml"
    with open(big_xml, "wb") as fh:
        fh.truncate(network.MAX_XML_GRAPH_BYTES + 1)
    cases["graphml_over_the_cap"] = (big_xml, f"larger than {network.MAX_XML_GRAPH_BYTES:,} bytes")
    bomb = folder / "bomb.txt.gz"
    line = b"1 2\n" * (1 << 18)  # 1 MiB that compresses ~1000:1
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        for _ in range(network.MAX_EDGELIST_BYTES // len(line) + 1):
            fh.write(line)
    cases["gzip_bomb"] = (bomb, "text read from the graph file is larger than")
    (folder / "loops.txt").write_text("1 1\n2 2\n1000000000 1000000000\n")
    cases["self_loops_only"] = (folder / "loops.txt", "line 1: an edge from node '1' to itself")
    (folder / "folder.txt").mkdir()
    cases["not_a_file"] = (folder / "folder.txt", "not a regular file")
    return cases


@pytest.fixture(scope="module")
def graph_cases(tmp_path_factory):
    return _graph_cases(tmp_path_factory.mktemp("graphs"))


@pytest.mark.parametrize("name", ["edge_list_over_the_cap", "graphml_over_the_cap", "gzip_bomb",
                                  "self_loops_only", "not_a_file"])
def test_graph_file_refused_quickly_in_bounded_memory(graph_cases, name):
    from agents.network import GraphFileError, read_graph

    path, phrase = graph_cases[name]
    start = time.perf_counter()
    with PeakRss() as rss, pytest.raises(GraphFileError) as info:
        read_graph(path)
    elapsed = time.perf_counter() - start
    assert phrase in str(info.value), str(info.value)
    assert elapsed < SECONDS and rss.growth < GROWTH, (elapsed, rss.growth // 2**20)
    record(**{f"graph_refusal_{name}": {"seconds": round(elapsed, 3),
                                         "peak_growth_mb": round(rss.growth / 2**20, 1)}})


def test_graph_refusals_name_the_key_and_exit_2(graph_cases, tmp_path):
    """Through a scenario: ``funnelsim run`` refuses with one message naming the key
    audience.network.file and the limit, exit code 2, nothing written."""
    from typer.testing import CliRunner

    from simulation.cli import app

    runner = CliRunner()
    for name, (path, phrase) in graph_cases.items():
        scenario = path.parent / f"{name}.yaml"
        scenario.write_text(f"name: {name}\naudience:\n  network: {{file: {path.name}}}\n{BODY}")
        result = runner.invoke(app, ["run", str(scenario), "--out", str(tmp_path / name)])
        if name == "not_a_file":  # a folder is not a file: the loader says so first
            assert result.exit_code == 2 and "graph file not found" in result.stderr, result.stderr
            continue
        assert result.exit_code == 2, (name, result.output, result.exception)
        assert "audience.network.file" in result.stderr and phrase in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and not (tmp_path / name).exists()


def test_compressed_graph_files_still_read(tmp_path):
    """.gz edge lists and GraphML read as before (SNAP ships .txt.gz), and give the same graph."""
    import networkx as nx

    from agents.network import read_graph

    plain = read_graph(SCENARIOS / "data" / "facebook_combined.txt")
    gz = tmp_path / "fb.txt.gz"
    gz.write_bytes(gzip.compress((SCENARIOS / "data" / "facebook_combined.txt").read_bytes()))
    packed = read_graph(gz)
    assert (packed.n, packed.n_edges) == (plain.n, plain.n_edges)
    assert np.array_equal(packed.indptr, plain.indptr) and np.array_equal(packed.indices, plain.indices)
    g = nx.karate_club_graph()
    nx.write_graphml(g, tmp_path / "k.graphml.gz")
    karate = read_graph(tmp_path / "k.graphml.gz")
    assert (karate.n, karate.n_edges) == (34, 78)
