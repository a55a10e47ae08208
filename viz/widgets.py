"""Small widgets the page needs that Solara does not have: the network drawing, the upload box and a
slider that commits on release."""

from __future__ import annotations

from collections.abc import Callable

import reacton.ipyvuetify as rv
import solara


@solara.component_vue("network.vue")
def NetworkSvg(nodes_json: str, edges: str, stages: str, colours: list, selected: int = -1,
               event_node_click: Callable[[int], None] | None = None):
    """The sampled social graph as SVG in a 1000 x 1000 box. ``nodes_json`` is JSON ``[{id, x, y,
    influencer}]`` (not named ``layout``: ipywidgets owns that name) and ``edges`` one SVG path, both sent
    once; ``stages`` has one digit (the stage) per node and is all that changes from day to day. Strings,
    not lists: Solara diffs lists element by element on every redraw. Clicking a node calls
    ``event_node_click`` with its consumer id."""


@solara.component_vue("upload.vue")
def UploadBox(max_bytes: int, event_upload: Callable[[dict], None] | None = None):
    """A file input that reads a YAML file in the browser and sends ``{name, size, text}``; files over
    ``max_bytes`` are not read (``text`` is null) so the server can refuse them without receiving them."""


@solara.component
def CommitSlider(label: str, value: float, min: float, max: float, step: float,
                 on_commit: Callable[[float], None], integer: bool = False, css: str = ""):
    """A slider that calls ``on_commit`` when released, not on every pixel of a drag: each commit
    rebuilds a model, which takes a fraction of a second. (Key it by its value in the parent so a
    refused move snaps back.)"""
    shown, set_shown = solara.use_state(value)

    def commit(*args):
        data = args[-1] if args else shown
        if data is None:
            return
        new = int(round(float(data))) if integer else float(data)
        if new != value:
            on_commit(new)

    text = f"{shown:,.0f}" if integer else f"{shown:,g}"
    with solara.Column(gap="0px", classes=["funnel-lever", css]) as main:
        solara.Text(f"{label}: {text}", style={"font-size": "0.85em"})
        slider = rv.Slider(v_model=shown, on_v_model=set_shown, min=min, max=max, step=step,
                           thumb_label=True, hide_details=True, dense=True)
        rv.use_event(slider, "change", commit)
    return main
