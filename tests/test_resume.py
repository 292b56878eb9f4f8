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
replicates: 600
sweep:
  grid:
    monitors.coverage: [0.3, 0.9]
"""
CHUNK = 20  # 2 points x 30 chunks


def _parts(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((run_dir / "runs").glob("*.parquet"))}


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
    ]
    proc = subprocess.Popen(_truce(*common), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    runs = out / "resumable"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        parts = list(runs.glob("*/runs/*.parquet"))
        if len(parts) >= 4 or proc.poll() is not None:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    (run_dir,) = runs.iterdir()
    before = _parts(run_dir)
    assert 4 <= len(before) < 60, "the sweep should be killed part-way"
    assert storage.read_json(run_dir / "manifest.json")["status"] == "running"

    # the same command again with --resume (no folder): finds the unfinished run
    done = subprocess.run(_truce(*common, "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert list(runs.iterdir()) == [run_dir]
    after = _parts(run_dir)
    assert len(after) == 60
    assert all(after[name] == data for name, data in before.items())  # finished chunks kept
    manifest = storage.read_json(run_dir / "manifest.json")
    assert manifest["status"] == "complete" and len(manifest["resumed"]) == 1

    clean = sim.sweep(path, out=tmp_path / "clean", chunk_size=CHUNK, engine="serial")
    assert _parts(clean.path) == after
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


def test_parts_stream_to_disk_and_the_summary_reads_few_columns(
    write_yaml, baseline_path, tmp_path
):
    path = write_yaml(SWEEP.format(base=baseline_path), "resumable.yaml")
    result = sim.sweep(
        path, out=tmp_path, replicates=40, chunk_size=CHUNK, engine="serial", keep_runs=False
    )
    assert result.runs is None
    names = sorted(p.name for p in (result.path / "runs").glob("*.parquet"))
    assert names == [f"arm-000-point-{p:07d}-chunk-{c:06d}.parquet" for p in (0, 1) for c in (0, 1)]
    runs = result.load_runs()
    assert len(runs) == 80 and set(runs["monitors.coverage"]) == {0.3, 0.9}
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
    assert [d["overrides"] for d in manifest["design"]] == [
        {"monitors.coverage": 0.3},
        {"monitors.coverage": 0.9},
    ]
    summary = storage.read_json(result.path / "summary.json")
    assert [g["parameters"] for g in summary["groups"]] == [
        {"monitors.coverage": 0.3},
        {"monitors.coverage": 0.9},
    ]
