"""What numba's load costs a fresh process, against what the compiled day saves there.

Each round starts two fresh interpreters, one per engine (``TRUCE_ENGINE=numpy`` and
``numba``), alternated; each builds one chunk of ``baseline.yaml`` (TRUCES truces, HORIZON
days) after the package's own imports, and prints the CPU seconds of

- **load**: ``import numba`` (numba only), the model's build and its first day: for numba,
  the kernels' module and the cached kernels loaded (17 of them) on top of NumPy's build;
- **run**: the other days, until every truce has ended or the horizon is reached.

Printed: the medians over the rounds, numba's load (its *load* minus NumPy's) against
``kernels.LOAD_SECONDS``, the saving on the run against ``kernels.saving(TRUCES,
HORIZON)``, and what ``auto`` decides for such a chunk in a fresh process that was not
told its work. The kernels must be in numba's cache already (``make test`` or ``make app``
put them there). Usage::

    python benchmarks/numba_load.py [ROUNDS] [TRUCES] [HORIZON]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from _common import BASELINE, ROOT, machine

CHILD = """
import os, sys, time
from sim.model.model import CeasefireModel
from sim.scenario.loading import load_scenario
scenario = load_scenario({path!r}, {{"truce.horizon": {horizon}}})
clock = time.process_time
start = clock()
if os.environ["TRUCE_ENGINE"] == "numba":
    import numba
model = CeasefireModel(scenario, replicates={truces}, seed=1, chunk=0, collect=False)
model.step()
loaded = clock()
while model.running:
    model.step()
print(model.kernel_engine, loaded - start, clock() - loaded)
"""


def once(engine: str, truces: int, horizon: int) -> tuple[float, float]:
    """CPU seconds of the load and of the run in a fresh interpreter under ``engine``."""
    code = CHILD.format(path=str(BASELINE), horizon=horizon, truces=truces)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "TRUCE_ENGINE": engine},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == engine, out
    return float(out[1]), float(out[2])


def main(rounds: int = 8, truces: int = 1000, horizon: int = 180) -> None:
    from sim.model import kernels

    print(f"machine: {machine()}")
    times: dict[str, list[tuple[float, float]]] = {"numpy": [], "numba": []}
    once("numba", 10, 5)  # the kernels in the page cache, not the first round's disk
    for _ in range(rounds):
        for engine in times:
            times[engine].append(once(engine, truces, horizon))
    med = {
        engine: tuple(statistics.median(x[i] for x in got) for i in (0, 1))
        for engine, got in times.items()
    }
    for engine, (load, run) in med.items():
        print(f"  {engine:5s}: load {load:.3f} s, run {run:.3f} s (CPU, medians of {rounds})")
    load = med["numba"][0] - med["numpy"][0]
    saved = med["numpy"][1] - med["numba"][1]
    compiles = kernels.would_compile_afresh(truces, horizon, 0.0)
    print(
        f"numba's load {load:.3f} s (kernels.LOAD_SECONDS {kernels.LOAD_SECONDS}); "
        f"saved on {truces:,} truces x {horizon} days {saved:.3f} s "
        f"(kernels.saving {kernels.saving(truces, horizon):.3f} s); "
        f"compiled is {'faster' if saved > load else 'slower'} for such a lone chunk, "
        f"auto runs it on {'numba' if compiles else 'NumPy'}"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
