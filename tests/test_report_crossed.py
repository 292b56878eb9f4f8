"""The report of a crossed design: a sweep run under every arm of a comparison.

The results folders are built the way ``truce sweep`` writes them (runs parts
from :func:`sim.experiment.runner.task_table`, a manifest with ``arms`` and one design
record per (arm, point), the crossed summary), from small real simulations.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers_tables import make_sweep_runs, write_results_dir
from test_report import PLOTLY_MARKER, Resources
from test_report_browser import check_page

from sim.analysis import sensitivity, summaries
from sim.experiment import storage
from sim.experiment.runner import Chunk, Task, task_table
from sim.present import charts, report, sentences
from sim.scenario.designs import Sweep, sample_matrix, sampled_bounds
from sim.scenario.loading import load_scenario

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
ARMS: dict[str, dict[str, Any]] = {
    "monitored": {"monitors.coverage": 0.8},
    "unmonitored": {"monitors": None},
}
HORIZON = 120
EVIL = "<b onmouseover=alert(1)>x</b>"


# ---------------------------------------------------------------- building results folders


def build_crossed(
    path: Path,
    points: Sequence[Mapping[str, Any]],
    sweep: Mapping[str, Any],
    replicates: int = 120,
    seed: int = 11,
    summary: bool = True,
    arm_index: Mapping[str, int] | None = None,
) -> Path:
    """A crossed results folder: every point of ``points`` under every arm of :data:`ARMS`.

    Args:
        path: the folder to write.
        points: the design points, each a mapping of dotted paths to values.
        sweep: the scenario's ``sweep:`` block, as stored in the manifest.
        replicates: truces per arm and point (one chunk).
        seed: the root seed (common random numbers across arms and points).
        summary: also write the crossed summary.json.
        arm_index: the index of each arm in the parts' names (by default the
            arms' order), to control the order the runs are read back in.
    """
    base = {"truce.horizon": HORIZON}
    arms = list(ARMS)
    index = dict(arm_index or {a: i for i, a in enumerate(arms)})
    records = []
    for arm, (point, params) in itertools.product(arms, enumerate(points)):
        overrides = {**base, **params, **ARMS[arm]}
        scenario = load_scenario(BASELINE, overrides)
        task = Task(
            scenario, seed, Chunk(0, 0, replicates), arm, index[arm], point, tuple(params.items())
        )
        storage.write_part(path, task.name, task_table(task))
        records.append({"arm": arm, "point": point, "overrides": {**params, **ARMS[arm]}})
    runs = storage.read_runs(path)
    dump = load_scenario(BASELINE, base).model_dump(mode="json")
    dump |= {"name": "crossed", "seed": seed, "compare": ARMS, "sweep": dict(sweep)}
    manifest = {
        "kind": "sweep",
        "status": "complete",
        "scenario_name": "crossed",
        "scenario": dump,
        "seed": seed,
        "replicates": replicates,
        "chunk_size": replicates,
        "arms": arms,
        # one record per (arm, point), deliberately not in point-major order
        "design": records[::-1],
    }
    storage.write_json(path / storage.MANIFEST, manifest)
    if summary:
        storage.write_json(path / storage.SUMMARY, summaries.summarize(runs, by="point", arms=arms))
    return path


@pytest.fixture(scope="module")
def one_param(tmp_path_factory) -> Path:
    """Crossed over a grid of one parameter; the unmonitored arm's parts are read first."""
    widths = [0.0, 0.5, 1.0]
    return build_crossed(
        tmp_path_factory.mktemp("one") / "results",
        [{"truce.loophole_width": w} for w in widths],
        {"grid": {"truce.loophole_width": widths}},
        arm_index={"monitored": 1, "unmonitored": 0},
    )


@pytest.fixture(scope="module")
def two_params(tmp_path_factory) -> Path:
    grid = {"truce.loophole_width": [0.0, 1.0], "constants.fatigue_gain": [0.01, 0.04]}
    points = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]
    return build_crossed(tmp_path_factory.mktemp("two") / "results", points, {"grid": grid})


@pytest.fixture(scope="module")
def morris(tmp_path_factory) -> Path:
    block = {
        "morris": {
            "trajectories": 2,
            "bounds": {
                "truce.loophole_width": {"low": 0.0, "high": 1.0},
                "constants.fatigue_gain": {"low": 0.01, "high": 0.06},
            },
        }
    }
    sweep = Sweep.model_validate(block)
    names = list(sampled_bounds(sweep))
    matrix = sample_matrix(sweep, 11)
    points = [dict(zip(names, map(float, row), strict=True)) for row in matrix]
    return build_crossed(
        tmp_path_factory.mktemp("morris") / "results", points, block, replicates=60
    )


