"""Per-point aggregates of a sweep: one row per design point, computed where the point ran.

A research-size sweep (thousands of design points × a thousand truces each)
would write gigabytes of per-truce rows and need gigabytes to summarise them.
Instead each worker reduces the truces of the point it ran to one row
(:func:`point_row`), and the summary, the sensitivity indices, the sweep
charts and ``truce export`` read those rows alone (the ``points`` table,
``docs/RESULTS.md``):

- ``replicates``, ``horizon``, ``collapsed`` (within the horizon);
- ``collapse_share`` and ``mean_days_held``: the outputs the sensitivity
  indices analyse (:data:`sim.analysis.sensitivity.OUTPUTS`), computed by the
  same code as from the runs table, so that the indices are the same;
- ``collapsed_<d>``: truces collapsed within ``d`` days, for every ``d`` the
  charts may ask for (30, 90, 180 and every horizon of the design), so that
  points can be pooled by swept value (:func:`collapse_from_points`);
- ``collapse_share_<d>``, ``collapse_low_<d>``, ``collapse_high_<d>``: the
  summary's shares and 95% Wilson intervals (null beyond the point's horizon);
- ``median_days_held`` (Kaplan–Meier), ``median_collapse_day``;
- ``cause_<origin>``: collapses by cause;
- ``group``: the point's summary record (``summary.json``'s ``groups[]``
  entry) as JSON, exactly what :func:`sim.analysis.summaries.summarize`
  computes from the runs, so that a sweep summarised from its points equals
  one summarised from its runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.analysis.grouping import By, by_list, iter_groups, swept_columns, union_columns
from sim.analysis.intervals import wilson
from sim.analysis.jsonable import plain, to_jsonable
from sim.analysis.sensitivity import point_means
from sim.analysis.shares import CAUSE_COLUMNS, COLLAPSE_COLUMNS, DEFAULT_HORIZONS, collapsed_counts
from sim.analysis.summaries import GROUP_COLUMNS, SUMMARY_VERSION, group_summary
from sim.analysis.survival import SURVIVAL_COLUMNS
from sim.scenario.schema import ORIGINS

LEVEL = 0.95
"""Confidence level of the intervals stored per point."""

KEY_COLUMNS: tuple[str, ...] = ("task", "arm", "point")
"""The columns that say which point a row is (``task`` names it for ``--resume``)."""


READS: tuple[str, ...] = union_columns(
    GROUP_COLUMNS, COLLAPSE_COLUMNS, SURVIVAL_COLUMNS, CAUSE_COLUMNS, ("days_held",)
)
"""The columns of the runs that :func:`point_row` reads (besides the swept parameters)."""


@dataclass(frozen=True)
class PointReducer:
    """:func:`point_row` with the design's horizons: what a worker calls on each point.

    Picklable (for any engine). ``columns`` tells the worker which columns of
    the runs it needs, so that a point of many chunks is held narrow.
    """

    horizons: tuple[int, ...] = ()
    level: float = LEVEL
    columns: tuple[str, ...] = READS

    def __call__(self, runs: pd.DataFrame, task: str) -> dict[str, Any]:
        """The point's aggregates (:func:`point_row`)."""
        return point_row(runs, task, self.horizons, self.level)


def chart_horizons(horizons: Sequence[int]) -> list[int]:
    """The days with a ``collapsed_<d>`` column: 30, 90, 180 and the design's horizons.

    Args:
        horizons: every horizon a design point may simulate.
    """
    return sorted({*DEFAULT_HORIZONS, *(int(h) for h in horizons)})


