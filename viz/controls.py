"""The sidebar: scenario choice and upload, run controls, levers, compare and export."""

from __future__ import annotations

import solara
from mesa.visualization.utils import update_counter

from viz import config
from viz.panels import ExportPanel
from viz.recipe import builtin_scenarios, lever_specs, lever_values
from viz.state import Session
from viz.widgets import CommitSlider, UploadBox


@solara.component
def ScenarioCard(session: Session):
    recipe = session.recipe.value
    names = builtin_scenarios()
    current = recipe.label if recipe.label in names else None
    with solara.Card("Scenario", margin=0, classes=["card-scenario"]):
        solara.Select("Built-in scenario", values=names, value=current,
                      on_value=lambda name: name and session.choose(name), classes=["scenario-select"])
        UploadBox(max_bytes=config.MAX_UPLOAD_BYTES,
                  event_upload=lambda d: session.upload(str(d.get("name", "upload.yaml")),
                                                        int(d.get("size") or 0), d.get("text")))
        solara.Text(f"Open: {recipe.label}", style={"font-size": "0.8em", "color": "#555"},
                    classes=["scenario-label"])


@solara.component
def RunCard(session: Session):
    update_counter.get()
    model = session.model.value
    playing = session.playing.value
    # The play loop lives as long as (playing, this model): a new model or a pause cancels it. Not
    # "intrusive": interrupting a step halfway would leave the model inconsistent.
    solara.use_thread(session.play_loop, dependencies=[playing, id(model)], intrusive_cancel=False)
    with solara.Card("Run", margin=0, classes=["card-run"]):
        solara.Text(f"Day {model.day} of {model.spec.days}", classes=["run-day"],
                    style={"font-weight": "600"})
        with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
            solara.Button("Step", on_click=session.step, disabled=playing or not model.running,
                          color="primary", classes=["btn-step"])
            solara.Button("Pause" if playing else "Play", on_click=session.toggle_play,
                          disabled=not model.running and not playing, color="primary", classes=["btn-play"])
            solara.Button("Reset", on_click=session.reset, classes=["btn-reset"])
            solara.Button("Run to end", on_click=session.run_to_end, disabled=not model.running,
                          classes=["btn-end"])
        solara.SliderFloat("Speed (days per second)", value=session.speed, min=0.5, max=30, step=0.5)


@solara.component
def LeverCard(session: Session):
    recipe = session.recipe.value
    values = lever_values(recipe)
    with solara.Card("Levers", subtitle="each change rebuilds the model", margin=0, classes=["card-levers"]):
        for lever in lever_specs(recipe, session.limit):
            value = values.get(lever.key)
            css = "lever-" + lever.key.replace(".", "-")

            def commit(new, key=lever.key):
                session.move(key, new)

            if lever.kind == "bool":
                with solara.Row(classes=[css]):
                    solara.Checkbox(label=lever.label, value=bool(value), on_value=commit)
            elif lever.kind == "select":
                solara.Select(lever.label, values=list(lever.options), value=value, on_value=commit,
                              classes=[css])
            elif lever.key in ("audience.size", "seed"):
                # typed, not slid: exact values matter, and a typed audience above the limit must be
                # refused with a message rather than silently clamped by a slider
                solara.InputInt(lever.label, value=int(value), on_value=commit, classes=[css]).key(
                    f"{lever.key}-{value}")
            else:
                CommitSlider(lever.label, value=value, min=lever.min, max=max(lever.max, value),
                             step=lever.step, on_commit=commit, integer=lever.kind == "int",
                             css=css).key(f"{lever.key}-{value}")


@solara.component
def CompareCard(session: Session):
    baseline = session.baseline.value
    with solara.Card("A/B compare", margin=0, classes=["card-compare"]):
        with solara.Row(gap="4px"):
            solara.Button("Pin baseline", on_click=session.pin, color="secondary", classes=["btn-pin"])
            solara.Button("Clear", on_click=session.unpin, disabled=baseline is None, classes=["btn-unpin"])
        if baseline is not None:
            solara.Text(f"Baseline: {baseline.recipe.label}, seed {baseline.spec.seed}",
                        style={"font-size": "0.8em"})


@solara.component
def ExportCard(session: Session):
    with solara.Card("Export", margin=0, classes=["card-export"]):
        ExportPanel(session)
