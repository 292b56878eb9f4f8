"""The hindcast: simulated against observed durations of historical truces.

:func:`hindcast` runs every scenario of the history folder(s) with the global
constants of ``sim/scenario/schema.py`` and tabulates, per truce, the observed days held
against the simulated median, the 50% and 80% intervals and the share of
simulated truces that outlived the observed one. It also measures the stylized
facts of ``EVIDENCE.md`` on the baseline scenarios (monitored vs unmonitored):
the monitoring hazard ratio, the share collapsing within 365 days, the days
from collapse to sustained high violence, and the hazard by the truce's age
(the calibration's targets, reported as "fit"), and two facts that were not
targets (checks): that third-party guarantees lengthen a truce (Fortna 2003)
and that forgiving responses keep it (Wu & Axelrod 1995).

Each truce's forecast is scored by :mod:`sim.validation.scoring`: the log score
of the observed window, its skill against the pooled "average truce", and the
rank correlation of simulated with observed durations.

The functions here are also the fit measures of ``sim.validation.calibrate``.
The page and the terminal tables are drawn by the presentation layer
(:mod:`sim.present.hindcast_page`, :func:`sim.present.terminal.hindcast_tables`)
from :meth:`Hindcast.to_dict`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import comparisons, intervals, jsonable
from sim.experiment.runner import run_serial
from sim.scenario.catalog import bundled, history_dir
from sim.scenario.cost import combined_problem
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario
from sim.scenario.schema import Constants, Scenario, priors
from sim.validation import scoring

#: Simulated truces per history scenario by default.
DEFAULT_REPLICATES = 1000

#: Stylized-fact targets (EVIDENCE.md).
HR_TARGET = (0.15, 0.45)  # Fortna (2008): peacekeepers cut the risk by 55-85%
COLLAPSE_365_TARGET = 0.80  # ETH/PRIO ceasefire data via The Economist (2025): ~4 in 5
ESCALATION_TARGET = 13.0  # War is Boring (2016): offensive on average within 13 days
AGE_BANDS = ((0, 30), (30, 90), (90, 180), (180, 365))
#: Facts that were calibration targets ("fit") and those that were not ("check").
FIT, CHECK = "fit", "check"


# --------------------------------------------------------------------------- scenarios


def history_files(dirs: Iterable[str | Path] | None = None) -> list[Path]:
    """The YAML files of the history folder(s), sorted by name.

    Raises:
        ScenarioError: if a folder does not exist or holds no scenario.
    """
    folders = [Path(d) for d in dirs] if dirs else [history_dir()]
    files: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise ScenarioError(folder, "not a folder of history scenarios")
        found = sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
        if not found:
            raise ScenarioError(folder, "no scenario files (*.yaml) in this folder")
        files += found
    return files


def load_history(dirs: Iterable[str | Path] | None = None) -> list[Scenario]:
    """Load every history scenario; each must state its ``observed`` outcome.

    Raises:
        ScenarioError: on a file that does not validate or has no ``observed``.
    """
    scenarios = []
    for path in history_files(dirs):
        s = load_scenario(path)
        if s.observed is None:
            raise ScenarioError(
                path, "a history scenario needs an observed: section", field="observed"
            )
        scenarios.append(s)
    return scenarios


def with_constants(scenario: Scenario, constants: Constants | Mapping[str, Any] | None) -> Scenario:
    """The scenario with its global constants replaced (validated) or left as they are."""
    if constants is None:
        return scenario
    if not isinstance(constants, Constants):
        constants = Constants(**{**scenario.constants.model_dump(), **dict(constants)})
    return scenario.model_copy(update={"constants": constants})


def simulate(scenario: Scenario, replicates: int) -> pd.DataFrame:
    """Per-truce table of ``replicates`` truces on the scenario's own seed (in this process)."""
    return run_serial(scenario, seed=scenario.seed, replicates=replicates)


# --------------------------------------------------------------------------- measures


def outlived_share(days_held: np.ndarray, observed: float) -> float:
    """Share of simulated truces that held longer than the observed one (ties count half)."""
    d = np.asarray(days_held, dtype=float)
    return float(np.mean(d > observed) + 0.5 * np.mean(d == observed))


