"""The day compiled with numba when it pays, in pure NumPy otherwise.

Two implementations give the same numbers bit for bit: the NumPy one (the agents'
methods and the model's ``_<phase>`` methods; always available, the reference) and
the compiled one (:mod:`sim.model._compiled`, ``cache=True``: compiled once per
machine, then loaded from numba's on-disk cache). The compiled day
(:meth:`sim.model.model.CeasefireModel._step_compiled`) runs every phase but the shifts
and the mediator (Python) as loops over the truces, one kernel call per phase, reading
the same pre-drawn uniforms (in the streams' buffers, through the live truces' columns
``ids``) and writing the same state in place; each kernel's arguments are built once
and again only when compaction replaces the arrays they hold, and each kernel is called
through its compiled entry point (its argument types resolved once, and remembered by
what decides them). The heavier kernels compute each quantity for every truce at once,
the truces innermost with the conditions outside the loop, so that the compiler may
compute several truces in one instruction (each truce still gets the agents' operations
in their order); the acts that fired are walked one by one. Its loops only add
integers or repeat the NumPy path's floating-point operations in the same order (no
``fastmath``); the exponentials and powers, for which NumPy's SIMD routines may differ
from the C library's in the last bit, are NumPy's (computed between two kernels, or
looked up in tables NumPy computed). ``tests/test_kernels.py`` checks the two paths
equal on random scenarios. Human players and traced runs use the agents' methods for
the agents' phases (:meth:`sim.model.model.CeasefireModel.step`).

Which one a model uses is fixed when it is built (:func:`for_width`), from the
environment variable ``TRUCE_ENGINE``:

- ``numpy``: always NumPy;
- ``numba``: always compiled (an error if numba is not installed);
- ``auto`` (the default): compiled for chunks of at least :data:`AUTO_MIN_WIDTH`
  truces when numba is installed, NumPy otherwise. Importing numba and loading the
  cached kernels costs about 0.5-0.7 s of CPU (much more the first time, when they are
  compiled), which a chunk of 1,000 truces does not earn back (``benchmarks/README.md``).
  A process that runs many narrower chunks (a long run or a sweep, chunk after chunk)
  does earn it back: once it has asked for :data:`AUTO_MIN_WIDTH` truces in chunks of
  at least :data:`AUTO_CHUNK_WIDTH`, its later chunks of that width are compiled too (it
  pays for the import once it has run as many truces as would have paid for it, at
  most twice what knowing its length in advance would cost). A study's workers know it:
  they are told their share of the study's truces (:func:`expect`) and compile their
  chunks from the first when the share is that large. The interactive compare (two
  chunks of 1,000, one a worker) stays on NumPy.
"""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType

import numpy as np

ENGINES = ("auto", "numpy", "numba")

#: Under ``auto``, chunks at least this wide use the compiled day: a 180-day chunk saves
#: ~0.25-0.3 ms of CPU a truce, against ~0.65 s to import numba and load the kernels
#: (``benchmarks/README.md``, "The compiled day").
AUTO_MIN_WIDTH = 2500
#: ... and, once a process has asked for that many truces in chunks at least this wide,
#: its chunks this wide (the compiled day is faster than NumPy's from ~100 truces once
#: numba is loaded; ``benchmarks/README.md``, "session 6").
AUTO_CHUNK_WIDTH = 500

#: Truces asked for so far in this process under ``auto``, in chunks of at least
#: :data:`AUTO_CHUNK_WIDTH` (:func:`for_width`).
_asked = 0
#: Truces this process was told it will run in such chunks (:func:`expect`).
_expected = 0


def expect(truces: int) -> None:
    """Tell ``auto`` this process will run about ``truces`` truces in chunks wide enough.

    Chunks at least :data:`AUTO_CHUNK_WIDTH` wide (a study's worker, told its share of
    the study). With as many as :data:`AUTO_MIN_WIDTH`, its chunks that wide are compiled from the
    first, instead of after the first :data:`AUTO_MIN_WIDTH` truces on NumPy: numba's
    import is paid once either way, and a study's workers each paid that warm-up
    (issue 14: 2 workers vs 1 fell to 1.3x once the compiled day was fast).
    """
    global _expected
    _expected = max(_expected, int(truces))


def start_afresh(truces: int = 0) -> None:
    """Forget the truces asked for and expected in this process, then :func:`expect` ``truces``.

    For a worker ``fork``-ed from a process that ran chunks already: it decides as a
    fresh process told its share would.
    """
    global _asked, _expected
    _asked = _expected = 0
    expect(truces)


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
    global _asked
    wide = would_compile(width)
    if width >= AUTO_CHUNK_WIDTH:
        _asked += width
    return compiled() if wide else None


def would_compile(width: int) -> bool:
    """Whether a chunk of ``width`` truces built now would run the compiled day.

    What :func:`for_width` decides, without counting the chunk as asked for.
    """
    return _would_compile(width, _asked, _expected)


def would_compile_afresh(width: int, truces: int) -> bool:
    """Whether a fresh process told to expect ``truces`` compiles chunks of ``width``.

    What a study's worker decides for its chunks, decided before it starts: a driver
    about to ``fork`` such workers loads the kernels first, once, for all of them.
    """
    return _would_compile(width, 0, truces)


def _would_compile(width: int, asked: int, expected: int) -> bool:
    name = engine()
    if name != "auto":
        return name == "numba"
    asked = max(asked + (width if width >= AUTO_CHUNK_WIDTH else 0), expected)
    wide = width >= AUTO_MIN_WIDTH or (width >= AUTO_CHUNK_WIDTH and asked > AUTO_MIN_WIDTH)
    return wide and numba_available()


def warm(scenarios: list | None = None) -> bool:
    """Compile the day's kernels, or load them from numba's on-disk cache, by using them.

    Runs two short truces of each scenario with ``TRUCE_ENGINE=numba`` (restored after),
    and compaction's copies of each kind of state, so that a long-lived process (the
    classroom page's workers) or a fresh install (``make app``, ``make test``) pays for
    the compilation once, before anyone waits.

    Args:
        scenarios: the scenarios to run (validated, or paths); default, the default
            scenario with and without a monitoring mission.

    Returns:
        Whether numba is installed (False: nothing was done).
    """
    if not numba_available():
        return False
    from sim.model.model import CeasefireModel

    before = os.environ.get("TRUCE_ENGINE")
    os.environ["TRUCE_ENGINE"] = "numba"
    try:
        for scenario in scenarios or [None, {"monitors.coverage": 0.5}]:
            options = scenario if isinstance(scenario, dict) else {}
            given = None if isinstance(scenario, dict) else scenario
            CeasefireModel(given, replicates=2, seed=0, collect=False, **options).run()
        # Compaction's copies, which chunks this narrow never make (one per kind of state).
        fast, some = compiled(), np.arange(1)
        for dtype in (bool, np.int64, np.float64):
            value, ended = np.zeros((1, 2), dtype), np.zeros((1, 2), dtype)
            fast.expand(fast.compact(value, some, some + 1, some + 1, ended), some, ended)
    finally:
        if before is None:
            os.environ.pop("TRUCE_ENGINE", None)
        else:
            os.environ["TRUCE_ENGINE"] = before
    return True


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
