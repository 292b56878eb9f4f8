"""Kaplan–Meier survival of days held: step tables with bands, and medians.

A collapse is the event; a truce still holding at the horizon is
right-censored there. The median of the summary (:func:`median_days_held`)
is the product-limit estimate in closed form with NumPy, so that a summary
does not import :mod:`scipy.stats`; ``tests/test_analysis.py`` checks it
against ``scipy.stats.ecdf`` to 1e-9. The step table with its confidence
bands (:func:`survival`, for charts and reports) is ``scipy.stats.ecdf``,
imported when it is called.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.grouping import By, by_list, group_horizon, iter_groups

if TYPE_CHECKING:
    from scipy import stats

SURVIVAL_COLUMNS: tuple[str, ...] = ("horizon", "collapsed", "days_held")
"""Columns :func:`survival` and :func:`median_days_held` need besides the grouping ones."""


def number_at_risk(sorted_held: np.ndarray, times: Any) -> np.ndarray:
    """Truces still at risk at the start of each of ``times``: those with ``days_held >= t``.

    Args:
        sorted_held: days held per truce, sorted ascending.
        times: the days (a scalar or an array).
    """
    return len(sorted_held) - np.searchsorted(sorted_held, times, side="left")


def _censored(rows: pd.DataFrame) -> stats.CensoredData:
    """Days held as right-censored data: collapses are events, the rest censored."""
    from scipy import stats

    held = rows["days_held"].to_numpy(dtype=float)
    collapsed = rows["collapsed"].to_numpy(dtype=bool)
    return stats.CensoredData(uncensored=held[collapsed], right=held[~collapsed])


def _km_interval(sf: Any, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval of a Kaplan–Meier curve.

    Log-log (Kalbfleisch–Prentice) where it is defined; where it is not
    (survival exactly 1 or 0) the linear Greenwood interval, and where that
    is undefined too, the estimate itself.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            loglog = sf.confidence_interval(confidence_level=level, method="log-log")
            low, high = loglog.low.probabilities, loglog.high.probabilities
        except (ValueError, ZeroDivisionError, FloatingPointError):
            low = high = np.full_like(sf.probabilities, np.nan)
        linear = sf.confidence_interval(confidence_level=level, method="linear")
    point = sf.probabilities
    low = np.where(np.isnan(low), linear.low.probabilities, low)
    high = np.where(np.isnan(high), linear.high.probabilities, high)
    low = np.clip(np.where(np.isnan(low), point, low), 0.0, 1.0)
    high = np.clip(np.where(np.isnan(high), point, high), 0.0, 1.0)
    return low, high


def _survival_steps(rows: pd.DataFrame, level: float) -> pd.DataFrame:
    """Kaplan–Meier step table of one group, from day 0 to its horizon."""
    from scipy import stats

    sf = stats.ecdf(_censored(rows)).sf
    low, high = _km_interval(sf, level)
    days = sf.quantiles.astype(int)
    held = np.sort(rows["days_held"].to_numpy(dtype=int))
    at_risk = number_at_risk(held, days)
    table = pd.DataFrame(
        {"day": days, "survival": sf.probabilities, "low": low, "high": high, "at_risk": at_risk}
    )
    start = pd.DataFrame(
        {"day": [0], "survival": [1.0], "low": [1.0], "high": [1.0], "at_risk": [len(held)]}
    )
    table = pd.concat([start, table], ignore_index=True)
    horizon = group_horizon(rows)
    if table["day"].iloc[-1] < horizon:
        last = table.iloc[[-1]].assign(day=horizon, at_risk=int((held >= horizon).sum()))
        table = pd.concat([table, last], ignore_index=True)
    return table


def survival(runs: pd.DataFrame, by: By = "arm", level: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier survival of ``days_held`` per group, with confidence bands.

    A collapse is the event; a truce still holding at the horizon is
    right-censored there. The estimate is ``scipy.stats.ecdf`` on
    ``scipy.stats.CensoredData``; the band is its log-log interval (linear
    where log-log is undefined).

    Args:
        runs: the runs table.
        by: grouping column(s).
        level: confidence level of the band.

    Returns:
        A step table ``[*by, day, survival, low, high, at_risk]``: one row for
        day 0 (survival 1), one per day on which a truce collapsed or was
        censored, and one for the horizon. ``survival`` holds from that day
        until the next row's day; ``at_risk`` is the number of truces still
        holding at the start of that day.
    """
    parts = [_survival_steps(rows, level).assign(**key) for key, rows in iter_groups(runs, by)]
    columns = [*by_list(by), "day", "survival", "low", "high", "at_risk"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def kaplan_meier(held: np.ndarray, collapsed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier (product-limit) survival at each distinct collapse day.

    At each day ``t`` on which some truce collapsed, ``n(t)`` truces are at
    risk (those with ``days_held >= t``: a truce censored on day ``t`` is
    still at risk on that day and leaves the risk set after it, the usual
    convention and that of ``scipy.stats.ecdf``) and ``d(t)`` collapse;
    ``S(t) = prod over s <= t of (n(s) − d(s)) / n(s)``. The factors and their
    product are taken in the same order as ``scipy.stats.ecdf``, so the values
    agree to the last bit (censoring-only days contribute a factor of exactly 1).

    Args:
        held: days held per truce.
        collapsed: whether each truce collapsed (else censored at ``held``).

    Returns:
        ``(days, survival)``: the distinct collapse days, ascending, and the
        estimated survival on each (empty when nothing collapsed).
    """
    held = np.asarray(held, dtype=float)
    collapsed = np.asarray(collapsed, dtype=bool)
    days, deaths = np.unique(held[collapsed], return_counts=True)
    at_risk = number_at_risk(np.sort(held), days)
    return days, np.cumprod((at_risk - deaths) / at_risk)


def median_days_held(runs: pd.DataFrame) -> float:
    """Kaplan–Meier median of days held, for one group.

    The median is the first day on which the estimated survival
    (:func:`kaplan_meier`) is 0.5 or less, as ``scipy.stats.ecdf`` would give.

    Args:
        runs: the rows of one arm or design point.

    Returns:
        The day, or NaN when survival never drops to 0.5 within the horizon
        (report it as "more than <horizon> days").
    """
    if runs.empty:
        return math.nan
    held = runs["days_held"].to_numpy(dtype=float)
    days, sf = kaplan_meier(held, runs["collapsed"].to_numpy(dtype=bool))
    reached = np.flatnonzero(sf <= 0.5)
    return float(days[reached[0]]) if reached.size else math.nan


def median_collapse_day(runs: pd.DataFrame) -> float:
    """Median day of collapse among the truces that collapsed (one group).

    Args:
        runs: the rows of one arm or design point.

    Returns:
        The median, or NaN when no truce collapsed.
    """
    days = runs.loc[runs["collapsed"].astype(bool), "collapse_day"].astype(float)
    return float(days.median()) if len(days) else math.nan
