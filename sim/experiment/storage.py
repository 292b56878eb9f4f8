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
from collections.abc import Callable, Mapping
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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (synced to disk) so that the file is either absent or complete."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    atomic_write(path, write)


def write_json(path: Path, obj: Mapping[str, Any], compact: bool = False) -> None:
    """Atomically write a JSON document (``compact``: no indentation, for a full disk)."""
    text = json.dumps(obj, default=str) if compact else json.dumps(obj, indent=2, default=str)
    atomic_write_bytes(path, (text + "\n").encode())


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
    for folder in (run_dir, run_dir / RUNS, run_dir / "daily"):
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


def read_runs(run_dir: Path | str, columns: list[str] | None = None) -> pd.DataFrame:
    """The whole runs table of a results folder, parts in name order.

    Args:
        run_dir: the results folder.
        columns: read only these columns (those a part lacks are skipped).
    """
    parts = sorted((Path(run_dir) / RUNS).glob("*.parquet"))
    if not parts:
        raise FileNotFoundError(f"no result parts in {Path(run_dir) / RUNS}")
    if columns is None:
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    import pyarrow.parquet as pq

    present = set(pq.read_schema(parts[0]).names)
    wanted = [c for c in dict.fromkeys(columns) if c in present]
    return pd.concat([pd.read_parquet(p, columns=wanted) for p in parts], ignore_index=True)
