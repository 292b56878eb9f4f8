"""Calibration of the global constants by approximate Bayesian computation (rejection).

The constants shared by every scenario are fitted once, against all the
historical truces of ``scenarios/history`` together and the stylized facts of
``EVIDENCE.md``:

1. a Latin hypercube (``scipy.stats.qmc.LatinHypercube``, seeded) of ``budget``
   points over uniform priors on the calibrated constants (:data:`PRIORS`); the
   other constants keep their defaults;
2. at each point, every history scenario and the baseline pair (unmonitored,
   monitored) are simulated with ``replicates`` truces on common random numbers
   (the scenarios' own seeds), and the distance of :func:`distance` is computed;
3. the ``accept`` fraction of points with the smallest distance is the ABC
   posterior sample (rejection with a quantile tolerance);
4. the ``refine`` best accepted points are re-run with ``refine_replicates``
   truces and the one with the smallest distance is the point estimate (this
   guards against picking a point that fitted by Monte Carlo luck).

Everything (seed, budget, priors, the design with each point's distance, the
accepted set, the point estimate) is written under ``results/calibration/``.
"""

from __future__ import annotations

import concurrent.futures
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.experiment import storage
from sim.experiment.executors import open_executor
from sim.experiment.provenance import now, stamp
from sim.scenario.schema import Constants
from sim.validation.hindcast import (
    COLLAPSE_365_TARGET,
    ESCALATION_TARGET,
    HR_TARGET,
    band_counts,
    baseline_runs,
    load_history,
    outlived_share,
    simulate,
    stylized_facts,
    with_constants,
)

#: Priors (low, high) of the calibrated constants; all inside the schema's ranges. Uniform,
#: except those in :data:`LOG_SCALE`, which are uniform in their logarithm (a rate that may
#: plausibly be 0.0005 or 0.02 is searched evenly across its orders of magnitude).
PRIORS: dict[str, tuple[float, float]] = {
    "base_propensity": (0.00003, 0.03),
    "gain_sensitivity": (1.0, 8.0),
    "fear_weight": (0.0, 3.0),
    "trust_loss": (0.05, 0.35),
    "forgiveness": (0.01, 0.10),
    "retaliation_threshold": (0.2, 0.7),
    "retaliation_rate": (0.2, 1.0),
    "grudge_memory": (1.0, 20.0),
    "hostility_threshold": (0.0, 0.35),
    "retaliation_restraint": (0.0, 1.0),
    "withdrawal_trust": (0.01, 0.10),
    "consolidation_rate": (0.0, 0.004),
    "indiscipline_rate": (0.01, 0.08),
    "spoiler_rate": (0.05, 0.30),
    "land_grab_rate": (0.10, 0.60),
    "fatigue_gain": (0.002, 0.03),
    "regroup_rate": (0.001, 0.01),
    "escalation_rate": (0.04, 0.15),
    "loophole_hit": (0.02, 0.15),
}
LOG_SCALE: frozenset[str] = frozenset({"base_propensity"})

ProgressCallback = Callable[[int, int], None]


def design(
    budget: int, seed: int, priors: Mapping[str, tuple[float, float]] = PRIORS
) -> pd.DataFrame:
    """A seeded Latin hypercube of ``budget`` points scaled to the priors."""
    if budget < 1:
        raise ValueError("budget must be at least 1")
    names = list(priors)
    unit = qmc.LatinHypercube(d=len(names), seed=seed).random(budget)
    log = np.array([n in LOG_SCALE for n in names])
    low = np.array([priors[n][0] for n in names], dtype=float)
    high = np.array([priors[n][1] for n in names], dtype=float)
    low[log], high[log] = np.log(low[log]), np.log(high[log])
    values = low + unit * (high - low)
    values[:, log] = np.exp(values[:, log])
    return pd.DataFrame(values, columns=names)


def components(
    history: Iterable[tuple[str, float, float]],
    collapse_365: float,
    hazard_ratio: float,
    escalation: float,
    hazard_trend: float | None = None,
) -> dict[str, float]:
    """The fit's components, each 0 at a perfect fit and about 1 at a clear miss.

    - per truce ``obs_<name>``: ``|2·(1 − outlived) − 1|``, i.e. how far the
      observed duration sits from the simulated median in quantile terms
      (0 = median, 0.5 = edge of the 50% interval, 0.8 = edge of the 80% one);
    - ``collapse_365``: ``|share − 0.8| / 0.2``;
    - ``hazard_ratio``: log-distance outside 0.15–0.45, in units of log 3;
    - ``escalation``: ``|log(mean / 13)| / log 2``;
    - ``hazard_age`` (when ``hazard_trend`` is given): how far the hazard rises
      with the truce's age, ``max(0, log(late / early)) / log 3``, where
      ``hazard_trend`` is that ratio (Fortna finds the risk falls with age).

    Args:
        history: (name, outlived share, unused weight) per truce.
        collapse_365: share of unmonitored baseline truces collapsed within 365 days.
        hazard_ratio: monitored vs unmonitored hazard ratio.
        escalation: mean days from collapse to sustained high violence.
        hazard_trend: late-to-early ratio of the unmonitored baseline's collapse
            hazard (:func:`hazard_trend`), or None to leave that component out.
    """
    out = {f"obs_{name}": abs(2.0 * (1.0 - outlived) - 1.0) for name, outlived, _ in history}
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


