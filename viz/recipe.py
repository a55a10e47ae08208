"""What the page runs: a base scenario (built-in or uploaded) plus the levers the user moved.

A :class:`Recipe` is immutable. Moving a lever makes a new recipe (``recipe.with_lever(key, value)``),
which is validated by the engine's own loader, so the page can never build a model the CLI would refuse.
The levers are addressed by stable keys (``paid.0.daily_budget``, ``organic.sales_share``) and edit a copy
of the scenario's YAML mapping, so the edited scenario can be exported as YAML that reads like the input.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulation.errors import FunnelsimError, Problem, ScenarioError
from simulation.scenario import MAX_FILE_BYTES, Scenario, load_scenario, parse_yaml
from viz import config


class ViewError(FunnelsimError):
    """Something the page refuses (a guard), shown on the page like a scenario error."""


@dataclass(frozen=True)
class Lever:
    """One control of the lever panel."""

    key: str
    label: str
    kind: str  # "int", "float", "bool" or "select"
    min: float = 0
    max: float = 0
    step: float = 1
    options: tuple[str, ...] = ()
    group: str = ""


@dataclass(frozen=True)
class Base:
    """A scenario as loaded, before any lever moves.

    ``folder`` is where relative graph-file paths are resolved (None for uploads, which may not
    reference files on the server).
    """

    label: str
    data: dict
    folder: Path | None


@dataclass(frozen=True)
class Recipe:
    """A base scenario and the lever values applied to it; ``spec`` is the validated scenario."""

    base: Base
    levers: dict = field(default_factory=dict)
    spec: Scenario | None = None
    data: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.base.label

    def with_lever(self, key: str, value: Any, limit: int | None = None) -> Recipe:
        """A new recipe with one lever moved; raises FunnelsimError if the result is refused."""
        return make_recipe(self.base, {**self.levers, key: value}, limit)

    def to_yaml(self) -> str:
        """The edited scenario as YAML (what ``funnelsim run`` would take)."""
        return yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, width=100)


# -- bases ---------------------------------------------------------------------------------------


def builtin_scenarios() -> list[str]:
    """Names of the built-in scenarios, read from the folder each time (files are added while the
    server runs)."""
    return sorted(p.stem for p in config.SCENARIO_DIR.glob("*.yaml") if not p.name.startswith("."))


def base_from_file(path: str | Path) -> Base:
    """A scenario file as a base (a built-in name such as ``product_launch`` also works)."""
    path = Path(path)
    if not path.suffix and not path.exists():
        path = config.SCENARIO_DIR / f"{path.name}.yaml"
    if not path.is_file():
        raise ViewError(str(path), [Problem("", "file not found",
                                            suggestion="built-in: " + ", ".join(builtin_scenarios()))])
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ViewError(str(path), f"file is larger than {MAX_FILE_BYTES:,} bytes")
    label = path.stem if path.parent.resolve() == config.SCENARIO_DIR else path.name
    return Base(label, parse_yaml(path.read_text(encoding="utf-8"), str(path)), path.resolve().parent)


def base_from_upload(name: str, size: int, text: str | None) -> Base:
    """An uploaded file as a base. Refuses files over the upload limit and graph-file references."""
    if size > config.MAX_UPLOAD_BYTES or (text is not None and len(text.encode()) > config.MAX_UPLOAD_BYTES):
        raise ViewError(name, f"the file is {size:,} bytes; uploads are limited to "
                              f"{config.MAX_UPLOAD_BYTES:,} bytes (1 MB)")
    if text is None:
        raise ViewError(name, "the file could not be read")
    data = parse_yaml(text, name)
    net = data.get("audience", {}).get("network") if isinstance(data.get("audience"), dict) else None
    if isinstance(net, dict) and net.get("file"):
        raise ViewError(name, [Problem("audience.network.file", "an uploaded scenario cannot read graph "
                                       "files on the server", value=net["file"],
                                       suggestion="use a generator (network.model) or run it with "
                                                  "funnelsim view FILE")])
    return Base(f"upload: {name}", data, None)


# -- recipes -------------------------------------------------------------------------------------


def make_recipe(base: Base, levers: dict | None = None, limit: int | None = None) -> Recipe:
    """Apply ``levers`` to ``base`` and validate. Raises ScenarioError / ViewError (page messages)."""
    levers = dict(levers or {})
    data = apply_levers(base.data, levers)
    spec = load_scenario(_resolved(data, base))
    check_audience(spec, base.label, limit)
    return Recipe(base, levers, spec, data)


def check_audience(spec: Scenario, label: str, limit: int | None = None) -> None:
    """Refuse an audience above the web view's limit (graph files are checked once read)."""
    limit = config.max_audience() if limit is None else limit
    size = spec.audience.size
    if size is not None and size > limit:
        raise ViewError(label, [Problem("audience.size", f"the web view is limited to {limit:,} "
                                        "consumers", value=size,
                                        suggestion="use funnelsim run for larger audiences, or start "
                                                   "the view with --max-audience")])


