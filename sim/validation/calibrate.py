"""Calibration of the global constants by approximate Bayesian computation (rejection).

The constants shared by every scenario are fitted once, against all the
historical truces of ``scenarios/history`` together and the stylized facts of
``EVIDENCE.md``:

1. a Latin hypercube of ``budget`` points (the experiment layer's ``lhs``
   design, :func:`sim.scenario.designs.sample_matrix`, seeded) over the priors
   of the calibrated constants, read from the schema
   (:func:`sim.scenario.schema.priors`: the ``prior`` of a constant's field,
   uniform on its range or, on a ``log`` scale, on its logarithm); the other
   constants keep their defaults;
2. at each point, every history scenario and the baseline pair (unmonitored,
   monitored) are simulated with ``replicates`` truces on common random numbers
   (the scenarios' own seeds), chunk by chunk as tasks of
   :func:`sim.experiment.runner.execute` on an executor of
   :mod:`sim.experiment.executors`, and the distance of :func:`distance` is
   computed: per history truce, minus its log score (:func:`history_component`,
   censored records scored as still holding), and the stylized-fact
   :data:`TARGETS`;
3. the ``accept`` fraction of points with the smallest distance is the ABC
   posterior sample (rejection with a quantile tolerance);
4. the ``refine`` best accepted points are re-run with ``refine_replicates``
   truces and the one with the smallest distance is the point estimate (this
   guards against picking a point that fitted by Monte Carlo luck).

Before any work, the cost of the whole calibration is estimated with the
experiments' cost model (:func:`calibration_problem`); a size this machine
cannot run stops with one message.

Everything (seed, budget, priors, how the distance is computed, the design
with each point's distance, the accepted set, the point estimate) is written
under ``results/calibration/``.

:func:`leave_one_out` repeats the calibration once per history file with that
file left out, and scores the left-out truce's forecast under the constants
fitted without it (out of sample).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from sim.experiment import storage
from sim.experiment.executors import open_executor
from sim.experiment.provenance import now, stamp
from sim.experiment.runner import Task, TaskDone, TaskFailure, chunks, execute
from sim.scenario import cost, schema
from sim.scenario.catalog import bundled
from sim.scenario.designs import Sweep, sample_matrix
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario
from sim.scenario.schema import Constants, Observed, Prior, Scenario
from sim.validation import scoring
from sim.validation.hindcast import (
    COLLAPSE_365_TARGET,
    DEFAULT_REPLICATES,
    ESCALATION_TARGET,
    HR_TARGET,
    band_counts,
    load_history,
    score_history,
    simulate,
    stylized_facts,
    with_constants,
)
from sim.validation.scoring import rank_correlation

#: The settings the bundled constants were fitted with (docs/VALIDATION.md), the defaults of
#: ``truce calibrate``: about ten minutes on two cores for the fifteen history truces.
BUDGET, REPLICATES, ACCEPT, REFINE, REFINE_REPLICATES = 120, 100, 0.1, 5, 300
ProgressCallback = Callable[[int, int], None]
Priors = Mapping[str, Prior | tuple[float, float] | tuple[float, float, str]]


def _prior(value: Prior | tuple[float, float] | tuple[float, float, str]) -> Prior:
    """A prior from a :class:`Prior` or a (low, high[, scale]) tuple (scale: linear)."""
    if isinstance(value, Prior):
        return value
    scale = str(value[2]) if len(value) > 2 else "linear"
    return Prior(float(value[0]), float(value[1]), scale)


def prior_table(priors: Priors | None = None) -> dict[str, Prior]:
    """The priors as :class:`~sim.scenario.schema.Prior` (default: the schema's)."""
    return {name: _prior(p) for name, p in (schema.priors() if priors is None else priors).items()}


def design(budget: int, seed: int, priors: Priors | None = None) -> pd.DataFrame:
    """A seeded Latin hypercube of ``budget`` points scaled to the priors.

    Args:
        budget: design points.
        seed: seed of the hypercube.
        priors: prior per constant (default: the schema's, :func:`sim.scenario.schema.priors`);
            a ``log``-scale prior is sampled evenly in the logarithm.

    Returns:
        One row per point, one column per constant; a constant whose field is an
        integer is rounded to the nearest whole value.
    """
    if budget < 1:
        raise ValueError("budget must be at least 1")
    spec = prior_table(priors)
    logged = [p.scale == "log" for p in spec.values()]
    bounds = {
        f"constants.{name}": (
            {"low": math.log(p.low), "high": math.log(p.high)}
            if log
            else {"low": p.low, "high": p.high}
        )
        for (name, p), log in zip(spec.items(), logged, strict=True)
    }
    sweep = Sweep.model_validate({"lhs": {"n": budget, "bounds": bounds, "seed": seed}})
    values = np.asarray(sample_matrix(sweep, seed), dtype=float)
    values[:, logged] = np.exp(values[:, logged])
    table = pd.DataFrame(values, columns=list(spec))
    for name in spec:  # a whole-number constant takes whole values (pydantic refuses 3.7 days)
        field = Constants.model_fields.get(name)
        if field is not None and field.annotation is int:
            table[name] = table[name].round().astype(int)
    return table


#: The components of the distance that are stylized-fact *targets* (reported as "fit" by
#: the hindcast, not as evidence of validity). The facts checked but never fitted
#: (:func:`sim.validation.hindcast.checked_facts`) do not enter the distance.
TARGETS = ("collapse_365", "hazard_ratio", "escalation", "hazard_age")
#: A history component is minus the log score in units of ``ln 10``: 1 when the model gave
#: what happened a tenth of its probability, 2 a hundredth, 0 all of it.
HISTORY_SCALE = math.log(10.0)


def history_component(runs: pd.DataFrame, observed: Observed) -> float:
    """One truce's part of the distance: minus its log score, in units of ``ln 10``.

    The log score is that of the hindcast (:mod:`sim.validation.scoring`): the
    share of simulated truces that ended inside the observed window (widened by
    the tolerance) or, for a censored record ("still holding after
    ``days_held`` days"), the share still holding at ``days_held``; a share of
    zero is raised to half a simulated truce, ``1 / (2n)``. So a censored truce
    whose simulated truces all hold costs nothing, and simulated truces that end
    before it cost as much as any miss; no record is scored as if it ended on the
    day its record stops.

    Args:
        runs: one row per simulated truce of the record's scenario: ``days_held``, ``collapsed``.
        observed: the record's ``observed`` section.
    """
    share = scoring.observed_share(runs, observed)
    return -scoring.log_score(share, len(runs)) / HISTORY_SCALE


def components(
    history: Iterable[tuple[str, float]],
    collapse_365: float,
    hazard_ratio: float,
    escalation: float,
    hazard_trend: float | None = None,
) -> dict[str, float]:
    """The fit's components, each 0 at a perfect fit and about 1 at a clear miss.

    - per truce ``obs_<name>``: its :func:`history_component` (minus the log score of
      the observed window, censoring respected, in units of ``ln 10``);

    and the stylized-fact targets (:data:`TARGETS`, all on the unmonitored/monitored
    baseline pair):

    - ``collapse_365``: ``|share − 0.8| / 0.2``;
    - ``hazard_ratio``: log-distance outside 0.15–0.45, in units of log 3;
    - ``escalation``: ``|log(mean / 13)| / log 2``;
    - ``hazard_age`` (when ``hazard_trend`` is given): how far the hazard rises
      with the truce's age, ``max(0, log(late / early)) / log 3``, where
      ``hazard_trend`` is that ratio (Fortna finds the risk falls with age).

    Args:
        history: (name, history component) per truce.
        collapse_365: share of unmonitored baseline truces collapsed within 365 days.
        hazard_ratio: monitored vs unmonitored hazard ratio.
        escalation: mean days from collapse to sustained high violence.
        hazard_trend: late-to-early ratio of the unmonitored baseline's collapse
            hazard (:func:`hazard_trend`), or None to leave that component out.
    """
    out = {f"obs_{name}": float(part) for name, part in history}
    out["collapse_365"] = abs(collapse_365 - COLLAPSE_365_TARGET) / 0.2
    lo, hi = HR_TARGET
    if not hazard_ratio > 0:
        out["hazard_ratio"] = 2.0
    else:
        out["hazard_ratio"] = max(
            0.0, math.log(hazard_ratio / hi), math.log(lo / hazard_ratio)
        ) / math.log(3)
    out["escalation"] = (
        abs(math.log(escalation / ESCALATION_TARGET)) / math.log(2) if escalation > 0 else 2.0
    )
    if hazard_trend is not None:
        out["hazard_age"] = (
            max(0.0, math.log(hazard_trend)) / math.log(3) if hazard_trend > 0 else 0.0
        )
    return out


def hazard_trend(runs: pd.DataFrame, early: tuple[int, int] = (0, 90), late=(180, 365)) -> float:
    """Ratio of the collapse hazard late in a truce's life to early on.

    Each hazard is collapses per truce-day at risk in the band (days ``a+1..b``),
    as in :func:`sim.validation.hindcast.hazard_by_age`; a band without collapses counts
    half a collapse, so that the ratio stays finite. NaN when no truce is at
    risk in a band.
    """
    rates = []
    for a, b in (early, late):
        events, exposure = band_counts(runs, a, b)
        rates.append(max(events, 0.5) / exposure if exposure > 0 else math.nan)
    return rates[1] / rates[0]


def distance_settings() -> dict[str, Any]:
    """How the distance is computed, for a calibration's provenance (its manifest)."""
    return {
        "aggregate": "root mean square of the components",
        "history": "per truce, minus the log score of the observed window in units of ln 10 "
        "(censored records: the share still holding at days_held)",
        "targets": list(TARGETS),
        "scoring": scoring.settings(),
    }


def distance(parts: Mapping[str, float]) -> float:
    """Root mean square of the components: every truce and every fact weighs the same."""
    values = np.array(list(parts.values()), dtype=float)
    return float(np.sqrt(np.mean(values**2)))


def baseline_pair() -> tuple[Scenario, Scenario]:
    """The unmonitored and monitored baseline scenarios (the stylized facts' pair)."""
    return load_scenario(bundled("unmonitored.yaml")), load_scenario(bundled("monitored.yaml"))


def fit(
    history: Sequence[Scenario],
    history_runs: Sequence[pd.DataFrame],
    unmonitored: pd.DataFrame,
    monitored: pd.DataFrame,
) -> dict[str, float]:
    """The components and distance of one point, from its simulated runs tables.

    Besides the components (:func:`components`) and ``distance``, the result
    holds diagnostics that are not part of the distance: the measured hazard
    ratio, share collapsed within 365 days and hazard trend, and per truce the
    share of simulated truces consistent with its record (``share_<name>``).
    """
    rows = [
        (s.name, history_component(runs, s.observed))
        for s, runs in zip(history, history_runs, strict=True)
        if s.observed is not None
    ]
    facts = stylized_facts(unmonitored, monitored)
    hr = facts["monitoring_hazard_ratio"]["value"]
    within = facts["collapse_within_365_unmonitored"]["value"]
    trend = hazard_trend(unmonitored)
    parts = components(rows, within, hr, facts["escalation_days"]["value"], trend)
    parts["distance"] = distance(parts)
    parts["hr_value"], parts["collapse_365_value"], parts["hazard_trend_value"] = hr, within, trend
    for s, runs in zip(history, history_runs, strict=True):
        if s.observed is not None:  # diagnostics, not components: the share behind each score
            parts[f"share_{s.name}"] = scoring.observed_share(runs, s.observed)
    return parts


def evaluate(
    constants: Mapping[str, Any], replicates: int, history: Sequence[Scenario] | None = None
) -> dict[str, float]:
    """Simulate the history and the baseline pair with ``constants`` here: components, distance."""
    history = load_history() if history is None else history
    scenarios = [with_constants(s, constants) for s in (*history, *baseline_pair())]
    runs = [simulate(s, replicates) for s in scenarios]
    return fit(history, runs[: len(history)], runs[-2], runs[-1])


@contextmanager
def _executor(workers: int, executor: Any | None) -> Iterator[Any]:
    """``executor`` if given (left open), else a new one for ``workers`` (shut on exit)."""
    if executor is not None:
        yield executor
        return
    engine = "serial" if workers <= 1 else "local"
    with open_executor(engine, workers, start_method="spawn") as opened:
        yield opened


def evaluate_points(
    points: Sequence[Mapping[str, Any]],
    replicates: int,
    history: Sequence[Scenario],
    workers: int = 1,
    progress: Callable[[], None] | None = None,
    executor: Any | None = None,
) -> list[dict[str, float]]:
    """:func:`evaluate` at every point, run as chunk tasks by the experiment layer.

    Each (point, scenario) pair is split into the runner's chunks on the
    scenario's own seed, exactly as :func:`sim.validation.hindcast.simulate` runs
    it, so the results are those of :func:`evaluate` and do not depend on
    ``workers``. The tasks run on an executor of
    :func:`sim.experiment.executors.open_executor` (``serial`` for one worker,
    else ``local`` spawned processes) through :func:`sim.experiment.runner.execute`;
    a point's fit is computed as soon as its last chunk is in.

    Args:
        points: constants to set at each point.
        replicates: simulated truces per scenario and point.
        history: the history scenarios.
        workers: processes running chunks.
        progress: called once per point done.
        executor: an open executor to run on (left open), instead of a new one.

    Raises:
        RuntimeError: when a chunk fails (naming the point, scenario, chunk and seed).
    """
    base = (*history, *baseline_pair())
    tasks = []
    for i, point in enumerate(points):
        for k, s in enumerate(base):
            scenario = with_constants(s, point)
            tasks += [
                Task(scenario, s.seed, c, arm=s.name, arm_index=k, point=i)
                for c in chunks(replicates)
            ]
    expected = len(base) * len(chunks(replicates))
    parts: dict[int, dict[tuple[int, int], pd.DataFrame]] = {i: {} for i in range(len(points))}
    fits: dict[int, dict[str, float]] = {}

    def collect(task: Task, outcome: TaskDone | TaskFailure) -> None:
        if isinstance(outcome, TaskFailure):
            raise RuntimeError(f"calibration run failed at {outcome.where}: {outcome.error}")
        assert outcome.table is not None
        got = parts[task.point]
        got[(task.arm_index, task.chunk.index)] = outcome.table.drop(columns=["arm", "point"])
        if len(got) == expected:
            runs = [
                pd.concat([got[(k, c.index)] for c in chunks(replicates)], ignore_index=True)
                for k in range(len(base))
            ]
            del parts[task.point]
            fits[task.point] = fit(history, runs[: len(history)], runs[-2], runs[-1])
            if progress:
                progress()

    with _executor(workers, executor) as pool:
        execute(tasks, pool, collect, window=max(8, 2 * workers))
    return [fits[i] for i in range(len(points))]


def simulate_all(
    scenarios: Sequence[Scenario],
    replicates: int,
    workers: int = 1,
    executor: Any | None = None,
) -> list[pd.DataFrame]:
    """Runs of each scenario on its own seed, as :func:`~sim.validation.hindcast.simulate` gives.

    With more than one worker, the runner's chunks of every scenario run as
    tasks on ``local`` spawned processes (the tables are the same: each chunk
    keeps its seed and place); on ``executor`` when one is given (left open).

    Raises:
        RuntimeError: when a chunk fails (naming the scenario, chunk and seed).
    """
    if workers <= 1 and executor is None:
        return [simulate(s, replicates) for s in scenarios]
    tasks = [
        Task(s, s.seed, c, arm=s.name, arm_index=k)
        for k, s in enumerate(scenarios)
        for c in chunks(replicates)
    ]
    got: dict[tuple[int, int], pd.DataFrame] = {}

    def collect(task: Task, outcome: TaskDone | TaskFailure) -> None:
        if isinstance(outcome, TaskFailure):
            raise RuntimeError(f"run failed at {outcome.where}: {outcome.error}")
        assert outcome.table is not None
        got[(task.arm_index, task.chunk.index)] = outcome.table.drop(columns=["arm", "point"])

    with _executor(workers, executor) as pool:
        execute(tasks, pool, collect, window=max(8, 2 * workers))
    return [
        pd.concat([got[(k, c.index)] for c in chunks(replicates)], ignore_index=True)
        for k in range(len(scenarios))
    ]


# --------------------------------------------------------------------------- cost


@dataclass(frozen=True)
class Work:
    """Simulations asked for: ``replicates`` truces of each scenario at each of ``points``."""

    scenarios: Sequence[Scenario]
    replicates: int
    points: int = 1


def work_cost(work: Sequence[Work]) -> tuple[int, int, float, float]:
    """Simulated truces, longest truce (days), CPU seconds and memory of ``work``.

    The cost model is that of the experiments (:func:`sim.scenario.cost.estimate_cost`:
    truce-days times its seconds per truce-day, rows times bytes per row); the
    memory is the largest set of runs tables held at once, one point's (all its
    scenarios): a calibration keeps a point's fit, not its runs.
    """
    truces, days, cpu, memory = 0, 0, 0.0, 0.0
    for w in work:
        costs = [
            cost.estimate_cost(s.model_copy(update={"replicates": w.replicates}), "run")
            for s in w.scenarios
        ]
        truces += w.points * sum(c.truces for c in costs)
        days = max([days, *(c.days for c in costs)])
        cpu += w.points * sum(c.cpu_seconds for c in costs)
        memory = max(memory, sum(c.memory_bytes for c in costs))
    return truces, days, cpu, memory


def _problem(work: Sequence[Work], what: str, lower: str) -> str | None:
    """The experiments' "too large to run" message for ``work``, or None when it fits."""
    truces, days, cpu, memory = work_cost(work)
    limit = cost._physical_memory() * cost.MEMORY_SHARE
    if cpu <= cost.MAX_CPU_SECONDS and memory <= limit:
        return None
    return (
        f"too large to run: {what} = {truces:,} simulated truces of up to {days:,} days, about "
        f"{cost._duration(cpu)} of CPU and {cost._gigabytes(memory)} of memory on this machine; "
        f"the limits are {cost._duration(cost.MAX_CPU_SECONDS)} of CPU and "
        f"{cost._gigabytes(limit)} (half its memory). Lower {lower}"
    )


def _scenarios(history: Sequence[Scenario]) -> tuple[list[Scenario], str]:
    """The scenarios run at each design point (history files, baseline pair) and their label."""
    n = len(history)
    files = f"{n} history file{'s' if n != 1 else ''}"
    return [*history, *baseline_pair()], f"{n + 2} scenarios ({files} and the baseline pair)"


def calibration_work(
    history: Sequence[Scenario], budget: int, replicates: int, refine: int, refine_replicates: int
) -> tuple[list[Work], str]:
    """The simulations of :func:`calibrate` and how to say them (design, then refinement)."""
    scenarios, label = _scenarios(history)
    finalists = min(refine, budget)
    work = [Work(scenarios, replicates, budget), Work(scenarios, refine_replicates, finalists)]
    what = (
        f"({budget:,} design points × {replicates:,} replicates + {finalists:,} × "
        f"{refine_replicates:,} to refine) × {label}"
    )
    return work, what


def calibration_problem(
    history: Sequence[Scenario], budget: int, replicates: int, refine: int, refine_replicates: int
) -> str | None:
    """Why :func:`calibrate` with these settings cannot run on this machine (None if it can).

    Budget × replicates (and the refinement's points × replicates) × (history
    files + baseline pair) × each scenario's lead time + horizon, costed as the
    experiments are (:mod:`sim.scenario.cost`), against the same limits.
    """
    work, what = calibration_work(history, budget, replicates, refine, refine_replicates)
    return _problem(work, what, "--budget or --replicates (or --refine-replicates)")


def leave_one_out_problem(
    history: Sequence[Scenario],
    budget: int,
    replicates: int,
    refine: int,
    refine_replicates: int,
    score_replicates: int,
    hindcast_replicates: int = 0,
) -> str | None:
    """Why :func:`leave_one_out` (and the hindcast run with it) cannot run here (None if it can).

    Each fold is a calibration on all files but one (:func:`calibration_work`)
    followed by a run of every history file with ``score_replicates`` truces;
    ``hindcast_replicates`` adds the hindcast itself (every history file, the
    baseline pair and the four runs of the checked facts, which are variants of
    the unmonitored baseline) when the command runs both.
    """
    history = list(history)
    folds, work, parts = len(history), [], []
    if folds < 2:
        return None  # no fold to run: leave_one_out refuses it with its own message
    for i in range(folds):
        train = [s for k, s in enumerate(history) if k != i]
        fold, what = calibration_work(train, budget, replicates, refine, refine_replicates)
        work += [*fold, Work(history, score_replicates)]
    parts.append(f"{folds:,} folds × {what}")
    parts.append(f"{folds:,} folds × {folds:,} history files × {score_replicates:,} to score")
    if hindcast_replicates:
        unmonitored, monitored = baseline_pair()
        extra = [*history, unmonitored, monitored, *([unmonitored] * 4)]
        work.append(Work(extra, hindcast_replicates))
        parts.append(f"the hindcast ({hindcast_replicates:,} replicates × {len(extra)} runs)")
    lower = "--budget, --calibration-replicates, --refine-replicates or --replicates"
    return _problem(work, " + ".join(parts), lower)


@dataclass
class Calibration:
    """The outcome of a calibration: design, accepted set, point estimate and provenance."""

    table: pd.DataFrame
    accepted: pd.DataFrame
    best: dict[str, float]
    best_fit: dict[str, float]
    manifest: dict[str, Any]
    path: Path | None = None

    def posterior(self) -> pd.DataFrame:
        """Median and 10–90% range of each calibrated constant over the accepted set."""
        names = list(self.manifest["priors"])
        q = self.accepted[names].quantile([0.1, 0.5, 0.9]).T
        q.columns = ["p10", "median", "p90"]
        q.insert(0, "prior_low", [self.manifest["priors"][n][0] for n in names])
        q.insert(1, "prior_high", [self.manifest["priors"][n][1] for n in names])
        q["best"] = [self.best[n] for n in names]
        q["default_before"] = [Constants().model_dump()[n] for n in names]
        return q


def calibrate(
    budget: int = BUDGET,
    replicates: int = REPLICATES,
    seed: int = 20120412,
    accept: float = ACCEPT,
    refine: int = REFINE,
    refine_replicates: int = REFINE_REPLICATES,
    out: str | Path | None = "results",
    priors: Priors | None = None,
    progress: ProgressCallback | None = None,
    workers: int = 1,
    history: Sequence[Scenario] | None = None,
    executor: Any | None = None,
) -> Calibration:
    """Fit the global constants by ABC rejection over a Latin hypercube.

    Args:
        budget: design points.
        replicates: simulated truces per scenario at each design point.
        seed: seed of the Latin hypercube (the simulations use each scenario's seed).
        accept: fraction of design points accepted (the ABC tolerance as a quantile).
        refine: accepted points re-run with ``refine_replicates`` to pick the estimate.
        refine_replicates: simulated truces per scenario in the refinement.
        out: results root (``out/calibration/<timestamp>/``); None to keep nothing.
        priors: priors of the calibrated constants (default: the schema's).
        progress: called with (points done, points in all).
        workers: processes evaluating design points in parallel (results do not depend on it).
        history: the history scenarios fitted (default: the bundled ones, all of them).
        executor: an open executor to run on (left open), instead of new ones.

    Raises:
        ScenarioError: on unusable history scenarios or a size this machine cannot run
            (:func:`calibration_problem`), before any work; ValueError on bad settings.
    """
    if not 0 < accept <= 1:
        raise ValueError("accept must be in (0, 1]")
    if replicates < 1 or refine_replicates < 1:
        raise ValueError("replicates must be at least 1")
    spec = prior_table(priors)
    unknown = set(spec) - set(Constants.model_fields)
    if unknown:
        raise ValueError(f"not global constants: {', '.join(sorted(unknown))}")
    history = load_history() if history is None else list(history)
    if problem := calibration_problem(history, budget, replicates, refine, refine_replicates):
        raise ScenarioError("--budget", problem)
    points = design(budget, seed, spec)
    manifest = {
        "kind": "calibration",
        "method": "ABC rejection over a Latin hypercube",
        "seed": seed,
        "budget": budget,
        "replicates": replicates,
        "accept": accept,
        "refine": refine,
        "refine_replicates": refine_replicates,
        "priors": {k: [p.low, p.high] for k, p in spec.items()},
        "log_scale_priors": sorted(k for k, p in spec.items() if p.scale == "log"),
        "distance": distance_settings(),
        "workers": workers,
        "history": [s.name for s in history],
        "scenario_seeds": {s.name: s.seed for s in history},
        **stamp(),
    }
    run_dir = storage.new_run_dir(out, "calibration") if out is not None else None
    total, done = budget + min(refine, budget), 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    records = [{str(k): v for k, v in row.items()} for row in points.to_dict(orient="records")]
    fits = evaluate_points(records, replicates, history, workers, tick, executor)
    rows = [{"point": i, **p, **fit} for i, (p, fit) in enumerate(zip(records, fits, strict=True))]
    table = pd.DataFrame(rows).sort_values("distance", kind="stable")
    n_accept = max(1, int(round(accept * budget)))
    accepted = table.head(n_accept)
    best_rows = accepted.head(max(1, refine)).to_dict(orient="records")
    best_points = [{k: row[k] for k in spec} for row in best_rows]
    refits = evaluate_points(best_points, refine_replicates, history, workers, tick, executor)
    finalists = [
        (fit["distance"], row["point"], point, fit)
        for row, point, fit in zip(best_rows, best_points, refits, strict=True)
    ]
    _, best_point, best, best_fit = min(finalists, key=lambda x: x[0])
    manifest |= {
        "finished": now(),
        "accepted_points": [int(p) for p in accepted["point"]],
        "best_point": int(best_point),
        "tolerance": float(accepted["distance"].max()),
    }
    result = Calibration(table, accepted, best, best_fit, manifest, run_dir)
    if run_dir is not None:
        storage.atomic_write_bytes(run_dir / "design.csv", table.to_csv(index=False).encode())
        storage.atomic_write_bytes(run_dir / "posterior.csv", result.posterior().to_csv().encode())
        storage.write_json(run_dir / "accepted.json", {"constants": best, "fit": best_fit})
        storage.write_json(run_dir / storage.MANIFEST, manifest)
    return result


#: Settings of the leave-one-out calibrations by default: a small search (each
#: fold is a whole calibration), enough to move the constants towards the
#: training truces, not to pin them down.
LOO_BUDGET, LOO_REPLICATES, LOO_ACCEPT, LOO_REFINE, LOO_REFINE_REPLICATES = 40, 100, 0.25, 3, 300


def leave_one_out(
    history: Sequence[Scenario] | None = None,
    budget: int = LOO_BUDGET,
    replicates: int = LOO_REPLICATES,
    seed: int = 20120412,
    accept: float = LOO_ACCEPT,
    refine: int = LOO_REFINE,
    refine_replicates: int = LOO_REFINE_REPLICATES,
    score_replicates: int = DEFAULT_REPLICATES,
    workers: int = 1,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Calibrate on all history files but one, score the one left out; for each file.

    Each fold runs :func:`calibrate` (same design seed, nothing written) on the
    other files and the baseline's facts, then simulates every history file
    with the fold's point estimate (``score_replicates`` truces each) and scores
    the left-out truce (:func:`sim.validation.hindcast.score_history`): its log
    score, and its skill against the pooled benchmark of the same fold's
    constants (all files pooled: the benchmark uses the left-out file's
    scenario, as the model does, but never its outcome).

    Args:
        history: the history scenarios (default: the bundled ones); at least two.
        budget: design points per fold.
        replicates: simulated truces per scenario and design point.
        seed: seed of every fold's hypercube.
        accept: share of points accepted per fold.
        refine: accepted points re-run per fold.
        refine_replicates: simulated truces per scenario when refining.
        score_replicates: simulated truces per history file when scoring.
        workers: processes evaluating design points.
        progress: called with (points done, points in all) over all folds.

    Returns:
        Plain data: ``settings``, ``truces`` (one row per left-out truce: its
        share, log score, benchmark log score, skill, the fold's distance and
        constants), ``mean_log_score``, ``mean_pooled_log_score`` and ``skill``
        (the means over truces: the out-of-sample skill), and the
        ``rank_correlation`` of the left-out truces' simulated medians with
        their observed durations.

    Raises:
        ValueError: with fewer than two history files or bad settings.
        ScenarioError: on a size this machine cannot run (:func:`leave_one_out_problem`),
            before any work.
    """
    history = load_history() if history is None else list(history)
    if len(history) < 2:
        raise ValueError("leave-one-out needs at least two history files")
    problem = leave_one_out_problem(
        history, budget, replicates, refine, refine_replicates, score_replicates
    )
    if problem:
        raise ScenarioError("--budget", problem)
    per_fold = budget + min(refine, budget)
    total, done = per_fold * len(history), 0
    rows = []
    with _executor(workers, None) as pool:  # one pool for every fold: no start-up per fold
        for i in range(len(history)):
            train = [s for k, s in enumerate(history) if k != i]

            def tick(k: int, _n: int, base: int = done) -> None:
                if progress:
                    progress(base + k, total)

            cal = calibrate(
                budget,
                replicates,
                seed,
                accept,
                refine,
                refine_replicates,
                out=None,
                progress=tick,
                workers=workers,
                history=train,
                executor=pool,
            )
            done += per_fold
            fitted = [with_constants(s, cal.best) for s in history]
            runs = simulate_all(fitted, score_replicates, workers, pool)
            score = score_history(fitted, runs)["truces"][i]
            rows.append(
                {
                    **score.to_dict(),
                    "trained_on": [s.name for s in train],
                    "distance": cal.best_fit["distance"],
                    "constants": cal.best,
                }
            )
    return {
        "settings": {
            "budget": budget,
            "replicates": replicates,
            "seed": seed,
            "accept": accept,
            "refine": refine,
            "refine_replicates": refine_replicates,
            "score_replicates": score_replicates,
            "workers": workers,
            "method": "ABC rejection per fold (sim.validation.calibrate.calibrate)",
            "description": f"each fold: budget {budget}, {replicates} truces per point, refine "
            f"{refine} × {refine_replicates}, seed {seed}",
        },
        "truces": rows,
        "mean_log_score": float(np.mean([r["log_score"] for r in rows])),
        "mean_pooled_log_score": float(np.mean([r["pooled_log_score"] for r in rows])),
        "skill": float(np.mean([r["skill"] for r in rows])),
        "rank_correlation": rank_correlation(
            [r["simulated_median"] for r in rows], [r["observed_point"] for r in rows]
        ),
    }


def leave_one_out_from_design(
    folder: str | Path,
    history: Sequence[Scenario] | None = None,
    score_replicates: int = DEFAULT_REPLICATES,
    workers: int = 1,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Leave-one-out on the design of a finished calibration, with no new design runs.

    Rejection ABC simulates every history truce at every design point on the truce's
    own seed, whatever is left out; so fold ``k``'s distances are the design's
    distances recomputed without the component ``obs_<k>``, and its estimate is the
    design point with the smallest of them. No point is refined (the refinement step
    would need new runs): the in-sample comparison uses the same rule, the design point
    with the smallest distance over every component (``in_sample``), so that the two
    skills differ only by what was left out.

    Args:
        folder: a ``truce calibrate`` results folder (its ``design.csv``).
        history: the history scenarios it was fitted on (default: the bundled ones).
        score_replicates: simulated truces per history file when scoring.
        workers: processes for the scoring runs.
        progress: called with (folds done, folds + 1).

    Returns:
        As :func:`leave_one_out`, plus ``in_sample`` (the same means for the point chosen
        on every component).

    Raises:
        ScenarioError: when the folder holds no design, or the design lacks a history
            file's component.
    """
    history = load_history() if history is None else list(history)
    path = Path(folder) / "design.csv"
    if not path.is_file():
        raise ScenarioError("--from-calibration", f"{path}: no calibration design there")
    design = pd.read_csv(path)
    names = [s.name for s in history]
    missing = [n for n in names if f"obs_{n}" not in design.columns]
    if missing:
        raise ScenarioError(
            "--from-calibration",
            f"{path}: the design has no component for {', '.join(missing)} (fitted on other "
            "history files)",
        )
    constants = [c for c in design.columns if c in Constants.model_fields]
    parts = [f"obs_{n}" for n in names] + [t for t in TARGETS if t in design.columns]

    def best(columns: list[str]) -> tuple[dict[str, float], float]:
        values = design[columns].to_numpy(dtype=float)
        d = np.sqrt(np.mean(values**2, axis=1))
        row = int(np.nanargmin(d))
        return {c: cast(float, design.at[row, c]) for c in constants}, float(d[row])

    def scored(point: dict[str, float]) -> list[Any]:
        fitted = [with_constants(s, point) for s in history]
        return score_history(fitted, simulate_all(fitted, score_replicates, workers))["truces"]

    rows = []
    for i, name in enumerate(names):
        point, dist = best([p for p in parts if p != f"obs_{name}"])
        score = scored(point)[i]
        rows.append(
            {
                **score.to_dict(),
                "trained_on": [n for n in names if n != name],
                "distance": dist,
                "constants": point,
            }
        )
        if progress:
            progress(i + 1, len(names) + 1)
    point, _ = best(parts)
    inside = scored(point)
    if progress:
        progress(len(names) + 1, len(names) + 1)

    def means(scores: Sequence[Any]) -> dict[str, Any]:
        return {
            "mean_log_score": float(np.mean([s["log_score"] for s in scores])),
            "mean_pooled_log_score": float(np.mean([s["pooled_log_score"] for s in scores])),
            "skill": float(np.mean([s["skill"] for s in scores])),
            "rank_correlation": rank_correlation(
                [s["simulated_median"] for s in scores], [s["observed_point"] for s in scores]
            ),
        }

    return {
        "settings": {
            "design": str(path),
            "points": len(design),
            "score_replicates": score_replicates,
            "workers": workers,
            "method": "rejection ABC on a finished calibration's design: per fold the design "
            "point with the smallest distance without the left-out truce, not refined",
            "description": f"each fold: the best of the {len(design)} points of the calibration "
            f"design {path.parent.name} without the left-out truce, unrefined; "
            f"{score_replicates} truces per file",
        },
        "truces": rows,
        **means(rows),
        "in_sample": means([s.to_dict() for s in inside]),
    }
