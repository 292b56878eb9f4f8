"""Ceasefire durability simulator.

``sim.run``, ``sim.compare`` and ``sim.sweep`` (from :mod:`sim.experiment.study`) and
``sim.trace`` (from :mod:`sim.experiment.runner`) are loaded on first use, so that
``import sim`` stays cheap and has no side effects.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "run": "sim.experiment.study",
    "compare": "sim.experiment.study",
    "sweep": "sim.experiment.study",
    "Result": "sim.experiment.study",
    "trace": "sim.experiment.runner",
}

__all__ = ["Result", "__version__", "compare", "run", "sweep", "trace"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
