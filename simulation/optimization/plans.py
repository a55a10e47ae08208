"""Plans: apply a candidate (a budget split, a content mix) to a scenario.

A plan is applied to the scenario's *raw* mapping (the YAML file plus the user's ``--set``
overrides), so the plan file written at the end (``plan.yaml``) reads like the user's own file
with a few numbers changed, and validates through the same schema as ``funnelsim run``.

Budget: ``--budget TOTAL`` is the **total daily budget in $ per day** of the scenario's paid and
retargeting lines (the sum of their ``daily_budget``), the same unit as the file's
``daily_budget`` fields. Over a run of D days at most ``TOTAL x D`` $ is spent on them (less when a
retargeting pool or a frequency cap cannot absorb the impressions: only delivered impressions are
paid). Influencer fees, content production and sends are not part of TOTAL; they are kept as in
the scenario.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from simulation.errors import FunnelsimError, Problem
from simulation.scenario import Scenario, _deep_copy, _read_yaml, apply_override, load_scenario

PURPOSES = ("attention", "trust", "action")


@dataclass(frozen=True)
class Line:
    """A paid or retargeting line: ``strategy.<section>.<index>`` on ``platform``."""

    section: str  # "paid" | "retargeting"
    index: int
    platform: str

    @property
    def label(self) -> str:
        return f"{self.section}.{self.index}:{self.platform}"

    @property
    def key(self) -> str:
        return f"strategy.{self.section}.{self.index}.daily_budget"


class Base:
    """The scenario being optimised: its raw mapping and the validated :class:`Scenario`.

    Args:
        source: a scenario file, a dict, or a :class:`Scenario`.
        overrides: ``dotted.key=value`` items (``--set``).
    """

    def __init__(self, source: str | Path | dict | Scenario, overrides: list[str] | None = None):
        overrides = list(overrides or [])
        if isinstance(source, Scenario):
            raw, label = source.model_dump(mode="json"), source.name
        elif isinstance(source, dict):
            raw, label = _deep_copy(source), "<scenario>"
        else:
            raw, label = _read_yaml(Path(source)), str(source)
        for item in overrides:
            raw = apply_override(raw, item, label)
        self.label = label
        self.scenario = (load_scenario(raw) if isinstance(source, Scenario)
                         else load_scenario(source, overrides))
        # A graph file is referenced by its resolved absolute path, so candidates and the plan
        # file work from any folder.
        net = self.scenario.audience.network
        if net.file is not None:
            raw.setdefault("audience", {}).setdefault("network", {})["file"] = net.file
        self.raw = raw

    @property
    def lines(self) -> list[Line]:
        s = self.scenario.strategy
        return ([Line("paid", i, x.platform) for i, x in enumerate(s.paid)]
                + [Line("retargeting", i, x.platform) for i, x in enumerate(s.retargeting)])

    def own_spends(self) -> list[float]:
        """Each line's daily budget in the scenario ($/day)."""
        s = self.scenario.strategy
        return [x.daily_budget for x in (*s.paid, *s.retargeting)]

    def with_changes(self, changes: dict[str, object]) -> dict:
        """The raw mapping with ``dotted.key: value`` changes applied (each key must exist)."""
        raw = self.raw
        for key, value in changes.items():
            raw = apply_override(raw, f"{key}={_yaml_value(value)}", self.label)
        return raw

    def run_data(self, raw: dict) -> dict:
        """A raw mapping validated and dumped for a run (no Mesa agents: faster, same results)."""
        sc = load_scenario(raw)
        return {**sc.model_dump(mode="json"), "materialize_agents": False}

    # -- budget split ------------------------------------------------------------------------

    def split_changes(self, spends: list[float]) -> dict[str, float]:
        """Changes that give each line its daily budget ($/day), rounded to cents."""
        return {line.key: round(float(x), 2) for line, x in zip(self.lines, spends, strict=True)}

    # -- content mix -------------------------------------------------------------------------

    def own_mix(self) -> tuple[float, float, float]:
        """Shares of the organic posts per week by purpose (attention, trust, action)."""
        totals = dict.fromkeys(PURPOSES, 0.0)
        for o in self.scenario.strategy.organic:
            totals[o.purpose] += o.posts_per_week
        total = sum(totals.values())
        if total <= 0:
            return (math.nan,) * 3
        return tuple(totals[p] / total for p in PURPOSES)

    def mix_changes(self, shares: tuple[float, float, float]) -> dict[str, object]:
        """The organic calendar with the given purpose shares (attention, trust, action).

        Per platform, the posts per week stay the scenario's total on that platform and are
        split by the shares into three streams, one per purpose, always all three (a stream with
        0 posts publishes nothing) so every candidate has the same structure and the runs stay
        paired. Each stream keeps the format, hook, quality and cost per post of the scenario's
        first stream with that purpose on that platform, or else of the platform's first stream.
        """
        organic = self.raw.get("strategy", {}).get("organic", [])
        by_platform: dict[str, list[dict]] = {}
        for stream in organic:
            by_platform.setdefault(stream["platform"], []).append(stream)
        out = []
        for streams in by_platform.values():
            total = sum(float(s.get("posts_per_week", 0)) for s in streams)
            for purpose, share in zip(PURPOSES, shares, strict=True):
                like = next((s for s in streams if s.get("purpose", "attention") == purpose),
                            streams[0])
                new = {k: v for k, v in like.items() if k != "posts_per_week"}
                new.update(purpose=purpose, posts_per_week=round(total * float(share), 4))
                out.append(new)
        return {"strategy.organic": out}


def plan_yaml(raw: dict, header: str) -> str:
    """The plan file: a comment header, then the scenario mapping as YAML."""
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comments + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100)


def _yaml_value(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10**9).strip().removesuffix(
        "\n...").removesuffix("...").strip()


def check_budget(budget: float | None, lines: list[Line], required: bool) -> None:
    """Bad budgets are user errors (exit 2)."""
    if budget is None:
        if required:
            raise FunnelsimError("--budget", [Problem(
                "", "a total daily budget is required for --over platforms",
                suggestion="e.g. --budget 200 (total $ per day of the paid and retargeting lines)")])
        return
    if not math.isfinite(budget) or budget <= 0:
        raise FunnelsimError("--budget", [Problem("", "expected a total daily budget > 0 ($/day)",
                                                  value=budget)])
    if not lines:
        raise FunnelsimError("--budget", [Problem(
            "", "the scenario has no paid or retargeting lines to spend a budget on",
            suggestion="add a line under strategy.paid or strategy.retargeting, or omit --budget")])
