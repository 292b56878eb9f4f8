"""What caused the collapses: the share of collapsed truces by origin, per group."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from sim.analysis import shares
from sim.present import sentences
from sim.present.charts.style import (
    Spec,
    as_figure,
    colors_for,
    escaped,
    group_labels,
    share_axis_spec,
    styled_spec,
)
from sim.present.text import origin_label


def cause_chart(runs: pd.DataFrame, by: str = "arm") -> go.Figure:
    """Causes of collapse: stacked bars of the share of collapses per group.

    Args:
        runs: the runs table.
        by: grouping column (``arm`` or ``point``).

    Returns:
        One bar trace per cause, stacked; groups on the x axis.
    """
    return as_figure(cause_figure(runs, by))


def cause_figure(runs: pd.DataFrame, by: str = "arm") -> Spec:
    """:func:`cause_chart` as a figure dictionary (:data:`~.style.Spec`), not validated."""
    table = shares.cause_shares(runs, by=by)
    names = group_labels(runs, by)
    short = {g: escaped(f"point {g}") for g in names} if by == "point" else names
    causes = list(dict.fromkeys(table["cause"]))
    colors = colors_for("origin", causes)
    traces = []
    for cause in causes:
        rows = table[table["cause"] == cause]
        label = escaped(origin_label(cause))
        hover = [
            f"{names[g]}<br>{label}: {sentences.pct(s) if k else '0%'} of {n:,} collapses ({k:,})"
            for g, s, k, n in rows[[by, "share", "count", "collapsed"]].itertuples(index=False)
        ]
        traces.append(
            {
                "type": "bar",
                "x": [short[g] for g in rows[by]],
                "y": rows["share"].fillna(0),
                "name": label,
                "marker": {"color": colors[cause]},
                "texttemplate": "%{y:.0%}",
                "textposition": "inside",
                "insidetextanchor": "middle",
                "hovertext": hover,
                "hovertemplate": "%{hovertext}<extra></extra>",
            }
        )
    layout = {"barmode": "stack", "uniformtext": {"minsize": 13, "mode": "hide"}}
    spec = styled_spec(
        {"data": traces, "layout": layout},
        "What caused the collapses",
        "design point" if by == "point" else "",
        "share of collapsed truces",
    )
    share_axis_spec(spec["layout"]["yaxis"])
    spec["layout"]["xaxis"]["type"] = "category"
    return spec
