"""Limits and defaults of the web view, in one place.

The audience limit can be raised by whoever starts the server (``funnelsim view --max-audience`` or the
``FUNNELSIM_VIEW_MAX_AUDIENCE`` environment variable), never from the page itself: a page visitor must not
be able to make the server build a graph of millions of nodes.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Largest audience the page will build (consumers).
DEFAULT_MAX_AUDIENCE = 200_000
#: Largest scenario file accepted by the upload box (bytes).
MAX_UPLOAD_BYTES = 1_000_000
#: Nodes drawn in the network panel (a connected sample of the social graph).
SAMPLE_NODES = 1_000
#: The folder of built-in scenarios (listed afresh each time: others add files while the server runs).
SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"
#: The scenario a new page opens with.
FLAGSHIP = "product_launch"

ENV_MAX_AUDIENCE = "FUNNELSIM_VIEW_MAX_AUDIENCE"
ENV_SCENARIO = "FUNNELSIM_VIEW_SCENARIO"


def max_audience() -> int:
    """The configured audience limit (environment variable, else the default)."""
    raw = os.environ.get(ENV_MAX_AUDIENCE, "")
    try:
        value = int(raw)
    except ValueError:
        return DEFAULT_MAX_AUDIENCE
    return value if value > 0 else DEFAULT_MAX_AUDIENCE


def initial_scenario() -> str:
    """The scenario (a built-in name or a file path) the server was started with."""
    return os.environ.get(ENV_SCENARIO) or FLAGSHIP
