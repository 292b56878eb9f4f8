"""Studies: a design × chunks, run on an executor and stored with its provenance.

:func:`run_study` expands a scenario's design (a run, ``compare:`` arms or a
``sweep:``) into tasks of one chunk each, runs them on the chosen engine,
streams their tables to ``results/<scenario>/<timestamp>/`` and marks the
folder complete. It runs and stores; it does not summarise. What a finished
study should leave beside its tables (a summary, a report) is the caller's
``finish`` callback, called before the folder is marked complete, so that
``resume`` completes a study whose finishing was cut short.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, cast

import pandas as pd

from sim.experiment import storage
from sim.experiment.provenance import now, stamp
from sim.experiment.runner import CHUNK_SIZE, Reducer, chunks
from sim.scenario.cost import estimate_cost
from sim.scenario.designs import DesignRow
from sim.scenario.loading import resolve_scenario
from sim.scenario.schema import Scenario

ProgressCallback = Callable[[int, int], None]


@dataclass
class Study:
    """A finished (or failed) study: where it is stored, how it was made, its design.

    Attributes:
        scenario: the resolved scenario (with the seed and replicates used).
        kind: ``"run"``, ``"compare"`` or ``"sweep"``.
        manifest: the provenance record (``manifest.json``).
        rows: the design, one row per arm or design point.
        path: the results folder, or None when nothing was stored.
        tables: the chunks' tables, by part name, when nothing was stored.
        daily_tables: the chunks' daily tables, by part name, when nothing was stored.
    """

    scenario: Scenario
    kind: str
    manifest: dict[str, Any]
    rows: list[DesignRow]
    path: Path | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    daily_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    points: list[dict[str, Any]] = field(default_factory=list)

    @property
    def per_point(self) -> bool:
        """Whether the study stored per-point aggregates (a sweep with one arm, issue 14)."""
        return str(self.manifest.get("layout", "")).startswith("points")

    def read_points(
        self, columns: list[str] | None = None, skip: tuple[str, ...] = ()
    ) -> pd.DataFrame | None:
        """The points table (one row per design point), or None when there is none.

        Args:
            columns: only these columns (default: all).
            skip: not these columns (e.g. ``group``, each point's summary as JSON text,
                the widest column by far).
        """
        if not self.per_point:
            return None
        if self.path is not None:
            batches = storage.point_batches(self.path)
            if not batches:
                return None
            if skip:
                import pyarrow.parquet as pq

                names = columns or pq.read_schema(batches[0]).names
                columns = [c for c in names if c not in skip]
            return storage.read_points(self.path, columns)
        if not self.points:
            return None
        from sim.experiment.storage import sort_points_table

        table = sort_points_table(pd.DataFrame(self.points))
        names = [c for c in (columns or table.columns) if c not in skip]
        return table[[c for c in names if c in table.columns]]

    def iter_points(self, columns: list[str]) -> Iterator[pd.DataFrame]:
        """The points table's ``columns`` a stored batch at a time (in memory: the whole table).

        The batches hold points in the order they finished, not design order.
        """
        if self.path is not None:
            for path in storage.point_batches(self.path):
                yield pd.read_parquet(path, columns=columns)
        elif self.points:
            yield pd.DataFrame(self.points)[columns]

    @property
    def arms(self) -> list[str]:
        """The arms, in the design's order."""
        return list(dict.fromkeys(r.arm for r in self.rows))

    @property
    def swept(self) -> list[str]:
        """The swept parameters (columns of the runs table), in the design's order."""
        return list(dict.fromkeys(k for r in self.rows for k in r.parameters))

    def read(self, columns: list[str] | None = None) -> pd.DataFrame | None:
        """The runs table (only ``columns`` when given), from disk or memory; None if empty."""
        if self.path is not None:
            if not storage.has_runs(self.path):
                return None
            return storage.read_runs(self.path, columns=columns)
        if not self.tables:
            return None
        table = pd.concat([self.tables[k] for k in sorted(self.tables)], ignore_index=True)
        if self.per_point:  # kept runs come in the order their points finished
            table = table.sort_values(["arm", "point", "replicate"], kind="stable")
            table = table.reset_index(drop=True)
        if columns is not None:
            table = table[[c for c in dict.fromkeys(columns) if c in table.columns]]
        return table

    def daily(self) -> pd.DataFrame | None:
        """The daily sums per arm, point and day (``daily.parquet``), or None if there are none."""
        from sim.experiment import daily

        if self.path is not None:
            return daily.read_daily(self.path) if (self.path / daily.DAILY).is_file() else None
        if not self.daily_tables:
            return None
        merged = daily.daily_aggregate(self.daily_tables[k] for k in sorted(self.daily_tables))
        if self.per_point and self.manifest.get("layout") == "points":
            return daily.pool_points(merged)  # as stored: pooled over the design points
        return merged


