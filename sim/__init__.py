"""Ceasefire durability simulator.

``sim.run``, ``sim.compare``, ``sim.sweep``, ``sim.trace`` and ``sim.as_function``
(from :mod:`sim.api`) are loaded on first use, so that ``import sim`` stays cheap and
has no side effects.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "run": "sim.api",
    "compare": "sim.api",
    "sweep": "sim.api",
    "Result": "sim.api",
    "trace": "sim.api",
    "as_function": "sim.api",
    "ModelFunction": "sim.api",
    "rerun": "sim.api",
    "Rerun": "sim.api",
    "load": "sim.api",
}

__all__ = [
    "ModelFunction",
    "Rerun",
    "Result",
    "__version__",
    "as_function",
    "compare",
    "load",
    "rerun",
    "run",
    "sweep",
    "trace",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
