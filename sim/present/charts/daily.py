"""Outcomes over time: mean daily violence by arm with bands, and the share still holding."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.analysis.daily import daily_means
from sim.present import sentences
from sim.present.charts.style import (
    DAY_AXIS,
    TEMPLATE,
    Spec,
    band_traces,
    color_kind,
    colors_for,
    escaped,
    styled_spec,
)

GRID = {"rows": 2, "cols": 1, "shared_xaxes": True, "row_heights": [0.65, 0.35]}
GRID_SPACING = 0.08
GRID_AXES: dict[str, dict[str, Any]] = {
    "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "matches": "x2", "showticklabels": False},
    "yaxis": {"anchor": "x", "domain": [0.402, 1.0]},
    "xaxis2": {"anchor": "y2", "domain": [0.0, 1.0]},
    "yaxis2": {"anchor": "x2", "domain": [0.0, 0.322]},
}
"""The axes ``make_subplots(**GRID, vertical_spacing=GRID_SPACING)`` lays out (tested equal)."""


def daily_chart(daily: pd.DataFrame, by: str = "arm") -> go.Figure:
    """Mean violations a day per truce in force (95% band) above the share still holding.

    Args:
        daily: the stored daily sums (``daily.parquet``), or their means
            (:func:`sim.analysis.daily.daily_means` with the same ``by``).
        by: the groups drawn (``"arm"``; a crossed design's arms pool their points).

    Returns:
        Two panels sharing the day axis: per group, the mean violence with its band
        (three traces) on top, and the share still holding (one trace) below.
    """
    spec = daily_figure(daily, by)
    fig = make_subplots(**GRID, vertical_spacing=GRID_SPACING)  # rows and columns for callers
    fig.add_traces(spec["data"])
    fig.update_layout(spec["layout"], template=TEMPLATE)
    # the upper panel's empty title (``{}``), which an update with ``{}`` would leave out
    fig.update_xaxes(title_text=DAY_AXIS, row=1, col=1)
    fig.update_xaxes(title_text=None, row=1, col=1)
    return fig


def daily_figure(daily: pd.DataFrame, by: str = "arm") -> Spec:
    """:func:`daily_chart` as a figure dictionary (:data:`~.style.Spec`), not validated."""
    means = daily if "violence_mean" in daily.columns else daily_means(daily, by=by)
    groups = list(dict.fromkeys(means[by]))
    colors = colors_for(color_kind(by), groups)
    alpha = 0.2 if len(groups) <= 3 else 0.08
    traces = []
    for group in groups:
        name = escaped(str(group))
        rows = means[means[by] == group]
        rows = rows[rows["in_force"] > 0]  # days no truce of the group was in force: no mean
        hover = [
            f"{name}<br>day {d}: {m:.2f} violations per truce in force"
            f" (95% CI {lo:.2f}–{hi:.2f})<br>{n:,} truces in force, "
            f"{sentences.pct(s)} of all still holding at the end of the day"
            for d, m, lo, hi, n, s in rows[
                [
                    "day",
                    "violence_mean",
                    "violence_low",
                    "violence_high",
                    "in_force",
                    "holding_share",
                ]
            ].itertuples(index=False)
        ]
        for trace in band_traces(
            rows["day"],
            rows["violence_mean"],
            rows["violence_low"].fillna(rows["violence_mean"]),
            rows["violence_high"].fillna(rows["violence_mean"]),
            colors[group],
            name,
            hover,
            alpha=alpha,
        ):
            traces.append({**trace, "mode": "lines", "xaxis": "x", "yaxis": "y"})
        traces.append(
            {
                "type": "scatter",
                "x": means.loc[means[by] == group, "day"],
                "y": means.loc[means[by] == group, "holding_share"],
                "mode": "lines",
                "line": {"color": colors[group], "width": 2, "shape": "hv"},
                "name": name,
                "legendgroup": name,
                "showlegend": False,
                "hovertemplate": f"{name}<br>day %{{x}}: %{{y:.0%}} still holding<extra></extra>",
                "xaxis": "x2",
                "yaxis": "y2",
            }
        )
    layout = {k: dict(v) for k, v in GRID_AXES.items()}
    spec = styled_spec(
        {"data": traces, "layout": layout},
        "How the truces went wrong over time",
        DAY_AXIS,
        "violations a day per truce in force",
        height=640,
    )
    layout["xaxis"]["title"] = {}  # the day axis is titled under the lower panel only
    layout["yaxis"].update(
        title={"text": "violations a day<br>per truce in force"}, rangemode="tozero"
    )
    layout["yaxis2"].update(title={"text": "share still holding"}, range=[0, 1.02])
    layout["yaxis2"]["tickformat"] = ".0%"
    return spec
