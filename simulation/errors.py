"""User-facing errors: one clear message naming the file, key path, value, expectation and a fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a user's input."""

    path: str  # dotted key path, e.g. "strategy.paid.0.daily_budget"; "" for the whole file
    message: str  # what is wrong and what was expected
    value: object = None
    suggestion: str = ""

    def render(self) -> str:
        where = f"{self.path}: " if self.path else ""
        value = "" if self.value is None else f" (got {_short(self.value)})"
        hint = f"\n    hint: {self.suggestion}" if self.suggestion else ""
        return f"  {where}{self.message}{value}{hint}"


class FunnelsimError(Exception):
    """An error in the user's input. The CLI prints it and exits with code 2."""

    def __init__(self, source: str, problems: Iterable[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        self.source = source
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = self.problems[:8]
        more = len(self.problems) - len(shown)
        lines = [f"{self.source}: {len(self.problems)} problem(s)"] if len(self.problems) > 1 else []
        if len(self.problems) == 1:
            return f"{self.source}: {shown[0].render().strip()}"
        lines += [p.render() for p in shown]
        if more:
            lines.append(f"  ... and {more} more")
        return "\n".join(lines)


class ScenarioError(FunnelsimError):
    """A scenario file (or dict, or override) that cannot be loaded."""


def nearest(word: str, choices: Iterable[str]) -> str:
    """A 'did you mean' suggestion, or an empty string."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.5)
    if close:
        return f"did you mean '{close[0]}'?"
    if len(choices) <= 20:
        return "valid: " + ", ".join(choices)
    return ""


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
