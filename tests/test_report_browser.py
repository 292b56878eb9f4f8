"""The report opened offline in headless Chromium: every chart renders, no errors.

Needs a system Chromium (``apt-get install -y chromium``; CI's .ci/run installs
it). Skipped without one, except under CI (``CI`` set), where it fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import chromium_path
from helpers_tables import make_runs, make_sweep_runs, write_results_dir

from sim.analysis import summaries
from sim.present import report

pytestmark = pytest.mark.browser

EVIL = "<script>alert(1)</script>"


def open_offline(browser, path: Path):
    """Open ``path`` at 1280×720 with every non-file request aborted and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.plotly-graph-div'))"
        ".every(d => d.querySelector('svg.main-svg'))",
        timeout=20_000,
    )
    return context, page, errors, blocked, dialogs


def check_page(browser, results: Path, screenshot: Path) -> tuple[object, int]:
    path = report.build_report(results)
    context, page, errors, blocked, dialogs = open_offline(browser, path)
    try:
        charts = page.locator(".plotly-graph-div")
        count = charts.count()
        assert count >= 3
        for i in range(count):
            assert charts.nth(i).locator("svg.main-svg").count() >= 1
            box = charts.nth(i).bounding_box()
            assert box["width"] > 1000  # fills the 1280-px page, minus margins
        page.screenshot(path=str(screenshot))
        assert screenshot.stat().st_size > 10_000
        assert errors == [] and blocked == [] and dialogs == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        return page.inner_text("h1"), count
    finally:
        context.close()


def test_comparison_report_renders_offline(browser, tmp_path):
    runs = make_runs(n=200)
    folder = write_results_dir(
        tmp_path / "results",
        runs,
        scenario={"name": EVIL, "description": "A comparison."},
        summary=summaries.summarize(runs),
    )
    title, count = check_page(browser, folder, tmp_path / "report-1280x720.png")
    assert title == f"Truce simulation report: {EVIL}"  # shown as text, not run
    assert count == 3


def test_sweep_report_renders_offline(browser, tmp_path):
    folder = write_results_dir(tmp_path / "results", make_sweep_runs())
    _, count = check_page(browser, folder, tmp_path / "sweep-1280x720.png")
    assert count == 5  # heatmap, small multiples, survival, bars, causes


def test_escaped_names_show_as_typed_inside_charts(browser, tmp_path):
    runs = make_runs({EVIL: 0.01, "monitored": 0.004}, n=40)
    folder = write_results_dir(tmp_path / "results", runs)
    path = report.build_report(folder)
    context, page, errors, blocked, dialogs = open_offline(browser, path)
    try:
        legend = page.eval_on_selector_all(
            "#chart-survival .legendtext", "els => els.map(e => e.textContent)"
        )
        assert EVIL in legend
        assert errors == [] and dialogs == [] and blocked == []
    finally:
        context.close()


def test_png_export_with_kaleido(tmp_path):
    pytest.importorskip("kaleido", reason="PNG export needs kaleido (optional)")
    chromium_path()
    folder = write_results_dir(tmp_path / "results", make_runs(n=60))
    report.build_report(folder, png=True)
    pngs = sorted((folder / "charts").glob("*.png"))
    assert [p.name for p in pngs] == ["causes.png", "collapse.png", "survival.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
