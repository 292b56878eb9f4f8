"""What every chart shares: the colours, the text helpers, the layout and the common traces.

The charts of a run or comparison report (survival, collapse bars, causes, outcomes
over time) are built as plain figure dictionaries (:data:`Spec`), already in the
form plotly's validation would give them, so that a report does not pay for
validated ``plotly.graph_objects`` (about a third of a second of CPU for a
comparison's four charts); their public functions wrap the same dictionary in a
``go.Figure`` (:func:`as_figure`). ``tests/test_charts.py`` checks that
validating a dictionary changes nothing.

Colours come from the Okabe–Ito palette, which readers with colour-vision
deficiencies can tell apart, and :func:`colors_for` gives the same origin,
party or arm the same colour in every chart. Names taken from a scenario file
go through :func:`escaped` before they reach plotly, which renders a subset of
HTML tags in its texts; escaped, they show as typed.
"""

from __future__ import annotations

import hashlib
import html
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.analysis import grouping
from sim.present import sentences

ArrayLike: TypeAlias = Sequence[Any] | pd.Series | np.ndarray
"""Values plotly takes for a trace's coordinates."""

Spec: TypeAlias = dict[str, Any]
"""A figure as plotly's dictionary, ``{"data": [trace, ...], "layout": {...}}``, not validated.

Traces carry their ``type``; coordinates may be NumPy arrays or pandas Series
(plotly writes them as typed arrays); no template (:func:`as_figure` and the
report add ``plotly_white``).
"""

TEMPLATE = "plotly_white"
"""The template of every chart."""

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


def rgba(hex_color: str, alpha: float) -> str:
    """A ``#rrggbb`` colour as a CSS ``rgba()`` with the given opacity."""
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


# --------------------------------------------------------------------------- text


def escaped(value: Any) -> str:
    """Escape a name for plotly text (which renders a subset of HTML)."""
    return html.escape(str(value), quote=False)


def value_label(value: Any) -> str:
    """A parameter value for display, escaped."""
    return escaped(sentences.value_text(value))


def color_kind(by: str) -> str:
    """The colour kind of a grouping column: ``arm``, ``point`` or any other ``group``."""
    return by if by in ("arm", "point") else "group"


def group_labels(table: pd.DataFrame, by: str) -> dict[Any, str]:
    """Display names of the groups, in order; design points show their settings."""
    groups = list(dict.fromkeys(table[by]))
    if by == "arm":
        return {g: escaped(g) for g in groups}
    if by != "point":
        return {g: escaped(f"{by} = {g}") for g in groups}
    swept = grouping.swept_columns(table)
    first = table.drop_duplicates(by).set_index(by)
    labels = {}
    for g in groups:
        settings = ", ".join(f"{c} = {sentences.value_text(first.loc[g, c])}" for c in swept)
        labels[g] = escaped(f"point {g}" + (f" ({settings})" if settings else ""))
    return labels


def ci_text(low: float, high: float, level: float = 0.95) -> str:
    """The interval for hover texts (" (95% CI 12–18%)"), or nothing when unknown."""
    if math.isnan(low) or math.isnan(high):
        return ""
    return f" ({level * 100:.0f}% CI {sentences.pct_range(low, high)})"


def styled(fig: go.Figure, title: str, x_title: str, y_title: str, height: int = 540) -> go.Figure:
    """The common layout: white template, title at the left, legend below, system fonts."""
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


def share_axis(fig: go.Figure, **where: Any) -> None:
    """Make the vertical axis (or those ``where`` selects) a 0–100% share axis."""
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", **where)


def style_layout(title: str, height: int = 540) -> dict[str, Any]:
    """The layout keys :func:`styled` sets (but the template), as a dictionary."""
    return {
        "title": {"text": title, "x": 0, "xref": "paper", "xanchor": "left", "font": {"size": 22}},
        "font": {"family": FONT, "size": 16, "color": "#222222"},
        "legend": {
            "orientation": "h",
            "yanchor": "top",
            "y": -0.16,
            "xanchor": "left",
            "x": 0,
            "traceorder": "normal",
        },
        "hoverlabel": {"font": {"size": 15, "family": FONT}},
        "margin": {"l": 80, "r": 30, "t": 80, "b": 110},
        "height": height,
    }


def axes(layout: dict[str, Any], letter: str) -> list[dict[str, Any]]:
    """A layout's ``x`` (or ``y``) axes, in order (``xaxis``, ``xaxis2``, ...), made if none."""
    names = sorted(
        (k for k in layout if k == f"{letter}axis" or k.startswith(f"{letter}axis")),
        key=lambda k: int(k[5:] or 1),
    )
    return [layout.setdefault(k, {}) for k in names or [f"{letter}axis"]]


