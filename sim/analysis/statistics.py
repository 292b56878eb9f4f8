"""Statistics over result tables: collapse shares, survival curves, comparisons.

Every function here is pure: it takes a ``runs`` table (one row per simulated
truce, columns as in ``docs/RESULTS.md``) and returns a new table or a plain
dictionary.

The summary path (``summarize``: Wilson intervals, the Kaplan–Meier median,
the log-rank test and hazard ratio, Newcombe's difference of shares) is
written here in closed form with NumPy and :mod:`statistics`, so that a
``truce compare`` does not pay for importing :mod:`scipy.stats` (a few tenths
of a second). ``tests/test_analysis.py`` checks each of them against
:mod:`scipy.stats` to 1e-9. The Kaplan–Meier step table with its confidence
bands (:func:`survival`, for charts and reports) is ``scipy.stats.ecdf``,
imported when it is called.

Groups are given by ``by``: usually ``"arm"`` (a comparison) or ``"point"``
(a sweep), or a list of columns (e.g. two swept parameters for a heatmap).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.scenario.schema import (
    ORIGINS,  # the origins a violation (and a collapse) can have, in order
)

if TYPE_CHECKING:
    from scipy import stats

DEFAULT_HORIZONS: tuple[int, ...] = (30, 90, 180)
SUMMARY_VERSION = 1

CAUSE_PHRASES: dict[str, str] = {
    "deliberate": "deliberate violations",
    "loophole": "strikes through loopholes",
    "accident": "accidents",
    "spoiler": "spoiler attacks",
    "indiscipline": "indiscipline (units acting without orders)",
}
"""Plain-language names of the causes of collapse."""

By = str | Sequence[str]


# --------------------------------------------------------------------------- helpers

#: Columns :func:`summarize` needs, so that a caller can read those alone and keep
#: memory flat. ``chunk`` and ``replicate`` are the keys that pair the arms' truces
#: (common random numbers): without them the comparisons would fall back to
#: independent-samples intervals.
SUMMARY_COLUMNS = (
    "arm",
    "point",
    "chunk",
    "replicate",
    "horizon",
    "collapsed",
    "collapse_day",
    "days_held",
    "cause",
)


def _by_list(by: By) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def _iter_groups(runs: pd.DataFrame, by: By) -> Iterator[tuple[dict[str, Any], pd.DataFrame]]:
    """Yield ``({column: value}, rows)`` per group.

    String groups (arms) keep their order of first appearance; numeric groups
    (design points, swept values) are sorted.
    """
    cols = _by_list(by)
    numeric = all(pd.api.types.is_numeric_dtype(runs[c]) for c in cols)
    for key, rows in runs.groupby(cols, sort=numeric, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        yield {c: _plain(v) for c, v in zip(cols, key, strict=True)}, rows


def _plain(value: Any) -> Any:
    """Turn numpy / pandas scalars into plain Python, NaN and NA into None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def to_jsonable(obj: Any) -> Any:
    """Recursively convert a structure to plain JSON types (NaN becomes None).

    Args:
        obj: dicts, lists, tuples, numpy / pandas scalars and arrays.

    Returns:
        The same structure built from dict, list, str, int, float, bool, None.
    """
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray | pd.Series):
        return [to_jsonable(v) for v in obj]
    return _plain(obj)


def _group_horizon(rows: pd.DataFrame) -> int:
    """The days simulated for a group (the censoring time)."""
    return int(rows["horizon"].max())


def _censored(rows: pd.DataFrame) -> stats.CensoredData:
    """Days held as right-censored data: collapses are events, the rest censored."""
    from scipy import stats

    held = rows["days_held"].to_numpy(dtype=float)
    collapsed = rows["collapsed"].to_numpy(dtype=bool)
    return stats.CensoredData(uncensored=held[collapsed], right=held[~collapsed])


def _collapsed_mask(rows: pd.DataFrame, horizon: int) -> np.ndarray:
    day = rows["collapse_day"].astype("Float64").fillna(np.inf).to_numpy(dtype=float)
    return rows["collapsed"].to_numpy(dtype=bool) & (day <= horizon)


def _collapsed_within(rows: pd.DataFrame, horizon: int) -> int:
    return int(_collapsed_mask(rows, horizon).sum())


def _at_risk(sorted_held: np.ndarray, times: Any) -> np.ndarray:
    """Truces still at risk at the start of each of ``times``: those with ``days_held >= t``.

    Args:
        sorted_held: days held per truce, sorted ascending.
        times: the days (a scalar or an array).
    """
    return len(sorted_held) - np.searchsorted(sorted_held, times, side="left")


