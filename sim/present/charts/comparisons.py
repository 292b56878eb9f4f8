"""Arms against the reference at each design point: hazard ratios as a forest or panels."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from sim.analysis import summaries
from sim.present import sentences
from sim.present.charts.style import (
    MAX_FOREST_ROWS,
    NEUTRAL,
    colors_for,
    escaped,
    panel_grid,
    styled,
    value_label,
)


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
    reference = escaped(arms[0]) if arms else "the reference"
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
        b: escaped(f"{b} vs {table.loc[table['b'] == b, 'a'].iloc[0]}")
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
        escaped(
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
    styled(fig, title, "", "", height=max(540, 200 + 34 * len(points)))
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
    titles = [escaped(p) for p in panels] if len(panels) > 1 else [""] * len(panels)
    fig, cols, nrows = panel_grid(titles, columns, 0.06, 0.18)
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
    styled(fig, title, "", "", height=max(540, 380 * nrows))
    for i, p in enumerate(panels):
        fig.update_xaxes(
            title_text="design point" if p == "point" else escaped(p),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    return fig


def _ratio_hover(r: Mapping[str, Any], name: str, settings: Sequence[str]) -> str:
    """Hover text of one hazard ratio: the point, its settings, the ratio and the test."""
    where = ", ".join(f"{escaped(s)} = {value_label(r[s])}" for s in settings)
    point = "" if pd.isna(r["point"]) else f"point {int(r['point'])}"
    interval = (
        ""
        if pd.isna(r["low"]) or pd.isna(r["high"])
        else f" ({r['level'] * 100:.0f}% CI {r['low']:.2f}–{r['high']:.2f})"
    )
    test = "" if pd.isna(r["logrank_p"]) else f"<br>log-rank {sentences.p_value(r['logrank_p'])}"
    head = ": ".join(t for t in (point, where) if t)
    return f"{head}<br>{name}: hazard ratio {r['hazard_ratio']:.2f}{interval}{test}"