def truce_row(scenario: Scenario, runs: pd.DataFrame) -> dict[str, Any]:
    """One line of the hindcast table.

    Quantiles are of ``days_held``, censored at the horizon: a quantile equal to
    the horizon means "at least the horizon" (flagged in ``censored``). An
    observed range (``low``–``high``) counts as inside an interval when the two
    overlap.

    Raises:
        ValueError: if ``scenario`` has no ``observed`` outcome (see :func:`load_history`).
    """
    obs = scenario.observed
    if obs is None:
        raise ValueError(f"{scenario.name}: a hindcast needs the truce's observed outcome")
    days = runs["days_held"].to_numpy(dtype=float)
    q10, q25, q50, q75, q90 = np.quantile(days, [0.1, 0.25, 0.5, 0.75, 0.9])
    low = obs.low if obs.low is not None else obs.days_held
    high = obs.high if obs.high is not None else obs.days_held

    def inside(a: float, b: float) -> bool:
        return bool(low <= b and high >= a)

    return {
        "truce": scenario.name,
        "description": scenario.description,
        "observed": obs.days_held,
        "observed_low": low,
        "observed_high": high,
        "source": obs.source,
        "replicates": len(runs),
        "median": float(q50),
        "p25": float(q25),
        "p75": float(q75),
        "p10": float(q10),
        "p90": float(q90),
        "in_50": inside(q25, q75),
        "in_80": inside(q10, q90),
        "outlived": outlived_share(days, obs.days_held),
        "collapsed_share": float(runs["collapsed"].mean()),
        "horizon": int(scenario.truce.horizon),
        "censored": bool(q90 >= scenario.truce.horizon),
        "main_cause": _main_cause(runs),
    }


def _main_cause(runs: pd.DataFrame) -> str | None:
    causes = runs["cause"].dropna()
    return str(causes.value_counts().index[0]) if len(causes) else None


def band_counts(runs: pd.DataFrame, a: int, b: int) -> tuple[int, float]:
    """Collapses on days ``a+1..b`` and the truce-days at risk in that band."""
    days = runs["days_held"].to_numpy(dtype=float)
    collapsed = runs["collapsed"].to_numpy(dtype=bool)
    events = int(np.sum(collapsed & (days > a) & (days <= b)))
    return events, float((np.clip(days, a, b) - a).sum())


def hazard_by_age(runs: pd.DataFrame, bands: Sequence[tuple[int, int]] = AGE_BANDS) -> list[dict]:
    """Collapses per 30 truce-days at risk in each age band, with a 95% Poisson interval.

    The interval is the exact (Garwood) chi-square interval on the count of
    collapses, divided by the exposure.
    """
    from scipy import stats

    rows = []
    for a, b in bands:
        events, at_risk = band_counts(runs, a, b)
        if at_risk <= 0:
            rows.append(
                {
                    "from": a,
                    "to": b,
                    "events": events,
                    "rate": math.nan,
                    "low": math.nan,
                    "high": math.nan,
                }
            )
            continue
        lo = stats.chi2.ppf(0.025, 2 * events) / 2 if events else 0.0
        hi = stats.chi2.ppf(0.975, 2 * events + 2) / 2
        scale = 30.0 / at_risk
        rows.append(
            {
                "from": a,
                "to": b,
                "events": events,
                "rate": events * scale,
                "low": lo * scale,
                "high": hi * scale,
            }
        )
    return rows


def stylized_facts(unmonitored: pd.DataFrame, monitored: pd.DataFrame) -> dict[str, Any]:
    """The stylized-fact checks on the baseline scenario, each with target and interval.

    Args:
        unmonitored: runs of the baseline without monitors.
        monitored: runs of the same baseline with monitors (same seeds).
    """
    both = pd.concat(
        [unmonitored.assign(arm="unmonitored"), monitored.assign(arm="monitored")],
        ignore_index=True,
    )
    cmp = comparisons.compare_arms(both, "unmonitored", "monitored", horizons=(365,))
    n = len(unmonitored)
    horizon = int(unmonitored["horizon"].max())
    k = int((unmonitored["collapsed"].astype(bool) & (unmonitored["days_held"] <= 365)).sum())
    share, s_lo, s_hi = intervals.wilson(k, n)
    esc = unmonitored["escalation_days"].dropna().to_numpy(dtype=float)
    if len(esc) > 1:
        mean = float(esc.mean())
        half = 1.96 * float(esc.std(ddof=1)) / math.sqrt(len(esc))  # CLT: n in the hundreds
        esc_ci = (mean - half, mean + half)
    else:
        mean, esc_ci = (float(esc[0]) if len(esc) else math.nan), (math.nan, math.nan)
    hazard = hazard_by_age(unmonitored)
    rates = [h["rate"] for h in hazard if not math.isnan(h["rate"])]
    trend = "falls" if len(rates) > 1 and rates[-1] < rates[0] else "rises or is flat"
    hr = cmp.hazard_ratio
    return {
        "monitoring_hazard_ratio": {
            "target": list(HR_TARGET),
            "value": hr,
            "low": cmp.hazard_ratio_low,
            "high": cmp.hazard_ratio_high,
            "met": bool(HR_TARGET[0] <= hr <= HR_TARGET[1]) if not math.isnan(hr) else False,
            "role": FIT,
            "source": "Fortna, Does Peacekeeping Work? (2008), via the Kroc Institute "
            "(second-hand)",
        },
        "collapse_within_365_unmonitored": {
            "target": COLLAPSE_365_TARGET,
            "value": share,
            "low": s_lo,
            "high": s_hi,
            "met": bool(abs(share - COLLAPSE_365_TARGET) <= 0.10) if horizon >= 365 else False,
            "role": FIT,
            "source": "ETH/PRIO Civil Conflict Ceasefire dataset, via The Economist, 1 Feb 2025 "
            "(second-hand)",
        },
        "escalation_days": {
            "target": ESCALATION_TARGET,
            "value": mean,
            "low": esc_ci[0],
            "high": esc_ci[1],
            "met": bool(ESCALATION_TARGET / 1.5 <= mean <= ESCALATION_TARGET * 1.5),
            "role": FIT,
            "source": "War is Boring, 31 Oct 2016 (failed ceasefires only)",
        },
        "hazard_by_age": {
            "target": "no figure in EVIDENCE.md; Fortna (2008) finds the risk falls as peace ages",
            "bands": hazard,
            "trend": trend,
            "met": trend == "falls",
            "role": FIT,
            "unit": "collapses per 30 truce-days at risk (unmonitored baseline)",
        },
    }


