"""Results on disk: ``results/<scenario>/<timestamp>/`` with Parquet parts and a manifest.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), so
a file that exists is complete. The manifest's ``status`` says whether the run
finished (``complete``), stopped part-way (``running``) or ended with failed
chunks (``failed``). Files get the permissions of the user's umask (as
``open`` would give them), so teammates on a shared file system can read them.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

MANIFEST = "manifest.json"
SUMMARY = "summary.json"
DISCOVER = "discover.json"  # scenario discovery over a sweep (`truce discover`)
RUNS = "runs"
#: Space set aside when a run starts and given back just before its last manifest
#: is written, so that the failure record of a run that filled the disk fits.
RESERVE = ".reserve"
RESERVE_BYTES = 256 * 1024


def slug(name: str) -> str:
    """A folder-safe version of a scenario name."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")
    return cleaned or "scenario"


def new_run_dir(root: Path | str, name: str) -> Path:
    """A fresh, empty folder ``root/<name>/<timestamp>`` (suffixed if taken)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path(root) / slug(name)
    base.mkdir(parents=True, exist_ok=True)
    for n in range(1000):
        path = base / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a results folder under {base}")


def umask() -> int:
    """The process's umask (read from ``/proc`` where possible, without changing it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # pragma: no cover - not Linux
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Create ``path`` so that it is either absent or complete.

    ``write`` fills a temporary file in the same folder (it gets the file's
    name); the file is then renamed to ``path``, or removed if ``write`` raised.
    The file gets ``0o666 & ~umask`` like any file ``open`` creates
    (``mkstemp`` alone would leave it readable by its owner only).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (bytes, or its pieces) to ``path`` (synced), so it is absent or complete."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            for piece in [data] if isinstance(data, bytes) else data:
                fh.write(piece)
            fh.flush()
            os.fsync(fh.fileno())

    atomic_write(path, write)


#: Characters of JSON gathered before each write of :func:`write_json`.
JSON_PIECE = 1 << 16


def write_json(path: Path, obj: Mapping[str, Any], compact: bool = False) -> None:
    """Atomically write a JSON document (``compact``: no indentation, for a full disk).

    The indented document is written piece by piece as it is encoded (the same
    bytes as ``json.dumps(obj, indent=2)``): a sweep's summary of 10,000 points
    is never a string in memory whole (issue 14: ~12 MB, with the encoder's pieces
    several times that).
    """
    if compact:
        atomic_write_bytes(path, (json.dumps(obj, default=str) + "\n").encode())
        return

    def pieces() -> Iterator[bytes]:
        gathered: list[str] = []
        size = 0
        for chunk in json.JSONEncoder(indent=2, default=str).iterencode(obj):
            gathered.append(chunk)
            size += len(chunk)
            if size >= JSON_PIECE:
                yield "".join(gathered).encode()
                gathered.clear()
                size = 0
        gathered.append("\n")
        yield "".join(gathered).encode()

    atomic_write_bytes(path, pieces())


def reserve_space(run_dir: Path, size: int = RESERVE_BYTES) -> None:
    """Set ``size`` bytes aside in ``run_dir`` (really allocated, not a sparse file)."""
    path = Path(run_dir) / RESERVE
    with open(path, "wb") as fh:
        try:
            os.posix_fallocate(fh.fileno(), 0, size)
        except (AttributeError, OSError):  # pragma: no cover - no fallocate here
            fh.write(b"\0" * size)


def release_space(run_dir: Path) -> None:
    """Give back the space :func:`reserve_space` set aside."""
    (Path(run_dir) / RESERVE).unlink(missing_ok=True)