def _resolved(data: dict, base: Base) -> dict:
    """``data`` with a relative graph-file path made absolute against the base's folder."""
    net = data.get("audience", {}).get("network") if isinstance(data.get("audience"), dict) else None
    if not (isinstance(net, dict) and net.get("file")) or base.folder is None:
        return data
    out = copy.deepcopy(data)
    out["audience"]["network"]["file"] = str((base.folder / net["file"]).resolve())
    return out


# -- levers --------------------------------------------------------------------------------------


def lever_specs(recipe: Recipe, limit: int | None = None) -> list[Lever]:
    """The levers that make sense for this scenario, in panel order. Lines and streams come from the
    base scenario, so a lever that empties a list (retargeting off) does not remove its own switch."""
    limit = config.max_audience() if limit is None else limit
    base = _strategy(recipe.base.data)
    out = []
    if recipe.spec.audience.network.file is None:
        out.append(Lever("audience.size", "Audience (consumers)", "int", 100, limit, 1000, group="run"))
    out += [Lever("days", "Days", "int", 1, 365, 1, group="run"),
            Lever("seed", "Seed", "int", 0, 2**31 - 1, 1, group="run"),
            Lever("product.price", "Price ($)", "float", 1, 1000, 1, group="product")]
    for i, line in enumerate(base.get("paid") or []):
        out.append(Lever(f"paid.{i}.daily_budget", f"Paid {line.get('platform')} ($/day)", "float",
                         0, 1000, 10, group="budget"))
    retargeting = base.get("retargeting") or []
    if retargeting:
        out.append(Lever("retargeting.on", "Retargeting on", "bool", group="budget"))
        for i, line in enumerate(retargeting):
            out.append(Lever(f"retargeting.{i}.daily_budget", f"Retargeting {line.get('platform')} "
                             "($/day)", "float", 0, 1000, 10, group="budget"))
        out.append(Lever("retargeting.frequency_cap", "Retargeting cap (ads/day)", "int", 1, 20, 1,
                         group="budget"))
    organic = base.get("organic") or []
    for i, stream in enumerate(organic):
        out.append(Lever(f"organic.{i}.posts_per_week", f"Posts/week on {stream.get('platform')}",
                         "float", 0, 21, 1, group="content"))
    if organic:
        out.append(Lever("organic.sales_share", "Sales share of posts (0 value .. 1 sales)", "float",
                         0, 1, 0.05, group="content"))
    out += [Lever("influencers.count", "Influencers", "int", 0, 200, 1, group="influencers"),
            Lever("influencers.selection", "Influencer selection", "select", options=("degree", "random"),
                  group="influencers")]
    return out


