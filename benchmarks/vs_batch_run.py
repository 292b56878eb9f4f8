"""Truce-days per second: ``mesa.batch_run`` (one truce per model) vs this project's runner.

(a) is what a plain Mesa user would write: ``mesa.batch_run`` over the model class with
``replicates=1`` per run, one model per simulated truce, and the model's ``seed`` swept
over ``range(TRUCES)`` so that the truces differ (``batch_run`` itself passes no seed:
with ``iterations=TRUCES`` alone every run would replay seed 0, one truce copied
``TRUCES`` times). Each model stops when its truce collapses or reaches the horizon. (b)
runs the same scenario and the same number of truces through the sweep runner
(``sim.run``, serial engine, chunks of 1,000 replicates stepped in lockstep until all have
ended; no storage), as a one-off run: the best of three fresh processes, each timed from
its call of ``sim.run`` (its imports not timed, as (a)'s are not: the modules a run
imports on first use are imported by a run of 8 truces over 2 days before). Both build the
same model class, so both use the day engine ``TRUCE_ENGINE`` picks for their width
(``auto``, the default: NumPy for ``mesa.batch_run``, whose one-truce models never count
toward numba's load; compiled for the runner since session 16, whose study of 1,000 truces
over 180 days saves more than the load, ``kernels.saving`` >= ``kernels.LOAD_SECONDS``,
the study telling its process its work: numba's import and the cached kernels' load are
then timed with the run). The last line prints the engine each side used.
``RUNNER_ENGINES=numba`` times the runner again in this process under that engine, warmed
up (a long-lived process's figure: the same truces, as the engines agree bit for bit),
``mesa.batch_run`` staying on the default.

Truce-days are the days the truces actually held (``days_held`` summed):
the same quantity on both sides, so the ratio compares like with like. Both
sides' median days held are printed as a check that they simulated the same
truces (up to sampling error). Usage::

    python benchmarks/vs_batch_run.py [TRUCES] [HORIZON]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import warnings

from _common import BASELINE, machine

#: (b) in a fresh process: the runner as a one-off ``sim.run`` of the truces.
CHILD = """
import json, sys, time
import sim
from sim.model import kernels
from sim.scenario.loading import load_scenario
scenario = load_scenario(sys.argv[1], {"truce.horizon": int(sys.argv[3])})
# The modules a run imports on first use (Mesa, the model, the runner), imported as (a)'s
# are before it is timed: a run of 8 truces over 2 days, on NumPy, then forgotten by auto.
sim.run(scenario, replicates=8, out=None, engine="serial", overrides={"truce.horizon": 2})
assert "numba" not in sys.modules
kernels.start_afresh()
start = time.perf_counter()
result = sim.run(scenario, replicates=int(sys.argv[2]), out=None, engine="serial")
seconds = time.perf_counter() - start
held = result.runs["days_held"].astype(int).tolist()
print(json.dumps([seconds, held, "sim.model._compiled" in sys.modules]))
"""


def _fresh_run(truces: int, horizon: int) -> tuple[float, list[int], bool]:
    """Seconds of ``sim.run`` in a fresh process (imports excluded), its days held, and
    whether its day was compiled."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(BASELINE), str(truces), str(horizon)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, held, compiled = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, held, compiled


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

    from sim.model import kernels

    # (b) best of three fresh processes, each timed from its call of ``sim.run`` (its
    # imports not timed, numba's load and the cached kernels' when ``auto`` compiles).
    ours, held_b, compiled_b = float("inf"), [], False
    for _ in range(3):
        seconds, held, compiled = _fresh_run(truces, horizon)
        if seconds < ours:
            ours, held_b, compiled_b = seconds, held, compiled

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

    days_a, days_b = sum(held_a), sum(held_b)
    rate_batch, rate_ours = days_a / batch, days_b / ours
    print(f"machine: {machine()}")
    print(f"scenario: baseline, horizon {horizon} days, {truces:,} truces each side")
    print(
        f"(a) mesa.batch_run, replicates=1 per run, seeds 0..{truces - 1}: {batch:.2f} s "
        f"({batch / truces * 1e3:.1f} ms a truce), {days_a:,} truce-days "
        f"(median held {statistics.median(held_a):.0f} d) = {rate_batch:,.0f} truce-days/s"
    )
    print(
        f"(b) sim runner (chunks of 1,000), fresh:    {ours:.2f} s "
        f"({ours / truces * 1e3:.2f} ms a truce), {days_b:,} truce-days "
        f"(median held {statistics.median(held_b):.0f} d) = {rate_ours:,.0f} truce-days/s"
    )
    print(f"ratio (b)/(a): {rate_ours / rate_batch:,.0f}x  (target >= 400x)")
    for name, seconds in also.items():
        print(
            f"(b) with TRUCE_ENGINE={name}: {seconds:.2f} s = "
            f"{days_b / seconds:,.0f} truce-days/s, ratio {days_b / seconds / rate_batch:,.0f}x"
        )

    # The engine each side used (TRUCE_ENGINE, default auto): (a) this process's next
    # one-truce model (asking does not count), (b) the fresh process's run.
    engine_a = "numba" if kernels.would_compile(1, horizon) else "numpy"
    engine_b = "numba" if compiled_b else "numpy"
    print(
        f"day engine: (a) {engine_a} (width 1), (b) {engine_b} (width {min(truces, 1000):,}); "
        f"TRUCE_ENGINE={os.environ.get('TRUCE_ENGINE', 'auto')}; "
        f"load average after: {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
