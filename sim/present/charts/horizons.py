"""Collapse within 30, 90 and 180 days: bars with Wilson whiskers, per arm or design point."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from sim.analysis import shares
from sim.present import sentences
from sim.present.charts.style import (
    Spec,
    as_figure,
    ci_text,
    color_kind,
    colors_for,
    group_labels,
    share_axis_spec,
    styled_spec,
)


def collapse_bars(
    runs: pd.DataFrame,
    by: str = "arm",
    horizons: Sequence[int] = shares.DEFAULT_HORIZONS,
    level: float = 0.95,
) -> go.Figure:
    """Share of truces collapsed within each horizon: grouped bars with Wilson whiskers.

    Args:
        runs: the runs table.
        by: grouping column.
        horizons: days after the start (the runs' horizon is added).
        level: confidence level of the whiskers.

    Returns:
        One bar trace per group.
    """
    return as_figure(collapse_figure(runs, by, horizons, level))


def collapse_figure(
    runs: pd.DataFrame,
    by: str = "arm",
    horizons: Sequence[int] = shares.DEFAULT_HORIZONS,
    level: float = 0.95,
) -> Spec:
    """:func:`collapse_bars` as a figure dictionary (:data:`~.style.Spec`), not validated."""
    table = shares.collapse_by_horizon(runs, horizons, by=by, level=level)
    labels = group_labels(runs, by)
    colors = colors_for(color_kind(by), labels)
    traces = []
    for group, name in labels.items():
        rows = table[table[by] == group]
        x = [f"within {h} days" for h in rows["horizon"]]
        hover = [
            f"{name}<br>{sentences.pct(s)} collapsed within {h} days{ci_text(lo, hi, level)}"
            f"<br>{k:,} of {n:,} truces"
            for h, s, lo, hi, k, n in rows[
                ["horizon", "share", "low", "high", "collapsed", "n"]
            ].itertuples(index=False)
        ]
        traces.append(
            {
                "type": "bar",
                "x": x,
                "y": rows["share"],
                "name": name,
                "marker": {"color": colors[group]},
                "error_y": {
                    "type": "data",
                    "array": rows["high"] - rows["share"],
                    "arrayminus": rows["share"] - rows["low"],
                    "color": "#333333",
                    "thickness": 2,
                    "width": 6,
                },
                "hovertext": hover,
                "hovertemplate": "%{hovertext}<extra></extra>",
            }
        )
    spec = styled_spec(
        {"data": traces, "layout": {"barmode": "group"}},
        f"Share of truces that collapsed, with {level * 100:.0f}% intervals",
        "time since the truce began",
        "share of truces collapsed",
    )
    share_axis_spec(spec["layout"]["yaxis"])
    return spec