@functools.lru_cache(maxsize=64)
def _z(level: float) -> float:
    """The two-sided standard normal quantile of a confidence level (1.96 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + level / 2)


# --------------------------------------------------------------------------- intervals


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """Share ``k/n`` with its Wilson score interval.

    Wilson (1927), in the form of Newcombe (1998, *Statistics in Medicine*
    17:857–872, method 3), as ``scipy.stats.binomtest(k, n)
    .proportion_ci(method="wilson")`` computes it: with ``p = k/n`` and ``z``
    the normal quantile of the level, the interval is
    ``(2np + z² ± z·sqrt(z² + 4np(1 − p))) / (2(n + z²))``, with the lower end
    exactly 0 when ``k == 0`` and the upper end exactly 1 when ``k == n``.

    Args:
        k: number of successes (e.g. truces collapsed).
        n: number of trials (truces simulated).
        level: confidence level of the interval.

    Returns:
        ``(share, low, high)``; three NaNs when ``n == 0``.
    """
    if n == 0:
        return (math.nan, math.nan, math.nan)
    return _wilson(int(k), int(n), float(level))


@functools.lru_cache(maxsize=1 << 16)
def _wilson(k: int, n: int, level: float) -> tuple[float, float, float]:
    # Sweeps ask for the same (k, n) many times (every cause, every horizon).
    z = _z(level)
    p = k / n
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * math.sqrt(4 * n * p * (1 - p) + z**2)
    low = 0.0 if k == 0 else center - delta
    high = 1.0 if k == n else center + delta
    return (p, low, high)


def newcombe_difference(
    k_a: int, n_a: int, k_b: int, n_b: int, level: float = 0.95
) -> tuple[float, float, float]:
    """Difference of two shares ``b − a`` with Newcombe's hybrid score interval.

    Newcombe, R. G. (1998), "Interval estimation for the difference between
    independent proportions: comparison of eleven methods", *Statistics in
    Medicine* 17:873–890, method 10: the interval is built from the two
    Wilson intervals ``(l_a, u_a)`` and ``(l_b, u_b)`` as
    ``d − sqrt((p_b − l_b)² + (u_a − p_a)²)`` to
    ``d + sqrt((u_b − p_b)² + (p_a − l_a)²)``.

    Args:
        k_a: successes in group a.
        n_a: trials in group a.
        k_b: successes in group b.
        n_b: trials in group b.
        level: confidence level.

    Returns:
        ``(difference, low, high)``; NaNs when either group is empty.
    """
    p_a, l_a, u_a = wilson(k_a, n_a, level)
    p_b, l_b, u_b = wilson(k_b, n_b, level)
    d = p_b - p_a
    low = d - math.sqrt((p_b - l_b) ** 2 + (u_a - p_a) ** 2)
    high = d + math.sqrt((u_b - p_b) ** 2 + (p_a - l_a) ** 2)
    return (d, low, high)


def newcombe_paired_difference(
    both: int, only_b: int, only_a: int, neither: int, level: float = 0.95
) -> tuple[float, float, float]:
    """Difference ``b − a`` of two shares measured on the same pairs, with Newcombe's interval.

    Under common random numbers replicate ``i`` of arm a and replicate ``i``
    of arm b share their initial state and exogenous draws, so their outcomes
    are positively correlated and the independent-samples interval
    (:func:`newcombe_difference`) is too wide. Newcombe, R. G. (1998),
    "Improved confidence intervals for the difference between binomial
    proportions based on paired data", *Statistics in Medicine* 17:2635–2650,
    method 10: from the Wilson intervals ``(l_b, u_b)`` and ``(l_a, u_a)`` of
    the two margins and the correlation ``φ`` of the paired table,
    ``d − sqrt((p_b − l_b)² − 2φ(p_b − l_b)(u_a − p_a) + (u_a − p_a)²)`` to
    ``d + sqrt((p_a − l_a)² − 2φ(p_a − l_a)(u_b − p_b) + (u_b − p_b)²)``,
    where ``φ = C / sqrt((both + only_b)(only_a + neither)(both + only_a)
    (only_b + neither))`` with ``C = B − n/2`` if ``B = both·neither −
    only_b·only_a > n/2``, ``C = B`` if ``B < 0`` and 0 otherwise (Newcombe's
    continuity adjustment; Altman et al., *Statistics with Confidence*, 2nd
    ed., 2000, p. 52).

    Args:
        both: pairs where the event happened in both arms.
        only_b: pairs where it happened in arm b only.
        only_a: pairs where it happened in arm a only.
        neither: pairs where it happened in neither arm.
        level: confidence level.

    Returns:
        ``(difference, low, high)``; NaNs when there are no pairs.
    """
    n = both + only_b + only_a + neither
    if n == 0:
        return (math.nan, math.nan, math.nan)
    p_b, l_b, u_b = wilson(both + only_b, n, level)
    p_a, l_a, u_a = wilson(both + only_a, n, level)
    margins = (both + only_b) * (only_a + neither) * (both + only_a) * (only_b + neither)
    b = both * neither - only_b * only_a
    c = b - n / 2 if b > n / 2 else (b if b < 0 else 0.0)
    phi = c / math.sqrt(margins) if margins > 0 else 0.0
    d = p_b - p_a
    low = d - math.sqrt(
        max(0.0, (p_b - l_b) ** 2 - 2 * phi * (p_b - l_b) * (u_a - p_a) + (u_a - p_a) ** 2)
    )
    high = d + math.sqrt(
        max(0.0, (p_a - l_a) ** 2 - 2 * phi * (p_a - l_a) * (u_b - p_b) + (u_b - p_b) ** 2)
    )
    return (d, max(-1.0, low), min(1.0, high))


def paired_rows(rows_a: pd.DataFrame, rows_b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Positions that pair the replicates of two groups, or None when they do not pair.

    Two groups pair when they hold the same replicates, each once: the same
    ``(chunk, replicate)`` keys, which under common random numbers means the
    same initial states and exogenous draws.

    Returns:
        ``(positions in rows_a, positions in rows_b)``, both in key order.
    """
    keys = ["chunk", "replicate"]
    if len(rows_a) != len(rows_b) or not all(k in rows_a and k in rows_b for k in keys):
        return None
    order_a = np.lexsort((rows_a["replicate"].to_numpy(), rows_a["chunk"].to_numpy()))
    order_b = np.lexsort((rows_b["replicate"].to_numpy(), rows_b["chunk"].to_numpy()))
    ka = rows_a[keys].to_numpy()[order_a]
    kb = rows_b[keys].to_numpy()[order_b]
    unique = len(ka) < 2 or bool((np.diff(ka, axis=0) != 0).any(axis=1).all())
    if not unique or not np.array_equal(ka, kb):
        return None
    return order_a, order_b


