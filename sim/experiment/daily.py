"""Outcomes over time: the day-by-day sums of every chunk, merged per arm and point.

Every chunk's model adds up, day by day, how many of its truces still hold,
their violence by origin (sum and sum of squares) and their trust
(:meth:`sim.model.model.CeasefireModel.daily`). A worker stores its chunk's
table beside its runs part (``daily/<part>.parquet``, written first, so a runs
part never exists without it); the driver merges them into ``daily.parquet``,
one row per arm, design point and day. Merging is a sum, done in part-name
order, so the result does not depend on how many workers ran the chunks or
on which engine: the same integers, and the same floating-point sums.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiment import storage

DAILY = "daily.parquet"
"""The merged table, in the results folder."""
DAILY_PARTS = "daily"
"""The folder of the chunks' tables."""
KEYS = ("arm", "point", "day")
"""What a row of ``daily.parquet`` is about; every other column is a sum."""


def part_path(run_dir: Path | str, name: str) -> Path:
    """Where the daily table of the part named ``name`` lives."""
    return Path(run_dir) / DAILY_PARTS / f"{name}.parquet"


def write_part(run_dir: Path | str, name: str, table: pd.DataFrame) -> Path:
    """Atomically write one chunk's daily table."""
    path = part_path(run_dir, name)
    storage.atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False))
    return path


