"""The page's output panels: KPI cards, stage chart, funnel, platforms, network, journey, compare, export.

Each panel reads Mesa's ``update_counter`` so it redraws after a step (a plain ``@solara.component`` is
not refreshed otherwise), and memoises its drawing on (model, day), so clicking a node or moving the
speed slider does not redraw the charts.
"""

from __future__ import annotations

import html
import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import solara
from mesa.visualization.utils import update_counter

from viz.journey import display_table, shown_rows
from viz.kpis import KPIS, difference, fmt, kpis_at, stages_at
from viz.plots import (
    NODE_COLOURS,
    STAGE_COLOURS_BY_NAME,
    compare_figure,
    funnel_figure,
    platform_figure,
    stage_svg,
)
from viz.recipe import lever_values
from viz.sample import sample_for
from viz.state import Session
from viz.widgets import NetworkSvg

STAGE_NAMES = list(STAGE_COLOURS_BY_NAME)
CARD_STYLE = {"padding": "8px 12px", "border-radius": "6px", "background": "#f5f7fa",
              "min-width": "120px", "flex": "1 1 120px"}


def _key(model) -> list:
    """Memo key of a drawing: which model, which day."""
    return [id(model), model.day]


def current_kpis(model) -> dict:
    ts, _ = model.tables()
    return kpis_at(ts, model.day, model.initial_trust)


@solara.component
def KpiCards(session: Session):
    update_counter.get()
    model = session.model.value
    values = current_kpis(model)
    with solara.Row(gap="8px", style={"flex-wrap": "wrap"}, classes=["funnel-kpis"]):
        for kpi in KPIS:
            with solara.Column(gap="0px", style=CARD_STYLE, classes=["kpi", f"kpi-{kpi.key}"]):
                solara.Text(kpi.label, style={"font-size": "0.8em", "color": "#555"})
                solara.Text(fmt(values[kpi.key], kpi.fmt),
                            style={"font-size": "1.35em", "font-weight": "600"})


@solara.component
def StagePanel(session: Session):
    """Consumers per stage over time, from the model's Mesa DataCollector, drawn as SVG: Mesa's
    PlotMatplotlib encoded a PNG per step (about 0.3 s of the server's time, 90% of a redraw), which
    capped the server at a few steps a second for all sessions together (docs/web.md, "Under load")."""
    update_counter.get()
    model = session.model.value
    ts, _ = model.tables()
    with solara.Card("Consumers per stage over time", classes=["panel-stages"]):
        solara.HTML(tag="div", unsafe_innerHTML=stage_svg(ts, model.spec.days, model.graph.n),
                    classes=["stage-chart"])


@solara.component
def FunnelPanel(session: Session):
    """The drop-off funnel now: consumers at or beyond each stage and the share kept at each step.
    Drawn as HTML bars, not a chart image: it redraws every day and must be cheap."""
    update_counter.get()
    model = session.model.value
    n = model.graph.n
    counts = np.bincount(model.state.stage.astype(np.int64), minlength=len(STAGE_NAMES))
    beyond = np.cumsum(counts[::-1])[::-1]  # consumers at or beyond each stage
    rows = []
    for k in range(1, len(STAGE_NAMES)):
        prev = n if k == 1 else int(beyond[k - 1])
        share = f"{100 * beyond[k] / prev:.1f}% of {'audience' if k == 1 else STAGE_NAMES[k - 1]}" \
            if prev else ""
        rows.append((STAGE_NAMES[k].capitalize(), int(beyond[k]), share, NODE_COLOURS[k]))
    top = max(max(r[1] for r in rows), 1)
    subtitle = ("consumers at or beyond each stage (aware: stopped on brand content at least once; "
                "the Reach card counts everyone shown it)")
    with solara.Card("Drop-off funnel", subtitle=subtitle, classes=["panel-funnel"]):
        solara.HTML(tag="div", unsafe_innerHTML=html_bars(rows, top), classes=["funnel-bars"])


