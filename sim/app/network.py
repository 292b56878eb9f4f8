"""The network of the actors on the classroom page, redrawn after every day.

The parties (government, factions), their sponsors, the excluded groups, the
monitoring mission and the foreign air forces, placed by side (columns) and by
theatre (bands) as :func:`sim.present.network.layout` places them; edges between
the government and each faction coloured by trust (each half of an edge is the
trust of the party at its end in the other); the day's strikes as arrows coloured
by origin (dotted: a retaliation, coloured by the origin of what it answers);
blame that went to a party that did not do it as a dashed arrow from the victim
to the party it blamed; live counters above. Everything is read from the live
truce's records (:func:`sim.present.network.snapshot`): the page holds no model
logic.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
import solara
from mesa.visualization.utils import update_counter
from plotly.colors import sample_colorscale

from sim.app.components import Chart
from sim.model.model import CeasefireModel
from sim.present.charts.style import FIXED_COLORS, FONT, NEUTRAL
from sim.present.network import (
    COLUMNS,
    FACTIONS,
    GOVERNMENT,
    MISSION,
    Counters,
    Layout,
    Node,
    Snapshot,
    layout,
    snapshot,
)
from sim.present.text import origin_label

#: Colour scale of trust, from none (0) to full (1): red through yellow to blue, which
#: readers with the common colour-vision deficiencies can still order.
TRUST_SCALE = "RdYlBu"
#: Colour of the blame that went to the wrong party.
BLAME_COLOR = "#000000"
#: Band fills by the theatre's state today.
BAND_FILL = {
    "holding": "rgba(0,0,0,0.04)",
    "calm": "rgba(0,158,115,0.12)",
    "collapsed": "rgba(213,94,0,0.16)",
}
BAND_STATE = {"holding": "", "calm": " · calm today", "collapsed": " · collapsed"}
#: The bands span the theatres' columns (government, excluded groups, factions) only:
#: the sponsors beside them are in no theatre.
BAND_X = (GOVERNMENT - 0.45, FACTIONS + 0.45)
#: Figure size: height per theatre band plus the room above and below; the width
#: follows the page's column, this is the fallback until the browser has measured it.
NETWORK_WIDTH = 640
NETWORK_BASE_HEIGHT = 200
NETWORK_BAND_HEIGHT = 110
#: How far (in data units) a strike arrow runs beside the trust edge it follows.
STRIKE_OFFSET = 0.07
#: Node markers by role: symbol and size.
MARKERS = {
    "government": ("circle", 26),
    "faction": ("circle", 22),
    "excluded": ("hexagon", 20),
    "sponsor": ("square", 16),
    "mission": ("diamond", 18),
    "air_forces": ("triangle-up", 18),
}
#: Node fills by role: light, so the strikes (coloured by origin) stand out against them.
NODE_FILL = {
    "government": "#9ecae1",
    "faction": "#fdd0a2",
    "excluded": "#bdbdbd",
    "sponsor": "#f0f0f0",
    "mission": "#ffffff",
    "withdrawn": "#e0e0e0",
    "air_forces": "#f0f0f0",
}
ROLE_NAMES = {
    "government": "government",
    "faction": "faction",
    "excluded": "excluded group",
    "sponsor": "sponsor",
    "mission": "monitoring mission",
    "air_forces": "foreign air forces",
}


def counters_text(c: Counters) -> str:
    """The counters in words (what the page shows above the network)."""
    return (
        f"Day {c.day} · {_count(c.violations, 'violation')} · "
        f"{_count(c.wrong_retaliations, 'retaliation')} against the wrong party · "
        f"{_count(c.access_days, 'day')} of humanitarian access"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass
class _Parts:
    """The figure's traces, shapes and annotations, collected as plain dicts.

    Plotly validates every ``add_trace``/``add_shape`` call on its own; the network
    has a few dozen of them each day, so they are collected here and the figure is
    built (and validated) once.
    """

    traces: list[dict[str, Any]] = field(default_factory=list)
    shapes: list[dict[str, Any]] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)


def _trust_color(value: float) -> str:
    if not math.isfinite(value):
        return NEUTRAL
    return sample_colorscale(TRUST_SCALE, [min(max(value, 0.0), 1.0)])[0]


def _arrow(
    a: Node, b: Node, offset: float = 0.0, shrink: float = 0.12
) -> tuple[list[float], list[float]]:
    """The points of a line from ``a`` to ``b``, shifted sideways, stopping short of both."""
    dx, dy = b.x - a.x, b.y - a.y
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    px, py = -uy * offset, ux * offset
    cut = min(shrink, length / 3)
    return (
        [a.x + ux * cut + px, b.x - ux * cut + px],
        [a.y + uy * cut + py, b.y - uy * cut + py],
    )


def _bands(fig: _Parts, lay: Layout, snap: Snapshot) -> None:
    for band in lay.bands:
        state = snap.theatres.get(band.name, "holding")
        fig.shapes.append(
            dict(
                type="rect",
                x0=BAND_X[0],
                x1=BAND_X[1],
                y0=band.low + 0.02,
                y1=band.high - 0.02,
                fillcolor=BAND_FILL[state],
                line={"width": 0},
                layer="below",
            )
        )
        fig.annotations.append(
            dict(
                x=BAND_X[0] + 0.03,
                y=band.high - 0.04,
                text=html.escape(band.label) + BAND_STATE[state],
                showarrow=False,
                xanchor="left",
                yanchor="top",
                font={"size": 12, "color": "#444"},
            )
        )


def _lines(
    xs: list[float | None], ys: list[float | None], line: dict[str, Any], name: str, **more: Any
) -> dict[str, Any]:
    """A scatter trace of line segments (separated by None) with no hover text."""
    return dict(
        type="scatter", x=xs, y=ys, mode="lines", line=line, name=name, hoverinfo="skip", **more
    )


def _structure(fig: _Parts, lay: Layout) -> None:
    """Sponsors' backing (dotted) and the links between one party's nodes in several bands."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for sponsor, client in lay.backing:
        a, b = lay.nodes[sponsor], lay.nodes[client]
        xs += [a.x, b.x, None]
        ys += [a.y, b.y, None]
    if xs:
        fig.traces.append(
            _lines(
                xs, ys, {"color": "#bbbbbb", "width": 1, "dash": "dot"}, "backs (sponsor → client)"
            )
        )
    xs, ys = [], []
    for name in dict.fromkeys(node.name for node in lay.nodes.values()):
        copies = sorted(lay.nodes_of(name), key=lambda n: n.y)
        if len(copies) > 1:
            xs += [copies[0].x, copies[-1].x, None]
            ys += [copies[0].y, copies[-1].y, None]
    if xs:
        line = {"color": "#e6e6e6", "width": 4}
        fig.traces.append(_lines(xs, ys, line, "same party in several zones", showlegend=False))


