"""Experiments as library calls: run a scenario, store the result with its provenance.

``sim.run(...)`` is what ``truce run`` calls; it returns a :class:`Result`
usable in a notebook (``.runs``, ``.summary()``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiment import storage
from sim.experiment.provenance import now, stamp
from sim.experiment.runner import CHUNK_SIZE, chunks
from sim.model.model import resolve_scenario
from sim.scenario.schema import Scenario

ProgressCallback = Callable[[int, int], None]


@dataclass
class Result:
    """The outcome of an experiment: the per-truce table and how it was made."""

    scenario: Scenario
    runs: pd.DataFrame | None
    manifest: dict[str, Any]
    path: Path | None = None
    summary_dict: dict[str, Any] = field(default_factory=dict)
    report: Path | None = None
    report_note: str | None = None

    @property
    def by(self) -> str:
        """How the groups are named: ``"point"`` for a sweep, else ``"arm"``."""
        return "point" if self.manifest.get("kind") == "sweep" else "arm"

    def load_runs(self) -> pd.DataFrame:
        """The runs table (read from the results folder when it was not kept)."""
        if self.runs is None:
            if self.path is None:
                raise ValueError("the runs were neither kept nor stored")
            self.runs = storage.read_runs(self.path)
        return self.runs

    def summary(self, horizons: Iterable[int] = (30, 90, 180)) -> pd.DataFrame:
        """Collapse shares by horizon with 95% Wilson intervals, one row per arm or point."""
        from sim.analysis import statistics as analysis

        runs = self.load_runs()
        by = self.by
        if by == "point":
            crossed = ["arm"] if len(self.manifest.get("arms") or []) > 1 else []
            by = ["point", *crossed, *analysis.swept_columns(runs)]
        return analysis.collapse_by_horizon(runs, horizons=tuple(horizons), by=by)

    def sensitivity(self) -> pd.DataFrame:
        """Sobol or Morris sensitivity indices of a ``sobol`` or ``morris`` sweep.

        The indices stored in the summary when the sweep finished, or computed
        from the runs (see :mod:`sim.analysis.sensitivity` for the outputs analysed).

        Returns:
            One row per output and swept parameter: ``output``, ``parameter``
            and ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (Sobol) or
            ``mu_star``, ``mu_star_conf``, ``sigma`` (Morris).

        Raises:
            ValueError: if the result is not a ``sobol`` or ``morris`` sweep.
        """
        from sim.analysis import sensitivity

        found = self.summary_dict.get("sensitivity")
        if found is None:
            sweep = self.scenario.sweep if self.manifest.get("kind") == "sweep" else None
            if not sensitivity.applies(sweep):
                kind = sweep.kind if sweep is not None else self.manifest.get("kind", "run")
                raise ValueError(
                    f"sensitivity indices need a sobol or morris sweep, not a {kind} design"
                )
            found = sensitivity.from_manifest(self.manifest, self.load_runs())
        return sensitivity.indices_table(found)


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
    """Some tasks raised; the others are stored and ``resume`` re-runs the failed ones."""

    def __init__(self, result: Result, failures: list[dict[str, str]]):
        self.result, self.failures = result, failures
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        super().__init__(
            f"{len(failures)} chunk(s) failed; first: {first['where']}: {first['error']}{more}"
        )


def run(
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
    keep_runs: bool = True,
    report: bool = False,
) -> Result:
    """Simulate one scenario and (unless ``out`` is None) store the result.

    Args:
        scenario: a :class:`Scenario` or a YAML file.
        replicates: number of simulated truces (default: the scenario's).
        seed: root seed (default: the scenario's).
        overrides: dotted parameter paths and values.
        out: results root; the run goes to ``out/<scenario>/<timestamp>/``.
        chunk_size: replicates per chunk (part of the result's identity).
        progress: called with (replicates done, replicates in all) after each chunk.
        engine: ``"local"`` (process pool), ``"serial"`` or ``"dask"``.
        workers: processes or Dask workers (default: the number of cores).
        scheduler: a Dask scheduler address (``engine="dask"``).
        resume: a results folder to complete, or True for the latest unfinished
            folder of this experiment under ``out``.
        keep_runs: load the runs table into ``Result.runs`` (False keeps
            memory flat for huge runs; read it later with ``Result.load_runs()``).
        report: also write ``report.html`` (``Result.report``) before the run
            is marked complete, so that ``resume`` finishes a report cut short.

    Raises:
        ScenarioError: for bad settings, a results root that cannot be
            written, or a Dask scheduler that does not answer; nothing is
            written then.
        ExperimentFailed: if chunks failed or their parts are missing; the
            finished parts are kept and ``resume`` completes the run.
    """
    return _experiment("run", scenario, **_args(locals()))


def compare(
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
    keep_runs: bool = True,
    report: bool = False,
) -> Result:
    """Run the scenario's ``compare:`` arms on common random numbers.

    Chunk ``c`` of every arm uses the same seed, so two arms that differ in one
    lever share their initial states and exogenous draws. The summary compares
    each arm with the first (difference of collapse shares, log-rank test,
    hazard ratio). Arguments as for :func:`run`.
    """
    return _experiment("compare", scenario, **_args(locals()))


def sweep(
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
    keep_runs: bool = True,
    report: bool = False,
) -> Result:
    """Run every design point of the scenario's ``sweep:`` block.

    Every point uses the same chunk seeds. The runs table has one column per
    swept parameter (named by its dotted path); the summary has one group per
    design point. When the scenario also has a ``compare:`` block the design
    is crossed: every point runs under every arm (column ``arm``), still on the
    same chunk seeds, and the summary compares the arms at each point (see
    :func:`sim.analysis.statistics.summarize`). Arguments as for :func:`run`.
    """
    return _experiment("sweep", scenario, **_args(locals()))


def _args(local: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in local.items() if k != "scenario"}


#: Columns the summary needs; read alone so that memory stays flat. ``chunk`` and
#: ``replicate`` are the keys that pair the arms' truces (common random numbers):
#: without them the comparisons would fall back to independent-samples intervals.
SUMMARY_COLUMNS = (
    "arm",
    "point",
    "chunk",
    "replicate",
    "horizon",
    "collapsed",
    "collapse_day",
    "days_held",
    "cause",
)


def _strip(scenario: Scenario) -> Scenario:
    return scenario.model_copy(update={"compare": {}, "sweep": None})


def _identity(manifest: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("kind", "scenario", "seed", "replicates", "chunk_size", "design")
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
        unfinished = manifest.get("status") != "complete" or manifest.get("report") == "pending"
        if unfinished and _identity(manifest) == identity:
            return folder
    return None


def _results_root(out: str | Path) -> Path:
    """``out`` as an absolute folder (workers may run elsewhere), checked before any write."""
    from sim.scenario.schema import ScenarioError

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
    from sim.scenario.schema import ScenarioError

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


def _compact(failures: list[dict[str, str]]) -> list[dict[str, str]]:
    """The failure record kept small: the first traceback only (a full disk has little room)."""
    return [f if i == 0 else {**f, "traceback": ""} for i, f in enumerate(failures)]


def _experiment(
    kind: str,
    scenario: Scenario | str | Path,
    *,
    replicates: int | None,
    seed: int | None,
    overrides: Mapping[str, Any] | None,
    out: str | Path | None,
    chunk_size: int,
    progress: ProgressCallback | None,
    engine: str,
    workers: int | None,
    scheduler: str | None,
    resume: str | Path | bool | None,
    keep_runs: bool,
    report: bool = False,
) -> Result:
    from sim.experiment.executors import (
        ENGINES,
        MAIN_GUARD_HINT,
        SchedulerUnreachable,
        choose_engine,
        in_worker_bootstrap,
        open_executor,
        start_method_for,
    )
    from sim.experiment.runner import Task, execute
    from sim.scenario.designs import design_table, expand
    from sim.scenario.schema import ScenarioError

    if in_worker_bootstrap():  # a spawned worker re-running a script without a main guard
        raise RuntimeError(MAIN_GUARD_HINT)
    if engine not in ENGINES:
        raise ScenarioError(
            "--engine", f"unknown engine '{engine}' (choose from {', '.join(ENGINES)})"
        )
    if scheduler and engine != "dask":
        raise ScenarioError(
            "--scheduler", f"a scheduler address needs --engine dask, not --engine {engine}"
        )
    resolved = resolve_scenario(scenario, overrides or {})
    seed = resolved.seed if seed is None else seed
    replicates = resolved.replicates if replicates is None else replicates
    resolved = resolved.model_copy(update={"seed": seed, "replicates": replicates})
    try:
        rows = expand(resolved, kind)
    except ValueError as exc:
        raise ScenarioError(getattr(scenario, "name", scenario), str(exc), field=kind) from None
    base = _strip(resolved)
    arms = list(dict.fromkeys(r.arm for r in rows))
    cs = chunks(replicates, chunk_size)
    design = design_table(rows)
    manifest = manifest_for(resolved, seed, replicates, chunk_size, kind, arms=arms, design=design)
    manifest["tasks"] = len(rows) * len(cs)
    root = _results_root(out) if out is not None else None

    run_dir: Path | None = None
    done_names: set[str] = set()
    if resume:
        if root is None and resume is True:
            raise ScenarioError("--resume", "nothing to resume without a results folder")
        run_dir = (
            _find_resumable(root, resolved.name, _identity(manifest))
            if resume is True
            else Path(resume).expanduser().absolute()
        )
        if run_dir is None:
            raise ScenarioError(
                "--resume",
                f"no unfinished {kind} of '{resolved.name}' with "
                f"these settings under {root / storage.slug(resolved.name)}",
            )
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
        done_names = storage.finished_parts(run_dir)
        manifest = previous | {"resumed": [*previous.get("resumed", []), now()]}
        manifest.pop("report", None)  # "pending" while a report was being written

    arm_index = {arm: i for i, arm in enumerate(arms)}
    tasks = []
    for row in sorted(rows, key=lambda r: arm_index[r.arm]):  # arm-major, rows' order within
        scen = resolve_scenario(base, row.overrides)  # base itself when there are none
        params = tuple(row.parameters.items())  # empty unless swept
        i = arm_index[row.arm]
        tasks += [Task(scen, seed, c, row.arm, i, row.point, params) for c in cs]
    todo = [t for t in tasks if t.name not in done_names]
    plan = choose_engine(engine, workers, len(todo))
    used, n_workers = plan.engine, plan.workers
    # fork instead of spawn when spawned workers would re-run a script's top-level calls
    start_method = start_method_for(plan.start_method) if used == "local" else None

    with contextlib.ExitStack() as stack:
        executor = None
        if todo:  # up before any folder is made: a cluster that is not there leaves nothing
            try:
                executor = stack.enter_context(
                    open_executor(used, n_workers, scheduler, start_method)
                )
            except SchedulerUnreachable as exc:
                raise ScenarioError("--scheduler", str(exc)) from None
        if run_dir is None and root is not None:
            run_dir = _new_run_dir(root, resolved.name)
        if run_dir is not None:
            folder = str(run_dir)
            tasks = [replace(t, run_dir=folder) for t in tasks]
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
        done = total - sum(t.chunk.size for t in todo)
        tables: dict[str, pd.DataFrame] = {}
        failures: list[dict[str, str]] = []
        if progress:
            progress(done, total)

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
            if outcome.table is not None:
                tables[outcome.name] = outcome.table
            done += task.chunk.size
            if progress:
                progress(done, total)

        if executor is not None:
            execute(todo, executor, on_result, window=max(2, 2 * n_workers))

    if run_dir is not None:
        # every part the design needs, with its rows, before the run may be called complete
        failures += _check_parts(run_dir, tasks, {f["part"] for f in failures})

    from sim.analysis import statistics as analysis

    by = "point" if kind == "sweep" else "arm"
    runs: pd.DataFrame | None = None
    light: pd.DataFrame | None = None
    if failures:  # a summary of part of the design would mislead: none until it is resumed
        if run_dir is None and keep_runs and tables:
            runs = pd.concat([tables[k] for k in sorted(tables)], ignore_index=True)
    elif run_dir is None:
        light = runs = (
            pd.concat([tables[k] for k in sorted(tables)], ignore_index=True) if tables else None
        )
        if not keep_runs:
            runs = None
    else:
        swept = list(dict.fromkeys(k for r in rows for k in r.parameters))
        columns = [*SUMMARY_COLUMNS, *swept]
        if keep_runs:  # read once; summarise the columns a light read would give
            runs = storage.read_runs(run_dir)
            light = runs[[c for c in dict.fromkeys(columns) if c in runs.columns]]
        else:
            light = storage.read_runs(run_dir, columns=columns)
    summary = (
        analysis.summarize(light, by=by, order=arms if by == "arm" else None, arms=arms)
        if light is not None and len(light)
        else {}
    )
    if summary and kind == "sweep":
        from sim.analysis import sensitivity

        if sensitivity.applies(resolved.sweep):
            summary["sensitivity"] = analysis.to_jsonable(
                sensitivity.analyze(light, resolved.sweep, seed, arms=arms)
            )
    del light
    result = Result(resolved, runs, manifest, run_dir, summary)
    if failures:
        manifest |= {"status": "failed", "finished": now(), "failures": _compact(failures)}
        if run_dir is not None:
            (run_dir / storage.SUMMARY).unlink(missing_ok=True)  # from an earlier attempt
            storage.release_space(run_dir)  # room for the failure record on a full disk
            storage.write_json(run_dir / storage.MANIFEST, manifest, compact=True)
        raise ExperimentFailed(result, failures)
    manifest |= {"status": "complete", "finished": now(), "failures": []}
    if run_dir is not None:
        storage.release_space(run_dir)
        storage.write_json(run_dir / storage.SUMMARY, summary)
        if report:  # the run is complete, its report still to come: --resume writes it
            storage.write_json(run_dir / storage.MANIFEST, manifest | {"report": "pending"})
            result.report, result.report_note = write_report(result)
        storage.write_json(run_dir / storage.MANIFEST, manifest)
        storage.remove_leftovers(run_dir)
    return result


def write_report(result_or_dir: Result | Path | str) -> tuple[Path | None, str | None]:
    """Write ``report.html`` next to the results, if :mod:`sim.present.report` is available.

    Returns:
        (the report's path, None) or (None, a note saying why it was skipped).
    """
    path = result_or_dir.path if isinstance(result_or_dir, Result) else Path(result_or_dir)
    if path is None:
        return None, "no results folder, so no report"
    try:
        from sim.present.report import build_report
    except ImportError as exc:
        return None, f"report skipped: sim.present.report is not available ({exc})"
    return build_report(Path(path)), None
