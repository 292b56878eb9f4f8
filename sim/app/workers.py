"""The page's ensemble workers: processes that simulate the survival curve's truces.

A slider release asks for a few hundred truces under the new settings. They are
simulated in worker processes, not in the page's server process: the server
stays free to draw and send the page, and two students moving sliders at once
each get a core (the model is Python-bound, so threads would take turns). The
pool is shared by every browser tab of one ``truce app`` and started once, when
the page module is imported (:func:`warm_up`), so that the first release does not
wait for the workers to import NumPy and the model.

Each call runs one chunk (:func:`sim.experiment.runner.run_one`); the caller
(:func:`sim.app.truces.ensemble_progress`) asks for the next chunk only if its
result is still wanted, which is how a newer slider release cancels an older one.

``TRUCE_APP_WORKERS=0`` runs the chunks in the calling thread instead (tests that
render the page in-process use it).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor

import pandas as pd

from sim.experiment.runner import run_one
from sim.scenario.schema import Scenario

#: Environment variable: the number of worker processes (0: run in the calling thread).
WORKERS_ENV = "TRUCE_APP_WORKERS"

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _exit_with_parent(parent: int) -> None:
    """In a worker: exit as soon as the server that started it is gone (killed, not stopped)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def worker_count() -> int:
    """Worker processes to start: ``TRUCE_APP_WORKERS``, or one per core, at most 4."""
    given = os.environ.get(WORKERS_ENV)
    if given is not None and given.strip().isdigit():
        return int(given)
    return max(1, min(4, os.cpu_count() or 1))


def pool() -> ProcessPoolExecutor | None:
    """The shared pool (started on first use), or None when chunks run in-thread."""
    global _pool
    count = worker_count()
    if count == 0:
        return None
    with _lock:
        if _pool is None:
            # spawn, not fork: the server process runs threads (Solara's, the tasks').
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(
                max_workers=count,
                mp_context=context,
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
        return _pool


def warm_up() -> list[Future]:
    """Start every worker now (each imports the model), without waiting for them."""
    executor = pool()
    if executor is None:
        return []
    # One small truce each: the worker imports the model (not this page) and runs it once.
    return [executor.submit(run_one, Scenario(), 0, 1) for _ in range(worker_count())]


def submit_chunk(
    scenario: Scenario, seed: int, replicates: int, chunk: int, start: int
) -> Future[pd.DataFrame]:
    """Run one chunk of truces in a worker (or here, without workers); a future of its table."""
    executor = pool()
    if executor is None:
        done: Future[pd.DataFrame] = Future()
        try:
            done.set_result(run_one(scenario, seed, replicates, chunk, start))
        except Exception as exc:  # handed to the caller through the future, as a pool would
            done.set_exception(exc)
        return done
    return executor.submit(run_one, scenario, seed, replicates, chunk, start)
