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
- ``auto`` (the default): compiled when the process will run enough to pay for numba,
  NumPy otherwise (or when numba is not installed). Importing numba and loading the cached
  kernels costs about 0.3-0.45 s of CPU (the cached kernels are loaded without numba's
  compiler registries or their LLVM bitcode:
  :func:`sim.model._compiled._load_from_the_cache`); where numba's cache does not hold
  them yet (:func:`cached`: a first run, a new numba, an edited kernel) loading them is
  compiling them, ~30 s, and only work that saves more than that is compiled (a compiled
  run to its end, or :func:`warm`, leaves them cached). The compiled day saves about 2 ms
  of NumPy's per-call overhead a day of any chunk, and ~1 us a truce-day more
  (:func:`saving`). A study knows its work in advance: it tells each of its processes (its
  workers, or itself when it runs serially) the seconds its chunks would save
  (:func:`expect`, :func:`expecting`), and they compile from the first chunk when that
  pays for the load, however narrow the chunks (a sweep of thousands of 20-truce points
  runs ~15x faster compiled). A process that does not know (a script building models in a
  loop) counts what its chunks of at least :data:`AUTO_CHUNK_WIDTH` truces would have
  saved, and compiles once that would have paid for the load (at most twice what knowing
  in advance would cost); narrower chunks (a played or traced truce, ``mesa.batch_run``'s
  one-truce models) do not count. A lone chunk of 1,000 truces over 180 days pays for
  itself, one over 90 days does not; workers forked from a study's process share one load
  (the process loads the kernels before it forks them), so they are told the whole study's
  saving: the interactive compare (two chunks of 1,000 over 180 days, one a forked worker)
  is compiled.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np

ENGINES = ("auto", "numpy", "numba")

#: CPU seconds numba's import and the cached kernels' load cost a fresh process (0.55-0.65 s
#: measured in sessions 10-12; 0.46-0.65 s since session 14 loads the cached kernels without
#: numba's compiler registries; 0.28-0.44 s since session 16 loads them without parsing their
#: LLVM bitcode, ``benchmarks/numba_load.py``). The upper end: a lone 1,000-truce chunk over
#: 180 days saves more (0.42-0.79 s measured), and a one-off ``truce run`` of it was 0.16 s
#: faster compiled in 8 of 8 alternated pairs (``benchmarks/README.md``, "Session 16").
LOAD_SECONDS = 0.45
#: CPU seconds compiling the day's kernels costs where numba's on-disk cache does not hold
#: them (a machine's first compiled run, another numba, or the kernels' source changed):
#: 28.7 s measured (``kernels.warm()`` into an empty ``NUMBA_CACHE_DIR``, session 15).
#: ``auto`` weighs it instead of :data:`LOAD_SECONDS` where :func:`cached` says no.
COMPILE_SECONDS = 30.0
#: The file, beside numba's cache of the kernels, that says the cache holds them (:func:`cached`).
MARKER = "truce-day.cached"
#: CPU seconds the compiled day saves a day of a chunk, whatever its width (NumPy's ~700
#: calls a day; ~2.1 ms measured at 10-100 truces), and a truce-day more (1-4 us measured
#: at 300-2,500 truces; the lower end: ``benchmarks/README.md``, "Sessions 11 and 12", and
#: "Session 13").
SAVED_A_DAY = 2.0e-3
SAVED_A_TRUCE_DAY = 1.2e-6
#: Chunks at least this wide count toward paying for numba in a process that was not
#: told its work (:func:`for_width`): a script's own chunks, not a played truce or
#: ``mesa.batch_run``'s one-truce models.
AUTO_CHUNK_WIDTH = 500

#: Seconds the compiled day would have saved on the chunks asked for so far in this
#: process under ``auto`` (those at least :data:`AUTO_CHUNK_WIDTH` wide; :func:`for_width`).
_asked = 0.0
#: Seconds this process was told its chunks would save (:func:`expect`).
_expected = 0.0
#: Whether this process has written :data:`MARKER` (:func:`mark_cached`).
_marked = False


def saving(width: int, days: int) -> float:
    """CPU seconds the compiled day saves on a chunk of ``width`` truces over ``days`` days.

    An estimate from :data:`SAVED_A_DAY` and :data:`SAVED_A_TRUCE_DAY` (the horizon's
    days: a chunk whose truces all end sooner stops sooner).
    """
    return days * (SAVED_A_DAY + SAVED_A_TRUCE_DAY * width)


def expect(seconds: float) -> None:
    """Tell ``auto`` the compiled day would save this process about ``seconds`` of CPU.

    A study's worker, told its share of the study's chunks (:func:`saving` summed). When
    that pays for the load (:data:`LOAD_SECONDS`), every chunk it runs is compiled from
    the first, whatever its width, instead of NumPy's day until the chunks run would have
    paid for it: numba's import is paid once either way, and a study's workers each paid
    that warm-up (issue 14: 2 workers vs 1 fell to 1.3x once the compiled day was fast).
    """
    global _expected
    _expected = max(_expected, float(seconds))


@contextlib.contextmanager
def expecting(seconds: float) -> Iterator[None]:
    """:func:`expect` for the duration of a ``with`` block: a study run in this process."""
    global _expected
    before = _expected
    expect(seconds)
    try:
        yield
    finally:
        _expected = before


def start_afresh(seconds: float = 0.0) -> None:
    """Forget the chunks asked for and expected in this process, then :func:`expect` ``seconds``.

    For a worker ``fork``-ed from a process that ran chunks already: it decides as a
    fresh process told its share would.
    """
    global _asked, _expected
    _asked = _expected = 0.0
    expect(seconds)


