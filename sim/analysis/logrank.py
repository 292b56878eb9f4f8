"""The log-rank test of two survival curves and the hazard ratio that goes with it.

Written in closed form with NumPy (observed and expected collapses over the
pooled risk sets) so that a summary does not import :mod:`scipy.stats`;
``tests/test_analysis.py`` checks the test against ``scipy.stats.logrank`` to
1e-9. When the truces of the two groups come in pairs (common random
numbers), :func:`paired_logrank_variance` gives the score's robust variance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.intervals import z_quantile
from sim.analysis.survival import number_at_risk

LOGRANK_COLUMNS: tuple[str, ...] = ("collapsed", "days_held")
"""Columns the log-rank bookkeeping needs of each group's runs."""


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
    n_a, n_b = number_at_risk(held_a, times), number_at_risk(held_b, times)
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
    at_risk = number_at_risk(np.sort(held), times)
    share_a = number_at_risk(np.sort(held[: len(a)]), times) / at_risk
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
        pairs: positions pairing the rows of a and b
            (:func:`sim.analysis.comparisons.paired_rows`).
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


def hazard_ratio(
    oe: ObservedExpected, level: float, scale: float = 1.0
) -> tuple[float, float, float]:
    """Log-rank (Peto) hazard ratio of group b vs group a, with its interval.

    ``HR = (O_b/E_b) / (O_a/E_a)`` with interval
    ``exp(log HR ± z·scale·sqrt(1/E_a + 1/E_b))`` (Peto et al. 1977, *Br J
    Cancer* 35:1–39; Machin, Cheung & Parmar, *Survival Analysis: A Practical
    Approach*, 2nd ed., 2006, §5.2).

    Args:
        oe: observed and expected collapses (:func:`observed_expected`).
        level: confidence level of the interval.
        scale: multiplies the standard error of log HR: for paired replicates,
            the square root of the robust over the hypergeometric variance of
            the score (:func:`paired_logrank_variance`).

    Returns:
        ``(hr, low, high)``; NaNs when group a has no collapse or either
        expectation is 0, and a NaN interval when group b has no collapse.
    """
    if min(oe.expected_a, oe.expected_b) <= 0 or oe.observed_a == 0:
        return (math.nan, math.nan, math.nan)
    hr = (oe.observed_b / oe.expected_b) / (oe.observed_a / oe.expected_a)
    if oe.observed_b == 0:
        return (hr, math.nan, math.nan)
    half = z_quantile(level) * scale * math.sqrt(1 / oe.expected_a + 1 / oe.expected_b)
    return (hr, hr * math.exp(-half), hr * math.exp(half))
