"""Charts as pure functions of result tables (plotly figures; never runs a model).

Every function takes tables described in ``docs/RESULTS.md`` (``runs``, or the
``days`` and ``events`` of one truce) and returns a
``plotly.graph_objects.Figure``. Titles, axis labels and hover texts are
plain language with units. Colours come from the Okabe–Ito palette, which
readers with colour-vision deficiencies can tell apart, and
:func:`colors_for` gives the same origin, party or arm the same colour in
every chart.

Names taken from a scenario file (arms, parties, parameters) are
HTML-escaped before they reach plotly, which renders a subset of HTML tags in
its texts; escaped, they show as typed.
"""

from __future__ import annotations

import hashlib
import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.analysis import grouping, shares, summaries, survival, violations
from sim.present import sentences

# Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable
# with the common colour-vision deficiencies.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}
_O = OKABE_ITO
PALETTE: tuple[str, ...] = tuple(
    _O[c]
    for c in (
        "blue",
        "vermillion",
        "bluish green",
        "orange",
        "reddish purple",
        "sky blue",
        "black",
        "yellow",
    )
)
"""Order in which names without a fixed colour are given one."""

FIXED_COLORS: dict[str, dict[str, str]] = {
    "origin": {
        "deliberate": _O["vermillion"],
        "loophole": _O["orange"],
        "accident": _O["sky blue"],
        "spoiler": _O["reddish purple"],
        "indiscipline": _O["bluish green"],
    },
    "arm": {"unmonitored": _O["vermillion"], "monitored": _O["blue"]},
    "party": {"government": _O["blue"]},
}
"""Names whose colour never changes, per kind."""

ORDINAL_KINDS = frozenset({"point", "group"})
"""Kinds whose names take the palette in sorted order rather than by hash."""

ORIGIN_LABELS: dict[str, str] = {
    "deliberate": "deliberate violation",
    "loophole": "strike through a loophole",
    "accident": "accident",
    "spoiler": "spoiler attack",
    "indiscipline": "indiscipline",
}
"""Short plain-language names of origins, for legends."""

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
DAY_AXIS = "days since the truce began"
NEUTRAL = "#555555"
MAX_CELL_LABELS = 80
"""Heatmaps with more cells than this show values on hover only."""
MAX_CATEGORIES = 12
"""Swept parameters with more values than this get a numeric heatmap axis."""
MAX_FOREST_ROWS = 30
"""Crossed designs with at most this many points show their hazard ratios as a forest plot."""
SHARE_COLORSCALE = "Cividis"
"""The colour scale of collapse shares (0 to 100%) in the heatmaps."""
SHARE_COLORBAR = {"title": {"text": "share<br>collapsed"}, "tickformat": ".0%"}
"""The colour bar of collapse shares in the heatmaps."""


# --------------------------------------------------------------------------- colours


