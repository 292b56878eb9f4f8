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
    band,
    ci_text,
    color_kind,
    colors_for,
    group_labels,
    share_axis,
    styled,
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
    is_table = {"survival", "low", "high", "day"} <= set(data.columns)
    table = data if is_table else survival.survival(data, by=by, level=level)
    labels = group_labels(data, by)
    colors = colors_for(color_kind(by), labels)
    alpha = 0.2 if len(labels) <= 3 else 0.08
    fig = go.Figure()
    for group, name in labels.items():
        curve = table[table[by] == group]
        hover = [
            f"{name}<br>day {d}: {sentences.pct(s)} still holding{ci_text(lo, hi, level)}"
            f"<br>{n:,} truces still holding at the start of the day"
            for d, s, lo, hi, n in curve[["day", "survival", "low", "high", "at_risk"]].itertuples(
                index=False
            )
        ]
        fig.add_traces(
            band(
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
        )
    last = table["day"].max() if len(table) else 0
    for h in horizons:
        if h <= last:
            fig.add_vline(
                x=h,
                line={"dash": "dot", "color": NEUTRAL, "width": 1.5},
                annotation_text=f"{h} days",
                annotation_position="top left",
                annotation_font={"color": NEUTRAL, "size": 14},
            )
    styled(
        fig,
        "How long the simulated truces held",
        DAY_AXIS,
        "share of truces still holding",
    )
    share_axis(fig)
    fig.update_xaxes(range=[0, last])
    return fig
