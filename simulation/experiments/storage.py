"""The sweep's folder: ``runs.parquet`` (one row per run), ``design.parquet`` (the points),
``manifest.json`` and, when asked, ``timeseries/run-NNNNNN.parquet``.

Every file is written whole to a temporary file in the same folder, flushed to disk and renamed
into place (``os.replace`` is atomic on POSIX), so a sweep killed at any instant leaves the last
complete version of each file, never a torn one. ``runs.parquet`` is rewritten with all rows so
far at each batch (sorted by run id): a reader always sees a valid table, and a resumed sweep
reads the ids it can skip from it. Batches are spaced so that writing costs at most about a tenth
of the sweep's time (the table grows; rewriting it is linear in its size).
"""

from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from simulation.errors import FunnelsimError, Problem

RUNS = "runs.parquet"
DESIGN = "design.parquet"
MANIFEST = "manifest.json"
TIMESERIES = "timeseries"
LOCK = ".sweep.lock"
TIMING_COLUMNS = ("duration_s",)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` through ``write(tmp)`` and rename it into place; fsync'd."""
    # A fresh name (not mkstemp) so the file gets the usual permissions of the user's umask.
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path: Path, data: dict) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=2, default=str) + "\n"))


def runs_schema(param_types: dict[str, pa.DataType], metrics: list[str]) -> pa.Schema:
    """Columns of runs.parquet: ids, seed, parameters, metrics (float64; NaN when undefined or
    failed), status ("ok" | "error"), error (empty when ok), duration_s (worker wall time, s)."""
    return pa.schema([("run_id", pa.int64()), ("point_id", pa.int64()), ("replicate", pa.int64()),
                      ("seed", pa.int64()), *param_types.items(),
                      *[(m, pa.float64()) for m in metrics], ("status", pa.string()),
                      ("error", pa.string()), ("duration_s", pa.float64())])


def value_type(values: list) -> pa.DataType:
    """One Arrow type for a parameter's values: int64, float64, bool or string."""
    if all(isinstance(v, bool) for v in values):
        return pa.bool_()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pa.int64()
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pa.float64()
    return pa.string()


def coerce(value: Any, tp: pa.DataType) -> Any:
    if tp == pa.string():
        return value if isinstance(value, str) else json.dumps(value)
    if tp == pa.float64():
        return float(value)
    return value


class RunStore:
    """The runs of one sweep in one folder.

    Args:
        folder: the output folder (created when the sweep starts, not before).
        schema: the table's columns (:func:`runs_schema`).
        spec_hash: the sweep's identity; a folder holding another sweep's runs is refused.
        batch_rows: write when this many rows are waiting...
        batch_seconds: ...or when the oldest has waited this long (s).
    """

    def __init__(self, folder: Path, schema: pa.Schema, spec_hash: str, batch_rows: int = 50,
                 batch_seconds: float = 2.0):
        self.folder = Path(folder)
        self.schema = schema
        self.spec_hash = spec_hash
        self.batch_rows = batch_rows
        self.batch_seconds = batch_seconds
        self.rows: dict[int, dict] = {}
        self.pending = 0
        self._last_write = time.monotonic()
        self._write_cost = 0.0
        self.writes = 0

    # -- before anything is written ------------------------------------------------------------

    def load_existing(self) -> dict[int, dict]:
        """Rows stored by an earlier, interrupted run of the same sweep (none for a new folder).

        Raises:
            FunnelsimError: the folder holds another sweep's results, or an unreadable table.
        """
        manifest = self.folder / MANIFEST
        runs = self.folder / RUNS
        if not manifest.exists():
            if runs.exists():
                raise self._refuse("has a runs.parquet but no manifest.json")
            return {}
        try:
            old = json.loads(manifest.read_text())
        except (OSError, ValueError) as exc:
            raise self._refuse(f"has an unreadable manifest.json ({exc})") from None
        if old.get("spec_hash") != self.spec_hash:
            raise self._refuse("holds the results of a different sweep (spec, base scenario or "
                               "options differ)")
        if not runs.exists():
            return {}
        try:
            table = read_table(runs)
        except (OSError, pa.ArrowException) as exc:
            raise self._refuse(f"has an unreadable runs.parquet ({exc})") from None
        if table.schema.names != self.schema.names:
            raise self._refuse("has a runs.parquet with other columns")
        self.rows = {r["run_id"]: r for r in table.to_pylist()}
        return self.rows

    def _refuse(self, why: str) -> FunnelsimError:
        return FunnelsimError(str(self.folder), [Problem(
            "", f"the output folder {why}", suggestion="choose a new --out folder, or delete this "
                                                       "one to start again")])

    # -- while the sweep runs ------------------------------------------------------------------

    def open(self, manifest: dict, design: pa.Table) -> None:
        """Create the folder; write the manifest and the design; clear stale temporary files."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        write_json(self.folder / MANIFEST, manifest)
        atomic_write(self.folder / DESIGN, lambda p: pq.write_table(design, p))

    def add(self, row: dict, timeseries=None) -> None:
        """Store a finished run (its timeseries file first, so a stored row always has it)."""
        if timeseries is not None:
            ts_dir = self.folder / TIMESERIES
            ts_dir.mkdir(exist_ok=True)
            table = pa.Table.from_pandas(timeseries.assign(run_id=row["run_id"]),
                                         preserve_index=False)
            atomic_write(ts_dir / f"run-{row['run_id']:06d}.parquet",
                         lambda p: pq.write_table(table, p))
        self.rows[row["run_id"]] = row
        self.pending += 1
        now = time.monotonic()
        due = self.pending >= self.batch_rows or now - self._last_write >= self.batch_seconds
        if due and now - self._last_write >= 10 * self._write_cost:
            self.flush()

    def flush(self) -> None:
        """Rewrite runs.parquet with every row so far, sorted by run id."""
        if not self.pending and (self.folder / RUNS).exists():
            return
        t0 = time.monotonic()
        table = self.table()
        atomic_write(self.folder / RUNS, lambda p: pq.write_table(table, p))
        self.pending = 0
        self.writes += 1
        self._last_write = time.monotonic()
        self._write_cost = self._last_write - t0

    def table(self) -> pa.Table:
        rows = [self.rows[k] for k in sorted(self.rows)]
        return pa.Table.from_pylist(rows, schema=self.schema)

    def finish(self, manifest: dict) -> None:
        self.flush()
        write_json(self.folder / MANIFEST, manifest)



class FolderLock:
    """An exclusive lock on a sweep's output folder, so two sweeps never write it at once.

    ``fcntl.flock`` on ``.sweep.lock`` in the folder (the holder's PID is written in it), held
    from before the folder's stored runs are read until the sweep ends. The system releases it
    when the process dies, however it dies, so a killed sweep can be resumed at once. On release
    the lock file is removed, and so are the folders :meth:`acquire` created if nothing else was
    written in them (bad input found later leaves nothing behind).

    Raises (acquire):
        FunnelsimError: another process holds the lock (its PID is in the message).
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK
        self._fd: int | None = None
        self._created: list[Path] = []  # the folders acquire created, deepest first

    def acquire(self) -> None:
        while True:
            self._make_folder()
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:  # a failing holder removed the folder it had created
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                    raise
                raise self._busy() from None
            # the holder may have removed the file between our open and our lock: start again
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(self.path)  # still locked: whoever opens it next makes a new one
        except FileNotFoundError:
            pass
        finally:
            os.close(self._fd)
            self._fd = None
        for folder in self._created:
            try:
                folder.rmdir()  # only if empty: nothing was written
            except OSError:
                break
        self._created = []

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def _make_folder(self) -> None:
        missing = []
        for folder in (self.folder, *self.folder.parents):
            if folder.exists():
                break
            missing.append(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._created = self._created or missing

    def _busy(self) -> FunnelsimError:
        pid = ""
        for _ in range(20):  # the holder writes its PID just after taking the lock
            try:
                pid = self.path.read_text().strip()
            except OSError:
                break
            if pid:
                break
            time.sleep(0.01)
        who = f"another sweep (PID {pid})" if pid.isdigit() else "another sweep"
        return FunnelsimError(str(self.folder), [Problem(
            "", f"the output folder is in use by {who}, which holds {LOCK}",
            suggestion="wait for that sweep to finish (or stop it), or choose another --out "
                       "folder")])

def read_table(path: Path) -> pa.Table:
    """A Parquet file read through one open file. ``pq.read_table(path)`` opens the path twice
    (footer, then pages): if a running sweep renames a new runs.parquet into place in between, it
    reads the new file's pages with the old footer and fails ("Page was smaller than expected").
    An open file keeps the version it opened."""
    with open(path, "rb") as fh:
        return pq.read_table(fh)


def read_runs(folder: str | Path):
    """runs.parquet of a sweep folder as a pandas DataFrame (safe while the sweep runs)."""
    return read_table(Path(folder) / RUNS).to_pandas()


def without_timings(df):
    """The table without its timing columns (what must match between equivalent sweeps)."""
    return df.drop(columns=[c for c in TIMING_COLUMNS if c in df.columns])


def is_nan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)
