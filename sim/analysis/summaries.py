"""The summary of a results set (``summary.json``, ``--json``) and what reads it.

:func:`summarize` puts together, per arm or design point, the collapse shares
(:mod:`sim.analysis.shares`), the Kaplan–Meier medians
(:mod:`sim.analysis.survival`) and the causes of collapse, and compares each
arm with the first (:mod:`sim.analysis.comparisons`). It needs only the
columns in :data:`SUMMARY_COLUMNS` (plus any swept parameters), which each of
those parts declares, so that a caller can read those alone and keep memory
flat; and it does not import :mod:`scipy.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from sim.analysis.comparisons import PAIR_COLUMNS, compare_arms
from sim.analysis.grouping import group_horizon, iter_groups, swept_columns, union_columns
from sim.analysis.jsonable import plain, to_jsonable
from sim.analysis.shares import (
    CAUSE_COLUMNS,
    COLLAPSE_COLUMNS,
    DEFAULT_HORIZONS,
    cause_rows,
    collapse_rows,
)
from sim.analysis.survival import SURVIVAL_COLUMNS, median_collapse_day, median_days_held

SUMMARY_VERSION = 1
"""The version of the layout of :func:`summarize`'s dictionary."""

GROUP_COLUMNS: tuple[str, ...] = ("arm", "point")
"""The groups a summary is by: arms, design points, or both in a crossed design."""

SUMMARY_COLUMNS: tuple[str, ...] = union_columns(
    GROUP_COLUMNS, PAIR_COLUMNS, COLLAPSE_COLUMNS, SURVIVAL_COLUMNS, CAUSE_COLUMNS
)
"""Columns :func:`summarize` needs (besides the swept parameters, by their dotted
paths): the groups, the keys that pair the arms' truces (common random numbers:
without them the comparisons fall back to independent-samples intervals), and
what the collapse shares, the survival medians and the causes read."""


def group_summary(key: dict, rows: pd.DataFrame, horizons: Sequence[int], level: float) -> dict:
    """The summary record of one group (an arm or a design point): ``summary.json``'s ``groups[]``.

    Args:
        key: the group's name, e.g. ``{"point": 3}``.
        rows: the group's runs.
        horizons: days for the collapse shares.
        level: confidence level of every interval.
    """
    found = rows.loc[rows["collapsed"].astype(bool), "cause"].dropna().unique()
    causes = [c for c in cause_rows(rows, sorted(map(str, found)), level) if c["count"] > 0]
    causes.sort(key=lambda c: (-c["count"], c["cause"]))
    median = median_days_held(rows)
    params = {c: plain(rows[c].iloc[0]) for c in swept_columns(rows) if rows[c].nunique() == 1}
    return {
        **key,
        "replicates": len(rows),
        "horizon": group_horizon(rows),
        **({"parameters": params} if params else {}),
        "collapsed": int(rows["collapsed"].astype(bool).sum()),
        "collapse": collapse_rows(rows, horizons, level),
        "median_days_held": median,
        "median_days_held_reached": not math.isnan(median),
        "median_collapse_day": median_collapse_day(rows),
        "causes": [{k: c[k] for k in ("cause", "count", "share", "low", "high")} for c in causes],
    }


