"""Shared fixtures: paths to the bundled scenarios, small scenarios for fast tests, Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Flags for the headless Chromium of the browser tests."""


def chromium_path() -> str:
    """The system Chromium: skips the calling test without one, or fails it under CI."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        message = (
            "Chromium not found: install it with `apt-get install -y chromium` (CI's .ci/run does)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


# Keep hypothesis fast and reproducible in CI.
try:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "project",
        max_examples=25,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "project"))
except ImportError:  # pragma: no cover - hypothesis is a test extra
    pass


@pytest.fixture
def baseline_path() -> Path:
    return SCENARIOS / "baseline.yaml"


@pytest.fixture
def baseline(baseline_path):
    from sim.scenario.loading import load_scenario

    return load_scenario(baseline_path)


@pytest.fixture(scope="module")
def monitored():
    from sim.scenario.loading import load_scenario

    return load_scenario(SCENARIOS / "monitored.yaml")


@pytest.fixture
def write_yaml(tmp_path):
    """Write a YAML text to a file in tmp_path and return its path."""

    def _write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return _write


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the report tests (skipped, or failed on CI, without one)."""
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(autouse=True)
def _no_shared_ensembles():
    """Each test starts without the classroom page's kept ensembles (``sim.app.workers``).

    The page keeps finished chunks for any later ask of the same setting; a test that
    counts or stops the workers' tasks must not find another test's chunk kept.
    """
    import sys

    workers = sys.modules.get("sim.app.workers")
    if workers is not None:
        workers.forget_shared()
    yield
