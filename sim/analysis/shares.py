"""Shares of truces: collapsed within each horizon, and by cause among those that collapsed.

Each share comes with its Wilson interval (:func:`sim.analysis.intervals.wilson`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.grouping import By, by_list, group_horizon, iter_groups
from sim.analysis.intervals import wilson
from sim.scenario.schema import (
    ORIGINS,  # the origins a violation (and a collapse) can have, in order
)

DEFAULT_HORIZONS: tuple[int, ...] = (30, 90, 180)
"""Days after the start of a truce at which collapse shares are reported."""

COLLAPSE_COLUMNS: tuple[str, ...] = ("horizon", "collapsed", "collapse_day")
"""Columns :func:`collapse_by_horizon` needs besides the grouping ones."""

CAUSE_COLUMNS: tuple[str, ...] = ("collapsed", "cause")
"""Columns :func:`cause_shares` needs besides the grouping ones."""


def collapse_days(rows: pd.DataFrame) -> np.ndarray:
    """Each truce's day of collapse, infinite where it did not collapse (or has no day).

    A truce collapsed within ``h`` days where this is at most ``h``
    (:func:`collapsed_mask`): read once, it answers every horizon.

    Args:
        rows: runs (columns ``collapsed`` and ``collapse_day``).

    Returns:
        A float array in the rows' order.
    """
    day = rows["collapse_day"].to_numpy(dtype=float, na_value=np.nan)  # any integer dtype
    collapsed = rows["collapsed"].to_numpy(dtype=bool) & ~np.isnan(day)
    return np.where(collapsed, day, np.inf)


def collapsed_mask(rows: pd.DataFrame, horizon: int) -> np.ndarray:
    """Which truces collapsed within ``horizon`` days (``collapsed`` and ``collapse_day <= h``).

    Args:
        rows: runs (columns ``collapsed`` and ``collapse_day``).
        horizon: days after the start of the truce.

    Returns:
        A boolean array in the rows' order.
    """
    return collapse_days(rows) <= horizon


def collapsed_within(rows: pd.DataFrame, horizon: int) -> int:
    """How many truces collapsed within ``horizon`` days (see :func:`collapsed_mask`).

    Args:
        rows: runs (columns ``collapsed`` and ``collapse_day``).
        horizon: days after the start of the truce.
    """
    return collapsed_counts(rows, [horizon])[0]


def collapsed_counts(rows: pd.DataFrame, horizons: Sequence[int]) -> list[int]:
    """:func:`collapsed_within` of each horizon, the rows read once.

    Args:
        rows: runs (columns ``collapsed`` and ``collapse_day``).
        horizons: days after the start of the truce.
    """
    days = collapse_days(rows)
    return [int(np.count_nonzero(days <= h)) for h in horizons]


def collapse_by_horizon(
    runs: pd.DataFrame,
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    by: By = "arm",
    level: float = 0.95,
) -> pd.DataFrame:
    """Share of truces collapsed within each horizon, with Wilson intervals.

    A truce counts as collapsed within ``h`` days when ``collapsed`` and
    ``collapse_day <= h``. The runs' own horizon (column ``horizon``) is always
    added. A requested horizon longer than the days simulated is skipped: a
    truce still holding at the end is censored there, so its fate by a later
    day is unknown and the share would be understated.

    Args:
        runs: the runs table.
        horizons: days after the start of the truce.
        by: grouping column(s).
        level: confidence level of the Wilson intervals.

    Returns:
        One row per group and horizon: ``[*by, horizon, n, collapsed, share,
        low, high]``.
    """
    out = [
        {**key, **row}
        for key, rows in iter_groups(runs, by)
        for row in collapse_rows(rows, horizons, level)
    ]
    columns = [*by_list(by), "horizon", "n", "collapsed", "share", "low", "high"]
    return pd.DataFrame(out, columns=columns)


def collapse_rows(
    rows: pd.DataFrame, horizons: Sequence[int], level: float
) -> list[dict[str, Any]]:
    """Collapse shares of one group (see :func:`collapse_by_horizon`).

    Args:
        rows: the runs of one group.
        horizons: days after the start of the truce; the group's horizon is
            added and longer ones are skipped.
        level: confidence level of the Wilson intervals.

    Returns:
        One record per horizon: ``horizon``, ``n``, ``collapsed``, ``share``,
        ``low``, ``high``.
    """
    simulated = group_horizon(rows)
    days = sorted({int(h) for h in horizons if h <= simulated} | {simulated})
    out = []
    for h, k in zip(days, collapsed_counts(rows, days), strict=True):
        share, low, high = wilson(k, len(rows), level)
        out.append(
            {"horizon": h, "n": len(rows), "collapsed": k, "share": share, "low": low, "high": high}
        )
    return out


def cause_shares(runs: pd.DataFrame, by: By = "arm", level: float = 0.95) -> pd.DataFrame:
    """Share of each cause among the truces that collapsed, per group.

    Args:
        runs: the runs table.
        by: grouping column(s).
        level: confidence level of the Wilson intervals.

    Returns:
        ``[*by, cause, count, collapsed, share, low, high]``: every origin in
        :data:`ORIGINS` order (zero counts included), then any other cause
        found. ``share`` is NaN for a group in which nothing collapsed.
    """
    found = runs.loc[runs["collapsed"].astype(bool), "cause"].dropna().unique()
    causes = list(ORIGINS) + sorted(str(c) for c in found if c not in ORIGINS)
    out = [
        {**key, **row}
        for key, rows in iter_groups(runs, by)
        for row in cause_rows(rows, causes, level)
    ]
    columns = [*by_list(by), "cause", "count", "collapsed", "share", "low", "high"]
    return pd.DataFrame(out, columns=columns)


def cause_rows(rows: pd.DataFrame, causes: Sequence[str], level: float) -> list[dict[str, Any]]:
    """Cause shares of one group (see :func:`cause_shares`).

    Args:
        rows: the runs of one group.
        causes: the causes to report, in order (zero counts included).
        level: confidence level of the Wilson intervals.

    Returns:
        One record per cause: ``cause``, ``count``, ``collapsed`` (the
        group's collapses), ``share``, ``low``, ``high``.
    """
    collapsed = rows["collapsed"].astype(bool)
    counts = rows.loc[collapsed, "cause"].value_counts()
    total = int(collapsed.sum())
    out = []
    for cause in causes:
        k = int(counts.get(cause, 0))
        share, low, high = wilson(k, total, level)
        out.append(
            {"cause": cause, "count": k, "collapsed": total, "share": share}
            | {"low": low, "high": high}
        )
    return out