def summarize(
    runs: pd.DataFrame,
    by: str = "arm",
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    level: float = 0.95,
    order: Sequence[Any] | None = None,
    arms: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The JSON summary of a results set (``summary.json``, ``--json``).

    Args:
        runs: the runs table.
        by: ``"arm"`` or ``"point"``.
        horizons: days for the collapse shares (the runs' horizon is added;
            longer ones are skipped, see
            :func:`~sim.analysis.shares.collapse_by_horizon`).
        level: confidence level of every interval.
        order: the groups in the order to report them (e.g. the arms as the
            scenario lists them); by default arms keep their order of
            appearance and points are sorted. The first arm is the reference
            of the comparisons.
        arms: with ``by="point"``, the arms of a crossed design (a sweep run
            under each arm of a ``compare:`` block), in the scenario's order;
            the first is the reference. Groups are then (point, arm) pairs and
            the arms are compared at each design point.

    Returns:
        ``{"summary_version", "by", "level", "horizons", "groups",
        "comparisons"}``. Each group has ``replicates``, ``horizon``,
        ``collapsed``, ``collapse`` (per horizon: ``n``, ``collapsed``,
        ``share``, ``low``, ``high``), ``median_days_held`` (Kaplan–Meier,
        null when survival never reached 0.5) with
        ``median_days_held_reached``, ``median_collapse_day`` (among collapsed)
        and ``causes`` (share of collapses, most common first); in a sweep also
        ``parameters``. With two or more arms, ``comparisons`` holds each arm
        compared with the first (:func:`compare_arms`). A crossed design adds
        ``arms``; each group then has ``point`` and ``arm``, and
        ``comparisons`` holds, for every design point, each arm compared with
        the first there, with that ``point`` and its ``parameters``. Only
        plain JSON types.
    """
    if by == "point" and arms is not None and len(arms) >= 2:
        return _summarize_crossed(runs, list(arms), horizons, level)
    groups = [group_summary(key, rows, horizons, level) for key, rows in iter_groups(runs, by)]
    if order is not None:
        rank = {plain(v): i for i, v in enumerate(order)}
        groups.sort(key=lambda g: rank.get(g[by], len(rank)))
    comparisons = []
    if by == "arm" and len(groups) >= 2:
        ref = groups[0][by]
        comparisons = [
            compare_arms(runs, ref, g[by], by=by, horizons=horizons, level=level).to_dict()
            for g in groups[1:]
        ]
    return _summary(by, level, horizons, groups, comparisons)


def _summarize_crossed(
    runs: pd.DataFrame, arms: list[str], horizons: Sequence[int], level: float
) -> dict[str, Any]:
    """:func:`summarize` of a crossed design: groups per (point, arm), arms compared per point."""
    rank = {a: i for i, a in enumerate(arms)}
    groups, comparisons = [], []
    for point, rows in runs.groupby("point", sort=True):
        found = [a for a in arms if (rows["arm"] == a).any()]
        here = [
            group_summary(key, arm_rows, horizons, level)
            for key, arm_rows in iter_groups(rows, ["point", "arm"])
        ]
        here.sort(key=lambda g: rank.get(g["arm"], len(rank)))
        groups += here
        params = here[0].get("parameters", {})
        for b in found[1:]:
            c = compare_arms(rows, found[0], b, by="arm", horizons=horizons, level=level)
            comparisons.append({"point": plain(point), "parameters": params, **c.to_dict()})
    return _summary("point", level, horizons, groups, comparisons, arms=arms)


def _summary(
    by: str,
    level: float,
    horizons: Sequence[int],
    groups: list[dict],
    comparisons: list[dict],
    arms: list[str] | None = None,
) -> dict[str, Any]:
    """The outer dictionary of :func:`summarize` (``arms`` only for a crossed design)."""
    return to_jsonable(
        {
            "summary_version": SUMMARY_VERSION,
            "by": by,
            **({"arms": arms} if arms is not None else {}),
            "level": level,
            "horizons": [int(h) for h in horizons],
            "groups": groups,
            "comparisons": comparisons,
        }
    )


def parameter_names(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The swept parameters of summary groups or comparisons, in order of first appearance.

    Args:
        records: ``summary["groups"]`` or ``summary["comparisons"]``.
    """
    return list(dict.fromkeys(k for r in records for k in (r.get("parameters") or {})))


def summary_horizons(groups: Iterable[Mapping[str, Any]]) -> list[int]:
    """Every horizon of the groups' collapse shares, ascending.

    Args:
        groups: ``summary["groups"]``.
    """
    return sorted({r["horizon"] for g in groups for r in g["collapse"]})
