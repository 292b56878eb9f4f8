"""Kaplan–Meier survival curves: how long the truces held, per arm or design point."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from sim.analysis import shares, survival
from sim.present import sentences
from sim.present.charts.style import (
    DAY_AXIS,
    NEUTRAL,
    Spec,
    as_figure,
    band_traces,
    ci_text,
    color_kind,
    colors_for,
    group_labels,
    share_axis_spec,
    styled_spec,
)


def survival_chart(
    data: pd.DataFrame,
    by: str = "arm",
    level: float = 0.95,
    horizons: Sequence[int] = shares.DEFAULT_HORIZONS,
) -> go.Figure:
    """Kaplan–Meier curves per group with shaded confidence bands.

    Args:
        data: a runs table, or a step table from :func:`sim.analysis.survival.survival`.
        by: grouping column.
        level: confidence level of the bands (when computed here).
        horizons: days marked with dotted vertical lines.

    Returns:
        Per group three traces (band edges and curve), lines at the horizons.
    """
    return as_figure(survival_figure(data, by, level, horizons))


def survival_figure(
    data: pd.DataFrame,
    by: str = "arm",
    level: float = 0.95,
    horizons: Sequence[int] = shares.DEFAULT_HORIZONS,
) -> Spec:
    """:func:`survival_chart` as a figure dictionary (:data:`~.style.Spec`), not validated."""
    is_table = {"survival", "low", "high", "day"} <= set(data.columns)
    table = data if is_table else survival.survival(data, by=by, level=level)
    labels = group_labels(data, by)
    colors = colors_for(color_kind(by), labels)
    alpha = 0.2 if len(labels) <= 3 else 0.08
    traces: list[dict] = []
    for group, name in labels.items():
        curve = table[table[by] == group]
        hover = [
            f"{name}<br>day {d}: {sentences.pct(s)} still holding{ci_text(lo, hi, level)}"
            f"<br>{n:,} truces still holding at the start of the day"
            for d, s, lo, hi, n in curve[["day", "survival", "low", "high", "at_risk"]].itertuples(
                index=False
            )
        ]
        traces += band_traces(
            curve["day"],
            curve["survival"],
            curve["low"],
            curve["high"],
            colors[group],
            name,
            hover,
            shape="hv",
            alpha=alpha,
        )
    last = table["day"].max() if len(table) else 0
    marked = [h for h in horizons if h <= last]
    layout: dict = {}
    if marked:  # what fig.add_vline(x=h, annotation_position="top left", ...) adds
        layout["shapes"] = [
            {
                "type": "line",
                "x0": h,
                "x1": h,
                "xref": "x",
                "y0": 0,
                "y1": 1,
                "yref": "y domain",
                "line": {"dash": "dot", "color": NEUTRAL, "width": 1.5},
            }
            for h in marked
        ]
        layout["annotations"] = [
            {
                "text": f"{h} days",
                "showarrow": False,
                "x": h,
                "xanchor": "right",
                "xref": "x",
                "y": 1,
                "yanchor": "top",
                "yref": "y domain",
                "font": {"color": NEUTRAL, "size": 14},
            }
            for h in marked
        ]
    spec = styled_spec(
        {"data": traces, "layout": layout},
        "How long the simulated truces held",
        DAY_AXIS,
        "share of truces still holding",
    )
    share_axis_spec(spec["layout"]["yaxis"])
    spec["layout"]["xaxis"]["range"] = [0, last]
    return spec
