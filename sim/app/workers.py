"""The page's ensemble workers: processes that simulate the survival curve's truces.

A slider release asks for a few hundred truces under the new settings. They are
simulated in worker processes, not in the page's server process: the server
stays free to draw and send the page, and two students moving sliders at once
each get a core (the model is Python-bound, so threads would take turns). The
pool is shared by every browser tab of one ``truce app`` and started once, when
the page module is imported (:func:`warm_up`), so that the first release does not
wait for the workers to import NumPy, the model and plotly.

The workers also draw: :func:`chunk_with_figure` runs a chunk and returns, beside
its table, the survival chart as plotly JSON ready for the browser, so building
the figure (plotly's validation holds the GIL for tens of milliseconds) does not
stall the server that every student's page talks to.

Work is handed to the pool by priority (:func:`submit`): never more tasks than
workers are in the pool at once, and a free worker takes the most urgent task
waiting (a first curve before the rest of an ensemble, then first come, first
served). So the first curve of a second student does not queue behind the 250
truces of the first one, and a task cancelled while it waits (a newer release)
never runs.

A task already running is stopped too: every task carries a token, and
cancelling its future once a worker has it raises the token's flag in an array
the server and its workers share. The ensemble's chunks run day by day and look
at their flag before each day (:func:`run_stoppable`), so a fast run of slider
releases frees the workers within a day of the model instead of finishing
truces nobody will see.

Pages share work (:func:`submit_shared`): a task asked again under the same key
(the same chunk of the same setting, by another student's page or by this page
going back to a setting it showed) runs once; the last :data:`KEEP` results are
kept (``TRUCE_APP_KEEP``); a running task is stopped only when every page that
asked for it has withdrawn.

``TRUCE_APP_WORKERS=0`` runs the tasks in the calling thread instead (tests that
render the page in-process use it).
"""

from __future__ import annotations

import gc
import heapq
import itertools
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from typing import Any

import pandas as pd

from sim.app.trace import mark
from sim.experiment.runner import forget, place_chunk, run_one
from sim.model.model import CeasefireModel
from sim.scenario.schema import Scenario

#: Environment variable: the number of worker processes (0: run in the calling thread).
WORKERS_ENV = "TRUCE_APP_WORKERS"
#: Priorities of :func:`submit` (lower runs first): what the eye waits for first.
URGENT, LATER = 0, 1

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
#: Tasks waiting for a free worker: (priority, order, future, function, args).
_waiting: list[tuple[int, int, Task, Callable[..., Any], tuple]] = []
_running = 0
#: The URGENT tasks running now (their tokens).
_urgent: set[int] = set()
#: Whether LATER tasks wait while an URGENT one runs (:func:`_dispatch`).
HOLD_LATER = os.environ.get("TRUCE_APP_HOLD_LATER", "1") == "1"
_order = itertools.count()
#: Slots of the shared stop flags: a task's token ``t`` is stopped when ``flags[t % SLOTS] == t``.
SLOTS = 4096
#: The stop flags the server and its workers share (set in each worker by :func:`_start_worker`).
_flags: Any = multiprocessing.get_context("spawn").RawArray("q", SLOTS)
_tokens = itertools.count(1)
#: The token of the task this thread runs (:func:`stopped`).
_current = threading.local()


class Task(Future):
    """A future of a task handed to the workers, with the token that can stop it running."""

    def __init__(self, token: int):
        super().__init__()
        self.token = token

    def cancel(self) -> bool:
        """Withdraw the task if it waits; if it runs, ask it to stop (then return False)."""
        if super().cancel():
            return True
        if not self.done():
            _flags[self.token % SLOTS] = self.token
        return False


def stopped() -> bool:
    """In a task: whether its future was cancelled while it ran (it should stop now)."""
    token = getattr(_current, "token", 0)
    return token > 0 and _flags[token % SLOTS] == token


