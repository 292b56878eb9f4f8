"""Compiled kernels of the day's hot spots, with the pure-NumPy path kept (placeholder)."""

from __future__ import annotations

import os

ENGINES = ("auto", "numpy", "numba")


def engine() -> str:
    """The engine of the day's kernels, from ``TRUCE_ENGINE`` (``auto`` by default)."""
    name = os.environ.get("TRUCE_ENGINE", "auto") or "auto"
    if name not in ENGINES:
        raise ValueError(f"TRUCE_ENGINE must be one of {', '.join(ENGINES)}, not {name!r}")
    return name
