"""The hindcast: observed durations of historical truces over the simulated intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from sim.present.charts.style import OKABE_ITO, escaped, rgba, styled

INTERVALS = (
    ("p10", "p90", 6, "simulated 80% interval", 0.35),
    ("p25", "p75", 16, "simulated 50% interval", 0.75),
)
"""The two simulated intervals drawn: quantile columns, line width, legend label, opacity."""


def hindcast_figure(table: pd.DataFrame | Sequence[Mapping[str, Any]]) -> go.Figure:
    """Observed durations over simulated 50% and 80% intervals, log-scaled days.

    Args:
        table: the hindcast's truces, one row each (``Hindcast.table`` or the
            ``truces`` records of ``Hindcast.to_dict()``): ``truce``,
            ``observed``, ``median`` and ``p10`` … ``p90``.

    Returns:
        A plotly ``Figure``, one row per truce.
    """
    table = pd.DataFrame(table)
    names = [escaped(n) for n in table["truce"]]
    blue = OKABE_ITO["blue"]
    fig = go.Figure()
    for lo, hi, width, label, alpha in INTERVALS:
        for i, (name, low, high) in enumerate(zip(names, table[lo], table[hi], strict=True)):
            fig.add_trace(
                go.Scatter(
                    x=[max(low, 1), max(high, 1)],
                    y=[name] * 2,
                    mode="lines",
                    line={"width": width, "color": rgba(blue, alpha)},
                    name=label,
                    legendgroup=label,
                    showlegend=i == 0,
                    hoverinfo="skip",
                )
            )
    fig.add_trace(
        go.Scatter(
            x=table["median"].clip(lower=1),
            y=names,
            mode="markers",
            name="simulated median",
            marker={"symbol": "line-ns-open", "size": 18, "color": "black", "line": {"width": 2}},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=table["observed"].clip(lower=1),
            y=names,
            mode="markers",
            name="observed",
            marker={"symbol": "diamond", "size": 12, "color": OKABE_ITO["vermillion"]},
        )
    )
    styled(
        fig, "Observed vs simulated days held", "days held (log scale)", "", 180 + 70 * len(names)
    )
    fig.update_xaxes(type="log")
    fig.update_layout(legend_y=-0.3, margin_b=130)  # below the axis title on a short figure
    return fig