def _preferred(kind: str, name: str) -> str:
    fixed = FIXED_COLORS.get(kind, {})
    if name in fixed:
        return fixed[name]
    digest = hashlib.sha256(f"{kind}:{name}".encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def color_for(kind: str, name: Any) -> str:
    """The colour of one name of a kind (``origin``, ``party``, ``arm``, ``point``).

    Stable across calls and processes: fixed for well-known names (the five
    origins, ``monitored``/``unmonitored``, ``government``), otherwise chosen
    from the name's hash. Use :func:`colors_for` when several names share a
    chart, so that they never collide.

    Args:
        kind: what the name is.
        name: the name.

    Returns:
        A hex colour from the Okabe–Ito palette.
    """
    return _preferred(kind, str(name))


def colors_for(kind: str, names: Iterable[Any]) -> dict[Any, str]:
    """Distinct colours for a set of names, the same for the same set every time.

    Names with a fixed colour keep it; the others, in sorted order, take their
    hash-preferred colour when it is free, otherwise the next free one in
    :data:`PALETTE` (cycling only past eight names).

    Args:
        kind: what the names are (see :func:`color_for`).
        names: the names shown together.

    Returns:
        ``{name: colour}``.
    """
    unique = list(dict.fromkeys(names))
    fixed = FIXED_COLORS.get(kind, {})
    out = {n: fixed[str(n)] for n in unique if str(n) in fixed}
    used = set(out.values())
    for n in sorted((n for n in unique if n not in out), key=str):
        color = _preferred(kind, str(n))
        if kind in ORDINAL_KINDS or color in used:
            free = [c for c in PALETTE if c not in used]
            color = free[0] if free else PALETTE[len(out) % len(PALETTE)]
        out[n] = color
        used.add(color)
    return {n: out[n] for n in unique}


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


# --------------------------------------------------------------------------- text


def _text(value: Any) -> str:
    """Escape a name for plotly text (which renders a subset of HTML)."""
    return html.escape(str(value), quote=False)


def _value(value: Any) -> str:
    """A parameter value for display, escaped."""
    return _text(sentences.value_text(value))


def _kind(by: str) -> str:
    return by if by in ("arm", "point") else "group"


def _group_labels(table: pd.DataFrame, by: str) -> dict[Any, str]:
    """Display names of the groups, in order; design points show their settings."""
    groups = list(dict.fromkeys(table[by]))
    if by == "arm":
        return {g: _text(g) for g in groups}
    if by != "point":
        return {g: _text(f"{by} = {g}") for g in groups}
    swept = grouping.swept_columns(table)
    first = table.drop_duplicates(by).set_index(by)
    labels = {}
    for g in groups:
        settings = ", ".join(f"{c} = {sentences.value_text(first.loc[g, c])}" for c in swept)
        labels[g] = _text(f"point {g}" + (f" ({settings})" if settings else ""))
    return labels


def _ci(low: float, high: float, level: float = 0.95) -> str:
    if math.isnan(low) or math.isnan(high):
        return ""
    return f" ({level * 100:.0f}% CI {sentences.pct_range(low, high)})"


def _style(fig: go.Figure, title: str, x_title: str, y_title: str, height: int = 540) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0, "xref": "paper", "xanchor": "left", "font": {"size": 22}},
        font={"family": FONT, "size": 16, "color": "#222222"},
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -0.16,
            "xanchor": "left",
            "x": 0,
            "traceorder": "normal",
        },
        hoverlabel={"font": {"size": 15, "family": FONT}},
        margin={"l": 80, "r": 30, "t": 80, "b": 110},
        height=height,
    )
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def _share_axis(fig: go.Figure, **where: Any) -> None:
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", **where)


# --------------------------------------------------------------------------- shared traces


def _band(
    x: Sequence,
    mid: Sequence,
    low: Sequence,
    high: Sequence,
    color: str,
    name: str,
    hovertext: Sequence[str],
    shape: str = "linear",
    showlegend: bool = True,
    alpha: float = 0.2,
) -> list[go.Scatter]:
    """A line with a shaded confidence band: upper edge, lower edge (filled), line."""
    edge = {"width": 0, "shape": shape}
    return [
        go.Scatter(
            x=x,
            y=high,
            mode="lines",
            line=edge,
            hoverinfo="skip",
            showlegend=False,
            legendgroup=name,
        ),
        go.Scatter(
            x=x,
            y=low,
            mode="lines",
            line=edge,
            fill="tonexty",
            fillcolor=_rgba(color, alpha),
            hoverinfo="skip",
            showlegend=False,
            legendgroup=name,
        ),
        go.Scatter(
            x=x,
            y=mid,
            mode="lines+markers" if shape == "linear" else "lines",
            line={"color": color, "width": 3, "shape": shape},
            name=name,
            legendgroup=name,
            showlegend=showlegend,
            hovertext=list(hovertext),
            hovertemplate="%{hovertext}<extra></extra>",
        ),
    ]


def _day_marker(fig: go.Figure, day: float, text: str, color: str, dash: str) -> None:
    """A vertical line across the whole figure with a label at the top."""
    fig.add_shape(
        type="line",
        x0=day,
        x1=day,
        xref="x",
        yref="paper",
        y0=0,
        y1=1,
        line={"color": color, "width": 2, "dash": dash},
    )
    fig.add_annotation(
        x=day,
        xref="x",
        y=1.0,
        yref="paper",
        text=text,
        showarrow=False,
        xanchor="left",
        yanchor="bottom",
        font={"color": color, "size": 14},
    )


