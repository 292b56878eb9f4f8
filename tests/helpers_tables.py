"""Synthetic but schema-correct result tables (docs/RESULTS.md) for tests.

Nothing here runs the model: collapse days are drawn from a constant daily
hazard per arm or design point, so the tables have the right columns, types,
censoring at the horizon and plausible counts.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.scenario.schema import ORIGINS

PARTIES = ("government", "faction_north", "isis")
PRINCIPALS = ("government", "faction_north")


def _truces(
    rng: np.random.Generator,
    n: int,
    hazard: float,
    horizon: int,
    cause_weights: Sequence[float],
) -> pd.DataFrame:
    """``n`` truces with a constant daily collapse hazard, censored at ``horizon``."""
    day = rng.geometric(hazard, size=n)
    collapsed = day <= horizon
    weights = np.asarray(cause_weights, dtype=float) / np.sum(cause_weights)
    by_origin = rng.poisson(2.0 * weights * 5, size=(n, len(ORIGINS)))
    violations = by_origin.sum(axis=1)
    by_party = rng.multinomial(violations, [0.4, 0.35, 0.25])
    detected = rng.binomial(violations, 0.6)
    attributed = rng.binomial(detected, 0.8)
    retaliations = rng.binomial(violations, 0.3)
    cause = np.where(collapsed, rng.choice(ORIGINS, size=n, p=weights), None)
    first = violations > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = {
            "horizon": np.full(n, horizon, dtype=np.int64),
            "collapsed": collapsed,
            "collapse_day": pd.array(np.where(collapsed, day, 0), dtype="Int64"),
            "days_held": np.minimum(day, horizon).astype(np.int64),
            "cause": pd.array(cause, dtype="string"),
            "collapse_trigger": pd.array(
                np.where(collapsed, rng.choice(["violence", "withdrawal"], size=n), None),
                dtype="string",
            ),
            "first_violator": pd.array(
                np.where(first, rng.choice(PARTIES, size=n), None), dtype="string"
            ),
            "first_violation_day": pd.array(rng.integers(1, horizon + 1, size=n), dtype="Int64"),
            "violations": violations.astype(np.int64),
            **{f"violations_{o}": by_origin[:, i] for i, o in enumerate(ORIGINS)},
            **{f"party_{p}": by_party[:, i] for i, p in enumerate(PARTIES)},
            "retaliations": retaliations,
            "wrong_retaliations": rng.binomial(retaliations, 0.2),
            "detected": detected,
            "attributed": attributed,
            "detected_share": np.where(first, detected / violations, np.nan),
            "attributed_share": np.where(first, attributed / violations, np.nan),
            "monitor_withdrawal_day": pd.array([None] * n, dtype="Int64"),
            "access_days": rng.integers(0, horizon + 1, size=n),
            "start_trust": rng.uniform(0.2, 0.6, size=n),
            "pre_truce_violations": rng.poisson(3, size=n),
            "escalation_days": pd.array(
                np.where(collapsed, rng.integers(1, 10, size=n), 0), dtype="Int64"
            ),
        }
    table = pd.DataFrame(frame)
    for col in ("collapse_day", "escalation_days"):
        table.loc[~collapsed, col] = pd.NA
    table.loc[~first, "first_violation_day"] = pd.NA
    return table


def _finish(parts: list[pd.DataFrame], chunk_size: int) -> pd.DataFrame:
    runs = pd.concat(parts, ignore_index=True)
    runs["chunk"] = (runs["replicate"] // chunk_size).astype(np.int64)
    front = ["arm", "point", "chunk", "replicate"]
    return runs[front + [c for c in runs.columns if c not in front]]


def make_runs(
    arms: Mapping[str, float] | None = None,
    n: int = 300,
    horizon: int = 180,
    seed: int = 0,
    chunk_size: int = 100,
) -> pd.DataFrame:
    """A comparison's runs table: ``n`` truces per arm, hazard per day per arm.

    Args:
        arms: arm name -> daily collapse hazard (default: unmonitored 0.012,
            monitored 0.004).
        n: truces per arm.
        horizon: days simulated.
        seed: random seed.
        chunk_size: replicates per chunk.
    """
    arms = dict(arms or {"unmonitored": 0.012, "monitored": 0.004})
    rng = np.random.default_rng(seed)
    weights = [[3, 2, 1, 4, 1], [2, 3, 1, 2, 2], [1, 1, 1, 1, 1]]
    parts = []
    for i, (arm, hazard) in enumerate(arms.items()):
        t = _truces(rng, n, hazard, horizon, weights[i % len(weights)])
        parts.append(t.assign(arm=arm, point=0, replicate=np.arange(n)))
    return _finish(parts, chunk_size)


def make_sweep_runs(
    params: Mapping[str, Sequence[float]] | None = None,
    n: int = 80,
    horizon: int = 180,
    seed: int = 1,
    arm: str = "sweep",
    chunk_size: int = 40,
) -> pd.DataFrame:
    """A full-factorial sweep's runs table, one swept column per dotted parameter.

    The daily hazard falls with the first parameter and rises with the others.
    """
    params = dict(params or {"monitors.coverage": [0.0, 0.5, 1.0], "truce.loophole_width": [0, 1]})
    rng = np.random.default_rng(seed)
    parts = []
    for point, values in enumerate(itertools.product(*params.values())):
        hazard = 0.004 + 0.01 * (1 - values[0]) + 0.004 * sum(values[1:])
        t = _truces(rng, n, min(hazard, 0.9), horizon, [1, 2, 1, 2, 1])
        t = t.assign(arm=arm, point=point, replicate=np.arange(n))
        for name, value in zip(params, values, strict=True):
            t[name] = value
        parts.append(t)
    return _finish(parts, chunk_size)


def make_trace(
    lead: int = 5,
    horizon: int = 60,
    collapse_day: int | None = 42,
    withdrawal_day: int | None = 25,
    seed: int = 2,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``days`` and ``events`` tables of one simulated truce."""
    rng = np.random.default_rng(seed)
    day = np.arange(-lead + 1, horizon + 1)
    end = collapse_day if collapse_day is not None else horizon + 1
    phase = np.where(day <= 0, "lead", np.where(day < end, "truce", "collapsed"))
    by_origin = rng.poisson(0.4, size=(len(day), len(ORIGINS)))
    by_origin[day >= end] *= 4
    violence = by_origin.sum(axis=1)
    by_party = rng.multinomial(violence, [0.4, 0.35, 0.25])
    coverage = np.where(day <= 0, 0.0, 0.6)
    if withdrawal_day is not None:
        coverage[day >= withdrawal_day] = 0.0
    days = pd.DataFrame(
        {
            "day": day,
            "phase": phase,
            "violence": violence,
            **{f"violations_{o}": by_origin[:, i] for i, o in enumerate(ORIGINS)},
            **{f"party_{p}": by_party[:, i] for i, p in enumerate(PARTIES)},
            **{f"trust_{p}": np.clip(0.5 - 0.005 * day, 0, 1) for p in PRINCIPALS},
            **{f"fatigue_{p}": np.clip(0.3 + 0.004 * day, 0, 1) for p in PRINCIPALS},
            "coverage": coverage,
            "holding": day < end,
        }
    )
    events = [
        {
            "day": int(d),
            "kind": "violation",
            "actor": "isis",
            "target": "government",
            "origin": "spoiler",
            "blamed": "faction_north",
            "detected": False,
            "correct": False,
            "text": "Fighters of isis attacked a government checkpoint.",
        }
        for d in (3, 10, 17)
    ]
    if withdrawal_day is not None:
        events.append(
            {
                "day": withdrawal_day,
                "kind": "monitor_withdrawal",
                "actor": "monitors",
                "target": None,
                "origin": None,
                "blamed": None,
                "detected": False,
                "correct": False,
                "text": "The monitoring mission withdrew after repeated attacks.",
            }
        )
    if collapse_day is not None:
        events.append(
            {
                "day": collapse_day,
                "kind": "collapse",
                "actor": None,
                "target": None,
                "origin": "spoiler",
                "blamed": None,
                "detected": False,
                "correct": False,
                "text": "The truce collapsed.",
            }
        )
    return days, pd.DataFrame(events)


