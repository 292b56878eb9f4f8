"""The classroom demo in a real (headless) browser: slider, step, charts, console.

Needs Chromium: ``apt-get install -y chromium``. Skipped without it, except in
CI (``CI`` set), where a missing browser is a failure. Set
``TRUCE_SCREENSHOTS=docs/img`` to keep the screenshots for the lesson guide.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "needs Chromium: install it with `apt-get update && apt-get install -y chromium`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with status {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"the app did not listen on port {port} within {timeout:.0f} s")


def _serve(tmp_path: Path, *args: str) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path / f"server-{port}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "app", "--port", str(port), *args],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.fixture
def browser_page():
    """A 1280×720 page in headless Chromium, with the console's errors collected."""
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.errors = []  # type: ignore[attr-defined]
            page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            yield page
        finally:
            browser.close()


def _shoot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path))
    keep = os.environ.get("TRUCE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)
    return path


def _slider(page, label: str):
    field = page.locator(".v-input", has=page.locator("label", has_text=label)).first
    return field.locator("[role=slider]").first


def _day(page) -> int:
    text = page.locator(".truce-status").inner_text()
    match = re.search(r"day (\d+)", text)
    assert match, text
    return int(match.group(1))


def test_slider_step_and_charts(browser_page, tmp_path):
    page = browser_page
    for url in _serve(tmp_path, "scenarios/monitored.yaml"):
        page.goto(url, timeout=90_000)
        page.wait_for_selector(".truce-status", timeout=90_000)
        page.wait_for_selector(".truce-ensemble", timeout=60_000)
        page.wait_for_selector(".js-plotly-plot .gtitle", timeout=60_000)
        assert "day 0" in page.locator(".truce-status").inner_text()
        _shoot(page, tmp_path, "classroom-start.png")

        # Sliders stop at the schema's range: End sets the maximum, not beyond.
        lead = _slider(page, "Lead time")
        assert lead.get_attribute("aria-valuemax") == "90"
        coverage = _slider(page, "Monitoring coverage")
        assert float(coverage.get_attribute("aria-valuemax")) == 1.0
        before = float(coverage.get_attribute("aria-valuenow"))
        coverage.focus()
        for _ in range(4):
            coverage.press("ArrowRight")
        after = float(coverage.get_attribute("aria-valuenow"))
        assert after > before
        page.wait_for_function(
            "() => document.querySelector('.truce-ensemble')"
            "?.innerText.includes('previous settings')",
            timeout=30_000,
        )

        titles = page.locator(".js-plotly-plot .gtitle")
        timeline_before = titles.first.text_content()
        for _ in range(3):
            page.get_by_role("button", name="Step").click()
            page.wait_for_timeout(300)
        page.wait_for_function(
            "() => /day [1-9]/.test(document.querySelector('.truce-status').innerText)",
            timeout=30_000,
        )
        assert _day(page) >= 1
        page.wait_for_function(
            "t => document.querySelector('.js-plotly-plot .gtitle').textContent !== t",
            arg=timeline_before,
            timeout=30_000,
        )
        assert f"(day {_day(page)})" in titles.first.text_content()
        assert page.locator(".truce-log").inner_text().strip()
        shot = _shoot(page, tmp_path, "classroom-stepped.png")
        assert shot.stat().st_size > 10_000
        assert page.errors == []


def test_bad_scenario_shows_the_message(browser_page, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nmonitors:\n  coverage: 1.5\n", encoding="utf-8")
    page = browser_page
    for url in _serve(tmp_path, str(bad)):
        page.goto(url, timeout=90_000)
        alert = page.locator(".v-alert").first
        alert.wait_for(timeout=90_000)
        text = alert.inner_text()
        assert "monitors.coverage" in text and "cannot be loaded" in text
        assert "Traceback (most recent call last)" not in page.inner_text("body")
        _shoot(page, tmp_path, "classroom-bad-scenario.png")
