"""The seam between the model and everything that drives it.

``run_one`` turns (scenario, seed, replicates, chunk) into a per-replicate table
(``run_chunk`` also gives the chunk's day-by-day sums, :mod:`sim.experiment.daily`);
the model never knows whether it runs alone, in a comparison or in a sweep.
Replicates are grouped in fixed-size chunks whose random streams derive from
(root seed, chunk index) alone, so a result does not depend on how chunks are
spread over workers.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import itertools
import os
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import pandas as pd

from sim.model.model import CeasefireModel
from sim.scenario.loading import resolve_scenario
from sim.scenario.schema import Scenario

#: Replicates per chunk. Part of a result's identity: it is written to the manifest.
CHUNK_SIZE = 1000


@dataclass(frozen=True)
class Chunk:
    """A block of replicates with its own random streams."""

    index: int
    start: int
    size: int


def chunks(replicates: int, chunk_size: int = CHUNK_SIZE) -> list[Chunk]:
    """Split ``replicates`` into chunks of ``chunk_size`` (the last may be smaller)."""
    return [
        Chunk(i, start, min(chunk_size, replicates - start))
        for i, start in enumerate(range(0, replicates, chunk_size))
    ]


def run_one(
    scenario: Scenario, seed: int, replicates: int, chunk: int = 0, start: int = 0
) -> pd.DataFrame:
    """Simulate ``replicates`` truces of ``scenario`` and return one row per truce.

    Args:
        scenario: the validated scenario.
        seed: root seed.
        replicates: number of truces in this chunk.
        chunk: chunk index (selects the random streams together with ``seed``).
        start: index of the chunk's first replicate (for the ``replicate`` column).
    """
    return run_chunk(scenario, seed, replicates, chunk, start)[0]


def run_chunk(
    scenario: Scenario, seed: int, replicates: int, chunk: int = 0, start: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Like :func:`run_one`, with the chunk's daily table beside its runs table.

    Returns:
        The runs table (one row per truce) and the daily sums over the chunk's truces
        (one row per day of the horizon, :meth:`CeasefireModel.daily`).
    """
    model = CeasefireModel(
        scenario, replicates=replicates, seed=seed, chunk=chunk, collect=False
    ).run()
    table = model.results()
    daily = model.daily()
    forget(model)
    return place_chunk(table, chunk, start), daily


def place_chunk(table: pd.DataFrame, chunk: int, start: int) -> pd.DataFrame:
    """A chunk's runs table numbered in the whole run: its chunk and its first replicate."""
    table["replicate"] += start
    table.insert(0, "chunk", chunk)
    return table


def forget(model: CeasefireModel) -> None:
    """Drop Mesa's class-level reference to a finished model so that it can be freed.

    Mesa 3.3 keeps an id counter per model in ``mesa.Agent._ids`` (a plain
    ``defaultdict`` keyed by the model), which keeps every model and its
    arrays alive: about 2.5 MB per chunk, which would make a long-lived
    worker's memory grow with the number of chunks it runs.
    """
    import mesa

    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def iter_chunks(
    scenario: Scenario, seed: int, replicates: int, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[Chunk, pd.DataFrame]]:
    """Run chunk after chunk in this process, yielding each chunk's table."""
    for c in chunks(replicates, chunk_size):
        yield c, run_one(scenario, seed, c.size, c.index, c.start)


def run_serial(
    scenario: Scenario,
    seed: int | None = None,
    replicates: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    on_chunk: Callable[[Chunk, pd.DataFrame], Any] | None = None,
) -> pd.DataFrame:
    """All replicates of one scenario, chunk by chunk, as one table."""
    seed = scenario.seed if seed is None else seed
    replicates = scenario.replicates if replicates is None else replicates
    parts = []
    for c, table in iter_chunks(scenario, seed, replicates, chunk_size):
        if on_chunk is not None:
            on_chunk(c, table)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- sweeps


