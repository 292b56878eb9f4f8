"""The day's hot spots, compiled with numba when it pays, in pure NumPy otherwise.

Each function here has two implementations that give the same numbers bit for bit:
the NumPy one (always available; the reference) and a numba one
(:mod:`sim.model._compiled`, ``cache=True``: compiled once per machine, then loaded
from numba's on-disk cache). The compiled ones only add integers or repeat the
NumPy path's floating-point operations in the same order, so they cannot round
differently; ``tests/test_kernels.py`` checks them against the NumPy path on
random inputs and random scenarios.

Which one a model uses is fixed when it is built (:func:`for_width`), from the
environment variable ``TRUCE_ENGINE``:

- ``numpy``: always NumPy;
- ``numba``: always compiled (an error if numba is not installed);
- ``auto`` (the default): compiled for chunks of at least :data:`AUTO_MIN_WIDTH`
  truces when numba is installed, NumPy otherwise. Importing numba costs about half a
  second (more the first time, when the kernels are compiled and cached), which a
  small interactive run would not earn back.
"""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType

import numpy as np

ENGINES = ("auto", "numpy", "numba")

#: Under ``auto``, chunks at least this wide use the compiled kernels (``benchmarks/README.md``).
AUTO_MIN_WIDTH = 5000


def engine() -> str:
    """The engine asked for in ``TRUCE_ENGINE``: ``auto`` (default), ``numpy`` or ``numba``."""
    name = os.environ.get("TRUCE_ENGINE", "auto") or "auto"
    if name not in ENGINES:
        raise ValueError(f"TRUCE_ENGINE must be one of {', '.join(ENGINES)}, not {name!r}")
    return name


def numba_available() -> bool:
    """Whether numba is installed (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def for_width(width: int) -> ModuleType | None:
    """The compiled kernels for a chunk of ``width`` truces, or None for the NumPy path."""
    name = engine()
    if name == "numpy":
        return None
    if name == "numba":
        if not numba_available():
            raise ImportError("TRUCE_ENGINE=numba needs numba: pip install 'truce-sim[fast]'")
        return compiled()
    if width >= AUTO_MIN_WIDTH and numba_available():
        return compiled()
    return None


def compiled() -> ModuleType:
    """The numba kernels (imported, and compiled or loaded from the cache, on first use)."""
    from sim.model import _compiled

    return _compiled


# ---------------------------------------------------------------- NumPy reference versions


def tally_numpy(
    fired: np.ndarray,
    origin: np.ndarray,
    theatre: np.ndarray,
    weight: np.ndarray,
    actor: np.ndarray,
    target: np.ndarray,
    retaliation: np.ndarray,
    wrong: np.ndarray,
    detected: np.ndarray,
    correct: np.ndarray,
    n_theatres: int,
    n_cells: int,
    n_parties: int,
    n_principals: int,
) -> tuple[np.ndarray, ...]:
    """The day's weighted counts of the acts that fired, per replicate (the NumPy reference).

    Returns ``by_cell`` (origin × theatre, R), ``by_party`` (parties, R), ``suffered``
    (principals, R), and per replicate: retaliations, wrong retaliations, detected,
    attributed.
    """
    r = fired.shape[1]
    rows, cols = np.nonzero(fired)
    w = weight[rows, cols]

    def count(values: np.ndarray, size: int) -> np.ndarray:
        flat = values * r + cols
        return np.bincount(flat, weights=w, minlength=size * r).reshape(size, r).astype(np.int64)

    def per_replicate(keep: np.ndarray) -> np.ndarray:
        return np.bincount(cols[keep], weights=w[keep], minlength=r).astype(np.int64)

    ret = retaliation[rows]
    return (
        count(origin[rows, cols] * n_theatres + theatre[rows, cols], n_cells),
        count(actor[rows, cols], n_parties),
        count(target[rows, cols], n_principals),
        per_replicate(ret),
        per_replicate(ret & wrong[rows, cols]),
        per_replicate(detected[rows, cols]),
        per_replicate(correct[rows, cols]),
    )
