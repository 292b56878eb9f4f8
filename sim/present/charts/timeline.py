"""One simulated truce day by day: violations by origin or party, trust, fatigue, monitors."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.analysis import violations
from sim.present.charts.style import (
    DAY_AXIS,
    NEUTRAL,
    OKABE_ITO,
    Spec,
    as_figure,
    colors_for,
    day_marker,
    escaped,
    styled_spec,
)
from sim.present.text import cause_phrase, origin_label, records


def _event_hover(events: pd.DataFrame) -> pd.DataFrame:
    """One hover text per day: the day's event sentences (at most five)."""
    rows = []
    for day, group in events.dropna(subset=["text"]).groupby("day"):
        lines = [escaped(t) for t in group["text"]]
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
    return as_figure(timeline_figure(days, events, stack))


#: The rows of the timeline: (x axis, y axis) of the violations and of the levels.
_TOP, _BOTTOM = ("x", "y"), ("x2", "y2")


@cache
def _two_rows() -> dict[str, Any]:
    """The axes of ``make_subplots`` for the timeline's two rows sharing the day axis."""
    layout = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4], vertical_spacing=0.1
    ).to_dict()["layout"]
    return {k: v for k, v in layout.items() if k != "template"}


def timeline_figure(
    days: pd.DataFrame, events: pd.DataFrame | None = None, stack: str = "origin"
) -> Spec:
    """:func:`timeline_chart` as a figure dictionary (:data:`~.style.Spec`), not validated.

    What the classroom page draws a day of its live truce from: a validated
    ``go.Figure`` of the two rows cost the page's server about 80 ms of CPU a day.
    """
    if stack not in ("origin", "party"):
        raise ValueError(f"stack must be 'origin' or 'party', not {stack!r}")
    events = events if events is not None else pd.DataFrame(columns=["day", "kind", "text"])
    parties = list(violations.party_columns(days))
    principals = [c[len("trust_") :] for c in days.columns if c.startswith("trust_")]
    party_colors = colors_for("party", sorted(set(parties) | set(principals)))
    if stack == "origin":
        columns = violations.origin_columns(days)
        colors = colors_for("origin", columns)
        labels = {o: origin_label(o) for o in columns}
    else:
        columns = violations.party_columns(days)
        colors, labels = party_colors, {p: p for p in columns}
    x = days["day"].to_numpy()
    traces: list[dict[str, Any]] = []
    for name, col in columns.items():
        label = escaped(labels[name])
        traces.append(
            {
                "type": "bar",
                "x": x,
                "y": days[col].to_numpy(),
                "name": label,
                "marker": {"color": colors[name]},
                "hovertemplate": f"day %{{x}}: %{{y}} × {label}<extra></extra>",
                "xaxis": _TOP[0],
                "yaxis": _TOP[1],
            }
        )
    hover = _event_hover(events)
    if len(hover):
        height = days.set_index("day")["violence"].reindex(hover["day"]).fillna(0).to_numpy()
        traces.append(
            {
                "type": "scatter",
                "x": hover["day"].to_numpy(),
                "y": height + 0.5,
                "mode": "markers",
                "marker": {"symbol": "triangle-down", "size": 9, "color": NEUTRAL},
                "name": "events (hover to read)",
                "hovertext": hover["hover"].to_numpy(),
                "hovertemplate": "%{hovertext}<extra></extra>",
                "xaxis": _TOP[0],
                "yaxis": _TOP[1],
            }
        )
    for p in principals:
        for what, dash in (("trust", "solid"), ("fatigue", "dash")):
            col = f"{what}_{p}"
            if col not in days:
                continue
            label = escaped(f"{p}: {'trust' if what == 'trust' else 'war fatigue'}")
            traces.append(
                {
                    "type": "scatter",
                    "x": x,
                    "y": days[col].to_numpy(),
                    "mode": "lines",
                    "name": label,
                    "line": {"color": party_colors[p], "dash": dash, "width": 2.5},
                    "hovertemplate": f"day %{{x}}: {label} %{{y:.2f}}<extra></extra>",
                    "xaxis": _BOTTOM[0],
                    "yaxis": _BOTTOM[1],
                }
            )
    if "coverage" in days and days["coverage"].max() > 0:
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": days["coverage"].to_numpy(),
                "mode": "lines",
                "name": "monitoring coverage",
                "line": {"color": NEUTRAL, "dash": "dot", "width": 2},
                "hovertemplate": "day %{x}: monitoring coverage %{y:.0%}<extra></extra>",
                "xaxis": _BOTTOM[0],
                "yaxis": _BOTTOM[1],
            }
        )
    layout: dict[str, Any] = {
        **copy.deepcopy(_two_rows()),
        "barmode": "stack",
        "bargap": 0.1,
        "shapes": [],
        "annotations": [],
    }
    first = days["day"].min()
    if first <= 0:  # the lead time, shaded in both rows (what fig.add_vrect adds)
        for xref, yref in (_TOP, _BOTTOM):
            layout["shapes"].append(
                {
                    "type": "rect",
                    "x0": first - 0.5,
                    "x1": 0.5,
                    "xref": xref,
                    "y0": 0,
                    "y1": 1,
                    "yref": f"{yref} domain",
                    "fillcolor": "#999999",
                    "opacity": 0.15,
                    "line": {"width": 0},
                }
            )
        layout["annotations"].append(
            {
                "x": first - 0.5,
                "xref": "x",
                "y": 1,
                "yref": "y domain",
                "text": "before the start",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "font": {"color": NEUTRAL, "size": 14},
            }
        )
    _mark_events(layout, events)
    for key in ("shapes", "annotations"):
        if not layout[key]:
            del layout[key]
    title = "One simulated truce, day by day"
    spec = styled_spec({"data": traces, "layout": layout}, title, "", "", height=720)
    spec["layout"]["xaxis2"]["title"]["text"] = DAY_AXIS + " (day 1 = start)"
    spec["layout"]["yaxis"].update(title={"text": "violations per day"}, rangemode="tozero")
    spec["layout"]["yaxis2"].update(title={"text": "level (0–1)"}, range=[0, 1.05])
    return spec


def _mark_events(layout: dict[str, Any], events: pd.DataFrame) -> None:
    """Vertical markers for the monitors' withdrawal and the collapse."""
    if "kind" not in events:
        return
    rows = records(events)
    for row in rows:
        if row["kind"] == "monitor_withdrawal":
            day = int(row["day"])
            day_marker(layout, day, f"monitors withdrew (day {day})", NEUTRAL, "dash")
    for row in rows:
        if row["kind"] == "collapse":
            day, cause = int(row["day"]), row.get("origin")
            because = f": {cause_phrase(cause)}" if isinstance(cause, str) and cause else ""
            text = escaped(f"truce collapsed (day {day}){because}")
            day_marker(layout, day, text, OKABE_ITO["vermillion"], "solid")