@dataclass(frozen=True)
class Task:
    """One chunk of one arm or design point: the unit of work sent to an executor."""

    scenario: Scenario
    seed: int
    chunk: Chunk
    arm: str
    arm_index: int = 0
    point: int = 0
    parameters: tuple[tuple[str, Any], ...] = ()
    run_dir: str | None = None

    @property
    def size(self) -> int:
        """Truces simulated in this task (its chunk's)."""
        return self.chunk.size

    @property
    def name(self) -> str:
        """The name of this task's Parquet part (sorts as arm, point, chunk)."""
        return f"arm-{self.arm_index:03d}-point-{self.point:07d}-chunk-{self.chunk.index:06d}"

    @property
    def where(self) -> str:
        """Arm, design point, chunk and seed, for error messages."""
        params = ", ".join(f"{k}={v!r}" for k, v in self.parameters)
        return (
            f"arm '{self.arm}', point {self.point}{' (' + params + ')' if params else ''}, "
            f"chunk {self.chunk.index} (replicates {self.chunk.start}–"
            f"{self.chunk.start + self.chunk.size - 1}), seed {self.seed}"
        )


@dataclass(frozen=True)
class TaskFailure:
    """A task that raised: where, and the error with its traceback."""

    name: str
    where: str
    error: str
    traceback: str


@dataclass(frozen=True)
class TaskDone:
    """A finished task: its part name, rows, and the table unless it went to disk."""

    name: str
    rows: int
    table: pd.DataFrame | None = None
    daily: pd.DataFrame | None = None


def task_table(task: Task) -> pd.DataFrame:
    """The runs table of one task: ``arm``, ``point``, swept parameters, then the model's."""
    return task_tables(task)[0]


def task_tables(task: Task) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs table of one task (as :func:`task_table`) and its daily table.

    The daily table starts with ``arm`` and ``point``, then the model's day-by-day
    sums (:meth:`CeasefireModel.daily`); :func:`sim.experiment.daily.daily_aggregate`
    adds up those of several chunks.
    """
    c = task.chunk
    table, daily = run_chunk(task.scenario, task.seed, c.size, c.index, c.start)
    table.insert(0, "point", task.point)
    table.insert(0, "arm", task.arm)
    for i, (name, value) in enumerate(task.parameters):
        table.insert(2 + i, name, value)
    daily.insert(0, "point", task.point)
    daily.insert(0, "arm", task.arm)
    return table, daily


def run_task(task: Task) -> TaskDone | TaskFailure:
    """Run one task; write its part when it has a results folder.

    Exceptions are caught and returned as a :class:`TaskFailure` naming the arm,
    design point, chunk and seed, so one failing point does not lose the sweep.
    Top-level and picklable: this is what the executors run.
    """
    import traceback

    try:
        table, daily = task_tables(task)
        if task.run_dir is None:
            return TaskDone(task.name, len(table), table, daily)
        from sim.experiment import daily as daily_store
        from sim.experiment.storage import write_part

        # The daily table first: a runs part (what resume counts as done) never lacks one.
        daily_store.write_part(Path(task.run_dir), task.name, daily)
        write_part(Path(task.run_dir), task.name, table)
        return TaskDone(task.name, len(table))
    except Exception as exc:  # reported to the driver, which carries on
        error = f"{type(exc).__name__}: {exc}"
        full = getattr(exc, "errno", None) == errno.ENOSPC or f"[Errno {errno.ENOSPC}]" in error
        if full and os.strerror(errno.ENOSPC) not in error:  # pyarrow words it its own way
            error += f" ({os.strerror(errno.ENOSPC)})"
        return TaskFailure(task.name, task.where, error, traceback.format_exc())


def execute(
    tasks: list[Any],
    executor: Any,
    on_result: Callable[[Any, Any], Any],
    window: int = 8,
    work: Callable[[Any], Any] | None = None,
) -> None:
    """Run ``tasks`` on ``executor`` with at most ``window`` in flight.

    Tasks are :class:`Task` (one chunk, :func:`run_task`) or :class:`PointTask`
    (one design point, :func:`run_point`). Results are handed to ``on_result``
    in completion order. A bounded window
    keeps memory flat however many tasks there are. A task whose worker died
    is a :class:`TaskFailure`; once the pool is broken, the tasks not yet
    submitted are failures too ("not run"), so the driver can say which to
    resume. On an interrupt (Ctrl-C) pending tasks are cancelled and the
    exception propagates. ``work`` replaces the function run on each task
    (the dry run times tiny tasks with it).
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    pending: dict[Any, Any] = {}
    queue = iter(tasks)
    broken: str | None = None

    def submit(task: Any) -> None:
        nonlocal broken
        if broken is None:
            try:
                run = work or _runner(task)
                pending[executor.submit(run, task)] = task
                return
            except Exception as exc:  # the pool broke (a worker died): the rest cannot run
                broken = f"not run: {type(exc).__name__}: {exc}"
        on_result(task, TaskFailure(task.name, task.where, broken, ""))

    try:
        for task in itertools.islice(queue, window):
            submit(task)
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker itself died
                    outcome = TaskFailure(task.name, task.where, f"{type(exc).__name__}: {exc}", "")
                on_result(task, outcome)
                nxt = next(queue, None)
                if nxt is not None:
                    submit(nxt)
        for task in queue:  # left only when the pool broke: each is recorded as not run
            submit(task)
    except BaseException:
        for future in pending:
            future.cancel()
        raise
    finally:
        _PACKED.clear()  # the sweep's scenario is not kept alive after it