# --------------------------------------------------------------------------- survival, bars


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
    labels = _group_labels(data, by)
    colors = colors_for(_kind(by), labels)
    alpha = 0.2 if len(labels) <= 3 else 0.08
    fig = go.Figure()
    for group, name in labels.items():
        curve = table[table[by] == group]
        hover = [
            f"{name}<br>day {d}: {sentences.pct(s)} still holding{_ci(lo, hi, level)}"
            f"<br>{n:,} truces still holding at the start of the day"
            for d, s, lo, hi, n in curve[["day", "survival", "low", "high", "at_risk"]].itertuples(
                index=False
            )
        ]
        fig.add_traces(
            _band(
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
    _style(
        fig,
        "How long the simulated truces held",
        DAY_AXIS,
        "share of truces still holding",
    )
    _share_axis(fig)
    fig.update_xaxes(range=[0, last])
    return fig


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
    table = shares.collapse_by_horizon(runs, horizons, by=by, level=level)
    labels = _group_labels(runs, by)
    colors = colors_for(_kind(by), labels)
    fig = go.Figure()
    for group, name in labels.items():
        rows = table[table[by] == group]
        x = [f"within {h} days" for h in rows["horizon"]]
        hover = [
            f"{name}<br>{sentences.pct(s)} collapsed within {h} days{_ci(lo, hi, level)}"
            f"<br>{k:,} of {n:,} truces"
            for h, s, lo, hi, k, n in rows[
                ["horizon", "share", "low", "high", "collapsed", "n"]
            ].itertuples(index=False)
        ]
        fig.add_trace(
            go.Bar(
                x=x,
                y=rows["share"],
                name=name,
                marker_color=colors[group],
                error_y={
                    "type": "data",
                    "array": rows["high"] - rows["share"],
                    "arrayminus": rows["share"] - rows["low"],
                    "color": "#333333",
                    "thickness": 2,
                    "width": 6,
                },
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    fig.update_layout(barmode="group")
    _style(
        fig,
        f"Share of truces that collapsed, with {level * 100:.0f}% intervals",
        "time since the truce began",
        "share of truces collapsed",
    )
    _share_axis(fig)
    return fig


def cause_chart(runs: pd.DataFrame, by: str = "arm") -> go.Figure:
    """Causes of collapse: stacked bars of the share of collapses per group.

    Args:
        runs: the runs table.
        by: grouping column (``arm`` or ``point``).

    Returns:
        One bar trace per cause, stacked; groups on the x axis.
    """
    table = shares.cause_shares(runs, by=by)
    names = _group_labels(runs, by)
    short = {g: _text(f"point {g}") for g in names} if by == "point" else names
    causes = list(dict.fromkeys(table["cause"]))
    colors = colors_for("origin", causes)
    fig = go.Figure()
    for cause in causes:
        rows = table[table["cause"] == cause]
        label = _text(ORIGIN_LABELS.get(cause, cause))
        hover = [
            f"{names[g]}<br>{label}: {sentences.pct(s) if k else '0%'} of {n:,} collapses ({k:,})"
            for g, s, k, n in rows[[by, "share", "count", "collapsed"]].itertuples(index=False)
        ]
        fig.add_trace(
            go.Bar(
                x=[short[g] for g in rows[by]],
                y=rows["share"].fillna(0),
                name=label,
                marker_color=colors[cause],
                texttemplate="%{y:.0%}",
                textposition="inside",
                insidetextanchor="middle",
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack", uniformtext={"minsize": 13, "mode": "hide"})
    _style(
        fig,
        "What caused the collapses",
        "design point" if by == "point" else "",
        "share of collapsed truces",
    )
    _share_axis(fig)
    fig.update_xaxes(type="category")
    return fig


# --------------------------------------------------------------------------- sweeps


def _at_horizon(runs: pd.DataFrame, by: list[str], horizon: int, level: float) -> pd.DataFrame:
    """Collapse shares at ``horizon`` (or the days simulated, if fewer) per group."""
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
        f"{first}{_text(x)} = {_value(a)}<br>{_text(y)} = {_value(b)}<br>{sentences.pct(s)} "
        f"collapsed{_ci(lo, hi, level)}<br>{n:,} truces"
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
            x=xs if numeric[x] else [_value(v) for v in xs],
            y=ys if numeric[y] else [_value(v) for v in ys],
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
    _style(
        fig,
        f"Share of truces collapsed within {_horizon_words(table)}",
        _text(x),
        _text(y),
    )
    fig.update_xaxes(type=axis_types[0])
    fig.update_yaxes(type=axis_types[1])
    return fig


def _panel_grid(
    titles: Sequence[str], columns: int, horizontal: float, vertical: float
) -> tuple[go.Figure, int, int]:
    """Panels sharing the vertical axis, ``columns`` to a row: the figure, columns and rows."""
    cols = max(1, min(columns, len(titles)))
    nrows = math.ceil(len(titles) / cols)
    fig = make_subplots(
        rows=nrows,
        cols=cols,
        shared_yaxes=True,
        subplot_titles=list(titles) if any(titles) else None,
        horizontal_spacing=horizontal,
        vertical_spacing=vertical if nrows > 1 else 0.1,
    )
    return fig, cols, nrows


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
    labels = _group_labels(runs, by)
    fig, cols, nrows = _panel_grid(list(labels.values()), columns, 0.05, 0.22)
    x_types = []
    for i, (group, name) in enumerate(labels.items()):
        row, col = i // cols + 1, i % cols + 1
        trace, axis_types = _heatmap_trace(
            table[table[by] == group], x, y, level, name=name, shared=True
        )
        fig.add_trace(trace, row=row, col=col)
        fig.update_yaxes(type=axis_types[1], row=row, col=col)
        x_types.append(axis_types[0])
    _style(
        fig,
        f"Share of truces collapsed within {_horizon_words(table)}, by {_text(by)}",
        "",
        "",
        height=max(540, 440 * nrows),
    )
    for i, x_type in enumerate(x_types):
        fig.update_xaxes(title_text=_text(x), type=x_type, row=i // cols + 1, col=i % cols + 1)
    fig.update_yaxes(title_text=_text(y), col=1)
    fig.update_layout(
        coloraxis={"colorscale": SHARE_COLORSCALE, "cmin": 0, "cmax": 1, "colorbar": SHARE_COLORBAR}
    )
    return fig


def _sweep_band_traces(
    table: pd.DataFrame, x: str, color: str, name: str, level: float, showlegend: bool
) -> list[go.Scatter]:
    table = table.sort_values(x)
    hover = [
        f"{name}<br>{_text(x)} = {_value(v)}: {sentences.pct(s)} collapsed{_ci(lo, hi, level)}"
        f"<br>{n:,} truces"
        for v, s, lo, hi, n in table[[x, "share", "low", "high", "n"]].itertuples(index=False)
    ]
    return _band(
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
        labels = _group_labels(runs, by)
        colors = colors_for(_kind(by), labels)
        for g, name in labels.items():
            fig.add_traces(
                _sweep_band_traces(table[table[by] == g], x, colors[g], name, level, True)
            )
    _style(
        fig,
        f"Share of truces collapsed within {_horizon_words(table)}, by {_text(x)}",
        _text(x),
        "share of truces collapsed",
    )
    _share_axis(fig)
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
    fig, cols, nrows = _panel_grid([_text(p) for p in params], columns, 0.06, 0.18)
    words = ""
    labels = _group_labels(runs, by) if by is not None else {}
    colors = colors_for(_kind(by), labels) if by is not None else {}
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
    _style(
        fig,
        f"Share of truces collapsed within {words}, by each swept parameter "
        "(pooled over the others)",
        "",
        "",
        height=max(420, 360 * nrows),
    )
    for i, p in enumerate(params):
        fig.update_xaxes(title_text=_text(p), row=i // cols + 1, col=i % cols + 1)
    _share_axis(fig)
    fig.update_yaxes(title_text="share of truces collapsed", col=1)
    if by is not None:  # a legend, below the axis titles
        fig.update_layout(
            height=fig.layout.height + 60, legend_y=-90 / fig.layout.height, margin_b=150
        )
    return fig


# --------------------------------------------------------------------------- arm contrasts


def contrast_table(comparisons: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The comparisons of a crossed design's summary as a table, one row per point and arm.

    Args:
        comparisons: ``summary["comparisons"]`` of a crossed design (see
            :func:`sim.analysis.summaries.summarize`): each with ``point``,
            ``parameters``, ``a``, ``b``, ``level``, ``hazard_ratio``,
            ``hazard_ratio_low``, ``hazard_ratio_high`` and ``logrank_p``.

    Returns:
        Columns ``point``, ``a``, ``b``, ``level``, ``hazard_ratio``,
        ``low``, ``high``, ``logrank_p`` and one per swept parameter;
        missing values are NaN.
    """
    rows = [
        {
            "point": c.get("point"),
            "a": c["a"],
            "b": c["b"],
            "level": c.get("level", 0.95),
            "hazard_ratio": c.get("hazard_ratio"),
            "low": c.get("hazard_ratio_low"),
            "high": c.get("hazard_ratio_high"),
            "logrank_p": c.get("logrank_p"),
            **(c.get("parameters") or {}),
        }
        for c in comparisons
    ]
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(
            columns=["point", "a", "b", "level", "hazard_ratio", "low", "high", "logrank_p"]
        )
    measures = ["hazard_ratio", "low", "high", "logrank_p"]
    return table.astype({m: float for m in measures})


def plottable_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`contrast_table` whose hazard ratio can go on a log axis.

    A ratio is missing, zero or infinite when an arm had no collapse at that
    point; such points are left out.
    """
    ratio = table["hazard_ratio"].astype(float)
    keep = ratio.notna() & (ratio > 0) & ratio.map(math.isfinite)
    return table[keep]


def hazard_ratio_chart(
    comparisons: Iterable[Mapping[str, Any]],
    params: Sequence[str] | None = None,
    columns: int = 3,
    max_rows: int = MAX_FOREST_ROWS,
) -> go.Figure:
    """Hazard ratio of each arm against the reference arm at every design point.

    For a crossed design (a sweep run under each arm of a comparison): one
    marker per design point and non-reference arm, with its interval as
    whiskers, on a log scale with a dashed line at 1 (the same collapse rate
    as the reference). With one swept parameter, the ratio against it, the
    markers joined. With several, a forest plot (one row per design point,
    labelled with its settings) while there are at most ``max_rows`` points,
    else one panel per parameter showing every point at its value of that
    parameter. Points where the ratio cannot be estimated (an arm without
    collapses) are left out.

    Args:
        comparisons: ``summary["comparisons"]`` of a crossed design (see
            :func:`contrast_table`); nothing is recomputed from the runs.
        params: the swept parameters (dotted paths); by default those the
            comparisons list.
        columns: panels per row.
        max_rows: most design points drawn as a forest plot.

    Returns:
        A figure with one marker trace per non-reference arm (and panel).
    """
    comparisons = list(comparisons)
    table = contrast_table(comparisons)
    if params is None:
        params = summaries.parameter_names(comparisons)
    settings = [p for p in params if p in table.columns]
    arms = list(dict.fromkeys([*table["a"], *table["b"]]))
    reference = _text(arms[0]) if arms else "the reference"
    shown = plottable_ratios(table)
    title = f"Hazard ratio against the {reference} arm at each design point"
    colors = colors_for("arm", arms)
    if len(settings) != 1 and table["point"].nunique() <= max_rows:
        fig, axis = _forest(table, shown, settings, colors, title), "x"
    else:
        fig, axis = _ratio_panels(table, shown, settings or ["point"], colors, columns, title), "y"
    # Log axes: a range in powers of ten that always shows the line at 1, with a margin.
    values = pd.concat([shown["hazard_ratio"], shown["low"], shown["high"]]).dropna()
    values = values[(values > 0) & values.map(math.isfinite)]
    low, high = min([1.0, *values]), max([1.0, *values])
    pad = max(0.05, 0.06 * (math.log10(high) - math.log10(low)))
    span = [math.log10(low) - pad, math.log10(high) + pad]
    ticks = [
        m * 10.0**e
        for e in range(math.floor(span[0]), math.ceil(span[1]) + 1)
        for m in (1, 2, 5)
        if span[0] <= math.log10(m * 10.0**e) <= span[1]
    ]
    ratio_axis = {
        "type": "log",
        "range": span,
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": [f"{t:g}" for t in ticks],
        "title_text": f"hazard ratio vs {reference} (log scale)",
    }
    if axis == "x":
        fig.update_xaxes(**ratio_axis)
        fig.add_vline(x=1, line={"dash": "dash", "color": NEUTRAL, "width": 1.5})
    else:
        # Shapes on a log axis take data values (annotations would take their log).
        fig.add_hline(
            y=1, line={"dash": "dash", "color": NEUTRAL, "width": 1.5}, row="all", col="all"
        )
        fig.update_yaxes(**{k: v for k, v in ratio_axis.items() if k != "title_text"})
        fig.update_yaxes(title_text=ratio_axis["title_text"], col=1)
    return fig


def _ratio_error(rows: pd.DataFrame, color: str) -> dict[str, Any]:
    """Asymmetric whiskers from each ratio to its interval's ends (none when unknown)."""
    return {
        "type": "data",
        "symmetric": False,
        "array": (rows["high"] - rows["hazard_ratio"]).fillna(0),
        "arrayminus": (rows["hazard_ratio"] - rows["low"]).fillna(0),
        "color": color,
        "thickness": 2,
        "width": 5,
    }


def _arm_names(table: pd.DataFrame) -> dict[Any, str]:
    """Legend name of each non-reference arm: ``b vs a``, escaped."""
    return {
        b: _text(f"{b} vs {table.loc[table['b'] == b, 'a'].iloc[0]}")
        for b in dict.fromkeys(table["b"])
    }


def _forest(
    table: pd.DataFrame,
    shown: pd.DataFrame,
    settings: Sequence[str],
    colors: dict[Any, str],
    title: str,
) -> go.Figure:
    """Hazard ratios as a forest plot: a row per design point, a marker per arm."""
    first = table.dropna(subset=["point"]).drop_duplicates("point").set_index("point")
    # Rows in the order of the settings (a grid's own order), then of the points.
    points = sorted(first.index, key=lambda p: (*(first.loc[p, s] for s in settings), p))
    labels = [
        _text(
            f"point {int(p)}"
            + (
                ": " + ", ".join(f"{s} = {sentences.value_text(first.loc[p, s])}" for s in settings)
                if settings
                else ""
            )
        )
        for p in points
    ]
    row_of = {p: i for i, p in enumerate(points)}
    names = _arm_names(table)
    fig = go.Figure()
    for j, (b, name) in enumerate(names.items()):
        rows = shown[shown["b"] == b]
        offset = (j - (len(names) - 1) / 2) * 0.22
        fig.add_trace(
            go.Scatter(
                x=rows["hazard_ratio"],
                y=[row_of[p] + offset for p in rows["point"]],
                mode="markers",
                name=name,
                showlegend=True,
                marker={"color": colors[b], "size": 10},
                error_x=_ratio_error(rows, colors[b]),
                hovertext=[_ratio_hover(r, name, settings) for r in rows.to_dict("records")],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    _style(fig, title, "", "", height=max(540, 200 + 34 * len(points)))
    fig.update_yaxes(
        tickmode="array",
        tickvals=list(range(len(points))),
        ticktext=labels,
        range=[len(points) - 0.5, -0.5],
        automargin=True,
        showgrid=False,
        zeroline=False,
    )
    return fig


def _ratio_panels(
    table: pd.DataFrame,
    shown: pd.DataFrame,
    panels: Sequence[str],
    colors: dict[Any, str],
    columns: int,
    title: str,
) -> go.Figure:
    """Hazard ratios against each parameter (one panel each), a marker per point and arm."""
    settings = [p for p in panels if p != "point"]
    titles = [_text(p) for p in panels] if len(panels) > 1 else [""] * len(panels)
    fig, cols, nrows = _panel_grid(titles, columns, 0.06, 0.18)
    names = _arm_names(table)
    joined = len(panels) == 1 and panels[0] != "point"
    for i, p in enumerate(panels):
        for b, name in names.items():
            rows = shown[shown["b"] == b].sort_values(list(dict.fromkeys([p, "point"])))
            fig.add_trace(
                go.Scatter(
                    x=rows[p],
                    y=rows["hazard_ratio"],
                    mode="lines+markers" if joined else "markers",
                    name=name,
                    legendgroup=name,
                    showlegend=i == 0,
                    line={"color": colors[b], "width": 2},
                    marker={"color": colors[b], "size": 10},
                    error_y=_ratio_error(rows, colors[b]),
                    hovertext=[_ratio_hover(r, name, settings) for r in rows.to_dict("records")],
                    hovertemplate="%{hovertext}<extra></extra>",
                ),
                row=i // cols + 1,
                col=i % cols + 1,
            )
    _style(fig, title, "", "", height=max(540, 380 * nrows))
    for i, p in enumerate(panels):
        fig.update_xaxes(
            title_text="design point" if p == "point" else _text(p),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    return fig


def _ratio_hover(r: Mapping[str, Any], name: str, settings: Sequence[str]) -> str:
    """Hover text of one hazard ratio: the point, its settings, the ratio and the test."""
    where = ", ".join(f"{_text(s)} = {_value(r[s])}" for s in settings)
    point = "" if pd.isna(r["point"]) else f"point {int(r['point'])}"
    interval = (
        ""
        if pd.isna(r["low"]) or pd.isna(r["high"])
        else f" ({r['level'] * 100:.0f}% CI {r['low']:.2f}–{r['high']:.2f})"
    )
    test = "" if pd.isna(r["logrank_p"]) else f"<br>log-rank {sentences.p_value(r['logrank_p'])}"
    head = ": ".join(t for t in (point, where) if t)
    return f"{head}<br>{name}: hazard ratio {r['hazard_ratio']:.2f}{interval}{test}"


# --------------------------------------------------------------------------- one truce


def _event_hover(events: pd.DataFrame) -> pd.DataFrame:
    """One hover text per day: the day's event sentences (at most five)."""
    rows = []
    for day, group in events.dropna(subset=["text"]).groupby("day"):
        lines = [_text(t) for t in group["text"]]
        more = f"<br>… and {len(lines) - 5} more" if len(lines) > 5 else ""
        rows.append({"day": day, "hover": f"day {day}<br>" + "<br>".join(lines[:5]) + more})
    return pd.DataFrame(rows, columns=["day", "hover"])


def timeline_chart(
    days: pd.DataFrame, events: pd.DataFrame | None = None, stack: str = "origin"
) -> go.Figure:
    """One simulated truce day by day.

    Top row: violations per day, stacked by origin (or by party), with the
    day's events as hover markers. Bottom row: each principal party's trust
    in its adversaries (solid) and war fatigue (dashed), and the monitoring
    coverage (dotted). The lead time before the start is shaded; the monitors'
    withdrawal and the collapse (with its cause) are marked.

    Args:
        days: the ``days`` table of one truce.
        events: its ``events`` table (optional).
        stack: ``"origin"`` or ``"party"``.

    Returns:
        A two-row figure sharing the day axis.

    Raises:
        ValueError: if ``stack`` is neither ``origin`` nor ``party``.
    """
    if stack not in ("origin", "party"):
        raise ValueError(f"stack must be 'origin' or 'party', not {stack!r}")
    events = events if events is not None else pd.DataFrame(columns=["day", "kind", "text"])
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.6, 0.4],
        vertical_spacing=0.1,
    )
    parties = list(violations.party_columns(days))
    principals = [c[len("trust_") :] for c in days.columns if c.startswith("trust_")]
    party_colors = colors_for("party", sorted(set(parties) | set(principals)))
    if stack == "origin":
        columns = violations.origin_columns(days)
        colors = colors_for("origin", columns)
        labels = {o: ORIGIN_LABELS.get(o, o) for o in columns}
    else:
        columns = violations.party_columns(days)
        colors, labels = party_colors, {p: p for p in columns}
    for name, col in columns.items():
        label = _text(labels[name])
        fig.add_trace(
            go.Bar(
                x=days["day"],
                y=days[col],
                name=label,
                marker_color=colors[name],
                hovertemplate=f"day %{{x}}: %{{y}} × {label}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    fig.update_layout(barmode="stack", bargap=0.1)
    hover = _event_hover(events)
    if len(hover):
        height = days.set_index("day")["violence"].reindex(hover["day"]).fillna(0).to_numpy()
        fig.add_trace(
            go.Scatter(
                x=hover["day"],
                y=height + 0.5,
                mode="markers",
                marker={"symbol": "triangle-down", "size": 9, "color": NEUTRAL},
                name="events (hover to read)",
                hovertext=hover["hover"],
                hovertemplate="%{hovertext}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    for p in principals:
        for what, dash in (("trust", "solid"), ("fatigue", "dash")):
            col = f"{what}_{p}"
            if col not in days:
                continue
            label = _text(f"{p}: {'trust' if what == 'trust' else 'war fatigue'}")
            fig.add_trace(
                go.Scatter(
                    x=days["day"],
                    y=days[col],
                    mode="lines",
                    name=label,
                    line={"color": party_colors[p], "dash": dash, "width": 2.5},
                    hovertemplate=f"day %{{x}}: {label} %{{y:.2f}}<extra></extra>",
                ),
                row=2,
                col=1,
            )
    if "coverage" in days and days["coverage"].max() > 0:
        fig.add_trace(
            go.Scatter(
                x=days["day"],
                y=days["coverage"],
                mode="lines",
                name="monitoring coverage",
                line={"color": NEUTRAL, "dash": "dot", "width": 2},
                hovertemplate="day %{x}: monitoring coverage %{y:.0%}<extra></extra>",
            ),
            row=2,
            col=1,
        )
    first = days["day"].min()
    if first <= 0:
        fig.add_vrect(
            x0=first - 0.5,
            x1=0.5,
            fillcolor="#999999",
            opacity=0.15,
            line_width=0,
        )
        fig.add_annotation(
            x=first - 0.5,
            xref="x",
            y=1,
            yref="y domain",
            text="before the start",
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"color": NEUTRAL, "size": 14},
        )
    _mark_events(fig, events)
    _style(fig, "One simulated truce, day by day", "", "", height=720)
    fig.update_xaxes(title_text=DAY_AXIS + " (day 1 = start)", row=2, col=1)
    fig.update_yaxes(title_text="violations per day", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="level (0–1)", range=[0, 1.05], row=2, col=1)
    return fig


def _mark_events(fig: go.Figure, events: pd.DataFrame) -> None:
    """Vertical markers for the monitors' withdrawal and the collapse."""
    if "kind" not in events:
        return
    for row in events[events["kind"] == "monitor_withdrawal"].itertuples():
        _day_marker(fig, row.day, f"monitors withdrew (day {row.day})", NEUTRAL, "dash")
    for row in events[events["kind"] == "collapse"].itertuples():
        cause = getattr(row, "origin", None)
        because = (
            f": {sentences.CAUSE_PHRASES.get(cause, cause)}"
            if isinstance(cause, str) and cause
            else ""
        )
        text = _text(f"truce collapsed (day {row.day}){because}")
        _day_marker(fig, row.day, text, OKABE_ITO["vermillion"], "solid")


# --------------------------------------------------------------------------- sensitivity

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
        subplot_titles=[_text(SENSITIVITY_OUTPUTS.get(o, o)) for o in outputs],
        horizontal_spacing=0.1,
    )
    for col, output in enumerate(outputs, start=1):
        rows = indices[indices["output"] == output]
        # Dotted paths break at the dots, so that the labels stay level and apart.
        names = [_text(p).replace(".", ".<br>") for p in rows["parameter"]]
        for i, (key, conf, label) in enumerate(bars):
            values = rows[key].astype(float).to_numpy()
            error = rows[conf].astype(float).fillna(0).to_numpy() if conf else None
            hover = _index_hover(names, label, values, error)
            bar = _index_bar(names, values, error, hover, _text(label), PALETTE[i])
            fig.add_trace(bar.update(legendgroup=key, showlegend=col == 1), row=1, col=col)
    fig.update_layout(barmode="group")
    title = (
        "Sobol sensitivity indices: which swept parameter drives the outcome"
        if sobol
        else "Morris elementary effects: which swept parameter drives the outcome"
    )
    _style(fig, title, "", "")
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
        f"{name}<br>{_text(label)}: "
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
            _text(f"{SENSITIVITY_OUTPUTS.get(o, o)}: {_INDEX_NAMES[key]}")
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
                names = [_text(p).replace(".", ".<br>") for p in rows["parameter"]]
                values = rows[key].astype(float).to_numpy()
                error = rows[conf].astype(float).fillna(0).to_numpy() if conf else None
                hover = _index_hover([f"{_text(arm)}: {n}" for n in names], label, values, error)
                bar = _index_bar(names, values, error, hover, _text(arm), colors[arm])
                bar.update(legendgroup=str(arm), showlegend=row == 1 and col == 1)
                fig.add_trace(bar, row=row, col=col)
    fig.update_layout(barmode="group")
    method = "Sobol sensitivity indices" if sobol else "Morris elementary effects"
    _style(fig, f"{method} per arm: which swept parameter drives the outcome", "", "", height=860)
    fig.update_layout(legend_y=-0.14, margin_b=140)
    fig.update_xaxes(type="category", tickangle=0)
    for row, (key, _, _) in enumerate(bars, start=1):
        fig.update_yaxes(title_text=_text(_INDEX_NAMES[key]), row=row, col=1)
    return fig