def remove_leftovers(run_dir: Path) -> None:
    """Remove temporary files that a killed writer left behind (``.*.tmp``) and the reserve."""
    run_dir = Path(run_dir)
    for folder in (run_dir, run_dir / RUNS, run_dir / "daily", run_dir / POINTS):
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
    release_space(run_dir)


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON document."""
    return json.loads(Path(path).read_text())


def part_path(run_dir: Path, name: str) -> Path:
    """Where a Parquet part named ``name`` lives."""
    return Path(run_dir) / RUNS / f"{name}.parquet"


def write_part(run_dir: Path, name: str, table: pd.DataFrame) -> Path:
    """Atomically write one Parquet part of the runs table."""
    path = part_path(run_dir, name)
    atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False))
    return path


def part_rows(path: Path) -> int | None:
    """Rows in a Parquet part (from its footer), or None if it is missing or unreadable."""
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path).num_rows
    except (OSError, ValueError):
        return None


def finished_parts(run_dir: Path | str) -> set[str]:
    """Names of the parts already written (complete, since writes are atomic)."""
    return {p.stem for p in (Path(run_dir) / RUNS).glob("*.parquet")}


def read_files(paths: list[Path], columns: list[str] | None = None) -> pd.DataFrame:
    """Parquet files as one table, their rows in the order of ``paths``.

    One read of every file (pyarrow's threads, one conversion to pandas) rather than a
    table per file joined afterwards: the runs table of a 128-chunk run is read ~4x
    sooner, the bulk of the driver's work after the tasks (``benchmarks/README.md``,
    session 10). Files whose columns differ (parts written by different versions) are
    read one by one and joined as before.

    Args:
        paths: the files, in the order their rows are wanted.
        columns: read only these columns (default: all).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if len(paths) > 1:
        try:
            table = pq.read_table([str(p) for p in paths], columns=columns)
        except pa.ArrowException:
            pass  # schemas that differ: read one by one below (a real fault is raised there)
        else:
            return table.to_pandas()
    return pd.concat([pd.read_parquet(p, columns=columns) for p in paths], ignore_index=True)


def read_runs(run_dir: Path | str, columns: list[str] | None = None) -> pd.DataFrame:
    """The whole runs table of a results folder, parts in name order.

    Args:
        run_dir: the results folder.
        columns: read only these columns (those a part lacks are skipped).
    """
    parts = sorted((Path(run_dir) / RUNS).glob("*.parquet"))
    if not parts:
        if has_points(run_dir):
            raise FileNotFoundError(
                f"{Path(run_dir)} holds per-point aggregates only (points/); "
                "run the sweep with --keep-runs to store one row per truce"
            )
        raise FileNotFoundError(f"no result parts in {Path(run_dir) / RUNS}")
    wanted = None
    if columns is not None:
        import pyarrow.parquet as pq

        present = set(pq.read_schema(parts[0]).names)
        wanted = [c for c in dict.fromkeys(columns) if c in present]
    table = read_files(parts, wanted)
    if parts[0].stem.startswith("batch-") and {"point", "replicate"} <= set(table.columns):
        # coalesced batches hold points in the order they finished: design order again
        keys = [c for c in ("arm", "point", "replicate") if c in table.columns]
        table = table.sort_values(keys, kind="stable").reset_index(drop=True)
    return table


# --------------------------------------------------------------------------- per-point layout

#: Folder of a sweep's per-point aggregates (``points/batch-*.parquet``).
POINTS = "points"
#: Folder of a sweep's per-point daily sums, batch by batch (merged into ``daily.parquet``).
DAILY_BATCHES = "daily"
#: Name pattern of a coalesced batch (of points, and of their runs with ``--keep-runs``).
BATCH = "batch-{:06d}.parquet"


#: Rows in a row group of a daily batch (~20 numbers a row: about 1.6 MB read at a time).
DAILY_ROW_GROUP = 10_000


def batch_path(run_dir: Path | str, folder: str, index: int) -> Path:
    """Where batch ``index`` of ``folder`` (:data:`POINTS` or :data:`RUNS`) lives."""
    return Path(run_dir) / folder / BATCH.format(index)


def has_points(run_dir: Path | str) -> bool:
    """Whether a results folder stores per-point aggregates (a sweep since issue 14)."""
    return (Path(run_dir) / POINTS).is_dir()


