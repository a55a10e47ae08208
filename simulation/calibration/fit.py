"""The fit: Optuna's TPE sampler (seeded) over the parameters, each trial scored on several
replicates that share their seeds with every other trial (common random numbers).

Reproducibility: the sampler's seed and the replicate seeds derive from one base seed
(:mod:`simulation.experiments.seeds`); trials run one after another (a trial's replicates may run
in parallel on Dask, and their results are put back in replicate order), so the same inputs and
seed give the same trials, the same best parameters and the same files, whatever ``workers``.

Identifiability rule (stated in docs/calibration.md): the *good* parameter sets are the trials
whose objective is within ``GOOD_WITHIN`` (10%) of the best, plus the points of each parameter's
*profile* that are: after the search, each parameter alone is moved from the best values to 0%,
25%, 50%, 75% and 100% of its range (same replicate seeds). A parameter is reported as **not
identified** when its good values span ``MAX_SPAN`` (half) of its range or more, measured on
its search scale (log for log ranges); the report says "flat" when every profile point is good.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.calibration import objective as obj
from simulation.calibration.observed import Observed, load_observed, split
from simulation.calibration.params import (
    DEFAULT_PARAMS,
    CalibParam,
    overrides_for,
    parse_params,
    platform_rates,
)
from simulation.calibration.simulate import SeriesTask, observed_matrix, run_tasks
from simulation.errors import FunnelsimError, Problem

#: Good parameter sets: objective <= best x (1 + GOOD_WITHIN).
GOOD_WITHIN = 0.10
#: Not identified when the good values span this share of the range or more.
MAX_SPAN = 0.5
#: Pairs whose collinearity index reaches this are warned about (Brun et al. 2001: 10-15).
COLLINEAR = 10.0
#: Profile points: positions in each parameter's range (0 = low, 1 = high).
PROFILE = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass
class Calibration:
    """The result of :func:`calibrate`.

    Attributes:
        source: the scenario file (or "<scenario>").
        raw: the scenario as written (with ``--set`` applied), to write the calibrated file.
        observed: the observed data.
        params: the fitted parameters.
        fit_periods: periods (days or weeks) used for fitting; the rest were held out.
        seed, reps, seeds: the base seed, replicates per trial and their model seeds.
        trials: one row per trial: ``trial``, ``origin`` (``start`` for the scenario's own
            values, ``tpe``), ``state``, each parameter, ``objective`` and ``nrmse.<series>``.
        best: the best trial's parameter values; ``best_objective`` its objective.
        runs: the best trial's replicates, (replicates, series, periods), the whole horizon.
        series: per series: NRMSE and MAPE over the fit window and, with a holdout, over the
            held-out periods.
        spread: per parameter: range, best, the good values' min and max (good trials and
            good profile points), their span (share of the range), the profile (objective at
            0/25/50/75/100% of the range), flat, and whether identified.
        warnings: identifiability and other warnings (also printed by the CLI).
        start_forecast_nrmse: the forecast error (mean NRMSE on the held-out periods) of the
            scenario's own values, when they were tried (NaN otherwise): what calibrating gained.
        pairs: per pair of parameters, the collinearity index near the best (see
            :func:`collinearity`; 10 or more: they compensate each other).
        overrides: the ``--set`` items that turn the scenario into the calibrated one.
    """

    source: str
    raw: dict
    observed: Observed
    params: list[CalibParam]
    fit_periods: int
    seed: int
    reps: int
    seeds: list[int]
    trials: pd.DataFrame
    best: dict[str, float]
    best_objective: float
    runs: np.ndarray
    series: pd.DataFrame
    spread: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    holdout_days: int = 0
    scenario_name: str = ""
    good_within: float = GOOD_WITHIN
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    start_forecast_nrmse: float = math.nan

    @property
    def forecast_nrmse(self) -> float:
        """Mean NRMSE over the held-out periods (NaN without a holdout)."""
        if "nrmse_holdout" not in self.series:
            return math.nan
        return float(self.series["nrmse_holdout"].mean())


def _check_int(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise FunnelsimError(name, [Problem("", f"expected a whole number >= {low}", value=value)])


def _load(scenario, sets):
    """The validated scenario and its raw mapping (``--set`` applied)."""
    from simulation.scenario import apply_override, load_scenario, parse_yaml

    spec = load_scenario(scenario, list(sets))
    if isinstance(scenario, dict):
        raw = dict(scenario)
    else:
        raw = parse_yaml(Path(scenario).read_text(encoding="utf-8"), str(scenario))
    for item in sets:
        raw = apply_override(raw, item, str(scenario))
    net = (raw.get("audience") or {}).get("network")
    if isinstance(net, dict) and net.get("file"):
        # The calibrated file is written elsewhere: name the graph file by its absolute path.
        net["file"] = spec.audience.network.file
    return spec, raw


def calibrate(scenario: str | Path | dict, observed: str | Path, params: list[str] | None = None, *,
              sets: list[str] | tuple[str, ...] = (), trials: int = 40, reps: int = 3,
              seed: int | None = None, holdout: int = 0, workers: int = 0,
              out: str | Path | None = None, good_within: float = GOOD_WITHIN,
              progress: Callable[[int, int], None] | None = None) -> Calibration:
    """Fit scenario parameters to an observed campaign.

    Args:
        scenario: scenario file (or dict).
        observed: the observed CSV (format: :mod:`simulation.calibration.observed`).
        params: ``key=lo:hi[:log]`` items (default: the four stage-rate multipliers,
            :data:`~simulation.calibration.params.DEFAULT_PARAMS`).
        sets: ``--set`` overrides applied to the scenario first.
        trials: Optuna trials (parameter sets tried), including the scenario's own values.
        reps: replicates per trial (model runs; the same seeds for every trial).
        seed: base seed of the replicates and the sampler [default: the scenario's].
        holdout: days at the end kept out of the fit and used to measure the forecast error.
        workers: 0 runs in this process; N > 0 runs each trial's replicates on a local Dask
            cluster of N processes (same results).
        out: folder for the calibrated scenario, report and trials (nothing written if None).
        good_within: good parameter sets have an objective within this share of the best
            (0.10 = 10%); the identifiability rule uses them.
        progress: called as ``progress(done, total)`` after each evaluation.

    Raises:
        FunnelsimError: bad scenario, observed file, parameters or options (nothing is written).
    """
    from simulation.experiments.seeds import MAX_SEED, design_seed, replicate_seeds

    _check_int("--trials", trials, 1)
    _check_int("--reps", reps, 1)
    _check_int("--holdout", holdout, 0)
    _check_int("--workers", workers, 0)
    if not (isinstance(good_within, int | float) and 0 < good_within <= 10):
        raise FunnelsimError("--good-within", [Problem("", "expected a share above 0 (0.1 = 10%)",
                                                       value=good_within)])
    source = str(scenario) if not isinstance(scenario, dict) else "<scenario>"
    spec, raw = _load(scenario, sets)
    data = load_observed(observed, spec.platforms_used())
    fit_periods = split(data, holdout)
    base = spec.model_dump(mode="json")
    base["days"] = data.days
    base["materialize_agents"] = False
    rates = platform_rates(spec)
    plist = parse_params(list(params) if params else list(DEFAULT_PARAMS), base, rates)
    seed = spec.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < MAX_SEED:
        raise FunnelsimError("--seed", [Problem("", "expected a whole number from 0 to 2**63-1",
                                                value=seed)])
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise FunnelsimError(str(out), [Problem("", "--out exists and is not a folder")])
    seeds = replicate_seeds(seed, reps)
    obs = observed_matrix(data)
    columns = tuple(data.columns)
    total = trials + len(PROFILE) * len(plist)
    done = 0

    def tasks_for(tag, values: dict[str, float]) -> list[SeriesTask]:
        ov = tuple(overrides_for(plist, values, rates))
        return [SeriesTask((tag, r), base, ov, s, columns, data.period_days)
                for r, s in enumerate(seeds)]

    if workers:
        from simulation.experiments.evaluators import DaskEvaluator
        evaluator = DaskEvaluator(workers=workers)
    else:
        evaluator = None

    def evaluate(batch: list[tuple[object, dict]], client) -> dict:
        """{tag: (replicates, series, periods) array or an error message}."""
        nonlocal done
        out_: dict = {}
        for tag, values in batch:
            try:
                res = run_tasks(tasks_for(tag, values), client)
                out_[tag] = np.stack([res[(tag, r)] for r in range(reps)])
            except FunnelsimError as exc:  # a value the scenario refuses in combination
                out_[tag] = str(exc)
            except Exception as exc:  # noqa: BLE001 - a failing run is recorded, as in sweeps
                from simulation.experiments.evaluators import _describe

                out_[tag] = _describe(exc)
            done += 1
            if progress is not None:
                progress(done, total)
        return out_

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=design_seed(seed), multivariate=True,
            n_startup_trials=max(3, min(10, trials // 4)))
    study = optuna.create_study(direction="minimize", sampler=sampler)
    dists = {p.key: (optuna.distributions.IntDistribution(int(math.ceil(p.low)),
                                                          int(math.floor(p.high)), log=p.log)
                     if p.integer else
                     optuna.distributions.FloatDistribution(p.low, p.high, log=p.log))
             for p in plist}
    enqueued = all(p.start is not None for p in plist)
    if enqueued:
        study.enqueue_trial({p.key: (int(p.start) if p.integer else p.start) for p in plist})

    rows = []
    best_runs = start_runs = None
    best_obj = math.inf
    ctx = evaluator if evaluator is not None else _Null()
    with ctx, warnings.catch_warnings():
        warnings.simplefilter("ignore", category=optuna.exceptions.ExperimentalWarning)
        client = evaluator.client if evaluator is not None else None
        for i in range(trials):
            trial = study.ask(dists)
            values = {k: float(v) for k, v in trial.params.items()}
            res = evaluate([(i, values)], client)[i]
            row = {"trial": i, "origin": "start" if i == 0 and enqueued else "tpe", **values}
            if isinstance(res, str):
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                rows.append({**row, "state": "error", "objective": math.nan, "error": res})
                continue
            value, per = obj.objective(res, obs, fit_periods)
            if not math.isfinite(value):
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                rows.append({**row, "state": "error", "objective": math.nan,
                             "error": "objective not finite"})
                continue
            study.tell(trial, value)
            rows.append({**row, "state": "ok", "objective": value, "error": "",
                         **{f"nrmse.{c}": float(x) for c, x in zip(columns, per, strict=True)}})
            if value < best_obj:
                best_obj, best_runs = value, res
            if row["origin"] == "start":
                start_runs = res
        ok = [r for r in rows if r["state"] == "ok"]
        if not ok:
            raise FunnelsimError(source, [Problem("", "every trial failed", value=rows[0]["error"])])
        best_row = min(ok, key=lambda r: (r["objective"], r["trial"]))
        best = {p.key: best_row[p.key] for p in plist}
        # Profile: each parameter alone across its range, from the best values.
        batch = [((p.key, u), {**best, p.key: p.at(u)}) for p in plist for u in PROFILE]
        profile = evaluate(batch, client)
    table = pd.DataFrame(rows)
    for c in [f"nrmse.{c}" for c in columns]:
        if c not in table:
            table[c] = math.nan
    spread, notes = _spread(plist, table, best, best_obj, profile, obs, fit_periods, good_within)
    series = _series_table(columns, best_runs, obs, fit_periods)
    gamma = collinearity(sensitivities(plist, best, best_runs, profile, obs, fit_periods))
    pairs = pd.DataFrame([{"a": plist[i].key, "b": plist[j].key, "collinearity": gamma[i, j]}
                          for i in range(len(plist)) for j in range(i + 1, len(plist))],
                         columns=["a", "b", "collinearity"])
    for _, pr in pairs.iterrows():
        if COLLINEAR <= pr["collinearity"] < math.inf:
            notes.append(f"{pr['a']} and {pr['b']} compensate each other near the best "
                         f"(collinearity index {pr['collinearity']:.1f} >= {COLLINEAR:g}): the data "
                         "pin down a combination of them, not each one")
    cal = Calibration(source, raw, data, plist, fit_periods, seed, reps, seeds, table, best,
                      best_obj, best_runs, series, spread, notes,
                      overrides_for(plist, best, rates), holdout, spec.name, float(good_within),
                      pairs, _forecast(start_runs, obs, fit_periods))
    if out is not None:
        from simulation.calibration.report import write

        write(cal, Path(out))
    return cal


def sensitivities(plist, best, best_runs, profile, obs, fit_periods) -> np.ndarray:
    """Local sensitivity of the simulated series to each parameter near the best, from the
    profile (no extra runs): the secant between the profile points (or the best) on either side
    of the best value, per unit of the parameter's search scale; each series divided by its
    observed mean and by sqrt(periods), as in the NRMSE. Returns (rows, parameters)."""
    scale = np.mean(np.abs(obs[:, :fit_periods]), axis=1)
    scale = np.where(scale > 0, scale, 1.0)[:, None] * math.sqrt(fit_periods)
    mean_best = best_runs.mean(axis=0)[:, :fit_periods] / scale
    cols = []
    for p in plist:
        ub = p.unit(best[p.key])
        below = [u for u in PROFILE if u < ub - 1e-9 and not isinstance(profile[(p.key, u)], str)]
        above = [u for u in PROFILE if u > ub + 1e-9 and not isinstance(profile[(p.key, u)], str)]

        def mean_at(u, ub=ub, key=p.key):
            if u is None:
                return ub, mean_best
            return u, profile[(key, u)].mean(axis=0)[:, :fit_periods] / scale

        (u0, m0), (u1, m1) = mean_at(max(below) if below else None), mean_at(
            min(above) if above else None)
        cols.append(((m1 - m0) / (u1 - u0)).ravel() if u1 > u0 else np.zeros(mean_best.size))
    return np.column_stack(cols)


def collinearity(sens: np.ndarray) -> np.ndarray:
    """Collinearity index of each pair of parameters (Brun, Reichert & Kuensch 2001, Water
    Resources Research 37(4)): ``1 / sqrt(smallest eigenvalue of S'S)`` with the pair's
    sensitivity columns scaled to unit length. 1: independent effects; 10 or more: a change in
    one is compensated, to within 10%, by a change in the other. ``inf`` when a parameter has no
    effect (covered by the flat profile rule). Returns a (parameters, parameters) matrix."""
    k = sens.shape[1]
    out = np.ones((k, k))
    norms = np.linalg.norm(sens, axis=0)
    for i in range(k):
        for j in range(i + 1, k):
            if norms[i] == 0 or norms[j] == 0:
                out[i, j] = out[j, i] = math.inf
                continue
            pair = sens[:, [i, j]] / norms[[i, j]]
            low = float(np.linalg.eigvalsh(pair.T @ pair)[0])
            out[i, j] = out[j, i] = 1 / math.sqrt(low) if low > 1e-12 else math.inf
    return out


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def _spread(plist, table, best, best_obj, profile, obs, fit_periods, good_within):
    """Per parameter: the good values' range (good trials and good profile points), the profile,
    identified or not."""
    ok = table[table["state"] == "ok"]
    limit = best_obj * (1 + good_within) + 1e-12
    good = ok[ok["objective"] <= limit]
    rows, notes = [], []
    for p in plist:
        prof = []
        for u in PROFILE:
            res = profile[(p.key, u)]
            prof.append(math.nan if isinstance(res, str)
                        else obj.objective(res, obs, fit_periods)[0])
        values = [*good[p.key].tolist(), *(p.at(u) for u, v in zip(PROFILE, prof, strict=True)
                                            if math.isfinite(v) and v <= limit)]
        lo, hi = float(min(values)), float(max(values))
        span = p.unit(hi) - p.unit(lo)
        flat = all(math.isfinite(v) and v <= limit for v in prof)
        identified = span < MAX_SPAN - 1e-9
        if not identified:
            why = ("the objective is flat along it: every profile point is within "
                   f"{good_within:.0%} of the best" if flat else
                   f"values from {lo:.4g} to {hi:.4g} ({span:.0%} of its range) fit within "
                   f"{good_within:.0%} of the best")
            notes.append(f"{p.key} is not identified by the data: {why}; its fitted value "
                         f"{best[p.key]:.4g} is one of many that fit as well")
        rows.append({"parameter": p.key, "low": p.low, "high": p.high, "scale": "log" if p.log
                     else "linear", "start": p.start, "best": best[p.key], "good_min": lo,
                     "good_max": hi, "good_span": span, "good_sets": len(good),
                     "profile": " / ".join("-" if not math.isfinite(v) else f"{v:.3g}"
                                           for v in prof),
                     "flat": flat, "identified": identified})
    return pd.DataFrame(rows), notes


def _forecast(runs, obs, fit_periods) -> float:
    """Mean NRMSE of the replicates' mean on the held-out periods (NaN without either)."""
    if runs is None or fit_periods >= obs.shape[1]:
        return math.nan
    return float(obj.nrmse(runs.mean(axis=0)[:, fit_periods:], obs[:, fit_periods:]).mean())


def _series_table(columns, runs, obs, fit_periods):
    mean = runs.mean(axis=0)
    out = pd.DataFrame({"series": list(columns),
                        "nrmse_fit": obj.nrmse(mean[:, :fit_periods], obs[:, :fit_periods]),
                        "mape_fit": obj.mape(mean[:, :fit_periods], obs[:, :fit_periods])})
    if fit_periods < obs.shape[1]:
        out["nrmse_holdout"] = obj.nrmse(mean[:, fit_periods:], obs[:, fit_periods:])
        out["mape_holdout"] = obj.mape(mean[:, fit_periods:], obs[:, fit_periods:])
    return out
