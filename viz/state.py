"""One browser page's state: the recipe, the model, play/pause, the selected consumer, the baseline.

Every page gets its own :class:`Session` (made once per page by ``use_session``), holding Solara reactive
variables that belong to that page only, so two pages never share a model. Panels refresh through Mesa's
``update_counter`` (``force_update`` after each step), the convention of Mesa's own SolaraViz components.
"""

from __future__ import annotations

import threading
import time

import solara
from mesa.visualization.utils import force_update

from viz import config
from viz.journey import JourneyTrace
from viz.recipe import Base, Recipe, base_from_file, base_from_upload, describe_error, make_recipe
from viz.runner import ViewModel


class Session:
    """The state and actions of one page."""

    def __init__(self, start: str | None = None, limit: int | None = None):
        self.limit = config.max_audience() if limit is None else limit
        recipe, problem = self._first_recipe(start or config.initial_scenario())
        self.error = solara.reactive(problem)  # the message of the last refused input
        self.notice = solara.reactive(None)  # a neutral message (e.g. "baseline pinned")
        self.playing = solara.reactive(False)
        self.speed = solara.reactive(5.0)  # days per second while playing
        self.selected = solara.reactive(None)  # consumer id whose journey is shown
        self.journey = solara.reactive(None)  # its JourneyTrace (None: nobody picked, tracing off)
        self.baseline = solara.reactive(None)  # a finished ViewModel pinned for A/B compare
        self.builds = solara.reactive(1)  # models built so far (shown, so a rebuild is visible)
        self.recipe = solara.reactive(recipe)
        self.model = solara.reactive(ViewModel(recipe, limit=self.limit))

    def _first_recipe(self, start: str) -> tuple[Recipe, str | None]:
        try:
            return make_recipe(base_from_file(start), limit=self.limit), None
        except Exception as exc:  # a broken start file: open the flagship and say why
            return make_recipe(base_from_file(config.FLAGSHIP), limit=self.limit), describe_error(exc)

    def _build(self, recipe: Recipe) -> ViewModel:
        model = ViewModel(recipe, limit=self.limit)
        self.builds.value += 1
        return model

    # -- inputs ----------------------------------------------------------------------------------

    def use(self, recipe: Recipe) -> None:
        """Replace the model with one built from ``recipe`` (day 0)."""
        self.playing.value = False
        model = self._build(recipe)
        self.recipe.value = recipe
        self.model.value = model
        self.selected.value = None
        self.journey.value = None
        self.error.value = None
        force_update()

    def _try(self, make) -> bool:
        """Run ``make()`` (which returns a Recipe); on a refusal keep the current model and show why."""
        try:
            recipe = make()
            self.use(recipe)
            return True
        except Exception as exc:  # scenario errors and guards are shown, never raised into the page
            self.error.value = describe_error(exc)
            return False

    def choose(self, name: str) -> bool:
        """Open a built-in scenario."""
        return self._try(lambda: make_recipe(base_from_file(name), limit=self.limit))

    def upload(self, name: str, size: int, text: str | None) -> bool:
        """Open an uploaded scenario (refused over 1 MB, invalid, or above the audience limit)."""
        return self._try(lambda: make_recipe(base_from_upload(name, size, text), limit=self.limit))

    def move(self, key: str, value) -> bool:
        """Move one lever: validate and rebuild."""
        return self._try(lambda: self.recipe.value.with_lever(key, value, self.limit))

    def pick(self, consumer: int | None) -> bool:
        """Show ``consumer``'s journey (None: nobody). The live model traces that consumer from today on
        and the earlier days are replayed (viz/journey.py); with nobody picked, tracing is off."""
        model = self.model.value
        if consumer is None:
            with model.lock:
                model.trace([])
            self.journey.value = None
            self.selected.value = None
            return True
        if not 0 <= int(consumer) < model.graph.n:
            self.error.value = f"consumer id must be between 0 and {model.graph.n - 1:,}"
            return False
        current = self.journey.value
        if current is None or current.model is not model or current.consumer != int(consumer):
            self.journey.value = JourneyTrace(model, int(consumer))
        self.selected.value = int(consumer)
        self.error.value = None
        return True

    def base(self) -> Base:
        return self.recipe.value.base

    # -- running -----------------------------------------------------------------------------------

    def step(self) -> None:
        self.model.value.step()
        force_update()

    def reset(self) -> None:
        self.use(self.recipe.value)

    def run_to_end(self) -> None:
        self.playing.value = False
        self.model.value.run_to_end()
        force_update()

    def toggle_play(self) -> None:
        self.playing.value = not self.playing.value and self.model.value.running

    def play_loop(self, cancel: threading.Event) -> None:
        """Step at the chosen speed until paused, the model changes (``cancel``) or the run ends."""
        model = self.model.value
        while self.playing.value and model.running and not cancel.is_set():
            started = time.perf_counter()
            model.step()
            force_update()
            cancel.wait(max(0.0, 1.0 / max(self.speed.value, 0.1) - (time.perf_counter() - started)))
        if not cancel.is_set() and not model.running:
            self.playing.value = False

    # -- compare -----------------------------------------------------------------------------------

    def pin(self) -> None:
        """Pin the current recipe as the baseline: a separate model with the same recipe and seed,
        run to its end (so later days can be compared), leaving the current run where it is."""
        try:
            baseline = ViewModel(self.recipe.value, limit=self.limit)
            baseline.run_to_end()
        except Exception as exc:
            self.error.value = describe_error(exc)
            return
        self.baseline.value = baseline
        self.notice.value = f"Baseline pinned: {baseline.recipe.label}, seed {baseline.spec.seed}"

    def unpin(self) -> None:
        self.baseline.value = None
        self.notice.value = None


def use_session(start: str | None = None) -> Session:
    """This page's session (made on the page's first render)."""
    return solara.use_memo(lambda: Session(start), dependencies=[])
