"""The optimisation's files: plan.yaml, report.md, candidates.csv/.parquet, confirm.csv,
curves.csv, influencers.csv (seeding) and the figures. Each file is written whole to a temporary
file and renamed into place (:func:`simulation.experiments.storage.atomic_write`)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from simulation.experiments.storage import atomic_write  # noqa: E402
from simulation.optimization.plans import plan_yaml  # noqa: E402

UNITS = {"customers": "customers", "incremental_customers": "customers", "profit": "$",
         "roas": "revenue / spend", "revenue": "$", "spend": "$"}


def _fmt(x: float, spec: str = ",.4g") -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def _interval(row, m: str, diff: bool = False) -> str:
    k = f"{m}_diff" if diff else m
    mean, low, high = row.get(k), row.get(f"{k}_low"), row.get(f"{k}_high")
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return ""
    return f"{_fmt(mean)} [{_fmt(low)}, {_fmt(high)}]"


def curves_figure(opt):
    """Platforms: customers won by each line (paired against $0 on it) and profit against the
    line's daily budget, 95% bands; mix: against
    the share of sales posts; influencers: CELF's objective against the number of seeds."""
    c = opt.curves
    if opt.over == "platforms":
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for j, m in enumerate(("incremental_customers", "profit")):
            ax = axes[j]
            for line, g in c.groupby("line", sort=False):
                ax.plot(g["daily_budget"], g[m], marker="o", label=line)
                ax.fill_between(g["daily_budget"], g[f"{m}_low"], g[f"{m}_high"], alpha=0.2)
            ax.set_xlabel("daily budget of the line ($/day); other lines at the best plan")
            ax.set_ylabel(f"{m.replace('_', ' ')} ({UNITS[m]}, whole run)")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("customers won by the line (vs $0 on it, paired)")
        axes[0].legend(fontsize=8)
        fig.suptitle(f"{opt.scenario}: response curves ({opt.reps} paired replicates, 95% bands)")
    elif opt.over == "mix":
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for j, m in enumerate(("customers", "profit")):
            ax = axes[j]
            ax.plot(c["share_action"], c[m], marker="o")
            ax.fill_between(c["share_action"], c[f"{m}_low"], c[f"{m}_high"], alpha=0.2)
            ax.set_xlabel("share of organic posts that sell (purpose: action)")
            ax.set_ylabel(f"{m} ({UNITS[m]}, whole run)")
            ax.grid(alpha=0.3)
        fig.suptitle(f"{opt.scenario}: value/sales mix ({opt.reps} paired replicates)")
    else:
        fig, ax = plt.subplots(figsize=(6, 4))
        col = [x for x in c.columns if x != "seeds"][0]
        ax.plot(c["seeds"], c[col], marker="o", label="CELF greedy")
        metric = col.removesuffix("_mean")
        if "method" in opt.candidates.columns and metric in opt.candidates.columns:
            k = int(c["seeds"].max())
            for j, (_, r) in enumerate(opt.candidates.dropna(subset=["method"]).iterrows()):
                if r["method"] != "celf":
                    ax.scatter([k], [r[metric]], marker="_^sDv"[j % 5], s=60, zorder=3,
                               label=f"{r['method']} ({k} seeds)")
        ax.legend(fontsize=8)
        ax.set_xlabel("influencers seeded")
        ax.set_ylabel(col.replace("_mean", "") + " (mean over search replicates)")
        ax.grid(alpha=0.3)
        fig.suptitle(f"{opt.scenario}: CELF greedy seeding curve")
    fig.tight_layout()
    return fig


