"""Classroom page: from a slider's release to the changed survival curve, in Chromium.

Starts ``truce app`` on a free port, opens the page in headless Chromium
(playwright), and drags the "Loophole width" slider with the mouse, releasing it
RELEASES times at alternating positions. For each release the page itself
records (``performance.now()``, so the figures carry no playwright round trip):

- **first change**: from the ``pointerup`` event to the first change of the
  ensemble chart (its curves or its title: the first curve, from 50 truces);
- **settled**: from ``pointerup`` to the chart showing all 300 truces with the
  "computing" sign gone.

Then the same with two students at once: two browser contexts (two sessions of
the page), released within a few milliseconds of each other, at the same setting
(the page runs its truces once for both: ``sim.app.workers.submit_shared``), then
each at a setting of its own. The server keeps no truces from one release to the
next (``TRUCE_APP_KEEP=0``): every release computes.

Targets (issue 16): median first change < 0.5 s, settled < 1 s; two students at
once do not double it. Usage::

    python benchmarks/app_latency.py [RELEASES] [--trace]

``--trace``: one student only, each release followed step by step through the
server, its workers and the browser (:mod:`sim.app.trace`), with the median of
each step.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import ROOT, machine

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Both students' pages keep running while the other is in front.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
LEVER = "Loophole width"

# Installed in the page: on every pointerup, note the time and the ensemble chart's
# signature; a 5 ms timer then notes when it first changes and when it settles.
WATCH = """() => {
  const chart = () => [...document.querySelectorAll('.js-plotly-plot')]
    .find(p => (p.querySelector('.gtitle')?.textContent ?? '').includes('truces like this'));
  const sig = () => { const p = chart(); if (!p) return '';
    const lines = [...p.querySelectorAll('.scatterlayer path.js-line')];
    return p.querySelector('.gtitle').textContent + '|' +
      lines.map(e => e.getAttribute('d')).join('|'); };
  const w = window.__truce = {release: null, first: null, settled: null, before: null};
  document.addEventListener('pointerup', () => {
    w.release = performance.now(); w.first = null; w.settled = null; w.before = sig();
  }, true);
  setInterval(() => {
    if (w.release === null || w.settled !== null) return;
    const now = performance.now(), s = sig();
    if (w.first === null && s !== w.before) w.first = now;
    const idle = document.querySelector('.truce-computing.idle');
    const title = chart()?.querySelector('.gtitle')?.textContent ?? '';
    if (w.first !== null && idle && title.startsWith('300 ')) w.settled = now;
  }, 5);
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(
    scenario: str = "scenarios/baseline.yaml", log: Path | None = None, trace: Path | None = None
) -> Iterator[str]:
    """``truce app`` on a free port, for as long as the block lasts: its URL.

    With ``trace``, the server and its workers append their timestamps there
    (:mod:`sim.app.trace`).
    """
    port = _free_port()
    out = log.open("w") if log else subprocess.DEVNULL
    # Every release computes its truces: none kept from an earlier release (the page
    # keeps them, sim.app.workers.KEEP, and the releases here go back and forth).
    env = {**os.environ, "TRUCE_APP_KEEP": "0"}
    if trace is not None:
        env["TRUCE_APP_TRACE"] = str(trace)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "app", "--port", str(port), scenario],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited with status {proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("the app did not start within 90 s") from None
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if log:
            out.close()  # type: ignore[union-attr]


def open_page(browser, url: str):
    """A new session of the page (its own browser context), loaded and watched."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url, timeout=90_000)
    page.wait_for_selector(".truce-computing.idle", timeout=90_000)
    page.wait_for_selector("#loader-container", state="detached", timeout=90_000)
    page.evaluate(WATCH)
    return page


def _press(page, fraction: float) -> None:
    """Press the lever's track at the other end and drag to ``fraction`` of it (not released).

    The drag starts where the previous release left the thumb (releases alternate
    between 0.2 and 0.8 of the track), so every release changes the value.
    """
    lever = page.locator(".truce-lever", has_text=LEVER)
    track = lever.locator(".v-slider-track").first.bounding_box()
    y = track["y"] + track["height"] / 2
    x = track["x"] + (1 - fraction) * track["width"]
    target = track["x"] + fraction * track["width"]
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 6):
        page.mouse.move(x + (target - x) * i / 5, y)
        page.wait_for_timeout(30)


def _result(page, timeout: float = 30.0) -> tuple[float, float]:
    """(first change, settled) of the last release, in seconds."""
    page.wait_for_function("() => window.__truce.settled !== null", timeout=timeout * 1000)
    w = page.evaluate("() => window.__truce")
    return (w["first"] - w["release"]) / 1000, (w["settled"] - w["release"]) / 1000


def releases(pages: list, count: int, apart: bool = False) -> list[list[tuple[float, float]]]:
    """Release the lever ``count`` times on every page at once; per page its timings.

    Every page releases it at the same place (0.2, then 0.8 of the track), so at the
    same setting; with ``apart``, page ``k`` at 0.2 + 0.1 k (0.8 - 0.1 k): each page a
    setting of its own, so no page's truces serve another's.
    """
    timings: list[list[tuple[float, float]]] = [[] for _ in pages]
    for i in range(count):
        for k, page in enumerate(pages):
            shift = 0.1 * k if apart else 0.0
            _press(page, 0.2 + shift if i % 2 == 0 else 0.8 - shift)
        for page in pages:
            page.mouse.up()
        for k, page in enumerate(pages):
            timings[k].append(_result(page))
        for page in pages:
            page.wait_for_timeout(300)
    return timings


def medians(timings: list[list[tuple[float, float]]]) -> tuple[float, float]:
    """Median first change and median settled time over every page's releases."""
    flat = [t for page in timings for t in page]
    return statistics.median(t[0] for t in flat), statistics.median(t[1] for t in flat)


def measure(url: str, count: int) -> dict[str, tuple[float, float]]:
    """Median (first change, settled) for one student, then for two at once."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            one = open_page(browser, url)
            releases([one], 2)  # the first releases warm the page up; not counted
            single = medians(releases([one], count))
            two = open_page(browser, url)
            both = medians(releases([one, two], count))
            apart = medians(releases([one, two], count, apart=True))
            errors = one.errors + two.errors
        finally:
            browser.close()
    if errors:
        raise RuntimeError(f"errors in the browser console: {errors}")
    return {
        "one student": single,
        "two students at once": both,
        "two at once, two settings": apart,
    }


def profile(url: str, count: int, trace: Path) -> None:
    """One student's releases followed through the server, its workers and the browser.

    Prints, per release, each step's time after ``pointerup`` (ms), then the median
    of each step over the releases: the server's and the workers' steps from
    ``trace`` (:mod:`sim.app.trace`), the browser's from ``window.__truceMarks``.
    """
    from playwright.sync_api import sync_playwright

    steps: dict[str, list[float]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            page = open_page(browser, url)
            releases([page], 2)
            for i in range(count):
                _press(page, 0.2 if i % 2 == 0 else 0.8)
                page.evaluate("() => { window.__truceMarks = []; }")
                start = trace.stat().st_size if trace.exists() else 0
                page.mouse.up()
                first, settled = _result(page)
                page.wait_for_timeout(300)
                w = page.evaluate(
                    "() => ({origin: performance.timeOrigin, w: window.__truce,"
                    " marks: window.__truceMarks})"
                )
                release = (w["origin"] + w["w"]["release"]) / 1000
                with trace.open(encoding="utf-8") as f:
                    f.seek(start)
                    events = [json.loads(line) for line in f if line.strip()]
                events += [{**m, "pid": "browser"} for m in w["marks"]]
                events.append({"t": release + first, "event": "FIRST CHANGE", "pid": "page"})
                events.append({"t": release + settled, "event": "SETTLED", "pid": "page"})
                seen: set[str] = set()
                cpu: dict[str, float] = {}  # each process's CPU time at its last step
                print(f"release {i + 1}:")
                for e in sorted(events, key=lambda e: e["t"]):
                    ms = 1000 * (e["t"] - release)
                    extra = {k: v for k, v in e.items() if k not in ("t", "pid", "event", "cpu")}
                    if "cpu" in e:
                        pid = e["pid"]
                        extra["cpu ms"] = round(1000 * (e["cpu"] - cpu.get(pid, e["cpu"])))
                        cpu[pid] = e["cpu"]
                    print(f"  {ms:7.0f} ms  {e['pid']!s:>8}  {e['event']:<16} {extra or ''}")
                    name = f"{e['event']} {extra.get('chunk', '')}"
                    if name not in seen:
                        seen.add(name)
                        steps.setdefault(name, []).append(ms)
        finally:
            browser.close()
    print("median over the releases (first occurrence of each step, ms after pointerup):")
    for name, times in sorted(steps.items(), key=lambda kv: statistics.median(kv[1])):
        print(f"  {statistics.median(times):7.0f}  {name} ({len(times)} of {count})")


def _chromium() -> str:
    for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(path).exists():
            return path
    raise SystemExit("Chromium not found: apt-get install -y chromium")


def main(count: int = 10, trace: bool = False) -> None:
    print(f"machine: {machine()}")
    if trace:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "trace.jsonl"
            with serve(trace=path) as url:
                profile(url, count, path)
        print(f"load after: {os.getloadavg()[0]:.1f}")
        return
    with serve() as url:
        figures = measure(url, count)
    print(f"slider release -> survival curve, {count} releases each (median):")
    for name, (first, settled) in figures.items():
        print(f"  {name:<26} first change {first:.2f} s, settled (300 truces) {settled:.2f} s")
    print("target: first change < 0.5 s, settled < 1 s; two students not double")
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    counts = [int(a) for a in sys.argv[1:] if a.isdigit()]
    main(*counts[:1], trace="--trace" in sys.argv)
