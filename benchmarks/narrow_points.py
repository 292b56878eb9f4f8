"""A sweep of many narrow points, NumPy's day against ``auto``, each a fresh ``truce sweep``.

A research sweep often has thousands of design points of a few dozen truces each. Below
~500 truces a day of NumPy's path is mostly its ~700 calls' fixed cost (~2 ms a day), which
the compiled day does not pay; ``auto`` compiles a study's chunks, however narrow, when the
study's work would pay for numba's load (``sim.model.kernels.saving``, told to each process
the study runs in). This script times, from the shell and interleaved over ROUNDS rounds:

- ``TRUCE_ENGINE=numpy``: every point on NumPy's day (what ``auto`` did before session 13
  for points under 500 truces);
- ``auto`` (the default).

Each is ``python -m sim sweep FILE --no-report`` on an LHS sweep of ``baseline.yaml`` over
two levers (POINTS points × TRUCES truces × HORIZON days), serial and with two local
workers. It prints the medians, the ratio numpy / auto, and checks that both stored the
same points table (the engines agree bit for bit). Usage::

    python benchmarks/narrow_points.py [POINTS] [TRUCES] [HORIZON] [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import lhs_sweep, machine


def sweep(path: Path, out: Path, engine: str, workers: list[str]) -> float:
    """Wall seconds of one ``truce sweep`` in a fresh process under ``TRUCE_ENGINE=engine``."""
    command = [sys.executable, "-m", "sim", "sweep", str(path), "--no-report", "--out", str(out)]
    env = os.environ | {"TRUCE_ENGINE": engine}
    start = time.perf_counter()
    subprocess.run(command + workers, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def points_table(out: Path) -> pd.DataFrame:
    """The stored points, in the design's order."""
    (folder,) = (out / "narrow_points").iterdir()
    parts = sorted((folder / "points").glob("*.parquet"))
    table = pd.concat([pd.read_parquet(p) for p in parts])
    return table.sort_values("point").reset_index(drop=True)


def main(points: int = 400, truces: int = 30, horizon: int = 60, rounds: int = 3) -> None:
    print(f"machine: {machine()}")
    print(f"sweep: {points} points x {truces} truces x {horizon} days, {rounds} rounds, wall time")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.yaml"
        path.write_text(lhs_sweep("narrow_points", points, truces, horizon, levers=2))
        for label, workers in (("serial", ["--engine", "serial"]), ("2 workers", ["-w", "2"])):
            times: dict[str, list[float]] = {"numpy": [], "auto": []}
            tables: dict[str, pd.DataFrame] = {}
            for r in range(rounds):
                for engine in times:
                    out = Path(tmp) / f"{label}-{engine}-{r}"
                    times[engine].append(sweep(path, out, engine, workers))
                    tables[engine] = points_table(out)
            same = tables["numpy"].equals(tables["auto"])
            numpy_s, auto_s = (statistics.median(times[e]) for e in ("numpy", "auto"))
            print(
                f"{label:>9}: numpy {numpy_s:6.2f} s, auto {auto_s:6.2f} s "
                f"(each {', '.join(f'{t:.2f}' for t in times['auto'])}): "
                f"**{numpy_s / auto_s:.2f}x**; {numpy_s / points * 1e3:.0f} -> "
                f"{auto_s / points * 1e3:.0f} ms a point; points tables equal: {same}"
            )
            if not same:
                raise SystemExit("the two engines stored different points")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:5]))
