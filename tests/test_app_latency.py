"""The classroom page's speed, measured in Chromium: slider release → changed survival curve.

Runs ``benchmarks/app_latency.py``'s measurement (the real ``truce app``, a mouse
drag released in headless Chromium, times taken in the page itself) with a few
releases, for one student and for two at once (two browser contexts).
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from conftest import ROOT, chromium_path

# One at a time (make test runs --dist loadgroup): two classroom servers with their
# ensemble workers and browsers on 2 cores make Play too slow for the timed waits.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("classroom-page")]


def _benchmark():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(
            "app_latency", ROOT / "benchmarks" / "app_latency.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


#: Measurements of the page before a bound that is missed counts as missed.
ATTEMPTS = 3


def _misses(figures: dict[str, tuple[float, float]]) -> list[str]:
    """The bounds a measurement misses (none: it passes).

    The targets (issue 16) are 0.5 s to the first change and 1 s to settle, on this
    2-core machine when quiet. The bounds here are four times those: the suite runs two
    test processes at once (`-n 2`), so the page, its two workers and Chromium share the
    cores with another test; a page that recomputed on every drag step, or waited for all
    300 truces before the first curve, or on the page's own thread, measured 2-4 s before
    (issue 16). benchmarks/app_latency.py gives the figure to compare with the target.
    Two students at once each get a worker: the wait does not double (the same 4x
    allowance for the shared machine).
    """
    single_first, single_settled = figures["one student"]
    both_first, _ = figures["two students at once"]
    bounds = {
        f"one student's first change {single_first:.2f} s < 2.0 s": single_first < 2.0,
        f"one student settled {single_settled:.2f} s < 4.0 s": single_settled < 4.0,
        f"two students' first change {both_first:.2f} s < 2 x {single_first:.2f} + 1.0 s": (
            both_first < 2.0 * single_first + 1.0
        ),
    }
    return [name for name, met in bounds.items() if not met]


def test_release_to_changed_curve(tmp_path):
    chromium_path()  # skips without Chromium (fails under CI)
    bench = _benchmark()
    missed: list[list[str]] = []
    with bench.serve(log=tmp_path / "server.log") as url:
        # Each measurement is the median of four releases, but the other test process
        # may load both cores for all of one (a browser test of its own): a page that
        # meets the bounds in one of three measurements is as fast as they ask, and a
        # slow page (every drag step recomputed, 2-4 s) misses them in all three.
        for _ in range(ATTEMPTS):
            figures = bench.measure(url, 4)
            print(
                "first change {:.2f} s, settled {:.2f} s; two students: {:.2f} s, {:.2f} s".format(
                    *figures["one student"], *figures["two students at once"]
                )
            )
            missed.append(_misses(figures))
            if not missed[-1]:
                break
    assert missed[-1] == [], f"every measurement missed a bound: {missed}"
