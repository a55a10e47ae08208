"""Swept parameters: a dotted scenario key with a list of values or a numeric range.

Every sampler works in the unit hypercube; a :class:`Parameter` maps a unit coordinate ``u`` in
[0, 1] to a scenario value. A range maps linearly (or on a log scale) from ``low`` to ``high``; a
list of values is cut into equal slices of [0, 1], so ``u`` picks ``values[floor(u * k)]``. Values
reach the scenario through the engine's own ``--set`` machinery (``dotted.key=value``), so a key
that does not exist is caught by the same checks, with the same message, as ``funnelsim run --set``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import yaml

from simulation.errors import FunnelsimError, Problem


@dataclass(frozen=True)
class Parameter:
    """One swept scenario key.

    Attributes:
        key: dotted scenario key, e.g. ``strategy.retargeting.0.daily_budget``.
        values: the explicit values (a list design), or None for a range.
        low, high: the range's bounds (in the key's own unit, e.g. $ per day), when a range.
        integer: round range values to whole numbers (counts, days).
        log: spread range values on a log scale (needs low > 0).
        levels: points of the range on a grid design.
    """

    key: str
    values: tuple | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False
    log: bool = False
    levels: int = 5

    @property
    def is_range(self) -> bool:
        return self.values is None

    def value_at(self, u: float) -> Any:
        """The parameter's value at unit coordinate ``u`` in [0, 1]."""
        u = min(max(float(u), 0.0), 1.0)
        if self.values is not None:
            k = len(self.values)
            return self.values[min(int(math.floor(u * k)), k - 1)]
        if self.log:
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        return int(round(x)) if self.integer else float(x)

    def grid_units(self) -> list[float]:
        """Unit coordinates of the grid levels: the middle of each value's slice, or evenly
        spaced range points including both ends."""
        if self.values is not None:
            k = len(self.values)
            return [(i + 0.5) / k for i in range(k)]
        if self.levels == 1:
            return [0.5]
        return [i / (self.levels - 1) for i in range(self.levels)]

    def override(self, value: Any) -> str:
        """The ``dotted.key=value`` override that sets this value."""
        return f"{self.key}={format_value(value)}"


def format_value(value: Any) -> str:
    """Format a value as YAML that parses back to exactly the same value.

    ``repr`` of a float round-trips, but PyYAML (YAML 1.1) reads ``1e-05`` as a string: its floats
    need a dot in the mantissa and a sign in the exponent, so those are added.
    """
    if isinstance(value, bool) or value is None:
        return yaml.safe_dump(value).split("\n")[0]
    if isinstance(value, float):
        text = repr(value)
        if "e" in text:
            mantissa, exp = text.split("e")
            if "." not in mantissa:
                mantissa += ".0"
            if exp[0] not in "+-":
                exp = "+" + exp
            text = f"{mantissa}e{exp}"
        return text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # A JSON string is a YAML double-quoted scalar: it keeps "10" a string, not a number.
        import json

        return json.dumps(value)
    return yaml.safe_dump(value, default_flow_style=True).strip()


def parameter_from_spec(key: str, entry: Any, where: str) -> Parameter:
    """Build a :class:`Parameter` from a sweep file entry: a list of values, or a mapping with
    ``values`` or ``range: [low, high]`` (and ``levels``, ``integer``, ``log``).

    Raises:
        FunnelsimError: naming ``where`` (the file) and ``parameters.<key>``.
    """
    path = f"parameters.{key}"

    def bad(message: str, value: Any = None, hint: str = "") -> FunnelsimError:
        return FunnelsimError(where, [Problem(path, message, value=value, suggestion=hint)])

    if isinstance(entry, list):
        entry = {"values": entry}
    if not isinstance(entry, dict):
        raise bad("expected a list of values or a mapping with 'values' or 'range'", entry,
                  "e.g. {range: [0, 200], levels: 5} or [0, 50, 100]")
    unknown = set(entry) - {"values", "range", "levels", "integer", "log"}
    if unknown:
        raise bad(f"unknown option '{sorted(unknown)[0]}'", None,
                  "valid: values, range, levels, integer, log")
    if ("values" in entry) == ("range" in entry):
        raise bad("give either 'values' (a list) or 'range' ([low, high])", None,
                  "e.g. range: [0, 200]")
    if "values" in entry:
        values = entry["values"]
        if not isinstance(values, list) or not values:
            raise bad("empty list of values" if values == [] else "'values' must be a list",
                      values, "give at least one value")
        if any(isinstance(v, dict | list) for v in values):
            raise bad("values must be plain numbers, strings or booleans", values)
        return Parameter(key, values=tuple(values))
    rng = entry["range"]
    if (not isinstance(rng, list) or len(rng) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng)):
        raise bad("'range' must be two numbers [low, high]", rng, "e.g. range: [0, 200]")
    low, high = float(rng[0]), float(rng[1])
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise bad("empty range: low must be below high", rng, f"e.g. range: [{rng[0]}, "
                  f"{rng[0] + 1 if math.isfinite(low) else 1}]")
    levels = entry.get("levels", 5)
    if not isinstance(levels, int) or isinstance(levels, bool) or levels < 1:
        raise bad("'levels' must be a whole number >= 1", levels)
    integer = entry.get("integer", all(isinstance(v, int) for v in rng))
    log = bool(entry.get("log", False))
    if log and low <= 0:
        raise bad("a log range needs low > 0", rng)
    if integer and math.floor(high) < math.ceil(low):
        raise bad("empty range: no whole number between low and high", rng)
    return Parameter(key, low=low, high=high, integer=bool(integer), log=log, levels=levels)


def parse_param_option(text: str) -> tuple[str, list]:
    """Parse a ``--param key=v1,v2,...`` option into (key, values); values are YAML scalars.

    Raises:
        FunnelsimError: when there is no ``=`` or no value.
    """
    if "=" not in text:
        raise FunnelsimError("--param", [Problem("", "expected KEY=V1,V2,...", value=text,
                                                 suggestion="e.g. --param days=30,60,90")])
    key, raw = text.split("=", 1)
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not parts:
        raise FunnelsimError("--param", [Problem(key.strip(), "empty list of values", value=raw,
                                                 suggestion="e.g. --param days=30,60,90")])
    values = []
    for p in parts:
        try:
            values.append(yaml.safe_load(p))
        except yaml.YAMLError:
            values.append(p)
    return key.strip(), values
