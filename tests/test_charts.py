"""Tests of sim.charts on synthetic result tables."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import pytest
from helpers_tables import ORIGINS, make_runs, make_sweep_runs, make_trace

from sim import analysis, charts


def legend_traces(fig: go.Figure) -> list:
    return [t for t in fig.data if t.showlegend is not False]


# ---------------------------------------------------------------- colours


def test_fixed_colours_for_origins_and_arms():
    origin_colors = [charts.color_for("origin", o) for o in ORIGINS]
    assert len(set(origin_colors)) == len(ORIGINS)
    assert set(origin_colors) <= set(charts.OKABE_ITO.values())
    assert charts.color_for("arm", "monitored") != charts.color_for("arm", "unmonitored")
    assert charts.colors_for("arm", ["unmonitored", "monitored"]) == {
        "unmonitored": charts.color_for("arm", "unmonitored"),
        "monitored": charts.color_for("arm", "monitored"),
    }


def test_colours_are_distinct_and_independent_of_order():
    names = [f"party_{i}" for i in range(8)]
    forward = charts.colors_for("party", names)
    backward = charts.colors_for("party", list(reversed(names)))
    assert forward == backward
    assert len(set(forward.values())) == 8
    assert set(forward.values()) == set(charts.PALETTE)


def test_colours_are_stable_across_processes():
    code = (
        "import json; from sim import charts; "
        "print(json.dumps([charts.color_for('party', n) for n in ('alpha', 'beta', 'gamma')]))"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("1", "2")
    ]
    assert json.loads(runs[0]) == json.loads(runs[1])
    assert json.loads(runs[0]) == [charts.color_for("party", n) for n in ("alpha", "beta", "gamma")]


def test_design_points_take_the_palette_in_order():
    assert list(charts.colors_for("point", [2, 0, 1]).items()) == [
        (2, charts.PALETTE[2]),
        (0, charts.PALETTE[0]),
        (1, charts.PALETTE[1]),
    ]


# ---------------------------------------------------------------- survival and bars


@pytest.fixture(scope="module")
def runs():
    return make_runs(n=150)


def test_survival_chart_curves_bands_and_horizon_lines(runs):
    fig = charts.survival_chart(runs)
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 6  # band top, band bottom (filled), curve — per arm
    curves = legend_traces(fig)
    assert [t.name for t in curves] == ["unmonitored", "monitored"]
    for t in curves:
        assert t.line.color == charts.color_for("arm", t.name)
        assert t.line.shape == "hv"
    assert sum(t.fill == "tonexty" for t in fig.data) == 2
    assert fig.layout.xaxis.title.text == "days since the truce began"
    assert fig.layout.yaxis.title.text == "share of truces still holding"
    assert sorted(s.x0 for s in fig.layout.shapes) == [30, 90, 180]
    assert all(s.line.dash == "dot" for s in fig.layout.shapes)
    km = analysis.survival(runs)
    first = km[km["arm"] == "unmonitored"]
    np.testing.assert_array_equal(curves[0].y, first["survival"].to_numpy())


def test_survival_chart_accepts_a_survival_table_and_skips_lines_past_the_horizon():
    short = make_runs(n=50, horizon=60)
    from_table = charts.survival_chart(analysis.survival(short))
    from_runs = charts.survival_chart(short)
    assert [t.y.tolist() for t in from_table.data] == [t.y.tolist() for t in from_runs.data]
    assert [s.x0 for s in from_runs.layout.shapes] == [30]


def test_same_arm_same_colour_in_every_chart(runs):
    survival = {t.name: t.line.color for t in legend_traces(charts.survival_chart(runs))}
    bars = {t.name: t.marker.color for t in charts.collapse_bars(runs).data}
    assert survival == bars


def test_collapse_bars_heights_whiskers_and_hover(runs):
    fig = charts.collapse_bars(runs)
    assert [t.type for t in fig.data] == ["bar", "bar"]
    assert fig.layout.barmode == "group"
    assert fig.layout.yaxis.title.text == "share of truces collapsed"
    table = analysis.collapse_by_horizon(runs)
    for trace in fig.data:
        rows = table[table["arm"] == trace.name]
        assert list(trace.x) == [f"within {h} days" for h in rows["horizon"]]
        np.testing.assert_allclose(trace.y, rows["share"])
        assert (np.asarray(trace.error_y.array) >= 0).all()
        assert (np.asarray(trace.error_y.arrayminus) >= 0).all()
        first = rows.iloc[0]
        assert f"{analysis.pct(first['share'])} collapsed within 30 days" in trace.hovertext[0]


def test_cause_chart_stacks_shares_of_collapses(runs):
    fig = charts.cause_chart(runs)
    assert fig.layout.barmode == "stack"
    assert len(fig.data) == len(ORIGINS)
    for trace, origin in zip(fig.data, ORIGINS, strict=True):
        assert trace.marker.color == charts.color_for("origin", origin)
        assert trace.name == charts.ORIGIN_LABELS[origin]
    totals = np.sum([t.y for t in fig.data], axis=0)
    np.testing.assert_allclose(totals, 1.0)
    assert fig.layout.yaxis.title.text == "share of collapsed truces"


def test_names_from_a_scenario_are_escaped_for_plotly():
    evil = "<b onmouseover=alert(1)>x</b>"
    runs = make_runs({evil: 0.01, "monitored": 0.004}, n=30)
    for fig in (charts.survival_chart(runs), charts.collapse_bars(runs), charts.cause_chart(runs)):
        text = fig.to_json()
        assert "onmouseover=alert(1)>" not in text.replace("\\u003e", ">")
    names = [t.name for t in legend_traces(charts.survival_chart(runs))]
    assert names[0] == "&lt;b onmouseover=alert(1)&gt;x&lt;/b&gt;"


# ---------------------------------------------------------------- sweeps


@pytest.fixture(scope="module")
def sweep():
    return make_sweep_runs()


def test_sweep_heatmap_cells_are_collapse_shares(sweep):
    fig = charts.sweep_heatmap(sweep, "monitors.coverage", "truce.loophole_width", horizon=90)
    (trace,) = fig.data
    assert trace.type == "heatmap"
    z = np.asarray(trace.z, dtype=float)
    assert z.shape == (2, 3)  # rows: loophole width 0, 1; columns: coverage 0, 0.5, 1
    one = sweep[(sweep["monitors.coverage"] == 0.5) & (sweep["truce.loophole_width"] == 1)]
    expected = (one["collapsed"] & (one["collapse_day"] <= 90)).mean()
    assert z[1, 1] == pytest.approx(expected)
    assert fig.layout.xaxis.title.text == "monitors.coverage"
    assert fig.layout.yaxis.title.text == "truce.loophole_width"
    assert "90 days" in fig.layout.title.text


def test_sweep_heatmap_of_a_scattered_design_is_a_scatter():
    runs = make_sweep_runs({"monitors.coverage": [0.1, 0.7], "truce.loophole_width": [0.3]}, n=20)
    runs.loc[runs["point"] == 1, "truce.loophole_width"] = 0.9  # not a grid any more
    (trace,) = charts.sweep_heatmap(runs, "monitors.coverage", "truce.loophole_width").data
    assert trace.type == "scatter" and len(trace.x) == 2


def test_sweep_line_and_small_multiples(sweep):
    fig = charts.sweep_line(sweep, "monitors.coverage", horizon=90)
    line = fig.data[-1]
    assert list(line.x) == [0.0, 0.5, 1.0]
    pooled = analysis.collapse_by_horizon(sweep, (90,), by="monitors.coverage")
    np.testing.assert_allclose(line.y, pooled[pooled["horizon"] == 90]["share"])
    assert fig.data[1].fill == "tonexty"
    multi = charts.sweep_small_multiples(sweep, ["monitors.coverage", "truce.loophole_width"])
    assert len(multi.data) == 6
    titles = {a.text for a in multi.layout.annotations}
    assert {"monitors.coverage", "truce.loophole_width"} <= titles
    assert multi.layout.xaxis2.title.text == "truce.loophole_width"


def test_sweep_line_with_one_line_per_arm():
    runs = make_sweep_runs({"monitors.coverage": [0.0, 1.0]}, n=20)
    runs = runs.assign(arm=np.where(runs["replicate"] % 2 == 0, "monitored", "unmonitored"))
    fig = charts.sweep_line(runs, "monitors.coverage", by="arm")
    assert [t.name for t in legend_traces(fig)] == ["monitored", "unmonitored"]


# ---------------------------------------------------------------- one truce


def test_timeline_by_origin_with_markers():
    days, events = make_trace(collapse_day=42, withdrawal_day=25)
    fig = charts.timeline_chart(days, events)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [t.name for t in bars] == [charts.ORIGIN_LABELS[o] for o in ORIGINS]
    assert [t.marker.color for t in bars] == [charts.color_for("origin", o) for o in ORIGINS]
    np.testing.assert_array_equal(bars[3].y, days["violations_spoiler"])
    lines = {t.name: t for t in fig.data if t.type == "scatter"}
    assert {"government: trust", "faction_north: war fatigue", "monitoring coverage"} <= set(lines)
    assert lines["government: trust"].yaxis == "y2"
    assert lines["faction_north: war fatigue"].line.dash == "dash"
    lines_x = sorted(s.x0 for s in fig.layout.shapes if s.type == "line")
    assert lines_x == [25, 42]
    notes = " ".join(a.text for a in fig.layout.annotations)
    assert "monitors withdrew (day 25)" in notes
    assert "truce collapsed (day 42): spoiler attacks" in notes
    assert "before the start" in notes
    assert fig.layout.xaxis2.title.text.startswith("days since the truce began")


def test_timeline_by_party_uses_party_colours():
    days, events = make_trace(collapse_day=None, withdrawal_day=None)
    fig = charts.timeline_chart(days, events, stack="party")
    bars = {t.name: t.marker.color for t in fig.data if t.type == "bar"}
    trust = {t.name.split(":")[0]: t.line.color for t in fig.data if "trust" in (t.name or "")}
    assert set(bars) == {"government", "faction_north", "isis"}
    for party, color in trust.items():
        assert bars[party] == color
    assert not [s for s in fig.layout.shapes if s.type == "line"]
    with pytest.raises(ValueError):
        charts.timeline_chart(days, events, stack="weather")


def test_timeline_without_events():
    days, _ = make_trace()
    fig = charts.timeline_chart(days)
    assert isinstance(fig, go.Figure)
    assert all(t.name != "events (hover to read)" for t in fig.data)
