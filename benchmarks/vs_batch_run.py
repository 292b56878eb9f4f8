"""Truce-days per second: ``mesa.batch_run`` (one truce per model) vs this project's runner.

(a) is what a plain Mesa user would write: ``mesa.batch_run`` over the model
class with ``replicates=1`` per run, one model per simulated truce, and the
model's ``seed`` swept over ``range(TRUCES)`` so that the truces differ
(``batch_run`` itself passes no seed: with ``iterations=TRUCES`` alone every
run would replay seed 0, one truce copied ``TRUCES`` times). Each model stops
when its truce collapses or reaches the horizon. (b) runs the same scenario
and the same number of truces through the sweep runner (``sim.run``, serial
engine, chunks of 1,000 replicates stepped in lockstep until all have ended;
no storage). One process each. Both build the same model class, so both use
the day engine ``TRUCE_ENGINE`` picks for their width (``auto``, the default:
NumPy for both: ``mesa.batch_run``'s one-truce models never count toward numba's load,
and the runner's study of 1,000 truces over 180 days would save less than the load
(``kernels.saving`` < ``kernels.LOAD_SECONDS``); a study of 2,000 or more is compiled
from its first chunk, the study telling its process its work);
the last line prints the engine each side's next model would use. ``RUNNER_ENGINES=numba``
times the runner again under that engine (the same truces: the engines agree bit for
bit), ``mesa.batch_run`` staying on the default.

Truce-days are the days the truces actually held (``days_held`` summed):
the same quantity on both sides, so the ratio compares like with like. Both
sides' median days held are printed as a check that they simulated the same
truces (up to sampling error). Usage::

    python benchmarks/vs_batch_run.py [TRUCES] [HORIZON]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings

from _common import BASELINE, machine


def main(truces: int = 1000, horizon: int = 180) -> None:
    import mesa

    import sim
    from sim.model.model import CeasefireModel
    from sim.scenario.loading import load_scenario

    scenario = load_scenario(BASELINE, {"truce.horizon": horizon})

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = mesa.batch_run(
            CeasefireModel,
            parameters={"scenario": [scenario], "replicates": [1], "seed": range(truces)},
            iterations=1,
            max_steps=horizon + scenario.truce.lead_time + 1,
            number_processes=1,
            data_collection_period=-1,
            display_progress=False,
        )
    batch = time.perf_counter() - start
    assert len(results) == truces
    held_a = [int(r["day"]) for r in results]

    import sim.analysis.summaries  # noqa: F401  (imported up front: time the simulation, not imports)
    from sim.model import kernels

    ours = float("inf")
    for _ in range(3):  # best of three, each as a fresh process would run it
        # ``auto`` counts what a process's chunks would have saved (kernels.for_width):
        # without this, the third run would be compiled, which one run is not.
        kernels.start_afresh()
        start = time.perf_counter()
        result = sim.run(scenario, replicates=truces, out=None, engine="serial")
        ours = min(ours, time.perf_counter() - start)
    held_b = result.runs["days_held"].to_numpy()

    also: dict[str, float] = {}
    for name in [e for e in os.environ.get("RUNNER_ENGINES", "").split(",") if e]:
        # The runner again under another day engine (e.g. RUNNER_ENGINES=numba), best of three.
        before = os.environ.get("TRUCE_ENGINE")
        os.environ["TRUCE_ENGINE"] = name
        sim.run(scenario, replicates=min(truces, 200), out=None, engine="serial")  # warm up
        also[name] = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            sim.run(scenario, replicates=truces, out=None, engine="serial")
            also[name] = min(also[name], time.perf_counter() - start)
        if before is None:
            del os.environ["TRUCE_ENGINE"]
        else:
            os.environ["TRUCE_ENGINE"] = before

    days_a, days_b = sum(held_a), int(held_b.sum())
    rate_batch, rate_ours = days_a / batch, days_b / ours
    print(f"machine: {machine()}")
    print(f"scenario: baseline, horizon {horizon} days, {truces:,} truces each side")
    print(
        f"(a) mesa.batch_run, replicates=1 per run, seeds 0..{truces - 1}: {batch:.2f} s "
        f"({batch / truces * 1e3:.1f} ms a truce), {days_a:,} truce-days "
        f"(median held {statistics.median(held_a):.0f} d) = {rate_batch:,.0f} truce-days/s"
    )
    print(
        f"(b) sim runner (chunks of 1,000):           {ours:.2f} s "
        f"({ours / truces * 1e3:.2f} ms a truce), {days_b:,} truce-days "
        f"(median held {statistics.median(held_b.tolist()):.0f} d) = {rate_ours:,.0f} truce-days/s"
    )
    print(f"ratio (b)/(a): {rate_ours / rate_batch:,.0f}x  (target >= 400x)")
    for name, seconds in also.items():
        print(
            f"(b) with TRUCE_ENGINE={name}: {seconds:.2f} s = "
            f"{days_b / seconds:,.0f} truce-days/s, ratio {days_b / seconds / rate_batch:,.0f}x"
        )

    # The engine each side's next model would use (TRUCE_ENGINE, default auto: by chunk
    # width and what this process's chunks would have saved); asking does not count.
    def engine_for(width: int) -> str:
        return "numba" if kernels.would_compile(width, horizon) else "numpy"

    engine_a, engine_b = engine_for(1), engine_for(min(truces, 1000))
    print(
        f"day engine: (a) {engine_a} (width 1), (b) {engine_b} (width {min(truces, 1000):,}); "
        f"TRUCE_ENGINE={os.environ.get('TRUCE_ENGINE', 'auto')}; "
        f"load average after: {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
