"""Violations per truce by origin and by party; the share detected and correctly attributed."""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.analysis.grouping import By, by_list, iter_groups
from sim.analysis.intervals import wilson
from sim.scenario.schema import (
    ORIGINS,  # the origins a violation (and a collapse) can have, in order
)

ATTRIBUTION_COLUMNS: tuple[str, ...] = ("violations", "detected", "attributed")
"""Columns :func:`attribution` needs besides the grouping ones (``retaliations`` and
``wrong_retaliations`` are added when present)."""


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
    for key, rows in iter_groups(runs, by):
        for name, col in columns.items():
            values = rows[col].astype(float)
            out.append({**key, label: name, "mean": values.mean(), "total": values.sum()})
    return pd.DataFrame(out, columns=[*by_list(by), label, "mean", "total"])


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
    for key, rows in iter_groups(runs, by):
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
