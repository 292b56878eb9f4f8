"""Scenario discovery: PRIM's peeling trade-off and the chosen box, drawn from its tables.

Both charts read the tables of :mod:`sim.analysis.discovery`
(:func:`~sim.analysis.discovery.trajectory_table` and
:func:`~sim.analysis.discovery.box_table`, made from ``discover.json``); they never
run a model or the discovery itself.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from sim.present.charts.style import NEUTRAL, PALETTE, escaped, share_axis, styled
from sim.present.sentences import bound_text


def peeling_chart(trajectory: pd.DataFrame, title: str = "") -> go.Figure:
    """The peeling trade-off: density against coverage, coloured by restricted levers.

    Each point is a box on PRIM's peeling trajectory: further along, a box keeps
    fewer of the cases of interest (coverage falls) but holds a larger share of
    them (density rises). The chosen box is ringed.

    Args:
        trajectory: the rows of one analysis (one arm) of
            :func:`sim.analysis.discovery.trajectory_table`: ``step``,
            ``coverage``, ``density``, ``mass``, ``restricted``, ``points``,
            ``meeting``, ``chosen``.
        title: the chart's title (default: a plain description).

    Returns:
        A scatter with one trace per number of restricted levers, and one for
        the chosen box.
    """
    fig = go.Figure()
    for i, (restricted, rows) in enumerate(trajectory.groupby("restricted", sort=True)):
        hover = [
            f"step {s}: coverage {c:.0%}, density {d:.0%}<br>"
            f"{k} of {n} design points meet the target; {r} restricted lever(s)"
            for s, c, d, k, n, r in zip(
                rows["step"],
                rows["coverage"],
                rows["density"],
                rows["meeting"],
                rows["points"],
                rows["restricted"],
                strict=True,
            )
        ]
        fig.add_trace(
            go.Scatter(
                x=rows["coverage"],
                y=rows["density"],
                mode="markers+lines",
                name=f"{restricted} lever{'s' if restricted != 1 else ''} restricted",
                marker={"color": PALETTE[i % len(PALETTE)], "size": 9},
                line={"color": PALETTE[i % len(PALETTE)], "width": 1},
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    chosen = trajectory[trajectory["chosen"].astype(bool)]
    if len(chosen):
        fig.add_trace(
            go.Scatter(
                x=chosen["coverage"],
                y=chosen["density"],
                mode="markers",
                name="the chosen box",
                marker={
                    "size": 20,
                    "color": "rgba(0,0,0,0)",
                    "line": {"color": "#000000", "width": 2},
                },
                hoverinfo="skip",
            )
        )
    styled(
        fig,
        title or "PRIM's peeling trade-off: coverage against density",
        "coverage: share of the design points meeting the target that are in the box",
        "density: share of the box's<br>points that meet the target",
    )
    share_axis(fig)
    fig.update_xaxes(tickformat=".0%", range=[1.02, -0.02])  # peeling runs left to right
    return fig


def box_chart(box: pd.DataFrame, title: str = "") -> go.Figure:
    """The chosen box drawn as ranges: per restricted lever, the design's range and the box's.

    Each lever gets a row on a common axis: 0 is the lowest value the design
    sampled and 1 the highest, so levers with different units line up; the
    labels give the values in the lever's own units.

    Args:
        box: the rows of one analysis (one arm) of
            :func:`sim.analysis.discovery.box_table`: ``lever``, ``design_low``,
            ``design_high``, ``low``, ``high``, ``values``, ``qp``, ``significant``.
        title: the chart's title (default: a plain description).

    Returns:
        A bar chart: a grey bar for each lever's design range, a coloured bar
        for the box's range (blue where the restriction is significant, orange
        where not).
    """
    numeric = box[box["values"].isna()] if "values" in box else box
    levers = [escaped(v) for v in numeric["lever"]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=levers,
            x=[1.0] * len(levers),
            base=[0.0] * len(levers),
            orientation="h",
            name="the range the design sampled",
            marker_color="#DDDDDD",
            hoverinfo="skip",
        )
    )
    traces: dict[bool, dict[str, list]] = {
        True: {"y": [], "x": [], "base": [], "text": [], "hover": []},
        False: {"y": [], "x": [], "base": [], "text": [], "hover": []},
    }
    for name, (_, r) in zip(levers, numeric.iterrows(), strict=True):
        span = float(r["design_high"]) - float(r["design_low"])
        low = float(r["design_low"] if pd.isna(r["low"]) else r["low"])
        high = float(r["design_high"] if pd.isna(r["high"]) else r["high"])
        start = (low - float(r["design_low"])) / span if span else 0.0
        end = (high - float(r["design_low"])) / span if span else 1.0
        qp = "not computed" if pd.isna(r["qp"]) else f"{float(r['qp']):.3g}"
        t = traces[bool(r["significant"])]
        t["y"].append(name)
        t["base"].append(start)
        t["x"].append(max(end - start, 0.005))
        t["text"].append(f"{bound_text(low)} to {bound_text(high)}")
        t["hover"].append(
            f"{name}: box {bound_text(low)} to {bound_text(high)} "
            f"(design {bound_text(r['design_low'])} to {bound_text(r['design_high'])}); "
            f"quasi-p {qp}"
        )
    labels = {True: "the box: a significant restriction", False: "the box: not significant"}
    for significant, t in traces.items():
        if not t["y"]:
            continue
        fig.add_trace(
            go.Bar(
                y=t["y"],
                x=t["x"],
                base=t["base"],
                orientation="h",
                name=labels[significant],
                marker_color=PALETTE[0] if significant else PALETTE[3],
                text=t["text"],
                textposition="inside",
                hovertext=t["hover"],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    styled(
        fig,
        title or "The chosen box: where each restricted lever must lie",
        "position in the range the design sampled (0: its lowest value, 1: its highest)",
        "",
        height=max(400, 200 + 70 * len(levers)),
    )
    fig.update_layout(barmode="overlay", bargap=0.35, legend_y=-0.3, margin_b=150)
    fig.update_xaxes(range=[0, 1], color=NEUTRAL)
    return fig
