"""Research-size sweeps (issue 14): per-point aggregates computed in the workers.

Every test goes through the stored result: a real CLI sweep (or ``sim.sweep``
on a real engine) writes its points table to disk, and the test reads it back.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.analysis import points as point_table
from sim.analysis import sensitivity, summaries
from sim.analysis.shares import collapsed_within
from sim.api import forecast
from sim.cli import app
from sim.experiment import storage
from sim.present.sentences import sensitivity_sentences
from sim.scenario.schema import ORIGINS

SOBOL = """\
extends: {base}
name: aggregates
truce: {{horizon: 120}}
replicates: 60
sweep:
  sobol:
    n: 4
    bounds:
      monitors.coverage: {{low: 0.1, high: 0.9}}
      truce.loophole_width: {{low: 0.1, high: 0.9}}
"""
POINTS = 16  # 4 x (2 + 2)
CHUNK = ["--chunk-size", "25"]  # 60 replicates: three chunks per point, one task


def _sweep(path: Path, out: Path, *args: str) -> Path:
    # no flush by time: one batch however slow a busy machine makes the sweep
    result = CliRunner(env={"TRUCE_FLUSH_SECONDS": "1e9"}).invoke(
        app, ["sweep", str(path), "--out", str(out), "--no-report", "--json", *CHUNK, *args]
    )
    assert result.exit_code == 0, result.output
    return Path(json.loads(result.stdout)["results"])


@pytest.fixture(scope="module")
def kept(tmp_path_factory, request):
    """A sweep stored with --keep-runs, serially: its folder (points and runs)."""
    base = Path(request.config.rootpath) / "scenarios" / "baseline.yaml"
    root = tmp_path_factory.mktemp("kept")
    path = root / "aggregates.yaml"
    path.write_text(SOBOL.format(base=base))
    return path, _sweep(path, root / "out", "--engine", "serial", "--keep-runs")


def test_stored_aggregates_equal_those_computed_from_the_kept_runs(kept):
    _, folder = kept
    points = storage.read_points(folder)
    runs = storage.read_runs(folder)
    assert list(points["point"]) == list(range(POINTS)) and len(runs) == POINTS * 60
    assert sorted(p.name for p in (folder / "runs").iterdir()) == ["batch-000000.parquet"]
    for (point, rows), (_, row) in zip(runs.groupby("point"), points.iterrows(), strict=True):
        assert row["point"] == point and row["replicates"] == len(rows)
        assert row["collapsed"] == int(rows["collapsed"].sum())
        assert row["collapse_share"] == rows["collapsed"].to_numpy(dtype=float).mean()
        assert row["mean_days_held"] == rows["days_held"].to_numpy(dtype=float).mean()
        for d in (30, 90, 120, 180):
            assert row[f"collapsed_{d}"] == collapsed_within(rows, d)
        counts = rows.loc[rows["collapsed"], "cause"].value_counts()
        assert all(row[f"cause_{o}"] == counts.get(o, 0) for o in ORIGINS)
        for name in ("monitors.coverage", "truce.loophole_width"):
            assert row[name] == rows[name].iloc[0]
    # the summary (from the aggregates) is the summary of the runs, value for value
    stored = storage.read_json(folder / storage.SUMMARY)
    light = runs[[*summaries.SUMMARY_COLUMNS, "monitors.coverage", "truce.loophole_width"]]
    from_runs = summaries.summarize(light, by="point")
    assert {k: v for k, v in stored.items() if k != "sensitivity"} == from_runs
    manifest = storage.read_json(folder / storage.MANIFEST)
    indices = sensitivity.from_manifest(manifest, runs)
    in_words = stored["sensitivity"].pop("sentences")
    assert stored["sensitivity"] == json.loads(json.dumps(indices))
    assert in_words == sensitivity_sentences(stored["sensitivity"])
    assert manifest["layout"] == "points+runs" and manifest["status"] == "complete"


def test_without_keep_runs_the_same_points_and_no_runs(kept, tmp_path):
    path, folder = kept
    lean = _sweep(path, tmp_path, "--engine", "serial")
    assert not (lean / "runs").exists()
    pd.testing.assert_frame_equal(storage.read_points(lean), storage.read_points(folder))
    assert (lean / storage.SUMMARY).read_bytes() == (folder / storage.SUMMARY).read_bytes()
    assert storage.read_json(lean / storage.MANIFEST)["layout"] == "points"
    with pytest.raises(FileNotFoundError, match="--keep-runs"):
        storage.read_runs(lean)


@pytest.mark.slow
def test_serial_and_two_local_workers_store_identical_aggregates(kept, tmp_path):
    path, folder = kept
    two = _sweep(path, tmp_path, "--engine", "local", "--workers", "2", "--keep-runs")
    pd.testing.assert_frame_equal(storage.read_points(two), storage.read_points(folder))
    pd.testing.assert_frame_equal(storage.read_runs(two), storage.read_runs(folder))
    assert (two / storage.SUMMARY).read_bytes() == (folder / storage.SUMMARY).read_bytes()


@pytest.mark.slow
def test_a_dask_local_cluster_stores_the_aggregates(kept, tmp_path):
    path, folder = kept
    result = sim.sweep(path, out=tmp_path, chunk_size=25, engine="dask", workers=2)
    assert result.manifest["engine"] == "dask" and result.manifest["status"] == "complete"
    pd.testing.assert_frame_equal(storage.read_points(result.path), storage.read_points(folder))
    assert not (result.path / "runs").exists()
    assert result.summary_dict == storage.read_json(folder / storage.SUMMARY)


def test_report_export_rerun_and_python_read_the_aggregates_alone(kept, tmp_path):
    path, _ = kept
    runner = CliRunner()
    done = runner.invoke(
        app, ["sweep", str(path), "--out", str(tmp_path), "--engine", "serial", "--json", *CHUNK]
    )
    assert done.exit_code == 0, done.output
    folder = Path(json.loads(done.stdout)["results"])
    assert not (folder / "runs").exists()
    page = (folder / "report.html").read_text()
    assert "chart-sweep-heatmap" in page and "--keep-runs" in page
    exported = runner.invoke(app, ["export", str(folder), "--csv", "--json"])
    assert exported.exit_code == 0, exported.output
    names = [Path(f).name for f in json.loads(exported.stdout)["files"]]
    assert "points.csv" in names and "runs.csv" not in names
    csv = pd.read_csv(folder / "csv" / "points.csv")
    assert len(csv) == POINTS and "group" not in csv.columns
    again = runner.invoke(app, ["rerun", str(folder / "manifest.json"), "--out", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert "Identical" in again.stdout
    # the Python API reads the same folder: a table per point, the indices
    result = sim.sweep(path, out=None, chunk_size=25, engine="serial")
    pd.testing.assert_frame_equal(
        result.load_points().drop(columns="task"),
        storage.read_points(folder).drop(columns="task"),
    )
    assert len(result.sensitivity()) == 2 * 2  # two outputs x two levers
    shares = result.summary()
    assert set(shares["point"]) == set(range(POINTS)) and {30, 90, 120} <= set(shares["horizon"])


def test_resume_completes_a_sweep_whose_point_failed(kept, tmp_path, monkeypatch):
    path, folder = kept
    real = point_table.point_row
    calls = []

    def flaky(runs, task, horizons=(), level=0.95):
        calls.append(task)
        if task == "arm-000-point-0000005" and len(calls) < POINTS:
            raise RuntimeError("injected")
        return real(runs, task, horizons, level)

    monkeypatch.setattr(point_table, "point_row", flaky)
    runner = CliRunner()
    args = ["sweep", str(path), "--out", str(tmp_path), "--engine", "serial", "--no-report"]
    failed = runner.invoke(app, [*args, *CHUNK])
    assert failed.exit_code == 1
    assert "point 5" in failed.stderr and "the rest is stored in" in failed.stderr
    (run_dir,) = (tmp_path / "aggregates").iterdir()
    assert len(storage.read_points(run_dir)) == POINTS - 1  # every other point kept
    assert not (run_dir / storage.SUMMARY).exists()
    resumed = runner.invoke(app, [*args, *CHUNK, "--resume", str(run_dir)])
    assert resumed.exit_code == 0, resumed.output
    assert calls.count("arm-000-point-0000005") == 2 and len(calls) == POINTS + 1
    pd.testing.assert_frame_equal(storage.read_points(run_dir), storage.read_points(folder))
    assert (run_dir / storage.SUMMARY).read_bytes() == (folder / storage.SUMMARY).read_bytes()


def test_dry_run_prints_time_and_disk_and_stores_nothing(kept, tmp_path):
    path, _ = kept
    runner = CliRunner()
    out = tmp_path / "out"
    done = runner.invoke(
        app, ["sweep", str(path), "--dry-run", "--engine", "serial", "--out", str(out), *CHUNK]
    )
    assert done.exit_code == 0, done.output
    assert "Predicted time" in done.stdout and "per-point aggregates" in done.stdout
    assert "with --keep-runs" in done.stdout and "method:" in done.stdout
    found = runner.invoke(app, ["sweep", str(path), "--dry-run", "--json", "--keep-runs", *CHUNK])
    assert found.exit_code == 0, found.output
    record = json.loads(found.stdout)
    assert record["tasks"] == POINTS and record["truces"] == POINTS * 60
    assert record["runs_bytes"] > 0 and record["points_bytes"] > 0
    assert record["disk_bytes"] == record["runs_bytes"] + record["points_bytes"]
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["--dry-run", "--resume", "latest"], {}, "--dry-run"),
        (["--dry-run", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1"], {}, "--scheduler"),
        ([], {"TRUCE_FLUSH_SECONDS": "soon"}, "TRUCE_FLUSH_SECONDS"),
    ],
)
def test_bad_flags_exit_2_with_one_error_line(kept, tmp_path, args, env, words):
    path, _ = kept
    result = CliRunner().invoke(
        app, ["sweep", str(path), "--out", str(tmp_path / "out"), *args], env=env
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_keep_runs_is_a_flag_of_sweep_only(baseline_path, tmp_path):
    result = CliRunner().invoke(app, ["run", str(baseline_path), "--keep-runs"])
    assert result.exit_code == 2 and "--keep-runs" in result.output


@pytest.mark.slow
def test_dry_run_predicts_the_time_of_a_small_sweep_within_30_percent(baseline_path, tmp_path):
    """The forecast against the wall time of the same sweep, run serially.

    30%: the forecast times 5 of the 16 points (after a warm-up) and scales
    their mean; points differ in cost by their parameters (wider loopholes
    collapse sooner, but collapsed truces are still stepped, so the cost per
    truce-day varies by well under 10% over this design) and the run adds a
    summary and a manifest (a few per cent here). The rest is the load of
    other processes on a shared machine, which changes between the two
    timings: the test retries once when the first attempt misses.
    """
    path = tmp_path / "timed.yaml"
    path.write_text(SOBOL.format(base=baseline_path).replace("replicates: 60", "replicates: 200"))
    for attempt in range(2):
        found = forecast("sweep", path, engine="serial", chunk_size=100)
        started = time.perf_counter()
        sim.sweep(path, out=tmp_path / f"run{attempt}", chunk_size=100, engine="serial")
        actual = time.perf_counter() - started
        ratio = found.seconds / actual
        if 0.7 <= ratio <= 1.3:
            break
    assert 0.7 <= ratio <= 1.3, f"predicted {found.seconds:.1f} s, took {actual:.1f} s"


def test_the_charts_pool_points_as_they_would_pool_truces(kept):
    from sim.analysis.shares import collapse_by_horizon

    _, folder = kept
    points, runs = storage.read_points(folder), storage.read_runs(folder)
    # Saltelli's matrices repeat each lever's values over several points: pooled groups
    assert points.groupby("monitors.coverage").ngroups < len(points)
    for by in (["point"], ["monitors.coverage"], ["monitors.coverage", "truce.loophole_width"]):
        pd.testing.assert_frame_equal(
            point_table.collapse_from_points(points, (30, 90), by=by),
            collapse_by_horizon(runs, (30, 90), by=by),
        )


def test_a_research_size_sweep_is_not_refused_for_the_memory_of_its_runs(baseline_path):
    from sim.scenario.cost import BYTES_PER_POINT, BYTES_PER_ROW, estimate_cost
    from sim.scenario.loading import load_scenario

    big = {
        "replicates": 1000,
        "sweep": {"lhs": {"n": 20_000, "bounds": {"monitors.coverage": {"low": 0.1, "high": 0.9}}}},
    }
    scenario = load_scenario(baseline_path, big)
    cost = estimate_cost(scenario, "sweep")
    assert cost.memory_bytes == 20_000 * BYTES_PER_POINT < cost.truces * BYTES_PER_ROW
    assert cost.problem() is None  # 20 million truces, reduced point by point in the workers


LHS = """\
extends: {base}
name: long
truce: {{horizon: 40}}
replicates: 12
sweep:
  lhs:
    n: {n}
    bounds:
      monitors.coverage: {{low: 0.1, high: 0.9}}
      truce.loophole_width: {{low: 0.05, high: 0.95}}
