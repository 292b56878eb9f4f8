"""Confidence intervals of shares and of differences of shares, in closed form.

Wilson's score interval of a share and Newcombe's intervals of a difference of
two shares (independent, and paired as common random numbers pair the arms'
truces), written with :mod:`math` and :mod:`statistics` so that a summary does
not pay for importing :mod:`scipy.stats`. ``tests/test_analysis.py`` checks
:func:`wilson` against ``scipy.stats.binomtest`` to 1e-9 and Newcombe's
intervals against his published examples.
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist


@functools.lru_cache(maxsize=64)
def z_quantile(level: float) -> float:
    """The two-sided standard normal quantile of a confidence level (1.96 for 0.95).

    Args:
        level: the confidence level, between 0 and 1.
    """
    return NormalDist().inv_cdf(0.5 + level / 2)


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
    z = z_quantile(level)
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