def engine() -> str:
    """The engine asked for in ``TRUCE_ENGINE``: ``auto`` (default), ``numpy`` or ``numba``."""
    name = os.environ.get("TRUCE_ENGINE", "auto") or "auto"
    if name not in ENGINES:
        raise ValueError(f"TRUCE_ENGINE must be one of {', '.join(ENGINES)}, not {name!r}")
    return name


def numba_available() -> bool:
    """Whether numba is installed (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def for_width(width: int, days: int = 180) -> ModuleType | None:
    """The compiled kernels for a chunk of ``width`` truces over ``days``, or None for NumPy."""
    name = engine()
    if name == "numpy":
        return None
    if name == "numba":
        if not numba_available():
            raise ImportError("TRUCE_ENGINE=numba needs numba: pip install 'truce-sim[fast]'")
        return compiled()
    global _asked
    fast = would_compile(width, days)
    if width >= AUTO_CHUNK_WIDTH:
        _asked += saving(width, days)
    return compiled() if fast else None


def would_compile(width: int, days: int = 180) -> bool:
    """Whether a chunk of ``width`` truces over ``days`` built now would run the compiled day.

    What :func:`for_width` decides, without counting the chunk as asked for.
    """
    return _would_compile(width, days, _asked, _expected)


def would_compile_afresh(width: int, days: int, seconds: float) -> bool:
    """Whether a fresh process told to expect ``seconds`` saved compiles such chunks.

    What a study's worker decides for its chunks, decided before it starts: a driver
    about to ``fork`` such workers loads the kernels first, once, for all of them.
    """
    return _would_compile(width, days, 0.0, seconds)


def _would_compile(width: int, days: int, asked: float, expected: float) -> bool:
    name = engine()
    if name != "auto":
        return name == "numba"
    ran = asked + saving(width, days) if width >= AUTO_CHUNK_WIDTH else 0.0
    saved = max(expected, ran)  # told its work (a study's process), or what its chunks saved
    if saved < LOAD_SECONDS or not numba_available():
        return False
    return saved >= COMPILE_SECONDS or cached()


def cached() -> bool:
    """Whether numba's on-disk cache holds the compiled day here, found without importing numba.

    True where a process ran the compiled day to its end (or :func:`warm`) with this
    source of the kernels, this numba and this Python, and so left them in numba's cache
    (:func:`mark_cached`). Else the first compiled run compiles them, ~30 s
    (:data:`COMPILE_SECONDS`): ``auto`` then keeps work that saves less on NumPy (the
    interactive compare of a ``pip install 'truce-sim[fast]'`` that nothing warmed).
    """
    folder = _cache_folder()
    if folder is None:
        return False
    try:
        return (folder / MARKER).read_text() == _fingerprint()
    except (OSError, ValueError):
        return False


def mark_cached() -> None:
    """Record beside numba's cache that it holds the compiled day (:func:`cached`), once a process.

    Written where numba caches the kernels after a process has loaded (or compiled and
    saved) them all; nothing is written where that folder cannot be written.
    """
    global _marked
    if _marked:
        return
    _marked = True
    folder = _cache_folder()
    if folder is None:
        return
    marker = folder / MARKER
    try:
        text = _fingerprint()
        if marker.exists() and marker.read_text() == text:
            return
        write_whole(marker, text)
    except (OSError, ValueError):
        pass


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all, though processes may write it at once.

    Each process writes its own ``.part`` file beside ``path``, then renames it over
    ``path`` (atomic on one file system): a reader finds the old text or the new, never a
    mix. Raises OSError where it cannot be written, with its part removed.
    """
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        part.write_text(text, encoding="utf-8")
        os.replace(part, path)
    except OSError:
        part.unlink(missing_ok=True)
        raise


def _source() -> Path:
    """The kernels' source file, whose hash numba's cache is keyed by."""
    return Path(__file__).with_name("_compiled.py")


@functools.cache
def _fingerprint() -> str:
    """What the kernels' cache depends on: their source, numba's installation, the Python.

    Once a process (``auto`` asks for every model built): the kernels it would load are those
    of its start.
    """
    spec = importlib.util.find_spec("numba")
    if spec is None or spec.origin is None:
        raise ValueError("numba is not installed")
    numba_init = os.stat(spec.origin)
    source = hashlib.sha256(_source().read_bytes()).hexdigest()
    return (
        f"{source} {spec.origin} {numba_init.st_mtime_ns} {numba_init.st_size} "
        f"{sys.implementation.cache_tag}"
    )


def _cache_folder() -> Path | None:
    """Where numba caches the kernels: its cache locators' choice, in their order.

    ``NUMBA_CACHE_DIR`` (a folder named for the source's folder), else ``__pycache__``
    beside the source where it can be written, else the user's cache directory (Linux and
    macOS; None elsewhere). ``tests/test_kernels.py`` checks it against numba's own.
    """
    folder = _source().parent.absolute()
    named = f"{folder.name}_{hashlib.sha1(str(folder).encode()).hexdigest()}"
    given = os.environ.get("NUMBA_CACHE_DIR")
    if given:
        return Path(given) / named
    in_tree = folder / "__pycache__"
    if os.access(in_tree if in_tree.exists() else folder, os.W_OK):
        return in_tree
    if sys.platform.startswith("linux"):
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        return None
    return base / "numba" / named


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
        mark_cached()
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
