"""Interactive target: a 2-arm compare, 1,000 replicates per arm, 180 days, from the shell.

Times the whole command, Python start-up included::

    truce compare scenarios/monitoring.yaml -n 1000 --set truce.horizon=180 --no-report

best of REPEATS runs (default 3), then once with the HTML report. Target: < 2 s
wall on a 2-core machine. Usage: ``python benchmarks/interactive.py [REPEATS]``.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine

TRUCE = str(Path(sys.executable).with_name("truce"))


def _time(args: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the command and its workers)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


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
        quick = min(_time([*base, "--no-report"]) for _ in range(repeats))
        forked = min(_time([*base, "--no-report", "--chunk-size", "500"]) for _ in range(repeats))
        report = _time(base)
    print("truce compare, 2 arms x 1,000 replicates x 180 days (wall / CPU seconds):")
    print(
        f"  default engine (serial, 2 chunks): {quick[0]:.2f} s wall, {quick[1]:.2f} s CPU "
        f"(best of {repeats}; target < 2 s wall)"
    )
    print(
        f"  --chunk-size 500 (4 chunks, 2 forked workers): {forked[0]:.2f} s wall, "
        f"{forked[1]:.2f} s CPU"
    )
    print(f"  default engine with the report:    {report[0]:.2f} s wall, {report[1]:.2f} s CPU")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