def _trust(fig: _Parts, lay: Layout, snap: Snapshot) -> None:
    """Each government–faction edge in each theatre both are in, its halves coloured by trust."""
    mid_x, mid_y, mid_c, mid_text = [], [], [], []
    for pair in snap.trust:
        for a in lay.nodes_of(pair.a):
            b = next((n for n in lay.nodes_of(pair.b) if n.theatre == a.theatre), None)
            if b is None:
                continue
            mx, my = (a.x + b.x) / 2, (a.y + b.y) / 2
            for end, value in ((a, pair.a_in_b), (b, pair.b_in_a)):
                fig.traces.append(
                    dict(
                        type="scatter",
                        x=[end.x, mx],
                        y=[end.y, my],
                        mode="lines",
                        line={"color": _trust_color(value), "width": 5},
                        hoverinfo="skip",
                        showlegend=False,
                        meta="trust",
                    )
                )
            mid_x.append(mx)
            mid_y.append(my)
            mid_c.append((pair.a_in_b + pair.b_in_a) / 2)
            mid_text.append(
                f"{html.escape(a.label)} trusts {html.escape(b.label)}: {pair.a_in_b:.2f}<br>"
                f"{html.escape(b.label)} trusts {html.escape(a.label)}: {pair.b_in_a:.2f}"
            )
    # The hover points of the edges carry the colour bar of the trust scale.
    fig.traces.append(
        dict(
            type="scatter",
            x=mid_x,
            y=mid_y,
            mode="markers",
            marker={
                "size": 9,
                "color": mid_c,
                "colorscale": TRUST_SCALE,
                "cmin": 0,
                "cmax": 1,
                "line": {"color": "white", "width": 1},
                "colorbar": {
                    "title": {"text": "trust", "side": "right"},
                    "thickness": 10,
                    "len": 0.5,
                    "x": 1.0,
                    "y": 0.5,
                    "tickvals": [0, 0.5, 1],
                },
                "showscale": True,
            },
            name="trust",
            text=mid_text,
            hovertemplate="%{text}<extra></extra>",
            showlegend=False,
        )
    )