def html_bars(rows: list[tuple[str, float, str, str]], top: float, money: bool = False) -> str:
    """Horizontal bars as HTML: (label, value, note, colour) per row, scaled to ``top``."""
    out = ['<table style="width:100%;border-collapse:collapse;font-size:12px">']
    for label, value, note, colour in rows:
        width = 100 * max(value, 0) / top if top else 0
        shown = f"${value:,.0f}" if money else f"{value:,.0f}"
        out.append(
            f'<tr><td style="width:6.5em;padding:3px 6px">{html.escape(label)}</td><td>'
            f'<div style="display:flex;align-items:center;gap:6px"><div style="background:{colour};'
            f'height:16px;width:{width:.2f}%;min-width:1px"></div><span style="white-space:nowrap">'
            f'{shown} <span style="color:#777">{html.escape(note)}</span></span></div></td></tr>')
    out.append("</table>")
    return "".join(out)


PLATFORM_COLUMNS = ["platform", "impressions", "reach", "engagements", "clicks", "new_customers", "spend",
                    "revenue"]


@solara.component
def PlatformPanel(session: Session):
    update_counter.get()
    model = session.model.value
    _, table = model.tables()
    shown = table[PLATFORM_COLUMNS].copy()
    spend = shown["spend"].to_numpy(dtype=float)
    revenue = shown["revenue"].to_numpy(dtype=float)
    shown["ROAS"] = np.where(spend > 0, revenue / np.maximum(spend, 1e-12), np.nan)
    top = max(float(spend.max(initial=0)), float(revenue.max(initial=0)), 1.0)
    bars = []
    for row in shown.itertuples(index=False):
        bars.append((f"{row.platform} spend", row.spend, "", "#de2d26"))
        bars.append((f"{row.platform} revenue", row.revenue, "", "#31a354"))
    with solara.Card("Per platform", subtitle="revenue by the platform of the purchase",
                     classes=["panel-platforms"]):
        with solara.Columns([3, 2]):
            solara.HTML(tag="div", unsafe_innerHTML=html_table(shown, money=("spend", "revenue")),
                        classes=["platform-table"], style={"overflow-x": "auto"})
            solara.HTML(tag="div", unsafe_innerHTML=html_bars(bars, top, money=True),
                        classes=["platform-bars"])


def html_table(df: pd.DataFrame, money: tuple = (), css: str = "funnel-table") -> str:
    """A compact HTML table (numbers right-aligned, values escaped)."""
    def cell(col, value):
        if isinstance(value, str):
            return html.escape(value)
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "n/a"
        if col in money:
            return f"${value:,.0f}"
        if isinstance(value, float | np.floating) and not float(value).is_integer():
            return f"{value:,.2f}"
        return f"{value:,.0f}"

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(c, v)}</td>" for c, v in zip(df.columns, row, strict=True))
                   + "</tr>" for row in df.itertuples(index=False))
    style = ("<style>.funnel-table{border-collapse:collapse;font-size:12px;width:100%}"
             ".funnel-table td,.funnel-table th{padding:2px 6px;border-bottom:1px solid #eee;"
             "text-align:right}"
             ".funnel-table td:first-child,.funnel-table th:first-child{text-align:left}</style>")
    return f'{style}<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


@solara.component
def NetworkPanel(session: Session):
    update_counter.get()
    model = session.model.value
    sample = solara.use_memo(lambda: sample_for(model), dependencies=[id(model)])
    static = solara.use_memo(lambda: _static_drawing(sample, model), dependencies=[id(model)])
    stages = (model.state.stage[sample.ids].astype(np.uint8) + ord("0")).tobytes().decode("ascii")
    selected = session.selected.value
    with solara.Card(f"Social network: a sample of {sample.ids.shape[0]:,} of {model.graph.n:,} consumers",
                     classes=["panel-network"]):
        legend = " ".join(f'<span style="color:{c}">&#9679;</span> {html.escape(s)}'
                          for s, c in zip(STAGE_COLOURS_BY_NAME, NODE_COLOURS, strict=True))
        solara.HTML(tag="div", unsafe_innerHTML=legend + " &nbsp; (ringed: influencer; click a node for its "
                    "journey)", style={"font-size": "0.8em"})
        NetworkSvg(nodes_json=static["layout"], edges=static["edges"], stages=stages,
                   colours=NODE_COLOURS,
                   selected=-1 if selected is None else int(selected),
                   event_node_click=lambda node: session.pick(int(node)))


