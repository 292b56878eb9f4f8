"""Faults lose nothing and mislead no one: dead workers, a killed driver, a full disk.

Each test breaks a real run (the CLI, in a subprocess where a process must
die) and checks that what is left on disk says what happened, and that
``--resume`` then completes to exactly the uninterrupted result.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app, resume_flag
from sim.experiment import storage

ROOT = Path(__file__).resolve().parent.parent
SWEEP = """\
extends: {base}
name: faulty
truce: {{horizon: 120}}
replicates: 40
sweep:
  grid:
    monitors.coverage: {{low: 0.05, high: 1.0, steps: 20}}
"""
CHUNK = 10  # 20 points (tasks) x 4 chunks: long enough to be caught part-way
#: Finished points written at once, so that a run killed part-way has some on disk.
FLUSH = os.environ | {"TRUCE_FLUSH_SECONDS": "0"}
SMALL = """\
extends: {base}
name: small
truce: {{horizon: 40}}
replicates: 60
compare:
  unmonitored: {{monitors: null}}
  monitored: {{monitors.coverage: 0.8}}
"""


def _parts(run_dir: Path) -> dict[str, bytes]:
    found = sorted([*(run_dir / "runs").glob("*.parquet"), *(run_dir / "points").glob("*")])
    return {f"{p.parent.name}/{p.name}": p.read_bytes() for p in found}


def _points(run_dir: Path) -> pd.DataFrame:
    return storage.read_points(run_dir)


def _leftovers(run_dir: Path) -> list[Path]:
    return [*run_dir.glob(".*"), *(run_dir / "runs").glob(".*"), *(run_dir / "points").glob(".*")]


def _truce(*args: str) -> list[str]:
    return [sys.executable, "-m", "sim", *args]


def _only_run(root: Path, name: str) -> Path:
    (folder,) = (root / name).iterdir()
    return folder


def _wait_for_parts(root: Path, n: int, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if len([*root.glob("*/*/runs/*.parquet"), *root.glob("*/*/points/*.parquet")]) >= n:
            return
        time.sleep(0.05)
    pytest.fail("the run ended (or stalled) before it could be interrupted")


def _gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _workers(driver: int) -> list[psutil.Process]:
    """The pool's worker processes (not multiprocessing's resource tracker)."""
    children = psutil.Process(driver).children(recursive=True)
    return [p for p in children if "resource_tracker" not in " ".join(p.cmdline())]


@pytest.fixture
def sweep_path(write_yaml, baseline_path):
    return write_yaml(SWEEP.format(base=baseline_path), "faulty.yaml")


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The uninterrupted sweep, run in this process on the serial engine."""
    folder = tmp_path_factory.mktemp("clean")
    path = folder / "faulty.yaml"
    path.write_text(SWEEP.format(base=ROOT / "scenarios" / "baseline.yaml"))
    return sim.sweep(path, out=folder / "out", chunk_size=CHUNK, engine="serial", keep_runs=False)