def _node_of(lay: Layout, name: str, theatre: str | None) -> Node | None:
    try:
        return lay.of(name, theatre)
    except KeyError:
        return None


def _strikes(fig: _Parts, lay: Layout, snap: Snapshot) -> None:
    """The day's strikes (by origin) and the blame that went to the wrong party (dashed)."""
    colors = FIXED_COLORS["origin"]
    shown: set[str] = set()
    seen: dict[tuple[str, str], int] = {}
    for strike in snap.strikes:
        a = _node_of(lay, strike.actor, strike.theatre)
        b = _node_of(lay, strike.target, strike.theatre)
        if a is None or b is None or a.key == b.key:
            continue
        k = seen.get((a.key, b.key), 0)
        seen[(a.key, b.key)] = k + 1
        xs, ys = _arrow(a, b, STRIKE_OFFSET * (1 + k))
        what = origin_label(strike.origin) if strike.origin else strike.kind
        answer = strike.kind == "retaliation"
        # A retaliation carries the origin of the grievance it answers (as the model counts it).
        name = f"retaliation for: {what}" if answer else f"strike: {what}"
        hover = f"{html.escape(a.label)} → {html.escape(b.label)} ({what}, {strike.kind})"
        if strike.wrong:
            hover += ": a retaliation against the wrong party"
        fig.traces.append(
            dict(
                type="scatter",
                x=xs,
                y=ys,
                mode="lines+markers",
                line={
                    "color": colors.get(strike.origin, NEUTRAL),
                    "width": 4 if strike.wrong else 3,
                    "dash": "dot" if answer else "solid",
                },
                marker={"symbol": ["circle", "arrow"], "size": [4, 16], "angleref": "previous"},
                name=name,
                legendgroup=name,
                showlegend=name not in shown,
                text=[hover, hover],
                hovertemplate="%{text}<extra></extra>",
                meta="strike",
            )
        )
        shown.add(name)
        if strike.wrong_blame:
            victim = b
            blamed = _node_of(lay, strike.blamed, strike.theatre)
            if blamed is None or blamed.key == victim.key:
                continue
            xs, ys = _arrow(victim, blamed, -STRIKE_OFFSET * (1 + k))
            text = (
                f"{html.escape(victim.label)} blames {html.escape(blamed.label)} for "
                f"{html.escape(what.lower())} by {html.escape(a.label)}"
            )
            fig.traces.append(
                dict(
                    type="scatter",
                    x=xs,
                    y=ys,
                    mode="lines+markers",
                    line={"color": BLAME_COLOR, "width": 2, "dash": "dash"},
                    marker={"symbol": ["circle", "arrow"], "size": [4, 14], "angleref": "previous"},
                    name="blame on the wrong party",
                    legendgroup="blame",
                    showlegend="blame" not in shown,
                    text=[text, text],
                    hovertemplate="%{text}<extra></extra>",
                    meta="blame",
                )
            )
            shown.add("blame")


