"""Outcomes over time in a sweep stored as per-point aggregates (issues 14 and 15).

A sweep with one arm runs each design point as one task and stores per-point
aggregates; its daily sums travel with them. Without ``--keep-runs`` they are
pooled over the points; with it they stay per point. Both must equal what the
points' own truces add up to, on the path the user takes (the CLI, stored, read back).
"""

from __future__ import annotations

import json
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
