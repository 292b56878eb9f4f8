"""The page's plotly figures: the live truce's timeline and the ensemble's survival.

Both are the report's charts (:mod:`sim.present.charts`) refitted to the page's
columns on a 1280×720 projector screen: a fixed size (the columns' widths, as
measured by the browser), the legend inside the figure, short labels on the
marker lines with the whole text on hover, and one legend entry per party.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.io.json import to_json_plotly

from sim.model.model import CeasefireModel
from sim.present.charts.style import Spec, as_figure, axes
from sim.present.charts.survival import survival_figure
from sim.present.charts.timeline import timeline_figure as timeline_chart_spec
from sim.present.report.build import page_figure
from sim.present.text import with_text

#: Day axes of the two charts (the report's titles are too long for the page's columns).
TIMELINE_DAY_TITLE = "day of the truce (day 1 = start)"
ENSEMBLE_DAY_TITLE = "days since the start"
#: Chart heights in pixels, chosen so both charts and their legends fit a 1280×720
#: projector screen under the banner. Their widths follow the page's columns (the
#: browser fits each chart to its column: :class:`sim.app.components.PlotlyChart`); the
#: widths below are the figures' own, used where nothing fits them.
TIMELINE_HEIGHT = 530
ENSEMBLE_HEIGHT = 450
TIMELINE_WIDTH = 500
ENSEMBLE_WIDTH = 330


def ensemble_spec(
    current: pd.DataFrame, previous: pd.DataFrame | None = None, width: int | None = None
) -> Spec:
    """Survival curves of the current setting and, faint, of the previous one (a dictionary).

    The report's chart (:func:`~sim.present.charts.survival.survival_figure`), fitted
    to the page's narrow column (``width`` pixels wide): its legend sits inside the
    figure at the bottom, and the labels of the reference days (30, 90, 180 days)
    run up their dotted lines from the bottom of the plot, so they neither overlap
    each other nor the ``100%`` tick however narrow the column is. A plain figure
    dictionary, not validated by plotly (which took most of a first curve's drawing
    time in the workers); :func:`ensemble_figure` is the same as a ``go.Figure``.
    """
    now, before = "these settings", "previous settings"
    parts = [current.assign(arm=now)]
    if previous is not None:
        parts.insert(0, previous.assign(arm=before))
    spec = survival_figure(pd.concat(parts, ignore_index=True), by="arm")
    for trace in spec["data"]:
        if trace.get("legendgroup") == before:
            trace["opacity"] = 0.35
            if trace.get("line", {}).get("width"):
                trace["line"]["color"] = "#888888"
            if trace.get("fillcolor"):
                trace["fillcolor"] = "rgba(136,136,136,0.15)"
    layout = spec["layout"]
    layout.setdefault("title", {})["text"] = f"{len(current)} truces like this"
    layout.setdefault("margin", {}).update(t=50, b=10, l=70, r=12)
    for axis in axes(layout, "x"):
        axis.setdefault("title", {})["text"] = ENSEMBLE_DAY_TITLE
    _label_reference_lines(layout)
    _fit_layout(layout, width or ENSEMBLE_WIDTH, ENSEMBLE_HEIGHT)
    return spec


def ensemble_figure(
    current: pd.DataFrame, previous: pd.DataFrame | None = None, width: int | None = None
) -> go.Figure:
    """:func:`ensemble_spec` as a validated ``go.Figure``."""
    return as_figure(ensemble_spec(current, previous, width))


#: How :func:`_label_reference_lines` turns a reference line's label.
_TURNED = {
    "textangle": -90,
    "xanchor": "right",
    "yanchor": "bottom",
    "y": 0,
    "yref": "y domain",
    "xshift": -1,
    "yshift": 4,
    "bgcolor": "rgba(255,255,255,0.8)",
}


def _label_reference_lines(layout: dict[str, Any]) -> None:
    """Turn the labels of vertical reference lines to run up the line from the bottom.

    A label belongs to a line when it is placed on the data x of a vertical line
    shape (what ``fig.add_vline(annotation_text=...)`` makes).
    """
    lines = {
        shape.get("x0")
        for shape in layout.get("shapes", [])
        if shape.get("type") == "line"
        and shape.get("xref") == "x"
        and shape.get("x0") == shape.get("x1")
    }
    for annotation in layout.get("annotations", []):
        if annotation.get("xref") == "x" and annotation.get("x") in lines:
            annotation.update(_TURNED)
            annotation["font"] = {**annotation.get("font", {}), "size": 13}


def _fit_layout(layout: dict[str, Any], width: int, height: int) -> None:
    """Size a figure dictionary for its column and keep its legend inside the figure.

    The legend is anchored to the bottom of the figure (not of the plot), so
    plotly makes room for it however many rows it wraps to.
    """
    layout.update(autosize=False, width=width, height=height)
    layout.setdefault("legend", {}).update(_LEGEND_INSIDE)


#: Where :func:`_fit_layout` puts the legend: inside the figure, at its bottom.
_LEGEND_INSIDE = {
    "orientation": "h",
    "yref": "container",
    "y": 0,
    "yanchor": "bottom",
    "x": 0,
    "xanchor": "left",
}


def timeline_spec(model: CeasefireModel, width: int | None = None) -> Spec:
    """The live truce's timeline (the report's chart, fitted to a column ``width`` pixels wide).

    Each party has one legend entry (its trust and war-fatigue lines toggle
    together) and a key above the lower panel tells the line styles apart, so
    the legend stays short enough to fit under the chart. A figure dictionary
    (:func:`~sim.present.charts.timeline.timeline_figure`), not validated by plotly:
    the page's server draws it every day of a truce; :func:`timeline_figure` is the
    same as a ``go.Figure``.
    """
    days, events = model.trace_tables()
    if days.empty:  # day 0 of a truce without lead time: nothing recorded yet
        days = pd.DataFrame({"day": pd.Series(dtype=int)})
    spec = timeline_chart_spec(days, with_text(events, model.scenario))
    layout = spec["layout"]
    first = int(days["day"].min()) if len(days) else 0
    last = max(int(model.day), 14)
    for axis in axes(layout, "x"):
        axis.update(range=[first - 0.5, last + 0.5], autorange=False)
        if axis.get("title", {}).get("text"):  # the day axis under the lower panel
            axis["title"]["text"] = TIMELINE_DAY_TITLE
    # From the figure's left edge, not the plot's, and a size smaller than the
    # report's: "(day 365)" still fits a column of a 1024 px wide projector.
    layout["title"].update(
        text=f"This truce, day by day (day {model.day})", xref="container", x=0, pad={"l": 8}
    )
    layout["title"].setdefault("font", {})["size"] = 20
    layout["margin"] = {"t": 50, "b": 10, "l": 70, "r": 12}
    layout.setdefault("legend", {}).setdefault("font", {})["size"] = 13
    for trace in spec["data"]:
        if trace.get("name") == "events (hover to read)":
            trace["showlegend"] = False
    _one_entry_per_party(spec)
    _shorten_day_markers(layout, middle=(first + last) / 2)
    _fit_layout(layout, width or TIMELINE_WIDTH, TIMELINE_HEIGHT)
    return spec


def timeline_figure(model: CeasefireModel, width: int | None = None) -> go.Figure:
    """:func:`timeline_spec` as a validated ``go.Figure``."""
    return as_figure(timeline_spec(model, width))


def _shorten_day_markers(layout: dict[str, Any], middle: float) -> None:
    """Shorten the labels over the timeline's day markers (collapse, monitors' withdrawal).

    The report writes the whole story over the line ("truce collapsed (day 11):
    units acting without orders"), too long for the page's column; here the
    banner tells it. The label keeps its first words, the rest moves to its
    hover text, and a label in the right half of the chart runs to the left of
    its line so it is not cut off at the edge.
    """
    lines = {
        shape.get("x0")
        for shape in layout.get("shapes", [])
        if shape.get("type") == "line"
        and shape.get("yref") == "paper"
        and shape.get("x0") == shape.get("x1")
    }
    for annotation in layout.get("annotations", []):
        if (
            annotation.get("xref") != "x"
            or annotation.get("yref") != "paper"
            or annotation.get("x") not in lines
        ):
            continue
        text = annotation.get("text") or ""
        annotation.update(text=text.split(" (day")[0], hovertext=text)
        if annotation["x"] > middle:
            annotation["xanchor"] = "right"


_LINE_KINDS = ((": trust", "solid: trust"), (": war fatigue", "dashed: war fatigue"))


def _one_entry_per_party(spec: Spec) -> None:
    """Group each party's trust and fatigue lines under one legend entry named after it."""
    key, where = [], ("x", "y")
    for suffix, meaning in _LINE_KINDS:
        for trace in spec["data"]:
            name = trace.get("name") or ""
            if not name.endswith(suffix):
                continue
            party = name[: -len(suffix)]
            where = (trace.get("xaxis") or "x", trace.get("yaxis") or "y")
            trace["legendgroup"] = f"party {party}"
            if suffix == _LINE_KINDS[0][0]:
                trace["name"] = party
            else:
                trace["showlegend"] = False
            if meaning not in key:
                key.append(meaning)
    if not key:
        return
    if any(trace.get("name") == "monitoring coverage" for trace in spec["data"]):
        key.append("dotted: monitoring coverage")
    spec["layout"].setdefault("annotations", []).append(
        {
            "text": " · ".join(key),
            "x": 0,
            "xref": f"{where[0]} domain",
            "xanchor": "left",
            "y": 1,
            "yref": f"{where[1]} domain",
            "yanchor": "bottom",
            "yshift": 2,
            "showarrow": False,
            "font": {"size": 13, "color": "#555555"},
        }
    )


def ensemble_json(current: pd.DataFrame, previous: pd.DataFrame | None = None) -> str:
    """:func:`ensemble_figure` as plotly JSON, for :class:`sim.app.components.PlotlyChart`.

    What the page's workers send back (:func:`sim.app.workers.chunk_with_figure`):
    the browser fits its width to the column. Written from the figure dictionary
    as the report writes its charts (:func:`~sim.present.report.build.page_figure`:
    the template added, arrays as plotly's typed arrays), without a ``go.Figure``.
    """
    return to_json_plotly(page_figure(ensemble_spec(current, previous)))


def timeline_json(model: CeasefireModel) -> str:
    """:func:`timeline_spec` as plotly JSON, for :class:`sim.app.components.PlotlyChart`.

    The legend's choices (a party's lines hidden by a click on its entry) stay
    as they are when the next day is drawn (plotly's ``uirevision``). Written from
    the figure dictionary, as :func:`ensemble_json` is.
    """
    spec = timeline_spec(model)
    spec["layout"]["uirevision"] = "timeline"
    return to_json_plotly(page_figure(spec))
