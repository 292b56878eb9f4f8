"""Serving the page: ``truce app`` runs ``solara run sim.app.page`` in a child process."""

from __future__ import annotations

import os
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
    """Serve the page until interrupted; return the server's exit status."""
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