def write_batch(
    run_dir: Path | str,
    index: int,
    points: pd.DataFrame,
    runs: pd.DataFrame | None = None,
    daily: pd.DataFrame | None = None,
) -> None:
    """Atomically write batch ``index``: the runs (when kept) and daily sums first, then the points.

    The points batch is written last, so a batch's points exist only once its
    runs and daily sums are complete: its points count as done, and a runs or
    daily batch without its points batch is a leftover that
    :func:`finished_points` removes.
    """
    run_dir = Path(run_dir)
    (run_dir / POINTS).mkdir(exist_ok=True)
    if daily is not None:
        (run_dir / DAILY_BATCHES).mkdir(exist_ok=True)
        path = batch_path(run_dir, DAILY_BATCHES, index)
        # in row groups by day (by point when the runs are kept, and so the points' days):
        # the merge reads a few days (points) of every batch at a time and skips the row
        # groups of others (sim.experiment.daily.merge_batches)
        if {"day", "point"} <= set(daily.columns):
            order = ["point", "day"] if runs is not None else ["day", "point"]
            daily = daily.sort_values(order, kind="stable")
        atomic_write(
            path, lambda tmp: daily.to_parquet(tmp, index=False, row_group_size=DAILY_ROW_GROUP)
        )
    if runs is not None:
        (run_dir / RUNS).mkdir(exist_ok=True)
        path = batch_path(run_dir, RUNS, index)
        atomic_write(path, lambda tmp: runs.to_parquet(tmp, index=False))
    path = batch_path(run_dir, POINTS, index)
    atomic_write(path, lambda tmp: points.to_parquet(tmp, index=False))


def point_batches(run_dir: Path | str) -> list[Path]:
    """The points batches of a results folder, in name order."""
    return sorted((Path(run_dir) / POINTS).glob("batch-*.parquet"))


def finished_points(run_dir: Path | str) -> tuple[set[str], int]:
    """The points already stored (by task name) and the next free batch number.

    Runs batches whose points batch is missing (cut short between the two
    writes) are removed: their points are run again.
    """
    import pyarrow.parquet as pq

    run_dir = Path(run_dir)
    done: set[str] = set()
    numbers = [-1]
    for path in point_batches(run_dir):
        done.update(pq.read_table(path, columns=["task"]).column("task").to_pylist())
        numbers.append(int(path.stem.split("-")[1]))
    for folder in (RUNS, DAILY_BATCHES):
        for path in sorted((run_dir / folder).glob("batch-*.parquet")):
            if not batch_path(run_dir, POINTS, int(path.stem.split("-")[1])).exists():
                path.unlink(missing_ok=True)
    return done, max(numbers) + 1


def read_points(run_dir: Path | str, columns: list[str] | None = None) -> pd.DataFrame:
    """The points table of a results folder, in design order (arm, then point).

    Raises:
        FileNotFoundError: if the folder stores no points.
    """
    parts = point_batches(run_dir)
    if not parts:
        raise FileNotFoundError(f"no per-point aggregates in {Path(run_dir) / POINTS}")
    # a file at a time, not read_files: a sweep's driver reads these few batches after its
    # last point, near its peak of memory (benchmarks/README.md, session 10)
    table = pd.concat([pd.read_parquet(p, columns=columns) for p in parts], ignore_index=True)
    if {"arm", "point"} <= set(table.columns):  # batches hold points in the order they finished
        table = table.sort_values(["arm", "point"], kind="stable").reset_index(drop=True)
    return table


def has_runs(run_dir: Path | str) -> bool:
    """Whether a results folder holds per-truce rows (not so for a sweep without --keep-runs)."""
    return any((Path(run_dir) / RUNS).glob("*.parquet"))


def points_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Point records as a table with one schema in every batch (shares and medians as floats)."""
    table = pd.DataFrame(records)
    for column in table.columns:
        if column.startswith(("collapse_share", "collapse_low_", "collapse_high_")) or column in (
            "mean_days_held",
            "median_days_held",
            "median_collapse_day",
        ):
            table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    return table


def sort_points_table(table: pd.DataFrame) -> pd.DataFrame:
    """A points table in design order (arm, then point), whatever order its points finished in."""
    if len(table):
        table = points_table([{str(k): v for k, v in r.items()} for r in table.to_dict("records")])
    return table.sort_values(["arm", "point"], kind="stable").reset_index(drop=True)
