"""Crossed designs: a ``compare:`` block and a ``sweep:`` block in one scenario.

``truce sweep`` then runs every design point under every arm on common random
numbers and compares the arms at each point. The tests check the design table,
the clash rule, that each arm's slice is exactly the plain sweep of that arm's
scenario, that each point's comparison is exactly ``truce compare`` at that
point, and the command line's ``--json`` and tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.analysis.comparisons import compare_arms
from sim.analysis.summaries import summarize
from sim.cli import app
from sim.present.sentences import plain_summary
from sim.scenario.designs import expand, is_crossed
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario

CROSSED = """\
extends: {base}
name: crossed
truce: {{horizon: 60}}
replicates: 120
compare:
  unmonitored: {{monitors: null}}
  monitored: {{monitors.coverage: 0.8, monitors.attribution: 0.95}}
sweep:
  grid:
    truce.loophole_width: [0.1, 0.5, 0.9]
"""

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

#: Columns the model writes; the design columns (arm, point, swept values) are left out.
KEY = ["chunk", "replicate"]


@pytest.fixture
def crossed_path(write_yaml, baseline_path):
    return write_yaml(CROSSED.format(base=baseline_path), "crossed.yaml")


@pytest.fixture(scope="module")
def crossed_result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crossed")
    path = folder / "crossed.yaml"
    path.write_text(CROSSED.format(base=SCENARIOS / "baseline.yaml"))
    return path, sim.sweep(path, out=None, engine="serial", chunk_size=60, keep_runs=True)


def test_expand_crosses_every_arm_with_every_point(crossed_path):
    scenario = load_scenario(crossed_path)
    assert is_crossed(scenario)
    rows = expand(scenario, "sweep")
    assert [(r.arm, r.point) for r in rows] == [
        (arm, p) for arm in ("unmonitored", "monitored") for p in range(3)
    ]
    for r in rows:
        width = (0.1, 0.5, 0.9)[r.point]
        assert r.parameters == {"truce.loophole_width": width}  # only the swept values
        assert r.overrides == {"truce.loophole_width": width, **scenario.compare[r.arm]}
    # compare alone ignores the sweep: the arms at the scenario's own values
    assert [(r.arm, r.overrides) for r in expand(scenario, "compare")] == list(
        scenario.compare.items()
    )


@pytest.mark.parametrize(
    ("arm", "swept", "clash"),
    [
        ("{monitors.coverage: 0.8}", "monitors.coverage", "monitors.coverage"),
        ("{monitors: null}", "monitors.coverage", "monitors"),
        ("{truce: {loophole_width: 0.2}}", "truce.loophole_width", "truce"),
    ],
)
def test_arm_and_sweep_setting_the_same_parameter_is_a_clear_error(
    write_yaml, baseline_path, arm, swept, clash
):
    text = (
        f"extends: {baseline_path}\nname: clash\ncompare:\n  a: {arm}\n  b: {{}}\n"
        f"sweep:\n  grid:\n    {swept}: [0.2, 0.8]\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_yaml(text))
    err = info.value
    assert err.field == f"compare.a.{clash}"
    assert "crossed design" in err.message and swept in err.message
    assert err.line == 4  # the arm's line


def test_each_arm_is_exactly_the_plain_sweep_of_its_scenario(crossed_result, write_yaml):
    """Common random numbers across arms and points: an arm's slice of the crossed run
    is the same truces, draw for draw, as sweeping that arm's scenario on its own."""
    path, result = crossed_result
    scenario = load_scenario(path)
    runs = result.runs
    for arm, overrides in scenario.compare.items():
        alone = scenario.model_copy(update={"compare": {}})
        for key, value in overrides.items():
            from sim.scenario.loading import resolve_scenario

            alone = resolve_scenario(alone, {key: value})
        plain = sim.sweep(alone, out=None, engine="serial", chunk_size=60, keep_runs=True).runs
        mine = runs[runs["arm"] == arm].drop(columns="arm").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, plain.drop(columns="arm"), check_dtype=True)


def test_arms_share_initial_state_at_every_point(crossed_result):
    _, result = crossed_result
    runs = result.runs.set_index(["point", *KEY])
    trust = runs.groupby("arm")["start_trust"]
    a, b = (trust.get_group(arm).sort_index() for arm in ("unmonitored", "monitored"))
    pd.testing.assert_series_equal(a, b, check_names=False)
    # the loophole does not act before the start either: one initial state for all points
    assert runs["start_trust"].groupby(KEY).nunique().eq(1).all()


