"""Sobol indices and Morris elementary effects of a sweep, as bars with interval whiskers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.present.charts.style import PALETTE, colors_for, escaped, styled

SENSITIVITY_OUTPUTS: dict[str, str] = {
    "collapse_share": "share of truces collapsed",
    "mean_days_held": "mean days held",
}
"""Panel titles of the outputs of :mod:`sim.analysis.sensitivity`."""


_SENSITIVITY_BARS: dict[str, list[tuple[str, str | None, str]]] = {
    "sobol": [
        ("S1", "S1_conf", "first-order index S1 (the parameter alone)"),
        ("ST", "ST_conf", "total index ST (with its interactions)"),
    ],
    "morris": [
        ("mu_star", "mu_star_conf", "μ*: mean absolute effect across the bounds"),
        ("sigma", None, "σ: spread of the effects (interactions, nonlinearity)"),
    ],
}
"""Per method: each index drawn, its interval's column (or None) and its legend label."""

_INDEX_NAMES: dict[str, str] = {
    "S1": "S1, the parameter alone",
    "ST": "ST, with its interactions",
    "mu_star": "μ*, mean absolute effect",
    "sigma": "σ, spread of the effects",
}
"""Short names of the indices, for panel titles and axes."""


def sensitivity_chart(indices: pd.DataFrame) -> go.Figure:
    """Sensitivity indices of a ``sobol`` or ``morris`` sweep: bars with interval whiskers.

    One panel per output, the swept parameters along the horizontal axis.
    Sobol: first-order (S1) and total (ST) indices side by side. Morris: the
    mean absolute elementary effect μ* and its spread σ (no whisker).

    Args:
        indices: the table of :func:`sim.analysis.sensitivity.indices_table` (or
            ``Result.sensitivity()``): ``output``, ``parameter`` and either
            ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` or ``mu_star``,
            ``mu_star_conf``, ``sigma``.

        With a column ``arm`` naming two or more arms (a crossed design,
        indices computed per arm), one panel per index and output instead,
        with one bar per arm and parameter, coloured as the arms elsewhere.

    Returns:
        A figure with one bar trace per index (or arm) and panel.
    """
    sobol = "ST" in indices.columns
    bars = _SENSITIVITY_BARS["sobol" if sobol else "morris"]
    if "arm" in indices.columns and indices["arm"].nunique() > 1:
        return _sensitivity_by_arm(indices, sobol)
    outputs = list(dict.fromkeys(indices["output"]))
    fig = make_subplots(
        rows=1,
        cols=max(1, len(outputs)),
        subplot_titles=[escaped(SENSITIVITY_OUTPUTS.get(o, o)) for o in outputs],
        horizontal_spacing=0.1,
    )
    for col, output in enumerate(outputs, start=1):
        rows = indices[indices["output"] == output]
        # Dotted paths break at the dots, so that the labels stay level and apart.
        names = [escaped(p).replace(".", ".<br>") for p in rows["parameter"]]
        for i, (key, conf, label) in enumerate(bars):
            values = rows[key].astype(float).to_numpy()
            error = rows[conf].astype(float).fillna(0).to_numpy() if conf else None
            hover = _index_hover(names, label, values, error)
            bar = _index_bar(names, values, error, hover, escaped(label), PALETTE[i])
            fig.add_trace(bar.update(legendgroup=key, showlegend=col == 1), row=1, col=col)
    fig.update_layout(barmode="group")
    title = (
        "Sobol sensitivity indices: which swept parameter drives the outcome"
        if sobol
        else "Morris elementary effects: which swept parameter drives the outcome"
    )
    styled(fig, title, "", "")
    fig.update_layout(legend_y=-0.24, margin_b=140)
    fig.update_xaxes(type="category", tickangle=0)
    if sobol:
        fig.update_yaxes(title_text="share of the output's variance", col=1)
    else:
        fig.update_yaxes(title_text="change across the parameter's bounds", col=1)
    return fig


def _index_bar(
    names: Sequence[str], values: Any, error: Any, hover: Sequence[str], name: str, color: str
) -> go.Bar:
    """One bar trace of sensitivity indices, with its interval as error bars when known."""
    return go.Bar(
        x=names,
        y=values,
        name=name,
        marker_color=color,
        error_y=(
            {"type": "data", "array": error, "color": "#333333", "thickness": 2, "width": 6}
            if error is not None
            else None
        ),
        hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>",
    )


def _index_hover(names: Sequence[str], label: str, values: Any, error: Any) -> list[str]:
    return [
        f"{name}<br>{escaped(label)}: "
        + ("not defined (the output never varied)" if math.isnan(v) else f"{v:.3g}")
        + (f" ± {error[j]:.2g}" if error is not None and not math.isnan(v) else "")
        for j, (name, v) in enumerate(zip(names, values, strict=True))
    ]


def _sensitivity_by_arm(indices: pd.DataFrame, sobol: bool) -> go.Figure:
    """Sensitivity indices per arm: a row of panels per index, a bar per arm and parameter."""
    bars = _SENSITIVITY_BARS["sobol" if sobol else "morris"]
    outputs = list(dict.fromkeys(indices["output"]))
    arms = list(dict.fromkeys(indices["arm"]))
    colors = colors_for("arm", arms)
    fig = make_subplots(
        rows=len(bars),
        cols=max(1, len(outputs)),
        subplot_titles=[
            escaped(f"{SENSITIVITY_OUTPUTS.get(o, o)}: {_INDEX_NAMES[key]}")
            for key, _, _ in bars
            for o in outputs
        ],
        horizontal_spacing=0.1,
        vertical_spacing=0.2,
    )
    for row, (key, conf, label) in enumerate(bars, start=1):
        for col, output in enumerate(outputs, start=1):
            for arm in arms:
                rows = indices[(indices["output"] == output) & (indices["arm"] == arm)]
                names = [escaped(p).replace(".", ".<br>") for p in rows["parameter"]]
                values = rows[key].astype(float).to_numpy()
                error = rows[conf].astype(float).fillna(0).to_numpy() if conf else None
                hover = _index_hover([f"{escaped(arm)}: {n}" for n in names], label, values, error)
                bar = _index_bar(names, values, error, hover, escaped(arm), colors[arm])
                bar.update(legendgroup=str(arm), showlegend=row == 1 and col == 1)
                fig.add_trace(bar, row=row, col=col)
    fig.update_layout(barmode="group")
    method = "Sobol sensitivity indices" if sobol else "Morris elementary effects"
    styled(fig, f"{method} per arm: which swept parameter drives the outcome", "", "", height=860)
    fig.update_layout(legend_y=-0.14, margin_b=140)
    fig.update_xaxes(type="category", tickangle=0)
    for row, (key, _, _) in enumerate(bars, start=1):
        fig.update_yaxes(title_text=escaped(_INDEX_NAMES[key]), row=row, col=1)
    return fig