def _static_drawing(sample, model) -> dict:
    """The parts of the drawing that do not change while the model runs (sent to the browser once)."""
    xy = np.round(sample.xy * 1000).astype(int)
    edges = "".join(f"M{xy[a, 0]} {xy[a, 1]}L{xy[b, 0]} {xy[b, 1]}" for a, b in zip(sample.u, sample.v,
                                                                                  strict=True))
    influencer = model.state.influencer[sample.ids]
    layout = [{"id": int(i), "x": int(x), "y": int(y), "influencer": bool(f)}
              for i, (x, y), f in zip(sample.ids, xy, influencer, strict=True)]
    return {"layout": json.dumps(layout, separators=(",", ":")), "edges": edges}


@solara.component
def JourneyPanel(session: Session):
    """The picked consumer's journey: the engine's journal (``funnelsim trace``), the days before the
    pick replayed in the background (viz/journey.py)."""
    update_counter.get()
    model = session.model.value
    trace = session.journey.value
    impressions, set_impressions = solara.use_state(False)
    # Replays days 1..D once per pick; not "intrusive": the replay checks ``cancel`` between days.
    solara.use_thread(lambda cancel: trace.replay(cancel) if trace is not None else None,
                      dependencies=[id(trace)], intrusive_cancel=False)
    live = trace is not None and trace.model is model
    ready = live and trace.ready
    table = solara.use_memo(lambda: trace.table() if live else None,
                            dependencies=[id(trace), model.day, ready])

    def pick(value):
        session.pick(None if value is None else int(value))

    with solara.Card("Consumer journey", classes=["panel-journey"]):
        solara.InputInt("Consumer id (or click a node)", value=session.selected.value, on_value=pick,
                        optional=True, classes=["journey-input"])
        if not live:
            solara.Text("Pick a consumer to see every touch (source, platform, content purpose), stage "
                        "change and purchase, day by day (the journal of funnelsim trace).")
            return
        i = trace.consumer
        d = trace.from_day
        who = trace.summary() + (", influencer" if model.state.influencer[i] else "")
        with solara.Column(gap="2px"):
            solara.Text(f"Journey of consumer {i}", classes=["journey-title"], style={"font-weight": "600"})
            solara.Text(who, style={"font-size": "0.85em"})
            if not ready:
                solara.Text(f"Replaying days 1-{d} (the same scenario and seed) ...",
                            classes=["journey-replaying"], style={"font-size": "0.85em"})
                solara.ProgressLinear(True)
            else:
                live_note = "the run is over" if d >= model.spec.days else f"traced live from day {d + 1}"
                solara.Text((f"Days 1-{d} replayed, " if d else "") + live_note + ".",
                            classes=["journey-ready"], style={"font-size": "0.8em", "color": "#555"})
        solara.Checkbox(label="also impressions that did not stop the scroll", value=impressions,
                        on_value=set_impressions)
        rows = shown_rows(table, impressions)
        if not len(rows):
            solara.Text(f"Nothing has happened to consumer {i} yet (day {model.day}).",
                        classes=["journey-empty"])
        else:
            shown = html_table(display_table(rows), css="funnel-table journey-table")
            solara.HTML(tag="div", unsafe_innerHTML=shown, style={"max-height": "360px", "overflow": "auto"},
                        classes=["journey-rows", "with-impressions" if impressions else "touches-only"])
        if ready:
            with solara.Row(gap="8px", classes=["journey-export"]):
                solara.FileDownload(trace.to_csv, filename=f"journey-{i}.csv", label=f"journey-{i}.csv")
                solara.FileDownload(trace.to_json, filename=f"journey-{i}.json", label=f"journey-{i}.json")


@solara.component
def ComparePanel(session: Session):
    update_counter.get()
    model, baseline = session.model.value, session.baseline.value
    with solara.Card("A/B compare", classes=["panel-compare"]):
        if baseline is None:
            solara.Text("Pin the current run as the baseline (sidebar), move levers, then step or run: both "
                        "runs are shown here side by side at the same day.")
            return
        CompareBody(model, baseline)


