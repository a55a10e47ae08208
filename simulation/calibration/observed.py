"""Observed data: loading and validating the campaign's CSV.

Format (one convention, documented in docs/calibration.md):

* one row per **day** (a ``day`` column: 1, 2, ..., N; day 1 is the scenario's first day) or per
  **week** (a ``week`` column: 1, 2, ..., W; week w is days 7(w-1)+1 .. 7w);
* every other column is a series: ``METRIC`` for the whole campaign or ``PLATFORM.METRIC`` for
  one platform the scenario uses (``tiktok.clicks``, ``facebook.spend``);
* metrics (units): ``impressions``, ``reach`` (consumers reached for the first time that
  day/week: the campaign's new unique reach, whose running sum is the cumulative reach),
  ``clicks``, ``engagements``, ``new_customers`` (counts), ``revenue`` and ``spend`` ($);
* every cell a finite number >= 0; no gaps, no repeated day; rows in any order.

Anything else is refused with one message naming the file, the line, the column and the value.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simulation.errors import FunnelsimError, Problem, nearest

#: Observable metrics (column suffixes). Counts per period, except revenue and spend ($).
METRICS = ("impressions", "reach", "clicks", "engagements", "new_customers", "revenue", "spend")
#: Largest observed file read (bytes) and longest horizon (days, the scenario's own limit).
MAX_BYTES = 20_000_000
MAX_DAYS = 3650
PERIOD_DAYS = {"day": 1, "week": 7}


@dataclass
class Observed:
    """A validated observed file.

    Attributes:
        source: the file name (for messages and the report).
        unit: "day" or "week".
        series: column name -> values per period (float64, period 1 first).
    """

    source: str
    unit: str
    series: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def periods(self) -> int:
        """Rows (days or weeks)."""
        return len(next(iter(self.series.values())))

    @property
    def period_days(self) -> int:
        return PERIOD_DAYS[self.unit]

    @property
    def days(self) -> int:
        """Days the simulation must cover."""
        return self.periods * self.period_days

    @property
    def columns(self) -> list[str]:
        return list(self.series)


def allowed_columns(platforms: list[str]) -> list[str]:
    """Every series name accepted for a scenario that uses ``platforms``."""
    return [*METRICS, *(f"{p}.{m}" for p in platforms for m in METRICS)]


def load_observed(path: str | Path, platforms: list[str]) -> Observed:
    """Read and check an observed CSV file.

    Args:
        path: the CSV file.
        platforms: the platforms the scenario uses (valid ``PLATFORM.`` prefixes).

    Raises:
        FunnelsimError: the file is missing or unreadable, or a column, row or cell is wrong;
            the message names the file, line, column and value.
    """
    path = Path(path)
    label = str(path)

    def bad(where: str, message: str, value=None, hint: str = "") -> FunnelsimError:
        return FunnelsimError(label, [Problem(where, message, value=value, suggestion=hint)])

    if not path.exists():
        raise bad("", "observed file not found", hint="check the path given to --observed")
    if not path.is_file():
        raise bad("", "not a file", hint="give a CSV file to --observed")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise bad("", f"file too large ({size} bytes; the limit is {MAX_BYTES})")
        raw = path.read_bytes()
    except OSError as exc:
        raise bad("", f"cannot read the file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise bad("", f"not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8 CSV") from None
    if "\x00" in text:
        raise bad("", "the file contains NUL bytes: not a CSV text file")
    rows: list[tuple[int, list[str]]] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        for cells in reader:
            if cells and any(c.strip() for c in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise bad("", f"not a valid CSV file ({exc})") from None
    if not rows:
        raise bad("", "empty file: expected a header line and one row per day (or week)",
                  hint="e.g. 'day,clicks,new_customers'")
    header_line, header = rows[0]
    names = [h.strip() for h in header]
    where = f"line {header_line}"
    for i, name in enumerate(names):
        if not name:
            raise bad(where, f"column {i + 1} has no name", hint="every column needs a header")
    seen = set()
    for name in names:
        if name in seen:
            raise bad(where, f"column '{name}' appears twice", value=name)
        seen.add(name)
    time_cols = [n for n in names if n in PERIOD_DAYS]
    if len(time_cols) != 1:
        message = ("no 'day' or 'week' column" if not time_cols
                   else "both 'day' and 'week' columns: use one")
        raise bad(where, message, hint="the first column should be 'day' (1, 2, ...) or 'week'")
    unit = time_cols[0]
    allowed = allowed_columns(platforms)
    for name in names:
        if name == unit or name in allowed:
            continue
        prefix, _, metric = name.rpartition(".")
        if prefix and metric in METRICS and prefix not in platforms:
            hint = nearest(prefix, platforms)
            hint = f"{hint} (the scenario uses: {', '.join(platforms)})" if hint.startswith(
                "did") else f"the scenario uses: {', '.join(platforms)}"
            raise bad(f"{where}, column '{name}'", f"unknown platform '{prefix}'", value=name,
                      hint=hint)
        near = nearest(name, [*allowed, *PERIOD_DAYS])
        raise bad(f"{where}, column '{name}'", "unknown column", value=name,
                  hint=near if near.startswith("did") else
                  f"columns are METRIC or PLATFORM.METRIC, with METRIC one of {', '.join(METRICS)}")
    series_names = [n for n in names if n != unit]
    if not series_names:
        raise bad(where, "no series: only a time column",
                  hint=f"add columns such as clicks or tiktok.impressions ({', '.join(METRICS)})")
    body = rows[1:]
    if not body:
        raise bad("", "no data rows after the header")
    limit = MAX_DAYS // PERIOD_DAYS[unit]
    periods: dict[int, int] = {}
    values = {n: [] for n in series_names}
    order = []
    for line, cells in body:
        if len(cells) != len(names):
            raise bad(f"line {line}", f"{len(cells)} cells, but the header has {len(names)} columns",
                      value=",".join(cells)[:60])
        for name, cell in zip(names, cells, strict=True):
            cell = cell.strip()
            at = f"line {line}, column '{name}'"
            if cell == "":
                raise bad(at, "empty cell", hint="every cell needs a number (0 if nothing happened)")
            try:
                number = float(cell)
            except ValueError:
                raise bad(at, "not a number", value=cell) from None
            if not math.isfinite(number):
                raise bad(at, "not a finite number", value=cell)
            if name == unit:
                if number != int(number) or number < 1:
                    raise bad(at, f"a {unit} must be a whole number >= 1", value=cell)
                period = int(number)
                if period > limit:
                    raise bad(at, f"{unit} beyond the longest horizon ({MAX_DAYS} days)", value=cell)
                if period in periods:
                    raise bad(at, f"{unit} {period} appears twice (also on line {periods[period]})",
                              value=cell)
                periods[period] = line
                order.append(period)
            elif number < 0:
                raise bad(at, "negative value: counts and $ amounts are >= 0", value=cell)
            else:
                values[name].append(number)
    n = max(periods)
    missing = sorted(set(range(1, n + 1)) - set(periods))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise bad(f"column '{unit}'", f"missing {unit}(s) {shown}: rows must cover {unit}s 1 to {n} "
                  f"({unit} 1 is the scenario's first {unit})", hint="add the rows (0 where nothing "
                  "happened)")
    rank = np.argsort(np.array(order))
    series = {name: np.asarray(v, dtype=np.float64)[rank] for name, v in values.items()}
    return Observed(label, unit, series)


def split(observed: Observed, holdout_days: int) -> int:
    """Periods used for fitting when the last ``holdout_days`` days are held out.

    Raises:
        FunnelsimError: the holdout is negative, not whole weeks for weekly data, or leaves fewer
            than 2 periods to fit on.
    """
    if holdout_days < 0:
        raise FunnelsimError("--holdout", [Problem("", "expected 0 or more days",
                                                   value=holdout_days)])
    if holdout_days % observed.period_days:
        raise FunnelsimError("--holdout", [Problem(
            "", "weekly data: the holdout must be whole weeks (a multiple of 7 days)",
            value=holdout_days)])
    held = holdout_days // observed.period_days
    if observed.periods - held < 2:
        raise FunnelsimError("--holdout", [Problem(
            "", f"leaves {observed.periods - held} {observed.unit}(s) to fit on; at least 2 needed "
                f"(the file has {observed.periods})", value=holdout_days)])
    return observed.periods - held