def _with_token(token: int, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` as the task ``token`` (:func:`stopped` answers for it)."""
    _current.token = token
    try:
        return fn(*args)
    finally:
        _current.token = 0


def _start_worker(parent: int, flags: Any) -> None:
    """In a worker, at start: share the server's stop flags, exit when the server is gone."""
    global _flags
    _flags = flags
    _exit_with_parent(parent)


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
                initializer=_start_worker,
                initargs=(os.getpid(), _flags),
            )
        return _pool


def _prepare() -> None:
    """In a worker, at start: import what the tasks use and run one small truce.

    A worker lives as long as the page, so it uses the compiled day when numba is
    installed (``TRUCE_ENGINE`` unset): its import and the cached kernels are paid once
    here, and a 50-truce curve then costs about a quarter of its NumPy time. The two
    engines give the same truces bit for bit (``tests/test_kernels.py``).
    """
    from sim.app import figures  # noqa: F401 (imports plotly and the report's charts)
    from sim.model import kernels

    if "TRUCE_ENGINE" not in os.environ and kernels.warm():
        os.environ["TRUCE_ENGINE"] = "numba"
    run_one(Scenario(), 0, 1)
    # What is loaded now lives as long as the worker: out of the collector's way, so a
    # full collection during a chunk walks the chunk's objects only, not every module's.
    gc.collect()
    gc.freeze()


def warm_up() -> list[Future]:
    """Start every worker now (each imports the model and plotly), without waiting for them."""
    executor = pool()
    if executor is None:
        return []
    return [executor.submit(_prepare) for _ in range(worker_count())]


def submit(priority: int, fn: Callable[..., Any], *args: Any) -> Task:
    """Run ``fn(*args)`` in a worker when one is free, the lowest ``priority`` first.

    Returns a future of its result; cancelling it before a worker takes it
    means it never runs, cancelling it while it runs makes :func:`stopped` true
    in the task. Without workers it runs now, in this thread.
    """
    executor = pool()
    future = Task(next(_tokens))
    if executor is None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(_with_token(future.token, fn, *args))
            except Exception as exc:  # handed to the caller through the future
                future.set_exception(exc)
        return future
    with _lock:
        heapq.heappush(_waiting, (priority, next(_order), future, fn, args))
    _dispatch(executor)
    return future


def _dispatch(executor: ProcessPoolExecutor) -> None:
    """Hand waiting tasks to the pool while it has a free worker.

    A :data:`LATER` task also waits while an :data:`URGENT` one runs
    (:data:`HOLD_LATER`): on two cores the first curve's truces then have a core
    of their own beside the server and the browser.
    """
    global _running
    while True:
        with _lock:
            if _running >= worker_count() or not _waiting:
                return
            if HOLD_LATER and _waiting[0][0] > URGENT and _urgent:
                return
            priority, _, future, fn, args = heapq.heappop(_waiting)
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while it waited
            _running += 1
            if priority == URGENT:
                _urgent.add(future.token)
        try:
            inner = executor.submit(_with_token, future.token, fn, *args)
        except Exception as exc:  # the pool is shut down or broken
            with _lock:
                _running -= 1
                _urgent.discard(future.token)
            future.set_exception(exc)
            continue
        inner.add_done_callback(partial(_finished, executor, future))


def _finished(executor: ProcessPoolExecutor, future: Task, done: Future) -> None:
    """The pool's task ``done`` has ended: hand its outcome to ``future``, dispatch the next."""
    global _running
    mark("worker-returned")
    with _lock:
        _running -= 1
        _urgent.discard(future.token)
    if done.cancelled():
        future.cancel()
    elif done.exception() is not None:
        future.set_exception(done.exception())
    else:
        future.set_result(done.result())
    _dispatch(executor)


#: Environment variable: how many results of shared tasks are kept (default 64; 0: none).
KEEP_ENV = "TRUCE_APP_KEEP"
#: Results of shared tasks kept for a later ask (:func:`submit_shared`), most recent last:
#: a few hundred truces' table or a chart each, some 100 kB.
KEEP = int(os.environ.get(KEEP_ENV, "64") or 64)
_shared_lock = threading.Lock()
_shared: dict[Hashable, _Shared] = {}
_kept: OrderedDict[Hashable, Any] = OrderedDict()


class _Shared:
    """A task running for every page that asked for its key, and those pages' futures."""

    def __init__(self, key: Hashable, task: Task):
        self.key = key
        self.task = task
        self.handles: set[_Handle] = set()


class _Handle(Task):
    """One page's future of a shared task: cancelling it withdraws this page alone."""

    def __init__(self, entry: _Shared | None = None):
        super().__init__(0)
        self.entry = entry

    def cancel(self) -> bool:
        """Withdraw this page; the task itself is withdrawn or stopped once no page wants it."""
        with _shared_lock:
            if not super(Task, self).cancel():
                return False
            entry = self.entry
            if entry is None:
                return True
            entry.handles.discard(self)
            orphan = not entry.handles
            if orphan and _shared.get(entry.key) is entry:
                # Being withdrawn or stopped: a later ask of the key starts a task of its
                # own rather than follow this one to its stop (a result of None).
                del _shared[entry.key]
        if orphan:
            entry.task.cancel()
        return True


def submit_shared(key: Hashable, priority: int, fn: Callable[..., Any], *args: Any) -> Task:
    """:func:`submit`, with the task shared by every caller that gives the same ``key``.

    The first ask submits ``fn(*args)``; an ask of the same key while it waits or
    runs follows the same task; an ask after it finished gets the kept result at
    once (the last :data:`KEEP` results are kept; a result of None, a task
    stopped, is not). ``key`` must say everything the result depends on.

    Returns:
        This caller's future: cancelling it withdraws this caller alone (the task is
        withdrawn, or stopped, once every caller has cancelled).
    """
    handle = _Handle()
    with _shared_lock:
        if key in _kept:
            _kept.move_to_end(key)
            handle.set_result(_kept[key])
            return handle
        entry = _shared.get(key)
        if entry is None:
            entry = _Shared(key, Task(0))  # its task submitted below, outside the lock
            _shared[key] = entry
            fresh = True
        else:
            fresh = False
        handle.entry = entry
        entry.handles.add(handle)
    if fresh:  # submitting may run the task here (no workers): not under the lock
        entry.task = submit(priority, fn, *args)
        entry.task.add_done_callback(partial(_settle, key, entry))
    return handle


def _settle(key: Hashable, entry: _Shared, task: Future) -> None:
    """A shared task has ended: keep its result, hand it to every caller still waiting."""
    with _shared_lock:
        if _shared.get(key) is entry:
            del _shared[key]
        ok = not task.cancelled() and task.exception() is None and task.result() is not None
        if ok and KEEP > 0:
            _kept[key] = task.result()
            while len(_kept) > KEEP:
                _kept.popitem(last=False)
        handles = [h for h in entry.handles if not h.done()]
        entry.handles.clear()
    for handle in handles:
        if task.cancelled():
            handle.cancel()
        elif task.exception() is not None:
            handle.set_exception(task.exception())
        else:
            handle.set_result(task.result())


def forget_shared() -> None:
    """Drop every kept result (tests; a server changing its scenarios)."""
    with _shared_lock:
        _kept.clear()


def run_stoppable(
    scenario: Scenario, seed: int, replicates: int, chunk: int = 0, start: int = 0
) -> pd.DataFrame | None:
    """:func:`~sim.experiment.runner.run_one`'s table, or None if the task was stopped.

    The same truces as ``run_one`` (the same model, stepped the same days: the
    runner's ``CeasefireModel.run`` is this loop), but :func:`stopped` is asked
    before every day, so a cancelled chunk ends within a day of the model.
    """
    model = CeasefireModel(scenario, replicates=replicates, seed=seed, chunk=chunk, collect=False)
    while model.running:
        if stopped():
            forget(model)
            mark("worker-stopped", chunk=chunk, day=int(model.day))
            return None
        model.step()
    table = model.results()
    forget(model)
    return place_chunk(table, chunk, start)


def chunk_with_figure(
    scenario: Scenario,
    seed: int,
    replicates: int,
    chunk: int,
    start: int,
    previous: pd.DataFrame | None,
) -> tuple[pd.DataFrame, str] | None:
    """In a worker: one chunk's table and the survival chart of its truces (plotly JSON).

    None if the task was stopped while it ran (:func:`run_stoppable`).
    """
    from sim.app.figures import ensemble_json

    mark("worker-start", chunk=chunk)
    runs = run_stoppable(scenario, seed, replicates, chunk, start)
    if runs is None:
        return None
    mark("worker-ran", chunk=chunk)
    figure = ensemble_json(runs.drop(columns="chunk"), previous)
    mark("worker-drew", chunk=chunk)
    return runs, figure


def figure_of(runs: pd.DataFrame, previous: pd.DataFrame | None) -> str:
    """In a worker: the survival chart of ``runs`` (plotly JSON), previous curve faint."""
    from sim.app.figures import ensemble_json

    mark("worker-start", chunk="all")
    figure = ensemble_json(runs, previous)
    mark("worker-drew", chunk="all")
    return figure