def write_results_dir(
    path: Path,
    runs: pd.DataFrame,
    scenario: Mapping | None = None,
    design: Mapping | None = None,
    summary: Mapping | None = None,
    parts: int = 2,
) -> Path:
    """A fake ``results/<name>/<timestamp>/`` directory: manifest, runs parts, summary."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "runs").mkdir(exist_ok=True)
    for i, part in enumerate(np.array_split(np.arange(len(runs)), parts)):
        runs.iloc[part].to_parquet(path / "runs" / f"part-{i:05d}.parquet", index=False)
    scenario = dict(scenario or {"name": "test-truce", "description": "A test truce."})
    manifest = {
        "scenario": scenario,
        "name": scenario.get("name"),
        "root_seed": 12345,
        "replicates": int(runs.groupby(["arm", "point"]).size().max()),
        "chunk_size": 100,
        "seeds": {"0": 111, "1": 222},
        "design": dict(design or {"kind": "arms", "arms": list(runs["arm"].unique())}),
        "versions": {"python": "3.11.9", "mesa": "3.3.0", "numpy": "2.0"},
        "git_commit": "0123456789abcdef",
        "started": "2025-01-01T10:00:00",
        "finished": "2025-01-01T10:01:30",
        "engine": "processes",
        "command": "truce compare test.yaml",
    }
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2))
    if summary is not None:
        (path / "summary.json").write_text(json.dumps(summary, indent=2))
    return path
