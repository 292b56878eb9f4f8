"""Interactive target: a 2-arm compare, 1,000 replicates per arm, 180 days, with its report.

Times the whole command from the shell, Python start-up included::

    truce compare scenarios/monitoring.yaml -n 1000 --set truce.horizon=180

Target (issue 14): under 1.5 s wall on an idle 2-core machine, report included,
printed as a ratio to a bare ``python -c "import numpy, pandas, pyarrow"`` timed
in the same rounds, so that the figure means something on a machine of another
speed or under load (the ratio moves less than the seconds). The report's size
is printed too (target: under 1.5 MB). Usage: ``python benchmarks/interactive.py
[REPEATS]`` (default 5 rounds; the best and the median of each variant).

It also times the command without the report, in-process (``--engine serial``),
with 4 chunks of 500, and with the two chunks on two ``fork``-started workers
(the engine plan forced from a ``python -c`` wrapper, since the command line
asks for ``spawn`` whenever ``--workers`` is given), to revisit whether small
jobs should run in-process or on forked workers. The variants are interleaved,
round by round, so that a change of load hits them alike. Each line says which
plan (engine, workers, start method) the runs used.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
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
    if not proc.stdout.strip():  # the bare import
        return wall, cpu, ""
    printed = json.loads(proc.stdout)
    manifest = json.loads((Path(printed["results"]) / "manifest.json").read_text())
    plan = f"{manifest['engine']}, {manifest['workers']} worker(s)"
    if manifest.get("start_method"):
        plan += f", {manifest['start_method']}"
    if printed.get("report"):
        plan += f"; report {Path(printed['report']).stat().st_size / 1e6:.2f} MB"
    return wall, cpu, plan


BARE = "python -c 'import numpy, pandas, pyarrow'"
WITH_REPORT = "default engine, with the report"


def compile_package() -> str:
    """Write the package's bytecode (``sim/**/__pycache__``), as pip does when it installs one.

    An editable install (``make``) leaves it to the first import, and with
    ``PYTHONDONTWRITEBYTECODE`` set (as in this project's sessions) every run
    compiled the package's ~60 modules again, ~0.1 s of CPU that a user's
    ``truce`` does not pay; NumPy, pandas and pyarrow, the bare import, have theirs.
    """
    done = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "sim")],
        capture_output=True,
        text=True,
    )
    return "sim's bytecode written" if done.returncode == 0 else "sim's bytecode NOT written"


def main(repeats: int = 5) -> None:
    print(f"machine: {machine()}; {compile_package()}")
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
            BARE: [sys.executable, "-c", "import numpy, pandas, pyarrow"],
            WITH_REPORT: base,
            "--engine serial, with the report": [*base, "--engine", "serial"],
            "default engine, --no-report": quick,
            "--engine serial, --no-report": [*quick, "--engine", "serial"],
            "2 forked workers, --no-report": [sys.executable, "-c", FORKED, *quick[1:]],
            "4 chunks of 500, --no-report": [*quick, "--chunk-size", "500"],
        }
        runs: dict[str, list[tuple[float, float, str]]] = {k: [] for k in variants}
        loads = []
        for _ in range(repeats):  # interleaved, so that a change of load hits all alike
            for name, args in variants.items():
                runs[name].append(_time(args))
            loads.append(os.getloadavg()[0])
    print(
        f"truce compare, 2 arms x 1,000 replicates x 180 days ({repeats} interleaved rounds; "
        f"load average {min(loads):.1f}-{max(loads):.1f} during them):"
    )
    bare_best = min(t[0] for t in runs[BARE])
    bare_median = statistics.median(t[0] for t in runs[BARE])
    bare_cpu = min(t[1] for t in runs[BARE])
    for name, times in runs.items():
        walls = [t[0] for t in times]
        best, median = min(walls), statistics.median(walls)
        cpu = min(t[1] for t in times)
        plans = "; ".join(sorted({t[2] for t in times if t[2]}))
        print(
            f"  {name:<36} best {best:.2f} s ({best / bare_best:.1f}x bare), median "
            f"{median:.2f} s ({median / bare_median:.1f}x), CPU {cpu:.2f} s "
            f"({cpu / bare_cpu:.1f}x)" + (f" ({plans})" if plans else "")
        )
    print("target: < 1.5 s wall with the report on an idle 2-core machine; report < 1.5 MB")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