def _hazard_ratio_check(
    reference: pd.DataFrame, other: pd.DataFrame, target: str, source: str, unit: str
) -> dict[str, Any]:
    """A fact that ``other`` collapses at a lower hazard than ``reference`` (same seeds).

    Met when the whole 95% interval of the hazard ratio (other vs reference,
    paired: the two share their random numbers) lies below 1.
    """
    both = pd.concat(
        [reference.assign(arm="reference"), other.assign(arm="other")], ignore_index=True
    )
    cmp = comparisons.compare_arms(both, "reference", "other", horizons=())
    hr, hi = cmp.hazard_ratio, cmp.hazard_ratio_high
    return {
        "role": CHECK,
        "target": target,
        "value": hr,
        "low": cmp.hazard_ratio_low,
        "high": hi,
        "met": bool(hi < 1.0) if not math.isnan(hi) else False,
        "source": source,
        "unit": unit,
    }


def guarantee_scenarios(
    constants: Constants | Mapping[str, Any] | None = None,
) -> tuple[Scenario, Scenario]:
    """The unmonitored baseline as it is and with no sponsor committed to the truce.

    A sponsor's ``commitment`` is how much it wants the truce to hold: the
    guarantee it lends with its leverage (E1). Setting every sponsor's
    commitment to 0 takes the guarantees away and leaves everything else,
    strikes on the exempted group included.
    """
    base = load_scenario(bundled("unmonitored.yaml"))
    off = {f"sponsors.{sp.name}.commitment": 0.0 for sp in base.sponsors}
    bare = load_scenario(bundled("unmonitored.yaml"), off)
    return with_constants(base, constants), with_constants(bare, constants)


def forgiveness_scenarios(
    constants: Constants | Mapping[str, Any] | None = None,
) -> tuple[Scenario, Scenario]:
    """The unmonitored baseline with ``forgiveness`` at the low and the high end of its prior."""
    base = with_constants(load_scenario(bundled("unmonitored.yaml")), constants)
    prior = priors()["forgiveness"]
    return (
        with_constants(base, {"forgiveness": prior.low}),
        with_constants(base, {"forgiveness": prior.high}),
    )


