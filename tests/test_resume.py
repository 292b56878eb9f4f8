"""Streaming storage and resume: a sweep killed with SIGKILL completes to the same result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.experiment import storage
from sim.experiment.daily import read_daily

SWEEP = """\
extends: {base}
name: resumable
truce: {{horizon: 200}}
replicates: 60
sweep:
  grid:
    monitors.coverage: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
"""
CHUNK = 20  # 10 points x 3 chunks: a point (its 3 chunks, reduced) is one task


def _batches(run_dir: Path, folder: str = "points") -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((run_dir / folder).glob("*.parquet"))}


def _truce(*args: str) -> list[str]:
    return [sys.executable, "-m", "sim", *args]


@pytest.mark.slow
def test_resume_after_kill_gives_the_uninterrupted_result(write_yaml, baseline_path, tmp_path):
    path = write_yaml(SWEEP.format(base=baseline_path), "resumable.yaml")
    out = tmp_path / "results"
    common = [
        "sweep",
        str(path),
        "--out",
        str(out),
        "--engine",
        "serial",
        "--chunk-size",
        str(CHUNK),
        "--no-report",
        "--json",
        "--keep-runs",
    ]
    # every finished point written at once (the default waits up to two minutes)
    env = os.environ | {"TRUCE_FLUSH_SECONDS": "0"}
    proc = subprocess.Popen(
        _truce(*common), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    runs = out / "resumable"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        parts = list(runs.glob("*/points/*.parquet"))
        if len(parts) >= 3 or proc.poll() is not None:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    (run_dir,) = runs.iterdir()
    before = _batches(run_dir)
    assert 3 <= len(before) < 10, "the sweep should be killed part-way"
    assert storage.read_json(run_dir / "manifest.json")["status"] == "running"
    done_before = set(storage.read_points(run_dir)["task"])

    # the same command again with --resume (no folder): finds the unfinished run
    done = subprocess.run(_truce(*common, "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert list(runs.iterdir()) == [run_dir]
    after = _batches(run_dir)
    assert all(after[name] == data for name, data in before.items())  # finished points kept
    points = storage.read_points(run_dir)
    assert len(points) == 10 and points["task"].is_unique  # none run twice
    assert done_before < set(points["task"])
    manifest = storage.read_json(run_dir / "manifest.json")
    assert manifest["status"] == "complete" and len(manifest["resumed"]) == 1
    # a runs batch is written before its points batch: none is left without its points
    assert set(_batches(run_dir, "runs")) <= set(after)

    clean = sim.sweep(
        path, out=tmp_path / "clean", chunk_size=CHUNK, engine="serial", store_runs=True
    )
    pd.testing.assert_frame_equal(storage.read_points(clean.path), points)
    pd.testing.assert_frame_equal(storage.read_runs(clean.path), storage.read_runs(run_dir))
    assert storage.read_json(run_dir / "summary.json") == clean.summary_dict
    # the daily table merges every chunk once, those from before the kill included
    pd.testing.assert_frame_equal(read_daily(run_dir), read_daily(clean.path), check_exact=True)


def test_resume_refuses_a_folder_of_another_experiment(write_yaml, baseline_path, tmp_path):
    from sim.scenario.errors import ScenarioError

    path = write_yaml(SWEEP.format(base=baseline_path), "resumable.yaml")
    first = sim.sweep(path, out=tmp_path, replicates=20, chunk_size=CHUNK, engine="serial")
    with pytest.raises(ScenarioError, match="differs in .*replicates"):
        sim.sweep(
            path, out=tmp_path, replicates=40, chunk_size=CHUNK, engine="serial", resume=first.path
        )
    with pytest.raises(ScenarioError, match="no unfinished sweep"):
        sim.sweep(path, out=tmp_path, replicates=20, chunk_size=CHUNK, engine="serial", resume=True)


def test_points_and_kept_runs_stream_to_disk_in_batches(write_yaml, baseline_path, tmp_path):
    path = write_yaml(SWEEP.format(base=baseline_path), "resumable.yaml")
    result = sim.sweep(
        path, out=tmp_path, replicates=40, chunk_size=CHUNK, engine="serial", store_runs=True
    )
    assert result.runs is None
    assert sorted(p.name for p in (result.path / "points").iterdir()) == ["batch-000000.parquet"]
    assert sorted(p.name for p in (result.path / "runs").iterdir()) == ["batch-000000.parquet"]
    assert list(storage.read_points(result.path)["point"]) == list(range(10))
    runs = result.load_runs()
    assert len(runs) == 400 and runs["monitors.coverage"].nunique() == 10
    manifest = storage.read_json(result.path / "manifest.json")
    for key in (
        "scenario",
        "design",
        "seed",
        "chunk_size",
        "versions",
        "git_commit",
        "started",
        "finished",
        "engine",
    ):
        assert key in manifest
    values = [round(0.1 * i, 1) for i in range(1, 11)]
    assert [d["overrides"] for d in manifest["design"]] == [
        {"monitors.coverage": v} for v in values
    ]
    summary = storage.read_json(result.path / "summary.json")
    assert [g["parameters"] for g in summary["groups"]] == [
        {"monitors.coverage": v} for v in values
    ]
