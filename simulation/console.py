"""The command line's consoles and its one way to report a user's mistake."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

out_console = Console()
err_console = Console(stderr=True)


def fail(error: Exception) -> NoReturn:
    """Print ``error: <message>`` verbatim on stderr (no markup, highlighting or emoji: a path or
    value in the message is shown as the user wrote it) and exit with code 2."""
    err_console.print(f"error: {error}", markup=False, highlight=False, emoji=False, soft_wrap=True)
    raise typer.Exit(code=2)