# --------------------------------------------------------------------------- collapse shares


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
        for key, rows in _iter_groups(runs, by)
        for row in _collapse_rows(rows, horizons, level)
    ]
    columns = [*_by_list(by), "horizon", "n", "collapsed", "share", "low", "high"]
    return pd.DataFrame(out, columns=columns)


def _collapse_rows(rows: pd.DataFrame, horizons: Sequence[int], level: float) -> list[dict]:
    """Collapse shares of one group (see :func:`collapse_by_horizon`)."""
    simulated = _group_horizon(rows)
    out = []
    for h in sorted({int(h) for h in horizons if h <= simulated} | {simulated}):
        k = _collapsed_within(rows, h)
        share, low, high = wilson(k, len(rows), level)
        out.append(
            {"horizon": h, "n": len(rows), "collapsed": k, "share": share, "low": low, "high": high}
        )
    return out


# --------------------------------------------------------------------------- survival


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
    at_risk = _at_risk(held, days)
    table = pd.DataFrame(
        {"day": days, "survival": sf.probabilities, "low": low, "high": high, "at_risk": at_risk}
    )
    start = pd.DataFrame(
        {"day": [0], "survival": [1.0], "low": [1.0], "high": [1.0], "at_risk": [len(held)]}
    )
    table = pd.concat([start, table], ignore_index=True)
    horizon = _group_horizon(rows)
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
    parts = [_survival_steps(rows, level).assign(**key) for key, rows in _iter_groups(runs, by)]
    columns = [*_by_list(by), "day", "survival", "low", "high", "at_risk"]
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
    at_risk = _at_risk(np.sort(held), days)
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


# --------------------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class ObservedExpected:
    """Log-rank bookkeeping of two groups: observed and expected events, variance."""

    observed_a: int
    expected_a: float
    observed_b: int
    expected_b: float
    variance: float


def observed_expected(a: pd.DataFrame, b: pd.DataFrame) -> ObservedExpected:
    """Observed and expected collapses of two groups over the pooled risk sets.

    At each day ``t`` on which some truce collapsed, with ``n`` truces at risk
    (``n_a`` of them in group a) and ``d`` collapses, group a expects
    ``d · n_a / n`` of them; the hypergeometric variance of group a's count
    is ``d · (n_a/n) · (n_b/n) · (n − d)/(n − 1)``. Sums over ``t`` give E and V.

    Args:
        a: runs of group a.
        b: runs of group b.

    Returns:
        The counts, expectations and the log-rank variance.
    """
    held_a, held_b = (np.sort(g["days_held"].to_numpy(dtype=float)) for g in (a, b))
    ev_a = a.loc[a["collapsed"].astype(bool), "days_held"].to_numpy(dtype=float)
    ev_b = b.loc[b["collapsed"].astype(bool), "days_held"].to_numpy(dtype=float)
    times, d = np.unique(np.concatenate([ev_a, ev_b]), return_counts=True)
    n_a, n_b = _at_risk(held_a, times), _at_risk(held_b, times)
    n = n_a + n_b
    expected_a = float(np.sum(d * n_a / n))
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(n > 1, d * (n_a / n) * (n_b / n) * (n - d) / (n - 1), 0.0)
    return ObservedExpected(
        observed_a=len(ev_a),
        expected_a=expected_a,
        observed_b=len(ev_b),
        expected_b=float(d.sum()) - expected_a,
        variance=float(v.sum()),
    )