"""


def test_a_long_sweeps_table_shows_its_extremes_and_where_the_full_table_is(
    baseline_path, tmp_path
):
    from sim.present.terminal import SWEEP_ROWS

    path = tmp_path / "long.yaml"
    path.write_text(LHS.format(base=baseline_path, n=SWEEP_ROWS + 10))
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        app,
        ["sweep", str(path), "--out", str(tmp_path / "out"), "--no-report", "--engine", "serial"],
    )
    assert result.exit_code == 0, result.output
    folder = next((tmp_path / "out" / "long").iterdir())
    shown = [int(m) for m in re.findall(r"^\s*│\s*(\d+)\s*│", result.output, flags=re.M)]
    assert len(shown) == SWEEP_ROWS == len(set(shown))
    caption = " ".join(result.output.split())  # the caption wraps at spaces
    assert f"{SWEEP_ROWS} of {SWEEP_ROWS + 10} points shown" in caption
    assert "points.csv" in caption
    # a long results path is folded inside the word by the terminal: compare without spaces
    assert f"truce export {folder} --csv".replace(" ", "") in "".join(caption.split())
    # the shown halves are the extremes: ties may go either way, so compare shares, not ids
    share = storage.read_points(folder).set_index("point")["collapse_share"]
    top, bottom = shown[: SWEEP_ROWS // 2], shown[SWEEP_ROWS // 2 :]
    hidden = share.drop(shown)
    assert share[top].min() >= hidden.max() and share[bottom].max() <= hidden.min()
    assert list(share[shown]) == sorted(share[shown], reverse=True)  # most collapsed first
    # a short sweep still lists every point
    path.write_text(LHS.format(base=baseline_path, n=SWEEP_ROWS))
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        app,
        ["sweep", str(path), "--out", str(tmp_path / "out2"), "--no-report", "--engine", "serial"],
    )
    listed = [int(m) for m in re.findall(r"^\s*│\s*(\d+)\s*│", result.output, flags=re.M)]
    assert result.exit_code == 0 and listed == list(range(SWEEP_ROWS))
    assert "points shown" not in result.output


def test_a_point_task_pickles_its_scenario_once_and_rebuilds_it_once(baseline_path):
    import pickle

    from sim.api import point_reducer
    from sim.experiment import runner
    from sim.scenario.loading import load_scenario

    scenario = load_scenario(baseline_path, {})
    chunks = tuple(runner.chunks(30, 10))
    tasks = [
        runner.PointTask(scenario, 7, chunks, "a", point_reducer(scenario), 0, i, (), False, ())
        for i in range(3)
    ]
    blobs = [pickle.dumps(t) for t in tasks]
    back = [pickle.loads(b) for b in blobs]
    assert back == tasks  # every field, the scenario by value
    assert back[0].scenario is back[1].scenario  # rebuilt once in this process, shared
    # the scenario's bytes were made once: the three tasks carry the same object
    packed = [runner.PointTask.__reduce__(t)[1][0] for t in tasks]
    assert packed[0] is packed[1] is packed[2]
    done = [runner.run_point(t) for t in (tasks[0], back[0])]
    assert done[0].aggregates == done[1].aggregates


@pytest.mark.slow
def test_dry_run_on_a_dask_local_cluster_predicts_its_time(baseline_path, tmp_path):
    """The Dask forecast, measured on a real LocalCluster, against the same sweep's wall time.

    The points are short (about 0.05–0.2 s), so the per-task overhead the dry run
    measures with tiny tasks through the scheduler is a large part of the time:
    without it the forecast was 0.23–0.45 of the actual. 40%: the overhead is
    measured over 96 tiny tasks and the work over 6 points, two at a time, each mean with a
    few per cent of spread on a quiet machine; the rest is the load of other
    processes, which changes between the two timings (the test retries once).
    """
    path = tmp_path / "dask.yaml"
    path.write_text(LHS.format(base=baseline_path, n=120))
    for attempt in range(2):
        found = forecast("sweep", path, engine="dask", workers=2)
        assert found.startup_measured and found.overhead_seconds_per_task > 0
        assert sum(found.parts.values()) == pytest.approx(found.seconds)
        started = time.perf_counter()
        sim.sweep(path, out=tmp_path / f"run{attempt}", engine="dask", workers=2)
        actual = time.perf_counter() - started
        ratio = found.seconds / actual
        if 0.6 <= ratio <= 1.4:
            break
    assert 0.6 <= ratio <= 1.4, (
        f"predicted {found.seconds:.1f} s ({found.parts}), took {actual:.1f} s"
    )