@pytest.mark.slow
def test_a_killed_worker_fails_the_chunks_cleanly_and_resume_completes(sweep_path, tmp_path, clean):
    out = tmp_path / "out"
    args = ["sweep", str(sweep_path), "--out", str(out), "--chunk-size", str(CHUNK)]
    args += ["--engine", "local", "--workers", "2", "--no-report"]  # --workers: a spawn pool
    proc = subprocess.Popen(
        _truce(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=FLUSH
    )
    _wait_for_parts(out, 2, proc)
    workers = _workers(proc.pid)
    assert workers, "the pool should have worker processes"
    workers[0].send_signal(signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=120)
    stderr = stderr.decode()
    assert proc.returncode == 1, stderr
    assert "chunk(s) failed" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr and "BrokenProcessPool" in stderr
    run_dir = _only_run(out, "faulty")
    assert storage.read_json(run_dir / storage.MANIFEST)["status"] == "failed"
    assert not (run_dir / storage.SUMMARY).exists()  # no summary of part of the design

    serial = [*args[:6], "--engine", "serial", "--no-report", "--resume"]  # the engine may change
    done = subprocess.run(_truce(*serial), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(_points(run_dir), _points(clean.path))
    assert storage.read_json(run_dir / storage.SUMMARY) == clean.summary_dict
    assert not _leftovers(run_dir)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["local", "dask"])
def test_workers_stop_when_the_driver_is_killed(sweep_path, tmp_path, engine):
    out = tmp_path / "out"
    args = ["sweep", str(sweep_path), "--out", str(out), "--chunk-size", str(CHUNK)]
    args += ["--engine", engine, "--workers", "2", "--no-report"]
    proc = subprocess.Popen(
        _truce(*args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=FLUSH
    )
    try:
        _wait_for_parts(out, 1, proc)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "the run should have worker processes"
    finally:
        proc.kill()  # SIGKILL, as the OOM killer would
        proc.wait()
    # The workers poll for their parent every 0.2 s; a few seconds is ample on a loaded machine.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(_gone(p) for p in children):
        time.sleep(0.05)
    left = [p for p in children if not _gone(p)]
    for p in left:  # do not leak them into the rest of the suite
        p.kill()
    assert not left, f"still running after the driver died: {[p.cmdline() for p in left]}"
    run_dir = _only_run(out, "faulty")
    before = _parts(run_dir)
    time.sleep(1)
    assert _parts(run_dir) == before  # nothing is written any more


def test_a_full_disk_fails_clearly_and_resume_completes(write_yaml, baseline_path, tmp_path):
    """ENOSPC from the part writer, through the real CLI and ``_experiment``."""
    import sim.experiment.storage

    path = write_yaml(SMALL.format(base=baseline_path))
    out = tmp_path / "out"
    args = ["compare", str(path), "--out", str(out), "--engine", "serial", "--chunk-size", "20"]
    real = sim.experiment.storage.write_part
    writes = []

    def filling(run_dir, name, table):
        writes.append(name)
        if len(writes) > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(run_dir))
        return real(run_dir, name, table)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sim.experiment.storage, "write_part", filling)
        full = CliRunner().invoke(app, args)
    assert full.exit_code == 1, full.output
    assert "No space left on device" in full.stderr and "Free some space" in full.stderr
    assert "Traceback" not in full.output
    run_dir = _only_run(out, "small")
    manifest = storage.read_json(run_dir / storage.MANIFEST)
    assert manifest["status"] == "failed" and len(manifest["failures"]) == 4
    assert not (run_dir / storage.SUMMARY).exists()
    # the failure record is compact: one traceback, one line of JSON
    assert sum(bool(f["traceback"]) for f in manifest["failures"]) == 1
    assert len((run_dir / storage.MANIFEST).read_text().splitlines()) == 1
    assert not (run_dir / storage.RESERVE).exists()

    resumed = CliRunner().invoke(app, [*args, "--resume", str(run_dir)])
    assert resumed.exit_code == 0, resumed.output
    clean = sim.compare(path, out=tmp_path / "clean", engine="serial", chunk_size=20)
    assert _parts(run_dir) == _parts(clean.path)
    assert storage.read_json(run_dir / storage.SUMMARY) == clean.summary_dict
    assert not _leftovers(run_dir)


def test_a_run_killed_while_writing_its_report_is_finished_by_resume(
    write_yaml, baseline_path, tmp_path, monkeypatch
):
    import sim.present.report

    path = write_yaml(SMALL.format(base=baseline_path))
    out = tmp_path / "out"
    args = ["compare", str(path), "--out", str(out), "--engine", "serial", "--chunk-size", "20"]
    real = sim.present.report.build_report

    def killed(results_dir, png=False):
        # what a writer killed mid-way leaves: its temporary file
        (Path(results_dir) / ".report.html.x1y2.tmp").write_text("<html>half")
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.present.report, "build_report", killed)
    cut = CliRunner().invoke(app, args)
    assert cut.exit_code == 130, cut.output
    run_dir = _only_run(out, "small")
    assert not (run_dir / "report.html").exists()

    monkeypatch.setattr(sim.present.report, "build_report", real)
    done = CliRunner().invoke(app, resume_flag([*args, "--resume"]))  # alone: finds the run
    assert done.exit_code == 0, done.output
    assert (run_dir / "report.html").is_file()
    manifest = storage.read_json(run_dir / storage.MANIFEST)
    assert manifest["status"] == "complete" and "report" not in manifest
    assert not _leftovers(run_dir)
    # a finished run is not resumed again
    again = CliRunner().invoke(app, resume_flag([*args, "--resume"]))
    assert again.exit_code == 2 and "no unfinished compare" in again.stderr


