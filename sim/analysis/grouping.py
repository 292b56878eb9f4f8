"""Groups of a runs table: arms, design points, swept parameters, and the columns they need.

Groups are given by ``by``: usually ``"arm"`` (a comparison) or ``"point"``
(a sweep), or a list of columns (e.g. two swept parameters for a heatmap).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pandas as pd

from sim.analysis.jsonable import plain

By = str | Sequence[str]
"""One grouping column, or several."""


def by_list(by: By) -> list[str]:
    """The grouping columns as a list.

    Args:
        by: one column or several.
    """
    return [by] if isinstance(by, str) else list(by)


def iter_groups(runs: pd.DataFrame, by: By) -> Iterator[tuple[dict[str, Any], pd.DataFrame]]:
    """Yield ``({column: value}, rows)`` per group.

    String groups (arms) keep their order of first appearance; numeric groups
    (design points, swept values) are sorted. Group values are plain Python
    (see :func:`sim.analysis.jsonable.plain`).

    Args:
        runs: the runs table.
        by: grouping column(s).
    """
    cols = by_list(by)
    numeric = all(pd.api.types.is_numeric_dtype(runs[c]) for c in cols)
    for key, rows in runs.groupby(cols, sort=numeric, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        yield {c: plain(v) for c, v in zip(cols, key, strict=True)}, rows


def group_horizon(rows: pd.DataFrame) -> int:
    """The days simulated for a group (the censoring time).

    Args:
        rows: the runs of one group (column ``horizon``).
    """
    return int(rows["horizon"].max())


def swept_columns(runs: pd.DataFrame) -> list[str]:
    """Columns that hold swept parameters (named by dotted path, e.g. ``monitors.coverage``).

    Args:
        runs: the runs table.
    """
    return [c for c in runs.columns if "." in c]


def union_columns(*columns: Iterable[str]) -> tuple[str, ...]:
    """The columns of several declarations, each once, in order of first appearance.

    Args:
        *columns: the columns each computation declares it needs.
    """
    return tuple(dict.fromkeys(c for group in columns for c in group))
