"""Tests of sim.present.charts on synthetic result tables."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from helpers_tables import make_runs, make_sweep_runs, make_trace
from plotly.io.json import to_json_plotly

from sim.analysis import shares, survival
from sim.present import charts, sentences, text
from sim.present.charts.causes import cause_figure
from sim.present.charts.daily import daily_figure
from sim.present.charts.horizons import collapse_figure
from sim.present.charts.style import as_figure
from sim.present.charts.survival import survival_figure
from sim.present.charts.timeline import timeline_figure
from sim.present.report.build import page_figure
from sim.scenario.schema import ORIGINS


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
        "import json; from sim.present import charts; "
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
    km = survival.survival(runs)
    first = km[km["arm"] == "unmonitored"]
    np.testing.assert_array_equal(curves[0].y, first["survival"].to_numpy())


def test_survival_chart_accepts_a_survival_table_and_skips_lines_past_the_horizon():
    short = make_runs(n=50, horizon=60)
    from_table = charts.survival_chart(survival.survival(short))
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
    table = shares.collapse_by_horizon(runs)
    for trace in fig.data:
        rows = table[table["arm"] == trace.name]
        assert list(trace.x) == [f"within {h} days" for h in rows["horizon"]]
        np.testing.assert_allclose(trace.y, rows["share"])
        assert (np.asarray(trace.error_y.array) >= 0).all()
        assert (np.asarray(trace.error_y.arrayminus) >= 0).all()
        first = rows.iloc[0]
        assert f"{sentences.pct(first['share'])} collapsed within 30 days" in trace.hovertext[0]


def test_cause_chart_stacks_shares_of_collapses(runs):
    fig = charts.cause_chart(runs)
    assert fig.layout.barmode == "stack"
    assert len(fig.data) == len(ORIGINS)
    for trace, origin in zip(fig.data, ORIGINS, strict=True):
        assert trace.marker.color == charts.color_for("origin", origin)
        assert trace.name == text.ORIGIN_LABELS[origin]
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


# ---------------------------------------------------------------- figure dictionaries (issue 14)
# A report draws these charts from dictionaries that plotly never validates (validation
# cost more than the rest of the page): they must already be what validation gives.


def _as_page_holds(figure) -> dict:
    return json.loads(to_json_plotly(page_figure(figure)))


def _without_empty(value):
    """An empty object sets nothing in plotly.js; go.Figure(dict) leaves one out."""
    if isinstance(value, dict):
        return {k: _without_empty(v) for k, v in value.items() if v != {}}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


def _daily_means(groups=("unmonitored", "monitored"), days=40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    parts = []
    for g in groups:
        mean = rng.uniform(0.1, 0.6, days)
        in_force = np.maximum(0, 100 - np.arange(days) * rng.integers(1, 4)).astype(np.int64)
        low, high = mean - 0.05, mean + 0.05
        low[:2] = np.nan  # too few truces for an interval: the band falls back on the mean
        high[:2] = np.nan
        parts.append(
            pd.DataFrame(
                {
                    "arm": g,
                    "day": np.arange(1, days + 1, dtype=np.int64),
                    "violence_mean": mean,
                    "violence_low": low,
                    "violence_high": high,
                    "in_force": in_force,
                    "holding_share": in_force / 100,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


FIGURE_CASES = {
    "survival by arm": lambda runs, sweep: survival_figure(runs),
    "survival of one arm": lambda runs, sweep: survival_figure(runs[runs["arm"] == "monitored"]),
    "survival by point": lambda runs, sweep: survival_figure(sweep, by="point"),
    "survival from a step table": lambda runs, sweep: survival_figure(survival.survival(runs)),
    "survival without lines": lambda runs, sweep: survival_figure(runs, horizons=()),
    "survival with a line past the end": lambda runs, sweep: survival_figure(
        runs, horizons=(30, 400)
    ),
    "collapse by arm": lambda runs, sweep: collapse_figure(runs),
    "collapse by point": lambda runs, sweep: collapse_figure(sweep, by="point", level=0.9),
    "causes by arm": lambda runs, sweep: cause_figure(runs),
    "causes by point": lambda runs, sweep: cause_figure(sweep, by="point"),
    "causes, escaped names": lambda runs, sweep: cause_figure(
        make_runs({"<i>a</i> & b": 0.02, "monitored": 0.004}, n=40)
    ),
    "daily by arm": lambda runs, sweep: daily_figure(_daily_means()),
    "daily, four arms": lambda runs, sweep: daily_figure(_daily_means(tuple("abcd"))),
    "timeline by origin": lambda runs, sweep: timeline_figure(*make_trace()),
    "timeline by party, no markers": lambda runs, sweep: timeline_figure(
        *make_trace(collapse_day=None, withdrawal_day=None), stack="party"
    ),
    "timeline without lead time or events": lambda runs, sweep: timeline_figure(
        make_trace(lead=0)[0]
    ),
}


@pytest.mark.parametrize("case", list(FIGURE_CASES))
def test_a_figure_dictionary_is_what_plotly_validation_makes_of_it(case, runs):
    spec = FIGURE_CASES[case](runs, make_sweep_runs())
    validated = json.loads(to_json_plotly(as_figure(spec).to_dict()))
    assert _without_empty(_as_page_holds(spec)) == _without_empty(validated)
    assert validated["layout"]["template"] == json.loads(
        to_json_plotly(pio.templates["plotly_white"])
    )


def test_the_public_charts_are_their_figure_dictionaries(runs):
    pairs = [
        (charts.survival_chart(runs), survival_figure(runs)),
        (charts.collapse_bars(runs), collapse_figure(runs)),
        (charts.cause_chart(runs), cause_figure(runs)),
        # built with make_subplots (rows and columns for callers) against the dictionary
        (charts.daily_chart(_daily_means()), daily_figure(_daily_means())),
    ]
    for fig, spec in pairs:
        assert isinstance(fig, go.Figure)
        assert _as_page_holds(fig) == _as_page_holds(spec)


def test_the_daily_panels_are_those_make_subplots_lays_out():
    from plotly.subplots import make_subplots

    from sim.present.charts.daily import GRID, GRID_AXES, GRID_SPACING

    laid_out = make_subplots(**GRID, vertical_spacing=GRID_SPACING).to_dict()["layout"]
    laid_out.pop("template", None)
    assert laid_out == GRID_AXES
    # and the public chart keeps its grid: traces can still be added by row and column
    fig = charts.daily_chart(_daily_means())
    fig.add_trace(go.Scatter(x=[1], y=[0.5]), row=2, col=1)
    assert fig.data[-1].yaxis == "y2"


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
    pooled = shares.collapse_by_horizon(sweep, (90,), by="monitors.coverage")
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


# ---------------------------------------------------------------- crossed designs


@pytest.fixture(scope="module")
def crossed():
    """A crossed sweep's runs: the same grid under two arms, the unmonitored arm worse."""
    grid = {"monitors.coverage": [0.0, 0.5, 1.0], "truce.loophole_width": [0, 1]}
    monitored = make_sweep_runs(grid, n=60, arm="monitored", seed=3)
    unmonitored = make_sweep_runs(grid, n=60, arm="unmonitored", seed=4)
    return pd.concat([monitored, unmonitored], ignore_index=True)


