"""Outcomes over time in a sweep stored as per-point aggregates (issues 14 and 15).

A sweep with one arm runs each design point as one task and stores per-point
aggregates; its daily sums travel with them. Without ``--keep-runs`` they are
pooled over the points; with it they stay per point. Both must equal what the
points' own truces add up to, on the path the user takes (the CLI, stored, read back).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment.daily import POOLED, read_daily

SWEEP = """\
extends: {base}
name: daily-sweep
replicates: 40
truce: {{horizon: 40}}
sweep:
  grid:
    truce.loophole_width: [0.1, 0.6]
"""
BASE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


def _sweep(tmp_path: Path, *extra: str) -> Path:
    tmp_path.mkdir()
    path = tmp_path / "s.yaml"
    path.write_text(SWEEP.format(base=BASE))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "sweep",
            str(path),
            "--out",
            str(out),
            "--no-report",
            "--workers",
            "2",
            "--chunk-size",
            "15",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    (manifest,) = out.rglob("manifest.json")
    assert json.loads(manifest.read_text())["status"] == "complete"
    return manifest.parent


@pytest.mark.slow
def test_pooled_daily_sums_equal_the_per_point_sums_added_up(tmp_path):
    pooled = read_daily(_sweep(tmp_path / "a"))
    kept_dir = _sweep(tmp_path / "b", "--keep-runs")
    per_point = read_daily(kept_dir)
    assert set(pooled["point"]) == {POOLED}
    assert sorted(set(per_point["point"])) == [0, 1]
    ints = [c for c in per_point.columns if c not in ("arm", "point", "day", "trust_sum")]
    added = per_point.groupby("day")[ints].sum().reset_index(drop=True)
    pd.testing.assert_frame_equal(pooled[ints].reset_index(drop=True), added)
    # trust sums are floats added in another order: equal to rounding
    trust = per_point.groupby("day")["trust_sum"].sum().to_numpy()
    assert abs(pooled["trust_sum"].to_numpy() - trust).max() < 1e-9
    # holding at day d = the point's truces whose collapse day is later than d (kept runs)
    runs = pd.read_parquet(kept_dir / "runs")
    for (point, day), row in per_point.set_index(["point", "day"]).iloc[::7].iterrows():
        mine = runs[runs["point"] == point]
        later = (mine["collapse_day"].isna() | (mine["collapse_day"] > day)).sum()
        assert row["holding"] == later
    # the batches were merged and removed when pooled
    assert not any((tmp_path / "a").rglob("daily/batch-*.parquet"))


LHS = """\
extends: {base}
name: daily-blocks
replicates: 6
truce: {{horizon: 40}}
sweep:
  lhs:
    n: 24
    bounds:
      monitors.coverage: {{low: 0.1, high: 0.9}}
      truce.horizon: {{low: 5, high: 40}}
