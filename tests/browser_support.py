"""Helpers of the browser tests: a real web-view server on a free port and headless Debian Chromium.

The server is ``python -m viz.server`` in its own process, bound to 127.0.0.1, stopped (and killed if
it does not stop) when the tests end. Every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
#: The first Step of a fresh server may wait for numba to compile the kernels (about half a minute, more
#: on a busy machine); later waits are short.
FIRST_STEP_MS = 240_000
WAIT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A web-view server process on 127.0.0.1."""

    def __init__(self, *args: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = ARTIFACTS / f"server-{self.port}.log"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self._out = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "viz.server", *args, "--port", str(self.port)], cwd=ROOT,
            stdout=self._out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
            start_new_session=True)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"server not ready in {timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        self._out.close()


def shot(page, name: str) -> None:
    """Save a screenshot for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_page(browser, url: str, external: list | None = None):
    """A new page (its own browser context, so its own Solara session) with the app loaded."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    if external is not None:
        page.on("request", lambda r: external.append(r.url)
                if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    page.goto(url, timeout=WAIT_MS)
    page.wait_for_selector(".kpi", timeout=WAIT_MS)
    page.wait_for_selector("circle.node", timeout=WAIT_MS)
    return page


def status(page) -> str:
    return page.locator(".funnel-status").inner_text()


def step(page, day: int) -> None:
    """Click Step and wait for the day to advance to ``day`` (in the Run card and the status line: their
    updates may arrive in separate messages)."""
    page.click(".btn-step")
    page.wait_for_selector(f".run-day:has-text('Day {day} of')", timeout=FIRST_STEP_MS)
    page.wait_for_selector(f".funnel-status:has-text('day {day} of')")


def type_lever(page, css: str, value) -> None:
    """Type a value into a text lever (audience, seed) and commit it with Enter."""
    box = page.locator(f".{css} input")
    box.fill(str(value))
    box.press("Enter")


def nudge(page, css: str, key: str = "ArrowRight") -> None:
    """Move a slider lever one step with the keyboard (a committed change, like a release)."""
    page.locator(f".{css} .v-slider__thumb-container").focus()
    page.keyboard.press(key)
