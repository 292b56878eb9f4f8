"""Tests of sim.present.report on fake results folders (no model is run)."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers_tables import make_runs, make_sweep_runs, write_results_dir

from sim.analysis import summaries
from sim.present import report

EVIL = "<script>alert(1)</script>"
PLOTLY_MARKER = "* plotly.js v"  # the licence header that opens every copy of plotly.js


class Resources(HTMLParser):
    """Collect every attribute that could make the browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.links: list[dict] = []
        self.scripts_with_src = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link":
            self.links.append(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts_with_src += 1
        for name in ("src", "href", "srcset", "data", "poster", "action"):
            if attrs.get(name):
                self.urls.append((tag, name, attrs[name]))


def build(tmp_path: Path, runs=None, summary=True, **kwargs) -> tuple[Path, str, dict]:
    runs = make_runs(n=200) if runs is None else runs
    by = "point" if "monitors.coverage" in runs else "arm"
    summary_dict = summaries.summarize(runs, by=by) if summary else None
    folder = write_results_dir(tmp_path / "results", runs, summary=summary_dict, **kwargs)
    path = report.build_report(folder)
    return path, path.read_text(encoding="utf-8"), summary_dict


def test_report_is_written_with_one_copy_of_plotly(tmp_path):
    path, text, _ = build(tmp_path)
    assert path == tmp_path / "results" / "report.html"
    assert text.count(PLOTLY_MARKER) == 1
    charts_drawn = text.count('class="plotly-graph-div"')
    assert charts_drawn == text.count("Plotly.newPlot(") == 3  # survival, bars, causes
    assert not list(path.parent.glob("*.tmp")) and not list(path.parent.glob(".*"))


def test_report_requests_nothing_from_the_network(tmp_path):
    _, text, _ = build(tmp_path)
    found = Resources()
    found.feed(text)
    assert found.links == [] and found.scripts_with_src == 0
    remote = [u for u in found.urls if re.match(r"\s*(https?:)?//", u[2], re.I)]
    assert remote == []
    css = re.findall(r"<style>(.*?)</style>", text, re.S)
    assert css and not any(re.search(r"@import|url\(", block) for block in css)


def test_scenario_strings_are_escaped(tmp_path):
    scenario = {"name": EVIL, "description": '<img src=x onerror="alert(2)">'}
    runs = make_runs({"un<b>monitored</b>": 0.01, "monitored": 0.004}, n=50)
    _, text, _ = build(tmp_path, runs=runs, scenario=scenario)
    assert EVIL not in text
    assert "<img src=x" not in text
    assert "<b>monitored</b>" not in text
    assert f"<h1>Truce simulation report: {html.escape(EVIL)}</h1>" in text
    assert html.escape('<img src=x onerror="alert(2)">') in text
    # In the figures' JSON, plotly escapes < and >; the names are HTML-escaped before.
    assert "alert(1)" in text and text.count("<script") == text.count("</script>")
    found = Resources()
    found.feed(text)
    assert not [u for u in found.urls if u[0] == "img"]


def _summary_items(text: str) -> list[str]:
    block = re.search(r'<section class="summary" id="summary">(.*?)</section>', text, re.S)
    return [html.unescape(li) for li in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


def test_plain_summary_percentages_equal_summary_json(tmp_path):
    path, text, _ = build(tmp_path)
    summary = json.loads((path.parent / "summary.json").read_text())
    first = _summary_items(text)[0]
    found = re.findall(r"(\d+)% of 200 [^(]*\(95% CI (\d+)–(\d+)%\)", first)
    expected = []
    for g in summary["groups"]:
        at90 = next(c for c in g["collapse"] if c["horizon"] == 90)
        expected.append(tuple(str(round(at90[k] * 100)) for k in ("share", "low", "high")))
    assert found == expected
    for g in summary["groups"]:
        top = g["causes"][0]
        assert f"({round(top['share'] * 100)}% of {g['collapsed']} collapses)" in " ".join(
            _summary_items(text)
        )


def test_summary_is_computed_when_summary_json_is_missing(tmp_path):
    _, with_json, _ = build(tmp_path / "a")
    _, without, _ = build(tmp_path / "b", summary=False)
    assert _summary_items(with_json) == _summary_items(without)


def test_sweep_report_has_sweep_charts(tmp_path):
    runs = make_sweep_runs()
    design = {"kind": "grid", "parameters": ["monitors.coverage", "truce.loophole_width"]}
    _, text, _ = build(tmp_path, runs=runs, design=design)
    assert 'id="chart-sweep-heatmap"' in text and 'id="chart-sweep-parameters"' in text
    assert "6 design points" in text
    assert _summary_items(text)[0].startswith("Across 6 design points")
    assert text.count(PLOTLY_MARKER) == 1


def test_scenario_section_shows_provenance(tmp_path):
    scenario = {"name": "baseline", "description": "d", "truce": {"horizon": 180}}
    _, text, _ = build(tmp_path, scenario=scenario)
    section = text[text.index('<section id="scenario">') :]
    assert "truce:\n  horizon: 180" in section
    for shown in ("12345", "0123456789abcdef", "truce compare test.yaml", "0h 01m 30s", "mesa"):
        assert shown in section


def test_unfinished_run_is_flagged(tmp_path):
    runs = make_runs(n=40)
    folder = write_results_dir(tmp_path, runs)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(manifest | {"status": "running"}))
    text = report.build_report(folder).read_text()
    assert "Status: running." in text


def test_png_export_without_kaleido_warns_and_keeps_the_report(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "png_support", lambda: "PNG export needs the kaleido package")
    folder = write_results_dir(tmp_path, make_runs(n=40))
    with pytest.warns(report.PngExportWarning, match="kaleido"):
        path = report.build_report(folder, png=True)
    assert path.exists()
    assert not (folder / "charts").exists()


def test_png_support_names_what_to_install():
    message = report.png_support()
    try:
        import kaleido  # noqa: F401
    except ImportError:
        assert "pip install" in message and "kaleido" in message
    else:
        assert message is None


def test_missing_inputs_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        report.build_report(tmp_path)
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="runs"):
        report.build_report(tmp_path)


def test_design_of_reads_arm_order_and_parameters():
    runs = make_runs(n=10)
    design = report.design_of({"arms": [{"name": "monitored"}, {"name": "unmonitored"}]}, runs)
    assert design.by == "arm" and design.arms == ["monitored", "unmonitored"]
    sweep = make_sweep_runs(n=5)
    design = report.design_of({"design": {"parameters": {"monitors.coverage": [0, 1]}}}, sweep)
    assert design.by == "point" and design.parameters == ["monitors.coverage"]
    assert report.design_of({}, sweep).parameters == ["monitors.coverage", "truce.loophole_width"]
