"""The funnelsim web view (Solara). Serve it with ``funnelsim view [SCENARIO]`` or ``make view``.

The page imports the engine; the engine never imports the page. Each browser page has its own
:class:`~viz.state.Session`. ``?scenario=NAME`` in the address opens a built-in scenario.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import solara
from mesa.visualization.utils import update_counter

from viz.controls import CompareCard, ExportCard, LeverCard, RunCard, ScenarioCard
from viz.panels import (
    ComparePanel,
    FunnelPanel,
    JourneyPanel,
    KpiCards,
    NetworkPanel,
    PlatformPanel,
    StagePanel,
)
from viz.recipe import builtin_scenarios
from viz.state import use_session


@solara.component
def StatusLine(session):
    """What is running: scenario, audience, day, seed, and how many models this page has built."""
    update_counter.get()
    model = session.model.value
    spec = model.spec
    solara.Text(f"{spec.name}: {model.graph.n:,} consumers, day {model.day} of {spec.days}, "
                f"seed {spec.seed}, model #{session.builds.value}", classes=["funnel-status"])


@solara.component
def Page():
    router = solara.use_router()
    wanted = parse_qs((router.search or "").lstrip("?")).get("scenario", [None])[0]
    session = use_session(wanted if wanted in builtin_scenarios() else None)
    solara.Title(f"funnelsim: {session.recipe.value.label}")
    with solara.AppBar():
        solara.AppBarTitle(f"funnelsim  ·  {session.recipe.value.label}")
    with solara.Sidebar():
        with solara.Column(gap="10px"):
            ScenarioCard(session)
            RunCard(session)
            LeverCard(session)
            CompareCard(session)
            ExportCard(session)
    with solara.Column(gap="12px", style={"padding": "4px 8px"}):
        if session.error.value:
            solara.Error(session.error.value, classes=["funnel-error"], style={"white-space": "pre-wrap"})
        if session.notice.value:
            solara.Info(session.notice.value, classes=["funnel-notice"])
        StatusLine(session)
        KpiCards(session)
        with solara.Columns([1, 1]):
            StagePanel(session)
            FunnelPanel(session)
        PlatformPanel(session)
        with solara.Columns([1, 1]):
            NetworkPanel(session)
            JourneyPanel(session)
        ComparePanel(session)
