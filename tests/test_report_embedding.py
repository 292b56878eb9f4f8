"""How plotly goes into the pages (issue 14): the vendored bundle, its fallback, the template.

The browser side (every page kind drawn offline, a browser without
DecompressionStream) is in tests/test_report_browser.py; these need no browser.
"""

from __future__ import annotations

import gzip
import json
import re

import plotly.io as pio
import pytest
from helpers_tables import make_runs, make_sweep_runs, write_results_dir
from plotly.io.json import to_json_plotly
from plotly.offline import get_plotlyjs_version

from sim.analysis import summaries
from sim.present import pages, report
from sim.present.charts.style import white_template
from sim.present.report import build

PLOTLY_MARKER = "* plotly.js v"
MAX_PAGE_BYTES = 1_500_000


def test_vendored_bundle_is_the_installed_plotly_version_and_holds_the_named_traces():
    found = pages.plotly_bundle()
    assert found is not None, "refresh it: python tools/vendor_plotly.py"
    version, packed = found
    assert version == get_plotlyjs_version()
    code = gzip.decompress(packed).decode("utf-8")
    header = code[:200]
    assert f"v{version}" in header and "MIT" in header  # the licence header is kept
    traces = set(re.findall(r'moduleType:"trace",name:"(\w+)"', code))
    assert traces == set(pages.BUNDLE_TRACES.split(", "))
    assert {"scatter", "bar", "heatmap"} <= traces  # what the pages draw


@pytest.mark.parametrize("sweep", [False, True])
def test_report_is_small_with_the_packed_bundle_once(tmp_path, sweep):
    runs = make_sweep_runs() if sweep else make_runs(n=200)
    summary = None if sweep else summaries.summarize(runs)
    path = report.build_report(write_results_dir(tmp_path / "r", runs, summary=summary))
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size < MAX_PAGE_BYTES
    assert text.count('id="plotly-js-gzip"') == 1 and text.count(PLOTLY_MARKER) == 1
    assert text.count("Plotly.newPlot(") == text.count('class="plotly-graph-div"') >= 3


def test_without_a_matching_bundle_the_full_plotly_is_inlined(tmp_path, monkeypatch):
    # e.g. after an upgrade of plotly without tools/vendor_plotly.py: bigger, still offline
    monkeypatch.setattr(pages, "plotly_bundle", lambda: None)
    path = report.build_report(write_results_dir(tmp_path / "r", make_runs(n=60)))
    text = path.read_text(encoding="utf-8")
    assert 'id="plotly-js-gzip"' not in text and text.count(PLOTLY_MARKER) == 1
    assert path.stat().st_size > 3_000_000


@pytest.mark.parametrize("sweep", [False, True])
def test_charts_built_under_the_white_template_are_the_same(tmp_path, sweep):
    runs = make_sweep_runs() if sweep else make_runs(n=200)
    folder = write_results_dir(tmp_path / "r", runs)
    design = build.design_of(json.loads((folder / "manifest.json").read_text()), runs)
    summary = summaries.summarize(runs, by=design.by)

    def figures():  # a figure dictionary as the validated go.Figure it stands for
        charts = build.report_charts(runs, design, None, summary.get("comparisons"))
        return [json.loads(pio.to_json(c.plotly_figure())) for c in charts]

    before = pio.templates.default
    plain = figures()
    with white_template():
        assert pio.templates.default == "plotly_white"
        white = figures()
    assert pio.templates.default == before
    assert len(plain) >= 3 and white == plain


PLOT_CALL = re.compile(
    r'Plotly\.newPlot\(\s*"chart-([\w-]+)",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{"responsive"', re.S
)


@pytest.mark.parametrize("sweep", [False, True])
def test_each_chart_in_the_page_is_its_validated_figure(tmp_path, sweep):
    # the run/compare charts go into the page as dictionaries, never validated by plotly:
    # the page must hold what the validated go.Figure would give, chart by chart
    runs = make_sweep_runs() if sweep else make_runs(n=200)
    summary = None if sweep else summaries.summarize(runs)
    folder = write_results_dir(tmp_path / "r", runs, summary=summary)
    text = report.build_report(folder).read_text(encoding="utf-8")
    drawn = {
        key: (json.loads(data), json.loads(layout)) for key, data, layout in PLOT_CALL.findall(text)
    }
    design = build.design_of(json.loads((folder / "manifest.json").read_text()), runs)
    charts = build.report_charts(
        runs, design, None, build.load_summary(folder, runs, design).get("comparisons")
    )
    assert len(charts) >= 3 and set(drawn) == {c.key for c in charts}
    assert any(isinstance(c.figure, dict) for c in charts)  # the fast path is exercised
    for chart in charts:
        figure = chart.plotly_figure().to_dict()  # validated, the charts' template in it
        layout = {**figure["layout"], "title": {}}
        layout["margin"] = {**layout["margin"], "t": 50}
        data, page_layout = drawn[chart.key]
        assert data == json.loads(to_json_plotly(figure["data"])), chart.key
        assert page_layout == json.loads(to_json_plotly(layout)), chart.key
