"""The self-contained HTML report of a results folder.

:func:`build_report` reads ``manifest.json``, ``summary.json`` (if present)
and the ``runs`` Parquet parts of ``results/<scenario>/<timestamp>/`` and
writes ``report.html`` next to them. It never runs a model.

A crossed result (a sweep run under every arm of a comparison: the manifest
lists two or more ``arms`` and the summary has an ``arms`` key) shows each
arm's collapse against the swept parameters, the hazard ratio of each arm
against the reference at every design point (read from the summary's
``comparisons``), and survival, collapse and cause charts per arm, pooled
over the design.

The page opens offline: plotly.js is embedded once, the stylesheet is inline,
fonts are the system's, and nothing is fetched from the network. The page is a
jinja2 template with autoescape on, so every string that comes from a
scenario file is HTML-escaped.

Modules: :mod:`.design` (how the runs are grouped), :mod:`.figures` (the
charts and their captions), :mod:`.tables` (the tables as data), :mod:`.png`
(PNG export) and :mod:`.build` (the page and the file).
"""

from sim.present.report.build import CHARTS_DIR, REPORT, build_report, render
from sim.present.report.design import Design, design_of, in_arm_order, is_crossed, load_summary
from sim.present.report.figures import Chart, report_charts
from sim.present.report.png import PngExportError, PngExportWarning, export_pngs, png_support

__all__ = [
    "CHARTS_DIR",
    "REPORT",
    "Chart",
    "Design",
    "PngExportError",
    "PngExportWarning",
    "build_report",
    "design_of",
    "export_pngs",
    "in_arm_order",
    "is_crossed",
    "load_summary",
    "png_support",
    "render",
    "report_charts",
]
