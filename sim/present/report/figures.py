r"""The charts of a report, in the order shown, each with its heading and caption.

The charts of every run and comparison (survival, collapse, causes, outcomes over
time) are figure dictionaries (:data:`sim.present.charts.style.Spec`), built without
plotly's validation; the sweep, sensitivity and discovery charts are
``go.Figure``\ s, built under :func:`~sim.present.charts.style.white_template`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from sim.analysis import points, sensitivity
from sim.present import charts
from sim.present.charts.causes import cause_figure
from sim.present.charts.daily import daily_figure
from sim.present.charts.horizons import collapse_figure
from sim.present.charts.style import Spec, as_figure, white_template
from sim.present.charts.survival import survival_figure
from sim.present.report.design import Design

MAX_SURVIVAL_CURVES = 8
MAX_BAR_GROUPS = 12
MAX_CAUSE_GROUPS = 40


@dataclass
class Chart:
    """A report chart: anchor key, heading, one-sentence caption and the figure.

    The figure is a ``go.Figure`` or a figure dictionary (:data:`~.style.Spec`);
    :meth:`plotly_figure` gives it as a ``go.Figure`` either way.
    """

    key: str
    heading: str
    caption: str
    figure: go.Figure | Spec

    def plotly_figure(self) -> go.Figure:
        """The figure as a validated ``go.Figure`` (for PNG export and callers)."""
        return as_figure(self.figure) if isinstance(self.figure, dict) else self.figure


def report_charts(
    runs: pd.DataFrame,
    design: Design,
    indices: Mapping[str, Any] | None = None,
    comparisons: Sequence[Mapping[str, Any]] | None = None,
) -> list[Chart]:
    """The charts of the report, in the order shown.

    Comparisons and single runs: survival curves, collapse bars, causes.
    Sweeps: the sensitivity indices of a ``sobol`` or ``morris`` design, a
    line (one parameter) or heatmap and small multiples (two or more), then
    survival curves, bars and causes per design point while there are few
    enough points to read them. Crossed sweeps: the same sweep charts with
    one line (or heatmap) per arm, the hazard ratio of each arm against the
    reference at every design point (from ``comparisons``), then survival
    curves, bars and causes per arm, pooled over the design.

    Args:
        runs: the runs table.
        design: its grouping.
        indices: the sensitivity indices (:func:`sim.analysis.sensitivity.analyze`),
            if the design has them.
        comparisons: the summary's comparisons; a crossed design's give the
            hazard-ratio chart.

    Returns:
        The charts.
    """
    out = []
    if indices or design.is_sweep:
        with white_template():  # go.Figures: the same figures, built in half the time
            if indices:
                out.append(_sensitivity_chart(indices))
            if design.crossed:
                out += _crossed_sweep_charts(runs, design, comparisons or [])
            elif design.is_sweep:
                out += _sweep_charts(runs, design.parameters)
    if points.is_points(runs):  # aggregates only: the per-truce charts need the runs
        return out
    # A crossed design's points all ran under every arm: pool them per arm.
    by = "arm" if design.crossed else design.by
    capped = design.is_sweep and not design.crossed
    groups = runs[by].nunique()
    pooled = (
        f" Each arm pools the truces of all {runs['point'].nunique():,} design points."
        if design.crossed
        else ""
    )
    if not capped or groups <= MAX_SURVIVAL_CURVES:
        out.append(
            Chart(
                "survival",
                "How long the truces held",
                "Kaplan–Meier estimate of the share of truces still holding on each day, "
                "with 95% confidence bands; truces still holding at the end are censored there."
                + pooled,
                survival_figure(runs, by=by),
            )
        )
    if not capped or groups <= MAX_BAR_GROUPS:
        out.append(
            Chart(
                "collapse",
                "Collapse within 30, 90 and 180 days",
                "Share of simulated truces that collapsed within each period; whiskers are 95% "
                "Wilson intervals." + pooled,
                collapse_figure(runs, by=by),
            )
        )
    if runs["collapsed"].any() and (not capped or groups <= MAX_CAUSE_GROUPS):
        out.append(
            Chart(
                "causes",
                "What caused the collapses",
                "Among the truces that collapsed, the share by the dominant origin of violations "
                "in the days before the collapse." + pooled,
                cause_figure(runs, by=by),
            )
        )
    return out


def _sweep_charts(runs: pd.DataFrame, params: Sequence[str]) -> list[Chart]:
    """The collapse-against-parameters charts of a sweep with one arm."""
    if not params:
        return []
    if len(params) == 1:
        return [
            Chart(
                "sweep",
                f"Collapse against {params[0]}",
                "Each point pools the truces simulated at that value; the band is the "
                "95% Wilson interval.",
                charts.sweep_line(runs, params[0]),
            )
        ]
    return [
        Chart(
            "sweep-heatmap",
            f"Collapse over {params[0]} and {params[1]}",
            "Each cell is the share of simulated truces that collapsed within 90 days at "
            "that pair of values (pooled over any other swept parameter).",
            charts.sweep_heatmap(runs, params[0], params[1]),
        ),
        Chart(
            "sweep-parameters",
            "Each swept parameter on its own",
            "Share collapsed within 90 days against each parameter, pooled over the "
            "others, with 95% Wilson bands.",
            charts.sweep_small_multiples(runs, params),
        ),
    ]


def _crossed_sweep_charts(
    runs: pd.DataFrame, design: Design, comparisons: Sequence[Mapping[str, Any]]
) -> list[Chart]:
    """A crossed sweep's charts: collapse per arm against the parameters, then the contrast."""
    params, arms = design.parameters, design.arms
    out = []
    if len(params) == 1:
        out.append(
            Chart(
                "sweep",
                f"Collapse against {params[0]}, by arm",
                "One line per arm: each point is the share of that arm's simulated truces that "
                "collapsed within 90 days at that value, with its 95% Wilson band. Every arm "
                "ran the same design points on the same random numbers.",
                charts.sweep_line(runs, params[0], by="arm"),
            )
        )
    elif params:
        out.append(
            Chart(
                "sweep-heatmap",
                f"Collapse over {params[0]} and {params[1]}, arm by arm",
                "One panel per arm, on the same colour scale: each cell is the share of that "
                "arm's simulated truces that collapsed within 90 days at that pair of values "
                "(pooled over any other swept parameter).",
                charts.sweep_heatmap_by(runs, params[0], params[1], by="arm"),
            )
        )
        out.append(
            Chart(
                "sweep-parameters",
                "Each swept parameter on its own, by arm",
                "Share collapsed within 90 days against each parameter, pooled over the "
                "others, one line per arm with 95% Wilson bands.",
                charts.sweep_small_multiples(runs, params, by="arm"),
            )
        )
    if comparisons:
        table = charts.contrast_table(comparisons)
        left_out = len(table) - len(charts.plottable_ratios(table))
        others = ", ".join(f"“{a}”" for a in arms[1:])
        level = f"{comparisons[0].get('level', 0.95) * 100:.0f}%"
        out.append(
            Chart(
                "arm-contrast",
                "Where the arms differ most",
                f"Hazard ratio of {others} against the reference arm “{arms[0]}” at each design "
                f"point, with {level} intervals (log-rank estimator, on a log scale): below the "
                "dashed line at 1, truces collapsed more slowly than under the reference; above "
                "it, faster."
                + (
                    f" {left_out:,} point{'s' if left_out != 1 else ''} without a ratio (no "
                    "collapse in an arm) left out."
                    if left_out
                    else ""
                ),
                charts.hazard_ratio_chart(comparisons, params),
            )
        )
    return out


