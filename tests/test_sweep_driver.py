"""The sweep driver stays small: what it imports, and a LocalCluster in a process of its own.

Issue 14's target is the driver's peak memory on a Dask LocalCluster. The
scheduler and the nannies run in a child process (``sim.experiment.cluster``),
so these tests check that child's life with the driver's: it serves the tasks,
it is gone after the sweep, after a Ctrl-C (which reaches the driver alone)
and after the driver is killed, and a child that cannot start is one error
line with nothing written. An LHS sweep's driver no longer imports SciPy (its
Latin hypercube is SciPy's, written in NumPy and checked equal here).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.experiment import storage

LHS = """\
extends: {base}
name: driver_lhs
truce: {{horizon: {horizon}}}
replicates: {truces}
sweep:
  lhs:
    n: {points}
    bounds:
      monitors.coverage: {{low: 0.1, high: 0.9}}
      truce.loophole_width: {{low: 0.1, high: 0.9}}
"""


@pytest.mark.parametrize("seed", [0, 7, 123_456_789, 2**32 - 1])
@pytest.mark.parametrize(("d", "n"), [(1, 1), (3, 10), (8, 1000)])
def test_the_latin_hypercube_is_scipys_value_for_value(seed, d, n):
    from scipy.stats import qmc

    from sim.scenario.designs import latin_hypercube

    expected = qmc.LatinHypercube(d=d, seed=seed).random(n)
    assert np.array_equal(latin_hypercube(d, n, seed), expected)


def test_an_lhs_designs_points_are_scipys_scaled_to_the_bounds(write_yaml, baseline_path):
    from scipy.stats import qmc

    from sim.scenario.designs import sample_matrix
    from sim.scenario.loading import load_scenario

    path = write_yaml(LHS.format(base=baseline_path, horizon=10, truces=2, points=37))
    scenario = load_scenario(path)
    assert scenario.sweep is not None
    found = sample_matrix(scenario.sweep, 11)
    unit = qmc.LatinHypercube(d=2, seed=11).random(37)
    assert np.array_equal(found, qmc.scale(unit, [0.1, 0.1], [0.9, 0.9]))


def test_an_lhs_sweeps_driver_imports_no_scipy(write_yaml, baseline_path, tmp_path):
    """SciPy's ``stats`` costs a driver ~60 MB; an LHS sweep (and its summary) needs none."""
    path = write_yaml(LHS.format(base=baseline_path, horizon=10, truces=3, points=4))
    code = (
        "import sys, sim\n"
        f"r = sim.sweep({str(path)!r}, out={str(tmp_path / 'out')!r}, engine='serial')\n"
        "assert r.manifest['status'] == 'complete' and len(r.summary_dict['groups']) == 4\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'SALib')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _cluster_processes(driver: int) -> list[psutil.Process]:
    found = []
    for p in psutil.Process(driver).children(recursive=True):
        try:
            if "sim.experiment.cluster" in " ".join(p.cmdline()):
                found.append(p)
        except psutil.Error:
            pass
    return found


def _gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(processes: list[psutil.Process], seconds: float) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(_gone(p) for p in processes):
        time.sleep(0.05)
    left = [p for p in processes if not _gone(p)]
    for p in left:  # do not leak them into the rest of the suite
        p.kill()
    return left


@pytest.mark.slow
def test_a_local_cluster_runs_in_its_own_process_and_is_closed_after():
    from distributed import Scheduler

    from sim.experiment.executors import open_executor

    with open_executor("dask", 1) as executor:
        (cluster,) = _cluster_processes(os.getpid())
        scheduler_here = list(Scheduler._instances)  # the scheduler is not in this process
        # functions the cluster's process can import (it unpickles each task, as do workers)
        squares = [executor.submit(pow, i, 2).result(timeout=60) for i in range(4)]
        pids = {executor.submit(os.getpid).result(timeout=60) for _ in range(3)}
        below = cluster.children(recursive=True)
        assert below, "the cluster's worker runs under its process"
    assert squares == [0, 1, 4, 9]
    assert os.getpid() not in pids and cluster.pid not in pids  # run in the worker
    assert not scheduler_here
    # closed with the executor: the cluster's process and its worker are gone
    assert not _wait_gone([cluster, *below], 10)


def test_a_cluster_that_cannot_start_is_one_line_and_leaves_nothing(
    write_yaml, baseline_path, tmp_path, monkeypatch
):
    import sim.experiment.cluster as cluster

    monkeypatch.setattr(cluster.sys, "executable", "/bin/false")  # the child exits at once
    path = write_yaml(LHS.format(base=baseline_path, horizon=10, truces=2, points=3))
    result = CliRunner().invoke(
        app, ["sweep", str(path), "--out", str(tmp_path / "out"), "--engine", "dask"]
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--engine" in lines[0], lines
    assert "did not start" in lines[0] and "exited with status 1" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_ctrl_c_on_a_dask_sweep_closes_the_cluster_and_resume_completes(
    write_yaml, baseline_path, tmp_path
):
    """Ctrl-C as a terminal sends it (SIGINT to the foreground process group).

    The cluster's process is in a session of its own, so the driver alone is
    interrupted: it cancels its tasks, writes the points that finished, closes
    the cluster and says how to resume; nothing is marked complete.
    """
    # Enough points that the sweep is still running when the first batch is on disk (at
    # 60 points the compiled day could finish them all before the interrupt arrived).
    points = 400
    path = write_yaml(LHS.format(base=baseline_path, horizon=60, truces=30, points=points))
    out = tmp_path / "out"
    args = [sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out)]
    args += ["--engine", "dask", "--workers", "1", "--no-report"]
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a shell job has
        env=os.environ | {"TRUCE_FLUSH_SECONDS": "0"},
        # As a shell starts a job: Ctrl-C not ignored. A test worker of pytest-xdist
        # ignores SIGINT, and a Python started with it ignored never sees it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if [*out.glob("*/*/points/batch-*.parquet")]:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep ended before it could be interrupted"
        below = psutil.Process(proc.pid).children(recursive=True)
        assert _cluster_processes(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert any(line.startswith("error: interrupted") for line in stderr.splitlines()), stderr
    assert "--resume" in stderr
    # No traceback at all: not through this package's code, and not the one the Dask client's
    # teardown let tornado or asyncio log ("Exception in callback", seen under load before
    # the driver quieted those loggers while it closes after an interrupt).
    assert not re.search(r'File "[^"]*[/\\]sim[/\\]', stderr), stderr
    assert "Traceback" not in stderr and "Exception in callback" not in stderr, stderr
    assert not _wait_gone(below, 10)
    (run_dir,) = (out / "driver_lhs").iterdir()
    assert storage.read_json(run_dir / storage.MANIFEST)["status"] != "complete"
    kept = set(storage.finished_points(run_dir)[0])
    assert 0 < len(kept) < points

    resumed = subprocess.run(
        [*args[:7], "--engine", "serial", "--no-report", "--resume", str(run_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    clean = sim.sweep(path, out=tmp_path / "clean", engine="serial")
    pd.testing.assert_frame_equal(storage.read_points(run_dir), storage.read_points(clean.path))
    assert storage.read_json(run_dir / storage.SUMMARY) == clean.summary_dict


@pytest.mark.slow
def test_a_dask_sweep_equals_the_serial_one(write_yaml, baseline_path, tmp_path):
    """Points, daily sums and summary byte for byte: the cluster's process changes no result."""
    path = write_yaml(LHS.format(base=baseline_path, horizon=30, truces=25, points=12))
    common = ["sweep", str(path), "--no-report", "--json", "--chunk-size", "10"]
    found = {}
    for engine in ("serial", "dask"):
        result = CliRunner().invoke(
            app, [*common, "--out", str(tmp_path / engine), "--engine", engine]
        )
        assert result.exit_code == 0, result.output
        found[engine] = Path(json.loads(result.stdout)["results"])
    serial, dask = found["serial"], found["dask"]
    for name in (storage.SUMMARY, "daily.parquet"):
        assert (serial / name).read_bytes() == (dask / name).read_bytes(), name
    pd.testing.assert_frame_equal(storage.read_points(serial), storage.read_points(dask))
