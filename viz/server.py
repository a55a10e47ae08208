"""Serve the web view: a Solara (Starlette) app on uvicorn, bound to 127.0.0.1 unless told otherwise.

``python -m viz.server [SCENARIO] [--host H] [--port P] [--max-audience N]``; ``funnelsim view`` calls
:func:`serve`. The page's scripts and styles come from the installed ``solara-assets`` package, so the page
loads with no internet.
"""

from __future__ import annotations

import argparse
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


def serve(scenario: str | None = None, host: str = "127.0.0.1", port: int = 8765,
          max_audience: int | None = None, on_ready=None) -> None:
    """Run the server until interrupted. ``on_ready(url)`` is called once it listens."""
    prepare(scenario, max_audience)
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