def styled_spec(spec: Spec, title: str, x_title: str, y_title: str, height: int = 540) -> Spec:
    """:func:`styled` for a figure dictionary: the common layout, every axis titled."""
    layout = spec.setdefault("layout", {})
    layout.update(style_layout(title, height))
    for axis in axes(layout, "x"):
        axis.setdefault("title", {})["text"] = x_title
    for axis in axes(layout, "y"):
        axis.setdefault("title", {})["text"] = y_title
    return spec


def share_axis_spec(axis: dict[str, Any]) -> None:
    """:func:`share_axis` for one axis of a figure dictionary."""
    axis.update(range=[0, 1.02], tickformat=".0%")


def as_figure(spec: Spec) -> go.Figure:
    """A figure dictionary as a validated ``go.Figure`` with the charts' template."""
    layout = {**spec.get("layout", {}), "template": TEMPLATE}
    return go.Figure(data=spec.get("data", []), layout=layout)


def template_json() -> dict[str, Any]:
    """The charts' template as plotly writes it into a figure (what ``to_dict()`` holds)."""
    return _template_json()


@cache
def _template_json() -> dict[str, Any]:
    import plotly.io as pio

    return pio.templates[TEMPLATE].to_plotly_json()


# --------------------------------------------------------------------------- shared traces


def band_traces(
    x: ArrayLike,
    mid: ArrayLike,
    low: ArrayLike,
    high: ArrayLike,
    color: str,
    name: str,
    hovertext: Sequence[str],
    shape: str = "linear",
    showlegend: bool = True,
    alpha: float = 0.2,
) -> list[dict[str, Any]]:
    """A line with a shaded confidence band, as trace dictionaries: upper edge, lower edge, line."""
    return [
        {
            "type": "scatter",
            "x": x,
            "y": high,
            "mode": "lines",
            "line": {"width": 0, "shape": shape},
            "hoverinfo": "skip",
            "showlegend": False,
            "legendgroup": name,
        },
        {
            "type": "scatter",
            "x": x,
            "y": low,
            "mode": "lines",
            "line": {"width": 0, "shape": shape},
            "fill": "tonexty",
            "fillcolor": rgba(color, alpha),
            "hoverinfo": "skip",
            "showlegend": False,
            "legendgroup": name,
        },
        {
            "type": "scatter",
            "x": x,
            "y": mid,
            "mode": "lines+markers" if shape == "linear" else "lines",
            "line": {"color": color, "width": 3, "shape": shape},
            "name": name,
            "legendgroup": name,
            "showlegend": showlegend,
            "hovertext": list(hovertext),
            "hovertemplate": "%{hovertext}<extra></extra>",
        },
    ]


def band(
    x: ArrayLike,
    mid: ArrayLike,
    low: ArrayLike,
    high: ArrayLike,
    color: str,
    name: str,
    hovertext: Sequence[str],
    shape: str = "linear",
    showlegend: bool = True,
    alpha: float = 0.2,
) -> list[go.Scatter]:
    """A line with a shaded confidence band: upper edge, lower edge (filled), line."""
    traces = band_traces(x, mid, low, high, color, name, hovertext, shape, showlegend, alpha)
    return [go.Scatter({k: v for k, v in t.items() if k != "type"}) for t in traces]


def day_marker(layout: dict[str, Any], day: float, text: str, color: str, dash: str) -> None:
    """A vertical line across the whole figure with a label at the top, added to ``layout``."""
    layout.setdefault("shapes", []).append(
        {
            "type": "line",
            "x0": day,
            "x1": day,
            "xref": "x",
            "yref": "paper",
            "y0": 0,
            "y1": 1,
            "line": {"color": color, "width": 2, "dash": dash},
        }
    )
    layout.setdefault("annotations", []).append(
        {
            "x": day,
            "xref": "x",
            "y": 1.0,
            "yref": "paper",
            "text": text,
            "showarrow": False,
            "xanchor": "left",
            "yanchor": "bottom",
            "font": {"color": color, "size": 14},
        }
    )


def panel_grid(
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


@contextmanager
def white_template() -> Iterator[None]:
    """Make ``plotly_white`` (the template :func:`styled` sets) plotly's default for a while.

    A new figure takes plotly's default template, which :func:`styled` then
    replaces, each template validated and copied in turn: building a report's
    charts under this takes half the time (0.17 s instead of 0.32 s of CPU for
    a comparison's three), and the figures are the same. The default before is
    restored on leaving.
    """
    import plotly.io as pio

    before = pio.templates.default
    pio.templates.default = "plotly_white"
    try:
        yield
    finally:
        pio.templates.default = before