def manifest_for(
    scenario: Scenario, seed: int, replicates: int, chunk_size: int, kind: str, **extra: Any
) -> dict[str, Any]:
    """The provenance record stored with every result."""
    return {
        "kind": kind,
        "status": "running",
        "scenario_name": scenario.name,
        "scenario": scenario.model_dump(mode="json"),
        "seed": seed,
        "replicates": replicates,
        "chunk_size": chunk_size,
        "chunk_seeds": f"SeedSequence(entropy={seed}, spawn_key=(chunk, stream))",
        "command": " ".join(sys.argv),
        **stamp(),
        "finished": None,
        **extra,
    }


class ExperimentFailed(RuntimeError):
    """Some tasks raised; the others are stored and ``resume`` re-runs the failed ones.

    Attributes:
        result: what was run (its ``path`` is the results folder, if any).
        failures: one record per failed chunk: part, where, error, traceback.
    """

    def __init__(self, result: Any, failures: list[dict[str, str]]):
        self.result, self.failures = result, failures
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        super().__init__(
            f"{len(failures)} chunk(s) failed; first: {first['where']}: {first['error']}{more}"
        )


def _strip(scenario: Scenario) -> Scenario:
    return scenario.model_copy(update={"compare": {}, "sweep": None})


def _identity(manifest: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("kind", "scenario", "seed", "replicates", "chunk_size", "design", "layout")
    return {k: manifest.get(k) for k in keys}


def _find_resumable(out: str | Path, name: str, identity: dict[str, Any]) -> Path | None:
    base = Path(out) / storage.slug(name)
    for folder in sorted(base.glob("*"), reverse=True):
        path = folder / storage.MANIFEST
        if not path.is_file():
            continue
        try:
            manifest = storage.read_json(path)
        except ValueError:
            continue
        if manifest.get("status") != "complete" and _identity(manifest) == identity:
            return folder
    return None


def _results_root(out: str | Path) -> Path:
    """``out`` as an absolute folder (workers may run elsewhere), checked before any write."""
    from sim.scenario.errors import ScenarioError

    root = Path(out).expanduser().absolute()
    for folder in (root, *root.parents):
        if folder.exists():
            if not folder.is_dir():
                raise ScenarioError("--out", f"{folder} is a file, not a folder")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise ScenarioError("--out", f"cannot write in {folder} (permission denied)")
            break
    return root


def _new_run_dir(root: Path, name: str) -> Path:
    """A fresh results folder under ``root``; a clear error (and nothing left) if it cannot be."""
    from sim.scenario.errors import ScenarioError

    missing = [p for p in (root / storage.slug(name), root, *root.parents) if not p.exists()]
    try:
        return storage.new_run_dir(root, name)
    except OSError as exc:
        for folder in missing:  # deepest first: remove only what this call created
            with contextlib.suppress(OSError):
                folder.rmdir()
        message = f"cannot create a results folder under {root}: {exc}"
        raise ScenarioError("--out", message) from None


def _check_parts(run_dir: Path, tasks: list[Any], failed: set[str]) -> list[dict[str, str]]:
    """A failure for every task whose part is missing or short (e.g. written elsewhere)."""
    problems = []
    for task in tasks:
        if task.name in failed:
            continue
        path = storage.part_path(run_dir, task.name)
        rows = storage.part_rows(path)
        if rows == task.chunk.size:
            continue
        error = (
            f"part {path} is missing (do the workers see this results folder?)"
            if rows is None
            else f"part {path} holds {rows} rows, not {task.chunk.size}"
        )
        problems.append({"part": task.name, "where": task.where, "error": error, "traceback": ""})
    return problems


def _check_points(run_dir: Path, tasks: list[Any], failed: set[str]) -> list[dict[str, str]]:
    """A failure for every point whose aggregates are missing or count the wrong truces."""
    table = (
        storage.read_points(run_dir, ["task", "replicates"])
        if storage.point_batches(run_dir)
        else pd.DataFrame({"task": [], "replicates": []})
    )
    stored = dict(zip(table["task"], table["replicates"], strict=True))
    problems = []
    for task in tasks:
        if task.name in failed or stored.get(task.name) == task.size:
            continue
        error = (
            f"the aggregates of {task.name} are missing from {run_dir / storage.POINTS}"
            if task.name not in stored
            else f"the aggregates of {task.name} count {stored[task.name]} truces, not {task.size}"
        )
        problems.append({"part": task.name, "where": task.where, "error": error, "traceback": ""})
    return problems


#: A batch of per-point aggregates is written once it holds this many points ...
BATCH_POINTS = 1000
#: ... or its kept runs this many rows (about 85 MB in memory) ...
BATCH_ROWS = 250_000
#: ... or its points' daily sums this many rows (a point has a row a day: 1,000 points of
#: 365 days held ~60 MB, and ~3 times that while written; these, ~16 MB) ...
BATCH_DAILY_ROWS = 100_000
#: ... or this many seconds have passed since the last write (what --resume can keep).
FLUSH_SECONDS = 120.0
#: The daily sums of this many points are put in one table while a batch fills: a small
#: DataFrame costs ~30 kB of the driver's memory beyond its numbers (issue 14: the
#: driver's memory grew ~30 kB a point on Dask, all of it these tables).
CONSOLIDATE_DAYS = 64


def _flush_seconds() -> float:
    """``TRUCE_FLUSH_SECONDS`` (seconds between writes of finished points), or the default."""
    from sim.scenario.errors import ScenarioError

    text = os.environ.get("TRUCE_FLUSH_SECONDS")
    if text is None:
        return FLUSH_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also NaN
        raise ScenarioError(
            "TRUCE_FLUSH_SECONDS", f"expected a number of seconds of 0 or more, got {text!r}"
        )
    return value


def _compact(failures: list[dict[str, str]]) -> list[dict[str, str]]:
    """The failure record kept small: the first traceback only (a full disk has little room)."""
    return [f if i == 0 else {**f, "traceback": ""} for i, f in enumerate(failures)]


@contextlib.contextmanager
def system_memory_pool() -> Iterator[None]:
    """Arrow's allocations go to the C library's ``malloc`` for the duration (then as before).

    Arrow's default pool (mimalloc) keeps what it frees for its own reuse: in a sweep's
    driver, whose Arrow work comes in bursts (a batch of points written, the daily sums
    merged, the summary's columns read), that kept 40-60 MB it would not use again
    (issue 14: merging 2,000 points' daily sums +59 MB on mimalloc, +18 MB on the system
    pool). Buffers remember their pool, so those allocated here are freed correctly after.
    """
    import pyarrow as pa

    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


_F = TypeVar("_F", bound=Callable[..., Any])


def _on_system_memory(function: _F) -> _F:
    """``function`` run inside :func:`system_memory_pool`."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with system_memory_pool():
            return function(*args, **kwargs)

    return cast(_F, wrapper)


@_on_system_memory
def run_study(
    kind: str,
    scenario: Scenario | str | Path,
    *,
    replicates: int | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    out: str | Path | None = "results",
    chunk_size: int = CHUNK_SIZE,
    progress: ProgressCallback | None = None,
    engine: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: str | Path | bool | None = None,
    finish: Callable[[Study], Any] | None = None,
    reduce: Reducer | None = None,
    keep_runs: bool = True,
    flush_seconds: float | None = None,
) -> tuple[Study, Any]:
    """Run a study and store it; call ``finish`` before marking it complete.

    Args:
        kind: ``"run"``, ``"compare"`` or ``"sweep"``.
        scenario: a :class:`Scenario` or a YAML file.
        replicates: number of simulated truces (default: the scenario's).
        seed: root seed (default: the scenario's).
        overrides: dotted parameter paths and values.
        out: results root; the study goes to ``out/<scenario>/<timestamp>/``
            (None: kept in memory, nothing written).
        chunk_size: replicates per chunk (part of the result's identity).
        progress: called with (replicates done, replicates in all) after each chunk.
        engine: ``"local"`` (process pool), ``"serial"`` or ``"dask"``.
        workers: processes or Dask workers (default: the number of cores).
        scheduler: a Dask scheduler address (``engine="dask"``).
        resume: a results folder to complete, or True for the latest unfinished
            folder of this study under ``out``.
        finish: called with the finished :class:`Study` once every part is
            stored and checked, before the folder is marked complete; what it
            returns is returned beside the study.
        reduce: for a sweep with one arm, what reduces each design point's
            runs to its aggregates in the worker
            (:func:`sim.analysis.points.point_row`); the study then stores a
            points table (``points/batch-*.parquet``) instead of one runs part
            per chunk. Comparisons and crossed designs store their runs as
            before (their paired statistics need them).
        keep_runs: with ``reduce``, also store the runs, coalesced into
            batches (``runs/batch-*.parquet``) beside the points.
        flush_seconds: with ``reduce``, write the points finished so far at
            least this often (they are what an interrupted sweep keeps);
            default: the environment variable ``TRUCE_FLUSH_SECONDS``, else
            :data:`FLUSH_SECONDS`.

    Returns:
        The study and what ``finish`` returned (None without it).

    Raises:
        ScenarioError: for bad settings, a results root that cannot be
            written, a Dask scheduler that does not answer, or a LocalCluster
            whose process does not start; nothing is written then.
        ExperimentFailed: if chunks failed or their parts are missing; the
            finished parts are kept and ``resume`` completes the study.
    """
    from sim.experiment.cluster import ClusterFailed
    from sim.experiment.executors import (
        ENGINES,
        MAIN_GUARD_HINT,
        SchedulerUnreachable,
        choose_engine,
        in_worker_bootstrap,
        open_executor,
    )
    from sim.experiment.runner import PointTask, Task, execute
    from sim.scenario.designs import design_table, expand
    from sim.scenario.errors import ScenarioError

    if in_worker_bootstrap():  # a spawned worker re-running a script without a main guard
        raise RuntimeError(MAIN_GUARD_HINT)
    if engine not in ENGINES:
        raise ScenarioError(
            "--engine", f"unknown engine '{engine}' (choose from {', '.join(ENGINES)})"
        )
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ScenarioError(
            "--chunk-size", f"expected a whole number of at least 1, got {chunk_size!r}"
        )
    if scheduler and engine != "dask":
        raise ScenarioError(
            "--scheduler", f"a scheduler address needs --engine dask, not --engine {engine}"
        )
    resolved = resolve_scenario(scenario, overrides or {})
    seed = resolved.seed if seed is None else seed
    replicates = resolved.replicates if replicates is None else replicates
    if (seed, replicates) != (resolved.seed, resolved.replicates):  # the schema's limits too
        resolved = resolve_scenario(resolved, {"seed": seed, "replicates": replicates})
    if problem := estimate_cost(resolved, kind).problem():  # before any work, as the CLI does
        raise ScenarioError(resolved.name, problem, field="replicates")
    try:
        rows = expand(resolved, kind)
    except ValueError as exc:
        source = scenario if isinstance(scenario, str) else scenario.name
        raise ScenarioError(source, str(exc), field=kind) from None
    base = _strip(resolved)
    arms = list(dict.fromkeys(r.arm for r in rows))
    cs = chunks(replicates, chunk_size)
    design = design_table(rows)
    per_point = reduce is not None and kind == "sweep" and len(arms) == 1
    if flush_seconds is None:
        flush_seconds = _flush_seconds()
    layout = {"layout": "points+runs" if keep_runs else "points"} if per_point else {}
    manifest = manifest_for(
        resolved, seed, replicates, chunk_size, kind, arms=arms, design=design, **layout
    )
    manifest["tasks"] = len(rows) * (1 if per_point else len(cs))
    root = _results_root(out) if out is not None else None

    run_dir: Path | None = None
    done_names: set[str] = set()
    batch = 0  # the next points batch's number
    if resume is True:
        if root is None:
            raise ScenarioError("--resume", "nothing to resume without a results folder")
        run_dir = _find_resumable(root, resolved.name, _identity(manifest))
        if run_dir is None:
            raise ScenarioError(
                "--resume",
                f"no unfinished {kind} of '{resolved.name}' with "
                f"these settings under {root / storage.slug(resolved.name)}",
            )
    elif resume:
        run_dir = Path(resume).expanduser().absolute()
    if run_dir is not None:
        if not (run_dir / storage.MANIFEST).is_file():
            raise ScenarioError(run_dir, "not a results folder (no manifest.json)")
        previous = storage.read_json(run_dir / storage.MANIFEST)
        if _identity(previous) != _identity(manifest):
            diff = [k for k, v in _identity(manifest).items() if previous.get(k) != v]
            raise ScenarioError(
                run_dir,
                "cannot resume: the folder holds a different experiment "
                f"(differs in {', '.join(diff)})",
            )
        if per_point:
            done_names, batch = storage.finished_points(run_dir)
        else:
            done_names = storage.finished_parts(run_dir)
        manifest = previous | {"resumed": [*previous.get("resumed", []), now()]}

    arm_index = {arm: i for i, arm in enumerate(arms)}
    tasks: list[Any] = []
    for row in sorted(rows, key=lambda r: arm_index[r.arm]):  # arm-major, rows' order within
        params = tuple(row.parameters.items())  # empty unless swept
        i = arm_index[row.arm]
        if per_point:  # resolved in the worker: one scenario here, not one per point
            assert reduce is not None
            changes = tuple(row.overrides.items())
            tasks.append(
                PointTask(
                    base, seed, tuple(cs), row.arm, reduce, i, row.point, params, keep_runs, changes
                )
            )
        else:
            scen = resolve_scenario(base, row.overrides)  # base itself when there are none
            tasks += [Task(scen, seed, c, row.arm, i, row.point, params) for c in cs]
    todo = [t for t in tasks if t.name not in done_names]
    plan = choose_engine(engine, workers, len(todo))
    used, n_workers = plan.engine, plan.workers
    # fork instead of spawn when spawned workers would re-run a script's top-level calls
    start_method = _start_method(plan)

    with contextlib.ExitStack() as stack:
        executor = None
        if todo:  # up before any folder is made: a cluster that is not there leaves nothing
            try:
                forked = start_method == "fork"
                share = _share(todo, n_workers, resolved.truce.horizon, forked)
                if forked:
                    _load_kernels(resolved, cs, share)
                if used == "serial":  # this process runs the chunks: it is told their work
                    from sim.model.kernels import expecting

                    stack.enter_context(expecting(share))
                executor = stack.enter_context(
                    open_executor(used, n_workers, scheduler, start_method, expect=share)
                )
            except SchedulerUnreachable as exc:
                raise ScenarioError("--scheduler", str(exc)) from None
            except ClusterFailed as exc:
                raise ScenarioError("--engine", str(exc)) from None
        if run_dir is None and root is not None:
            run_dir = _new_run_dir(root, resolved.name)
        if run_dir is not None and not per_point:  # per-point batches are written here
            folder = str(run_dir)
            tasks = [replace(cast(Task, t), run_dir=folder) for t in tasks]
            todo = [t for t in tasks if t.name not in done_names]
        manifest |= {"engine": used, "workers": n_workers, "status": "running", "failures": []}
        if start_method:
            manifest["start_method"] = start_method
        if used == "dask" and scheduler:
            manifest["scheduler"] = scheduler
        if run_dir is not None:
            storage.write_json(run_dir / storage.MANIFEST, manifest)
            storage.reserve_space(run_dir)

        total = replicates * len(rows)
        done = total - sum(t.size for t in todo)
        tables: dict[str, pd.DataFrame] = {}  # only when nothing is stored
        daily_tables: dict[str, pd.DataFrame] = {}
        failures: list[dict[str, str]] = []
        points: list[dict[str, Any]] = []  # per-point aggregates not yet written
        kept: list[pd.DataFrame] = []  # their runs, with keep_runs
        point_days: list[pd.DataFrame] = []  # their daily sums
        stored_points: list[dict[str, Any]] = []  # every point, when nothing is stored
        last_flush = time.monotonic()
        if progress:
            progress(done, total)

        def flush(force: bool = False) -> None:
            nonlocal batch, last_flush
            if not points:
                return
            rows_kept = sum(len(t) for t in kept)
            due = (
                len(points) >= BATCH_POINTS
                or rows_kept >= BATCH_ROWS
                or sum(len(t) for t in point_days) >= BATCH_DAILY_ROWS
                or time.monotonic() - last_flush >= flush_seconds
            )
            if not (force or due):
                return
            days = pd.concat(point_days, ignore_index=True) if point_days else None
            if run_dir is None:
                stored_points.extend(points)
                for t in kept:
                    tables[f"batch-{batch:06d}-{len(tables):06d}"] = t
                if days is not None:
                    daily_tables[f"batch-{batch:06d}"] = days
            else:
                runs_table = pd.concat(kept, ignore_index=True) if kept else None
                points_batch = storage.points_table(points)
                storage.write_batch(run_dir, batch, points_batch, runs_table, days)
            batch += 1
            points.clear()
            kept.clear()
            point_days.clear()
            last_flush = time.monotonic()

        def on_result(task: Task, outcome: Any) -> None:
            nonlocal done
            if hasattr(outcome, "traceback"):
                failures.append(
                    {
                        "part": outcome.name,
                        "where": outcome.where,
                        "error": outcome.error,
                        "traceback": outcome.traceback,
                    }
                )
                return
            if per_point:
                points.append(outcome.aggregates)
                if outcome.table is not None:
                    kept.append(outcome.table)
                if outcome.daily is not None:
                    point_days.append(outcome.daily)
                    if len(point_days) >= CONSOLIDATE_DAYS:  # one table, not hundreds
                        point_days[:] = [pd.concat(point_days, ignore_index=True)]
                done += task.size
                flush()
            else:
                if outcome.table is not None:
                    tables[outcome.name] = outcome.table
                if getattr(outcome, "daily", None) is not None:
                    daily_tables[outcome.name] = outcome.daily
                done += task.chunk.size
            if progress:
                progress(done, total)

        if executor is not None:
            try:
                window = _window(per_point, keep_runs, n_workers)
                execute(todo, executor, on_result, window=window)
            finally:  # what finished is kept, even when interrupted
                try:  # the executor shut down first: a LocalCluster's memory is free again
                    stack.close()
                finally:
                    flush(force=True)

    if run_dir is not None:
        # every part the design needs, with its rows, before the study may be called complete
        check = _check_points if per_point else _check_parts
        failures += check(run_dir, tasks, {f["part"] for f in failures})
    study = Study(resolved, kind, manifest, rows, run_dir, tables if run_dir is None else {})
    if run_dir is None:
        study.daily_tables = daily_tables
    study.points = stored_points
    if failures:
        manifest |= {"status": "failed", "finished": now(), "failures": _compact(failures)}
        if run_dir is not None:
            storage.release_space(run_dir)  # room for the failure record on a full disk
            storage.write_json(run_dir / storage.MANIFEST, manifest, compact=True)
        raise ExperimentFailed(study, failures)
    if run_dir is not None:
        from sim.experiment.daily import merge_parts

        storage.release_space(run_dir)
        if per_point:  # daily.parquet: per point with the runs, else pooled over the points
            from sim.experiment.daily import merge_batches

            merge_batches(run_dir, pool=not keep_runs)
        else:
            merge_parts(run_dir, [t.name for t in tasks])  # daily.parquet: sums over the chunks
        # Every part is stored and checked; what the caller leaves beside them comes next.
        # A study cut short here stays unfinished, and ``resume`` finishes it.
        manifest["status"] = "finishing"
        storage.write_json(run_dir / storage.MANIFEST, manifest)
    finished = finish(study) if finish is not None else None
    manifest |= {"status": "complete", "finished": now(), "failures": []}
    if run_dir is not None:
        storage.write_json(run_dir / storage.MANIFEST, manifest)
        storage.remove_leftovers(run_dir)
    return study, finished


def forecast_study(
    kind: str,
    scenario: Scenario | str | Path,
    *,
    replicates: int | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    chunk_size: int = CHUNK_SIZE,
    engine: str = "local",
    workers: int | None = None,
    reduce: Reducer | None = None,
    keep_runs: bool = True,
    samples: int = 5,
) -> Any:
    """Predict a study's wall time and disk from a short timed calibration, running nothing else.

    Runs ``samples`` of the study's own tasks (design points spread over the
    design, first and last included), after one untimed warm-up task of a few
    truces, in this process, and scales their mean time to the whole design
    (:func:`sim.scenario.cost.forecast`). A task is one design point (its
    chunks and its reduction) when the study stores per-point aggregates,
    else one chunk. Nothing is written.

    On ``engine="dask"`` the calibration runs on a LocalCluster of the same
    workers instead (:func:`_calibrate_on_dask`), with every worker busy (the
    samples rounded up to whole rounds of one a worker), which also measures the
    cluster's start-up and each task's overhead (the scheduler's round trip,
    serialisation): with tasks of a fraction of a second these, not the work,
    can set a sweep's time.

    Returns:
        A :class:`sim.scenario.cost.Forecast`.
    """
    from sim.experiment.executors import choose_engine, default_workers
    from sim.experiment.runner import PointTask, Task, run_point, run_task
    from sim.model.kernels import expecting
    from sim.scenario.cost import forecast
    from sim.scenario.designs import expand

    resolved = resolve_scenario(scenario, overrides or {})
    seed = resolved.seed if seed is None else seed
    replicates = resolved.replicates if replicates is None else replicates
    if (seed, replicates) != (resolved.seed, resolved.replicates):
        resolved = resolve_scenario(resolved, {"seed": seed, "replicates": replicates})
    cost = estimate_cost(resolved, kind)
    rows = expand(resolved, kind)
    arms = list(dict.fromkeys(r.arm for r in rows))
    per_point = reduce is not None and kind == "sweep" and len(arms) == 1
    cs = chunks(replicates, chunk_size)
    base = _strip(resolved)
    n_tasks = len(rows) * (1 if per_point else len(cs))
    plan = choose_engine(engine, workers, n_tasks)
    n_workers = plan.workers if plan.engine != "dask" else (workers or default_workers())
    if plan.engine == "dask":  # timed a round of every worker at a time: whole rounds
        samples = -(-samples // n_workers) * n_workers
    picks = sorted({round(i * (len(rows) - 1) / max(1, samples - 1)) for i in range(samples)})

    def task_for(row: DesignRow, cs_: list[Any]) -> Any:
        params = tuple(row.parameters.items())
        if per_point:  # as run_study makes it: the point's scenario is resolved in the task
            assert reduce is not None
            changes = tuple(row.overrides.items())
            return PointTask(
                base, seed, tuple(cs_), row.arm, reduce, 0, row.point, params, False, changes
            )
        return Task(
            resolve_scenario(base, row.overrides), seed, cs_[0], row.arm, 0, row.point, params
        )

    warm = task_for(rows[0], _warm_chunks(replicates))
    samples_ = [task_for(rows[i], cs) for i in picks]
    measured: dict[str, float] = {}
    # What each of the study's processes would be told its chunks save (as run_study's _share).
    forked = _start_method(plan) == "fork"
    share = _saved([c.size for c in cs] * len(rows), n_workers, resolved.truce.horizon, forked)
    if plan.engine == "dask":  # timed on a LocalCluster like the one the sweep will start
        window = _window(per_point, keep_runs, n_workers)
        elapsed, measured = _calibrate_on_dask(warm, samples_, n_workers, window, share)
    else:
        with expecting(share):
            (run_point if per_point else run_task)(warm)  # imports and caches, untimed
            elapsed = []
            for task in samples_:
                started = time.perf_counter()
                outcome = (run_point if per_point else run_task)(task)
                elapsed.append(time.perf_counter() - started)
                _check_calibration(outcome)
    seconds = sum(elapsed) / len(elapsed)
    if not per_point:  # one chunk was timed: the mean chunk is replicates / chunks
        seconds *= replicates / len(cs) / cs[0].size
    return forecast(
        cost,
        tasks=n_tasks,
        seconds_per_task=seconds,
        calibrated_tasks=len(picks),
        workers=n_workers,
        engine=plan.engine,
        per_point=per_point,
        keep_runs=keep_runs,
        overhead_seconds_per_task=measured.get("overhead", 0.0),
        startup_seconds=measured.get("startup"),
    )


def _warm_chunks(replicates: int) -> list[Any]:
    """The chunk of the untimed warm-up before a forecast's samples, in each process.

    A few truces load the code: numba's too when the process is told the study's work
    would pay for it (:func:`sim.model.kernels.expecting`), so that the samples are timed
    as the study's chunks run (issue 14: with 1,000-truce points, samples timed partly on
    NumPy and with numba's import were ~4x a compiled point).
    """
    from sim.experiment.runner import Chunk

    return [Chunk(0, 0, min(10, replicates))]


def _start_method(plan: Any) -> str | None:
    """How a plan's local workers start (``fork`` or ``spawn``), None for another engine.

    ``spawn`` unless forking is asked for or a spawned worker would re-run the caller's
    script (:func:`sim.experiment.executors.start_method_for`).
    """
    from sim.experiment.executors import start_method_for

    return start_method_for(plan.start_method) if plan.engine == "local" else None


def _share(tasks: list[Any], workers: int, days: int, forked: bool = False) -> float:
    """CPU seconds of numba's load the compiled day would pay back each of the study's processes.

    :func:`sim.model.kernels.saving` summed over the tasks' chunks, over ``days`` (the
    horizon): divided among the workers when each would load numba itself (spawned
    workers), the whole of it when ``forked`` (the driver loads the kernels once, before
    it forks workers that inherit them: :func:`_load_kernels`). Told to the workers (or
    to this process when it runs the study itself; :func:`sim.model.kernels.expect`),
    so that ``auto`` compiles a worker's chunks from its first when they pay for the
    load, however narrow they are (a sweep of many small points).
    """
    widths = [c.size for t in tasks for c in getattr(t, "chunks", None) or (t.chunk,)]
    return _saved(widths, workers, days, forked)


def _saved(widths: list[int], workers: int, days: int, forked: bool = False) -> float:
    """:func:`_share` of chunks of these ``widths``.

    Forked workers share one load: two forked workers of one 1,000-truce chunk each (the
    interactive compare) save ~1.2 s of CPU against one load of ~0.3-0.45 s; compiled, that
    compare was faster in 22 of 28 alternated pairs (``benchmarks/README.md``, "Session 15").
    """
    from sim.model.kernels import saving

    total = sum(saving(w, days) for w in widths)
    return total if forked else total / max(1, workers)


def _load_kernels(scenario: Scenario, chunks_: list[Any], share: float) -> None:
    """Load the compiled day here, once, when the workers about to be forked would each load it.

    Forked workers inherit what this process has loaded: numba's import and the kernels
    read from its cache, about 1.4-1.8 s of CPU that each worker otherwise paid at its
    first chunk, the bulk of a study's fixed cost (``benchmarks/README.md``, session 10).
    Loaded here, it is paid once for all the workers and for every later study this
    process runs. A study whose workers would run NumPy's day (``auto`` with shares too
    small, ``TRUCE_ENGINE=numpy``) loads nothing.
    """
    from sim.model import kernels

    width, days = min(c.size for c in chunks_), scenario.truce.horizon
    if kernels.would_compile_afresh(width, days, share):
        kernels.warm([scenario])


def _window(per_point: bool, keep_runs: bool, workers: int) -> int:
    """Tasks kept in flight (the same in the sweep and in its dry run).

    A point's record is small, so more of them hide a busy scheduler's latency;
    chunks (and kept runs) bring tables, so fewer of them.
    """
    small = per_point and not keep_runs
    return max(2, (16 if small else 2) * workers)


def _check_calibration(outcome: Any) -> None:
    from sim.experiment.runner import TaskFailure

    if isinstance(outcome, TaskFailure):
        raise RuntimeError(f"the calibration failed at {outcome.where}: {outcome.error}")


#: Tiny tasks timed through the scheduler by the dry run, in windows of the sweep's size.
ECHO_WINDOWS = 3


def _calibrate_on_dask(
    warm: Any, samples: list[Any], workers: int, window: int, share: float = 0.0
) -> tuple[list[float], dict[str, float]]:
    """Time a sweep's parts on a LocalCluster of ``workers``, as the sweep will run them.

    - start-up: the cluster started, then one small task on each worker (its imports);
    - work: each sample task run as a Dask task and timed inside its worker, in rounds of
      ``workers`` tasks at once: every worker busy, as in the sweep, so the time a task
      takes beside the others (two workers on two cores share caches, memory and the
      cores with the scheduler) is what is scaled up;
    - overhead: :data:`ECHO_WINDOWS` × ``window`` :class:`~sim.experiment.runner.Echo`
      tasks, each carrying a sample task there and its outcome back, run through
      :func:`~sim.experiment.runner.execute` with the sweep's window: their wall time
      per task is what a task costs beyond its work.

    Its workers are told ``share``, the seconds the compiled day would save each of the
    sweep's (:func:`sim.model.kernels.expect`), as the sweep's workers are.

    Returns:
        The samples' seconds in their workers, and ``startup`` and ``overhead`` seconds.
    """
    from sim.experiment.executors import open_executor
    from sim.experiment.runner import Echo, echo, execute, timed

    started = time.perf_counter()
    with open_executor("dask", workers, expect=share) as executor:
        warmed = [executor.submit(timed, warm) for _ in range(workers)]
        for future in warmed:
            _check_calibration(future.result()[1])
        startup = time.perf_counter() - started
        elapsed, outcomes = [], []
        for at in range(0, len(samples), workers):  # a round: one sample a worker
            for future in [executor.submit(timed, t) for t in samples[at : at + workers]]:
                took, outcome = future.result()
                _check_calibration(outcome)
                elapsed.append(took)
                outcomes.append(outcome)
        jobs = [
            Echo(samples[i % len(samples)], outcomes[i % len(samples)])
            for i in range(ECHO_WINDOWS * window)
        ]
        started = time.perf_counter()
        execute(jobs, executor, lambda job, outcome: None, window=window, work=echo)
        overhead = (time.perf_counter() - started) / len(jobs)
    return elapsed, {"startup": startup, "overhead": overhead}