def confirm_figure(opt):
    """Each confirmed plan's objective with its 95% interval, and its paired difference against
    the scenario's own plan."""
    t = opt.confirm
    m = opt.objective
    fig, axes = plt.subplots(1, 2, figsize=(10, 1.2 + 0.6 * len(t)))
    y = list(range(len(t)))[::-1]
    axes[0].errorbar(t[m], y, xerr=[t[m] - t[f"{m}_low"], t[f"{m}_high"] - t[m]], fmt="o",
                     capsize=3)
    axes[0].set_yticks(y, t["plan"], fontsize=8)
    axes[0].set_title(f"{m} ({UNITS[m]})", fontsize=10)
    d = t.iloc[1:]
    if len(d):
        axes[1].errorbar(d[f"{m}_diff"], y[1:], xerr=[d[f"{m}_diff"] - d[f"{m}_diff_low"],
                                                      d[f"{m}_diff_high"] - d[f"{m}_diff"]],
                         fmt="s", color="C1", capsize=3)
    axes[1].axvline(0, color="grey", lw=0.8)
    axes[1].set_yticks(y, [""] * len(y))
    axes[1].set_title(f"{m}: plan - own plan (paired, fresh seeds)", fontsize=10)
    for ax in axes:
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def report_markdown(opt) -> str:
    m = opt.objective
    lines = [f"# Optimisation of {opt.scenario}: {m} over {opt.over}", ""]
    budget = (f"total daily budget of the paid and retargeting lines ${opt.budget:,.2f}/day"
              if opt.budget is not None else "budgets as in the scenario")
    lines += [f"- objective: **{m}** ({UNITS[m]}, whole run of {opt.days} days, mean over "
              f"replicates); {budget}" + (f"; plans with mean ROAS < {opt.min_roas:g} are "
                                          "infeasible" if opt.min_roas is not None else ""),
              f"- audience {opt.audience:,}; {opt.reps} paired replicates per candidate (common "
              f"random numbers, base seed {opt.seed}); the final check re-runs the plans on "
              f"{opt.reps} fresh replicates; {opt.runs} runs in all", ""]
    lines += ["## Best plan", "", f"**{opt.best}**", ""]
    lines += [f"- {n}" for n in opt.notes] + [""]
    lo = opt.improvement()
    lines += [f"Improvement in {m} over the scenario's own plan (paired, fresh replicates): "
              f"**{_fmt(lo[0])}** [95% interval {_fmt(lo[1])}, {_fmt(lo[2])}]: {opt.verdict()}.", ""]
    lines += ["## Final check (fresh replicates)", "",
              "| plan | customers | profit ($) | ROAS | spend ($) | "
              f"{m}: plan - own (paired) |", "| --- | --- | --- | --- | --- | --- |"]
    for _, r in opt.confirm.iterrows():
        lines.append(f"| {r['plan']} | {_interval(r, 'customers')} | {_interval(r, 'profit')} | "
                     f"{_interval(r, 'roas')} | {_interval(r, 'spend')} | "
                     f"{_interval(r, m, diff=True)} |")
    lines += ["", "![final check](confirm.png)", "", "## Response curves", "",
              "![curves](curves.png)", ""]
    lines += _curves_table(opt) + [""]
    lines += ["## Search", "", f"{len(opt.candidates)} candidates (top 15; all in "
              "candidates.csv). `diff` = candidate - own plan, paired on the search replicates.",
              "", f"| rank | candidate | stage | {m} | feasible | {m} diff |",
              "| --- | --- | --- | --- | --- | --- |"]
    for _, r in opt.candidates.head(15).iterrows():
        lines.append(f"| {r['rank']} | {r['candidate']} | {r['stage']} | {_fmt(r['objective'])}"
                     f" | {'yes' if r['feasible'] else 'no'} | "
                     f"{_interval(r, m, diff=True)} |")
    if opt.seed_ids:
        lines += ["", "## Seeded consumers", ""]
        lines += [f"- {k}: {v}" for k, v in opt.seed_ids.items()]
    if opt.errors:
        lines += ["", f"{len(opt.errors)} run(s) failed; first: {opt.errors[0]}"]
    return "\n".join(lines) + "\n"


def _curves_table(opt) -> list[str]:
    c = opt.curves
    if opt.over == "platforms":
        out = ["| line | daily budget ($/day) | spend ($, run) | customers | incremental "
               "customers (vs $0) | profit ($) |", "| --- | --- | --- | --- | --- | --- |"]
        for _, r in c.iterrows():
            out.append(f"| {r['line']} | {r['daily_budget']:,.2f} | {_fmt(r['spend'])} | "
                       f"{_interval(r, 'customers')} | {_interval(r, 'incremental_customers')} | "
                       f"{_interval(r, 'profit')} |")
        return out
    if opt.over == "mix":
        out = ["| sales share | customers | profit ($) |", "| --- | --- | --- |"]
        for _, r in c.iterrows():
            out.append(f"| {r['share_action']:.0%} | {_interval(r, 'customers')} | "
                       f"{_interval(r, 'profit')} |")
        return out
    return ["```", c.to_string(index=False), "```"]


def write_outputs(opt, folder: Path) -> list[Path]:
    """Write every file of an :class:`~simulation.optimization.api.Optimization`.

    Everything is rendered first (texts, tables, figures as PNG bytes); only then is the folder
    created and each file written atomically, so a failure while rendering writes nothing."""
    import io

    header = "\n".join([f"{opt.scenario} with the best plan of: funnelsim optimize --objective "
                        f"{opt.objective} --over {opt.over}" +
                        (f" --budget {opt.budget:g}" if opt.budget is not None else ""),
                        f"best: {opt.best}", *opt.notes])
    files: list[tuple[str, object]] = [
        ("plan.yaml", plan_yaml(opt.plan, header)),
        ("report.md", report_markdown(opt)),
        ("candidates.csv", opt.candidates.to_csv(index=False)),
        ("candidates.parquet", opt.candidates.to_parquet(index=False)),
        ("confirm.csv", opt.confirm.to_csv(index=False)),
        ("confirm_runs.csv", opt.confirm_runs.to_csv(index=False)),
        ("curves.csv", opt.curves.to_csv(index=False)),
    ]
    if opt.seed_ids:
        rows = [{"method": k, "consumer": i} for k, v in opt.seed_ids.items() for i in v]
        files.append(("influencers.csv", pd.DataFrame(rows).to_csv(index=False)))
    for name, make in (("curves.png", curves_figure), ("confirm.png", confirm_figure)):
        fig = make(opt)
        buf = io.BytesIO()
        fig.savefig(buf, dpi=110, format="png")
        plt.close(fig)
        files.append((name, buf.getvalue()))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, payload in files:
        data = payload.encode() if isinstance(payload, str) else payload
        atomic_write(folder / name, lambda p, data=data: p.write_bytes(data))
        written.append(folder / name)
    return written
