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

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim import storage
from sim.config import Constants
from sim.hindcast import (
    COLLAPSE_365_TARGET,
    ESCALATION_TARGET,
    HR_TARGET,
    baseline_runs,
    load_history,
    outlived_share,
    simulate,
    with_constants,
)
from sim.provenance import git_commit, now, versions

#: Uniform priors (low, high) of the calibrated constants; all inside the schema's ranges.
PRIORS: dict[str, tuple[float, float]] = {
    "base_propensity": (0.002, 0.03),
    "gain_sensitivity": (1.0, 8.0),
    "trust_loss": (0.05, 0.35),
    "forgiveness": (0.01, 0.10),
    "retaliation_threshold": (0.05, 0.40),
    "indiscipline_rate": (0.01, 0.08),
    "spoiler_rate": (0.05, 0.30),
    "land_grab_rate": (0.10, 0.60),
    "fatigue_gain": (0.002, 0.03),
    "regroup_rate": (0.001, 0.01),
    "escalation_rate": (0.04, 0.15),
    "loophole_hit": (0.02, 0.15),
}

ProgressCallback = Callable[[int, int], None]


def design(
    budget: int, seed: int, priors: Mapping[str, tuple[float, float]] = PRIORS
) -> pd.DataFrame:
    """A seeded Latin hypercube of ``budget`` points scaled to the priors."""
    if budget < 1:
        raise ValueError("budget must be at least 1")
    names = list(priors)
    unit = qmc.LatinHypercube(d=len(names), seed=seed).random(budget)
    low = np.array([priors[n][0] for n in names])
    high = np.array([priors[n][1] for n in names])
    return pd.DataFrame(qmc.scale(unit, low, high), columns=names)


def components(
    history: Iterable[tuple[str, float, float]],
    collapse_365: float,
    hazard_ratio: float,
    escalation: float,
) -> dict[str, float]:
    """The fit's components, each 0 at a perfect fit and about 1 at a clear miss.

    - per truce ``obs_<name>``: ``|2·(1 − outlived) − 1|``, i.e. how far the
      observed duration sits from the simulated median in quantile terms
      (0 = median, 0.5 = edge of the 50% interval, 0.8 = edge of the 80% one);
    - ``collapse_365``: ``|share − 0.8| / 0.2``;
    - ``hazard_ratio``: log-distance outside 0.15–0.45, in units of log 3;
    - ``escalation``: ``|log(mean / 13)| / log 2``.

    Args:
        history: (name, outlived share, unused weight) per truce.
        collapse_365: share of unmonitored baseline truces collapsed within 365 days.
        hazard_ratio: monitored vs unmonitored hazard ratio.
        escalation: mean days from collapse to sustained high violence.
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
    return out


def distance(parts: Mapping[str, float]) -> float:
    """Root mean square of the components: every truce and every fact weighs the same."""
    values = np.array(list(parts.values()), dtype=float)
    return float(np.sqrt(np.mean(values**2)))


def evaluate(constants: Mapping[str, Any], replicates: int, history=None) -> dict[str, float]:
    """Simulate the history and the baseline pair with ``constants``: components and distance."""
    from sim import analysis

    history = load_history() if history is None else history
    rows = []
    for s in history:
        runs = simulate(with_constants(s, constants), replicates)
        rows.append(
            (s.name, outlived_share(runs["days_held"].to_numpy(), s.observed.days_held), 1.0)
        )
    unmon, mon = baseline_runs(replicates, constants)
    within = float((unmon["collapsed"].astype(bool) & (unmon["days_held"] <= 365)).mean())
    both = pd.concat([unmon.assign(arm="u"), mon.assign(arm="m")], ignore_index=True)
    hr = analysis.compare_arms(both, "u", "m", horizons=(365,)).hazard_ratio
    esc = unmon["escalation_days"].dropna().to_numpy(dtype=float)
    parts = components(rows, within, hr, float(esc.mean()) if len(esc) else math.nan)
    parts["distance"] = distance(parts)
    parts["hr_value"], parts["collapse_365_value"] = hr, within
    return parts


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
    budget: int = 150,
    replicates: int = 150,
    seed: int = 20120412,
    accept: float = 0.1,
    refine: int = 5,
    refine_replicates: int = 600,
    out: str | Path | None = "results",
    priors: Mapping[str, tuple[float, float]] = PRIORS,
    progress: ProgressCallback | None = None,
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
        "history": [s.name for s in history],
        "scenario_seeds": {s.name: s.seed for s in history},
        "versions": versions(),
        "git_commit": git_commit(),
        "started": now(),
    }
    run_dir = storage.new_run_dir(out, "calibration") if out is not None else None
    rows = []
    for i, point in enumerate(points.to_dict(orient="records")):
        rows.append({"point": i, **point, **evaluate(point, replicates, history)})
        if progress:
            progress(i + 1, budget + min(refine, budget))
    table = pd.DataFrame(rows).sort_values("distance", kind="stable")
    n_accept = max(1, int(round(accept * budget)))
    accepted = table.head(n_accept)
    finalists = []
    for j, row in enumerate(accepted.head(max(1, refine)).to_dict(orient="records")):
        point = {k: row[k] for k in priors}
        fit = evaluate(point, refine_replicates, history)
        finalists.append((fit["distance"], row["point"], point, fit))
        if progress:
            progress(budget + j + 1, budget + min(refine, budget))
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
