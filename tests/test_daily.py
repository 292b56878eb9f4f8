"""Outcomes over time (issue 15): the daily sums of every run, stored and charted.

The model adds up, day by day, the truces still holding, their violence by
origin (sums and sums of squares) and their trust. These tests hold those sums
against what the per-truce trace (``record=True``) and the runs table say,
check that compaction, chunking and the engine change nothing, and follow the
table through the CLI to ``daily.parquet``, the report and the CSV export.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.analysis.daily import daily_means, mean_band
from sim.cli import app
from sim.experiment import storage
from sim.experiment.daily import DAILY, daily_aggregate, read_daily
from sim.model.model import CeasefireModel
from sim.scenario.loading import load_scenario
from sim.scenario.schema import ORIGINS

COMPARE = """\
extends: {base}
name: daily_compare
truce: {{horizon: 60}}
replicates: 120
compare:
  unmonitored: {{monitors: null}}
  monitored: {{monitors.coverage: 0.8, monitors.attribution: 0.95}}
"""
SUMS = ["violence", *(f"violations_{o}" for o in ORIGINS)]


def _from_traces(path: str, replicates: int, seed: int, horizon: int) -> pd.DataFrame:
    """The daily sums rebuilt truce by truce from the record path's day-by-day trace."""
    scenario = load_scenario(path, {"truce.horizon": horizon})
    frames = []
    for r in range(replicates):
        model = CeasefireModel(
            scenario, replicates=replicates, seed=seed, record=True, trace_replicate=r
        )
        model.collect = False
        days, _ = model.run().trace_tables()
        days = days[days["day"] >= 1].set_index("day").reindex(range(1, horizon + 1))
        # after the last day played every truce has ended: nothing held, no violence
        days["holding"] = days["holding"].astype("boolean").fillna(False).astype(bool)
        days = days.fillna(0)
        # mean trust over the directed edges: the government's in each faction, each
        # faction's in the government (one edge each), as CeasefireModel._mean_trust
        f = model.n_factions
        gov, factions = model.principals[0].name, [p.name for p in model.principals[1:]]
        trust = (f * days[f"trust_{gov}"] + days[[f"trust_{n}" for n in factions]].sum(1)) / (2 * f)
        frame = pd.DataFrame({"day": days.index.to_numpy()})
        frame["holding"] = days["holding"].astype(np.int64).to_numpy()
        frame["violence"] = days["violence"].astype(np.int64).to_numpy()
        for o in ORIGINS:
            frame[f"violations_{o}"] = days[f"violations_{o}"].astype(np.int64).to_numpy()
        frame["trust"] = np.where(frame["holding"] == 1, trust.to_numpy(), 0.0)
        frames.append(frame)
    every = pd.concat(frames)
    out = every.groupby("day").agg(holding=("holding", "sum"), trust_sum=("trust", "sum"))
    for name in SUMS:
        out[f"{name}_sum"] = every.groupby("day")[name].sum()
        out[f"{name}_sumsq"] = (every[name] ** 2).groupby(every["day"]).sum()
    return out.reset_index()


@pytest.mark.parametrize("path", ["scenarios/baseline.yaml", "scenarios/zones.yaml"])
def test_daily_sums_equal_those_rebuilt_from_each_truces_trace(path):
    replicates, seed, horizon = 12, 5, 90
    scenario = load_scenario(path, {"truce.horizon": horizon})
    model = CeasefireModel(scenario, replicates=replicates, seed=seed, collect=False).run()
    daily = model.daily()
    expected = _from_traces(path, replicates, seed, horizon)
    assert daily["day"].tolist() == list(range(1, horizon + 1))
    assert (daily["truces"] == replicates).all()
    for column in ["holding", *(f"{n}_{s}" for n in SUMS for s in ("sum", "sumsq"))]:
        assert daily[column].tolist() == expected[column].tolist(), column
    # trust: the trace rounds nothing, but adds the edges in another order
    np.testing.assert_allclose(daily["trust_sum"], expected["trust_sum"], rtol=1e-12, atol=1e-12)
    assert daily["violence_sum"].sum() > 0, "a test scenario with no violence tests nothing"


