"""A simulated scenario's outcomes as a flat dictionary of numbers (``sim.as_function``).

Optimisers, samplers (SALib) and exploratory-modelling tools (EMA Workbench)
want a function from parameters to named numbers. This module names those
numbers and computes them from a runs table of one scenario, with the same
definitions as the summary (``summary.json``), so that the two agree:

- ``collapse_share_<d>``: the share of the simulated truces that collapsed
  within ``d`` days, for ``d`` in 30, 90, 180 and the scenario's horizon
  (those that fit within it); any other day up to the horizon on request;
- ``median_days_held``: the Kaplan–Meier median of days held, NaN when more
  than half of the truces still held at the horizon (the summary's null);
- ``mean_days_held``: the mean days held, a truce still holding at the
  horizon counting the horizon (the restricted mean survival time; never
  NaN, the output the sensitivity indices use);
- ``cause_share_<origin>``: for each origin of violence (deliberate,
  loophole, accident, spoiler, indiscipline), its share of the truces that
  collapsed; NaN when none collapsed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import pandas as pd

from sim.analysis.shares import DEFAULT_HORIZONS, collapsed_within
from sim.analysis.survival import median_days_held
from sim.scenario.schema import ORIGINS

COLUMNS: tuple[str, ...] = ("horizon", "collapsed", "collapse_day", "days_held", "cause")
"""The columns of the runs table that :func:`outcomes` reads."""

_SHARE = re.compile(r"collapse_share_(\d+)")


def outcome_names(horizon: int) -> list[str]:
    """The outcomes computed by default for a scenario simulated over ``horizon`` days.

    Args:
        horizon: the scenario's horizon (``truce.horizon``).

    Returns:
        ``collapse_share_<d>`` for 30, 90, 180 and the horizon (those not
        beyond it, ascending), ``median_days_held``, ``mean_days_held``, then
        ``cause_share_<origin>`` for each origin.
    """
    days = sorted({d for d in (*DEFAULT_HORIZONS, horizon) if d <= horizon})
    return [
        *(f"collapse_share_{d}" for d in days),
        "median_days_held",
        "mean_days_held",
        *(f"cause_share_{o}" for o in ORIGINS),
    ]


def check_names(names: Iterable[str], horizon: int) -> list[str]:
    """The requested outcomes, checked (in the order given, without repeats).

    Args:
        names: outcome names: those of :func:`outcome_names`, or
            ``collapse_share_<d>`` for any whole ``d`` from 1 to ``horizon``.
        horizon: the scenario's horizon.

    Returns:
        The names.

    Raises:
        ValueError: naming the first unknown outcome and the valid ones.
    """
    known = outcome_names(horizon)
    out: list[str] = []
    for name in names:
        match = _SHARE.fullmatch(str(name))
        if match and not 1 <= int(match.group(1)) <= horizon:
            raise ValueError(
                f"'{name}': collapse shares are for 1 to {horizon} days (the scenario's horizon)"
            )
        if not match and name not in known:
            raise ValueError(
                f"unknown outcome '{name}'; expected one of {', '.join(known)} "
                f"(or collapse_share_<days> for 1 to {horizon} days)"
            )
        if name not in out:
            out.append(str(name))
    if not out:
        raise ValueError(f"no outcome asked for; expected some of {', '.join(known)}")
    return out


def outcomes(runs: pd.DataFrame, names: Iterable[str]) -> dict[str, float]:
    """The named outcomes of one scenario's runs (see the module docstring).

    Args:
        runs: the runs table of one scenario (the :data:`COLUMNS`).
        names: outcome names, as checked by :func:`check_names`.

    Returns:
        ``{name: value}`` in the order of ``names``, plain floats.
    """
    n = len(runs)
    collapsed = runs["collapsed"].to_numpy(dtype=bool)
    causes = runs.loc[collapsed, "cause"].value_counts()
    total = int(collapsed.sum())
    out: dict[str, float] = {}
    for name in names:
        if match := _SHARE.fullmatch(name):
            value = collapsed_within(runs, int(match.group(1))) / n if n else math.nan
        elif name == "median_days_held":
            value = median_days_held(runs)
        elif name == "mean_days_held":
            value = float(runs["days_held"].to_numpy(dtype=float).mean()) if n else math.nan
        elif name.startswith("cause_share_"):
            origin = name.removeprefix("cause_share_")
            value = int(causes.get(origin, 0)) / total if total else math.nan
        else:  # pragma: no cover - check_names refuses it first
            raise ValueError(f"unknown outcome '{name}'")
        out[name] = float(value)
    return out