def _sensitivity_chart(indices: Mapping[str, Any]) -> Chart:
    level = f"{indices['level'] * 100:.0f}%"
    what = (
        "Sobol indices: the share of the variance of each output over the design that is due "
        "to a parameter alone (S1) and together with its interactions (ST)"
        if indices["method"] == "sobol"
        else "Morris elementary effects: the mean absolute change of each output across a "
        "parameter's bounds (μ*) and the spread of those changes (σ)"
    )
    table = sensitivity.indices_table(indices)
    arms = index_arms(indices)
    if arms and "arm" not in table.columns:
        table.insert(0, "arm", [r.get("arm") for r in indices["indices"]])
    return Chart(
        "sensitivity",
        "Which swept parameter matters most",
        f"{what}; whiskers are {level} bootstrap intervals over the design's "
        f"{indices['points']:,} points, each simulating {indices['replicates']:,} truces "
        "(the intervals leave out the simulation noise of each point)."
        + (" The indices are computed for each arm on its own." if arms else ""),
        charts.sensitivity_chart(table),
    )


def index_arms(indices: Mapping[str, Any]) -> list[Any]:
    """The arms of sensitivity indices computed per arm (crossed design), else []."""
    arms = list(dict.fromkeys(r.get("arm") for r in indices.get("indices") or []))
    if None in arms or not (len(arms) > 1 or indices.get("arms")):
        return []
    return arms