def checked_facts(
    replicates: int, constants: Constants | Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Stylized facts of ``EVIDENCE.md`` that were not calibration targets (role "check").

    - ``guarantees_lengthen_truces``: the unmonitored baseline's hazard of
      collapse with its sponsors' guarantees (commitment as in the file) vs
      without (every commitment 0); Fortna (2003) finds that third-party
      guarantees lengthen peace, so the ratio should be below 1;
    - ``forgiveness_keeps_truces``: the hazard with ``forgiveness`` at the top
      of its prior vs at the bottom; Wu & Axelrod (1995) find that noise breaks
      cooperation unless responses forgive, so the ratio should be below 1.

    Both are directions, not figures: EVIDENCE.md gives none. Each pair of runs
    shares its random numbers (the scenario's seed).
    """
    guaranteed, bare = guarantee_scenarios(constants)
    unforgiving, forgiving = forgiveness_scenarios(constants)
    prior = priors()["forgiveness"]
    return {
        "guarantees_lengthen_truces": _hazard_ratio_check(
            simulate(bare, replicates),
            simulate(guaranteed, replicates),
            "below 1",
            "Fortna, 'Scraps of Paper?', International Organization 57 (2003)",
            "hazard ratio, sponsors' guarantees as in the unmonitored baseline vs none",
        ),
        "forgiveness_keeps_truces": _hazard_ratio_check(
            simulate(unforgiving, replicates),
            simulate(forgiving, replicates),
            "below 1",
            "Wu & Axelrod, Journal of Conflict Resolution (1995)",
            f"hazard ratio, forgiveness {prior.high:g} vs {prior.low:g} (unmonitored baseline)",
        ),
    }


# --------------------------------------------------------------------------- the hindcast


@dataclass
class Hindcast:
    """The hindcast table, the stylized-fact checks and how they were made."""

    table: pd.DataFrame
    facts: dict[str, Any]
    replicates: int
    constants: dict[str, Any]
    files: list[str] = field(default_factory=list)
    scores: dict[str, Any] = field(default_factory=dict)
    leave_one_out: dict[str, Any] | None = None

    @property
    def in_50(self) -> int:
        """Truces whose observed duration falls inside the simulated 50% interval."""
        return int(self.table["in_50"].sum())

    @property
    def in_80(self) -> int:
        """Truces whose observed duration falls inside the simulated 80% interval."""
        return int(self.table["in_80"].sum())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the table rows, the scores, the stylized facts, the counts, the constants."""
        return jsonable.to_jsonable(
            {
                "replicates": self.replicates,
                "truces": self.table.to_dict(orient="records"),
                "inside_50": self.in_50,
                "inside_80": self.in_80,
                "n_truces": len(self.table),
                "scores": self.scores,
                "leave_one_out": self.leave_one_out,
                "stylized_facts": self.facts,
                "constants": self.constants,
                "files": self.files,
            }
        )


def baseline_runs(
    replicates: int, constants: Constants | Mapping[str, Any] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs of the unmonitored and monitored baseline scenarios (same seeds)."""
    unmon = with_constants(load_scenario(bundled("unmonitored.yaml")), constants)
    mon = with_constants(load_scenario(bundled("monitored.yaml")), constants)
    return simulate(unmon, replicates), simulate(mon, replicates)


def hindcast(
    dirs: Iterable[str | Path] | None = None,
    replicates: int = DEFAULT_REPLICATES,
    constants: Constants | Mapping[str, Any] | None = None,
) -> Hindcast:
    """Run every history scenario and the baseline checks.

    Args:
        dirs: history folders (default: the bundled ``scenarios/history``).
        replicates: simulated truces per scenario.
        constants: global constants to use instead of the defaults (for calibration).

    Returns:
        A :class:`Hindcast`.

    Raises:
        ScenarioError: on an unusable history file or folder.
    """
    files = history_files(dirs)
    history = [with_constants(s, constants) for s in load_history(dirs)]
    if problem := combined_problem(history, replicates, "history scenarios"):
        raise ScenarioError("--replicates", problem)
    runs = [simulate(s, replicates) for s in history]
    scores = score_history(history, runs)
    rows = [
        {**truce_row(s, r), **_score_columns(sc)}
        for s, r, sc in zip(history, runs, scores["truces"], strict=True)
    ]
    unmon, mon = baseline_runs(replicates, constants)
    facts = stylized_facts(unmon, mon) | checked_facts(replicates, constants)
    used = history[0].constants if history else Constants()
    return Hindcast(
        table=pd.DataFrame(rows),
        facts=facts,
        replicates=replicates,
        constants=used.model_dump(),
        files=[str(f) for f in files],
        scores={k: v for k, v in scores.items() if k != "truces"},
    )


def score_history(history: Sequence[Scenario], runs: Sequence[pd.DataFrame]) -> dict[str, Any]:
    """The scores of every truce (:func:`sim.validation.scoring.score_truces`) and overall.

    Returns:
        ``truces`` (one :class:`~sim.validation.scoring.TruceScore` each),
        ``overall`` (:func:`sim.validation.scoring.summary`), ``meaning`` (one
        plain sentence) and ``settings`` (tolerance, floor, benchmark).
    """
    observed = []
    for s in history:
        if s.observed is None:
            raise ValueError(f"{s.name}: a hindcast needs the truce's observed outcome")
        observed.append(s.observed)
    truces = scoring.score_truces(
        [s.name for s in history], observed, runs, [int(s.truce.horizon) for s in history]
    )
    overall = scoring.summary(truces)
    return {
        "truces": truces,
        "overall": overall,
        "meaning": scoring.meaning(overall),
        "settings": scoring.settings(),
    }


def _score_columns(score: scoring.TruceScore) -> dict[str, Any]:
    d = score.to_dict()
    return {
        "observed_censored": d["censored"],
        "window_low": d["window_low"],
        "window_high": d["window_high"],
        "share": d["share"],
        "log_score": d["log_score"],
        "pooled_share": d["pooled_share"],
        "pooled_log_score": d["pooled_log_score"],
        "skill": d["skill"],
        "km_median": d["simulated_median"],
        "observed_point": d["observed_point"],
    }