@dataclass(frozen=True)
class Comparison:
    """Two groups compared: log-rank test, hazard ratio, differences of shares."""

    by: str
    a: Any
    b: Any
    n_a: int
    n_b: int
    level: float
    logrank_statistic: float
    logrank_p: float
    observed_a: int
    expected_a: float
    observed_b: int
    expected_b: float
    hazard_ratio: float
    hazard_ratio_low: float
    hazard_ratio_high: float
    differences: list[dict[str, Any]] = field(default_factory=list)
    paired: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (NaN becomes None)."""
        return to_jsonable(asdict(self))


def logrank_scores(a: pd.DataFrame, b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each truce's contribution to the log-rank score ``O_a − E_a``.

    For truce ``i`` with days held ``T_i``, collapse indicator ``δ_i`` and
    ``g_i = 1`` in group a (0 in b), over the collapse days ``t_j`` with
    ``d_j`` collapses, ``n_j`` truces at risk and a share ``ā_j`` of them in
    group a::

        w_i = δ_i (g_i − ā(T_i)) − Σ_{t_j ≤ T_i} (g_i − ā_j) d_j / n_j

    (the log-rank score written as a sum of martingale residuals; Lin & Wei,
    "The robust inference for the Cox proportional hazards model", *JASA* 84,
    1989). The contributions sum to ``O_a − E_a`` exactly.

    Returns:
        The contributions of the truces of a and of b, in the tables' row order.
    """
    held = np.concatenate([g["days_held"].to_numpy(dtype=float) for g in (a, b)])
    collapsed = np.concatenate([g["collapsed"].to_numpy(dtype=bool) for g in (a, b)])
    in_a = np.r_[np.ones(len(a)), np.zeros(len(b))]
    times, d = np.unique(held[collapsed], return_counts=True)
    at_risk = _at_risk(np.sort(held), times)
    share_a = _at_risk(np.sort(held[: len(a)]), times) / at_risk
    hazard = d / at_risk
    k = np.searchsorted(times, held, side="right")  # collapse days up to T_i
    cum = np.r_[0.0, np.cumsum(hazard)][k]
    cum_a = np.r_[0.0, np.cumsum(share_a * hazard)][k]
    own = np.where(collapsed, np.r_[0.0, share_a][k], 0.0)
    w = collapsed * (in_a - own) - (in_a * cum - cum_a)
    return w[: len(a)], w[len(a) :]


def paired_logrank_variance(
    a: pd.DataFrame, b: pd.DataFrame, pairs: tuple[np.ndarray, np.ndarray]
) -> float:
    """Variance of the log-rank score when the truces of a and b come in pairs.

    Common random numbers pair replicate ``i`` of two arms, so their
    contributions to the score are correlated and the hypergeometric variance
    of :func:`observed_expected` (which treats all truces as independent)
    overstates the score's variance. The robust variance sums the squared
    contribution of each pair, ``Σ_k (w_{a,k} + w_{b,k})²`` (the log-rank test
    for clustered survival data: Jung & Jeong, "Rank tests for clustered
    survival data", *Lifetime Data Analysis* 9, 2003; Lin & Wei 1989).

    Args:
        a: runs of group a.
        b: runs of group b.
        pairs: positions pairing the rows of a and b (:func:`paired_rows`).
    """
    w_a, w_b = logrank_scores(a, b)
    return float(np.sum((w_a[pairs[0]] + w_b[pairs[1]]) ** 2))


def logrank_test(oe: ObservedExpected) -> tuple[float, float]:
    """The two-sided log-rank test from the pooled-risk-set bookkeeping.

    ``z = (O_a − E_a) / sqrt(V)``; ``z²`` is the log-rank chi-square with one
    degree of freedom, whose upper tail is ``erfc(sqrt(z²/2)) = erfc(|z|/√2)``.
    ``z`` is what ``scipy.stats.logrank(x=a, y=b).statistic`` returns (the
    square root of the chi-square, signed: positive when group a collapses
    more than expected), and the p-value is the same.

    Args:
        oe: observed and expected collapses and the variance
            (:func:`observed_expected`).

    Returns:
        ``(z, p)``; NaNs when the variance is 0 (no collapse, or none with two
        or more truces at risk), where the statistic is 0/0.
    """
    if not oe.variance > 0:
        return (math.nan, math.nan)
    z = (oe.observed_a - oe.expected_a) / math.sqrt(oe.variance)
    return (z, math.erfc(abs(z) / math.sqrt(2)))


def _hazard_ratio(
    oe: ObservedExpected, level: float, scale: float = 1.0
) -> tuple[float, float, float]:
    """Log-rank (Peto) hazard ratio b vs a with its interval.

    ``scale`` multiplies the standard error of log HR: for paired replicates,
    the square root of the robust over the hypergeometric variance of the score.
    """
    if min(oe.expected_a, oe.expected_b) <= 0 or oe.observed_a == 0:
        return (math.nan, math.nan, math.nan)
    hr = (oe.observed_b / oe.expected_b) / (oe.observed_a / oe.expected_a)
    if oe.observed_b == 0:
        return (hr, math.nan, math.nan)
    half = _z(level) * scale * math.sqrt(1 / oe.expected_a + 1 / oe.expected_b)
    return (hr, hr * math.exp(-half), hr * math.exp(half))


