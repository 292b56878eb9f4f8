"""A real Dask cluster: a relative --out lands where the user ran the command.

The scheduler and the worker are started by the test as separate processes,
the worker from another working directory (as on a cluster, where workers
start in their job's folder), and ``truce`` is run with a relative ``--out``.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment import storage
from sim.experiment.daily import DAILY

BIN = Path(sys.executable).parent
SCENARIO = """\
extends: {base}
name: on_cluster
truce: {{horizon: 40}}
replicates: 40
compare:
  unmonitored: {{monitors: null}}
  monitored: {{monitors.coverage: 0.8}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _only_run(root: Path) -> Path:
    (folder,) = (root / "on_cluster").iterdir()
    return folder


@pytest.mark.slow
def test_relative_out_on_a_real_cluster_lands_in_the_callers_folder(
    write_yaml, baseline_path, tmp_path
):
    from dask.distributed import Client

    path = write_yaml(SCENARIO.format(base=baseline_path))
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = []
    try:
        processes.append(
            subprocess.Popen(
                [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port)]
                + ["--no-dashboard"],
                cwd=elsewhere,
                **quiet,
            )
        )
        processes.append(
            subprocess.Popen(
                [BIN / "dask", "worker", address, "--nthreads", "1", "--no-dashboard"]
                + ["--no-nanny", "--death-timeout", "30"],
                cwd=elsewhere,
                **quiet,
            )
        )
        with Client(address, timeout=30) as client:
            client.wait_for_workers(1, timeout=30)
        common = ["compare", str(path), "--seed", "7", "--chunk-size", "20", "--no-report"]
        done = subprocess.run(
            [BIN / "truce", *common, "--json", "--out", "results", "--engine", "dask"]
            + ["--scheduler", address],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        for proc in reversed(processes):
            _stop(proc)
    assert done.returncode == 0, done.stderr
    assert not (elsewhere / "results").exists()  # nothing went to the workers' folder
    run_dir = _only_run(here / "results")
    assert json.loads(done.stdout)["results"] == str(run_dir)  # absolute, the caller's folder
    manifest = storage.read_json(run_dir / storage.MANIFEST)
    assert manifest["status"] == "complete" and manifest["engine"] == "dask"
    parts = sorted((run_dir / "runs").glob("*.parquet"))
    assert len(parts) == 2 * 2  # two arms, two chunks of 20
    assert all(storage.part_rows(p) == 20 for p in parts)

    serial = CliRunner().invoke(
        app, [*common, "--out", str(tmp_path / "serial"), "--engine", "serial"]
    )
    assert serial.exit_code == 0, serial.output
    serial_dir = _only_run(tmp_path / "serial")
    assert (serial_dir / storage.SUMMARY).read_bytes() == (run_dir / storage.SUMMARY).read_bytes()
    for part in parts:
        assert (serial_dir / "runs" / part.name).read_bytes() == part.read_bytes()
    # the daily table: the workers' chunk tables, summed by the driver, as in series
    assert (serial_dir / DAILY).read_bytes() == (run_dir / DAILY).read_bytes()


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line_and_leaves_no_folder(
    write_yaml, baseline_path, tmp_path
):
    path = write_yaml(SCENARIO.format(base=baseline_path))
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    started = time.monotonic()
    result = CliRunner().invoke(
        app,
        ["compare", str(path), "--out", str(tmp_path / "out"), "--engine", "dask"]
        + ["--scheduler", address],
    )
    assert time.monotonic() - started < 30  # the short connect timeout, not Dask's 30 s default
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and address in lines[0] and "--scheduler" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("engine", ["local", "serial"])
def test_a_scheduler_without_the_dask_engine_is_an_error(
    write_yaml, baseline_path, tmp_path, engine
):
    path = write_yaml(SCENARIO.format(base=baseline_path))
    result = CliRunner().invoke(
        app,
        ["compare", str(path), "--out", str(tmp_path / "out"), "--engine", engine]
        + ["--scheduler", "tcp://127.0.0.1:8786"],
    )
    assert result.exit_code == 2, result.output
    assert "--scheduler" in result.stderr and "--engine dask" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_part_missing_after_its_task_reported_done_fails_the_run(
    write_yaml, baseline_path, tmp_path, monkeypatch
):
    """What a worker writing to another folder looks like to the driver: done, but no part."""
    import sim.experiment.storage

    path = write_yaml(SCENARIO.format(base=baseline_path))
    real = sim.experiment.storage.write_part
    written = []

    def elsewhere(run_dir, name, table):
        written.append(name)
        if len(written) == 2:  # this one goes to a folder the driver does not see
            return real(tmp_path / "worker-cwd", name, table)
        return real(run_dir, name, table)

    monkeypatch.setattr(sim.experiment.storage, "write_part", elsewhere)
    result = CliRunner().invoke(
        app,
        ["compare", str(path), "--out", str(tmp_path / "out"), "--engine", "serial"]
        + ["--chunk-size", "20", "--no-report"],
    )
    assert result.exit_code == 1, result.output
    assert "1 chunk(s) failed" in result.stderr and "is missing" in result.stderr
    run_dir = _only_run(tmp_path / "out")
    manifest = storage.read_json(run_dir / storage.MANIFEST)
    assert manifest["status"] == "failed" and manifest["failures"][0]["part"] == written[1]
    assert not (run_dir / storage.SUMMARY).exists()


SWEEP = """\
extends: {base}
name: driver_memory
truce: {{horizon: 5}}
replicates: 2
sweep:
  lhs:
    n: {n}
    bounds:
      monitors.coverage: {{low: 0.1, high: 0.9}}
      truce.loophole_width: {{low: 0.1, high: 0.9}}
"""

#: The driver of a sweep, in a process of its own (its resident memory is its own): the
#: resident set after each finished point, then whether its sweep was complete.
DRIVER = """\
import json, os, sys
import sim

def resident_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

if __name__ == "__main__":
    seen = []
    result = sim.sweep(sys.argv[1], out=sys.argv[2], engine="dask", workers=2,
                       progress=lambda done, total: seen.append(resident_kb()))
    print(json.dumps({"resident_kb": seen, "status": result.manifest["status"]}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads /proc (Linux)")
def test_a_sweep_drivers_memory_per_point_stays_bounded_on_a_local_cluster(baseline_path, tmp_path):
    """A real LocalCluster sweep: the driver's resident memory stays flat, point after point.

    The driver keeps a finished point's aggregates and daily sums until its batch is
    written (here every 2 s, ``TRUCE_FLUSH_SECONDS``), and the in-process scheduler its
    short developers' logs. Before issue 14's fixes it also kept each point's daily table
    as a DataFrame (~30 kB) and the last 1,000 messages with their pickled tasks: it grew
    ~23 kB a point over the first 400 points. Measured after the fixes: ~1.3 kB a point
    once batches are written. Measured side by side on this test's own sweep (quiet):
    c38b69c grew 13.3 and 12.3 kB a point over the second and the third third of the 240
    points, the fixed driver 5.5 and 1.8. A leak grows in every stretch of points; the
    allocator's and Arrow's one-off steps (arenas of 256 kB, a memory pool's growth)
    land in a few, and under load in several: the growth over whole thirds then failed
    a bound of 8 kB a point now and then (beside three other copies of this test: 1 run
    of 4 with the code of before session 8, 2 of 4 after, 2 of 3 in a scratch copy).
    So the bound is on the
    median growth over windows of 10 points after the first third: beside three other
    copies, 0.6-0.8 kB a point for this driver, 17.2 with a leak of 13 kB a point added
    on purpose (a scratch copy of DRIVER keeping 13 kB of bytes a point). On a slower
    machine (session 9, AMD EPYC), where the points come slower and the 2-s batches, each
    leaving a step, fall in more windows: 1.0-8.0 kB a point for this driver (five runs,
    one in a fresh clone's full test run, the others beside one or two copies of it), the
    8.0 failing the earlier bound of 8; 19.4 and 20.8 with the leak added on purpose. 13
    kB a point lies between.
    """
    points = 240
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP.format(base=baseline_path, n=points))
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    done = subprocess.run(
        [sys.executable, str(driver), str(path), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TRUCE_FLUSH_SECONDS": "2"},
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["status"] == "complete"
    seen = found["resident_kb"]
    assert len(seen) == points + 1  # once before the first point, then after each
    third, window = points // 3, 10
    grown = [(seen[k + window] - seen[k]) / window for k in range(third, points, window)]
    assert statistics.median(grown) < 13, f"kB a point over windows of {window} points: {grown}"
