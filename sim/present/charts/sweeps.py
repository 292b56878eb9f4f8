"""Collapse against swept parameters: lines, heatmaps and small multiples (by arm if crossed)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from sim.analysis import points, shares
from sim.present import sentences
from sim.present.charts.style import (
    MAX_CATEGORIES,
    MAX_CELL_LABELS,
    PALETTE,
    SHARE_COLORBAR,
    SHARE_COLORSCALE,
    band,
    ci_text,
    color_kind,
    colors_for,
    escaped,
    group_labels,
    panel_grid,
    share_axis,
    styled,
    value_label,
)


def _at_horizon(runs: pd.DataFrame, by: list[str], horizon: int, level: float) -> pd.DataFrame:
    """Collapse shares at ``horizon`` (or the days simulated, if fewer) per group.

    ``runs`` may be a sweep's points table (one row per design point, see
    :mod:`sim.analysis.points`): the points of a group are then pooled.
    """
    if points.is_points(runs):
        table = points.collapse_from_points(runs, (horizon,), by=by, level=level)
    else:
        table = shares.collapse_by_horizon(runs, (horizon,), by=by, level=level)
    best = table[table["horizon"] <= horizon].groupby(by)["horizon"].transform("max")
    table = table[table["horizon"] == best.reindex(table.index)]
    return table.reset_index(drop=True)


def _horizon_words(table: pd.DataFrame) -> str:
    days = sorted(set(table["horizon"]))
    return f"{days[0]} days" if len(days) == 1 else f"{days[0]}–{days[-1]} days"


def _heatmap_trace(
    table: pd.DataFrame,
    x: str,
    y: str,
    level: float,
    name: str | None = None,
    shared: bool = False,
) -> tuple[go.Heatmap | go.Scatter, list[str]]:
    """The trace of :func:`sweep_heatmap` and the axis types it needs.

    Args:
        table: collapse shares per (``x``, ``y``) from :func:`_at_horizon`.
        x: parameter on the horizontal axis.
        y: parameter on the vertical axis.
        level: confidence level shown in the hover text.
        name: a group name (escaped) opening each hover text, if any.
        shared: take the colours from the layout's ``coloraxis`` (one scale
            and colour bar for several panels) instead of the trace's own.

    Returns:
        A heatmap for a full grid of values, else a scatter of the points;
        and the types of the x and y axes.
    """
    first = f"{name}<br>" if name else ""
    hover = [
        f"{first}{escaped(x)} = {value_label(a)}<br>{escaped(y)} = {value_label(b)}"
        f"<br>{sentences.pct(s)} collapsed{ci_text(lo, hi, level)}<br>{n:,} truces"
        for a, b, s, lo, hi, n in table[[x, y, "share", "low", "high", "n"]].itertuples(index=False)
    ]
    scale = {"colorscale": SHARE_COLORSCALE, "zmin": 0, "zmax": 1}
    bar = SHARE_COLORBAR
    xs, ys = sorted(table[x].unique()), sorted(table[y].unique())
    # Few values read best as categories; many numeric ones on a numeric scale.
    numeric = {
        c: pd.api.types.is_numeric_dtype(table[c]) and len(v) > MAX_CATEGORIES
        for c, v in ((x, xs), (y, ys))
    }
    if len(table) == len(xs) * len(ys):
        grid = table.assign(hover=hover).set_index([y, x])
        index = pd.MultiIndex.from_product([ys, xs])
        z = grid["share"].reindex(index).to_numpy().reshape(len(ys), len(xs))
        text = grid["hover"].reindex(index).to_numpy().reshape(len(ys), len(xs))
        colors = {"coloraxis": "coloraxis"} if shared else {"colorbar": bar, **scale}
        trace = go.Heatmap(
            x=xs if numeric[x] else [value_label(v) for v in xs],
            y=ys if numeric[y] else [value_label(v) for v in ys],
            z=z,
            hovertext=text,
            hovertemplate="%{hovertext}<extra></extra>",
            texttemplate="%{z:.0%}" if z.size <= MAX_CELL_LABELS else None,
            textfont={"size": 16},
            **colors,
        )
        return trace, ["linear" if numeric[c] else "category" for c in (x, y)]
    marker = (
        {"coloraxis": "coloraxis"}
        if shared
        else {"colorbar": bar, "colorscale": scale["colorscale"], "cmin": 0, "cmax": 1}
    )
    trace = go.Scatter(
        x=table[x],
        y=table[y],
        mode="markers",
        marker={"color": table["share"], "size": 14, **marker},
        hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>",
        showlegend=False,
    )
    return trace, ["-", "-"]


def sweep_heatmap(
    runs: pd.DataFrame, x: str, y: str, horizon: int = 90, level: float = 0.95
) -> go.Figure:
    """Share collapsed within ``horizon`` days over two swept parameters.

    A grid of values (full factorial) gives a heatmap; scattered designs (Latin
    hypercube, Sobol) give a scatter of the design points coloured the same way.

    Args:
        runs: the runs table with swept columns ``x`` and ``y`` (dotted paths).
        x: parameter on the horizontal axis.
        y: parameter on the vertical axis.
        horizon: days after the start.
        level: confidence level shown in the hover text.

    Returns:
        A figure with one heatmap (or scatter) trace.
    """
    table = _at_horizon(runs, [x, y], horizon, level)
    trace, axis_types = _heatmap_trace(table, x, y, level)
    fig = go.Figure(trace)
    styled(
        fig,
        f"Share of truces collapsed within {_horizon_words(table)}",
        escaped(x),
        escaped(y),
    )
    fig.update_xaxes(type=axis_types[0])
    fig.update_yaxes(type=axis_types[1])
    return fig


def sweep_heatmap_by(
    runs: pd.DataFrame,
    x: str,
    y: str,
    by: str = "arm",
    horizon: int = 90,
    level: float = 0.95,
    columns: int = 3,
) -> go.Figure:
    """One :func:`sweep_heatmap` panel per group (e.g. per arm), on one colour scale.

    Side by side, the panels share the axes' values and a single colour bar
    from 0 to 100%, so that a cell reads the same in every panel.

    Args:
        runs: the runs table with swept columns ``x`` and ``y`` and column ``by``.
        x: parameter on the horizontal axis.
        y: parameter on the vertical axis.
        by: the grouping column, one panel per value, in order of appearance.
        horizon: days after the start.
        level: confidence level shown in the hover text.
        columns: panels per row.

    Returns:
        A figure with one heatmap (or scatter) trace per group.
    """
    table = _at_horizon(runs, [by, x, y], horizon, level)
    labels = group_labels(runs, by)
    fig, cols, nrows = panel_grid(list(labels.values()), columns, 0.05, 0.22)
    x_types = []
    for i, (group, name) in enumerate(labels.items()):
        row, col = i // cols + 1, i % cols + 1
        trace, axis_types = _heatmap_trace(
            table[table[by] == group], x, y, level, name=name, shared=True
        )
        fig.add_trace(trace, row=row, col=col)
        fig.update_yaxes(type=axis_types[1], row=row, col=col)
        x_types.append(axis_types[0])
    styled(
        fig,
        f"Share of truces collapsed within {_horizon_words(table)}, by {escaped(by)}",
        "",
        "",
        height=max(540, 440 * nrows),
    )
    for i, x_type in enumerate(x_types):
        fig.update_xaxes(title_text=escaped(x), type=x_type, row=i // cols + 1, col=i % cols + 1)
    fig.update_yaxes(title_text=escaped(y), col=1)
    fig.update_layout(
        coloraxis={"colorscale": SHARE_COLORSCALE, "cmin": 0, "cmax": 1, "colorbar": SHARE_COLORBAR}
    )
    return fig


def _sweep_band_traces(
    table: pd.DataFrame, x: str, color: str, name: str, level: float, showlegend: bool
) -> list[go.Scatter]:
    table = table.sort_values(x)
    hover = [
        f"{name}<br>{escaped(x)} = {value_label(v)}: {sentences.pct(s)} collapsed"
        f"{ci_text(lo, hi, level)}<br>{n:,} truces"
        for v, s, lo, hi, n in table[[x, "share", "low", "high", "n"]].itertuples(index=False)
    ]
    return band(
        table[x],
        table["share"],
        table["low"],
        table["high"],
        color,
        name,
        hover,
        showlegend=showlegend,
    )


def sweep_line(
    runs: pd.DataFrame,
    x: str,
    horizon: int = 90,
    by: str | None = None,
    level: float = 0.95,
) -> go.Figure:
    """Share collapsed within ``horizon`` days against one swept parameter, with Wilson band.

    Runs at the same value of ``x`` are pooled (over any other swept parameter).

    Args:
        runs: the runs table with swept column ``x``.
        x: the parameter (dotted path).
        horizon: days after the start.
        by: optional column giving one line per group (e.g. ``arm``).
        level: confidence level of the band.

    Returns:
        Per line three traces (band edges and line).
    """
    cols = [x] if by is None else [by, x]
    table = _at_horizon(runs, cols, horizon, level)
    fig = go.Figure()
    if by is None:
        fig.add_traces(
            _sweep_band_traces(table, x, PALETTE[0], "share collapsed", level, showlegend=False)
        )
    else:
        labels = group_labels(runs, by)
        colors = colors_for(color_kind(by), labels)
        for g, name in labels.items():
            fig.add_traces(
                _sweep_band_traces(table[table[by] == g], x, colors[g], name, level, True)
            )
    styled(
        fig,
        f"Share of truces collapsed within {_horizon_words(table)}, by {escaped(x)}",
        escaped(x),
        "share of truces collapsed",
    )
    share_axis(fig)
    return fig


def sweep_small_multiples(
    runs: pd.DataFrame,
    params: Sequence[str],
    horizon: int = 90,
    level: float = 0.95,
    columns: int = 3,
    by: str | None = None,
) -> go.Figure:
    """One panel per swept parameter: share collapsed against it, pooled over the others.

    Args:
        runs: the runs table with the swept columns.
        params: the parameters (dotted paths), one panel each.
        horizon: days after the start.
        level: confidence level of the bands.
        columns: panels per row.
        by: optional column giving one line per group in every panel (e.g.
            ``arm``), coloured as in the other charts.

    Returns:
        A figure with ``len(params)`` panels sharing the vertical axis.
    """
    params = list(params)
    fig, cols, nrows = panel_grid([escaped(p) for p in params], columns, 0.06, 0.18)
    words = ""
    labels = group_labels(runs, by) if by is not None else {}
    colors = colors_for(color_kind(by), labels) if by is not None else {}
    for i, p in enumerate(params):
        table = _at_horizon(runs, [p] if by is None else [by, p], horizon, level)
        words = _horizon_words(table)
        row, col = divmod(i, cols)
        if by is None:
            traces = _sweep_band_traces(table, p, PALETTE[0], "share collapsed", level, False)
        else:
            traces = [
                trace
                for g, name in labels.items()
                for trace in _sweep_band_traces(
                    table[table[by] == g], p, colors[g], name, level, showlegend=i == 0
                )
            ]
        for trace in traces:
            fig.add_trace(trace, row=row + 1, col=col + 1)
    styled(
        fig,
        f"Share of truces collapsed within {words}, by each swept parameter "
        "(pooled over the others)",
        "",
        "",
        height=max(420, 360 * nrows),
    )
    for i, p in enumerate(params):
        fig.update_xaxes(title_text=escaped(p), row=i // cols + 1, col=i % cols + 1)
    share_axis(fig)
    fig.update_yaxes(title_text="share of truces collapsed", col=1)
    if by is not None:  # a legend, below the axis titles
        fig.update_layout(
            height=fig.layout.height + 60, legend_y=-90 / fig.layout.height, margin_b=150
        )
    return fig