def compare_arms(
    runs: pd.DataFrame,
    a: Any,
    b: Any,
    by: str = "arm",
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    level: float = 0.95,
) -> Comparison:
    """Compare group ``b`` with group ``a`` (the reference).

    - Log-rank test of the two survival curves, two-sided
      (:func:`logrank_test`; the same statistic and p-value as
      ``scipy.stats.logrank``).
    - Hazard ratio of b vs a by the log-rank estimator
      ``HR = (O_b/E_b) / (O_a/E_a)`` with interval
      ``exp(log HR ± z·sqrt(1/E_a + 1/E_b))``, where O and E are observed and
      expected collapses over the pooled risk sets (:func:`observed_expected`).
      scipy has no Cox model; this is the standard estimator that goes with
      the log-rank test (Peto et al. 1977, *Br J Cancer* 35:1–39; Machin,
      Cheung & Parmar, *Survival Analysis: A Practical Approach*, 2nd ed.,
      2006, §5.2). It is close to the Cox estimate when the hazard ratio is
      moderate (roughly 1/3 to 3).
    - Difference of collapse shares (b − a) within each horizon that both
      groups simulated, with Newcombe's interval for paired data when the
      groups hold the same replicates (common random numbers pair them:
      :func:`newcombe_paired_difference`), else his hybrid score interval
      for independent samples (:func:`newcombe_difference`).
    - With paired replicates, the log-rank test and the hazard ratio's
      interval use the robust variance of the score over the pairs
      (:func:`paired_logrank_variance`) instead of the hypergeometric one,
      which treats the groups as independent (see ``docs/RESULTS.md``).

    Args:
        runs: the runs table.
        a: the reference group's value in column ``by``.
        b: the other group's value.
        by: the grouping column.
        horizons: days for the differences of shares.
        level: confidence level of every interval.

    Returns:
        A :class:`Comparison`; ``.to_dict()`` gives plain JSON.

    Raises:
        KeyError: if either group has no rows.
    """
    rows_a, rows_b = runs[runs[by] == a], runs[runs[by] == b]
    for name, rows in ((a, rows_a), (b, rows_b)):
        if rows.empty:
            raise KeyError(f"no runs with {by} == {name!r}")
    oe = observed_expected(rows_a, rows_b)
    pairs = paired_rows(rows_a, rows_b)
    if pairs is not None and oe.variance > 0:
        # Paired replicates: the score's robust variance replaces the hypergeometric one
        # in the test, and scales the hazard ratio's interval by the same factor.
        paired = replace(oe, variance=paired_logrank_variance(rows_a, rows_b, pairs))
        statistic, p = logrank_test(paired)
        hr, hr_low, hr_high = _hazard_ratio(oe, level, math.sqrt(paired.variance / oe.variance))
    else:
        statistic, p = logrank_test(oe)
        hr, hr_low, hr_high = _hazard_ratio(oe, level)
    common = min(_group_horizon(rows_a), _group_horizon(rows_b))
    differences = []
    for h in sorted({int(h) for h in horizons if h <= common} | {common}):
        if pairs is not None:
            x_a = _collapsed_mask(rows_a, h)[pairs[0]]
            x_b = _collapsed_mask(rows_b, h)[pairs[1]]
            d, low, high = newcombe_paired_difference(
                int((x_a & x_b).sum()),
                int((x_b & ~x_a).sum()),
                int((x_a & ~x_b).sum()),
                int((~x_a & ~x_b).sum()),
                level,
            )
        else:
            k_a, k_b = _collapsed_within(rows_a, h), _collapsed_within(rows_b, h)
            d, low, high = newcombe_difference(k_a, len(rows_a), k_b, len(rows_b), level)
        differences.append({"horizon": h, "difference": d, "low": low, "high": high})
    return Comparison(
        by=by,
        a=_plain(a),
        b=_plain(b),
        n_a=len(rows_a),
        n_b=len(rows_b),
        level=level,
        logrank_statistic=statistic,
        logrank_p=p,
        observed_a=oe.observed_a,
        expected_a=oe.expected_a,
        observed_b=oe.observed_b,
        expected_b=oe.expected_b,
        hazard_ratio=hr,
        hazard_ratio_low=hr_low,
        hazard_ratio_high=hr_high,
        differences=differences,
        paired=pairs is not None,
    )


# --------------------------------------------------------------------------- causes, violations


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
        for key, rows in _iter_groups(runs, by)
        for row in _cause_rows(rows, causes, level)
    ]
    columns = [*_by_list(by), "cause", "count", "collapsed", "share", "low", "high"]
    return pd.DataFrame(out, columns=columns)


def _cause_rows(rows: pd.DataFrame, causes: Sequence[str], level: float) -> list[dict]:
    """Cause shares of one group (see :func:`cause_shares`)."""
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


def _prefixed_columns(runs: pd.DataFrame, prefix: str) -> dict[str, str]:
    """Map ``name -> column`` for columns ``<prefix><name>``."""
    return {c[len(prefix) :]: c for c in runs.columns if c.startswith(prefix) and c != prefix}


def origin_columns(runs: pd.DataFrame) -> dict[str, str]:
    """``origin -> column`` for the ``violations_<origin>`` columns, in display order."""
    found = _prefixed_columns(runs, "violations_")
    ordered = [o for o in ORIGINS if o in found] + sorted(o for o in found if o not in ORIGINS)
    return {o: found[o] for o in ordered}


