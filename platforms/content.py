"""The vocabulary of content: formats, hooks and purposes.

A post or ad has a format (how it looks), a hook (which stop-scroll trigger it pulls) and a
purpose (which job in the funnel it does). Source: [B] "What is SMM in Digital Marketing".
"""

from enum import IntEnum


class Format(IntEnum):
    """How a piece of content looks."""

    SHORT_VIDEO = 0
    IMAGE = 1
    CAROUSEL = 2
    LONG_VIDEO = 3
    TEXT = 4
    PIN = 5
    ANSWER = 6
    STORY = 7
    MESSAGE = 8


class Hook(IntEnum):
    """The three stop-scroll triggers of [B]."""

    RECOGNITION = 0  # a situation the viewer recognises
    RESULT = 1  # a result the viewer wants (before/after)
    CURIOSITY = 2  # a gap in information


class Purpose(IntEnum):
    """Every post has one job [B]: attract attention, build trust, or move toward action."""

    ATTENTION = 0
    TRUST = 1
    ACTION = 2


def names(enum: type[IntEnum]) -> list[str]:
    """Lower-case member names, as they are spelt in scenario files."""
    return [m.name.lower() for m in enum]
