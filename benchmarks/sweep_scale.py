"""A research-size sweep: driver memory and output size of a 10,000-point LHS sweep on Dask.

Usage::

    python benchmarks/sweep_scale.py [POINTS] [TRUCES] [HORIZON] [WORKERS] [--keep-runs]

Defaults: 10,000 points of a Latin hypercube over three levers, 20 truces a
point, 30 days, a Dask LocalCluster of 2 workers, per-point aggregates only
(the default of ``truce sweep``). Prints the driver's peak RSS (target
< 300 MB) and the size of the results folder (target < 50 MB), and first
the ``--dry-run`` forecast of the same sweep with its time against the
actual.

Why few truces a point: the driver never sees a truce. Each worker reduces
its point to one record (about 1.5 KB in memory, some 600 bytes in Parquet)
and sends that back, so the driver's memory (the records of one batch, the
window of tasks in flight, the design, the summary) and the output (the
points table, the summary) grow with the number of points and not with the
truces a point holds; the truces only set how long the sweep takes. The
script runs the same number of points at two sizes of point (TRUCES and
4 × TRUCES) when asked with ``--both`` and prints both figures to show it;
``--baseline`` runs 10 points alone, for the driver's memory without the
points (imports, the Dask client). ``--no-forecast`` skips the dry run.
``--keep-runs`` keeps one row per truce and the points' daily sums per point
(the output then grows with the truces and days; its target does not apply).

Besides the driver's peak RSS (``getrusage``: the driver process alone), it
prints the driver's resident set at three moments (imports done; the cluster
up, before the first point; the last point in, before the last writes and the
summary) and, sampled every 0.2 s, the peak of the LocalCluster's own process
(scheduler and nannies, ``sim.experiment.cluster``; before issue 14's session 7
they ran inside the driver) and of the largest Dask worker.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import lhs_sweep, machine


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Children:
    """Peak resident sets of this process's descendants, sampled in a thread."""

    def __init__(self, interval: float = 0.2):
        self.cluster = 0.0  # the LocalCluster's process (scheduler and nannies)
        self.worker = 0.0  # the largest Dask worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def __enter__(self) -> Children:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self, interval: float) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(interval):
            try:
                children = me.children(recursive=True)
            except psutil.Error:
                continue
            for child in children:
                try:
                    command = " ".join(child.cmdline())
                    mb = child.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                if "sim.experiment.cluster" in command:
                    self.cluster = max(self.cluster, mb)
                elif "resource_tracker" not in command:
                    self.worker = max(self.worker, mb)


def measure(
    points: int,
    truces: int,
    horizon: int,
    workers: int,
    tmp: Path,
    dry: bool = True,
    keep_runs: bool = False,
) -> None:
    """Forecast, run and measure one sweep; print the figures.

    The forecast (``--dry-run``) runs in a child process, as the CLI's would, so
    that its model runs do not count in this driver's peak RSS.
    """
    import sim

    path = tmp / f"sweep_scale_{truces}.yaml"
    path.write_text(lhs_sweep("sweep_scale", points, truces, horizon))
    seconds = float("nan")
    if dry:
        import json
        import subprocess

        command = [sys.executable, "-m", "sim", "sweep", str(path), "--dry-run", "--json"]
        command += ["--engine", "dask", "--workers", str(workers)]
        command += ["--keep-runs"] if keep_runs else []
        found = json.loads(subprocess.run(command, capture_output=True, check=True).stdout)
        seconds = found["seconds"]
        work = found["tasks"] * found["seconds_per_task"] / found["workers"]
        overhead = found["tasks"] * found.get("overhead_seconds_per_task", 0.0)
        print(
            f"dry-run forecast: {seconds:.0f} s = start-up {found['startup_seconds']:.1f} s "
            f"+ work {work:.1f} s + overhead {overhead:.1f} s, "
            f"disk {found['disk_bytes'] / 2**20:.1f} MB ({found['method']})"
        )
    import sim.api  # noqa: F401 - what the driver imports, before the phases are read

    moments = {"imports": _resident_mb()}

    def progress(done: int, total: int) -> None:
        if "cluster up" not in moments:
            moments["cluster up"] = _resident_mb()
        if done == total:
            moments["last point in"] = _resident_mb()

    start = time.perf_counter()
    with Children() as children:
        result = sim.sweep(
            path,
            out=tmp / "out",
            engine="dask",
            workers=workers,
            progress=progress,
            store_runs=keep_runs,  # as `truce sweep --keep-runs`: stored, not loaded
        )
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    assert result.path is not None
    size = _size(result.path)
    print(
        f"{points:,} points x {truces} truces x {horizon} days on a Dask LocalCluster of "
        f"{workers} workers: {took:.0f} s (forecast {seconds:.0f} s, "
        f"{seconds / took:.2f} of it)"
    )
    phases = ", ".join(f"{k} {v:.0f} MB" for k, v in moments.items())
    print(f"  driver peak RSS {peak:.0f} MB (target < 300 MB); driver at {phases}")
    where = (
        f"cluster process (scheduler, nannies) peak {children.cluster:.0f} MB"
        if children.cluster
        else "no cluster process (the scheduler and nannies ran in the driver)"
    )
    print(f"  {where}; largest worker peak {children.worker:.0f} MB")
    print(
        f"  output {size / 2**20:.1f} MB in {_files(result.path)} files "
        f"(target < 50 MB): points {_size(result.path / 'points') / 2**20:.1f} MB, "
        f"summary.json {(result.path / 'summary.json').stat().st_size / 2**20:.1f} MB"
    )


def main(points: int = 10_000, truces: int = 20, horizon: int = 30, workers: int = 2) -> None:
    print(f"machine: {machine()}")
    print(f"pid {os.getpid()}, Python {sys.version.split()[0]}")
    if "--both" in sys.argv:  # each size in its own process: a peak RSS is per process
        import subprocess

        for size in (truces, 4 * truces):
            args = [str(points), str(size), str(horizon), str(workers)]
            subprocess.run([sys.executable, __file__, *args], check=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        if "--baseline" in sys.argv:  # what the driver takes with a handful of points
            measure(10, truces, horizon, workers, Path(tmp), dry=False)
        else:
            dry = "--no-forecast" not in sys.argv
            keep = "--keep-runs" in sys.argv
            measure(points, truces, horizon, workers, Path(tmp), dry=dry, keep_runs=keep)
    print(f"load after: {machine().rsplit(', ', 1)[1]}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:] if not a.startswith("--")]
    main(*args)
