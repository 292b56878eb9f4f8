"""The report page and its file.

:func:`render` fills ``templates/report.html.j2``; :func:`build_report` reads a
results folder and writes ``report.html`` (and the PNGs) next to its tables.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import yaml

from sim.analysis import points, sensitivity
from sim.experiment import storage
from sim.experiment.daily import DAILY
from sim.present import pages, sentences
from sim.present.charts.style import Spec, template_json
from sim.present.report import tables
from sim.present.report.design import Design, design_of, in_arm_order, is_crossed, load_summary
from sim.present.report.figures import (
    Chart,
    daily_charts,
    discovery_charts,
    index_arms,
    report_charts,
)
from sim.present.report.png import PngExportError, PngExportWarning, export_pngs

REPORT = "report.html"
CHARTS_DIR = "charts"
DISCOVER = storage.DISCOVER
"""Scenario discovery's result in a results folder (``truce discover``), drawn when present."""


def chart_block(chart: Chart, first: bool) -> dict[str, Any]:
    """A chart as the template's ``chart`` macro draws it: key, heading, caption and div.

    The section heading replaces the figure's own title (kept for PNG export);
    plotly.js is embedded with the first chart only. The figure goes into the
    page as its dictionary (:func:`page_figure`), not copied and validated again.
    """
    figure = page_figure(chart.figure)
    layout = figure.setdefault("layout", {})
    layout["title"] = {}  # what update_layout(title=None) leaves
    layout["margin"] = {**layout.get("margin", {}), "t": 50}
    height = (layout.get("height") or 540) - 30
    div = pages.chart_div(
        figure, div_id=f"chart-{chart.key}", include_plotlyjs=first, height=f"{height}px"
    )
    return {"key": chart.key, "heading": chart.heading, "caption": chart.caption, "div": div}


def page_figure(figure: go.Figure | Spec) -> dict[str, Any]:
    """A figure as the page holds it: ``Figure.to_dict()``, or that of a figure dictionary.

    A figure dictionary (:data:`~sim.present.charts.style.Spec`) gets the charts'
    template and its arrays written as plotly's typed arrays, as ``to_dict()``
    gives them, without building and validating a ``go.Figure`` (which costs
    more than the rest of the page); ``tests/test_charts.py`` checks the two agree.
    """
    if not isinstance(figure, dict):
        return figure.to_dict()
    from _plotly_utils.utils import convert_to_base64

    out = _tree(figure)
    convert_to_base64(out)  # what to_dict() does with arrays: typed arrays, ints narrowed
    out.setdefault("layout", {})["template"] = template_json()  # no arrays: not walked
    return out


def _tree(value: Any) -> Any:
    """A copy of the dictionaries and lists of a figure dictionary (arrays are shared)."""
    if isinstance(value, dict):
        return {k: _tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tree(v) for v in value]
    return value


def design_words(summary: Mapping[str, Any], runs: pd.DataFrame, design: Design) -> str:
    """What was simulated: "one arm", "3 arms", "12 design points", or the crossed design."""
    groups = len(summary["groups"])
    if design.crossed:
        points = runs["point"].nunique()
        return (
            f"{points:,} design point{'s' if points != 1 else ''} under each of "
            f"{len(design.arms)} arms ({', '.join(map(str, design.arms))})"
        )
    if design.is_sweep:
        return f"{groups:,} design points"
    return f"{groups} arms" if groups > 1 else "one arm"


