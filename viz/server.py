"""Serve the web view: a Solara (Starlette) app on uvicorn, bound to 127.0.0.1 unless told otherwise.

``python -m viz.server [SCENARIO] [--host H] [--port P] [--max-audience N]``; ``funnelsim view`` calls
:func:`serve`. The page's scripts and styles come from the installed ``solara-assets`` package, so the page
loads with no internet.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import sys
import threading

from viz import config


def prepare(scenario: str | None = None, max_audience: int | None = None) -> None:
    """Set what the app reads at start-up (environment variables, so worker threads see them)."""
    if scenario:
        from viz.recipe import base_from_file

        base_from_file(scenario)  # fail here, with a clear message, rather than in the page
        os.environ[config.ENV_SCENARIO] = scenario
    if max_audience is not None:
        if max_audience <= 0:
            raise ValueError("--max-audience must be positive")
        os.environ[config.ENV_MAX_AUDIENCE] = str(max_audience)
    os.environ["SOLARA_APP"] = "viz.app"
    # Serve Solara's scripts from solara-assets, never from a CDN, and send no telemetry.
    os.environ.setdefault("SOLARA_ASSETS_PROXY", "True")
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    # A page that vanished without its close beacon (a crashed tab, a dropped network) keeps its kernel
    # and model until culled: Solara's default is 24 hours; 15 minutes still covers a reconnect.
    os.environ.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", "15m")


def warm_up() -> None:
    """Compile the engine's kernels in the background (numba: seconds from its cache, about half a
    minute after the engine changed), so the first Step on the page is quick."""
    def run():
        from simulation.model import FunnelModel
        from simulation.scenario import load_scenario

        spec = load_scenario(str(config.SCENARIO_DIR / f"{config.FLAGSHIP}.yaml"),
                             ["audience.size=300", "days=2", "materialize_agents=false"])
        FunnelModel(spec).run()

    threading.Thread(target=run, name="funnelsim-warm-up", daemon=True).start()


# -- memory: a page's model is freed when its kernel closes; give the heap back to the OS then ----------

def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only
        return libc
    except (OSError, AttributeError):
        return None


_trim_lock = threading.Lock()
_trim_timer: threading.Timer | None = None
#: Seconds after the last page closed before the heap is trimmed (Solara collects garbage after 1 s).
TRIM_DELAY_S = 3.0


def release_memory() -> None:
    """Collect garbage and return the freed heap to the OS. Without this, glibc keeps the memory of closed
    pages' models (freed, but resident) and the server's RSS stays at its peak after the pages close."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def _release_soon() -> None:
    global _trim_timer
    with _trim_lock:
        if _trim_timer is not None:
            _trim_timer.cancel()
        _trim_timer = threading.Timer(TRIM_DELAY_S, release_memory)
        _trim_timer.daemon = True
        _trim_timer.start()


def _on_kernel_start():
    return _release_soon  # run when the page's kernel closes


def limit_memory_growth() -> None:
    """Fewer malloc arenas (glibc makes up to 8 per core, one per busy thread: every page's kernel runs in a
    thread), and a heap trim after pages close. Measured with 20 sessions: tests/test_web_load.py."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(-8, 2)  # M_ARENA_MAX
    from solara.lifecycle import on_kernel_start

    on_kernel_start(_on_kernel_start)


def serve(scenario: str | None = None, host: str = "127.0.0.1", port: int = 8765,
          max_audience: int | None = None, on_ready=None) -> None:
    """Run the server until interrupted. ``on_ready(url)`` is called once it listens."""
    prepare(scenario, max_audience)
    limit_memory_growth()
    warm_up()
    import uvicorn

    url = f"http://{host}:{port}/"

    class Server(uvicorn.Server):
        def startup(self, sockets=None):  # type: ignore[override]
            async def started():
                result = await super(Server, self).startup(sockets)
                if on_ready is not None and self.started:
                    on_ready(url)
                return result
            return started()

    cfg = uvicorn.Config("solara.server.starlette:app", host=host, port=port, log_level="warning",
                         ws_max_size=8 * 1024 * 1024)
    Server(cfg).run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m viz.server", description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", help="scenario file or built-in name")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--max-audience", type=int, default=None)
    args = parser.parse_args(argv)
    serve(args.scenario, args.host, args.port, args.max_audience,
          on_ready=lambda url: print(f"funnelsim web view: {url}", flush=True))


if __name__ == "__main__":
    sys.exit(main())
