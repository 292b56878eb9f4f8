"""Sensitivity indices of sobol and morris sweeps: library, command line, JSON, report.

The sweeps here are tiny (16 or 12 design points of 40 truces over 60 days),
so the indices themselves are noisy and the tests make no claim about their
size. What they rely on is exact: the scenario has no exempted groups, so
``truce.loophole_width`` is never read by the model (the loophole strikes need
an exempted group to strike), and with common random numbers every point that
differs from another only in the loophole width simulates the very same
truces. Its Sobol indices and Morris effects are then exactly 0 (SALib's
estimators are differences of outputs that are equal), while monitoring
coverage changes how many truces collapse (with a collapse threshold of one
violation a day, from about 90% to 60% within 60 days across its bounds).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.analysis import sensitivity
from sim.api import Result
from sim.cli import app
from sim.experiment.runner import run_one
from sim.scenario.loading import load_scenario

SCENARIO = """\
extends: {base}
name: {name}
truce: {{horizon: 60, exempted: [], collapse: {{threshold: 1}}}}
monitors: {{coverage: 0.6, detection: 0.8, attribution: 0.85}}
replicates: 40
sweep:
  {design}
"""
SOBOL = """sobol:
    n: 4
    bounds:
      monitors.coverage: {low: 0.0, high: 1.0}
      truce.loophole_width: {low: 0.0, high: 1.0}"""
MORRIS = """morris:
    trajectories: 4
    levels: 4
    bounds:
      monitors.coverage: {low: 0.0, high: 1.0}
      truce.loophole_width: {low: 0.0, high: 1.0}"""
GRID = """grid:
    monitors.coverage: [0.2, 0.8]"""

# Indices of a parameter the model never reads are differences of equal
# numbers, so exactly 0 up to floating-point rounding of SALib's arithmetic.
ZERO = 1e-12


@pytest.fixture
def scenario_file(write_yaml, baseline_path):
    def _make(design: str, name: str = "sensitivity_test"):
        text = SCENARIO.format(base=baseline_path, name=name, design=design)
        return write_yaml(text, f"{name}.yaml")

    return _make


def _by_parameter(table: pd.DataFrame, output: str) -> pd.DataFrame:
    return table[table["output"] == output].set_index("parameter")


def test_sobol_sweep_gives_the_acting_lever_the_larger_indices(scenario_file):
    result = sim.sweep(scenario_file(SOBOL), out=None, engine="serial", keep_runs=True)
    table = result.sensitivity()
    assert list(table.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert len(table) == 4  # two outputs x two parameters
    for output in sensitivity.OUTPUTS:
        rows = _by_parameter(table, output)
        inert, lever = rows.loc["truce.loophole_width"], rows.loc["monitors.coverage"]
        assert inert["S1"] == pytest.approx(0, abs=ZERO)
        assert inert["ST"] == pytest.approx(0, abs=ZERO)
        assert lever["ST"] > inert["ST"] + 0.1
    stored = result.summary_dict["sensitivity"]
    assert stored["method"] == "sobol" and stored["points"] == 4 * (2 + 2)
    assert stored["replicates"] == 40
    # Computed again from the runs (as for a result without a stored summary):
    # the bootstrap is seeded, so the intervals are the same too.
    again = Result(result.scenario, result.runs, result.manifest, None, {}).sensitivity()
    pd.testing.assert_frame_equal(again, table)


def test_morris_sweep_gives_the_acting_lever_the_larger_effect(scenario_file):
    path = scenario_file(MORRIS, "morris_test")
    result = sim.sweep(path, out=None, engine="serial")
    table = result.sensitivity()
    assert list(table.columns) == ["output", "parameter", "mu_star", "mu_star_conf", "sigma"]
    assert result.summary_dict["sensitivity"]["points"] == 4 * (2 + 1)
    # With 4 levels a step moves coverage by 2/3 of its bounds: from 0 to 2/3
    # or from 1/3 to 1. The loophole width changes nothing, so every elementary
    # effect of coverage is one of two numbers, which the same 40 truces run
    # directly at those levels give; mu_star, their mean absolute value, lies
    # between them.
    direct = {
        level: run_one(
            load_scenario(path, {"monitors.coverage": level, "sweep": None}),
            result.scenario.seed,
            40,
        )
        for level in (0, 1 / 3, 2 / 3, 1)
    }
    for output in sensitivity.OUTPUTS:
        rows = _by_parameter(table, output)
        inert, lever = rows.loc["truce.loophole_width"], rows.loc["monitors.coverage"]
        assert inert["mu_star"] == pytest.approx(0, abs=ZERO)
        assert inert["sigma"] == pytest.approx(0, abs=ZERO)
        y = {level: _output(runs, output) for level, runs in direct.items()}
        effects = [abs(y[2 / 3] - y[0]) / (2 / 3), abs(y[1] - y[1 / 3]) / (2 / 3)]
        assert min(effects) - ZERO <= lever["mu_star"] <= max(effects) + ZERO
        assert lever["mu_star"] > 0


def _output(runs: pd.DataFrame, output: str) -> float:
    column = {"collapse_share": "collapsed", "mean_days_held": "days_held"}[output]
    return float(runs[column].astype(float).mean())


def test_point_outputs_by_hand():
    runs = pd.DataFrame(
        {
            "point": [0, 0, 0, 1, 1, 1],
            "collapsed": [True, False, False, True, True, False],
            "days_held": [10, 60, 60, 5, 15, 60],
        }
    )
    got = sensitivity.point_outputs(runs, 2)
    assert got["replicates"].tolist() == [3, 3]
    assert got["collapse_share"].tolist() == pytest.approx([1 / 3, 2 / 3])
    assert got["mean_days_held"].tolist() == pytest.approx([130 / 3, 80 / 3])
    with pytest.raises(ValueError, match=r"no runs for points \[2\]"):
        sensitivity.point_outputs(runs, 3)


def test_indices_need_a_sobol_or_morris_sweep_covering_the_design(scenario_file):
    grid = sim.sweep(scenario_file(GRID, "grid_test"), out=None, engine="serial", replicates=5)
    assert "sensitivity" not in grid.summary_dict
    with pytest.raises(ValueError, match="not a grid design"):
        grid.sensitivity()
    result = sim.sweep(
        scenario_file(SOBOL), out=None, engine="serial", replicates=5, keep_runs=True
    )
    runs, sweep, seed = result.runs, result.scenario.sweep, result.scenario.seed
    with pytest.raises(ValueError, match="need every design point"):
        sensitivity.analyze(runs[runs["point"] != 3], sweep, seed)
    tampered = runs.assign(**{"monitors.coverage": runs["monitors.coverage"] + 0.01})
    with pytest.raises(ValueError, match="do not come from this design"):
        sensitivity.analyze(tampered, sweep, seed)


def test_an_output_that_never_varies_has_no_indices(scenario_file):
    # Nothing collapses within 2 days, so neither output varies over the design.
    result = sim.sweep(
        scenario_file(SOBOL),
        out=None,
        engine="serial",
        replicates=5,
        overrides={"truce.horizon": 2},
    )
    found = result.summary_dict["sensitivity"]
    assert all(row["ST"] is None and row["S1"] is None for row in found["indices"])
    assert result.sensitivity()["ST"].isna().all()


def test_cli_prints_the_indices_and_json_holds_them(scenario_file, tmp_path):
    path = scenario_file(SOBOL)
    runner = CliRunner()
    args = ["sweep", str(path), "--engine", "serial", "--out", str(tmp_path)]
    shown = runner.invoke(app, [*args, "--no-report"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "Sobol sensitivity indices" in shown.stdout
    table_part = shown.stdout[shown.stdout.index("Sobol sensitivity indices") :]
    for name in ("monitors.coverage", "truce.loophole_width", "collapse_share", "mean_days_held"):
        assert name in table_part

    as_json = runner.invoke(app, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    found = data["sensitivity"]
    assert found["method"] == "sobol" and found["parameters"] == [
        "monitors.coverage",
        "truce.loophole_width",
    ]
    assert {(r["output"], r["parameter"]) for r in found["indices"]} == {
        (o, p) for o in sensitivity.OUTPUTS for p in found["parameters"]
    }
    stored = json.loads((Path(data["results"]) / "summary.json").read_text())
    assert stored["sensitivity"] == found
    # The report (written without --no-report) draws the indices and tabulates them.
    page = Path(data["report"]).read_text(encoding="utf-8")
    assert 'id="chart-sensitivity"' in page and "<h3>Sensitivity indices</h3>" in page


def test_report_computes_the_indices_when_the_summary_lacks_them(scenario_file, tmp_path):
    from sim.present import report

    result = sim.sweep(scenario_file(MORRIS, "morris_report"), out=tmp_path, engine="serial")
    (result.path / "summary.json").unlink()
    text = report.build_report(result.path).read_text(encoding="utf-8")
    assert 'id="chart-sensitivity"' in text and "μ* (± 95% CI)" in text


def test_sensitivity_chart_draws_the_indices_with_their_intervals():
    from sim.present import charts

    table = pd.DataFrame(
        {
            "output": ["collapse_share", "collapse_share", "mean_days_held", "mean_days_held"],
            "parameter": ["a.x", "b.y", "a.x", "b.y"],
            "S1": [0.7, 0.0, 0.6, np.nan],
            "S1_conf": [0.1, 0.0, 0.2, np.nan],
            "ST": [0.9, 0.05, 0.8, np.nan],
            "ST_conf": [0.15, 0.01, 0.1, np.nan],
        }
    )
    fig = charts.sensitivity_chart(table)
    assert [t.type for t in fig.data] == ["bar"] * 4  # S1 and ST in each of two panels
    st = fig.data[1]
    assert list(st.x) == ["a.<br>x", "b.<br>y"] and list(st.y) == [0.9, 0.05]
    assert list(st.error_y.array) == [0.15, 0.01]
    assert [t.showlegend for t in fig.data] == [True, True, False, False]
    assert "not defined" in fig.data[3].hovertext[1]  # the NaN of an output that never varied