# --------------------------------------------------------------------------- per-point tasks


Reducer = Callable[[pd.DataFrame, str], dict[str, Any]]
"""Reduces one design point's runs (and its task name) to one record of aggregates."""


@dataclass(frozen=True)
class PointTask:
    """Every chunk of one design point of one arm, reduced to its aggregates where it runs.

    The unit of work of a sweep that stores per-point aggregates: the worker
    resolves the point's scenario (``scenario`` with the point's
    ``overrides``: the driver holds one scenario, not one per point), runs
    the point's chunks one after the other (each on its own streams, so
    the truces are those of per-chunk tasks), reduces them with ``reduce``
    and sends back one record, plus the runs when ``keep_runs``. Without
    them, each chunk's table is cut to the columns ``reduce`` declares (its
    ``columns`` attribute, when it has one) and the swept parameters.
    """

    scenario: Scenario
    seed: int
    chunks: tuple[Chunk, ...]
    arm: str
    reduce: Reducer
    arm_index: int = 0
    point: int = 0
    parameters: tuple[tuple[str, Any], ...] = ()
    keep_runs: bool = False
    overrides: tuple[tuple[str, Any], ...] = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle the scenario as bytes made once per sweep, rebuilt once per process.

        Every point of a sweep carries the same base scenario. Pickled as is, it
        would be rebuilt (a few hundred objects) for each point by whoever
        unpickles the task: the worker, and with Dask the scheduler too, which
        runs inside the driver with a LocalCluster and keeps what it unpickled in
        reference cycles until a full garbage collection (about 26 kB a point,
        most of the driver's growth on Dask). As shared bytes it is one object
        per point, and :func:`_unpack_scenario` rebuilds it once per process.
        """
        rest = tuple(getattr(self, f.name) for f in dataclasses.fields(self)[1:])
        return (_point_task, (_pack_scenario(self.scenario), *rest))

    @property
    def name(self) -> str:
        """The point's name (sorts as arm, point); recorded in its aggregates."""
        return f"arm-{self.arm_index:03d}-point-{self.point:07d}"

    @property
    def size(self) -> int:
        """Truces simulated for this point."""
        return sum(c.size for c in self.chunks)

    @property
    def where(self) -> str:
        """Arm, design point and seed, for error messages."""
        params = ", ".join(f"{k}={v!r}" for k, v in self.parameters)
        return (
            f"arm '{self.arm}', point {self.point}{' (' + params + ')' if params else ''}, "
            f"replicates 0–{self.size - 1}, seed {self.seed}"
        )


#: The scenario last pickled by :func:`_pack_scenario`, by id, with its bytes (one entry).
_PACKED: dict[int, tuple[Scenario, bytes]] = {}


def _pack_scenario(scenario: Scenario) -> bytes:
    """``scenario`` pickled, made once for the many tasks that share it (scenarios are frozen)."""
    hit = _PACKED.get(id(scenario))
    if hit is None or hit[0] is not scenario:
        _PACKED.clear()
        hit = (scenario, pickle.dumps(scenario, protocol=pickle.HIGHEST_PROTOCOL))
        _PACKED[id(scenario)] = hit
    return hit[1]


@functools.lru_cache(maxsize=4)
def _unpack_scenario(data: bytes) -> Scenario:
    """The scenario pickled in ``data``, rebuilt once per process (it is frozen: shared safely)."""
    return cast(Scenario, pickle.loads(data))


def _point_task(data: bytes, *fields: Any) -> PointTask:
    """A :class:`PointTask` from its pickled form (:meth:`PointTask.__reduce__`)."""
    return PointTask(_unpack_scenario(data), *fields)


@dataclass(frozen=True)
class PointDone:
    """A finished point: its aggregates, and its runs when they are kept."""

    name: str
    rows: int
    aggregates: dict[str, Any]
    table: pd.DataFrame | None = None
    daily: pd.DataFrame | None = None


def run_point(task: PointTask) -> PointDone | TaskFailure:
    """Run one design point's chunks and reduce them (top-level and picklable).

    Exceptions come back as a :class:`TaskFailure` naming the point and seed.
    """
    import traceback

    where = task.where
    scenario = task.scenario
    reads = getattr(task.reduce, "columns", None)
    narrow = None
    if reads is not None and not task.keep_runs:
        narrow = {*reads, *(k for k, _ in task.parameters)}
    try:
        if task.overrides:
            scenario = resolve_scenario(scenario, dict(task.overrides))
        from sim.experiment.daily import daily_aggregate

        tables, dailies = [], []
        for c in task.chunks:
            one = Task(scenario, task.seed, c, task.arm, task.arm_index, task.point)
            one = replace(one, parameters=task.parameters)
            where = one.where  # a failure names the chunk too
            table, day_sums = task_tables(one)
            dailies.append(day_sums)
            if narrow is not None:  # a point of many chunks is held in the columns it needs
                table = table[[c for c in table.columns if c in narrow]]
            tables.append(table)
        where = task.where
        table = tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)
        aggregates = task.reduce(table, task.name)
        kept = table if task.keep_runs else None
        return PointDone(task.name, len(table), aggregates, kept, daily_aggregate(dailies))
    except Exception as exc:  # reported to the driver, which carries on
        return TaskFailure(task.name, where, f"{type(exc).__name__}: {exc}", traceback.format_exc())


