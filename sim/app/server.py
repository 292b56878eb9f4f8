"""Serving the page: ``truce app`` runs ``solara run sim.app.page`` in a child process.

Solara's page loads its JavaScript (the Vuetify app) from a CDN, through a local
cache that ``make app`` fills (``tools/fetch-solara-assets``, from the npm
registry). Without the cache and without internet access the page stays blank,
so :func:`serve` checks it first: when the assets are missing it says so on the
terminal and serves, at the same address, a page with the same message.
"""

from __future__ import annotations

import html
import http.server
import os
import re
import subprocess
import sys
from pathlib import Path

from sim.app.scenarios import SCENARIO_ENV


def server_command(
    scenario: Path | None = None, host: str = "127.0.0.1", port: int = 8765
) -> tuple[list[str], dict]:
    """The ``solara run`` command line and environment that serve the page."""
    env = dict(os.environ)
    # Solara's "This website runs on Solara" badge sits on top of the charts.
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "false")
    if scenario is not None:
        env[SCENARIO_ENV] = str(Path(scenario).resolve())
    else:
        env.pop(SCENARIO_ENV, None)
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "sim.app.page",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--log-level",
        "warning",
    ]
    return cmd, env


def serve(scenario: Path | None = None, host: str = "127.0.0.1", port: int = 8765) -> int:
    """Serve the page until interrupted; return the server's exit status.

    Without Solara's page assets, print what to do (on stderr) and serve a page
    saying the same instead; the exit status is then 1.
    """
    missing = missing_assets()
    if missing:
        message = assets_message(missing)
        print(f"error: {message}", file=sys.stderr, flush=True)
        return _serve_message(message, host, port)
    cmd, env = server_command(scenario, host, port)
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()


#: Solara's package whose page template names the assets the page needs.
_TEMPLATE = ("server", "templates", "solara.html.j2")
#: The assets without which the page is blank: the Vuetify app (Vuetify 3 or 2) and its widgets.
_NEEDED = {
    3: re.compile(r"@widgetti/solara-vuetify3-app@[0-9][0-9.]*"),
    2: re.compile(r"@widgetti/solara-vuetify-app@[0-9][0-9.]*"),
}


def assets_dir() -> Path:
    """Where Solara looks for its cached page assets (``SOLARA_ASSETS_PROXY_CACHE_DIR``)."""
    given = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    return Path(given) if given else Path(sys.prefix) / "share" / "solara" / "cdn"


def missing_assets() -> list[str]:
    """The page assets (npm ``name@version``) the page needs and the cache lacks."""
    import solara
    import solara.util

    template = Path(solara.__file__).parent.joinpath(*_TEMPLATE)
    pattern = _NEEDED[3 if solara.util.ipyvuetify_major_version == 3 else 2]
    try:
        needed = sorted(set(pattern.findall(template.read_text(encoding="utf-8"))))
    except OSError:  # another Solara layout: nothing to check against
        return []
    folder = assets_dir()
    return [spec for spec in needed if not (folder / spec).is_dir()]


def assets_message(missing: list[str]) -> str:
    """What to do when the page assets are missing (terminal and page say the same)."""
    return (
        f"The classroom page cannot be shown: Solara's page assets ({', '.join(missing)}) "
        f"are not in {assets_dir()}, so the page would stay blank. "
        "Run `make app` (it fetches them and starts the page), or fetch them with "
        "`tools/fetch-solara-assets .venv` and run `truce app` again."
    )


def _serve_message(message: str, host: str, port: int) -> int:
    """Serve one page saying ``message`` at every path until interrupted."""
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>truce app: assets missing"
        "</title></head><body style='font: 20px sans-serif; max-width: 46em; margin: 3em auto'>"
        f"<h1>The page cannot start</h1><p id='truce-assets-missing'>{html.escape(message)}</p>"
        "</body></html>"
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            self.send_response(503)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer((host, port), Handler) as server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 1
