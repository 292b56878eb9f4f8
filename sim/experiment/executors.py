"""Where chunks run: in this process, in local processes, or on a Dask cluster.

Every engine is a :class:`concurrent.futures.Executor`, so the sweep driver
(:func:`sim.experiment.runner.execute`) does not know which one it is using:

- ``serial``: in this process, one task at a time (:class:`SerialExecutor`);
- ``local``: a :class:`~concurrent.futures.ProcessPoolExecutor` (the default
  engine; ``workers`` defaults to the number of cores available to this
  process), its workers ``fork``-ed from this process where that is safe (one
  thread running) and ``spawn``-ed otherwise; the smallest jobs run in this
  process (see :func:`choose_engine`);
- ``dask``: ``Client(...).get_executor()`` on a running scheduler
  (``scheduler="tcp://host:port"``, e.g. one started by dask-jobqueue on
  SLURM) or on a ``LocalCluster`` started for the run in a process of its own
  and closed after it (:mod:`sim.experiment.cluster`: the scheduler's memory
  is not the driver's).

Nothing is started at import time; heavy imports happen inside :func:`open_executor`.

Local worker processes watch the process that started them and exit when it
is gone (:func:`watch_parent`), so a driver killed outright (``kill -9``, the
OOM killer) leaves no worker running and writing. A LocalCluster's process
does the same (it exits when its standard input, a pipe from the driver,
closes), and Dask's worker processes exit with it.

On SLURM, start a cluster with dask-jobqueue (``pip install truce-sim[slurm]``)
and point the sweep at its scheduler; workers must see the same results
folder (a shared file system), since each writes its own Parquet parts. A
relative ``--out`` is made absolute on the driver before any task is sent, and
the driver checks every part (and its rows) before it marks the run complete::

    from dask_jobqueue import SLURMCluster
    cluster = SLURMCluster(cores=1, processes=1, memory="2GB", walltime="02:00:00")
    cluster.scale(jobs=64)
    print(cluster.scheduler_address)   # then, on the login node:
    # truce sweep scenarios/sweep_monitoring.yaml --engine dask --scheduler tcp://...
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENGINES = ("local", "serial", "dask")
#: Seconds to wait for a Dask scheduler given by address before giving up.
CONNECT_TIMEOUT = 5

#: What to do when worker processes would re-run a script's top-level calls.
MAIN_GUARD_HINT = (
    "worker processes re-import the main script, and this script calls sim at its top "
    'level: put the calls under `if __name__ == "__main__":` (or use engine="local" '
    'or "serial")'
)


class SchedulerUnreachable(RuntimeError):
    """The Dask scheduler given by address did not answer in time."""


#: Entries kept in a LocalCluster's low-level logs (Dask's default 1,000): the scheduler's
#: transitions and the recent messages of its streams, which hold each task pickled; at
#: 1,000 they were ~10-20 MB of the sweep driver's memory when the scheduler ran in it, and
#: are still that much of the cluster process's (issue 14).
DEBUG_LOG_LENGTH = 100


def give_back_memory() -> None:
    """Collect, then hand the C heap's free pages back to the system (glibc's ``malloc_trim``).

    After a Dask client closes, its objects are freed but their pages stay with the
    process; what the sweep does next (its last Parquet writes, its summary) then adds to
    the driver's peak instead of reusing them (issue 14). Elsewhere than glibc, only the
    collection.
    """
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


#: The loggers a Dask client's teardown may write a traceback to when its comms are cut
#: short (an interrupted sweep): tornado's and asyncio's "Exception in callback".
DASK_LOGGERS = ("distributed", "tornado", "tornado.application", "asyncio")


@contextmanager
def quiet_dask_logs() -> Iterator[None]:
    """Keep the Dask client's teardown from logging tracebacks while it closes.

    An interrupted sweep closes its client while tasks are being cancelled; tornado
    and asyncio may then log the cut comms' exceptions, which would bury the one
    clear message the command line prints (issue 14). The loggers' levels are
    restored on exit.
    """
    import logging

    loggers = [logging.getLogger(name) for name in DASK_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class SerialExecutor(Executor):
    """Runs each task in this process when it is submitted (no pool, no pickling)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` now and return its finished future."""
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            future.set_exception(exc)
        return future


@dataclass(frozen=True)
class Plan:
    """The engine, worker count and process start method actually used."""

    engine: str
    workers: int
    start_method: str | None = None


def idle_cores() -> int:
    """Cores that no other thread is running on at this moment (Linux; else 0).

    From the number of runnable threads in ``/proc/loadavg`` (an instantaneous
    count that includes the caller), not the load average, which lags by a
    minute. Where it cannot be read, 0: small jobs then stay in-process.
    """
    try:
        fields = Path("/proc/loadavg").read_text().split()
        running = int(fields[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 0
    others = max(0, running - 1)
    return max(0, min(default_workers(), (os.cpu_count() or 1) - others))


#: Whether jobs of any size may fork their workers (Linux). macOS has ``fork`` too, but
#: its system libraries are not safe to use in a forked child (Python spawns there by
#: default since 3.8): only the small jobs fork there, as before session 9.
FORK_ANY_SIZE = sys.platform.startswith("linux")


def choose_engine(engine: str, workers: int | None, tasks: int, idle: int | None = None) -> Plan:
    """Decide how to run ``tasks`` chunks on ``engine``.

    ``local`` workers are ``fork``-started on Linux (:data:`FORK_ANY_SIZE`) where this
    process runs a single thread (:func:`single_threaded`): they start in
    milliseconds because they inherit the loaded model code, where ``spawn``-ed
    workers import NumPy, pandas and Mesa afresh, about a second each, which two
    workers pay side by side but do not divide (2 workers vs 1 fell from 1.8x to
    1.3-1.7x once the day was compiled; ``benchmarks/README.md``, session 9).
    Forking a process that runs other threads (a notebook's kernel, a web server,
    a Dask client) could copy a lock one of them holds: such processes ``spawn``.
    With no worker count asked for, small jobs are run cheaply: up to two tasks
    per core always ``fork``; one task, and two when fewer than two cores are idle,
    run in this process (``serial``): forked workers only pay off with a core each
    to run on (a 2-arm, 1,000-replicate comparison took 1.43 s on two forked
    workers and 1.70 s in-process on an idle 2-core machine, but 2.1 s against
    1.9 s with both cores busy with other jobs; see ``benchmarks/README.md``).
    Workers are never more than tasks. Results do not depend on the plan.

    Args:
        engine: ``"local"``, ``"serial"`` or ``"dask"``.
        workers: the worker count asked for, or None for the default.
        tasks: the number of tasks (chunks) to run.
        idle: cores idle now (default: :func:`idle_cores`, read only when
            it matters: a local job of two tasks without ``workers``).

    Raises:
        ValueError: for an unknown engine or a worker count below 1.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine '{engine}' (choose from {', '.join(ENGINES)})")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if engine == "serial" or (engine == "local" and workers is None and tasks <= 1):
        return Plan("serial", 1)
    n = workers if workers is not None else default_workers()
    if engine == "dask":
        return Plan("dask", n)
    n = max(1, min(n, tasks))
    small = workers is None and tasks <= 2 * n
    fork = "fork" in _start_methods() and (small or (FORK_ANY_SIZE and single_threaded()))
    if workers is None and tasks <= 2:
        spare = idle_cores() if idle is None else idle
        return Plan("local", 2, "fork") if fork and n >= 2 and spare >= 2 else Plan("serial", 1)
    return Plan("local", n, "fork" if fork else "spawn")


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def single_threaded() -> bool:
    """Whether this process runs only its main thread, so that ``fork`` copies no held lock."""
    return threading.active_count() == 1


def start_worker(parent: int, expect: float = 0.0) -> None:
    """A local pool's worker, as it starts: :func:`watch_parent`, and told its share of work.

    A ``fork``-ed worker starts from its parent's count of chunks asked for: it is
    set back to a fresh process's, so that what the worker compiles depends on its
    share alone, however it was started.
    """
    watch_parent(parent)
    if expect or "sim.model.kernels" in sys.modules:
        from sim.model.kernels import start_afresh

        start_afresh(expect)


def watch_parent(parent: int, interval: float = 0.2) -> None:
    """In a worker process: exit at once when process ``parent`` is no longer our parent.

    A pool's workers otherwise outlive a driver killed with SIGKILL: they
    finish the task in hand (writing its part) and then wait forever. A
    daemon thread polls ``os.getppid()``, which changes when the parent dies
    and the worker is re-parented. Used as the pool's ``initializer``.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="truce-watch-parent", daemon=True).start()


def main_reruns_in_workers() -> bool:
    """Whether ``spawn``-started workers would re-run calls at the main script's top level.

    A plain script (``python script.py``) is re-imported by every spawned
    worker; without an ``if __name__ == "__main__":`` guard its calls to
    :func:`sim.run` would start again there. Scripts run with ``-m``,
    interactive sessions and notebooks are not re-run.
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        return False
    path = getattr(main, "__file__", None)
    if not path:
        return False
    try:
        source = Path(path).read_text()
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"""__name__\s*==\s*['"]__main__['"]""", source) is None


def in_worker_bootstrap() -> bool:
    """Whether this process is a spawned worker still importing the main script."""
    import multiprocessing

    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def start_method_for(method: str | None) -> str:
    """``method`` (default ``spawn``), or ``fork`` when spawn would re-run the main script.

    Raises:
        RuntimeError: if spawn would re-run the script and fork is not available.
    """
    method = method or "spawn"
    if method != "fork" and main_reruns_in_workers():
        if "fork" not in _start_methods():
            raise RuntimeError(MAIN_GUARD_HINT)
        return "fork"
    return method


@contextmanager
def open_executor(
    engine: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    start_method: str | None = None,
    expect: float = 0.0,
) -> Iterator[Executor]:
    """An executor for ``engine``, shut down (and its cluster closed) on exit.

    Args:
        engine: ``"serial"``, ``"local"`` or ``"dask"``.
        workers: processes (``local``) or LocalCluster workers (``dask``).
        scheduler: address of a running Dask scheduler; without it a
            LocalCluster is started for the run in a child process
            (:func:`sim.experiment.cluster.start_cluster`).
        start_method: ``"spawn"`` (default) or ``"fork"`` for local processes
            (see :func:`start_method_for`).
        expect: CPU seconds the compiled day would save each worker on its share of the
            work (:func:`sim.model.kernels.expect`), told to local workers as they start
            and to a Dask cluster's workers once connected.

    Raises:
        SchedulerUnreachable: if ``scheduler`` does not answer within
            :data:`CONNECT_TIMEOUT` seconds or is not a valid address.
        ClusterFailed: if the LocalCluster's process does not start.
    """
    if engine == "serial":
        yield SerialExecutor()
    elif engine == "local":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(
            max_workers=workers or default_workers(),
            mp_context=multiprocessing.get_context(start_method_for(start_method)),
            initializer=start_worker,
            initargs=(os.getpid(), expect),
        )
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    elif engine == "dask":
        from dask.distributed import Client

        from sim.experiment.cluster import ClusterFailed, start_cluster

        cluster = None
        if scheduler:
            address = scheduler
        else:  # a LocalCluster in a process of its own: its scheduler's memory is not ours
            cluster = start_cluster(workers or default_workers(), DEBUG_LOG_LENGTH)
            address = cluster.address
        try:
            try:
                client = Client(address, timeout=CONNECT_TIMEOUT if scheduler else 60)
            except (OSError, ValueError, TypeError) as exc:
                if not scheduler:
                    message = f"the local Dask cluster at {address} did not answer ({exc})"
                    raise ClusterFailed(message) from None
                raise SchedulerUnreachable(
                    f"cannot reach the Dask scheduler at {scheduler} "
                    f"within {CONNECT_TIMEOUT} s ({exc})"
                ) from None
            if expect:
                from sim.model.kernels import expect as tell

                client.run(tell, expect)
            try:
                yield client.get_executor(pure=False)
            except BaseException:  # interrupted, or a task failed: close without the noise
                with quiet_dask_logs():
                    client.close()
                raise
            else:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()
            give_back_memory()  # the client's bookkeeping, before the sweep's last writes
    else:
        raise ValueError(f"unknown engine '{engine}' (choose from {', '.join(ENGINES)})")