"""


def _keep_batches(monkeypatch, kept: Path) -> Path:
    """Copy the daily batches to ``kept`` as the driver merges them (it then removes them)."""
    from sim.experiment import daily, storage

    merge = daily.merge_batches

    def keeping(run_dir, pool):
        shutil.copytree(Path(run_dir) / storage.DAILY_BATCHES, kept)
        return merge(run_dir, pool)

    monkeypatch.setattr(daily, "merge_batches", keeping)
    return kept


def test_the_pooled_daily_sums_are_the_same_bytes_merged_a_few_days_at_a_time(
    tmp_path, monkeypatch
):
    """The driver pools the points' daily sums a block of days at a time (issue 14).

    It never holds every point's days at once, and reads only the row groups of those days.
    Blocks of about a day (one group each, which pandas alone would add up another way) and
    row groups of 7 rows, over 24 points of different horizons in batches written as the
    points finish (``TRUCE_FLUSH_SECONDS=0``), give the table pandas pools at once.
    """
    import pyarrow.parquet as pq

    import sim
    from sim.experiment import daily, storage

    path = tmp_path / "s.yaml"
    path.write_text(LHS.format(base=BASE))
    monkeypatch.setenv("TRUCE_FLUSH_SECONDS", "0")
    whole = sim.sweep(path, out=tmp_path / "whole", engine="serial")
    monkeypatch.setattr(daily, "BLOCK_ROWS", 24)  # ~1 day of the 24 points
    monkeypatch.setattr(storage, "DAILY_ROW_GROUP", 7)
    seen: list[int] = []
    real = daily._read_between

    def counted(paths, column, first, last):
        seen.append(sum(pq.ParquetFile(p).metadata.num_row_groups for p in paths))
        return real(paths, column, first, last)

    monkeypatch.setattr(daily, "_read_between", counted)
    kept = _keep_batches(monkeypatch, tmp_path / "batches")
    blocks = sim.sweep(path, out=tmp_path / "blocks", engine="serial")
    assert len(seen) >= 20  # blocks of about a day of 24 points of 5-40 days
    batches = sorted(kept.glob("batch-*.parquet"))
    assert len(batches) > 1 and max(seen) > len(batches)  # several row groups a batch
    # pooled a block at a time against the whole table pooled at once by pandas (as before
    # issue 14's blocks), from the same batches
    table = pd.concat([pd.read_parquet(p) for p in batches], ignore_index=True)
    at_once = daily.pool_points(table.sort_values(["point", "day"], kind="stable"))
    pd.testing.assert_frame_equal(read_daily(blocks.path), at_once, check_exact=True)
    assert (blocks.path / daily.DAILY).read_bytes() == (whole.path / daily.DAILY).read_bytes()
    assert not (blocks.path / storage.DAILY_BATCHES).exists()  # merged and removed


def test_the_kept_daily_sums_are_merged_a_few_points_at_a_time(tmp_path, monkeypatch):
    """With ``--keep-runs`` the points' daily sums are merged a block of points at a time.

    10,000 points of 365 days are millions of rows: the driver writes a batch once its
    points' days reach a number of rows, and merges them a block of points at a time,
    reading only the row groups of those points (the batches are written by point when
    the runs are kept). The table read back is the one merging every batch at once gave,
    value for value and in the same order.
    """
    import pyarrow.parquet as pq

    import sim
    from sim.experiment import daily, storage, study

    path = tmp_path / "s.yaml"
    path.write_text(LHS.format(base=BASE))
    monkeypatch.setenv("TRUCE_FLUSH_SECONDS", "3600")
    monkeypatch.setattr(study, "BATCH_DAILY_ROWS", 120)  # batches of ~3-10 points' days
    monkeypatch.setattr(daily, "BLOCK_ROWS", 60)  # a few points of 5-40 days
    monkeypatch.setattr(storage, "DAILY_ROW_GROUP", 10)
    blocks: list[int] = []  # rows of each block of points
    groups: list[int] = []  # row groups read for each block
    real_between, real_groups = daily._read_between, pq.ParquetFile.read_row_groups

    def between(paths, column, first, last):
        groups.append(0)
        table = real_between(paths, column, first, last)
        blocks.append(len(table))
        return table

    def read_groups(self, row_groups, *args, **kwargs):
        groups[-1] += len(row_groups)
        return real_groups(self, row_groups, *args, **kwargs)

    monkeypatch.setattr(daily, "_read_between", between)
    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", read_groups)
    kept = _keep_batches(monkeypatch, tmp_path / "batches")
    result = sim.sweep(path, out=tmp_path / "out", engine="serial", keep_runs=True)
    merged = read_daily(result.path)
    batches = sorted(kept.glob("batch-*.parquet"))
    assert len(batches) > 1
    # a batch is written once its points' days reach 120 rows: at most one point (of at
    # most 40 days) beyond that, however many points it holds
    sizes = [pq.ParquetFile(p).metadata.num_rows for p in batches]
    assert max(sizes) < 120 + 40 and len(batches) >= sum(sizes) // (120 + 40), sizes
    table = pd.concat([pd.read_parquet(p) for p in batches], ignore_index=True)
    at_once = daily.daily_aggregate([table.sort_values(["point", "day"], kind="stable")])
    pd.testing.assert_frame_equal(merged, at_once, check_exact=True)
    assert sorted(set(merged["point"])) == list(range(24))
    # Several blocks of points, each a small part of the whole, read from their own row
    # groups: sorted by point, a group of 10 rows is read by the block of its points alone,
    # or by the two blocks it straddles. A block's points lie in at most two batches (the
    # points finish in design order here), so it reads at most 4 groups a neighbour reads
    # too. Sorted by day, every block would read every group of its points' batches (161
    # groups against a bound of ~100 here).
    total = sum(pq.ParquetFile(p).metadata.num_row_groups for p in batches)
    assert len(blocks) >= 5 and max(blocks) < len(table) / 2
    assert sum(groups) <= total + 4 * len(blocks), (groups, total)
    runs = pd.read_parquet(result.path / "runs")
    assert len(runs) == 24 * 6  # the runs were kept too


def test_a_batchs_range_of_points_is_read_from_its_row_groups_statistics(tmp_path, monkeypatch):
    # The merge plans its blocks from each batch's least and greatest point or day: its row
    # groups' statistics give them without reading the column, and a file written without
    # statistics (or an empty one) gives the same as reading it.
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.experiment import daily

    rng = np.random.default_rng(7)
    table = pa.table({"point": rng.integers(3, 900, 5000), "day": np.arange(5000) % 30 + 1})
    with_stats, without, empty = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "c"
    pq.write_table(table, with_stats, row_group_size=700)
    pq.write_table(table, without, row_group_size=700, write_statistics=False)
    pq.write_table(table.slice(0, 0), empty)
    expected = (int(table["point"].to_numpy().min()), int(table["point"].to_numpy().max()))
    reads: list[str] = []
    real_read = pq.read_table
    monkeypatch.setattr(
        pq, "read_table", lambda path, **kw: reads.append(path) or real_read(path, **kw)
    )
    for path in (with_stats, without):
        assert daily._column_range(path, pq.ParquetFile(path).metadata, "point") == expected
    assert reads == [without]  # the column was read only where no statistics were written
    assert daily._column_range(empty, pq.ParquetFile(empty).metadata, "point") is None
    assert daily._blocks([with_stats, empty], "point", rows=1000) == daily._blocks(
        [without], "point", rows=1000
    )