def lever_values(recipe: Recipe) -> dict:
    """Every lever's current value (moved or as in the file)."""
    spec = recipe.spec
    s = spec.strategy
    values: dict[str, Any] = {
        "audience.size": spec.audience.size, "days": spec.days, "seed": spec.seed,
        "product.price": spec.product.price,
        "retargeting.on": recipe.levers.get("retargeting.on", True),
        "influencers.count": s.influencers.count if s.influencers else 0,
        "influencers.selection": s.influencers.selection if s.influencers else "degree",
        "organic.sales_share": recipe.levers.get("organic.sales_share", sales_share(s.organic)),
    }
    base_strategy = _strategy(recipe.base.data)
    for i, line in enumerate(s.paid):
        values[f"paid.{i}.daily_budget"] = line.daily_budget
    for i, line in enumerate(base_strategy.get("retargeting") or []):
        values[f"retargeting.{i}.daily_budget"] = recipe.levers.get(
            f"retargeting.{i}.daily_budget", line.get("daily_budget", 0))
    caps = [line.get("frequency_cap", 3) for line in base_strategy.get("retargeting") or []]
    values["retargeting.frequency_cap"] = recipe.levers.get("retargeting.frequency_cap",
                                                            caps[0] if caps else 3)
    for i, stream in enumerate(base_strategy.get("organic") or []):
        values[f"organic.{i}.posts_per_week"] = recipe.levers.get(
            f"organic.{i}.posts_per_week", stream.get("posts_per_week", 0))
    return values


def sales_share(streams) -> float:
    """Share of organic posts whose purpose is action (selling) rather than attention or trust."""
    total = sum(_get(o, "posts_per_week", 0.0) for o in streams)
    sales = sum(_get(o, "posts_per_week", 0.0) for o in streams
                if _get(o, "purpose", "attention") == "action")
    return round(sales / total, 4) if total else 0.0


def apply_levers(data: dict, levers: dict) -> dict:
    """A copy of the scenario mapping with the levers applied (the order of application is fixed:
    posts per stream first, then the value/sales mix splits the streams)."""
    out = copy.deepcopy(data)
    strategy = out.setdefault("strategy", {})
    for key, value in levers.items():
        parts = key.split(".")
        if key in ("days", "seed"):
            out[key] = int(value)
        elif key == "audience.size":
            out.setdefault("audience", {})["size"] = int(value)
        elif key == "product.price":
            out.setdefault("product", {})["price"] = float(value)
        elif parts[0] in ("paid", "retargeting", "organic") and len(parts) == 3 and parts[1].isdigit():
            items = strategy.get(parts[0]) or []
            if int(parts[1]) < len(items):
                items[int(parts[1])][parts[2]] = float(value)
        elif key == "retargeting.frequency_cap":
            for line in strategy.get("retargeting") or []:
                line["frequency_cap"] = int(value)
        elif key == "influencers.count":
            inf = strategy.get("influencers") or {}
            strategy["influencers"] = {**inf, "count": int(value)}
        elif key == "influencers.selection":
            inf = strategy.get("influencers") or {"count": 0}
            strategy["influencers"] = {**inf, "selection": str(value)}
    if levers.get("retargeting.on") is False:
        strategy["retargeting"] = []
    share = levers.get("organic.sales_share")
    if share is not None and strategy.get("organic"):
        if not math.isclose(float(share), sales_share(strategy["organic"]), abs_tol=1e-6):
            strategy["organic"] = split_streams(strategy["organic"], float(share))
    return out


def split_streams(streams: list[dict], share: float) -> list[dict]:
    """Each organic stream split into a value part (attention/trust) and a sales part (action), so
    that ``share`` of the posts sell. A stream that sold keeps its creative and turns to trust."""
    out = []
    for stream in streams:
        posts = float(stream.get("posts_per_week", 0.0))
        purpose = stream.get("purpose", "attention")
        value_part = {**stream, "purpose": purpose if purpose != "action" else "trust",
                      "posts_per_week": round(posts * (1 - share), 4)}
        sales_part = {**stream, "purpose": "action", "posts_per_week": round(posts * share, 4)}
        out += [part for part in (value_part, sales_part) if part["posts_per_week"] > 0]
    return out or streams


def _strategy(data: dict) -> dict:
    s = data.get("strategy")
    return s if isinstance(s, dict) else {}


def _get(item, name, default):
    return item.get(name, default) if isinstance(item, dict) else getattr(item, name, default)


def describe_error(exc: Exception) -> str:
    """The message the page shows for a refused input."""
    if isinstance(exc, FunnelsimError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


__all__ = ["Base", "Lever", "Recipe", "ScenarioError", "ViewError", "apply_levers", "base_from_file",
           "base_from_upload", "builtin_scenarios", "lever_specs", "lever_values", "make_recipe"]
