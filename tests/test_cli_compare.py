"""``truce compare`` and ``truce sweep`` on the command line: --json, tables, bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from sim.cli import app, resume_flag

COMPARE = """\
extends: {base}
name: cli_compare
truce: {{horizon: 60}}
replicates: 80
compare:
  unmonitored: {{monitors: null}}
  monitored: {{monitors.coverage: 0.8, monitors.attribution: 0.95}}
"""
SWEEP = """\
extends: {base}
name: cli_sweep
truce: {{horizon: 30}}
replicates: 30
sweep:
  grid:
    monitors.coverage: [0.2, 0.8]
    truce.loophole_width: [0.1, 0.9]
"""


@pytest.fixture
def runner():
    return CliRunner()


def _invoke(runner, *args):
    return runner.invoke(app, [str(a) for a in args])


def test_compare_json_has_arms_and_the_comparison(runner, write_yaml, baseline_path, tmp_path):
    path = write_yaml(COMPARE.format(base=baseline_path))
    result = _invoke(
        runner,
        "compare",
        path,
        "--out",
        tmp_path,
        "--json",
        "--engine",
        "serial",
        "--no-report",
        "--chunk-size",
        40,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kind"] == "compare" and data["engine"] == "serial"
    assert [g["arm"] for g in data["groups"]] == ["unmonitored", "monitored"]
    for g in data["groups"]:
        assert g["replicates"] == 80
        assert [row["horizon"] for row in g["collapse"]] == [30, 60]
        for row in g["collapse"]:
            assert row["low"] <= row["share"] <= row["high"]
    (c,) = data["comparisons"]
    assert (c["a"], c["b"]) == ("unmonitored", "monitored")
    assert {"logrank_p", "hazard_ratio", "hazard_ratio_low", "differences"} <= set(c)
    assert (tmp_path / "cli_compare").is_dir()
    assert (
        json.loads((next((tmp_path / "cli_compare").iterdir()) / "summary.json").read_text())[
            "groups"
        ]
        == data["groups"]
    )


def test_compare_tables_show_difference_p_value_and_hazard_ratio(
    runner, write_yaml, baseline_path, tmp_path
):
    path = write_yaml(COMPARE.format(base=baseline_path))
    result = _invoke(
        runner, "compare", path, "--out", tmp_path, "--engine", "serial", "--no-report", "-n", 40
    )
    assert result.exit_code == 0, result.output
    for words in ("unmonitored", "monitored", "Hazard ratio", "Log-rank p-value", "results in"):
        assert words in result.stdout


def test_sweep_json_has_one_group_per_point(runner, write_yaml, baseline_path, tmp_path):
    path = write_yaml(SWEEP.format(base=baseline_path))
    result = _invoke(
        runner, "sweep", path, "--out", tmp_path, "--json", "--engine", "serial", "--no-report"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["by"] == "point" and data["kind"] == "sweep"
    params = [g["parameters"] for g in data["groups"]]
    assert params == [
        {"monitors.coverage": c, "truce.loophole_width": w} for c in (0.2, 0.8) for w in (0.1, 0.9)
    ]
    table = _invoke(runner, "sweep", path, "--out", tmp_path, "--engine", "serial", "--no-report")
    assert table.exit_code == 0 and "coverage" in table.stdout and "Point" in table.stdout


@pytest.mark.parametrize(
    ("command", "text", "extra", "words"),
    [
        ("compare", SWEEP, [], "no compare: block"),
        ("sweep", COMPARE, [], "no sweep: block"),
        ("compare", COMPARE + "  broken: {{monitors.coverag: 0.5}}\n", [], "unknown parameter"),
        ("compare", COMPARE, ["--engine", "mpi"], "unknown engine"),
        ("sweep", SWEEP, ["--resume", "/nonexistent/run"], "no such results folder"),
    ],
)
def test_bad_input_is_one_message_exit_2_and_nothing_written(
    runner, write_yaml, baseline_path, tmp_path, command, text, extra, words
):
    path = write_yaml(text.format(base=baseline_path))
    out = tmp_path / "results"
    result = _invoke(runner, command, path, "--out", out, *extra)
    assert result.exit_code == 2
    assert words in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_run_takes_the_engine_options_and_writes_a_report_or_says_why_not(
    runner, write_yaml, baseline_path, tmp_path
):
    path = write_yaml(f"extends: {baseline_path}\nname: one\ntruce: {{horizon: 20}}\n")
    result = _invoke(
        runner, "run", path, "-n", 20, "--out", tmp_path, "--engine", "serial", "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    if data["report"] is None:
        assert "report skipped" in result.stderr
    else:
        assert data["report"].endswith("report.html")


def test_resume_alone_means_the_latest_unfinished_run():
    assert resume_flag(["sweep", "x.yaml", "--resume"]) == ["sweep", "x.yaml", "--resume=latest"]
    assert resume_flag(["sweep", "x.yaml", "--resume", "--json"])[2] == "--resume=latest"
    assert resume_flag(["sweep", "x.yaml", "--resume", "dir"]) == [
        "sweep",
        "x.yaml",
        "--resume",
        "dir",
    ]