def render(
    manifest: Mapping[str, Any],
    summary: Mapping[str, Any],
    runs: pd.DataFrame,
    design: Design,
    chart_list: Sequence[Chart],
    discovery: Mapping[str, Any] | None = None,
) -> str:
    """The report page as one HTML string (pure: writes nothing).

    Args:
        manifest: the parsed manifest.json.
        summary: the summary dictionary (:func:`sim.analysis.summaries.summarize`).
        runs: the runs table (or a sweep's points table, one row per point).
        design: its grouping.
        chart_list: the charts, in order.
        discovery: the parsed ``discover.json``, if any: its sentences join the summary.

    Returns:
        A complete, self-contained HTML document.
    """
    scenario = manifest.get("scenario") if isinstance(manifest.get("scenario"), Mapping) else {}
    scenario = scenario or {}
    name = scenario.get("name") or manifest.get("scenario_name") or manifest.get("name") or ""
    comparisons = summary.get("comparisons") or []
    crossed = is_crossed(summary)
    found = summary.get("sensitivity")
    violations_by = "arm" if design.crossed else design.by
    per_point = points.is_points(runs)
    return pages.render_page(
        "report.html.j2",
        name=name,
        description=scenario.get("description") or "",
        truces=int(runs["replicates"].sum()) if points.is_points(runs) else len(runs),
        what=design_words(summary, runs, design),
        status=manifest.get("status"),
        sentences=[
            *sentences.plain_summary(dict(summary)),
            *(
                [sentences.discovery_sentence(discovery, a) for a in discovery["analyses"]]
                if discovery
                else []
            ),
        ],
        charts=[chart_block(c, first=(i == 0)) for i, c in enumerate(chart_list)],
        summary_table=tables.summary_table(summary),
        sensitivity_table=tables.sensitivity_table(found) if found else None,
        sensitivity_per_arm=bool(found and index_arms(found)),
        sensitivity_sentences=sentences.sensitivity_sentences(found) if found else [],
        comparison_table=(
            (tables.crossed_comparison_table if crossed else tables.comparison_table)(comparisons)
            if comparisons
            else None
        ),
        crossed=crossed,
        pairing_note=tables.pairing_note(comparisons),
        design_crossed=design.crossed,
        violations_table=None if per_point else tables.violations_table(runs, violations_by),
        party_table=None if per_point else tables.party_table(runs, violations_by),
        scenario_yaml=(
            yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True) if scenario else None
        ),
        run_table=tables.run_table(manifest),
        versions_table=tables.versions_table(manifest),
        other_manifest=tables.other_manifest_yaml(manifest),
    )


def build_report(results_dir: Path, png: bool = False) -> Path:
    """Write ``results_dir/report.html`` from the tables in the folder.

    Args:
        results_dir: ``results/<scenario>/<timestamp>/`` with manifest.json
            and runs/*.parquet (summary.json is used when present).
        png: also write each chart to ``results_dir/charts/<key>.png``. When
            that is not possible a :class:`PngExportWarning` says what to
            install; the HTML report is written all the same.

    Returns:
        The path of report.html.

    Raises:
        FileNotFoundError: if manifest.json or the runs parts are missing.
    """
    results_dir = Path(results_dir)
    manifest_path = results_dir / storage.MANIFEST
    if not manifest_path.exists():
        raise FileNotFoundError(f"no {storage.MANIFEST} in {results_dir}")
    manifest = storage.read_json(manifest_path)
    if not storage.has_runs(results_dir) and storage.has_points(results_dir):
        runs = storage.read_points(results_dir)  # a sweep stored as per-point aggregates
    else:
        runs = storage.read_runs(results_dir)
    design = design_of(manifest, runs)
    if design.crossed:
        runs = in_arm_order(runs, design.arms)
    summary = load_summary(results_dir, runs, design)
    if design.is_sweep and "sensitivity" not in summary:
        indices = sensitivity.from_manifest(manifest, runs)  # per arm when crossed
        summary = {**summary, "sensitivity": indices} if indices else summary
    chart_list = report_charts(runs, design, summary.get("sensitivity"), summary.get("comparisons"))
    discovery = read_discovery(results_dir)
    chart_list += discovery_charts(discovery)
    daily = results_dir / DAILY  # outcomes over time (none in folders stored before them)
    chart_list += daily_charts(pd.read_parquet(daily) if daily.is_file() else None, design)
    out = results_dir / REPORT
    pages.write_page(out, render(manifest, summary, runs, design, chart_list, discovery))
    if png:
        try:
            export_pngs(chart_list, results_dir / CHARTS_DIR)
        except PngExportError as err:
            warnings.warn(str(err), PngExportWarning, stacklevel=2)
    return out


def read_discovery(results_dir: Path) -> dict[str, Any] | None:
    """The folder's ``discover.json`` (from ``truce discover``), or None when absent or unreadable.

    A file of another layout than today's (``discover_version``) is left out of the
    report rather than misread.
    """
    from sim.analysis.discovery import DISCOVER_VERSION

    path = Path(results_dir) / DISCOVER
    if not path.is_file():
        return None
    try:
        found = storage.read_json(path)
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or found.get("discover_version") != DISCOVER_VERSION:
        return None
    return found
