"""Forecasts scored as forecasting fields score them: log score, skill, rank correlation.

"Inside the 80% interval" says little when the intervals run from a week to two
years. The hindcast therefore scores each simulated distribution of durations by
the probability it gave to what happened:

- the **log score** of a truce is ``ln p``, where ``p`` is the share of its
  simulated truces whose end falls in the observed window, widened by a
  tolerance (:func:`window`); for a truce still holding when the record ends
  (``observed.censored: true``), ``p`` is the share still holding at
  ``days_held``. A perfect forecast (``p = 1``) scores 0; the lower, the worse.
  A share of zero is raised to the floor ``1 / (2n)`` for ``n`` simulated truces
  of that file (half a truce: the score stays finite and no worse than the
  simulation could resolve); the benchmark takes the same floor, so a truce
  that both give no chance scores skill 0, not an artefact of the pool's size;
- the **skill** of a truce is its log score minus that of a no-information
  benchmark: the same model's *average truce*, i.e. the simulations of all
  history files pooled, each file weighing the same (the practice of the
  ViEWS conflict-forecasting challenges: a proper score against a benchmark
  model). Skill above 0: the truce's own scenario told the model something
  about how long *this* truce would last; below 0: it misled it. Overall skill
  is the mean over truces;
- the **rank correlation** (Spearman) of simulated Kaplan–Meier medians
  (censored at the horizon: a median not reached counts as the horizon) with
  the observed durations (midpoints of windows; a censored record enters at its
  ``days_held``, a lower bound: its rank is right when it is the longest, as the
  record says it is at least that long).

The functions take the runs tables and the scenarios' ``observed`` sections and
know nothing of how the runs were made; :mod:`sim.validation.hindcast` calls them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.survival import median_days_held
from sim.scenario.schema import Observed

#: Relative tolerance around the observed window (each side). A truce's end is
#: dated to within days in the record ("widely seen as over" spans 18–22 April
#: 2016 for the February cessation), and the model's day-of-collapse rule (3
#: days of high violence in 7) adds a few days of its own; 10% keeps a 345-day
#: truce's window at about five weeks, short against the simulated spreads.
TOLERANCE = 0.10
#: The tolerance is at least this many days each side (a 7-day truce: 4–10 days).
MIN_TOLERANCE_DAYS = 3


def tolerance_days(days: float) -> float:
    """Days of tolerance each side of an observed duration: 10%, at least 3 days."""
    return max(TOLERANCE * float(days), float(MIN_TOLERANCE_DAYS))


def window(observed: Observed) -> tuple[float, float]:
    """The observed window widened by the tolerance: ``[low − tol(low), high + tol(high)]``.

    For a record without a range both ends are ``days_held``. The lower end is
    not below 0.
    """
    low = observed.low if observed.low is not None else observed.days_held
    high = observed.high if observed.high is not None else observed.days_held
    return max(0.0, low - tolerance_days(low)), high + tolerance_days(high)


def floor(n: int) -> float:
    """The smallest share a score uses: half a simulated truce, ``1 / (2n)``."""
    return 1.0 / (2.0 * max(int(n), 1))


def observed_share(runs: pd.DataFrame, observed: Observed) -> float:
    """The share of simulated truces consistent with what happened (no floor).

    - a truce that ended: the share of simulated truces that *collapsed* on a
      day inside :func:`window` (a simulated truce still holding at the horizon
      ended on no day);
    - a truce still holding (``observed.censored``): the share of simulated
      truces not collapsed by ``days_held``.

    Args:
        runs: one row per simulated truce: ``days_held``, ``collapsed``.
        observed: the record's ``observed`` section.
    """
    if runs.empty:
        return math.nan
    days = runs["days_held"].to_numpy(dtype=float)
    collapsed = runs["collapsed"].to_numpy(dtype=bool)
    if observed.censored:
        return float(np.mean(~(collapsed & (days <= observed.days_held))))
    lo, hi = window(observed)
    return float(np.mean(collapsed & (days >= lo) & (days <= hi)))


def log_score(share: float, n: int) -> float:
    """``ln max(share, 1/(2n))``: 0 for a perfect forecast, finite for a share of zero."""
    return math.log(max(float(share), floor(n)))


def pooled_share(runs: Sequence[pd.DataFrame], observed: Observed) -> float:
    """The benchmark's share: :func:`observed_share` over all files, each weighing the same."""
    shares = [observed_share(r, observed) for r in runs if not r.empty]
    return float(np.mean(shares)) if shares else math.nan


def observed_point(observed: Observed) -> float:
    """The observed duration that enters the rank correlation.

    The midpoint of the record's window; a censored record's ``days_held`` (a
    lower bound).
    """
    if observed.censored:
        return float(observed.days_held)
    low = observed.low if observed.low is not None else observed.days_held
    high = observed.high if observed.high is not None else observed.days_held
    return (low + high) / 2.0


def simulated_median(runs: pd.DataFrame, horizon: int) -> float:
    """Kaplan–Meier median of days held; the horizon when survival stays above one half."""
    m = median_days_held(runs)
    return float(horizon) if math.isnan(m) else m


