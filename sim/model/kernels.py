"""Compiled kernels of the day's hot spots, with the pure-NumPy path kept (placeholder)."""

from __future__ import annotations


def engine() -> str:
    """The engine of the day's kernels: ``"numpy"``."""
    return "numpy"
