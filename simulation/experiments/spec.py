"""The sweep spec (``scenarios/sweeps/*.yaml``) and its plan: points, replicates, runs.

A spec names a base scenario, the swept parameters, a design, the replicates per point, the
metrics to keep and whether to keep daily timeseries::

    name: retargeting_budget
    base: ../product_launch.yaml          # relative to the spec file
    set: [audience.size=10000, days=60]   # fixed overrides of the base
    design: grid                          # grid | random | lhs | sobol | morris
    samples: 16                           # points (random, lhs); N (sobol); trajectories (morris)
    replicates: 5
    seed: 7                               # default: the base scenario's seed
    parameters:
      strategy.retargeting.0.daily_budget: {range: [0, 240], levels: 5}
      strategy.paid.0.daily_budget: [75, 150, 300]
    metrics: [customers, revenue, spend, roas]   # default: the summary's numbers
    timeseries: false

Planning validates everything before any run starts: each parameter's key (through the engine's
``--set`` checks) and every design point's scenario.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulation.errors import FunnelsimError, Problem, ScenarioError, nearest
from simulation.experiments.evaluators import RunTask
from simulation.experiments.metrics import DEFAULT_METRICS, check_metrics
from simulation.experiments.parameters import Parameter, parameter_from_spec
from simulation.experiments.samplers import DESIGNS, sample
from simulation.experiments.seeds import design_seed, replicate_seeds

SPEC_KEYS = {"name", "description", "base", "set", "design", "samples", "replicates", "seed",
             "parameters", "metrics", "timeseries", "second_order", "morris_levels"}
#: Sweeps build no Mesa agent objects unless the spec asks: they change no output, only time.
SWEEP_DEFAULTS = ("materialize_agents=false",)
MAX_RUNS = 1_000_000


@dataclass
class Plan:
    """A validated sweep: what to run.

    Attributes:
        spec: the normalised spec (what the manifest records).
        source: the spec's file (or "<spec>").
        params: the swept parameters (table columns, in order).
        units: unit coordinates of the points (points x parameters).
        points: each point's parameter values.
        seeds: the replicate seeds (replicate r has seeds[r] at every point).
        base: the base scenario as a dict, with the spec's ``set`` applied.
        base_hash: SHA-256 of the base scenario's canonical JSON.
        spec_hash: SHA-256 of the spec and base: a folder's runs belong to one spec_hash.
    """

    spec: dict
    source: str
    params: list[Parameter]
    units: np.ndarray
    points: list[dict[str, Any]]
    seeds: list[int]
    base: dict
    base_hash: str
    spec_hash: str
    metrics: list[str] = field(default_factory=list)

    @property
    def replicates(self) -> int:
        return len(self.seeds)

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.replicates

    def run_ids(self) -> range:
        """Run ``id = point_id * replicates + replicate``: stable, so a resumed sweep finds its
        stored runs by id."""
        return range(self.n_runs)

    def task(self, run_id: int, threads: int = 1) -> RunTask:
        point, rep = divmod(run_id, self.replicates)
        overrides = tuple(p.override(self.points[point][p.key]) for p in self.params)
        return RunTask(run_id, self.base, overrides, self.seeds[rep], tuple(self.metrics),
                       bool(self.spec["timeseries"]), threads)

    def row_keys(self, run_id: int) -> dict[str, Any]:
        """The identifying columns of a run's row: ids, seed and parameter values."""
        point, rep = divmod(run_id, self.replicates)
        return {"run_id": run_id, "point_id": point, "replicate": rep, "seed": self.seeds[rep],
                **{p.key: self.points[point][p.key] for p in self.params}}


def read_spec(source: str | Path | dict) -> tuple[dict, str, Path]:
    """Read a spec file (YAML, data only) or take a dict; returns (data, label, folder)."""
    from simulation.scenario import parse_yaml

    if isinstance(source, dict):
        return dict(source), "<spec>", Path.cwd()
    path = Path(source)
    if not path.is_file():
        raise FunnelsimError(str(path), [Problem("", "sweep spec not found",
                                                 suggestion="see scenarios/sweeps/ for examples")])
    return parse_yaml(path.read_text(encoding="utf-8"), str(path)), str(path), path.resolve().parent


