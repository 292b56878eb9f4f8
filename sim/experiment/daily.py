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
    table = pd.concat(list(parts), ignore_index=True)
    if "chunk" in table.columns:
        table = table.drop(columns="chunk")
    arms = list(dict.fromkeys(table["arm"]))
    keys = list(KEYS)
    merged = table.groupby(keys, sort=False, as_index=False).sum()
    merged["arm_order"] = merged["arm"].map({a: i for i, a in enumerate(arms)})
    merged = merged.sort_values(["arm_order", "point", "day"], kind="stable")
    return merged.drop(columns="arm_order").reset_index(drop=True)


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
    merged = daily_aggregate(pd.read_parquet(p) for p in paths)
    storage.atomic_write(target, lambda tmp: merged.to_parquet(tmp, index=False))
    return target


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
