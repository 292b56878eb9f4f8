"""Executors and common random numbers: results do not depend on how chunks are run."""

from __future__ import annotations

import os

import pandas as pd
import pytest

import sim
from sim.experiment.executors import Plan, SerialExecutor, choose_engine
from sim.experiment.runner import chunks, run_one
from sim.scenario.loading import load_scenario

SCENARIO = """\
extends: {base}
name: crn
truce: {{horizon: 40}}
replicates: 60
compare:
  unmonitored: {{monitors: null}}
  monitored: {{monitors.coverage: 0.7}}
  same: {{monitors: null, truce.loophole_width: 0.5}}
"""


@pytest.fixture
def crn_path(write_yaml, baseline_path):
    return write_yaml(SCENARIO.format(base=baseline_path), "crn.yaml")


def _parts(result) -> dict[str, bytes]:
    folder = result.path / "runs"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.parquet"))}


@pytest.mark.slow
def test_results_are_byte_identical_across_engines_and_workers(crn_path, tmp_path):
    runs = {}
    for name, kwargs in {
        "serial": {"engine": "serial"},
        "local-1": {"engine": "local", "workers": 1},
        "local-2": {"engine": "local", "workers": 2},
        "dask": {"engine": "dask", "workers": 2},
    }.items():
        result = sim.compare(crn_path, out=tmp_path / name, chunk_size=20, **kwargs)
        assert result.manifest["engine"] == kwargs["engine"]
        runs[name] = _parts(result)
    reference = runs.pop("serial")
    assert len(reference) == 3 * 3  # three arms, three chunks each
    for name, parts in runs.items():
        assert parts == reference, f"{name} differs from serial"