def plan_sweep(source: str | Path | dict, params: list[tuple[str, list]] = (),
               overrides: list[str] = (), **options: Any) -> Plan:
    """Validate a sweep spec and plan its runs, before anything runs or is written.

    Args:
        source: the spec file or dict.
        params: extra ``(key, values)`` parameters (the CLI's ``--param``); a key already in the
            spec is replaced.
        overrides: extra fixed ``--set`` overrides, applied after the spec's ``set``.
        **options: spec keys to replace (e.g. ``replicates=2``, ``design="grid"``).

    Raises:
        FunnelsimError: one message naming the file, key path, value and a suggestion.
    """
    data, label, folder = read_spec(source)
    data.update({k: v for k, v in options.items() if v is not None})
    unknown = sorted(set(data) - SPEC_KEYS)
    if unknown:
        raise FunnelsimError(label, [Problem(unknown[0], f"unknown key '{unknown[0]}'",
                                             suggestion=nearest(unknown[0], SPEC_KEYS))])
    spec = _normalise(data, label, params, overrides)
    base_label = spec["base"]
    base_path = Path(base_label) if Path(base_label).is_absolute() else folder / base_label
    from simulation.scenario import load_scenario

    base = load_scenario(base_path, [*SWEEP_DEFAULTS, *spec["set"]])
    base_dict = base.model_dump(mode="json")
    parameters = [parameter_from_spec(k, v, label) for k, v in spec["parameters"].items()]
    parameters = [_resolve_file_param(p, folder) for p in parameters]
    for p in parameters:  # the key exists and takes this kind of value: one message per key
        probe = p.values[0] if p.values is not None else p.value_at(0.0)
        _check(base_dict, [p.override(probe)], label, prefix="parameters.")
    seed = spec["seed"] if spec["seed"] is not None else base.seed
    spec["seed"] = int(seed)
    units = sample(spec["design"], parameters, spec["samples"], design_seed(seed),
                   second_order=spec["second_order"], morris_levels=spec["morris_levels"])
    points = [{p.key: p.value_at(u) for p, u in zip(parameters, row, strict=True)}
              for row in units]
    n_runs = len(points) * spec["replicates"]
    if n_runs > MAX_RUNS:
        raise FunnelsimError(label, [Problem("", f"{n_runs:,} runs is more than {MAX_RUNS:,}",
                                             suggestion="use fewer samples, levels or replicates")])
    checked: set[tuple[str, ...]] = set()
    for i, point in enumerate(points):  # every scenario of the design is valid
        items = tuple(p.override(point[p.key]) for p in parameters)
        if items not in checked:
            _check(base_dict, list(items), f"{label}: design point {i}")
            checked.add(items)
    base_hash = _sha(base_dict)
    plan = Plan(spec, label, parameters, units, points, replicate_seeds(seed, spec["replicates"]),
                base_dict, base_hash, _sha({"spec": spec, "base": base_hash}), spec["metrics"])
    return plan


def _check(base: dict, items: list[str], where: str, prefix: str = "") -> None:
    """Raise the engine's own ScenarioError for these overrides, naming ``where`` (and the key
    path with ``prefix``) instead of the engine's "--set"."""
    from dataclasses import replace

    from simulation.scenario import load_scenario

    try:
        load_scenario(base, items)
    except ScenarioError as exc:
        problems = [replace(p, path=prefix + p.path) if p.path else p for p in exc.problems]
        raise ScenarioError(where, problems) from None


def _resolve_file_param(p: Parameter, folder: Path) -> Parameter:
    """Graph files named in a sweep are relative to the spec's folder (as ``base`` is)."""
    if p.key != "audience.network.file" or p.values is None:
        return p
    values = tuple(v if not isinstance(v, str) or Path(v).is_absolute() else
                   str((folder / v).resolve()) for v in p.values)
    return Parameter(p.key, values=values)


def _normalise(data: dict, label: str, params, overrides) -> dict:
    def bad(key: str, message: str, value: Any = None, hint: str = "") -> FunnelsimError:
        return FunnelsimError(label, [Problem(key, message, value=value, suggestion=hint)])

    if not isinstance(data.get("base"), str):
        raise bad("base", "the base scenario file is required", data.get("base"),
                  "e.g. base: ../product_launch.yaml")
    design = data.get("design", "grid")
    if design not in DESIGNS:
        raise bad("design", f"unknown design '{design}'", None,
                  nearest(str(design), DESIGNS) or "valid: " + ", ".join(DESIGNS))
    sets = data.get("set", [])
    if not isinstance(sets, list) or not all(isinstance(s, str) for s in sets):
        raise bad("set", "expected a list of 'dotted.key=value' strings", sets)
    parameters = data.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise bad("parameters", "expected a mapping of dotted keys to values or ranges",
                  parameters)
    parameters = {str(k): v for k, v in parameters.items()}
    for key, values in params:
        parameters[key] = {"values": values}
    if not parameters:
        raise bad("parameters", "no parameters to sweep",
                  None, "add 'parameters:' to the spec or give --param KEY=V1,V2")
    ints = {"samples": 16, "replicates": 1, "morris_levels": 4}
    out: dict[str, Any] = {}
    for key, default in ints.items():
        v = data.get(key, default)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise bad(key, "expected a whole number >= 1", v)
        out[key] = v
    if design == "sobol" and out["samples"] & (out["samples"] - 1):
        raise bad("samples", "a Sobol design needs a power of 2", out["samples"],
                  f"e.g. samples: {1 << max(out['samples'].bit_length() - 1, 1)}")
    if design == "morris" and out["morris_levels"] < 2:
        raise bad("morris_levels", "a Morris design needs at least 2 levels", out["morris_levels"])
    if design in ("sobol", "morris"):
        for key, entry in parameters.items():
            if isinstance(entry, dict) and "range" not in entry or isinstance(entry, list):
                values = entry if isinstance(entry, list) else entry.get("values")
                if isinstance(values, list) and len(values) < 2:
                    raise bad(f"parameters.{key}", f"a {design} design needs at least two "
                              "values per parameter", values)
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)
                             or not 0 <= seed < 2**63):
        raise bad("seed", "expected a whole number in [0, 2**63)", seed)
    metrics = data.get("metrics", DEFAULT_METRICS)
    if not isinstance(metrics, list):
        raise bad("metrics", "expected a list of summary names", metrics)
    for key in ("timeseries", "second_order"):
        if not isinstance(data.get(key, False), bool):
            raise bad(key, "expected true or false", data.get(key))
    name = data.get("name") or (Path(label).stem if label != "<spec>" else "sweep")
    return {
        "name": str(name), "description": str(data.get("description", "")),
        "base": data["base"], "set": [*sets, *overrides], "design": design, **out,
        "seed": seed, "parameters": parameters,
        "metrics": check_metrics(metrics, label), "timeseries": bool(data.get("timeseries", False)),
        "second_order": bool(data.get("second_order", False)),
    }


def _sha(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