def test_summary_has_a_group_per_point_and_arm_and_compares_arms_at_each_point(crossed_result):
    path, result = crossed_result
    summary = result.summary_dict
    assert summary["by"] == "point" and summary["arms"] == ["unmonitored", "monitored"]
    assert [(g["point"], g["arm"]) for g in summary["groups"]] == [
        (p, arm) for p in range(3) for arm in ("unmonitored", "monitored")
    ]
    for g in summary["groups"]:
        assert g["replicates"] == 120
        assert g["parameters"] == {"truce.loophole_width": (0.1, 0.5, 0.9)[g["point"]]}
    runs = result.runs
    assert [c["point"] for c in summary["comparisons"]] == [0, 1, 2]
    for c in summary["comparisons"]:
        assert (c["a"], c["b"]) == ("unmonitored", "monitored")
        expected = compare_arms(runs[runs["point"] == c["point"]], "unmonitored", "monitored")
        assert c["hazard_ratio"] == pytest.approx(expected.hazard_ratio)
        assert c["logrank_p"] == pytest.approx(expected.logrank_p)
        assert c["parameters"] == {"truce.loophole_width": (0.1, 0.5, 0.9)[c["point"]]}
    # the same as summarize() on the stored table
    assert summarize(runs, by="point", arms=summary["arms"]) == summary


def test_each_point_compares_like_truce_compare_at_that_point(crossed_result):
    path, result = crossed_result
    scenario = load_scenario(path)
    point = result.summary_dict["comparisons"][2]
    at_point = scenario.model_copy(update={"sweep": None})
    from sim.scenario.loading import resolve_scenario

    at_point = resolve_scenario(at_point, point["parameters"])
    compared = sim.compare(at_point, out=None, engine="serial", chunk_size=60).summary_dict
    alone = compared["comparisons"][0]
    for key in ("hazard_ratio", "hazard_ratio_low", "hazard_ratio_high", "logrank_p"):
        assert point[key] == pytest.approx(alone[key], rel=1e-12)


def test_plain_sentences_name_each_arm_and_the_range_of_hazard_ratios(crossed_result):
    _, result = crossed_result
    summary = result.summary_dict
    text = plain_summary(summary)
    assert text[0].startswith("In the “unmonitored” arm") and "3 design points" in text[0]
    assert text[1].startswith("In the “monitored” arm")
    ratios = sorted(c["hazard_ratio"] for c in summary["comparisons"])
    assert f"between {ratios[0]:.2f} and {ratios[-1]:.2f} times" in text[2]


def test_result_summary_groups_by_point_and_arm(crossed_result):
    _, result = crossed_result
    table = result.summary()
    assert {"point", "arm", "truce.loophole_width"} <= set(table.columns)
    assert table.groupby(["point", "arm"]).ngroups == 6


def test_crossed_sensitivity_indices_are_per_arm(write_yaml, baseline_path):
    text = (
        f"extends: {baseline_path}\nname: xm\nreplicates: 40\ntruce: {{horizon: 60}}\n"
        "compare:\n  unmonitored: {monitors: null}\n  monitored: {monitors.coverage: 0.8}\n"
        "sweep:\n  morris:\n    trajectories: 3\n    levels: 4\n    bounds:\n"
        "      truce.loophole_width: {low: 0.0, high: 0.8}\n"
        "      deconfliction.level: {low: 0.0, high: 1.0}\n"
    )
    result = sim.sweep(write_yaml(text), out=None, engine="serial", keep_runs=True)
    found = result.summary_dict["sensitivity"]
    assert found["arms"] == ["unmonitored", "monitored"]
    table = result.sensitivity()
    assert list(table.columns[:3]) == ["arm", "output", "parameter"]
    assert len(table) == 2 * 2 * 2  # arms x outputs x parameters
    # each arm's indices are those of its slice analysed alone
    from sim.analysis import sensitivity

    runs = result.runs
    scenario = load_scenario(write_yaml(text))
    alone = sensitivity.analyze(runs[runs["arm"] == "monitored"], scenario.sweep, scenario.seed)
    mine = [r for r in found["indices"] if r["arm"] == "monitored"]
    assert [{k: v for k, v in r.items() if k != "arm"} for r in mine] == alone["indices"]


def test_cli_sweep_json_and_tables_for_a_crossed_design(crossed_path, tmp_path):
    runner = CliRunner()
    args = ["sweep", str(crossed_path), "--out", str(tmp_path), "--engine", "serial"]
    result = runner.invoke(app, [*args, "--json", "--no-report", "-n", "60"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kind"] == "sweep" and data["arms"] == ["unmonitored", "monitored"]
    assert len(data["groups"]) == 6 and len(data["comparisons"]) == 3
    table = runner.invoke(app, [*args, "--no-report", "-n", "60"])
    assert table.exit_code == 0, table.output
    assert "Arms compared at each design point" in table.stdout
    assert "Hazard ratio" in table.stdout and "monitored" in table.stdout


def test_cli_compare_on_a_crossed_scenario_runs_the_arms_and_says_so(crossed_path, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["compare", str(crossed_path), "--out", str(tmp_path), "--json", "--no-report"]
        + ["--engine", "serial", "-n", "60"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["by"] == "arm" and len(data["groups"]) == 2
    assert "truce sweep" in result.stderr
