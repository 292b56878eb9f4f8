"""Results on disk: ``results/<scenario>/<timestamp>/`` with Parquet parts and a manifest.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), so
a file that exists is complete. The manifest's ``status`` says whether the run
finished (``complete``) or stopped part-way (``running``).
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
RUNS = "runs"


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


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Create ``path`` so that it is either absent or complete.

    ``write`` fills a temporary file in the same folder (it gets the file's
    name); the file is then renamed to ``path``, or removed if ``write`` raised.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
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


def write_json(path: Path, obj: Mapping[str, Any]) -> None:
    """Atomically write a JSON document."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=str) + "\n").encode())


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
