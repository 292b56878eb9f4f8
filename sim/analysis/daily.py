"""Outcomes over time: daily means and 95% bands from the stored daily sums.

The input is ``daily.parquet`` (:mod:`sim.experiment.daily`): per arm, design
point and day, the truces still holding and the sums (and sums of squares) of
the day's violence over the truces. This module turns it into means:

- ``holding_share``: the share of the group's truces still holding at the end
  of the day (``holding / truces``);
- ``violence_mean`` (and ``violations_<origin>_mean``): the mean number of
  violations that day **per truce in force** that day (``in_force``: still
  holding at the start of the day). A truce that has collapsed is back at war,
  and the model stops counting its violations, so averaging over every truce
  would make violence seem to fall as truces collapse; averaging over those in
  force shows how a truce that still holds goes wrong;
- ``violence_low`` / ``violence_high``: a 95% confidence interval **of the
  mean**, mean ± 1.96 standard errors, the standard deviation recovered from
  the sum of squares. A CI of the mean rather than a spread of the truces
  because the chart compares arms' mean paths: the question is whether two
  arms' curves differ beyond simulation noise. (A spread would say little:
  most truces see no violation on most days, so a 95% range of daily counts
  is mostly 0 to a small integer.) Daily counts are skewed, but with the
  hundreds or thousands of truces in force that a run holds the mean is close
  to normal (central limit theorem); late in a run, when few truces are left,
  the band widens as it should, and with fewer than two in force it is
  undefined (NaN). The arms share their random numbers, so differences
  between them are more precise than two overlapping bands suggest;
- ``trust_mean``: the mean trust (over the parties' directed edges) of the
  truces holding at the end of the day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.scenario.schema import ORIGINS

Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""
KEYS = ("arm", "point", "day")
"""The columns naming a row of the daily table."""


def mean_band(
    total: np.ndarray, squares: np.ndarray, n: np.ndarray, z: float = Z95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and normal-approximation confidence interval of a mean, from its sums.

    Args:
        total: sums of the values.
        squares: sums of their squares.
        n: how many values were summed.
        z: the normal quantile (1.96 for 95%).

    Returns:
        (mean, low, high); the mean is NaN where ``n`` is 0, the band where ``n < 2``.
        The low end is not below 0 (the values are counts).
    """
    total, squares, n = (np.asarray(a, dtype=float) for a in (total, squares, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / n, np.nan)
        # Sample variance from the sums; clipped at 0 against rounding when every value is equal.
        var = np.clip((squares - n * mean**2) / (n - 1), 0.0, None)
        half = np.where(n > 1, z * np.sqrt(var / n), np.nan)
    return mean, np.maximum(mean - half, 0.0), mean + half


def pooled(daily: pd.DataFrame, by: str) -> pd.DataFrame:
    """The daily sums added up per ``by`` (``"arm"`` or ``"point"``) and day.

    A crossed design's arm pools the truces of all its design points: the sums
    of every point are added (so are their truces), which is exact.
    """
    groups = list(dict.fromkeys(daily[by]))
    sums = daily.drop(columns=[k for k in ("arm", "point") if k != by])
    table = sums.groupby([by, "day"], sort=False, as_index=False).sum()
    table["_order"] = table[by].map({g: i for i, g in enumerate(groups)})
    table = table.sort_values(["_order", "day"], kind="stable").drop(columns="_order")
    return table.reset_index(drop=True)


def daily_means(daily: pd.DataFrame, by: str | None = None, z: float = Z95) -> pd.DataFrame:
    """Per arm, design point and day: holding share, mean violence with bands, mean trust.

    Args:
        daily: the stored daily sums (``daily.parquet``).
        by: ``"arm"`` or ``"point"`` to pool the other away first (:func:`pooled`);
            None keeps one row per arm, point and day.
        z: the normal quantile of the band (1.96: 95%).

    Returns:
        The keys (``arm``, ``point``, ``day``, or ``by`` and ``day``), ``truces``,
        ``in_force``, ``holding``, ``holding_share``, ``violence_mean``,
        ``violence_low``, ``violence_high``, the same three for each origin
        (``violations_<origin>_mean`` …) and ``trust_mean``, in the table's order.
    """
    keys = list(KEYS) if by is None else [by, "day"]
    if by is not None:
        daily = pooled(daily, by)
    out = daily[[*keys, "truces", "in_force", "holding"]].copy()
    truces = daily["truces"].to_numpy(float)
    out["holding_share"] = np.where(truces > 0, daily["holding"] / np.maximum(truces, 1), np.nan)
    n = daily["in_force"].to_numpy()
    names = ["violence", *(f"violations_{o}" for o in ORIGINS)]
    for name in names:
        total, squares = daily[f"{name}_sum"].to_numpy(), daily[f"{name}_sumsq"].to_numpy()
        mean, low, high = mean_band(total, squares, n, z)
        out[f"{name}_mean"], out[f"{name}_low"], out[f"{name}_high"] = mean, low, high
    holding = daily["holding"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["trust_mean"] = np.where(holding > 0, daily["trust_sum"] / holding, np.nan)
    return out.reset_index(drop=True)