def test_out_on_a_file_is_one_message_and_leaves_nothing(write_yaml, baseline_path, tmp_path):
    path = write_yaml(SMALL.format(base=baseline_path))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for out in (blocker, blocker / "below"):
        result = CliRunner().invoke(app, ["compare", str(path), "--out", str(out)])
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "--out" in lines[0] and "is a file" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "scenario.yaml"]
    assert blocker.read_text() == "not a folder"


def test_out_on_a_read_only_location_is_one_message_and_leaves_nothing(
    write_yaml, baseline_path, tmp_path
):
    path = write_yaml(SMALL.format(base=baseline_path))
    locked = tmp_path / "locked"
    locked.mkdir()
    mounted = False
    if os.geteuid() == 0:  # root ignores permission bits: use a read-only file system
        mounted = (
            subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "x", locked]).returncode
            == 0
        )
        if not mounted:
            pytest.skip("running as root without a way to mount a read-only file system")
    else:
        locked.chmod(0o555)
    try:
        result = CliRunner().invoke(app, ["compare", str(path), "--out", str(locked / "results")])
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "--out" in lines[0] and str(locked) in lines[0]
        assert not list(locked.iterdir())
    finally:
        if mounted:
            subprocess.run(["umount", locked], check=True)
        locked.chmod(0o755)


def test_result_files_follow_the_umask(write_yaml, baseline_path, tmp_path):
    path = write_yaml(SMALL.format(base=baseline_path))
    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(
            app,
            ["compare", str(path), "--out", str(tmp_path / "out"), "--engine", "serial"]
            + ["--chunk-size", "20"],
        )
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    run_dir = _only_run(tmp_path / "out", "small")
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"manifest.json", "summary.json", "report.html"} <= names
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {oct(0o644)}


PLAIN_SCRIPT = """\
import sim

result = sim.run(
    "scenarios/unmonitored.yaml", replicates=200, chunk_size=50, workers=2, out={out!r}
)
result.runs.to_parquet({table!r})
print(result.manifest["engine"], result.manifest["start_method"])
"""


@pytest.mark.slow
def test_a_plain_script_without_a_main_guard_runs_on_worker_processes(tmp_path):
    """Spawned workers re-import the main script; one without a guard must still work."""
    script, table = tmp_path / "plain.py", tmp_path / "runs.parquet"
    script.write_text(PLAIN_SCRIPT.format(out=str(tmp_path / "out"), table=str(table)))
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    engine, method = done.stdout.split()
    assert engine == "local" and method == "fork"  # spawn would re-run the script's call
    import pandas as pd

    serial = sim.run(
        ROOT / "scenarios" / "unmonitored.yaml",
        replicates=200,
        chunk_size=50,
        engine="serial",
        out=None,
    )
    pd.testing.assert_frame_equal(pd.read_parquet(table), serial.runs)


def _readme_python() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("```python", text.index("In Python:")) + len("```python")
    return text[start : text.index("```", start)]