def point_row(
    runs: pd.DataFrame, task: str, horizons: Sequence[int] = (), level: float = LEVEL
) -> dict[str, Any]:
    """One design point's aggregates, from its runs (see the module docstring).

    Args:
        runs: the runs of one point of one arm (columns of ``docs/RESULTS.md``).
        task: the point's name, stored to tell finished points on ``--resume``.
        horizons: every horizon of the design (for the ``collapsed_<d>`` columns).
        level: confidence level of the intervals.

    Returns:
        A flat record of plain values.
    """
    point = plain(runs["point"].iloc[0])
    group = group_summary({"point": point}, runs, DEFAULT_HORIZONS, level)
    means = point_means(runs).iloc[0]
    row: dict[str, Any] = {"task": task, "arm": str(runs["arm"].iloc[0]), "point": point}
    row |= {c: plain(runs[c].iloc[0]) for c in swept_columns(runs)}
    row |= {
        "replicates": group["replicates"],
        "horizon": group["horizon"],
        "collapsed": group["collapsed"],
        "collapse_share": float(means["collapse_share"]),
        "mean_days_held": float(means["mean_days_held"]),
    }
    days = chart_horizons(horizons)
    row |= {f"collapsed_{d}": k for d, k in zip(days, collapsed_counts(runs, days), strict=True)}
    by_day = {r["horizon"]: r for r in group["collapse"]}
    for d in days:
        r = by_day.get(d, {})
        row |= {f"collapse_{k}_{d}": r.get(k) for k in ("share", "low", "high")}
    row |= {
        "median_days_held": group["median_days_held"],
        "median_collapse_day": group["median_collapse_day"],
    }
    counts = {c["cause"]: c["count"] for c in group["causes"]}
    row |= {f"cause_{o}": int(counts.get(o, 0)) for o in ORIGINS}
    row["group"] = json.dumps(to_jsonable(group))
    return to_jsonable(row)


def summarize_points(
    points: pd.DataFrame | Iterable[pd.DataFrame], level: float = LEVEL
) -> dict[str, Any]:
    """The summary (``summary.json``) of a sweep with one arm, from its points table.

    Equal to :func:`sim.analysis.summaries.summarize` of the sweep's runs with
    ``by="point"``: each group is the record the worker computed from the
    point's runs, in point order.

    Args:
        points: the points table (``point`` and ``group``), or its pieces one after
            another (a stored sweep's batches): each piece's groups are parsed and its
            text let go before the next is read, so the driver never holds every
            point's text and its parsed record at once (issue 14: 10,000 points'
            text was ~40 MB at the end of a sweep).
        level: the intervals' confidence level.
    """
    pieces = [points] if isinstance(points, pd.DataFrame) else points
    parsed: list[tuple[int, Any]] = []
    for piece in pieces:
        # each group was made JSON-ready in its worker (point_row): parsed once, not copied
        # again (a copy of 10,000 groups would cost the driver tens of MB); a piece's
        # groups in one document, so that they share their keys' strings (the parser
        # makes each key once a document: 10,000 groups held 42.5 MB parsed one by one,
        # 32.4 MB a piece at a time; benchmarks/README.md, session 9)
        groups = json.loads("[" + ",".join(piece["group"]) + "]")
        parsed += zip(piece["point"].tolist(), groups, strict=True)
        del piece, groups
    parsed.sort(key=lambda item: item[0])  # stable: the points in order
    summary = to_jsonable(
        {
            "summary_version": SUMMARY_VERSION,
            "by": "point",
            "level": level,
            "horizons": [int(h) for h in DEFAULT_HORIZONS],
            "groups": [],
            "comparisons": [],
        }
    )
    summary["groups"] = [group for _, group in parsed]
    return summary


def collapse_from_points(
    points: pd.DataFrame,
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    by: By = "point",
    level: float = LEVEL,
) -> pd.DataFrame:
    """:func:`sim.analysis.shares.collapse_by_horizon` from a points table.

    Points with the same values of ``by`` are pooled (their counts added), as
    their truces would be in the runs table; a group's horizon is the longest
    of its points'. A horizon without a ``collapsed_<d>`` column is skipped.

    Returns:
        One row per group and horizon: ``[*by, horizon, n, collapsed, share, low, high]``.
    """
    out = []
    for key, rows in iter_groups(points, by):
        simulated = int(rows["horizon"].max())
        n = int(rows["replicates"].sum())
        for h in sorted({int(h) for h in horizons if h <= simulated} | {simulated}):
            column = f"collapsed_{h}"
            if column not in rows.columns:
                continue
            k = int(rows[column].sum())
            share, low, high = wilson(k, n, level)
            out.append(
                {**key, "horizon": h, "n": n, "collapsed": k}
                | {"share": share, "low": low, "high": high}
            )
    columns = [*by_list(by), "horizon", "n", "collapsed", "share", "low", "high"]
    return pd.DataFrame(out, columns=columns)


def is_points(table: pd.DataFrame) -> bool:
    """Whether ``table`` is a points table (one row per design point), not runs."""
    return "group" in table.columns and "replicates" in table.columns