@pytest.mark.parametrize("path", ["scenarios/baseline.yaml", "scenarios/zones.yaml"])
def test_daily_sums_identical_with_and_without_compaction(path, monkeypatch):
    scenario = load_scenario(path)
    calls = []

    def run(compact: bool) -> pd.DataFrame:
        with monkeypatch.context() as patch:
            if not compact:
                patch.setattr(CeasefireModel, "COMPACT_MIN", 10**9)
            else:  # compact as soon as one truce in a hundred has ended: often, mid-run
                patch.setattr(CeasefireModel, "COMPACT_SHARE", 0.99)
            model = CeasefireModel(scenario, replicates=300, seed=11, collect=False)
            original = model._compact
            patch.setattr(model, "_compact", lambda: (calls.append(compact), original()))
            return model.run().daily()

    on, off = run(True), run(False)
    assert True in calls and False not in calls, "compaction must happen in one run only"
    ints = [c for c in on.columns if c != "trust_sum"]
    pd.testing.assert_frame_equal(on[ints], off[ints])
    # the same truces' trust, summed over arrays of another width: rounding only
    np.testing.assert_allclose(on["trust_sum"], off["trust_sum"], rtol=1e-12)


def test_holding_counts_agree_with_the_runs_table():
    scenario = load_scenario("scenarios/unmonitored.yaml")
    model = CeasefireModel(scenario, replicates=400, seed=2, collect=False).run()
    daily, runs = model.daily(), model.results()
    ended = runs["collapse_day"].astype("Float64").fillna(np.inf).to_numpy(float)
    for day, holding, in_force in daily[["day", "holding", "in_force"]].itertuples(index=False):
        assert holding == (ended > day).sum()
        assert in_force == (ended >= day).sum()
    # every violation of the run happened on one of the days (none before day 1 is counted)
    assert daily["violence_sum"].sum() == runs["violations"].sum()
    for o in ORIGINS:
        assert daily[f"violations_{o}_sum"].sum() == runs[f"violations_{o}"].sum()


def test_mean_band_matches_numpy_on_the_raw_values():
    rng = np.random.default_rng(0)
    values = rng.poisson(0.7, size=(5, 300)).astype(float)
    n = np.array([300, 300, 300, 1, 0])
    values[3, 1:] = 0
    values[4] = 0
    mean, low, high = mean_band(values.sum(1), (values**2).sum(1), n)
    for k in range(3):
        sd = values[k].std(ddof=1)
        half = 1.959963984540054 * sd / np.sqrt(300)
        assert mean[k] == pytest.approx(values[k].mean(), rel=1e-12)
        assert high[k] == pytest.approx(values[k].mean() + half, rel=1e-9)
        assert low[k] == pytest.approx(max(values[k].mean() - half, 0.0), rel=1e-9)
    assert mean[3] == values[3, 0] and np.isnan(low[3]) and np.isnan(high[3])
    assert np.isnan(mean[4])


def test_chunks_add_up_to_one_model():
    """Merging is a sum: two chunks' tables add up to totals that the runs table confirms."""
    from sim.experiment.runner import run_chunk

    scenario = load_scenario("scenarios/baseline.yaml", {"truce.horizon": 40})
    parts = []
    for chunk, start in ((0, 0), (1, 70)):
        runs, daily = run_chunk(scenario, 3, 70, chunk, start)
        daily.insert(0, "point", 0)
        daily.insert(0, "arm", "a")
        parts.append((runs, daily))
    merged = daily_aggregate(d for _, d in parts)
    runs = pd.concat([r for r, _ in parts])
    assert len(merged) == 40 and (merged["truces"] == 140).all()
    assert merged["violence_sum"].sum() == runs["violations"].sum()
    assert merged["holding"].iloc[-1] == (~runs["collapsed"]).sum()
    again = daily_aggregate([merged.iloc[:20], merged.iloc[20:]])  # sums of sums: no change
    pd.testing.assert_frame_equal(again, merged)


@pytest.mark.parametrize("width", [1, 30])
def test_one_chunks_table_merges_to_the_same_table_as_grouped_sums(width):
    """A point of one chunk is taken as it is (each key once), not grouped: the same frame,
    columns, dtypes and order, as the grouped sums give (adding a table of zeros, or the
    rows out of order, takes the grouping path)."""
    from sim.experiment.runner import run_chunk

    scenario = load_scenario("scenarios/zones.yaml", {"truce.horizon": 40})
    _, daily = run_chunk(scenario, 5, width, 0, 0)
    daily.insert(0, "point", 3)
    daily.insert(0, "arm", "an arm")
    alone = daily_aggregate([daily])
    zeros = daily.copy()
    sums = [c for c in zeros.columns if c not in ("arm", "point", "day")]
    zeros[sums] = 0
    zeros = zeros.astype(daily.dtypes.to_dict())
    pd.testing.assert_frame_equal(alone, daily_aggregate([daily, zeros]), check_exact=True)
    shuffled = daily.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(alone, daily_aggregate([shuffled]), check_exact=True)