def test_arms_share_chunk_seeds_and_initial_states(crn_path):
    result = sim.compare(crn_path, out=None, chunk_size=20, engine="serial")
    runs = result.runs
    assert list(dict.fromkeys(runs["arm"])) == ["unmonitored", "monitored", "same"]
    by_arm = {arm: rows.reset_index(drop=True) for arm, rows in runs.groupby("arm", sort=False)}
    # the initial state (before any lever acts) is the same replicate by replicate
    for column in ("start_trust", "pre_truce_violations", "replicate", "chunk"):
        pd.testing.assert_series_equal(by_arm["unmonitored"][column], by_arm["monitored"][column])
    # an arm that restates the base values is the base arm, draw for draw
    pd.testing.assert_frame_equal(
        by_arm["unmonitored"].drop(columns="arm"), by_arm["same"].drop(columns="arm")
    )
    # and the monitoring lever does change outcomes
    assert not by_arm["unmonitored"]["detected"].equals(by_arm["monitored"]["detected"])
    # chunk c of every arm is run_one(arm scenario, seed, size, chunk=c)
    base = load_scenario(crn_path, {"monitors.coverage": 0.7, "compare": {}})
    c = chunks(60, 20)[1]
    direct = run_one(base, result.manifest["seed"], c.size, c.index, c.start)
    mine = by_arm["monitored"].iloc[20:40].drop(columns=["arm", "point"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, direct)


def test_worker_failure_names_point_and_seed_and_keeps_the_rest(
    write_yaml, baseline_path, tmp_path, monkeypatch
):
    import sim.experiment.runner
    from sim.experiment.study import ExperimentFailed

    path = write_yaml(
        f"extends: {baseline_path}\nname: fails\ntruce: {{horizon: 20}}\nreplicates: 40\n"
        "sweep:\n  grid:\n    monitors.coverage: [0.2, 0.8]\n"
    )
    real = sim.experiment.runner.run_chunk  # what every task runs (runs and daily tables)

    def flaky(scenario, seed, replicates, chunk=0, start=0):
        if scenario.monitors.coverage == 0.8 and chunk == 1:
            raise RuntimeError("boom")
        return real(scenario, seed, replicates, chunk, start)

    monkeypatch.setattr(sim.experiment.runner, "run_chunk", flaky)
    with pytest.raises(ExperimentFailed) as info:
        sim.sweep(path, out=tmp_path, chunk_size=20, engine="serial")
    failure = info.value.failures[0]
    assert "point 1" in failure["where"] and "monitors.coverage=0.8" in failure["where"]
    assert "chunk 1" in failure["where"] and "seed 20160227" in failure["where"]
    assert "RuntimeError: boom" in failure["error"]
    run_dir = info.value.result.path
    stored = sim.experiment.storage.read_points(run_dir)
    assert list(stored["point"]) == [0]  # the other point (a task of two chunks) is kept
    manifest = sim.experiment.storage.read_json(run_dir / "manifest.json")
    assert manifest["status"] == "failed" and manifest["failures"][0]["where"] == failure["where"]

    monkeypatch.setattr(sim.experiment.runner, "run_chunk", real)
    resumed = sim.sweep(path, out=tmp_path, chunk_size=20, engine="serial", resume=run_dir)
    clean = sim.sweep(path, out=tmp_path / "clean", chunk_size=20, engine="serial")
    assert resumed.manifest["status"] == "complete"
    pd.testing.assert_frame_equal(
        sim.experiment.storage.read_points(resumed.path),
        sim.experiment.storage.read_points(clean.path),
    )


def test_when_every_chunk_fails_the_run_is_marked_failed_and_the_cli_says_so(
    write_yaml, baseline_path, tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    import sim.experiment.runner
    from sim.cli import app
    from sim.experiment.study import ExperimentFailed

    path = write_yaml(
        f"extends: {baseline_path}\nname: allfail\ntruce: {{horizon: 20}}\nreplicates: 40\n"
        "sweep:\n  grid:\n    monitors.coverage: [0.2, 0.8]\n"
    )

    def broken(scenario, seed, replicates, chunk=0, start=0):
        raise RuntimeError("boom")

    monkeypatch.setattr(sim.experiment.runner, "run_chunk", broken)
    with pytest.raises(ExperimentFailed) as info:
        sim.sweep(path, out=tmp_path / "lib", chunk_size=20, engine="serial")
    assert len(info.value.failures) == 2  # 2 points (a task each)
    run_dir = info.value.result.path
    assert not list(run_dir.glob("runs/*.parquet")) and not list(run_dir.glob("points/*"))
    assert info.value.result.runs is None and info.value.result.summary_dict == {}
    manifest = sim.experiment.storage.read_json(run_dir / "manifest.json")
    assert manifest["status"] == "failed" and len(manifest["failures"]) == 2
    assert not (run_dir / "summary.json").exists()

    out = tmp_path / "cli"
    args = ["sweep", str(path), "--out", str(out), "--engine", "serial", "--chunk-size", "20"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "2 chunk(s) failed" in result.stderr and "--resume" in result.stderr
    assert "Traceback" not in result.output
    (cli_dir,) = (out / "allfail").iterdir()
    assert sim.experiment.storage.read_json(cli_dir / "manifest.json")["status"] == "failed"


def test_engine_plan_for_small_and_large_jobs(monkeypatch):
    import sim.experiment.executors

    monkeypatch.setattr(sim.experiment.executors, "default_workers", lambda: 2)
    monkeypatch.setattr(sim.experiment.executors, "single_threaded", lambda: False)
    assert choose_engine("local", None, 1) == Plan("serial", 1)
    # Two tasks go to two forked workers only when two cores are idle.
    assert choose_engine("local", None, 2, idle=0) == Plan("serial", 1)
    assert choose_engine("local", None, 2, idle=1) == Plan("serial", 1)
    assert choose_engine("local", None, 2, idle=2) in (Plan("local", 2, "fork"), Plan("serial", 1))
    assert choose_engine("local", 2, 2, idle=0) == Plan("local", 2, "spawn")
    monkeypatch.setattr(sim.experiment.executors, "default_workers", lambda: 1)
    assert choose_engine("local", None, 2, idle=2) == Plan("serial", 1)
    assert choose_engine("local", None, 3).start_method in ("fork", "spawn")
    assert choose_engine("local", 2, 100) == Plan("local", 2, "spawn")
    assert choose_engine("local", 8, 3).workers == 3
    assert choose_engine("serial", 4, 100) == Plan("serial", 1)
    with pytest.raises(ValueError, match="unknown engine"):
        choose_engine("mpi", None, 1)
    # a process running one thread forks every local pool's workers, whatever its size
    monkeypatch.setattr(sim.experiment.executors, "single_threaded", lambda: True)
    monkeypatch.setattr(sim.experiment.executors, "FORK_ANY_SIZE", True)
    if "fork" in sim.experiment.executors._start_methods():
        assert choose_engine("local", 2, 100) == Plan("local", 2, "fork")
        assert choose_engine("local", None, 100) == Plan("local", 1, "fork")
        assert choose_engine("local", 2, 2, idle=0) == Plan("local", 2, "fork")


def test_a_process_with_other_threads_is_not_forked():
    import threading

    from sim.experiment.executors import single_threaded

    assert single_threaded() is (threading.active_count() == 1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not single_threaded()
        assert choose_engine("local", 2, 100).start_method == "spawn"
    finally:
        stop.set()
        other.join()


def test_idle_cores_is_between_none_and_all():
    from sim.experiment.executors import default_workers, idle_cores

    assert 0 <= idle_cores() <= default_workers()


def test_a_small_job_on_forked_workers_is_byte_identical_to_serial(
    write_yaml, baseline_path, tmp_path, monkeypatch
):
    import multiprocessing

    import sim.experiment.executors

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork start method here")
    two_arms = "\n".join(SCENARIO.format(base=baseline_path).splitlines()[:-1])  # drop 'same'
    path = write_yaml(two_arms + "\n", "two_arms.yaml")
    serial = sim.compare(path, out=tmp_path / "serial", engine="serial")
    monkeypatch.setattr(sim.experiment.executors, "idle_cores", lambda: 2)
    monkeypatch.setattr(sim.experiment.executors, "default_workers", lambda: 2)
    forked = sim.compare(path, out=tmp_path / "forked")  # 2 tasks, no workers asked for
    assert (forked.manifest["engine"], forked.manifest["workers"]) == ("local", 2)
    assert forked.manifest["start_method"] == "fork"
    assert len(_parts(serial)) == 2 and _parts(forked) == _parts(serial)


def test_serial_executor_returns_finished_futures():
    future = SerialExecutor().submit(divmod, 7, 2)
    assert future.done() and future.result() == (3, 1)
    failing = SerialExecutor().submit(divmod, 1, 0)
    assert isinstance(failing.exception(), ZeroDivisionError)


def test_import_sim_is_cheap_and_exports_lazily():
    import subprocess
    import sys

    code = (
        "import sys, sim; heavy = [m for m in ('mesa', 'pandas', 'scipy') if m in sys.modules];"
        "print(heavy); print(sim.compare.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "sim.api"]


@pytest.mark.parametrize("start_method", ["spawn", "fork"])
def test_a_pools_workers_are_told_their_share_of_truces(start_method, monkeypatch):
    # Issue 14: a study's local workers are told how many truces each will run, so that
    # auto compiles a worker's 1,000-truce chunks from its first when it will run
    # thousands (not after enough of them on NumPy), and not when it will run one chunk.
    from sim.experiment.executors import open_executor
    from sim.model import kernels

    if not kernels.numba_available():
        pytest.skip("numba is not installed")
    # a forked worker starts with this process's count of chunks asked for (earlier tests
    # in this process ran thousands of truces): as a fresh command's process, none
    monkeypatch.setattr(kernels, "_asked", 0.0)
    monkeypatch.setattr(kernels, "_expected", 0.0)
    monkeypatch.delenv("TRUCE_ENGINE", raising=False)
    # chunks of 1,000 truces over 90 days: one saves less than numba's load, three more
    one, three = kernels.saving(1000, 90), 3 * kernels.saving(1000, 90)
    assert one < kernels.LOAD_SECONDS <= three
    for share, compiled in ((three, True), (one, False), (0.0, False)):
        with open_executor("local", 1, start_method=start_method, expect=share) as pool:
            assert pool.submit(kernels.would_compile, 1000, 90).result(timeout=120) is compiled


def test_a_forked_worker_starts_from_a_fresh_count_of_truces(monkeypatch):
    # A worker forked from a process that ran thousands of truces decides as a fresh
    # process told its share would: on NumPy for one chunk of 1,000 over 90 days.
    import multiprocessing

    from sim.experiment.executors import open_executor
    from sim.model import kernels

    if "fork" not in multiprocessing.get_all_start_methods() or not kernels.numba_available():
        pytest.skip("no fork start method or no numba here")
    monkeypatch.delenv("TRUCE_ENGINE", raising=False)
    monkeypatch.setattr(kernels, "_asked", 30.0)
    monkeypatch.setattr(kernels, "_expected", 30.0)
    assert kernels.would_compile(1000)
    one, three = kernels.saving(1000, 90), 3 * kernels.saving(1000, 90)
    for share, compiled in ((one, False), (0.0, False), (three, True)):
        with open_executor("local", 1, start_method="fork", expect=share) as pool:
            assert pool.submit(kernels.would_compile, 1000, 90).result(timeout=120) is compiled


def _run_as_a_command(code: str, env: dict[str, str] | None = None) -> None:
    """Run ``code`` in a fresh one-thread Python process, as a command runs; it prints "ok"."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_a_sweep_from_a_one_thread_process_forks_its_workers(baseline_path, tmp_path):
    # The path a command takes: a process running one thread, two workers asked for, more
    # tasks than two a core; the workers are forked, and the runs are those of serial.
    import textwrap

    code = textwrap.dedent(
        f"""
        import multiprocessing, sim
        from sim.scenario.loading import load_scenario
        scenario = load_scenario({str(baseline_path)!r}, {{"truce.horizon": 30}})
        forked = sim.run(scenario, replicates=2400, out={str(tmp_path / "f")!r}, workers=2,
                         chunk_size=300)
        serial = sim.run(scenario, replicates=2400, out={str(tmp_path / "s")!r},
                         engine="serial", chunk_size=300)
        from sim.experiment.executors import FORK_ANY_SIZE
        methods = multiprocessing.get_all_start_methods()
        expected = "fork" if "fork" in methods and FORK_ANY_SIZE else "spawn"
        assert forked.manifest["start_method"] == expected, forked.manifest["start_method"]
        assert forked.runs.equals(serial.runs)
        print("ok")
        """
    )
    _run_as_a_command(code)


def test_a_driver_loads_the_compiled_day_once_before_forking_workers_that_would(
    baseline_path, tmp_path
):
    # Workers forked for a study whose compiled day saves more than numba's load would
    # each import numba and load the kernels at their first chunk: the driver loads them
    # once before it forks, and they inherit them. The load is paid once for all of them, so
    # the whole study's saving is weighed against it, not a worker's share. A study whose
    # chunks save less in all makes the driver load nothing. Runs as a command does: a
    # one-thread process.
    import textwrap

    from sim.model import kernels

    # Two chunks a worker, of 1,000 truces over 60 days: a worker's share saves less than
    # numba's load, the two shares together more (forked, the kernels are loaded once).
    assert 2 * kernels.saving(1000, 60) < kernels.LOAD_SECONDS <= 4 * kernels.saving(1000, 60)
    assert 2 * kernels.saving(500, 60) < kernels.LOAD_SECONDS  # the small study: in all
    code = textwrap.dedent(
        f"""
        import sys, sim
        from sim.experiment.executors import FORK_ANY_SIZE
        from sim.model.kernels import numba_available
        from sim.scenario.loading import load_scenario
        scenario = load_scenario({str(baseline_path)!r}, {{"truce.horizon": 60}})
        small = sim.run(scenario, replicates=1000, out={str(tmp_path / "a")!r}, workers=2,
                        chunk_size=500)
        # two chunks of 500 truces over 60 days save less than numba's load: NumPy's day
        assert "numba" not in sys.modules
        wide = sim.run(scenario, replicates=4000, out={str(tmp_path / "b")!r}, workers=2,
                       chunk_size=1000)
        loaded = "sim.model._compiled" in sys.modules
        forked = wide.manifest["start_method"] == "fork"
        assert loaded == (forked and FORK_ANY_SIZE and numba_available()), (loaded, forked)
        serial = sim.run(scenario, replicates=4000, out={str(tmp_path / "c")!r},
                         engine="serial", chunk_size=1000)
        assert wide.runs.equals(serial.runs)
        print("ok")
        """
    )
    auto = {k: v for k, v in os.environ.items() if k != "TRUCE_ENGINE"}  # auto decides
    _run_as_a_command(code, env=auto)


def test_a_study_tells_its_workers_their_share():
    from sim.experiment.runner import Chunk
    from sim.experiment.runner import chunks as make_chunks
    from sim.experiment.study import _share
    from sim.model.kernels import saving

    class T:  # a chunk's task
        chunk = Chunk(0, 0, 1000)

    class P:  # a design point's task: every chunk of the point
        chunks = tuple(make_chunks(60, 30))

    assert _share([T()] * 8, 2, 180) == pytest.approx(4 * saving(1000, 180))
    # forked workers share the driver's one load: each is told the whole study's saving
    assert _share([T()] * 8, 2, 180, forked=True) == pytest.approx(8 * saving(1000, 180))
    # narrow chunks count too: a sweep of many small points pays for numba
    assert _share([P()] * 400, 2, 60) == pytest.approx(200 * 2 * saving(30, 60))
    assert _share([], 2, 180) == 0.0
