"""One group of truces compared with another: log-rank test, hazard ratio, differences of shares.

Groups hold the same replicate truces when they were run on common random
numbers (the arms of a comparison, or of a crossed design at one point);
:func:`paired_rows` finds the pairing, and :func:`compare_arms` then uses the
intervals for paired data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.grouping import group_horizon, union_columns
from sim.analysis.intervals import newcombe_difference, newcombe_paired_difference
from sim.analysis.jsonable import plain, to_jsonable
from sim.analysis.logrank import (
    LOGRANK_COLUMNS,
    hazard_ratio,
    logrank_test,
    observed_expected,
    paired_logrank_variance,
)
from sim.analysis.shares import COLLAPSE_COLUMNS, DEFAULT_HORIZONS, collapse_days

PAIR_COLUMNS: tuple[str, ...] = ("chunk", "replicate")
"""The keys that pair two groups' truces (common random numbers); without them
:func:`compare_arms` falls back to independent-samples intervals."""

COMPARISON_COLUMNS: tuple[str, ...] = union_columns(PAIR_COLUMNS, COLLAPSE_COLUMNS, LOGRANK_COLUMNS)
"""Columns :func:`compare_arms` needs besides the grouping one."""


def paired_rows(rows_a: pd.DataFrame, rows_b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Positions that pair the replicates of two groups, or None when they do not pair.

    Two groups pair when they hold the same replicates, each once: the same
    ``(chunk, replicate)`` keys, which under common random numbers means the
    same initial states and exogenous draws.

    Args:
        rows_a: the runs of group a.
        rows_b: the runs of group b.

    Returns:
        ``(positions in rows_a, positions in rows_b)``, both in key order.
    """
    keys = list(PAIR_COLUMNS)
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
        hr, hr_low, hr_high = hazard_ratio(oe, level, math.sqrt(paired.variance / oe.variance))
    else:
        statistic, p = logrank_test(oe)
        hr, hr_low, hr_high = hazard_ratio(oe, level)
    common = min(group_horizon(rows_a), group_horizon(rows_b))
    days_a, days_b = collapse_days(rows_a), collapse_days(rows_b)  # read once, every horizon
    differences = []
    for h in sorted({int(h) for h in horizons if h <= common} | {common}):
        if pairs is not None:
            x_a = (days_a <= h)[pairs[0]]
            x_b = (days_b <= h)[pairs[1]]
            d, low, high = newcombe_paired_difference(
                int((x_a & x_b).sum()),
                int((x_b & ~x_a).sum()),
                int((x_a & ~x_b).sum()),
                int((~x_a & ~x_b).sum()),
                level,
            )
        else:
            k_a, k_b = int(np.count_nonzero(days_a <= h)), int(np.count_nonzero(days_b <= h))
            d, low, high = newcombe_difference(k_a, len(rows_a), k_b, len(rows_b), level)
        differences.append({"horizon": h, "difference": d, "low": low, "high": high})
    return Comparison(
        by=by,
        a=plain(a),
        b=plain(b),
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
