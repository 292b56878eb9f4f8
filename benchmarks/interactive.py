"""Interactive target: a 2-arm compare, 1,000 replicates per arm, 180 days, from the shell.

Times the whole command, Python start-up included::

    truce compare scenarios/monitoring.yaml -n 1000 --set truce.horizon=180 --no-report

best of REPEATS runs (default 3), then once with the HTML report. Target: < 2 s
wall on a 2-core machine. Usage: ``python benchmarks/interactive.py [REPEATS]``.

It also times the same two chunks on two ``fork``-started workers (the engine
plan forced from a ``python -c`` wrapper, since the command line asks for
``spawn`` whenever ``--workers`` is given), to revisit whether small jobs
should run in-process (the default) or on forked workers. The variants are
interleaved so that a change of load hits them alike. Each line says which
plan (engine, workers, start method) the runs used.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine

TRUCE = str(Path(sys.executable).with_name("truce"))
FORKED = (
    "import sys\n"
    "import sim.experiment.executors as E\n"
    "E.choose_engine = lambda engine, workers, tasks: E.Plan('local', 2, 'fork')\n"
    "from sim.cli import main\n"
    "sys.argv[0] = 'truce'\n"
    "main()\n"
)


def _time(args: list[str]) -> tuple[float, float, str]:
    """Wall time, CPU time (user + system, the command and its workers) and the plan used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    manifest = json.loads((Path(json.loads(proc.stdout)["results"]) / "manifest.json").read_text())
    plan = f"{manifest['engine']}, {manifest['workers']} worker(s)"
    if manifest.get("start_method"):
        plan += f", {manifest['start_method']}"
    return wall, cpu, plan


def main(repeats: int = 3) -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        base = [
            TRUCE,
            "compare",
            str(ROOT / "scenarios" / "monitoring.yaml"),
            "-n",
            "1000",
            "--set",
            "truce.horizon=180",
            "--out",
            tmp,
            "--json",
        ]
        quick = [*base, "--no-report"]
        variants = {
            "default engine, 2 chunks": quick,
            "--engine serial (in-process)": [*quick, "--engine", "serial"],
            "2 chunks on 2 forked workers": [sys.executable, "-c", FORKED, *quick[1:]],
            "--chunk-size 500 (4 chunks)": [*quick, "--chunk-size", "500"],
        }
        runs: dict[str, list[tuple[float, float, str]]] = {k: [] for k in variants}
        for _ in range(repeats):  # interleaved, so that a change of load hits all alike
            for name, args in variants.items():
                runs[name].append(_time(args))
        report = _time(base)
    print(f"truce compare, 2 arms x 1,000 replicates x 180 days (best of {repeats}):")
    for name, times in runs.items():
        wall, cpu, _ = min(times)
        plans = "; ".join(sorted({t[2] for t in times}))
        print(f"  {name:<32} {wall:.2f} s wall, {cpu:.2f} s CPU ({plans})")
    print(
        f"  {'default engine, with the report':<32} {report[0]:.2f} s wall, {report[1]:.2f} s CPU"
    )
    print("target: < 2 s wall for the default engine without the report")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