def rank_correlation(simulated: Sequence[float], observed: Sequence[float]) -> dict[str, Any]:
    """Spearman's rho (scipy.stats) of simulated medians with observed durations.

    Returns:
        ``rho``, its two-sided ``p`` (exact, by permutation, for up to eight truces, as scipy
        does not: with four truces only rho = ±1 reaches p < 0.1, so read rho,
        not p) and ``n``; rho is NaN with fewer than three truces or when either
        side is constant.
    """
    from scipy import stats

    x, y = np.asarray(simulated, dtype=float), np.asarray(observed, dtype=float)
    n = len(x)
    if n < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return {"rho": math.nan, "p": math.nan, "n": n}
    res = stats.spearmanr(x, y)
    rho = float(res.statistic)
    p = _exact_spearman_p(x, y, rho) if n <= 8 else float(res.pvalue)
    return {"rho": rho, "p": p, "n": n}


def _exact_spearman_p(x: np.ndarray, y: np.ndarray, rho: float) -> float:
    """Two-sided permutation p-value of Spearman's rho over every ordering of ``y``."""
    from itertools import permutations

    from scipy import stats

    xr = stats.rankdata(x) - (len(x) + 1) / 2.0
    perms = np.array(list(permutations(stats.rankdata(y) - (len(y) + 1) / 2.0)))
    rhos = perms @ xr / (np.linalg.norm(xr) * np.linalg.norm(perms[0]))
    return float(np.mean(np.abs(rhos) >= abs(rho) - 1e-12))  # 1e-12: rounding of equal rhos


@dataclass(frozen=True)
class TruceScore:
    """The scores of one truce's forecast."""

    truce: str
    share: float
    log_score: float
    pooled_share: float
    pooled_log_score: float
    skill: float
    window: tuple[float, float] | None
    censored: bool
    simulated_median: float
    observed_point: float

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the window as ``window_low``, ``window_high``)."""
        low, high = self.window if self.window is not None else (None, None)
        return {
            "truce": self.truce,
            "share": self.share,
            "log_score": self.log_score,
            "pooled_share": self.pooled_share,
            "pooled_log_score": self.pooled_log_score,
            "skill": self.skill,
            "window_low": low,
            "window_high": high,
            "censored": self.censored,
            "simulated_median": self.simulated_median,
            "observed_point": self.observed_point,
        }


def score_truces(
    names: Sequence[str],
    observed: Sequence[Observed],
    runs: Sequence[pd.DataFrame],
    horizons: Sequence[int],
) -> list[TruceScore]:
    """Score every truce's simulated runs against its record and the pooled benchmark.

    Args:
        names: the truces' names.
        observed: their records (``observed`` sections), in the same order.
        runs: their simulated runs tables, in the same order.
        horizons: their simulated horizons (for the medians not reached).
    """
    out = []
    for name, obs, r, horizon in zip(names, observed, runs, horizons, strict=True):
        share = observed_share(r, obs)
        pooled = pooled_share(runs, obs)
        own = log_score(share, len(r))
        bench = log_score(pooled, len(r))  # the same floor: see the module's docstring
        out.append(
            TruceScore(
                truce=name,
                share=share,
                log_score=own,
                pooled_share=pooled,
                pooled_log_score=bench,
                skill=own - bench,
                window=None if obs.censored else window(obs),
                censored=bool(obs.censored),
                simulated_median=simulated_median(r, horizon),
                observed_point=observed_point(obs),
            )
        )
    return out


def summary(scores: Sequence[TruceScore]) -> dict[str, Any]:
    """Overall figures: mean log score, mean benchmark log score, mean skill, rank correlation."""
    if not scores:
        return {"mean_log_score": math.nan, "mean_pooled_log_score": math.nan, "skill": math.nan}
    return {
        "mean_log_score": float(np.mean([s.log_score for s in scores])),
        "mean_pooled_log_score": float(np.mean([s.pooled_log_score for s in scores])),
        "skill": float(np.mean([s.skill for s in scores])),
        "rank_correlation": rank_correlation(
            [s.simulated_median for s in scores], [s.observed_point for s in scores]
        ),
    }


def settings() -> dict[str, Any]:
    """How the scores were computed, for the output's provenance."""
    return {
        "tolerance": TOLERANCE,
        "min_tolerance_days": MIN_TOLERANCE_DAYS,
        "floor": "1/(2n) for the n simulated truces of the file scored, for the model and the "
        "benchmark alike",
        "benchmark": "all history files' simulations pooled, each file weighing the same",
        "censored": "share of simulated truces still holding at days_held",
        "rank_correlation": "Spearman (scipy.stats.spearmanr) of Kaplan-Meier medians "
        "(the horizon when not reached) with observed midpoints (a censored record at "
        "days_held); exact permutation p for up to 8 truces",
    }


def meaning(overall: Mapping[str, Any]) -> str:
    """One plain sentence on what the overall skill says."""
    skill = overall.get("skill", math.nan)
    if skill is None or math.isnan(skill):
        return "No truce was scored."
    times = math.exp(skill)
    if skill >= 0:
        return (
            f"On average the model gave what happened {times:.2g} times the probability "
            "that its average truce gave it: the truces' own scenarios helped the forecast."
        )
    return (
        f"On average the model gave what happened {times:.2g} times the probability "
        "that its average truce gave it: the truces' own scenarios made the forecast worse "
        "than ignoring them."
    )
