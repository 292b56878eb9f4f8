"""Scaling: 1 worker vs 2 workers, and cost linear in replicates and horizon.

Usage::

    python benchmarks/scaling.py [CHUNKS]

(1) A sweep of CHUNKS chunks of 1,000 replicates (180 days) through the
``local`` engine with ``--workers 1`` and ``--workers 2`` (spawned processes,
start-up included). Target on a 2-core machine: speed-up >= 1.7.
(2) ``run_one`` timed over replicates and horizon, with a least-squares line
and its R² for each (cost should grow linearly).
"""

from __future__ import annotations

import sys
import tempfile
import time

import numpy as np
from _common import BASELINE, machine


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    slope, intercept = np.polyfit(xs, ys, 1)
    pred = slope * np.asarray(xs) + intercept
    ss_res = float(((np.asarray(ys) - pred) ** 2).sum())
    ss_tot = float(((np.asarray(ys) - np.mean(ys)) ** 2).sum())
    return slope, intercept, 1 - ss_res / ss_tot


def main(n_chunks: int = 12) -> None:
    import sim
    from sim.experiment.runner import run_one
    from sim.scenario.loading import load_scenario

    print(f"machine: {machine()}")
    scenario = load_scenario(BASELINE, {"truce.horizon": 180})
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            start = time.perf_counter()
            sim.run(
                scenario,
                replicates=n_chunks * 1000,
                out=tmp,
                engine="local",
                workers=workers,
                keep_runs=False,
            )
            times[workers] = time.perf_counter() - start
            print(
                f"{n_chunks} chunks x 1,000 replicates x 180 days, local engine, "
                f"{workers} worker(s): {times[workers]:.2f} s"
            )
    print(f"speed-up 2 workers vs 1: {times[1] / times[2]:.2f}x  (target >= 1.7x)")

    run_one(scenario, 1, 100)  # warm up
    reps = [250, 500, 1000, 2000, 4000]
    cost = []
    for r in reps:
        start = time.perf_counter()
        run_one(scenario, 1, r)
        cost.append(time.perf_counter() - start)
    slope, intercept, r2 = _fit(reps, cost)
    print(
        "replicates (180 days): "
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
        "horizon (1,000 replicates): "
        + ", ".join(f"{h}: {c:.3f} s" for h, c in zip(horizons, cost, strict=True))
    )
    print(f"  fit: {intercept * 1e3:.1f} ms + {slope * 1e3:.2f} ms per day, R^2 = {r2:.3f}")
    print("  (truces that collapse are masked, not removed, so cost per day is ~constant)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
