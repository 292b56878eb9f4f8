"""Stored comparisons are paired: summary.json, written by every path, uses the pairing.

The arms of a comparison run on common random numbers, so replicate ``i`` of
one arm and replicate ``i`` of another form a pair. The summary stored on disk
must say so (``paired: true``) and hold the paired intervals, computed here
again from the stored runs with :mod:`sim.analysis`; the report's note must
follow the summary's own flag.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.analysis import intervals
from sim.cli import app
from sim.experiment import storage
from sim.present.report import build_report

COMPARE = """\
extends: {base}
name: paired_compare
truce: {{horizon: 60}}
replicates: 80
compare:
  unmonitored: {{monitors: null}}
  monitored: {{monitors.coverage: 0.8, monitors.attribution: 0.95}}
"""
CROSSED = """\
extends: {base}
name: paired_crossed
truce: {{horizon: 60}}
replicates: 60
compare:
  unmonitored: {{monitors: null}}
  monitored: {{monitors.coverage: 0.8, monitors.attribution: 0.95}}
sweep:
  grid:
    truce.loophole_width: [0.1, 0.9]
"""
KEY = ["chunk", "replicate"]


def _only_run(root: Path, name: str) -> Path:
    (folder,) = (root / name).iterdir()
    return folder


def _paired_differences(runs: pd.DataFrame, a: str, b: str, horizons: list[int]) -> list[tuple]:
    """Newcombe's paired interval per horizon, from the runs joined on (chunk, replicate)."""
    rows_a, rows_b = runs[runs["arm"] == a], runs[runs["arm"] == b]
    pairs = rows_a.merge(rows_b, on=KEY, suffixes=("_a", "_b"), validate="one_to_one")
    assert len(pairs) == len(rows_a) == len(rows_b)  # every replicate has its partner
    out = []
    for h in horizons:
        x_a = (pairs["collapsed_a"] & (pairs["collapse_day_a"] <= h)).to_numpy()
        x_b = (pairs["collapsed_b"] & (pairs["collapse_day_b"] <= h)).to_numpy()
        counts = (x_a & x_b, x_b & ~x_a, x_a & ~x_b, ~x_a & ~x_b)
        out.append(intervals.newcombe_paired_difference(*(int(c.sum()) for c in counts)))
    return out


def _check_paired(comparison: dict, runs: pd.DataFrame) -> None:
    assert comparison["paired"] is True
    horizons = [d["horizon"] for d in comparison["differences"]]
    expected = _paired_differences(runs, comparison["a"], comparison["b"], horizons)
    for stored, (d, low, high) in zip(comparison["differences"], expected, strict=True):
        # JSON stores floats with repr, so the round trip is exact
        assert (stored["difference"], stored["low"], stored["high"]) == (d, low, high)


def _note(report: Path) -> str:
    text = report.read_text()
    start = text.index("Comparison of arms")
    return text[start : text.index("</p>", start)]


def test_truce_compare_stores_the_paired_comparison_and_the_report_says_so(
    write_yaml, baseline_path, tmp_path
):
    path = write_yaml(COMPARE.format(base=baseline_path))
    result = CliRunner().invoke(
        app,
        ["compare", str(path), "--out", str(tmp_path), "--engine", "serial"]
        + ["--chunk-size", "30"],
    )
    assert result.exit_code == 0, result.output
    folder = _only_run(tmp_path, "paired_compare")
    summary = storage.read_json(folder / storage.SUMMARY)
    runs = storage.read_runs(folder)
    (comparison,) = summary["comparisons"]
    _check_paired(comparison, runs)
    assert "form pairs" in _note(folder / "report.html")
    # The report is written while the run finishes, and does not call it unfinished.
    assert storage.read_json(folder / storage.MANIFEST)["status"] == "complete"
    assert "had not completed" not in (folder / "report.html").read_text()

    # The note reads the summary's flag: unpaired results get the independent-samples note.
    summary["comparisons"][0]["paired"] = False
    (folder / storage.SUMMARY).write_text(json.dumps(summary))
    note = _note(build_report(folder))
    assert "independent samples" in note and "form pairs" not in note


def test_crossed_sweep_stores_paired_comparisons_at_every_point(
    write_yaml, baseline_path, tmp_path
):
    path = write_yaml(CROSSED.format(base=baseline_path))
    result = CliRunner().invoke(
        app,
        ["sweep", str(path), "--out", str(tmp_path), "--engine", "serial", "--no-report"]
        + ["--chunk-size", "25"],
    )
    assert result.exit_code == 0, result.output
    folder = _only_run(tmp_path, "paired_crossed")
    summary = storage.read_json(folder / storage.SUMMARY)
    runs = storage.read_runs(folder)
    assert len(summary["comparisons"]) == 2  # one per design point
    for comparison in summary["comparisons"]:
        _check_paired(comparison, runs[runs["point"] == comparison["point"]])
    assert "form pairs" in _note(build_report(folder))


@pytest.mark.parametrize("keep_runs", [True, False])
def test_library_compare_with_out_stores_what_it_returns(
    write_yaml, baseline_path, tmp_path, keep_runs
):
    path = write_yaml(COMPARE.format(base=baseline_path))
    result = sim.compare(path, out=tmp_path, engine="serial", chunk_size=30, keep_runs=keep_runs)
    stored = storage.read_json(result.path / storage.SUMMARY)
    assert stored == result.summary_dict
    (comparison,) = stored["comparisons"]
    _check_paired(comparison, storage.read_runs(result.path))
    # and the in-memory result (no folder) gives the same summary
    in_memory = sim.compare(path, out=None, engine="serial", chunk_size=30)
    assert in_memory.summary_dict == stored