def daily_aggregate(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Add up chunks' daily tables: one row per arm, design point and day.

    Args:
        parts: chunk tables with ``arm``, ``point``, ``day`` and sums (what
            :func:`sim.experiment.runner.task_tables` returns), in a fixed order
            (part-name order) so that the floating-point sums are reproducible.
            Already merged tables may be merged again (sums of sums).

    Returns:
        The merged table, sorted by arm (in order of first appearance), point and day.
    """
    given = list(parts)
    table = given[0] if len(given) == 1 else pd.concat(given, ignore_index=True)
    if "chunk" in table.columns:
        table = table.drop(columns="chunk")
    keys = list(KEYS)
    if _one_row_a_key(table):  # one chunk's table (a design point's): nothing to add up
        others = [c for c in table.columns if c not in KEYS]
        return table[[*keys, *others]].reset_index(drop=True)
    arms = list(dict.fromkeys(table["arm"]))
    merged = table.groupby(keys, sort=False, as_index=False).sum()
    merged["arm_order"] = merged["arm"].map({a: i for i, a in enumerate(arms)})
    merged = merged.sort_values(["arm_order", "point", "day"], kind="stable")
    return merged.drop(columns="arm_order").reset_index(drop=True)


def _one_row_a_key(table: pd.DataFrame) -> bool:
    """Whether ``table`` is one arm's and one point's, each day once and in order.

    Then the sums of :func:`daily_aggregate` are its rows as they are (a sum of one
    number is that number), in the order it would sort them: a sweep's point of one
    chunk, ~10 ms of pandas' grouping saved on each (issue 14).
    """
    days = table["day"].to_numpy()
    return (
        len(table) > 0
        and bool((days[1:] > days[:-1]).all())
        and table["arm"].nunique() == 1
        and table["point"].nunique() == 1
    )


def merge_parts(run_dir: Path | str, names: Iterable[str]) -> Path | None:
    """Merge the daily tables of the parts ``names`` into ``daily.parquet``.

    Returns:
        The merged file, or None (and no file) when a part has no daily table
        (a folder written before daily tables were stored).
    """
    run_dir = Path(run_dir)
    paths = [part_path(run_dir, n) for n in sorted(names)]
    target = run_dir / DAILY
    if not paths or not all(p.is_file() for p in paths):
        target.unlink(missing_ok=True)
        return None
    merged = daily_aggregate([storage.read_files(paths)])
    storage.atomic_write(target, lambda tmp: merged.to_parquet(tmp, index=False))
    return target


POOLED = -1
"""The ``point`` of a row that adds up every design point of its arm."""


def pool_points(table: pd.DataFrame) -> pd.DataFrame:
    """Add up the design points of each arm, day by day (their ``point`` becomes :data:`POOLED`).

    A sweep that stores per-point aggregates only (no ``--keep-runs``) keeps its
    daily sums pooled: one row per arm and day rather than per point and day
    (10,000 points × 365 days would be millions of rows). The sums are taken
    in point order, so they do not depend on the order the points finished in.
    """
    table = table.sort_values(["point", "day"], kind="stable").assign(point=POOLED)
    return daily_aggregate([table])


def merge_batches(run_dir: Path | str, pool: bool) -> Path | None:
    """Merge a per-point sweep's daily batches (``daily/batch-*.parquet``) into ``daily.parquet``.

    Args:
        run_dir: the results folder.
        pool: add up the design points of each arm (:func:`pool_points`) and
            remove the batches; otherwise keep one row per point and day.

    Returns:
        The merged file, or None when there are no batches (an older folder).
    """
    run_dir = Path(run_dir)
    paths = sorted((run_dir / storage.DAILY_BATCHES).glob("batch-*.parquet"))
    target = run_dir / DAILY
    if not paths:
        target.unlink(missing_ok=True)
        return None
    if pool:  # a few days at a time: the driver never holds every point's days (issue 14)
        blocks = _blocks(paths, "day")
        if len(blocks) == 1:  # small enough to pool at once, as it always was
            merged = pool_points(_read_between(paths, "day", *blocks[0]))
        else:  # each day is in one block: the same sums, in the same order
            parts = [_pool_block(_read_between(paths, "day", *days)) for days in blocks]
            merged = pd.concat(parts, ignore_index=True)
        storage.atomic_write(target, lambda tmp: merged.to_parquet(tmp, index=False))
    else:  # a few points at a time, written as they come: 10,000 points' days are millions
        storage.atomic_write(target, lambda tmp: _write_by_points(paths, tmp))
    if pool:
        for p in paths:
            p.unlink()
        (run_dir / storage.DAILY_BATCHES).rmdir()
    return target


#: Rows of the points' daily sums merged at once by :func:`merge_batches` (a block of days of
#: every point, or of points with all their days; ~20 numbers a row, so a few MB, against
#: the whole table's tens or hundreds).
BLOCK_ROWS = 25_000


def _blocks(paths: list[Path], column: str, rows: int | None = None) -> list[tuple[int, int]]:
    """Ranges (first, last) of ``column``'s values whose rows in the batches number about ``rows``.

    ``column`` is ``day`` or ``point`` (integers); ``rows`` defaults to :data:`BLOCK_ROWS`.
    """
    import pyarrow.parquet as pq

    rows = BLOCK_ROWS if rows is None else rows
    total, low, high = 0, None, None
    for path in paths:
        metadata = pq.ParquetFile(path).metadata
        total += metadata.num_rows
        span = _column_range(path, metadata, column)
        if span is not None:
            low = span[0] if low is None else min(low, span[0])
            high = span[1] if high is None else max(high, span[1])
    if low is None or high is None:
        return [(1, 1)]
    width = max(1, rows * (high - low + 1) // max(1, total))
    return [(first, min(high, first + width - 1)) for first in range(low, high + 1, width)]


def _column_range(path: Path, metadata: Any, column: str) -> tuple[int, int] | None:
    """The least and greatest of an integer ``column`` in a Parquet file (None when it is empty).

    From its row groups' statistics, without reading the column; read only where a row
    group has none (a file written without them).
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    at = metadata.schema.names.index(column)
    spans = []
    for i in range(metadata.num_row_groups):
        group = metadata.row_group(i)
        if group.num_rows == 0:
            continue
        stats = group.column(at).statistics
        if stats is None or not stats.has_min_max:
            values = pq.read_table(path, columns=[column]).column(column)
            least, most = (int(v.as_py()) for v in pc.min_max(values).values())
            return least, most
        spans.append((int(stats.min), int(stats.max)))
    if not spans:
        return None
    return min(low for low, _ in spans), max(high for _, high in spans)


def _write_by_points(paths: list[Path], tmp: Path | str) -> None:
    """Write the per-point daily sums of the batches ``paths`` to ``tmp``, a few points at a time.

    Every point's days are in one batch (a point is one task), so each block is the
    :func:`daily_aggregate` of its rows: the rows, table and file the whole table merged
    at once gave, in the same order (point, then day), with a block's rows held at a time.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for first, last in _blocks(paths, "point"):
            block = _read_between(paths, "point", first, last)
            if not len(block):
                continue
            if block["arm"].nunique() > 1:
                raise ValueError("the daily sums of a per-point sweep have one arm")
            table = pa.Table.from_pandas(
                daily_aggregate([block.sort_values(["point", "day"], kind="stable")]),
                preserve_index=False,
            )
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # no rows at all
        daily_aggregate(pd.read_parquet(p) for p in paths).to_parquet(tmp, index=False)


def _pool_block(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`pool_points` of some of the days of every point, with the sums of the whole table.

    pandas adds up a group's floats with a compensated (Kahan) sum, in row order, when the
    groups' rows are interleaved, as they are in the whole table (point after point, each
    with its days); a block of one day has one group, which pandas adds up another way, so
    the floats are added here as pandas adds up the whole table (its ``group_sum``), point
    after point. Counts (integers) are exact in any order.

    Raises:
        ValueError: for the days of several arms (a per-point sweep has one).
    """
    import numpy as np

    if table["arm"].nunique() > 1:
        raise ValueError("the daily sums of a per-point sweep have one arm")
    table = table.sort_values(["point", "day"], kind="stable")
    merged = pool_points(table)
    floats = [c for c in merged.columns if c not in KEYS and merged[c].dtype.kind == "f"]
    if not floats or not len(table):
        return merged
    days = table["day"].to_numpy()
    first = int(days.min())
    total = np.zeros((int(days.max()) - first + 1, len(floats)))
    carry = np.zeros_like(total)
    values = table[floats].to_numpy(dtype=float)
    points = table["point"].to_numpy()
    starts = np.flatnonzero(np.r_[True, points[1:] != points[:-1]])
    for a, b in zip(starts, np.r_[starts[1:], len(points)], strict=True):
        at = days[a:b] - first  # a point's days: each once
        value, before, lost = values[a:b], total[at], carry[at]
        y = value - lost
        t = before + y
        compensation = (t - before) - y
        compensation[np.isnan(compensation)] = 0.0  # an infinite value: not NaN (as pandas)
        seen = ~np.isnan(value)  # missing values are skipped
        total[at] = np.where(seen, t, before)
        carry[at] = np.where(seen, compensation, lost)
    merged[floats] = total[merged["day"].to_numpy() - first]
    return merged


def _read_between(paths: list[Path], column: str, first: int, last: int) -> pd.DataFrame:
    """The rows of the batches ``paths`` whose ``column`` is from ``first`` to ``last``, in order.

    Only the row groups that may hold those values are read (a batch is written in row
    groups sorted by day, or by point when the runs are kept:
    :func:`sim.experiment.storage.write_batch`); an older batch is read whole.
    """
    import pyarrow.parquet as pq

    tables = []
    for path in paths:
        found = pq.ParquetFile(path)
        meta = found.metadata
        at = meta.schema.names.index(column)
        groups = []
        for i in range(meta.num_row_groups):
            stats = meta.row_group(i).column(at).statistics
            if stats is not None and stats.has_min_max and (stats.max < first or stats.min > last):
                continue  # none of these values here
            groups.append(i)
        table = found.read_row_groups(groups).to_pandas()
        tables.append(table[(table[column] >= first) & (table[column] <= last)])
    return pd.concat(tables, ignore_index=True)


def read_daily(run_dir: Path | str) -> pd.DataFrame:
    """The merged daily table of a results folder.

    Raises:
        FileNotFoundError: naming the file, when the folder has none (an older result).
    """
    path = Path(run_dir) / DAILY
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no daily table (results stored before daily outcomes were kept; "
            "re-create them with `truce rerun`)"
        )
    return pd.read_parquet(path)
