"""A study: the candidates evaluated so far, their scores and their paired differences.

The scenario's own plan is evaluated first and is the reference of every paired difference
(candidate - own plan, per replicate seed, with a 95% t interval).
"""

from __future__ import annotations

import pandas as pd

from simulation.optimization.objectives import rank_key, score, summarize
from simulation.optimization.runs import Candidate, PairedRunner


class Study:
    """Evaluates candidates on the runner's seeds and keeps one row per candidate.

    Args:
        runner: the :class:`PairedRunner` (its seeds are the search replicates).
        objective: ``customers`` | ``profit`` | ``roas``.
        min_roas: the ROAS constraint, or None.
    """

    def __init__(self, runner: PairedRunner, objective: str, min_roas: float | None):
        self.runner = runner
        self.objective = objective
        self.min_roas = min_roas
        self.rows: list[dict] = []
        self.candidates: dict[str, Candidate] = {}
        self.metrics: dict[str, dict] = {}
        self.reference: str | None = None

    def evaluate(self, candidates: list[Candidate], stage: str) -> list[tuple[float, bool]]:
        """Run the candidates (paired); returns ``(mean objective, feasible)`` for each."""
        results = self.runner.evaluate(candidates)
        out = []
        for c, m in zip(candidates, results, strict=True):
            mean, feasible = score(m, self.objective, self.min_roas)
            if self.reference is None:
                self.reference = c.label
            if c.label not in self.candidates:
                ref = self.metrics.get(self.reference) if c.label != self.reference else None
                self.candidates[c.label] = c
                self.metrics[c.label] = m
                self.rows.append({"candidate": c.label, "stage": stage, **c.params,
                                  "objective": mean, "feasible": feasible,
                                  **summarize(m, ref)})
            out.append((mean, feasible))
        return out

    def best(self) -> Candidate:
        """The best candidate: feasible first, then the highest mean objective."""
        row = min(self.rows, key=lambda r: rank_key(r["objective"], r["feasible"]))
        return self.candidates[row["candidate"]]

    def table(self) -> pd.DataFrame:
        """One row per candidate, best first, with its rank."""
        df = pd.DataFrame(self.rows)
        order = sorted(range(len(df)), key=lambda i: rank_key(df["objective"].iloc[i],
                                                              df["feasible"].iloc[i]))
        df = df.iloc[order].reset_index(drop=True)
        df.insert(0, "rank", range(1, len(df) + 1))
        return df


def confirm(runner: PairedRunner, plans: list[Candidate], seeds: list[int], offset: int
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The plans re-run on fresh replicate seeds.

    Returns:
        (table, runs): ``table`` has one row per plan with every metric's mean and 95% interval
        and the paired difference against the first plan (the scenario's own); ``runs`` one row
        per plan and replicate (replicate numbers continue after the search's).
    """
    results = runner.evaluate(plans, seeds=seeds, replicate_offset=offset)
    rows, runs = [], []
    for c, m in zip(plans, results, strict=True):
        ref = results[0] if c is not plans[0] else None
        rows.append({"plan": c.label, **c.params, **summarize(m, ref)})
        for r, s in enumerate(seeds):
            runs.append({"plan": c.label, "replicate": offset + r, "seed": s,
                         **{k: float(v[r]) for k, v in m.items()}})
    return pd.DataFrame(rows), pd.DataFrame(runs)
