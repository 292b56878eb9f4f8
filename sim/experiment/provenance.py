"""What every result records about how it was made: versions, git commit, time."""

from __future__ import annotations

import functools
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "truce-sim",
    "mesa",
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "pydantic",
    "plotly",
    "pyyaml",
    "salib",  # draws the Sobol and Morris designs and computes their indices
    "dask",  # the dask engine
    "distributed",  # the dask engine's cluster and workers
)


def versions() -> dict[str, str]:
    """Python and the versions of the packages that shape the results."""
    return dict(_versions())


@functools.cache
def _versions() -> dict[str, str]:
    """The versions, read once per process (reading package metadata takes ~10 ms)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str | None:
    """The commit of the checkout the package runs from, with ``-dirty`` if modified."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def now() -> str:
    """The current time, UTC, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def stamp() -> dict[str, Any]:
    """The provenance every stored result records: ``versions``, ``git_commit``, ``started``."""
    return {"versions": versions(), "git_commit": git_commit(), "started": now()}