def distance(parts: Mapping[str, float]) -> float:
    """Root mean square of the components: every truce and every fact weighs the same."""
    values = np.array(list(parts.values()), dtype=float)
    return float(np.sqrt(np.mean(values**2)))


def evaluate(constants: Mapping[str, Any], replicates: int, history=None) -> dict[str, float]:
    """Simulate the history and the baseline pair with ``constants``: components and distance."""
    history = load_history() if history is None else history
    rows = []
    for s in history:
        runs = simulate(with_constants(s, constants), replicates)
        rows.append(
            (s.name, outlived_share(runs["days_held"].to_numpy(), s.observed.days_held), 1.0)
        )
    unmon, mon = baseline_runs(replicates, constants)
    facts = stylized_facts(unmon, mon)
    hr = facts["monitoring_hazard_ratio"]["value"]
    within = facts["collapse_within_365_unmonitored"]["value"]
    trend = hazard_trend(unmon)
    parts = components(rows, within, hr, facts["escalation_days"]["value"], trend)
    parts["distance"] = distance(parts)
    parts["hr_value"], parts["collapse_365_value"], parts["hazard_trend_value"] = hr, within, trend
    return parts


def _evaluate_job(job: tuple[Mapping[str, Any], int, list]) -> dict[str, float]:
    """:func:`evaluate` on one (constants, replicates, history) job, for process pools."""
    return evaluate(*job)


def _evaluate_all(
    jobs: list[tuple[Mapping[str, Any], int, list]],
    workers: int,
    progress: Callable[[], None] | None,
) -> list[dict[str, float]]:
    """Evaluate the jobs in order, on ``workers`` spawned processes (in-process for 1).

    Every evaluation uses the scenarios' own seeds, so the results do not
    depend on the number of workers.
    """
    if workers <= 1 or len(jobs) <= 1:
        out = []
        for job in jobs:
            out.append(_evaluate_job(job))
            if progress:
                progress()
        return out
    with open_executor("local", workers, start_method="spawn") as pool:
        futures = [pool.submit(_evaluate_job, job) for job in jobs]
        for future in concurrent.futures.as_completed(futures):
            future.result()  # raise early
            if progress:
                progress()
        return [f.result() for f in futures]


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
    budget: int = 500,
    replicates: int = 150,
    seed: int = 20120412,
    accept: float = 0.1,
    refine: int = 10,
    refine_replicates: int = 600,
    out: str | Path | None = "results",
    priors: Mapping[str, tuple[float, float]] = PRIORS,
    progress: ProgressCallback | None = None,
    workers: int = 1,
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
        priors: uniform priors of the calibrated constants.
        progress: called with (points done, points in all).
        workers: processes evaluating design points in parallel (results do not depend on it).

    Raises:
        ScenarioError: on unusable history scenarios; ValueError on bad settings.
    """
    if not 0 < accept <= 1:
        raise ValueError("accept must be in (0, 1]")
    if replicates < 1 or refine_replicates < 1:
        raise ValueError("replicates must be at least 1")
    unknown = set(priors) - set(Constants.model_fields)
    if unknown:
        raise ValueError(f"not global constants: {', '.join(sorted(unknown))}")
    history = load_history()
    points = design(budget, seed, priors)
    manifest = {
        "kind": "calibration",
        "method": "ABC rejection over a Latin hypercube",
        "seed": seed,
        "budget": budget,
        "replicates": replicates,
        "accept": accept,
        "refine": refine,
        "refine_replicates": refine_replicates,
        "priors": {k: list(v) for k, v in priors.items()},
        "log_scale_priors": sorted(LOG_SCALE & set(priors)),
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

    records = points.to_dict(orient="records")
    fits = _evaluate_all([(p, replicates, history) for p in records], workers, tick)
    rows = [{"point": i, **p, **fit} for i, (p, fit) in enumerate(zip(records, fits, strict=True))]
    table = pd.DataFrame(rows).sort_values("distance", kind="stable")
    n_accept = max(1, int(round(accept * budget)))
    accepted = table.head(n_accept)
    best_rows = accepted.head(max(1, refine)).to_dict(orient="records")
    best_points = [{k: row[k] for k in priors} for row in best_rows]
    refits = _evaluate_all([(p, refine_replicates, history) for p in best_points], workers, tick)
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