def _runner(task: Any) -> Callable[[Any], Any]:
    """What runs ``task`` where it runs: :func:`run_point` for a point, else :func:`run_task`."""
    return run_point if isinstance(task, PointTask) else run_task


def timed(task: Any) -> tuple[float, Any]:
    """Run a task as the executors do and time it where it runs: (seconds, outcome)."""
    import time

    started = time.perf_counter()
    outcome = _runner(task)(task)
    return time.perf_counter() - started, outcome


@dataclass(frozen=True)
class Echo:
    """A tiny task that carries a real task there and its real outcome back, running nothing.

    What it costs through an executor is a task's overhead alone: the
    scheduler's round trip and the serialisation of the task and its outcome.
    """

    task: Any
    outcome: Any
    name: str = "echo"
    where: str = "the overhead calibration"


def echo(job: Echo) -> Any:
    """The outcome an :class:`Echo` carries (top-level and picklable)."""
    return job.outcome


@dataclass
class Trace:
    """One simulated truce, day by day."""

    scenario: Scenario
    seed: int
    replicate: int
    days: pd.DataFrame
    events: pd.DataFrame
    outcome: dict[str, Any]


def trace(
    scenario: Scenario | str | Path,
    seed: int | None = None,
    replicate: int = 0,
    chunk_size: int = CHUNK_SIZE,
    **overrides: Any,
) -> Trace:
    """Re-run the chunk holding ``replicate`` and keep that truce's day-by-day record.

    The traced truce is the same one that row ``replicate`` of a run with this seed
    describes (same chunk, same streams).
    """
    if replicate < 0:
        raise ValueError(f"replicate must be 0 or more, not {replicate}")
    resolved = resolve_scenario(scenario, overrides)
    seed = resolved.seed if seed is None else seed
    # The chunk of chunks(max(replicates, replicate + 1), chunk_size) that holds it.
    index = replicate // chunk_size
    start = index * chunk_size
    total = max(resolved.replicates, replicate + 1)
    chunk = Chunk(index, start, min(chunk_size, total - start))
    local = replicate - chunk.start
    model = CeasefireModel(
        resolved,
        replicates=chunk.size,
        seed=seed,
        chunk=chunk.index,
        record=True,
        trace_replicate=local,
        collect=False,
    ).run()
    days, events = model.trace_tables()
    outcome = {str(column): value for column, value in model.results().iloc[local].items()}
    forget(model)
    outcome["replicate"] = replicate
    return Trace(resolved, seed, replicate, days, events, outcome)