def discovery_charts(found: Mapping[str, Any] | None) -> list[Chart]:
    """The scenario-discovery charts of ``discover.json``: per arm, the peeling trade-off and box.

    Args:
        found: the parsed ``discover.json`` (:meth:`sim.api.Result.discover`), or None.

    Returns:
        Two charts per analysis (none without ``found``): PRIM's peeling
        trajectory (coverage against density, coloured by the number of restricted
        levers) and the chosen box drawn as ranges per lever, its caption the
        quotable sentence.
    """
    from sim.analysis.discovery import box_table, trajectory_table

    if not found:
        return []
    with white_template():
        return _discovery_charts(found, trajectory_table(found), box_table(found))


def _discovery_charts(
    found: Mapping[str, Any], steps: pd.DataFrame, boxes: pd.DataFrame
) -> list[Chart]:
    from sim.present.charts.discovery import box_chart, peeling_chart
    from sim.present.sentences import discovery_sentence, target_words

    target = target_words(found["target"], found["horizon"])
    out = []
    for i, analysis in enumerate(found["analyses"]):
        arm = analysis["arm"]
        where = f" ({arm})" if arm is not None else ""
        mine = steps[steps["arm"].isna()] if arm is None else steps[steps["arm"] == arm]
        box = boxes[boxes["arm"].isna()] if arm is None else boxes[boxes["arm"] == arm]
        out.append(
            Chart(
                f"discovery-peeling-{i}",
                f"Scenario discovery{where}: the peeling trade-off",
                f"Each point is a box of design points on PRIM's peeling trajectory for "
                f"the target “{target}”: its coverage (the share of the points meeting the "
                "target that lie inside it) against its density (the share of its points "
                f"that meet it), coloured by the number of levers it restricts; "
                f"the ringed box is the one reported (the densest with a coverage of at "
                f"least {found['min_coverage']:.0%}).",
                peeling_chart(mine),
            )
        )
        out.append(
            Chart(
                f"discovery-box-{i}",
                f"Scenario discovery{where}: the box",
                discovery_sentence(found, analysis),
                box_chart(box),
            )
        )
    return out


def daily_charts(daily: pd.DataFrame | None, design: Design) -> list[Chart]:
    """The outcomes-over-time chart of a run, comparison or crossed design (by arm).

    Args:
        daily: the stored daily sums (``daily.parquet``), or None when the
            folder has none (stored by an older version): no chart then.
        design: the grouping; a sweep with one arm gets no chart here.
    """
    if daily is None or not len(daily) or (design.is_sweep and not design.crossed):
        return []
    pooled = (
        f" Each arm pools the truces of all {daily['point'].nunique():,} design points."
        if design.crossed
        else ""
    )
    return [
        Chart(
            "daily",
            "How the truces went wrong over time",
            "Top: the mean number of violations a day per truce still in force that day, "
            "with 95% confidence bands of the mean (a collapsed truce is back at war and no "
            "longer counted). Bottom: the share of truces still holding." + pooled,
            daily_figure(daily, by="arm"),
        )
    ]