def comparison(point, hr, low, high, p=0.01, b="unmonitored", **params):
    return {
        "point": point,
        "parameters": params,
        "by": "arm",
        "a": "monitored",
        "b": b,
        "level": 0.95,
        "hazard_ratio": hr,
        "hazard_ratio_low": low,
        "hazard_ratio_high": high,
        "logrank_p": p,
        "differences": [],
    }


def test_small_multiples_with_one_line_per_arm(crossed):
    params = ["monitors.coverage", "truce.loophole_width"]
    fig = charts.sweep_small_multiples(crossed, params, by="arm")
    assert [t.name for t in legend_traces(fig)] == ["monitored", "unmonitored"]
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert len(lines) == 4  # two panels, two arms
    assert [t.line.color for t in lines] == [
        charts.color_for("arm", a) for a in ("monitored", "unmonitored")
    ] * 2
    rows = crossed[crossed["arm"] == "unmonitored"]
    pooled = shares.collapse_by_horizon(rows, (90,), by="truce.loophole_width")
    np.testing.assert_allclose(lines[3].y, pooled[pooled["horizon"] == 90]["share"])
    assert lines[3].xaxis == "x2"
    plain = charts.sweep_small_multiples(crossed, params)
    assert len(plain.data) == 6 and not legend_traces(plain)


def test_one_heatmap_per_arm_on_a_shared_scale(crossed):
    fig = charts.sweep_heatmap_by(crossed, "monitors.coverage", "truce.loophole_width")
    assert [t.type for t in fig.data] == ["heatmap", "heatmap"]
    assert [t.coloraxis for t in fig.data] == ["coloraxis", "coloraxis"]
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0, 1)
    assert [a.text for a in fig.layout.annotations] == ["monitored", "unmonitored"]
    for arm, trace in zip(("monitored", "unmonitored"), fig.data, strict=True):
        alone = charts.sweep_heatmap(
            crossed[crossed["arm"] == arm], "monitors.coverage", "truce.loophole_width"
        ).data[0]
        np.testing.assert_allclose(np.asarray(trace.z, float), np.asarray(alone.z, float))
        assert trace.hovertext[0][0].startswith(f"{arm}<br>")
    assert fig.data[1].xaxis == "x2" and fig.layout.yaxis.title.text == "truce.loophole_width"