def party_columns(table: pd.DataFrame) -> dict[str, str]:
    """``party -> column`` for the ``party_<name>`` columns, sorted by name."""
    found = _prefixed_columns(table, "party_")
    return {p: found[p] for p in sorted(found)}


def _means(runs: pd.DataFrame, by: By, columns: dict[str, str], label: str) -> pd.DataFrame:
    out = []
    for key, rows in _iter_groups(runs, by):
        for name, col in columns.items():
            values = rows[col].astype(float)
            out.append({**key, label: name, "mean": values.mean(), "total": values.sum()})
    return pd.DataFrame(out, columns=[*_by_list(by), label, "mean", "total"])


def violations_by_origin(runs: pd.DataFrame, by: By = "arm") -> pd.DataFrame:
    """Mean violations per truce by origin, per group.

    Args:
        runs: the runs table (columns ``violations_<origin>``).
        by: grouping column(s).

    Returns:
        ``[*by, origin, mean, total]``.
    """
    return _means(runs, by, origin_columns(runs), "origin")


def violations_by_party(runs: pd.DataFrame, by: By = "arm") -> pd.DataFrame:
    """Mean violations per truce committed by each party, per group.

    Args:
        runs: the runs table (columns ``party_<name>``).
        by: grouping column(s).

    Returns:
        ``[*by, party, mean, total]``.
    """
    return _means(runs, by, party_columns(runs), "party")


def attribution(runs: pd.DataFrame, by: By = "arm", level: float = 0.95) -> pd.DataFrame:
    """Share of violations detected, and detected and correctly attributed.

    Pooled over the truces of a group: ``sum(detected) / sum(violations)``.
    The Wilson interval treats violations as independent trials; violations
    within one truce are correlated, so read it as a lower bound on the
    uncertainty.

    Args:
        runs: the runs table.
        by: grouping column(s).
        level: confidence level.

    Returns:
        ``[*by, truces, violations, detected, detected_share, detected_low,
        detected_high, attributed, attributed_share, attributed_low,
        attributed_high, retaliations, wrong_retaliations]``.
    """
    out = []
    for key, rows in _iter_groups(runs, by):
        total = int(rows["violations"].sum())
        row: dict[str, Any] = {**key, "truces": len(rows), "violations": total}
        for what in ("detected", "attributed"):
            k = int(rows[what].sum())
            share, low, high = wilson(k, total, level)
            row |= {what: k, f"{what}_share": share, f"{what}_low": low, f"{what}_high": high}
        for what in ("retaliations", "wrong_retaliations"):
            row[what] = int(rows[what].sum()) if what in rows else None
        out.append(row)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- summary


def swept_columns(runs: pd.DataFrame) -> list[str]:
    """Columns that hold swept parameters (named by dotted path, e.g. ``monitors.coverage``)."""
    return [c for c in runs.columns if "." in c]


def _group_summary(key: dict, rows: pd.DataFrame, horizons: Sequence[int], level: float) -> dict:
    found = rows.loc[rows["collapsed"].astype(bool), "cause"].dropna().unique()
    causes = [c for c in _cause_rows(rows, sorted(map(str, found)), level) if c["count"] > 0]
    causes.sort(key=lambda c: (-c["count"], c["cause"]))
    median = median_days_held(rows)
    params = {c: _plain(rows[c].iloc[0]) for c in swept_columns(rows) if rows[c].nunique() == 1}
    return {
        **key,
        "replicates": len(rows),
        "horizon": _group_horizon(rows),
        **({"parameters": params} if params else {}),
        "collapsed": int(rows["collapsed"].astype(bool).sum()),
        "collapse": _collapse_rows(rows, horizons, level),
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
            longer ones are skipped, see :func:`collapse_by_horizon`).
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
    groups = [_group_summary(key, rows, horizons, level) for key, rows in _iter_groups(runs, by)]
    if order is not None:
        rank = {_plain(v): i for i, v in enumerate(order)}
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
            _group_summary(key, arm_rows, horizons, level)
            for key, arm_rows in _iter_groups(rows, ["point", "arm"])
        ]
        here.sort(key=lambda g: rank.get(g["arm"], len(rank)))
        groups += here
        params = here[0].get("parameters", {})
        for b in found[1:]:
            c = compare_arms(rows, found[0], b, by="arm", horizons=horizons, level=level)
            comparisons.append({"point": _plain(point), "parameters": params, **c.to_dict()})
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


# --------------------------------------------------------------------------- plain language


def pct(share: float) -> str:
    """A share as a whole percentage, e.g. ``0.613 -> "61%"``."""
    return f"{share * 100:.0f}%"


def pct_range(low: float, high: float) -> str:
    """An interval of shares, e.g. ``"58–64%"``."""
    return f"{low * 100:.0f}–{high * 100:.0f}%"