@pytest.fixture(scope="module")
def one_report(one_param) -> tuple[str, dict, pd.DataFrame]:
    """The report of :func:`one_param`: its text, the summary it used and the runs."""
    return built(one_param)


def built(folder: Path) -> tuple[str, dict, pd.DataFrame]:
    """Build the report; return its text, the summary it used and the runs."""
    text = report.build_report(folder).read_text(encoding="utf-8")
    runs = storage.read_runs(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    design = report.design_of(manifest, runs)
    return text, report.load_summary(folder, runs, design), runs


def chart_json(text: str, key: str) -> dict:
    """The figure of one chart, parsed from the report's ``Plotly.newPlot`` call."""
    start = text.index(f'id="chart-{key}"')
    call = text.index("Plotly.newPlot(", start)
    decoder = json.JSONDecoder()
    rest = text[call + len("Plotly.newPlot(") :]
    _, after_id = decoder.raw_decode(rest.lstrip())  # the div id
    rest = rest.lstrip()[after_id:].lstrip().removeprefix(",").lstrip()
    data, end = decoder.raw_decode(rest)
    rest = rest[end:].lstrip().removeprefix(",").lstrip()
    layout, _ = decoder.raw_decode(rest)
    return {"data": _decoded(data), "layout": _decoded(layout)}


def _decoded(obj: Any) -> Any:
    """Plotly's typed arrays (``{"dtype", "bdata", "shape"}``) as plain lists."""
    if isinstance(obj, dict) and {"dtype", "bdata"} <= set(obj):
        array = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"])
        shape = obj.get("shape")
        if shape:
            array = array.reshape([int(n) for n in str(shape).split(",")])
        return array.tolist()
    if isinstance(obj, dict):
        return {k: _decoded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decoded(v) for v in obj]
    return obj


def table_after(text: str, heading: str) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the first table after an ``<h3>`` heading, unescaped."""
    start = text.index(f"<h3>{heading}</h3>")
    block = text[start : text.index("</table>", start)]
    headers = [html.unescape(h) for h in re.findall(r"<th(?: [^>]*)?>(.*?)</th>", block, re.S)]
    body = block[block.index("<tbody>") :]
    rows = [
        [html.unescape(c) for c in re.findall(r"<td(?: [^>]*)?>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]
    return headers, rows


def share_within(runs: pd.DataFrame, days: int) -> pd.Series:
    """Per row: whether the truce collapsed within ``days``."""
    return runs["collapsed"] & (runs["collapse_day"].astype("Float64").fillna(np.inf) <= days)


# ---------------------------------------------------------------- recognising the design


def test_a_crossed_design_is_recognised_from_the_runs_and_the_summary(one_param):
    runs = storage.read_runs(one_param)
    manifest = json.loads((one_param / "manifest.json").read_text())
    assert runs["arm"].iloc[0] == "unmonitored"  # as stored; the report reorders
    design = report.design_of(manifest, runs)
    assert design.crossed and design.is_sweep
    assert design.arms == ["monitored", "unmonitored"]  # the manifest's order, not the runs'
    assert design.parameters == ["truce.loophole_width"]  # the arms' paths are not columns
    summary = json.loads((one_param / "summary.json").read_text())
    assert report.is_crossed(summary)
    plain = make_sweep_runs(n=10)
    assert not report.design_of({"kind": "sweep"}, plain).crossed
    assert not report.is_crossed(summaries.summarize(plain, by="point"))


# ---------------------------------------------------------------- charts


def test_sweep_chart_has_one_line_per_arm_with_the_arms_shares(one_report):
    text, _, runs = one_report
    figure = chart_json(text, "sweep")
    lines = [t for t in figure["data"] if t.get("showlegend") is not False]
    assert [t["name"] for t in lines] == ["monitored", "unmonitored"]
    for line in lines:
        assert line["line"]["color"] == charts.color_for("arm", line["name"])
        rows = runs[runs["arm"] == line["name"]]
        expected = share_within(rows, 90).groupby(rows["truce.loophole_width"]).mean()
        np.testing.assert_allclose(line["x"], expected.index)
        np.testing.assert_allclose(line["y"], expected.to_numpy())
    assert sum(t.get("fill") == "tonexty" for t in figure["data"]) == 2  # a band per arm


def test_hazard_ratio_chart_has_one_marker_per_point_equal_to_the_summary(one_report):
    text, summary, _ = one_report
    figure = chart_json(text, "arm-contrast")
    (trace,) = figure["data"]
    assert trace["name"] == "unmonitored vs monitored"
    found = [c for c in summary["comparisons"] if c["hazard_ratio"]]
    assert len(found) == len(trace["y"]) == 3  # every point of this design has a ratio
    by_point = sorted(found, key=lambda c: c["parameters"]["truce.loophole_width"])
    np.testing.assert_allclose(trace["y"], [c["hazard_ratio"] for c in by_point])
    np.testing.assert_allclose(
        trace["x"], [c["parameters"]["truce.loophole_width"] for c in by_point]
    )
    y = np.asarray(trace["y"])
    np.testing.assert_allclose(
        y + trace["error_y"]["array"], [c["hazard_ratio_high"] for c in by_point]
    )
    np.testing.assert_allclose(
        y - np.asarray(trace["error_y"]["arrayminus"]), [c["hazard_ratio_low"] for c in by_point]
    )
    assert figure["layout"]["yaxis"]["type"] == "log"
    (line,) = figure["layout"]["shapes"]
    assert line["y0"] == line["y1"] == 1
    low, high = figure["layout"]["yaxis"]["range"]
    assert low < 0 < high  # log10(1) = 0 is in view
    assert "point 0: truce.loophole_width = 0" in trace["hovertext"][0]


def test_survival_bars_and_causes_pool_the_design_per_arm(one_report):
    text, _, runs = one_report
    for key in ("survival", "collapse"):
        shown = [
            t["name"] for t in chart_json(text, key)["data"] if t.get("showlegend") is not False
        ]
        assert shown == ["monitored", "unmonitored"]
    bars = {t["name"]: t for t in chart_json(text, "collapse")["data"]}
    for arm, trace in bars.items():
        rows = runs[runs["arm"] == arm]
        assert trace["y"][1] == pytest.approx(share_within(rows, 90).mean())
    causes = chart_json(text, "causes")["data"]
    assert {x for t in causes for x in t["x"]} == {"monitored", "unmonitored"}
    assert "Each arm pools the truces of all 3 design points." in text


def test_two_parameters_give_a_heatmap_per_arm_on_one_scale(two_params):
    text, summary, runs = built(two_params)
    heatmaps = chart_json(text, "sweep-heatmap")
    assert [t["type"] for t in heatmaps["data"]] == ["heatmap", "heatmap"]
    assert all(t["coloraxis"] == "coloraxis" for t in heatmaps["data"])
    scale = heatmaps["layout"]["coloraxis"]
    assert (scale["cmin"], scale["cmax"]) == (0, 1)
    titles = [a["text"] for a in heatmaps["layout"]["annotations"]]
    assert titles[:2] == ["monitored", "unmonitored"]
    for arm, trace in zip(("monitored", "unmonitored"), heatmaps["data"], strict=True):
        rows = runs[(runs["arm"] == arm)]
        one = rows[(rows["truce.loophole_width"] == 1.0) & (rows["constants.fatigue_gain"] == 0.01)]
        assert np.asarray(trace["z"], dtype=float)[0, 1] == pytest.approx(
            share_within(one, 90).mean()
        )
    multiples = chart_json(text, "sweep-parameters")
    legend = [t["name"] for t in multiples["data"] if t.get("showlegend") is not False]
    assert legend == ["monitored", "unmonitored"]  # once, in the first panel
    assert len(multiples["data"]) == 2 * 2 * 3  # panels × arms × (band edges, line)
    forest = chart_json(text, "arm-contrast")
    (trace,) = forest["data"]
    assert forest["layout"]["xaxis"]["type"] == "log"
    ratios = {c["point"]: c["hazard_ratio"] for c in summary["comparisons"] if c["hazard_ratio"]}
    ticks = forest["layout"]["yaxis"]["ticktext"]
    assert len(ticks) == 4 and all(t.startswith("point ") for t in ticks)
    shown = {
        int(ticks[round(y)].split(":")[0][6:]): x
        for x, y in zip(trace["x"], trace["y"], strict=True)
    }
    assert shown == pytest.approx(ratios)


# ---------------------------------------------------------------- tables and page


def test_summary_table_has_an_arm_column(one_report):
    text, summary, _ = one_report
    headers, rows = table_after(text, "Collapse and survival")
    assert headers[:3] == ["point", "arm", "truce.loophole_width"]
    assert [(int(r[0]), r[1]) for r in rows] == [(g["point"], g["arm"]) for g in summary["groups"]]
    assert [r[1] for r in rows[:2]] == ["monitored", "unmonitored"]
    first = summary["groups"][0]
    at90 = next(c for c in first["collapse"] if c["horizon"] == 90)
    column = headers.index("collapsed within 90 days")
    assert rows[0][column].startswith(sentences.pct(at90["share"]))


def test_comparison_table_has_one_row_per_point(one_report):
    text, summary, _ = one_report
    headers, rows = table_after(text, "Comparison of arms at each design point")
    assert headers == [
        "point",
        "comparison",
        "truce.loophole_width",
        f"difference within {HORIZON} days (95% CI)",
        "hazard ratio (95% CI)",
        "log-rank test",
    ]
    assert len(rows) == len(summary["comparisons"]) == 3
    for row, c in zip(rows, summary["comparisons"], strict=True):
        assert int(row[0]) == c["point"] and row[1] == "unmonitored vs monitored"
        last = max(c["differences"], key=lambda d: d["horizon"])
        assert row[3].startswith(sentences.points(last["difference"]))
        assert row[4].startswith(f"{c['hazard_ratio']:.2f} (")
        assert row[5] == sentences.p_value(c["logrank_p"])
    assert "<h3>Comparison of arms</h3>" not in text


def test_crossed_report_is_self_contained(one_report):
    text, _, _ = one_report
    assert text.count(PLOTLY_MARKER) == 1
    found = Resources()
    found.feed(text)
    assert found.links == [] and found.scripts_with_src == 0
    assert not [u for u in found.urls if re.match(r"\s*(https?:)?//", u[2], re.I)]
    assert "3 design points under each of 2 arms (monitored, unmonitored)" in text
    keys = re.findall(r'<section id="([^"]+)"><h2>', text)
    assert keys == ["sweep", "arm-contrast", "survival", "collapse", "causes"]


def test_summary_is_computed_crossed_when_missing_or_stale(one_param, one_report, tmp_path):
    with_json, summary, _ = one_report
    runs = storage.read_runs(one_param)
    manifest = json.loads((one_param / "manifest.json").read_text())
    for name, stale in (("missing", None), ("stale", summaries.summarize(runs, by="point"))):
        folder = tmp_path / name
        folder.mkdir()
        storage.write_part(folder, "part-0", runs)
        storage.write_json(folder / "manifest.json", manifest)
        if stale is not None:
            storage.write_json(folder / "summary.json", stale)
        text, used, _ = built(folder)
        assert report.is_crossed(used)
        assert used["comparisons"] == summary["comparisons"]
        assert table_after(text, "Collapse and survival") == table_after(
            with_json, "Collapse and survival"
        )


def test_arm_names_are_escaped_in_a_crossed_report(one_param, tmp_path):
    runs = storage.read_runs(one_param)
    runs["arm"] = runs["arm"].replace("unmonitored", EVIL)
    manifest = json.loads((one_param / "manifest.json").read_text())
    manifest["arms"] = ["monitored", EVIL]
    storage.write_part(tmp_path, "part-0", runs)
    storage.write_json(tmp_path / "manifest.json", manifest)
    text = report.build_report(tmp_path).read_text()
    assert EVIL not in text
    assert "onmouseover=alert(1)>" not in text.replace("\\u003e", ">")
    _, rows = table_after(text, "Comparison of arms at each design point")
    assert rows[0][1] == f"{EVIL} vs monitored"  # shown as typed


def test_crossed_sensitivity_indices_per_arm(morris):
    text, summary, _ = built(morris)
    indices = summary.get("sensitivity") or sensitivity.from_manifest(
        json.loads((morris / "manifest.json").read_text()), storage.read_runs(morris)
    )
    figure = chart_json(text, "sensitivity")
    bars = figure["data"]
    assert {t["name"] for t in bars} == {"monitored", "unmonitored"}
    assert len(bars) == 2 * 2 * 2  # (μ*, σ) × outputs × arms
    for trace in bars:
        assert trace["marker"]["color"] == charts.color_for("arm", trace["name"])
    headers, rows = table_after(text, "Sensitivity indices")
    assert headers[:3] == ["output", "arm", "parameter"]
    assert len(rows) == len(indices["indices"]) == 2 * 2 * 2
    for row in rows:
        record = next(
            r
            for r in indices["indices"]
            if r["arm"] == row[1]
            and r["parameter"] == row[2]
            and indices["outputs"][r["output"]] == row[0]
        )
        digits = 3 if record["output"] == "collapse_share" else 1
        assert row[3].startswith(f"{record['mu_star']:.{digits}f}")
    assert "The indices are computed for each arm on its own." in text


def test_a_plain_sweep_keeps_its_report(tmp_path):
    runs = make_sweep_runs()
    folder = write_results_dir(tmp_path, runs, summary=summaries.summarize(runs, by="point"))
    text = report.build_report(folder).read_text()
    headers, _ = table_after(text, "Collapse and survival")
    assert headers[0] == "point" and "arm" not in headers
    assert 'id="chart-arm-contrast"' not in text
    assert "Comparison of arms" not in text
    assert "6 design points." in text


# ---------------------------------------------------------------- in a browser


@pytest.mark.browser
def test_crossed_report_renders_offline(browser, two_params, morris, tmp_path):
    _, count = check_page(browser, two_params, tmp_path / "crossed-1280x720.png")
    assert count == 6  # heatmaps, small multiples, hazard ratios, survival, bars, causes
    _, count = check_page(browser, morris, tmp_path / "crossed-morris-1280x720.png")
    assert count == 7  # and the sensitivity indices