def _nodes(fig: _Parts, lay: Layout, snap: Snapshot) -> None:
    for role, (symbol, size) in MARKERS.items():
        nodes = [n for n in lay.nodes.values() if n.role == role]
        if not nodes:
            continue
        fill = NODE_FILL[role]
        if role == "mission" and not snap.mission:
            fill = NODE_FILL["withdrawn"]
        hover = []
        for n in nodes:
            where = f" in the {n.theatre.replace('_', ' ')} zone" if n.theatre else ""
            extra = ""
            if n.name == MISSION and not snap.mission:
                extra = " (withdrawn)"
            hover.append(f"{html.escape(n.label)}: {ROLE_NAMES[role]}{where}{extra}")
        fig.traces.append(
            dict(
                type="scatter",
                x=[n.x for n in nodes],
                y=[n.y for n in nodes],
                mode="markers+text",
                marker={
                    "symbol": symbol,
                    "size": size,
                    "color": fill,
                    "line": {"color": "#333333", "width": 1.5},
                },
                text=[html.escape(n.label) for n in nodes],
                textposition="bottom center",
                textfont={"size": 12},
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
                name=ROLE_NAMES[role],
                showlegend=False,
                customdata=[n.key for n in nodes],
                meta="nodes",
            )
        )


def network_figure(
    model: CeasefireModel, width: int | None = None, lay: Layout | None = None
) -> go.Figure:
    """The network of the live truce on its current day.

    Args:
        model: the live truce (recorded, one replicate).
        width: the figure's width in pixels (the page's column), or the fallback.
        lay: the scenario's layout, if already computed.
    """
    lay = lay or layout(model.scenario)
    snap = snapshot(model)
    n_t = len(lay.bands)
    fig = _Parts()
    _bands(fig, lay, snap)
    _structure(fig, lay)
    _trust(fig, lay, snap)
    _strikes(fig, lay, snap)
    _nodes(fig, lay, snap)
    for x, title in enumerate(COLUMNS):
        fig.annotations.append(
            dict(
                x=x,
                y=n_t + 0.75,
                text=title,
                showarrow=False,
                font={"size": 11, "color": "#777"},
            )
        )
    figure = go.Figure(data=fig.traces)
    figure.update_layout(
        shapes=fig.shapes,
        annotations=fig.annotations,
        title={"text": f"The actors on day {snap.day}", "font": {"size": 14}},
        width=width or NETWORK_WIDTH,
        height=NETWORK_BASE_HEIGHT + NETWORK_BAND_HEIGHT * n_t,
        autosize=False,
        margin={"t": 40, "b": 10, "l": 10, "r": 10},
        font={"family": FONT},
        plot_bgcolor="white",
        paper_bgcolor="white",
        legend={"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top", "font": {"size": 11}},
        hovermode="closest",
        uirevision="network",
    )
    figure.update_xaxes(visible=False, range=[-0.65, len(COLUMNS) - 0.35], fixedrange=True)
    figure.update_yaxes(visible=False, range=[-0.8, n_t + 0.95], fixedrange=True)
    return figure


#: Whether the network is drawn when the page opens. Off: in headless Chromium on a busy
#: 2-core machine, redrawing it every day while ▶ plays made the browser fall behind
#: (the pause button took over 10 s to answer); the teacher switches it on.
SHOW_AT_START = False


@solara.component
def NetworkPanel(model: CeasefireModel):
    """The network of the actors and the live counters, redrawn after every step.

    Behind a switch ("Show the actors"), off at the start (see :data:`SHOW_AT_START`).
    """
    update_counter.get()
    shown = solara.use_reactive(SHOW_AT_START)
    lay = solara.use_memo(lambda: layout(model.scenario), [id(model.scenario)])
    # In a one-column row, as the page's other charts are; drawn as they are (PlotlyChart:
    # plotly.js from the figure's JSON, as wide as the column), so the page loads one plotly.js.
    with solara.Columns([1], classes=["truce-network"]):
        with solara.Column(gap="0px"):
            solara.Switch(label="Show the actors (network, trust, strikes, blame)", value=shown)
            if shown.value:
                counts = counters_text(snapshot(model).counters)
                solara.Div(children=[counts], classes=["truce-counters"])
                figure = network_figure(model, None, lay)
                Chart(figure.to_json(), name=f"network-{id(model)}-{model.day}")