def p_value(p: float) -> str:
    """A p-value in words, e.g. ``"p = 0.034"`` or ``"p < 0.001"``."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def share_text(share: float, low: float | None, high: float | None) -> str:
    """A share with its interval, e.g. ``"61% (58–64%)"``; the share alone without one."""
    if low is None or high is None:
        return pct(share)
    return f"{pct(share)} ({pct_range(low, high)})"


def parameter_names(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The swept parameters of summary groups or comparisons, in order of first appearance."""
    return list(dict.fromkeys(k for r in records for k in (r.get("parameters") or {})))


def summary_horizons(groups: Iterable[Mapping[str, Any]]) -> list[int]:
    """Every horizon of the groups' collapse shares, ascending."""
    return sorted({r["horizon"] for g in groups for r in g["collapse"]})


def _nearest(rows: Sequence[dict], horizon: int) -> dict:
    """The row at ``horizon``, or the nearest one available (the longer one on a tie)."""
    return min(rows, key=lambda r: (abs(r["horizon"] - horizon), -r["horizon"]))


def _headline(group: dict, horizon: int) -> dict:
    """The group's collapse row at ``horizon``, or the nearest one available."""
    return _nearest(group["collapse"], horizon)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def value_text(value: Any) -> str:
    """A parameter value for display: floats to four significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _describe_point(group: dict, by: str) -> str:
    params = group.get("parameters") or {}
    settings = ", ".join(f"{k} = {value_text(v)}" for k, v in params.items())
    return f"{by} {group[by]}" + (f": {settings}" if settings else "")


def _collapse_sentence(summary: dict, horizon: int, label: Any) -> str:
    groups, by = summary["groups"], summary["by"]
    level = f"{summary['level'] * 100:.0f}% CI"
    if by == "point" and len(groups) > 1:
        rows = [(g, _headline(g, horizon)) for g in groups]
        lo = min(rows, key=lambda gr: gr[1]["share"])
        hi = max(rows, key=lambda gr: gr[1]["share"])
        h = hi[1]["horizon"]
        return (
            f"Across {len(groups):,} design points, the share of simulated truces that "
            f"collapsed within {h} days ranged from {pct(lo[1]['share'])} "
            f"({_describe_point(lo[0], by)}; {level} {pct_range(lo[1]['low'], lo[1]['high'])}) "
            f"to {pct(hi[1]['share'])} ({_describe_point(hi[0], by)}; "
            f"{level} {pct_range(hi[1]['low'], hi[1]['high'])})."
        )
    parts = []
    for i, g in enumerate(groups):
        r = _headline(g, horizon)
        ci = f"({level} {pct_range(r['low'], r['high'])})"
        if len(groups) == 1:
            parts.append(
                f"Of {r['n']:,} simulated truces, {pct(r['share'])} collapsed within "
                f"{r['horizon']} days {ci}"
            )
        elif i == 0:
            parts.append(
                f"{_cap(label(g))}, {pct(r['share'])} of {r['n']:,} simulated truces collapsed "
                f"within {r['horizon']} days {ci}"
            )
        else:
            parts.append(f"{label(g)}, {pct(r['share'])} of {r['n']:,} {ci}")
    return "; ".join(parts) + "."


def _median_sentence(summary: dict, label: Any) -> str:
    groups = summary["groups"]
    if len(groups) == 1:
        g = groups[0]
        if g["median_days_held_reached"]:
            return (
                f"Half of the simulated truces had collapsed by day "
                f"{g['median_days_held']:.0f} (Kaplan–Meier median)."
            )
        return f"More than half of the simulated truces still held at day {g['horizon']}."

    def phrase(g: dict) -> str:
        if g["median_days_held_reached"]:
            return f"{g['median_days_held']:.0f} days {label(g)}"
        return f"more than {g['horizon']} days (the end of the simulation) {label(g)}"

    return "Median time a truce held (Kaplan–Meier): " + "; ".join(map(phrase, groups)) + "."


def _cause_sentence(summary: dict, label: Any) -> str:
    groups = summary["groups"]

    def phrase(g: dict) -> str:
        where = "" if len(groups) == 1 else f" {label(g)}"
        if not g["causes"]:
            return f"none{where} (no truce collapsed)"
        top = g["causes"][0]
        name = CAUSE_PHRASES.get(top["cause"], top["cause"])
        return f"{name}{where} ({pct(top['share'])} of {g['collapsed']:,} collapses)"

    return "The most common cause of collapse was " + "; ".join(map(phrase, groups)) + "."


def points(x: float) -> str:
    """Percentage points with a real minus sign, e.g. ``-0.28 -> "−28"``."""
    return f"{x * 100:+.0f}".replace("-", "−")


def difference_text(d: Mapping[str, Any]) -> str:
    """A difference of shares and its interval in points, e.g. ``"−28 (−35 to −21)"``.

    Args:
        d: a row of a comparison's ``differences`` (``difference``, ``low``,
            ``high``); a missing (None) value shows as ``—``.
    """

    def text(x: float | None) -> str:
        return "—" if x is None else points(x)

    return f"{text(d['difference'])} ({text(d['low'])} to {text(d['high'])})"


def _comparison_sentence(c: dict, label: Any, horizon: int) -> str:
    level = f"{c['level'] * 100:.0f}% CI"
    text = ""
    if c["hazard_ratio"] is not None and c["hazard_ratio_low"] is not None:
        text = (
            f"Truces {label(c['b'])} collapsed at {c['hazard_ratio']:.2f} times the "
            f"rate of truces {label(c['a'])} (hazard ratio "
            f"{c['hazard_ratio']:.2f}, {level} {c['hazard_ratio_low']:.2f}–"
            f"{c['hazard_ratio_high']:.2f}"
            + (f"; log-rank {p_value(c['logrank_p'])}" if c["logrank_p"] is not None else "")
            + "). "
        )
    diffs = c["differences"]
    if diffs:
        d = _nearest(diffs, horizon)
        text += (
            f"Within {d['horizon']} days, the share collapsed differed by "
            f"{points(d['difference'])} percentage points ({level} "
            f"{points(d['low'])} to {points(d['high'])})."
        )
    return text.strip()


def plain_summary(
    summary: dict[str, Any],
    horizon: int = 90,
    labels: Mapping[Any, str] | None = None,
) -> list[str]:
    """Plain-language sentences from a :func:`summarize` dictionary.

    Every number is formatted from ``summary`` itself, so the text and the
    JSON agree (shares as whole percentages, see :func:`pct`).

    Args:
        summary: the output of :func:`summarize` (or a loaded summary.json).
        horizon: the headline horizon in days (the nearest available is used).
        labels: optional phrases for arms, e.g. ``{"unmonitored": "without
            monitors"}``; by default an arm reads as ``in the “name” arm``.

    Returns:
        A few sentences: collapse share at the headline horizon per group,
        the Kaplan–Meier medians, the most common cause of collapse, and for
        each comparison the hazard ratio and the difference of shares.
    """
    by = summary["by"]
    labels = dict(labels or {})

    def label(group_or_value: Any) -> str:
        value = group_or_value[by] if isinstance(group_or_value, dict) else group_or_value
        if value in labels:
            return labels[value]
        if by == "arm":
            return f"in the “{value}” arm"
        return f"at {by} {value}"

    if summary.get("arms"):
        return _crossed_sentences(summary, horizon, labels)
    sentences = [_collapse_sentence(summary, horizon, label)]
    if by != "point" or len(summary["groups"]) == 1:
        sentences += [_median_sentence(summary, label), _cause_sentence(summary, label)]
    sentences += [_comparison_sentence(c, label, horizon) for c in summary.get("comparisons", [])]
    return [s for s in sentences if s]


def _crossed_sentences(summary: dict, horizon: int, labels: Mapping[Any, str]) -> list[str]:
    """Sentences for a crossed design: each arm's range over the points, then the contrasts."""

    def arm_label(arm: str) -> str:
        return labels.get(arm, f"in the “{arm}” arm")

    level = f"{summary['level'] * 100:.0f}% CI"
    points_n = len({g["point"] for g in summary["groups"]})
    sentences = []
    for arm in summary["arms"]:
        rows = [(g, _headline(g, horizon)) for g in summary["groups"] if g["arm"] == arm]
        if not rows:
            continue
        lo = min(rows, key=lambda gr: gr[1]["share"])
        hi = max(rows, key=lambda gr: gr[1]["share"])
        sentences.append(
            f"{_cap(arm_label(arm))}, the share of simulated truces that collapsed within "
            f"{hi[1]['horizon']} days ranged across {points_n:,} design points from "
            f"{pct(lo[1]['share'])} ({_describe_point(lo[0], 'point')}; {level} "
            f"{pct_range(lo[1]['low'], lo[1]['high'])}) to {pct(hi[1]['share'])} "
            f"({_describe_point(hi[0], 'point')}; {level} "
            f"{pct_range(hi[1]['low'], hi[1]['high'])})."
        )
    ref = summary["arms"][0]
    for arm in summary["arms"][1:]:
        found = [
            c
            for c in summary["comparisons"]
            if c["b"] == arm and c["hazard_ratio"] is not None and c["hazard_ratio_low"] is not None
        ]
        if not found:
            continue
        lo = min(found, key=lambda c: c["hazard_ratio"])
        hi = max(found, key=lambda c: c["hazard_ratio"])

        def where(c: dict) -> str:
            return _describe_point({"point": c["point"], **c}, "point")

        def ratio(c: dict) -> str:
            return (
                f"{c['hazard_ratio']:.2f}, {level} {c['hazard_ratio_low']:.2f}–"
                f"{c['hazard_ratio_high']:.2f}, at {where(c)}"
            )

        if lo is hi:
            span, detail = f"{lo['hazard_ratio']:.2f} times", f"hazard ratio {ratio(lo)}"
        else:
            span = f"between {lo['hazard_ratio']:.2f} and {hi['hazard_ratio']:.2f} times"
            detail = f"hazard ratios; lowest {ratio(lo)}; highest {ratio(hi)}"
        sentences.append(
            f"Truces {arm_label(arm)} collapsed at {span} the rate of truces "
            f"{arm_label(ref)} across the design ({detail})."
        )
    return sentences