@pytest.mark.slow
def test_the_readme_python_example_runs_as_written(tmp_path):
    results = ROOT / "results" / "unmonitored"
    before = set(results.iterdir()) if results.is_dir() else set()
    script = tmp_path / "readme.py"
    script.write_text(_readme_python() + "\nprint(len(result.runs), result.path)\n")
    try:
        done = subprocess.run(
            [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        rows, path = done.stdout.split()
        assert int(rows) == 2000
        assert storage.read_json(Path(path) / storage.MANIFEST)["status"] == "complete"
    finally:  # the example writes under the repository's results/: leave it as it was
        import shutil

        for folder in set(results.iterdir()) - before if results.is_dir() else ():
            shutil.rmtree(folder)
        if not before and results.is_dir():
            results.rmdir()


@pytest.mark.slow
def test_a_really_full_disk_keeps_its_failure_record_and_resume_completes(
    write_yaml, baseline_path, tmp_path
):
    """A tiny tmpfs fills up part-way; the reserve leaves room for the failure record."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    # 384 KiB: the manifest and the 256 KiB reserve fit, with room for a few parts only
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=384k", "x", disk]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        path = write_yaml(SMALL.format(base=baseline_path).replace("60", "200"))
        args = ["compare", str(path), "--out", str(disk), "--engine", "serial"]
        args += ["--chunk-size", "20", "--no-report"]
        full = CliRunner().invoke(app, args)
        assert full.exit_code == 1, full.output
        assert "No space left on device" in full.stderr and "--resume" in full.stderr
        run_dir = _only_run(disk, "small")
        manifest = storage.read_json(run_dir / storage.MANIFEST)
        assert manifest["status"] == "failed" and manifest["failures"]
        assert not (run_dir / storage.SUMMARY).exists()
        kept = _parts(run_dir)
        assert 0 < len(kept) < 20

        subprocess.run(["mount", "-o", "remount,size=8m", "x", disk], check=True)  # space freed
        resumed = CliRunner().invoke(app, [*args, "--resume", str(run_dir)])
        assert resumed.exit_code == 0, resumed.output
        clean = sim.compare(path, out=tmp_path / "clean", engine="serial", chunk_size=20)
        after = _parts(run_dir)
        assert after == _parts(clean.path) and all(after[k] == v for k, v in kept.items())
        assert storage.read_json(run_dir / storage.SUMMARY) == clean.summary_dict
        assert not _leftovers(run_dir)
    finally:
        subprocess.run(["umount", disk], check=True)


@pytest.mark.slow
def test_a_plain_script_runs_on_a_local_dask_cluster(tmp_path):
    """The LocalCluster runs in a process of its own (``python -m sim.experiment.cluster``),
    whose spawned workers re-import that module, not the script: no main guard needed."""
    script = tmp_path / "plain_dask.py"
    out = str(tmp_path / "out")
    script.write_text(
        "import sim\n"
        f"result = sim.run('scenarios/unmonitored.yaml', engine='dask', workers=1, out={out!r},"
        " replicates=20)\n"
        "print(result.path)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    (printed,) = done.stdout.split()  # the script's call ran once: no worker re-ran it
    manifest = storage.read_json(Path(printed) / storage.MANIFEST)
    assert manifest["status"] == "complete" and manifest["engine"] == "dask"


def test_a_disk_that_fills_as_the_summary_is_written_is_one_message(
    write_yaml, baseline_path, tmp_path
):
    """The driver's own write fails: no traceback, no summary, the run stays resumable."""
    import sim.experiment.storage

    path = write_yaml(SMALL.format(base=baseline_path))
    out = tmp_path / "out"
    args = ["compare", str(path), "--out", str(out), "--engine", "serial", "--chunk-size", "20"]
    real = sim.experiment.storage.atomic_write_bytes

    def full_for_the_summary(target, data):
        if Path(target).name == storage.SUMMARY:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        return real(target, data)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sim.experiment.storage, "atomic_write_bytes", full_for_the_summary)
        full = CliRunner().invoke(app, [*args, "--no-report"])
    assert full.exit_code == 1, full.output
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0] and "--resume" in lines[0]
    run_dir = _only_run(out, "small")
    assert storage.read_json(run_dir / storage.MANIFEST)["status"] == "finishing"
    assert not (run_dir / storage.SUMMARY).exists()

    done = CliRunner().invoke(app, resume_flag([*args, "--resume"]))
    assert done.exit_code == 0, done.output
    assert storage.read_json(run_dir / storage.MANIFEST)["status"] == "complete"
    assert (run_dir / storage.SUMMARY).is_file() and (run_dir / "report.html").is_file()
