"""Hardening (issue 9): hostile files, determinism and atomic outputs.

* Hostile scenario files (a YAML bomb, a 50 MB file, 10,000-level nesting, tags that build Python
  objects, self-referencing aliases, a graph path that climbs out of the scenario's folder) are each
  refused with one message naming the file and the line or key path, exit code 2 from ``validate``
  and ``run``, in bounded time (< 10 s) and memory (< 500 MB growth, sampled while loading).
* Graph files with a huge node id (10**12, 10**29) load in bounded memory: ids are labels, not
  indices, so nothing is sized by them; a self-loop is refused naming its line (tests/test_network.py).
* A graph path must stay inside the scenario's folder, in its text and where it resolves to: a
  symbolic link inside the folder that leads out of it is refused, and no file content is quoted.
* A run leaves the global ``random`` and ``numpy.random`` states untouched (as NetworkX tests it);
  the small flagship gives byte-identical summary.json and timeseries.csv in this process and in
  two others with NUMBA_NUM_THREADS=1 and 2.
* ``--out`` files are atomic: SIGKILL at random moments never leaves a partial file under a final name.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from typer.testing import CliRunner

from simulation.errors import FunnelsimError, ScenarioError
from simulation.scenario import MAX_YAML_DEPTH, MAX_YAML_NODES, load_scenario
from tests.conftest import FLAGSHIP, FUNNELSIM, ROOT

SECONDS = 10.0
GROWTH = 500 * 2**20
SMALL_FLAGSHIP = ["--set", "audience.size=3000", "--set", "days=30"]
PNG_END = b"IEND\xaeB`\x82"


class PeakRss:
    """The peak resident memory of a process while the block runs (sampled every 5 ms)."""

    def __init__(self, pid: int | None = None):
        self.proc = psutil.Process(pid)
        self.peak = self.base = self.proc.memory_info().rss
        self._stop = threading.Event()

    def _sample(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.005)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss) if self.proc.is_running() else self.peak

    @property
    def growth(self) -> int:
        return self.peak - self.base


# --- hostile scenario files ----------------------------------------------------------------------

BOMB = """name: bomb
audience: {size: 100}
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
description: [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _hostile(folder: Path) -> dict[str, tuple[Path, str]]:
    """name -> (scenario file, a phrase its error must contain)."""
    sub = folder / "team" / "scenarios"
    sub.mkdir(parents=True)
    cases = {
        # 9**9 = 387 million strings from 9 lines; refused at the alias that passes the limit.
        "bomb": (BOMB, f"more than {MAX_YAML_NODES:,} values"),
        "bomb_merge_keys": ("name: m\nx: &x {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7}\n" + "".join(
            f"x{i}: &x{i} {{<<: *{p}, k: [*{p}, *{p}, *{p}]}}\n" for i, p in
            enumerate(["x", *(f"x{j}" for j in range(11))])), f"more than {MAX_YAML_NODES:,} values"),
        "big": ("name: big\naudience: {size: 100}\ndescription: '" + "x" * 50_000_000 + "'\n",
                "larger than"),
        "deep_flow": ("name: deep\nx: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
                      f"nested more than {MAX_YAML_DEPTH} levels"),
        "deep_list": ("name: deep\nx: " + "[" * 10_000 + "]" * 10_000 + "\n",
                      f"nested more than {MAX_YAML_DEPTH} levels"),
        "deep_block": ("name: deep\nx:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(2_000)),
                       f"nested more than {MAX_YAML_DEPTH} levels"),
        "python_apply": (f"name: !!python/object/apply:os.system ['touch {folder}/pwned']\n"
                         "audience: {size: 100}\n", "could not determine a constructor"),
        "python_name": ("name: x\naudience: {size: !!python/name:os.system }\n",
                        "could not determine a constructor"),
        "python_new": ("name: !!python/object/new:subprocess.Popen [[touch, pwned]]\n",
                       "could not determine a constructor"),
        "recursive_alias": ("name: r\naudience: &a {size: 5, network: *a}\n",
                            "refers to a value that contains it"),
        "graph_climbs_out": ("name: climb\naudience:\n  network: {file: ../../../../../../etc/passwd}\n",
                             "audience.network.file: a relative path must stay inside the scenario's folder"),
        "graph_climbs_via_subfolder": ("name: climb\naudience:\n  network: {file: data/../../x.txt}\n",
                                       "audience.network.file: a relative path must stay inside"),
    }
    out = {}
    for name, (text, phrase) in cases.items():
        path = sub / f"{name}.yaml"
        path.write_text(text)
        out[name] = (path, phrase)
    (folder / "team" / "x.txt").write_text("1 2\n")  # exists: refused for the path, not as missing
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return _hostile(tmp_path_factory.mktemp("hostile"))


HOSTILE_NAMES = [
    "bomb", "bomb_merge_keys", "big", "deep_flow", "deep_list", "deep_block", "python_apply",
    "python_name", "python_new", "recursive_alias", "graph_climbs_out", "graph_climbs_via_subfolder"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_file_refused_quickly_in_bounded_memory(hostile, name):
    path, phrase = hostile[name]
    start = time.perf_counter()
    with PeakRss() as rss, pytest.raises(ScenarioError) as info:
        load_scenario(path)
    elapsed = time.perf_counter() - start
    message = str(info.value)
    assert message.startswith(str(path)) and phrase in message, message
    assert "line " in message or "audience.network.file" in message or "larger than" in message
    assert len(info.value.problems) == 1 and "problem(s)" not in message, message
    assert elapsed < SECONDS, f"{name}: {elapsed:.1f} s"
    assert rss.growth < GROWTH, f"{name}: {rss.growth / 2**20:.0f} MB"
    assert not (path.parents[2] / "pwned").exists() and not (ROOT / "pwned").exists()


def test_hostile_files_exit_2_from_run(hostile):
    """``funnelsim run FILE`` (the typer app, in this process) exits 2 with one message, no traceback."""
    runner = CliRunner()
    for name, (path, phrase) in hostile.items():
        start = time.perf_counter()
        result = runner.invoke(app_(), ["run", str(path), "--out", str(path.parent / "out")])
        assert result.exit_code == 2, (name, result.output, result.exception)
        assert phrase in result.stderr and str(path) in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and not (path.parent / "out").exists()
        assert time.perf_counter() - start < SECONDS


def app_():
    from simulation.cli import app

    return app


def test_hostile_files_exit_2_from_the_command_line(hostile, tmp_path):
    """Real processes: ``validate`` of every hostile file at once, and ``run`` of the bomb."""
    files = [str(p) for p, _ in hostile.values()]
    env = {**os.environ, "COLUMNS": "400"}
    procs = [subprocess.Popen([*FUNNELSIM, "validate", *files], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE),
             subprocess.Popen([*FUNNELSIM, "run", hostile["bomb"][0], "--out", "out"], cwd=tmp_path,
                              env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)]
    peak = 0
    while any(proc.poll() is None for proc in procs):
        for proc in procs:
            try:
                peak = max(peak, psutil.Process(proc.pid).memory_info().rss)
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.01)
    (out, err), (_, run_err) = (proc.communicate(timeout=60) for proc in procs)
    assert [proc.returncode for proc in procs] == [2, 2], (err, run_err)
    assert "Traceback" not in err + run_err and "ok:" not in out
    assert hostile["bomb"][1] in run_err and not (tmp_path / "out").exists()
    for path, phrase in hostile.values():
        assert any(str(path) in line and phrase in line for line in err.splitlines()), (path, err)
    # The interpreter with numpy, numba and pandas imported is ~250 MB before reading anything.
    assert peak < 250 * 2**20 + GROWTH, peak // 2**20


def test_validate_names_each_hostile_file(hostile, tmp_path):
    """The messages of ``validate``, one per file, in this process."""
    result = CliRunner().invoke(app_(), ["validate", *(str(p) for p, _ in hostile.values())])
    assert result.exit_code == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == len(hostile), result.stderr
    for (path, phrase), line in zip(hostile.values(), lines, strict=True):
        assert str(path) in line and phrase in line, line


def test_set_values_are_bounded_too():
    bomb_value = "[" + ", ".join(["&a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"] + [
        f"&a{i} [{', '.join([f'*a{i - 1}' if i else '*a'] * 10)}]" for i in range(8)]) + "]"
    for item in (f"description={bomb_value}", "description=" + "[" * 5000 + "]" * 5000,
                 "description=&a [*a]"):
        start = time.perf_counter()
        with PeakRss() as rss:
            try:
                spec = load_scenario(FLAGSHIP, [item])
            except FunnelsimError as exc:
                assert "description" in str(exc), exc
            else:  # refused YAML falls back to the literal text, which is a fine description
                assert spec.description == item.split("=", 1)[1]
        assert time.perf_counter() - start < SECONDS and rss.growth < GROWTH


def test_graph_with_huge_ids_and_a_self_loop(tmp_path):
    """Node ids are labels (relabelled 0..n-1), so 10**12 sizes nothing; a self-loop is refused."""
    from agents.network import GraphFileError, read_graph
    from simulation.model import build_graph

    (tmp_path / "loop.txt").write_text(f"{10**12} 1\n{10**29} {10**29}\n")
    with pytest.raises(GraphFileError, match=f"line 2: an edge from node '{10**29}' to itself"):
        read_graph(tmp_path / "loop.txt")
    (tmp_path / "g.txt").write_text(f"{10**12} 1\n1 2\n2 3\n{10**29} {10**29 + 1}\n")
    (tmp_path / "s.yaml").write_text("name: g\naudience:\n  network: {file: g.txt}\n"
                                     "  segments: [{name: all, share: 1, platforms: {facebook: 0.5}}]\n")
    start = time.perf_counter()
    with PeakRss() as rss:
        graph = read_graph(tmp_path / "g.txt")
        spec = load_scenario(tmp_path / "s.yaml")
        assert build_graph(spec, 0).n == graph.n
    assert time.perf_counter() - start < SECONDS and rss.growth < GROWTH
    assert graph.n == 6 and graph.n_edges == 4
    assert len(set(map(str, graph.labels))) == 6  # ids past 2**63 stay distinct (not one float)
    assert str(10**12) in map(str, graph.labels)


def test_graph_path_rule(tmp_path):
    """Inside the scenario's folder (subfolders too) or absolute: accepted; climbing out: refused."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "g.txt").write_text("1 2\n2 3\n")
    body = "  segments: [{name: all, share: 1, platforms: {facebook: 0.5}}]\n"
    for file in ("data/g.txt", "./data/../data/g.txt", str(tmp_path / "data" / "g.txt")):
        (tmp_path / "s.yaml").write_text(f"name: g\naudience:\n  network: {{file: '{file}'}}\n{body}")
        assert load_scenario(tmp_path / "s.yaml").audience.network.file == str(tmp_path / "data" / "g.txt")
    text = f"name: g\naudience:\n  network: {{file: ../data/g.txt}}\n{body}"
    (tmp_path / "data" / "s.yaml").write_text(text)
    with pytest.raises(ScenarioError, match="must stay inside the scenario's folder"):
        load_scenario(tmp_path / "data" / "s.yaml")


def test_graph_path_through_a_symbolic_link_out_of_the_folder_refused(tmp_path):
    """``data/etc -> /etc`` passes the rule on the path's text; the resolved location is checked too:
    refused from ``load_scenario`` and ``funnelsim run`` (exit 2, the key path, the value, nothing
    of the file quoted). A link that stays inside the folder is fine."""
    from simulation.cli import app

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    folder = tmp_path / "scenario"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "etc").symlink_to(outside, target_is_directory=True)
    (folder / "data" / "g.txt").write_text("1 2\n2 3\n")
    (folder / "data" / "inside.txt").symlink_to(folder / "data" / "g.txt")
    body = "  segments: [{name: all, share: 1, platforms: {facebook: 0.5}}]\n"
    for name, file in (("via_folder", "data/etc/passwd"), ("via_file", "data/passwd_link")):
        if name == "via_file":
            (folder / "data" / "passwd_link").symlink_to(outside / "passwd")
        scenario = folder / f"{name}.yaml"
        scenario.write_text(f"name: s\naudience:\n  network: {{file: {file}}}\n{body}")
        with pytest.raises(ScenarioError) as info:
            load_scenario(scenario)
        message = str(info.value)
        assert message.startswith(f"{scenario}: audience.network.file: a relative path must stay "
                                  "inside the scenario's folder"), message
        assert file in message and "symbolic link" in message and "absolute path" in message
        result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(tmp_path / "out")])
        assert result.exit_code == 2 and "audience.network.file" in result.stderr, result.stderr
        assert "root:" not in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / "out").exists()
    (folder / "ok.yaml").write_text(f"name: s\naudience:\n  network: {{file: data/inside.txt}}\n{body}")
    assert load_scenario(folder / "ok.yaml").audience.network.file == str(folder / "data" / "g.txt")


ODD_TEXT = ":x: :thumbs_up: [bold]b[/bold] 1.5 'q' http://h/:smile:"


@pytest.mark.parametrize("module", ["simulation.cli", "simulation.experiments.commands",
                                    "simulation.calibration.commands",
                                    "simulation.optimization.commands"])
def test_error_messages_printed_verbatim(module, capsys):
    """A message (a file name, a value from the user's file) is printed as it is: no emoji codes
    replaced (``:x:`` is not an emoji), no markup, exit code 2."""
    import importlib

    import typer

    fail = importlib.import_module(module)._fail
    with pytest.raises(typer.Exit) as info:
        fail(FunnelsimError("f:x:.yaml", ODD_TEXT))
    assert info.value.exit_code == 2
    assert capsys.readouterr().err == f"error: f:x:.yaml: {ODD_TEXT}\n"


def test_validate_and_run_print_file_names_verbatim(tmp_path):
    missing = tmp_path / "plan :x: :smile:.yaml"
    for command in ("validate", "run"):
        result = CliRunner().invoke(app_(), [command, str(missing), "--out", str(tmp_path / "o")]
                                    if command == "run" else [command, str(missing)])
        assert result.exit_code == 2 and str(missing) in result.stderr, result.stderr
        assert "\u274c" not in result.stderr and "\U0001f604" not in result.stderr


def test_graphml_entity_bomb_refused(tmp_path):
    from agents.network import GraphFileError, read_graph

    ents = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    (tmp_path / "g.graphml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE graphml [{ents}]>'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph edgedefault="undirected">'
        '<node id="&i;"/></graph></graphml>')
    start = time.perf_counter()
    with PeakRss() as rss, pytest.raises(GraphFileError, match="not a valid graphml file"):
        read_graph(tmp_path / "g.graphml")
    assert time.perf_counter() - start < SECONDS and rss.growth < GROWTH


# --- determinism ---------------------------------------------------------------------------------


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for name in ("summary.json", "timeseries.csv"):
        h.update((folder / name).read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def flagship_result(tmp_path_factory):
    """The small flagship run in this process, and its outputs written by the CLI's writer."""
    from simulation.cli import write_outputs
    from simulation.model import FunnelModel
    from simulation.results import Result

    spec = load_scenario(FLAGSHIP, [s for s in SMALL_FLAGSHIP if s != "--set"])
    rs, nps = random.getstate(), np.random.get_state()
    model = FunnelModel(spec).run()
    states = (rs, nps, random.getstate(), np.random.get_state())
    result = Result.from_model(model, keep_model=False)
    folder = tmp_path_factory.mktemp("reference")
    write_outputs(result, folder)
    return result, folder, states


def test_run_leaves_global_random_states_untouched(flagship_result):
    random.seed(12345)
    np.random.seed(54321)
    before = random.getstate(), np.random.get_state()
    from simulation.results import run

    run(load_scenario(FLAGSHIP, ["audience.size=500", "days=3"]))
    after = random.getstate(), np.random.get_state()
    assert before[0] == after[0]
    assert all(np.array_equal(a, b) for a, b in zip(before[1], after[1], strict=True))
    rs, nps, rs2, nps2 = flagship_result[2]  # the 30-day flagship run too (unseeded states)
    assert rs == rs2 and all(np.array_equal(a, b) for a, b in zip(nps, nps2, strict=True))


def test_flagship_identical_across_processes_and_numba_threads(flagship_result, tmp_path):
    _, reference, _ = flagship_result
    procs = {}
    for threads in (1, 2):
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
        procs[threads] = subprocess.Popen(
            [*FUNNELSIM, "run", str(FLAGSHIP), *SMALL_FLAGSHIP, "--out", str(tmp_path / str(threads)),
             "--json"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for proc in procs.values():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert json.loads(out)["audience"] == 3000
    digests = {"this process": _digest(reference), **{f"{t} thread(s)": _digest(tmp_path / str(t))
                                                      for t in procs}}
    assert len(set(digests.values())) == 1, digests


# --- atomic outputs ------------------------------------------------------------------------------


def _check_final_files(folder: Path, reference: Path) -> None:
    """Every file under a final name is whole: byte-identical to the reference, or a complete PNG."""
    for name in ("summary.json", "timeseries.csv", "platforms.csv"):
        if (folder / name).exists():
            assert (folder / name).read_bytes() == (reference / name).read_bytes(), name
    if (folder / "funnel.png").exists():
        assert (folder / "funnel.png").read_bytes().endswith(PNG_END)


def _write_forever(result, folder: Path) -> None:
    from simulation.cli import write_outputs

    while True:
        write_outputs(result, folder)


def test_sigkill_during_write_outputs_leaves_no_partial_file(flagship_result, tmp_path):
    """The CLI's writer rewrites the outputs in a loop and is SIGKILLed at random moments (children of
    a single-threaded fork server, so each starts at once with everything imported)."""
    import multiprocessing

    result, reference, _ = flagship_result
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["simulation.cli", "tests.test_hardening"])
    rng = random.Random(9)
    leftovers = 0
    for k in range(6):
        folder = tmp_path / f"kill{k}"
        child = ctx.Process(target=_write_forever, args=(result, folder), daemon=True)
        child.start()
        deadline = time.monotonic() + 60
        while not folder.exists() and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 1.0))
        child.kill()
        child.join()
        assert child.exitcode == -signal.SIGKILL
        _check_final_files(folder, reference)
        if any(p.name.endswith(".tmp") for p in folder.iterdir()):
            leftovers += 1
            left = folder
    assert leftovers > 0, "no kill landed while a file was being written"
    from simulation.cli import write_outputs

    write_outputs(result, left)  # the next write into the folder removes the killed one's leftovers
    assert not [p.name for p in left.iterdir() if p.name.endswith(".tmp")]
    _check_final_files(left, reference)


def test_write_outputs_fsyncs_before_rename_and_removes_stale_temporaries(flagship_result, tmp_path,
                                                                          monkeypatch):
    """Each temporary file is fsync'd before it is renamed into place, then the folder; temporary
    files left by a killed write (process gone, or the earlier names without a PID) are removed,
    those of a live writer and other files are kept."""
    import sys

    from simulation.cli import write_outputs

    result, reference, _ = flagship_result
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = [f".summary.json.{gone.pid}.ab12cd_e.tmp", ".funnel.png.x8_k2mq0.tmp"]
    kept = [f".timeseries.csv.{os.getppid()}.zz9.tmp", ".notes.txt.1.tmp", "summary.json.tmp", "mine.csv"]
    for name in stale + kept:
        (tmp_path / name).write_text("old")
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        info = os.fstat(fd)
        events.append(("fsync", "folder" if os.path.isdir(tmp_path) and
                       info.st_ino == os.stat(tmp_path).st_ino else info.st_ino))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.stat(src).st_ino, Path(dst).name))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_outputs(result, tmp_path)
    monkeypatch.undo()
    names = ["summary.json", "timeseries.csv", "platforms.csv", "funnel.png"]
    assert [e[2] for e in events if e[0] == "replace"] == names
    for i, event in enumerate(events):
        if event[0] == "replace":
            assert events[i - 1] == ("fsync", event[1]), events  # the same file, just before
    assert events[-1] == ("fsync", "folder"), events
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept + names)
    _check_final_files(tmp_path, reference)


def test_sigkill_of_funnelsim_run_leaves_no_partial_file(flagship_result, tmp_path):
    """Real ``funnelsim run --out`` processes killed as their outputs appear."""
    _, reference, _ = flagship_result
    rng = random.Random(4)
    procs = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        procs.append((out, subprocess.Popen([*FUNNELSIM, "run", str(FLAGSHIP), *SMALL_FLAGSHIP, "--out",
                                             str(out), "--json"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)))
    delays = [rng.uniform(0.0, 0.6) for _ in procs]
    deadline = time.monotonic() + 300
    pending = list(zip(procs, delays, strict=True))
    while pending and time.monotonic() < deadline:
        for item in list(pending):
            (out, proc), delay = item
            if out.exists():  # write_outputs has started: kill within the write window
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                pending.remove(item)
        time.sleep(0.002)
    assert not pending
    for out, proc in procs:
        assert proc.returncode == -signal.SIGKILL, "the run finished before the kill"
        _check_final_files(out, reference)
