"""Scaling: 1 worker vs 2 workers, and cost linear in replicates and horizon.

Usage::

    python benchmarks/scaling.py [CHUNKS] [ROUNDS]

(1) A sweep of CHUNKS chunks of 1,000 replicates (180 days) through the
``local`` engine with ``--workers 1`` and ``--workers 2``, interleaved over
ROUNDS rounds (default 3; medians), timed end to end (the summary included) and
over the tasks alone (from the first progress report to the last):

- in this process, one run after another, as a script or a notebook calling
  ``sim.run`` runs them: the workers are forked from this one-thread process
  (since session 9) and inherit the compiled day, which the driver loads once
  before its first fork (since session 10; the first round's first run pays it);
- each run a fresh ``truce run`` (``python -m sim run ... --no-report``, timed
  from here), as from the shell: the imports, the kernels' load included.

Target on an idle 2-core machine: speed-up >= 1.8 (issue 14).
(2) ``run_one`` timed over replicates and horizon on each engine, with a
least-squares line and its R² for each (cost should grow linearly).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np
from _common import BASELINE, machine


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    slope, intercept = np.polyfit(xs, ys, 1)
    pred = slope * np.asarray(xs) + intercept
    ss_res = float(((np.asarray(ys) - pred) ** 2).sum())
    ss_tot = float(((np.asarray(ys) - np.mean(ys)) ** 2).sum())
    return slope, intercept, 1 - ss_res / ss_tot


def _timed_run(scenario, replicates: int, workers: int, tmp: str) -> tuple[float, float]:
    """Wall time of ``sim.run`` end to end, and of its tasks alone (first to last chunk)."""
    import sim

    marks: list[float] = []

    def progress(done: int, total: int) -> None:
        marks.append(time.perf_counter())

    start = time.perf_counter()
    sim.run(
        scenario,
        replicates=replicates,
        out=tmp,
        engine="local",
        workers=workers,
        keep_runs=False,
        progress=progress,
    )
    return time.perf_counter() - start, marks[-1] - marks[0]


def _start_method() -> str:
    from sim.experiment.executors import choose_engine

    return choose_engine("local", 2, 8).start_method or "spawn"


def _fresh_run(replicates: int, workers: int, tmp: str) -> float:
    """Wall time of ``truce run`` (no report) in a fresh process, timed from here."""
    command = [sys.executable, "-m", "sim", "run", str(BASELINE), "-n", str(replicates)]
    command += ["--set", "truce.horizon=180", "--workers", str(workers), "--out", tmp]
    start = time.perf_counter()
    subprocess.run(command + ["--no-report"], check=True, capture_output=True)
    return time.perf_counter() - start


def main(n_chunks: int = 12, rounds: int = 3) -> None:
    from sim.experiment.executors import idle_cores
    from sim.scenario.loading import load_scenario

    print(f"machine: {machine()}")
    scenario = load_scenario(BASELINE, {"truce.horizon": 180})
    walls: dict[int, list[float]] = {1: [], 2: []}
    phases: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        # interleaved (1, 2, 1, 2, ...) so that a change of load hits both alike
        for r in range(rounds):
            for workers in (1, 2):
                idle = idle_cores()
                wall, phase = _timed_run(scenario, n_chunks * 1000, workers, tmp)
                walls[workers].append(wall)
                phases[workers].append(phase)
                print(
                    f"round {r + 1}: {n_chunks} chunks x 1,000 replicates x 180 days, local "
                    f"engine, {workers} worker(s): {wall:.2f} s end to end, {phase:.2f} s of "
                    f"tasks (idle cores before: {idle})"
                )
    wall = {w: statistics.median(v) for w, v in walls.items()}
    phase = {w: statistics.median(v) for w, v in phases.items()}
    print(
        f"speed-up 2 workers vs 1 (medians of {rounds}): end to end {wall[1] / wall[2]:.2f}x, "
        f"tasks alone {phase[1] / phase[2]:.2f}x  (target >= 1.8x; both workers need a "
        "core each: with other jobs running the figure measures the load, not the code)"
    )
    print(
        f"  both include starting the workers ({_start_method()}-started, at the pool's first "
        "task); end to end adds the summary, which runs once in the driver whatever the workers"
    )
    fresh: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for workers in (1, 2):
                fresh[workers].append(_fresh_run(n_chunks * 1000, workers, tmp))
                print(f"truce run, round {r + 1}, {workers} worker(s): {fresh[workers][-1]:.2f} s")
    cold = {w: statistics.median(v) for w, v in fresh.items()}
    print(
        f"speed-up 2 workers vs 1, each a fresh `truce run` (medians of {rounds}): "
        f"{cold[1] / cold[2]:.2f}x  (the interpreter's start, the imports, the kernels' load "
        "and the summary are paid once a run whatever the workers)"
    )

    for engine in ("numpy", "numba"):  # one engine each: under auto the width decides
        os.environ["TRUCE_ENGINE"] = engine
        _linearity(engine, scenario)
    os.environ.pop("TRUCE_ENGINE")


def _linearity(engine: str, scenario: Any) -> None:
    from sim.experiment.runner import run_one
    from sim.scenario.loading import load_scenario

    run_one(scenario, 1, 100)  # warm up
    reps = [250, 500, 1000, 2000, 4000]
    cost = []
    for r in reps:
        start = time.perf_counter()
        run_one(scenario, 1, r)
        cost.append(time.perf_counter() - start)
    slope, intercept, r2 = _fit(reps, cost)
    print(
        f"{engine}, replicates (180 days): "
        + ", ".join(f"{r}: {c:.3f} s" for r, c in zip(reps, cost, strict=True))
    )
    print(f"  fit: {intercept * 1e3:.1f} ms + {slope * 1e6:.1f} us per replicate, R^2 = {r2:.3f}")
    horizons = [45, 90, 180, 360, 720]
    cost = []
    for h in horizons:
        s = load_scenario(BASELINE, {"truce.horizon": h})
        start = time.perf_counter()
        run_one(s, 1, 1000)
        cost.append(time.perf_counter() - start)
    slope, intercept, r2 = _fit(horizons, cost)
    print(
        f"{engine}, horizon (1,000 replicates): "
        + ", ".join(f"{h}: {c:.3f} s" for h, c in zip(horizons, cost, strict=True))
    )
    print(f"  fit: {intercept * 1e3:.1f} ms + {slope * 1e3:.2f} ms per day, R^2 = {r2:.3f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
