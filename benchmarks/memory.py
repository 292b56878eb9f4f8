"""Memory stays flat: a 1,000,000-replicate sweep and its peak resident memory.

Usage::

    python benchmarks/memory.py [REPLICATES] [HORIZON] [WORKERS]

Sweeps two design points of REPLICATES/2 replicates each (default 1,000,000
in all, 30 days so that it finishes in minutes) with the ``local`` engine,
results streamed to Parquet parts, ``keep_runs=False``; prints the peak RSS of
the driver and of the largest worker (``getrusage``). Target: under 500 MB.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time

from _common import BASELINE, machine


def main(replicates: int = 1_000_000, horizon: int = 30, workers: int = 2) -> None:
    import sim
    from sim.scenario.loading import load_scenario, validate

    print(f"machine: {machine()}")
    data = load_scenario(BASELINE, {"truce.horizon": horizon}).model_dump(mode="json")
    data["sweep"] = {"grid": {"monitors.coverage": [0.3, 0.8]}}
    scenario = validate(data)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = sim.sweep(
            scenario,
            replicates=replicates // 2,
            out=tmp,
            engine="local",
            workers=workers,
            keep_runs=False,
        )
        groups = result.summary_dict["groups"]
    took = time.perf_counter() - start
    driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    total = sum(g["replicates"] for g in groups)
    print(f"{total:,} replicates x {horizon} days in {took:.0f} s with {workers} workers")
    print(f"peak RSS: driver {driver:.0f} MB, largest worker {child:.0f} MB  (target < 500 MB)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
