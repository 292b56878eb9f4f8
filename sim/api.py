"""The library's front door: ``sim.run``, ``compare``, ``sweep``, ``trace``, ``as_function``.

Each call runs a study through the experiment layer (:mod:`sim.experiment.study`)
and, before the study is marked complete, summarises it with the analysis layer
(``summary.json``: collapse shares, survival, paired comparisons, sensitivity)
and, when asked, writes its report with the presentation layer. It returns a
:class:`Result` usable in a notebook (``.runs``, ``.summary()``,
``.sensitivity()``). :func:`as_function` turns a scenario into a plain function
from parameters to outcomes, for optimisers, SALib and EMA Workbench.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Mesa first, before pandas and the rest: at import, Mesa's logging helpers call
# inspect.stack(), whose cost grows with the modules already loaded (CPython
# issue #92041): ~0.07 s less CPU for the command line (benchmarks/README.md).
# And sim.model before Mesa: it defers the parts of Mesa that the model does not
# use (scipy.spatial, networkx; sim.model.mesa_parts).
import sim.model  # noqa: F401  # isort: skip
import mesa  # noqa: F401
import pandas as pd

from sim.analysis import grouping, jsonable, shares, summaries
from sim.analysis import outcomes as outcome_table
from sim.analysis import points as point_table
from sim.analysis import sensitivity as sens
from sim.analysis.daily import daily_means
from sim.analysis.discovery import DiscoveryError
from sim.experiment import storage
from sim.experiment.daily import read_daily
from sim.experiment.runner import CHUNK_SIZE, Trace, run_serial, trace
from sim.experiment.study import ExperimentFailed, ProgressCallback, Study, run_study
from sim.scenario.cost import estimate_cost
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import override_scenario, resolve_scenario
from sim.scenario.schema import Scenario

__all__ = [
    "DiscoveryError",
    "ExperimentFailed",
    "ModelFunction",
    "Rerun",
    "Result",
    "Trace",
    "as_function",
    "compare",
    "rerun",
    "load",
    "run",
    "sweep",
    "trace",
]


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
    daily_sums: pd.DataFrame | None = None
    points: pd.DataFrame | None = None

    @property
    def per_point(self) -> bool:
        """Whether this is a sweep stored as per-point aggregates (``points/``)."""
        return str(self.manifest.get("layout", "")).startswith("points")

    def load_points(self) -> pd.DataFrame:
        """The points table of a sweep: one row per design point (``docs/RESULTS.md``).

        Raises:
            ValueError: if the result is not a sweep stored per point.
        """
        if self.points is None:
            if not self.per_point or self.path is None:
                raise ValueError("only a sweep with one arm stores a points table")
            self.points = storage.read_points(self.path)
        return self.points

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
        if self.per_point and self.runs is None:
            table = self.load_points()
            by_point = ["point", *grouping.swept_columns(table)]
            return point_table.collapse_from_points(table, tuple(horizons), by=by_point)
        runs = self.load_runs()
        by: str | list[str] = self.by
        if by == "point":
            crossed = ["arm"] if len(self.manifest.get("arms") or []) > 1 else []
            by = ["point", *crossed, *grouping.swept_columns(runs)]
        return shares.collapse_by_horizon(runs, horizons=tuple(horizons), by=by)

    def daily(self) -> pd.DataFrame:
        """Outcomes over time: per arm (per point in a sweep) and day, what held and how.

        Read from ``daily.parquet`` (kept in memory when nothing was stored).

        Returns:
            One row per arm, design point and day: the share still holding, the mean
            violence per truce in force with its 95% confidence interval (overall and
            by origin) and the mean trust of the truces holding
            (:func:`sim.analysis.daily.daily_means` says which band and why).

        Raises:
            FileNotFoundError: if the results folder has no daily table (stored by an
                older version).
        """
        if self.daily_sums is None:
            if self.path is None:
                raise ValueError("the daily table was neither kept nor stored")
            self.daily_sums = read_daily(self.path)
        return daily_means(self.daily_sums)

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
        found = self.summary_dict.get("sensitivity")
        if found is None:
            sweep = self.scenario.sweep if self.manifest.get("kind") == "sweep" else None
            if not sens.applies(sweep):
                kind = sweep.kind if sweep is not None else self.manifest.get("kind", "run")
                raise ValueError(
                    f"sensitivity indices need a sobol or morris sweep, not a {kind} design"
                )
            per_point = self.per_point and (self.runs is None or self.points is not None)
            table = self.load_points() if per_point else self.load_runs()
            found = sens.from_manifest(self.manifest, table)
        if found is None:
            raise ValueError("no sensitivity indices could be computed from these runs")
        return sens.indices_table(found)

    def discover(
        self,
        target: str,
        *,
        horizon: int | None = None,
        arm: str | None = None,
        min_coverage: float | None = None,
        save: bool = False,
    ) -> dict[str, Any]:
        """Scenario discovery on a finished sweep: where in the design does ``target`` hold?

        PRIM boxes (EMA Workbench) and a CART tree (scikit-learn) over the design
        points, each reduced to its ``collapse_share``, ``held_share`` and
        ``mean_days_held`` at ``horizon`` days (see :mod:`sim.analysis.discovery`),
        with one quotable sentence per analysis (``sentence``). Needs the extra
        ``truce-sim[discover]``.

        Example:
            >>> sim.load("results/lhs/20260101T000000Z").discover("collapse_share<=0.3")

        Args:
            target: e.g. ``"collapse_share<=0.3"`` or ``"held_share>=0.7"``.
            horizon: the day the outputs are taken at (default: the days simulated).
            arm: in a crossed design, this arm only (default: each arm on its own).
            min_coverage: the least share of the points meeting the target that
                the chosen box keeps (default 0.5).
            save: also write ``discover.json`` into the results folder (atomically).

        Returns:
            Plain JSON (what ``truce discover --json`` prints and ``discover.json``
            holds): see :func:`sim.analysis.discovery.discover`, plus ``results``,
            ``git_commit`` and each analysis's ``sentence``.

        Raises:
            DiscoveryError: for a result that is not a sweep of enough design
                points, a bad target, horizon or arm, or a target every point (or
                none) meets.
            ImportError: when EMA Workbench or scikit-learn is not installed
                (the message says what to install).
        """
        from sim.analysis import discovery
        from sim.present.sentences import discovery_sentence

        kind = self.manifest.get("kind", "run")
        if kind != "sweep":
            arms = self.manifest.get("arms") or []
            what = (
                "a single run (1 design point)"
                if kind == "run"
                else f"a comparison of {len(arms)} arms at one design point"
            )
            raise DiscoveryError(
                f"discovery needs a sweep of at least {discovery.MIN_POINTS} design points; "
                f"{self.path or 'this result'} holds {what}"
            )
        if self.runs is not None:
            runs = self.runs
        elif self.per_point and (self.path is None or not storage.has_runs(self.path)):
            runs = self.load_points()  # per-point aggregates (a sweep without --keep-runs)
        elif self.path is not None:
            runs = storage.read_runs(self.path, columns=[*discovery.COLUMNS, *_swept(self.path)])
        else:
            raise ValueError("the runs were neither kept nor stored")
        found = discovery.discover(
            runs,
            target,
            horizon=horizon,
            arm=arm,
            arms=self.manifest.get("arms"),
            min_coverage=discovery.MIN_COVERAGE if min_coverage is None else min_coverage,
        )
        for analysis in found["analyses"]:
            analysis["sentence"] = discovery_sentence(found, analysis)
        from sim.experiment.provenance import git_commit

        found = {
            "results": str(self.path) if self.path else None,
            **found,
            "git_commit": git_commit(),
        }
        if save and self.path is not None:
            storage.write_json(self.path / DISCOVER, found)
        return found


DISCOVER = storage.DISCOVER
"""Where :meth:`Result.discover` stores its result in a results folder."""


def _swept(folder: Path) -> list[str]:
    """The swept parameters of a stored runs table (its columns named by dotted path)."""
    import pyarrow.parquet as pq

    parts = sorted((Path(folder) / storage.RUNS).glob("*.parquet"))
    return [c for c in pq.read_schema(parts[0]).names if "." in c] if parts else []


def load(results_dir: str | Path) -> Result:
    """A finished result read back from its folder (``results/<scenario>/<timestamp>``).

    The runs table is read when first needed (``Result.load_runs()``); the
    summary is ``summary.json``'s.

    Raises:
        ScenarioError: naming the folder, for one that is not a finished results
            folder (no manifest, a run that did not complete, no runs table).
    """
    from sim.scenario.loading import validate

    folder = Path(results_dir).expanduser()
    expected = "expected a results folder (results/<scenario>/<timestamp>)"
    if not folder.is_dir():
        what = "not a folder" if folder.exists() else "no such folder"
        raise ScenarioError(folder, f"{what}; {expected}")
    path = folder / storage.MANIFEST
    if not path.is_file():
        raise ScenarioError(folder, f"no {storage.MANIFEST}; {expected}")
    try:
        manifest = storage.read_json(path)
    except (OSError, ValueError) as exc:
        raise ScenarioError(path, f"not readable JSON ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("scenario"), dict):
        raise ScenarioError(path, "expected a manifest with the resolved scenario")
    if manifest.get("status") != "complete":
        raise ScenarioError(
            path,
            f"status is {manifest.get('status')!r}, expected 'complete': the run did not finish "
            "(finish it with --resume)",
        )
    if storage.has_points(folder):  # a sweep stored as per-point aggregates
        if not storage.point_batches(folder):
            raise ScenarioError(folder / storage.POINTS, "no points; expected the points table")
    elif not storage.finished_parts(folder):
        raise ScenarioError(folder / storage.RUNS, "no result parts; expected the runs table")
    summary_path = folder / storage.SUMMARY
    summary = storage.read_json(summary_path) if summary_path.is_file() else {}
    scenario = validate(manifest["scenario"], f"{path}: scenario")
    report = folder / "report.html"
    return Result(scenario, None, manifest, folder, summary, report if report.is_file() else None)


def summarize_study(study: Study) -> dict[str, Any]:
    """The summary of a finished study (what ``summary.json`` holds).

    Reads only the columns the analysis declares it needs
    (:data:`sim.analysis.summaries.SUMMARY_COLUMNS`, which include the keys that
    pair the arms' truces), so that memory stays flat however large the study.
    """
    arms = study.arms
    if study.per_point:  # a sweep with one arm: from the aggregates its workers computed
        # a batch of the groups' text at a time, parsed: not held twice (issue 14)
        summary = point_table.summarize_points(study.iter_points(["point", "group"]))
        if not summary["groups"]:
            return {}
        light = study.read_points(skip=("group",))
        if light is None:
            return {}
    else:
        light = study.read([*summaries.SUMMARY_COLUMNS, *study.swept])
        if light is None or not len(light):
            return {}
        by = "point" if study.kind == "sweep" else "arm"
        summary = summaries.summarize(light, by=by, order=arms if by == "arm" else None, arms=arms)
    sweep = study.scenario.sweep
    if study.kind == "sweep" and sweep is not None and sens.applies(sweep):
        from sim.present.sentences import sensitivity_sentences

        indices = sens.analyze(light, sweep, study.scenario.seed, arms=arms)
        summary["sensitivity"] = jsonable.to_jsonable(indices)
        # the sentences the terminal and the report print, stored so a reader of the JSON
        # gets the same words (which lever matters most, and whether that could be noise)
        summary["sensitivity"]["sentences"] = sensitivity_sentences(summary["sensitivity"])
    return summary


def write_report(result_or_dir: Result | Path | str) -> tuple[Path | None, str | None]:
    """Write ``report.html`` next to stored results.

    Returns:
        (the report's path, None) or (None, a note saying why it was skipped).
    """
    from sim.present.report import build_report

    path = result_or_dir.path if isinstance(result_or_dir, Result) else Path(result_or_dir)
    if path is None:
        return None, "no results folder, so no report"
    return build_report(Path(path)), None


def point_reducer(
    scenario: Scenario | str | Path, overrides: Mapping[str, Any] | None = None
) -> point_table.PointReducer:
    """What reduces each design point's runs to its aggregates in the worker.

    :func:`sim.analysis.points.point_row` with every horizon the design can
    simulate (:class:`~sim.analysis.points.PointReducer`, picklable, for any engine).
    """
    from sim.scenario.designs import design_values

    resolved = resolve_scenario(scenario, overrides or {})
    found = {resolved.truce.horizon}
    for value in design_values(resolved, "truce.horizon"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            found.add(int(value))
    return point_table.PointReducer(tuple(sorted(found)))


def _experiment(
    kind: str,
    scenario: Scenario | str | Path,
    *,
    keep_runs: bool,
    report: bool,
    store_runs: bool | None = None,
    per_point: bool = True,
    **options: Any,
) -> Result:
    written: dict[str, Any] = {}
    if kind == "sweep" and per_point:  # per-point aggregates; the runs when asked (issue 14)
        try:
            options["reduce"] = point_reducer(scenario, options.get("overrides"))
        except ScenarioError:
            pass  # run_study reports a bad scenario in its own words
        options["keep_runs"] = keep_runs if store_runs is None else store_runs

    def finish(study: Study) -> dict[str, Any]:
        summary = summarize_study(study)
        if study.path is not None:
            (study.path / storage.SUMMARY).unlink(missing_ok=True)
            if summary:
                storage.write_json(study.path / storage.SUMMARY, summary)
            if report:  # before the study is marked complete: --resume finishes a report
                written["report"], written["note"] = write_report(study.path)
        return summary

    try:
        study, summary = run_study(kind, scenario, finish=finish, **options)
    except ExperimentFailed as exc:
        failed = exc.result
        if failed.path is not None:
            (failed.path / storage.SUMMARY).unlink(missing_ok=True)  # from an earlier attempt
        runs = failed.read() if keep_runs and failed.path is None else None
        exc.result = Result(failed.scenario, runs, failed.manifest, failed.path, {})
        raise
    runs = study.read() if keep_runs else None
    return Result(
        study.scenario,
        runs,
        study.manifest,
        study.path,
        summary or {},
        written.get("report"),
        written.get("note"),
        study.daily() if study.path is None else None,
        study.read_points() if study.per_point and study.path is None else None,
    )


_OPTIONS_DOC = """
    Args:
        scenario: a :class:`Scenario` or a YAML file.
        replicates: number of simulated truces (default: the scenario's).
        seed: root seed (default: the scenario's).
        overrides: dotted parameter paths and values.
        out: results root; the run goes to ``out/<scenario>/<timestamp>/``
            (None: nothing is written).
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
    """Simulate one scenario and (unless ``out`` is None) store the result."""
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
    hazard ratio), using the pairing.
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
    keep_runs: bool = False,
    report: bool = False,
    store_runs: bool | None = None,
) -> Result:
    """Run every design point of the scenario's ``sweep:`` block.

    A sweep with one arm stores per-point aggregates, computed in the
    workers (``points/``, :attr:`Result.points`; see
    :mod:`sim.analysis.points`): the summary, sensitivity indices, report and
    export need nothing else. ``keep_runs=True`` also stores the per-truce
    rows, coalesced into a few large Parquet files (``runs/batch-*.parquet``),
    and loads them into ``Result.runs``; ``store_runs=True`` stores them
    without loading them (``truce sweep --keep-runs``). A crossed design (the
    sweep under each arm of a ``compare:`` block) stores its runs as a
    comparison does, since its paired statistics need them.

    Every point uses the same chunk seeds. The runs table has one column per
    swept parameter (named by its dotted path); the summary has one group per
    design point. When the scenario also has a ``compare:`` block the design
    is crossed: every point runs under every arm (column ``arm``), still on the
    same chunk seeds, and the summary compares the arms at each point (see
    :func:`sim.analysis.summaries.summarize`).
    """
    return _experiment("sweep", scenario, **_args(locals()))


for _function in (run, compare, sweep):
    _function.__doc__ = (_function.__doc__ or "") + "\n" + _OPTIONS_DOC


def forecast(
    kind: str,
    scenario: Scenario | str | Path,
    *,
    replicates: int | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    chunk_size: int = CHUNK_SIZE,
    engine: str = "local",
    workers: int | None = None,
    keep_runs: bool = False,
) -> Any:
    """Predict an experiment's wall time and disk (``truce sweep --dry-run``); nothing is stored.

    A few of the design's own points are timed in this process and the time
    scaled to the whole design and the workers
    (:func:`sim.experiment.study.forecast_study`).

    Returns:
        A :class:`sim.scenario.cost.Forecast`.
    """
    from sim.experiment.study import forecast_study

    reduce = point_reducer(scenario, overrides) if kind == "sweep" else None
    return forecast_study(
        kind,
        scenario,
        replicates=replicates,
        seed=seed,
        overrides=overrides,
        chunk_size=chunk_size,
        engine=engine,
        workers=workers,
        reduce=reduce,
        keep_runs=keep_runs,
    )


def _args(local: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in local.items() if k != "scenario"}


@dataclass
class Rerun:
    """A stored study re-created from its manifest, and how the two compare.

    Attributes:
        original: the results folder re-created.
        kind: ``"run"``, ``"compare"`` or ``"sweep"``.
        result: the re-run (None when it was not run: the design drawn today differs).
        parts: Parquet parts compared.
        rows: rows compared.
        differences: one sentence per difference (empty: the runs tables are identical).
        changes: recorded package versions or git commit that differ from today's
            (a warning: a reason the results might differ, not a difference).
    """

    original: Path
    kind: str
    result: Result | None
    parts: int = 0
    rows: int = 0
    differences: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """Whether the re-run's runs table equals the stored one, value for value."""
        return self.result is not None and not self.differences


def rerun(
    manifest: str | Path,
    *,
    out: str | Path = "results",
    engine: str | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    report: bool = False,
) -> Rerun:
    """Re-create a stored run, compare or sweep from its manifest alone, and compare the runs.

    The manifest gives the resolved scenario, seed, replicates, chunk size,
    design and engine; the re-run goes to a new folder ``out/<scenario>/<timestamp>/``
    (with its summary and, when asked, its report), whose manifest records
    ``rerun_of`` (the original folder) and ``rerun_identical``. Its runs table
    is then compared with the stored one part by part: same parts, columns,
    types, rows and values. When the design drawn today from the recorded
    scenario differs from the recorded one, nothing is run.

    Args:
        manifest: a results folder's ``manifest.json`` (or the folder).
        out: results root of the re-run.
        engine: run on this engine instead of the recorded one (results do not
            depend on it).
        workers: processes or Dask workers (default: the number of cores).
        progress: called with (replicates done, replicates in all) after each chunk.
        report: also write the re-run's ``report.html``.

    Raises:
        ScenarioError: for a file that is not the manifest of a finished study
            (or cannot be read), bad settings, or a results root that cannot
            be written; nothing is written then.
        ExperimentFailed: if chunks of the re-run failed.
    """
    from sim.experiment import rerun as rr

    stored = rr.read_manifest(manifest)
    changes = rr.provenance_changes(stored.manifest)
    drawn = rr.planned_design_changes(stored)
    if drawn:
        return Rerun(stored.folder, stored.kind, None, differences=drawn, changes=changes)
    options = rr.study_options(stored, engine)
    kind = options.pop("kind")
    scenario = options.pop("scenario")
    layout = stored.manifest.get("layout")  # none: runs in one part per chunk, as before
    result = _experiment(
        kind,
        scenario,
        keep_runs=False,
        report=report,
        out=out,
        workers=workers,
        progress=progress,
        store_runs=layout == "points+runs",
        per_point=layout is not None,
        **options,
    )
    assert result.path is not None  # stored, since out is a folder
    differences = rr.design_changes(stored, result.manifest)
    if layout is not None:
        compared = rr.compare_points(stored.folder, result.path)
    else:
        compared = rr.compare_runs(stored.folder, result.path)
    differences += compared.differences
    result.manifest |= {"rerun_of": str(stored.folder), "rerun_identical": not differences}
    storage.write_json(result.path / storage.MANIFEST, result.manifest)
    return Rerun(stored.folder, kind, result, compared.parts, compared.rows, differences, changes)


# ----------------------------------------------------------------- the model as a function


def parameter_path(name: str) -> str:
    """The dotted parameter path of a keyword argument: ``__`` stands for ``.``.

    ``monitors__coverage`` is ``monitors.coverage`` and
    ``factions__faction_b__entanglement`` is ``factions.faction_b.entanglement``
    (a single ``_`` stays as it is); a name that already holds dots is kept.
    """
    return name if "." in name else name.replace("__", ".")


@dataclass(frozen=True)
class ModelFunction:
    """A scenario as a plain function from parameters to outcomes (see :func:`as_function`).

    Attributes:
        scenario: the scenario every call starts from (its ``compare:`` and
            ``sweep:`` blocks removed), with the seed and the number of
            replicates of every call.
        outcomes: the names of the outcomes each call returns, in order.
        chunk_size: replicates per chunk (as ``truce run --chunk-size``).
    """

    scenario: Scenario
    outcomes: tuple[str, ...]
    chunk_size: int = CHUNK_SIZE

    @property
    def seed(self) -> int:
        """The root seed of every call that does not give ``seed``."""
        return self.scenario.seed

    @property
    def replicates(self) -> int:
        """Simulated truces per call, unless the call gives ``replicates``."""
        return self.scenario.replicates

    def __repr__(self) -> str:
        return (
            f"ModelFunction(scenario={self.scenario.name!r}, replicates={self.replicates}, "
            f"seed={self.seed}, outcomes={list(self.outcomes)!r})"
        )

    def __call__(self, **parameters: Any) -> dict[str, float]:
        """Simulate the scenario with ``parameters`` set and return its outcomes.

        Args:
            **parameters: dotted parameter paths (``**{"monitors.coverage": 0.6}``)
                or the same with ``__`` for each dot (``monitors__coverage=0.6``);
                ``seed`` and ``replicates`` set the run's seed and size.

        Returns:
            ``{outcome: value}`` (plain floats), in the order of :attr:`outcomes`.

        Raises:
            ScenarioError: naming the parameter and what was expected, for a
                path that does not exist or a value out of range, as ``--set``
                does; nothing is simulated then.
        """
        scenario = self.resolve(parameters)
        runs = run_serial(scenario, scenario.seed, scenario.replicates, self.chunk_size)
        return outcome_table.outcomes(runs, self.outcomes)

    def resolve(self, parameters: Mapping[str, Any]) -> Scenario:
        """The scenario a call with ``parameters`` simulates, checked.

        Raises:
            ScenarioError: for a bad parameter (see :meth:`__call__`), a run
                too large for this machine, or outcomes the changed horizon
                does not reach.
        """
        source = f"as_function({self.scenario.name})"
        overrides: dict[str, Any] = {}
        for name, value in parameters.items():
            path = parameter_path(str(name))
            if path in overrides:
                raise ScenarioError(
                    source, "given twice (as a dotted path and with __)", field=path
                )
            overrides[path] = value
        scenario = (
            override_scenario(self.scenario, overrides, source) if overrides else self.scenario
        )
        if problem := estimate_cost(scenario, "run").problem():
            raise ScenarioError(source, problem, field="replicates")
        if scenario.truce.horizon != self.scenario.truce.horizon:
            try:
                outcome_table.check_names(self.outcomes, scenario.truce.horizon)
            except ValueError as exc:
                raise ScenarioError(source, str(exc), field="truce.horizon") from None
        return scenario


def as_function(
    scenario: Scenario | str | Path,
    outcomes: Iterable[str] | None = None,
    *,
    replicates: int | None = None,
    seed: int | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> ModelFunction:
    """The model as a plain function ``f(**parameters) -> {outcome: value}``.

    For optimisers, samplers and exploratory-modelling tools: SALib, EMA
    Workbench, ``scipy.optimize``. Each call sets the given parameters on the
    scenario (as ``--set`` does), simulates ``replicates`` truces in this
    process and reduces them to numbers (:mod:`sim.analysis.outcomes`). Every
    call uses the same seed unless it gives one, so calls are deterministic and
    share their random numbers (common random numbers): two calls that differ
    in one lever simulate the same replicate truces, and their difference is
    the lever's effect, not noise. The result equals ``truce run`` of the same
    scenario, seed, replicates and chunk size. The function is picklable, so
    ``multiprocessing``, EMA Workbench's evaluators and Dask can ship it.

    Example:
        >>> f = sim.as_function("scenarios/monitored.yaml", replicates=500)
        >>> f(**{"monitors.coverage": 0.3})["collapse_share_90"]
        >>> f(monitors__coverage=0.3, truce__loophole_width=0.2)

    Args:
        scenario: a :class:`Scenario` or a YAML file (its ``compare:`` and
            ``sweep:`` blocks are ignored).
        outcomes: the outcomes to return (default: all of
            :func:`sim.analysis.outcomes.outcome_names`): ``collapse_share_<d>``
            for 30, 90, 180 days and the horizon (any ``d`` up to the horizon
            may be asked for), ``median_days_held`` (NaN when more than half
            held to the horizon), ``mean_days_held``, ``cause_share_<origin>``.
        replicates: simulated truces per call (default: the scenario's).
        seed: root seed of every call (default: the scenario's); a call may
            give its own ``seed``.
        chunk_size: replicates per chunk (part of the result's identity).

    Returns:
        A :class:`ModelFunction`.

    Raises:
        ScenarioError: for a bad scenario, seed, number of replicates or
            outcome name.
    """
    base = resolve_scenario(scenario, {})
    settings = {k: v for k, v in {"seed": seed, "replicates": replicates}.items() if v is not None}
    if settings:
        base = override_scenario(base, settings, f"as_function({base.name})")
    base = base.model_copy(update={"compare": {}, "sweep": None})
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ScenarioError(
            "chunk_size", f"expected a whole number of at least 1, got {chunk_size!r}"
        )
    names = outcome_table.outcome_names(base.truce.horizon) if outcomes is None else outcomes
    if isinstance(names, str):
        names = [names]
    try:
        checked = outcome_table.check_names(names, base.truce.horizon)
    except ValueError as exc:
        raise ScenarioError(f"as_function({base.name})", str(exc), field="outcomes") from None
    return ModelFunction(base, tuple(checked), chunk_size)