def test_hazard_ratios_against_one_parameter():
    comparisons = [
        comparison(0, 2.0, 1.5, 2.7, **{"truce.loophole_width": 0.0}),
        comparison(1, None, None, None, p=None, **{"truce.loophole_width": 0.5}),
        comparison(2, 0.5, 0.3, 0.8, **{"truce.loophole_width": 1.0}),
    ]
    fig = charts.hazard_ratio_chart(comparisons)
    (trace,) = fig.data
    assert trace.name == "unmonitored vs monitored" and trace.mode == "lines+markers"
    assert list(trace.x) == [0.0, 1.0] and list(trace.y) == [2.0, 0.5]  # no ratio at 0.5
    np.testing.assert_allclose(np.asarray(trace.y) + trace.error_y.array, [2.7, 0.8])
    np.testing.assert_allclose(np.asarray(trace.y) - trace.error_y.arrayminus, [1.5, 0.3])
    assert trace.line.color == charts.color_for("arm", "unmonitored")
    assert fig.layout.yaxis.type == "log"
    low, high = fig.layout.yaxis.range
    assert low < np.log10(0.3) and high > np.log10(2.7)
    assert 1 in fig.layout.yaxis.tickvals
    assert [(s.y0, s.y1) for s in fig.layout.shapes] == [(1, 1)]
    assert "point 2: truce.loophole_width = 1" in trace.hovertext[1]
    assert "hazard ratio 0.50 (95% CI 0.30–0.80)" in trace.hovertext[1]
    assert fig.layout.xaxis.title.text == "truce.loophole_width"


def test_hazard_ratios_of_a_small_design_over_two_parameters_are_a_forest():
    comparisons = [
        comparison(i, 1 + i, 0.5 + i, 2 + i, **{"a.x": x, "b.y": y})
        for i, (x, y) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)])
    ]
    comparisons += [
        comparison(i, 1 / (1 + i), None, None, b="third", **c["parameters"])
        for i, c in enumerate(comparisons)
    ]
    fig = charts.hazard_ratio_chart(comparisons)
    assert [t.name for t in fig.data] == ["unmonitored vs monitored", "third vs monitored"]
    assert fig.layout.xaxis.type == "log"
    assert list(fig.layout.yaxis.ticktext) == [
        "point 0: a.x = 0, b.y = 0",
        "point 1: a.x = 0, b.y = 1",
        "point 2: a.x = 1, b.y = 0",
        "point 3: a.x = 1, b.y = 1",
    ]
    first, third = fig.data
    assert list(first.x) == [1, 2, 3, 4]
    assert np.all(np.round(first.y) == np.arange(4)) and np.all(np.asarray(first.y) < np.arange(4))
    assert np.all(np.asarray(third.y) > np.arange(4))  # side by side on each row
    assert list(third.error_x.array) == [0, 0, 0, 0]  # no interval known
    assert [(s.x0, s.x1) for s in fig.layout.shapes] == [(1, 1)]


def test_hazard_ratios_of_a_large_design_get_a_panel_per_parameter():
    comparisons = [
        comparison(i, 1 + i / 10, 1, 2 + i / 10, **{"a.x": i % 7, "b.y": i / 40}) for i in range(40)
    ]
    comparisons[5]["hazard_ratio"] = 0.0  # no collapse in the arm: not on a log axis
    fig = charts.hazard_ratio_chart(comparisons)
    assert len(fig.data) == 2 and [t.mode for t in fig.data] == ["markers", "markers"]
    assert [len(t.x) for t in fig.data] == [39, 39]
    assert [t.showlegend for t in fig.data] == [True, False]
    assert {a.text for a in fig.layout.annotations} >= {"a.x", "b.y"}
    assert fig.layout.yaxis.type == fig.layout.yaxis2.type == "log"
    assert len(fig.layout.shapes) == 2  # the line at 1 in each panel


def test_sensitivity_bars_per_arm():
    rows = []
    for arm, scale in (("monitored", 1.0), ("unmonitored", 0.5)):
        for output in ("collapse_share", "mean_days_held"):
            for parameter in ("a.x", "b.y"):
                rows.append(
                    {
                        "arm": arm,
                        "output": output,
                        "parameter": parameter,
                        "mu_star": scale * (2 if parameter == "a.x" else 1),
                        "mu_star_conf": 0.1,
                        "sigma": 0.2,
                    }
                )
    table = pd.DataFrame(rows)
    fig = charts.sensitivity_chart(table)
    assert len(fig.data) == 2 * 2 * 2  # (μ*, σ) × outputs × arms
    assert [t.name for t in legend_traces(fig)] == ["monitored", "unmonitored"]
    assert all(t.marker.color == charts.color_for("arm", t.name) for t in fig.data)
    first = fig.data[1]  # μ* of the collapse share, unmonitored
    assert first.name == "unmonitored" and list(first.y) == [1.0, 0.5]
    assert list(first.error_y.array) == [0.1, 0.1]
    assert fig.data[5].error_y.array is None  # σ has no interval
    one_arm = charts.sensitivity_chart(table[table["arm"] == "monitored"])
    assert [t.name for t in legend_traces(one_arm)][0].startswith("μ*")


# ---------------------------------------------------------------- one truce


def test_timeline_by_origin_with_markers():
    days, events = make_trace(collapse_day=42, withdrawal_day=25)
    fig = charts.timeline_chart(days, events)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [t.name for t in bars] == [text.ORIGIN_LABELS[o] for o in ORIGINS]
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