# --------------------------------------------------------------------------- stored, via the CLI


def _compare(tmp_path, write_yaml, baseline_path, *extra):
    path = write_yaml(COMPARE.format(base=baseline_path), "daily_compare.yaml")
    out = tmp_path / "results"
    result = CliRunner().invoke(
        app,
        ["compare", str(path), "--out", str(out), "--json", "--chunk-size", "40", *extra],
    )
    assert result.exit_code == 0, result.output
    (run_dir,) = (out / "daily_compare").iterdir()
    return run_dir, json.loads(result.stdout)


def test_truce_compare_stores_daily_outcomes(tmp_path, write_yaml, baseline_path):
    run_dir, _ = _compare(tmp_path, write_yaml, baseline_path, "--engine", "serial")
    daily = pd.read_parquet(run_dir / DAILY)
    runs = storage.read_runs(run_dir)
    assert list(dict.fromkeys(daily["arm"])) == ["unmonitored", "monitored"]
    means = daily_means(daily)
    for arm, rows in means.groupby("arm", sort=False):
        arm_runs = runs[runs["arm"] == arm]
        assert rows["day"].tolist() == list(range(1, 61))  # every day within the horizon
        assert rows["holding_share"].between(0, 1).all()
        assert (rows["holding_share"].diff().dropna() <= 0).all()  # never rises
        live = rows[rows["in_force"] > 0]
        for c in ("violence_mean", "violence_low", "violence_high", "trust_mean"):
            values = live[c].dropna()
            assert np.isfinite(values).all() and (values >= 0).all(), c
        assert (live["violence_low"] <= live["violence_mean"]).all()
        assert (live["violence_mean"] <= live["violence_high"]).all()
        ended = arm_runs["collapse_day"].astype("Float64").fillna(np.inf).to_numpy(float)
        counts = [(ended > d).sum() for d in rows["day"]]
        assert rows["holding"].tolist() == counts
    # the report has the chart, and the export the table
    report = (run_dir / "report.html").read_text()
    assert 'id="chart-daily"' in report and "How the truces went wrong over time" in report
    exported = CliRunner().invoke(app, ["export", str(run_dir), "--csv"])
    assert exported.exit_code == 0, exported.output
    csv = pd.read_csv(run_dir / "csv" / "daily.csv")
    assert len(csv) == len(daily) and csv["violence_sum"].tolist() == daily["violence_sum"].tolist()
    # one chunk table per runs part beside the merged table, no temporary file left
    chunk_tables = sorted(p.name for p in (run_dir / "daily").iterdir())
    assert chunk_tables == sorted(p.name for p in (run_dir / "runs").iterdir())

    # a folder stored before daily tables were kept: the report is rebuilt without the
    # chart, and asking for the table names the missing file
    (run_dir / DAILY).unlink()
    rebuilt = CliRunner().invoke(app, ["report", str(run_dir)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert 'id="chart-daily"' not in (run_dir / "report.html").read_text()
    with pytest.raises(FileNotFoundError, match="daily.parquet"):
        read_daily(run_dir)


@pytest.mark.slow
def test_daily_table_is_the_same_on_two_workers_as_in_series(tmp_path, write_yaml, baseline_path):
    serial, _ = _compare(tmp_path / "serial", write_yaml, baseline_path, "--engine", "serial")
    local, data = _compare(
        tmp_path / "local", write_yaml, baseline_path, "--engine", "local", "--workers", "2"
    )
    manifest = storage.read_json(local / storage.MANIFEST)
    assert data["engine"] == manifest["engine"] == "local" and manifest["workers"] == 2
    pd.testing.assert_frame_equal(read_daily(serial), read_daily(local), check_exact=True)


def test_result_daily_in_memory_equals_stored(tmp_path, write_yaml, baseline_path):
    import sim

    path = write_yaml(COMPARE.format(base=baseline_path), "daily_compare.yaml")
    memory = sim.compare(path, out=None, engine="serial", chunk_size=40)
    stored = sim.compare(path, out=tmp_path, engine="serial", chunk_size=40, keep_runs=False)
    pd.testing.assert_frame_equal(memory.daily(), stored.daily(), check_exact=True)
    assert set(memory.daily()["arm"]) == {"unmonitored", "monitored"}


def test_a_sweep_stores_daily_outcomes_per_point(tmp_path, write_yaml, baseline_path):
    import sim

    text = (
        f"extends: {baseline_path}\nname: daily_sweep\ntruce: {{horizon: 30}}\nreplicates: 50\n"
        "sweep:\n  grid:\n    monitors.coverage: [0.2, 0.9]\n"
    )
    # per point with the runs kept (pooled over the points otherwise: tests/test_sweep_daily.py)
    result = sim.sweep(
        write_yaml(text), out=tmp_path, engine="serial", chunk_size=20, keep_runs=True
    )
    daily, runs = read_daily(result.path), result.load_runs()
    assert sorted(daily["point"].unique()) == sorted(runs["point"].unique())
    assert len(daily) == runs["point"].nunique() * 30
    for point, rows in daily.groupby("point"):
        at = runs[runs["point"] == point]
        assert (rows["truces"] == len(at)).all()
        assert rows["violence_sum"].sum() == at["violations"].sum()
        ended = at["collapse_day"].astype("Float64").fillna(np.inf).to_numpy(float)
        assert rows["holding"].tolist() == [(ended > d).sum() for d in rows["day"]]
    assert len(result.daily()) == len(daily)
    in_memory = sim.sweep(
        write_yaml(text), out=None, engine="serial", chunk_size=20, keep_runs=True
    )
    pd.testing.assert_frame_equal(in_memory.daily_sums.reset_index(drop=True), daily)


@pytest.mark.browser
def test_the_daily_chart_draws_in_the_report(browser, tmp_path, write_yaml, baseline_path):
    """The stored compare's report, opened offline: the chart has both panels and both arms."""
    import sim

    path = write_yaml(COMPARE.format(base=baseline_path), "daily_compare.yaml")
    result = sim.compare(path, out=tmp_path, engine="serial", chunk_size=40, report=True)
    assert result.report is not None
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(result.report.resolve().as_uri(), wait_until="load")
        page.wait_for_function(
            "document.querySelector('#chart-daily svg.main-svg')", timeout=20_000
        )
        traces = page.evaluate(
            "document.getElementById('chart-daily').data.map(t => [t.name || '', t.yaxis || 'y'])"
        )
    finally:
        page.close()
    assert errors == []
    # per arm: band edges, the mean (named) on the top panel, the share holding below
    named = [(name, axis) for name, axis in traces if name]
    assert named == [
        ("unmonitored", "y"),
        ("unmonitored", "y2"),
        ("monitored", "y"),
        ("monitored", "y2"),
    ]


def test_parts_read_together_equal_parts_read_one_by_one(tmp_path):
    # storage.read_files reads every part in one pass: the same rows in the same order, with
    # the same dtypes, as joining one table per file; parts whose columns differ in type
    # (written by different versions) are read one by one, as before.
    rng = np.random.default_rng(7)
    paths = []
    for i in range(12):
        n = int(rng.integers(0, 40))  # an empty part too, sometimes
        day = pd.array(rng.integers(0, 90, n), dtype="Int64")
        day[rng.random(n) < 0.3] = pd.NA
        cause = pd.array(rng.choice(["deliberate", "spoiler"], n), dtype="string")
        table = pd.DataFrame({"chunk": i, "x": rng.random(n), "day": day, "cause": cause})
        paths.append(tmp_path / f"part-{i:03d}.parquet")
        table.to_parquet(paths[-1], index=False)
    one_by_one = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    pd.testing.assert_frame_equal(storage.read_files(paths), one_by_one)
    pd.testing.assert_frame_equal(
        storage.read_files(paths, ["cause", "chunk"]), one_by_one[["cause", "chunk"]]
    )
    odd = tmp_path / "part-999.parquet"  # a column of another type
    pd.DataFrame({"chunk": ["twelve"], "x": [0.5], "day": [3], "cause": ["x"]}).to_parquet(odd)
    mixed = pd.concat([one_by_one, pd.read_parquet(odd)], ignore_index=True)
    pd.testing.assert_frame_equal(storage.read_files([*paths, odd]), mixed)