@solara.component
def CompareBody(model, baseline):
    """Both runs at the same day: key figures with differences, what changed, and the curves."""
    update_counter.get()
    day = min(model.day, baseline.day)
    base_ts, cur_ts = baseline.tables()[0], model.tables()[0]
    fig = solara.use_memo(lambda: compare_figure(base_ts, cur_ts, day),
                          dependencies=[id(baseline), id(model), day])
    kb = kpis_at(base_ts, day, baseline.initial_trust)
    kc = kpis_at(cur_ts, day, model.initial_trust)
    rows = [{"metric": k.label, "baseline": fmt(kb[k.key], k.fmt), "current": fmt(kc[k.key], k.fmt),
             "difference": difference(kb[k.key], kc[k.key], k.fmt)} for k in KPIS]
    # Text, not Markdown: Solara's Markdown fetches KaTeX from a CDN, which is not there offline.
    solara.Text(f"Compared at day {day} (the current run's day; the baseline ran all {baseline.day} days). "
                f"Baseline: {baseline.recipe.label}, current: {model.recipe.label}.", classes=["compare-day"])
    if baseline.spec.seed != model.spec.seed:
        solara.Warning("The seeds differ, so part of the difference is chance, not strategy.")
    changed = lever_changes(baseline, model)
    solara.Text("Changed: " + ("; ".join(changed) if changed else "nothing yet (move a lever)"),
                classes=["compare-changes"])
    with solara.Columns([2, 3]):
        table = html_table(pd.DataFrame(rows), css="funnel-table compare-table")
        solara.HTML(tag="div", unsafe_innerHTML=table)
        solara.FigureMatplotlib(fig, dependencies=[id(baseline), id(model), day], format="png")


def lever_changes(baseline, model) -> list[str]:
    """Levers whose value differs between the baseline and the current recipe."""
    if baseline.recipe.base is not model.recipe.base:
        return [f"scenario {baseline.recipe.label} -> {model.recipe.label}"]
    before, after = lever_values(baseline.recipe), lever_values(model.recipe)
    return [f"{key} {before.get(key)} -> {value}" for key, value in after.items() if before.get(key) != value]


@solara.component
def ExportPanel(session: Session):
    update_counter.get()
    model = session.model.value
    picked = session.journey.value

    def journey():  # zipped if its replay is done by the time of the click
        return picked if picked is not None and picked.model is model and picked.ready else None

    name = model.spec.name
    with solara.Column(gap="4px", classes=["panel-export"]):
        solara.Text(f"Day {model.day}: the run so far", style={"font-size": "0.85em"})
        for filename, make in [("timeseries.csv", lambda: model.result().timeseries.to_csv(index=False)),
                               ("platforms.csv", lambda: model.result().platforms.to_csv(index=False)),
                               ("summary.json", lambda: json.dumps(model.result().summary, indent=2)),
                               ("funnel.png", lambda: _png(model.result().plot())),
                               ("scenario.yaml", lambda: model.recipe.to_yaml()),
                               (f"{name}-day{model.day}.zip", lambda: export_zip(model, journey()))]:
            solara.FileDownload(make, filename=filename, label=filename)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def export_zip(model, journey=None) -> bytes:
    """Everything: the CLI's output files (summary, CSVs, funnel.png), the page's charts, the edited
    scenario and, when a consumer is picked, their journey (CSV and JSON), zipped."""
    from simulation.cli import write_outputs

    result = model.result()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_outputs(result, folder)
        (folder / "scenario.yaml").write_text(model.recipe.to_yaml())
        if journey is not None:
            (folder / f"journey-{journey.consumer}.csv").write_text(journey.to_csv())
            (folder / f"journey-{journey.consumer}.json").write_text(journey.to_json())
        stages = stages_at(result.timeseries, model.day) or {"unaware": model.graph.n}
        funnel_figure(stages, model.graph.n).savefig(folder / "dropoff.png", dpi=110)
        platform_figure(result.platforms).savefig(folder / "platforms.png", dpi=110)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.iterdir()):
                zf.write(path, path.name)
    return buf.getvalue()
