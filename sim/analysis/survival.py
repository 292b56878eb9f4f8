"""Kaplan–Meier survival of days held: step tables with bands, and medians.

A collapse is the event; a truce still holding at the horizon is
right-censored there. The median of the summary (:func:`median_days_held`)
and the step table with its confidence bands (:func:`survival`, for charts
and reports) are the product-limit estimate and Greenwood's variance in closed
form with NumPy, so that neither a summary nor a report imports
:mod:`scipy.stats` (about half a second); ``tests/test_analysis.py`` checks
both against ``scipy.stats.ecdf`` to 1e-9.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.grouping import By, by_list, group_horizon, iter_groups
from sim.analysis.intervals import z_quantile
from sim.analysis.shares import collapse_days

SURVIVAL_COLUMNS: tuple[str, ...] = ("horizon", "collapsed", "days_held")
"""Columns :func:`survival` and :func:`median_days_held` need besides the grouping ones."""


def number_at_risk(sorted_held: np.ndarray, times: Any) -> np.ndarray:
    """Truces still at risk at the start of each of ``times``: those with ``days_held >= t``.

    Args:
        sorted_held: days held per truce, sorted ascending.
        times: the days (a scalar or an array).
    """
    return len(sorted_held) - np.searchsorted(sorted_held, times, side="left")


def _product_limit(held: np.ndarray, collapsed: np.ndarray) -> tuple[np.ndarray, ...]:
    """Kaplan–Meier at every distinct day a truce collapsed or was censored.

    The steps of ``scipy.stats.ecdf`` on right-censored data, with the same
    operations in the same order (so the same values to the last bit).

    Returns:
        ``(days, survival, at_risk, collapses)``, one entry per distinct day.
    """
    times = np.concatenate((held[collapsed], held[~collapsed]))
    died = np.concatenate((np.ones(collapsed.sum(), int), np.zeros((~collapsed).sum(), int)))
    order = np.argsort(times)
    times, died = times[order], died[order]
    at_risk = np.arange(times.size, 0, -1)
    edges = np.diff(times, prepend=-np.inf, append=np.inf) > 0
    first, last = edges[:-1], edges[1:]
    n = at_risk[first]
    d = np.diff(np.cumsum(died)[last], prepend=0)
    return times[first], np.cumprod((n - d) / n), n, d


def _km_interval(
    sf: np.ndarray, n: np.ndarray, d: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval of a Kaplan–Meier curve.

    Log-log (Kalbfleisch–Prentice, "exponential Greenwood") where it is
    defined; where it is not (survival exactly 1 or 0) the linear Greenwood
    interval, and where that is undefined too, the estimate itself. The
    formulas of ``scipy.stats`` (``EmpiricalDistributionFunction.confidence_interval``).
    """
    z = z_quantile(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(d / (n * (n - d)))
        se_loglog = np.sqrt(1 / np.log(sf) ** 2 * greenwood)
        loglog = np.log(-np.log(sf))
        low = np.exp(-np.exp(loglog + z * se_loglog))
        high = np.exp(-np.exp(loglog - z * se_loglog))
        se_linear = np.sqrt(sf**2 * greenwood)
        low = np.where(np.isnan(low), sf - z * se_linear, low)
        high = np.where(np.isnan(high), sf + z * se_linear, high)
    low = np.clip(np.where(np.isnan(low), sf, low), 0.0, 1.0)
    high = np.clip(np.where(np.isnan(high), sf, high), 0.0, 1.0)
    return low, high


def _survival_steps(rows: pd.DataFrame, level: float) -> pd.DataFrame:
    """Kaplan–Meier step table of one group, from day 0 to its horizon."""
    held_days = rows["days_held"].to_numpy(dtype=float)
    days, sf, n, d = _product_limit(held_days, rows["collapsed"].to_numpy(dtype=bool))
    low, high = _km_interval(sf, n, d, level)
    held = np.sort(held_days.astype(int))
    table = pd.DataFrame(
        {"day": days.astype(int), "survival": sf, "low": low, "high": high, "at_risk": n}
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
    right-censored there. The estimate and its band are those of
    ``scipy.stats.ecdf`` on ``scipy.stats.CensoredData`` (computed here with
    NumPy): the band is the log-log interval (linear where log-log is undefined).

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
    days = collapse_days(runs)
    days = days[days < np.inf]  # NumPy's median, as pandas' (which skips missing days)
    return float(np.median(days)) if days.size else math.nan
