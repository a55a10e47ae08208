"""Calibrated parameters: ``--params key=lo:hi[:log]``.

A key is either

* any numeric scenario key, in the dotted form of ``--set`` (``behavior.trust_threshold``,
  ``platforms.tiktok.stop_rate``, ``strategy.paid.0.daily_budget``...): it is checked by the
  scenario's own ``--set`` machinery, so an unknown key gets the same message and suggestion as
  ``funnelsim run --set``; or
* ``scale.<rate>``: a multiplier (dimensionless) of one platform rate on **every** platform the
  scenario uses, applied to the value each platform has in the scenario (its preset or the file's
  override), capped at 1 (the rates are probabilities). ``scale.stop_rate=0.5:2`` fits one number
  that moves all stop rates together and keeps their order across platforms.

Default parameters (when ``--params`` is not given): the four stage rates of the funnel, as
multipliers from 0.5x to 2x on a log scale: ``scale.stop_rate`` (attention: P(stop | impression)),
``scale.interest_rate`` (interest: P(engage | stop)), ``scale.trust_gain`` (trust gained per stop
of trust content) and ``scale.conversion_rate`` (conversion: P(buy | click)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from simulation.errors import FunnelsimError, Problem, nearest
from simulation.experiments.parameters import format_value

#: Platform rates that ``scale.<rate>`` may multiply (all probabilities, capped at 1).
SCALABLE_RATES = ("stop_rate", "interest_rate", "trust_gain", "conversion_rate", "click_rate",
                  "share_rate", "follow_rate", "organic_reach")

#: ``--params`` used when none is given: the attention, interest, trust and conversion rates.
DEFAULT_PARAMS = ("scale.stop_rate=0.5:2:log", "scale.interest_rate=0.5:2:log",
                  "scale.trust_gain=0.5:2:log", "scale.conversion_rate=0.5:2:log")


@dataclass(frozen=True)
class CalibParam:
    """One fitted parameter.

    Attributes:
        key: dotted scenario key, or ``scale.<rate>``.
        low, high: the search range, in the key's own unit (a multiplier for ``scale.*``).
        log: search on a log scale (needs low > 0).
        integer: a whole-number scenario field (values are rounded).
        start: the scenario's own value (1.0 for a multiplier), or None when it has none.
    """

    key: str
    low: float
    high: float
    log: bool = False
    integer: bool = False
    start: float | None = None

    @property
    def is_scale(self) -> bool:
        return self.key.startswith("scale.")

    def unit(self, value: float) -> float:
        """Position of ``value`` in the range, 0..1 (on the log scale for a log parameter)."""
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def at(self, u: float) -> float:
        """The value at position ``u`` (0..1) of the range."""
        if self.log:
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        return float(round(x)) if self.integer else x


def _bad(text: str, message: str, hint: str = "") -> FunnelsimError:
    return FunnelsimError("--params", [Problem("", message, value=text, suggestion=hint)])


def parse_params(items: list[str] | tuple[str, ...], base: dict,
                 platform_rates: dict[str, dict[str, float]]) -> list[CalibParam]:
    """Parse and check ``key=lo:hi[:log]`` items against a scenario.

    Args:
        items: the ``--params`` texts.
        base: the scenario as a dict (``Scenario.model_dump(mode="json")``).
        platform_rates: each used platform's current rates (see :func:`platform_rates`).

    Raises:
        FunnelsimError: malformed item, unknown key (with a suggestion), a non-numeric field,
            an empty range (lo >= hi), a log range with lo <= 0, a key given twice, or an end of
            the range that the scenario refuses (e.g. a probability above 1).
    """
    from simulation.scenario import apply_override, load_scenario

    out: list[CalibParam] = []
    for text in items:
        if "=" not in text:
            raise _bad(text, "expected KEY=LOW:HIGH (or KEY=LOW:HIGH:log)",
                       "e.g. --params scale.stop_rate=0.5:2 --params behavior.trust_threshold=0.1:0.6")
        key, raw = (s.strip() for s in text.split("=", 1))
        parts = [p.strip() for p in raw.split(":")]
        log = len(parts) == 3 and parts[2].lower() == "log"
        if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
            raise _bad(text, f"{key}: expected a range LOW:HIGH or LOW:HIGH:log",
                       f"e.g. {key}=0.5:2")
        try:
            low, high = float(parts[0]), float(parts[1])
        except ValueError:
            raise _bad(text, f"{key}: the range's ends must be numbers", f"e.g. {key}=0.5:2") from None
        if not (math.isfinite(low) and math.isfinite(high)):
            raise _bad(text, f"{key}: the range's ends must be finite numbers")
        if not low < high:
            raise _bad(text, f"{key}: empty range: LOW must be below HIGH", f"e.g. {key}={low}:{low + 1}"
                       if low >= 0 else "")
        if log and low <= 0:
            raise _bad(text, f"{key}: a log range needs LOW > 0")
        if any(p.key == key for p in out):
            raise _bad(text, f"{key}: given twice")
        if key.startswith("scale."):
            rate = key.removeprefix("scale.")
            if rate not in SCALABLE_RATES:
                raise FunnelsimError("--params", [Problem(key, f"unknown rate '{rate}'", suggestion=nearest(
                    rate, SCALABLE_RATES))])
            if low < 0:
                raise _bad(text, f"{key}: a multiplier cannot be negative", f"e.g. {key}=0.5:2")
            out.append(CalibParam(key, low, high, log, False, 1.0))
            continue
        if key in ("days", "seed", "materialize_agents"):
            raise FunnelsimError("--params", [Problem(key, "cannot be calibrated: the observed "
                                                      "file sets the days, --seed the seeds")])
        # The scenario's own --set checks: unknown keys, list indices, types, bounds.
        try:
            apply_override(base, f"{key}={format_value(low)}")
        except FunnelsimError as exc:
            raise FunnelsimError("--params", exc.problems) from None
        current = _lookup(base, key)
        if isinstance(current, bool) or not (current is None or isinstance(current, int | float)):
            raise FunnelsimError("--params", [Problem(key, "not a numeric field", value=current,
                                                      suggestion="calibrate numbers only")])
        integer = isinstance(current, int)
        if integer and math.floor(high) < math.ceil(low):
            raise _bad(text, f"{key}: empty range: no whole number between LOW and HIGH")
        for which, end in (("LOW", low), ("HIGH", high)):
            value = int(round(end)) if integer else end
            try:
                load_scenario(base, [f"{key}={format_value(value)}"])
            except FunnelsimError as exc:
                raise FunnelsimError("--params", [Problem(
                    p.path, f"{which} end of the range refused by the scenario: {p.message}",
                    value=p.value, suggestion=p.suggestion) for p in exc.problems]) from None
        start = float(current) if current is not None and low <= current <= high else None
        out.append(CalibParam(key, low, high, log, integer, start))
    return out


def _lookup(data: Any, key: str) -> Any:
    node = data
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def platform_rates(scenario) -> dict[str, dict[str, float]]:
    """Each used platform's scalable rates as the scenario sets them (preset + file overrides)."""
    from platforms.registry import resolve

    overrides = scenario.platform_overrides()
    out = {}
    for name in scenario.platforms_used():
        params = resolve(name, overrides.get(name))
        out[name] = {r: float(getattr(params, r)) for r in SCALABLE_RATES}
    return out


def overrides_for(params: list[CalibParam], values: dict[str, float],
                  rates: dict[str, dict[str, float]]) -> list[str]:
    """The ``dotted.key=value`` overrides that set ``values`` (a multiplier becomes one override
    per platform: ``platforms.<p>.<rate>`` = the platform's rate x multiplier, capped at 1)."""
    out = []
    for p in params:
        v = values[p.key]
        if p.is_scale:
            rate = p.key.removeprefix("scale.")
            for name, table in rates.items():
                out.append(f"platforms.{name}.{rate}={format_value(min(1.0, table[rate] * v))}")
        else:
            out.append(f"{p.key}={format_value(int(round(v)) if p.integer else float(v))}")
    return out
