"""Scenario discovery over a finished sweep: where in the design does a target hold?

A sweep's design points are the cases. Each point is reduced to the outputs of
:func:`point_table` (the per-point words of the sweep tables and sensitivity
indices), at a horizon of ``d`` days:

- ``collapse_share``: the share of the point's truces that collapsed within ``d`` days;
- ``held_share``: the share still holding at day ``d`` (``1 − collapse_share``);
- ``mean_days_held``: the mean days held up to day ``d`` (a truce holding at
  day ``d`` counts ``d``).

A target such as ``collapse_share<=0.3`` marks each point as a case of interest
or not, and two maintained algorithms describe where the cases of interest lie
in the space of the swept levers:

- PRIM (Friedman & Fisher 1999), as EMA Workbench implements it for scenario
  discovery (Bryant & Lempert 2010; ``ema_workbench.analysis.prim``): starting
  from the whole design, it peels thin slices off one lever at a time, each
  time the slice that raises the share of cases of interest most. Each step
  of this *peeling trajectory* is a box with its **coverage** (the share of
  all cases of interest that fall inside it), its **density** (the share of the
  points inside it that are cases of interest), its **mass** (the share of all
  points inside it) and the number of levers it restricts. Peeling trades
  coverage for density; :func:`choose_step` picks one box (see there). Each
  restriction of the chosen box gets EMA's **quasi-p-value**: a one-sided
  binomial test of whether the box's density could come from the box without
  that restriction (a small value: the restriction matters; Bryant & Lempert
  2010). A restriction whose quasi-p-value is at least :data:`SIGNIFICANCE`
  is flagged as not significant.
- CART (scikit-learn's ``DecisionTreeClassifier``): a shallow tree whose leaves
  are read as rules, each with how many of its points meet the target.

The computation needs the optional extra ``truce-sim[discover]`` (EMA
Workbench and scikit-learn); both are imported inside :func:`discover`, never
when ``sim`` is imported. Every function here is pure: it reads a runs table
and returns plain JSON.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.grouping import swept_columns
from sim.analysis.jsonable import plain, to_jsonable
from sim.analysis.shares import collapsed_mask

DISCOVER_VERSION = 1
"""The version of the layout of :func:`discover`'s dictionary (``discover.json``)."""

TARGETS: dict[str, str] = {
    "collapse_share": "share of the point's truces that collapsed within the horizon",
    "held_share": "share of the point's truces still holding at the horizon",
    "mean_days_held": "mean days the point's truces held, up to the horizon",
}
"""The per-point outputs a target may name, with what they mean."""

COLUMNS: tuple[str, ...] = ("arm", "point", "horizon", "collapsed", "collapse_day", "days_held")
"""The columns of the runs table :func:`discover` reads, besides the swept parameters."""

MIN_POINTS = 10
"""The fewest design points (per arm) discovery runs on: with fewer, PRIM's peeling
has too few cases for a box and its quasi-p-values to mean anything."""

SIGNIFICANCE = 0.05
"""A restriction whose quasi-p-value is at or above this is flagged as not significant."""

MIN_COVERAGE = 0.5
"""The chosen box keeps at least this share of the cases of interest (:func:`choose_step`)."""

PEEL_ALPHA = 0.05
"""The share of the points PRIM peels off at each step (EMA Workbench's default)."""

MASS_MIN = 0.05
"""PRIM stops peeling when a box would hold fewer than this share of the points (EMA's default)."""

TREE_DEPTH = 3
"""Depth of the CART tree: at most three conditions per rule, readable in words."""

_TARGET = re.compile(
    r"^\s*([a-z_]+)\s*(<=|>=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)

_OPS = {"<=": np.less_equal, ">=": np.greater_equal, "<": np.less, ">": np.greater}


class DiscoveryError(ValueError):
    """Discovery cannot run on these results or with this target (the message says why)."""


class MissingExtra(ImportError):
    """EMA Workbench or scikit-learn is not installed (the message says what to install)."""


@dataclass(frozen=True)
class Target:
    """A condition on a per-point output, e.g. ``collapse_share <= 0.3``.

    Attributes:
        column: the output (a key of :data:`TARGETS`).
        op: ``<=``, ``>=``, ``<`` or ``>``.
        threshold: the value compared with.
    """

    column: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.column}{self.op}{self.threshold!r}"  # every digit given, none added

    def met(self, values: Any) -> np.ndarray:
        """Which values meet the target (a boolean array)."""
        return np.asarray(_OPS[self.op](np.asarray(values, dtype=float), self.threshold))


def parse_target(text: str) -> Target:
    """A target from text such as ``"collapse_share<=0.3"`` or ``"held_share >= 0.7"``.

    Raises:
        DiscoveryError: naming what was expected, for a malformed target or an
            unknown output, or a share outside 0 to 1.
    """
    match = _TARGET.match(str(text))
    expected = "expected OUTPUT<=VALUE (or >=, <, >), e.g. collapse_share<=0.3"
    if not match:
        raise DiscoveryError(f"--target {text!r}: {expected}")
    column, op, value = match.group(1), match.group(2), float(match.group(3))
    if column not in TARGETS:
        raise DiscoveryError(
            f"--target {text!r}: unknown output '{column}'; expected one of {', '.join(TARGETS)}"
        )
    if column.endswith("_share") and not 0 <= value <= 1:
        raise DiscoveryError(f"--target {text!r}: a share is between 0 and 1, not {value:g}")
    return Target(column, op, value)


def point_table(runs: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """One row per design point (per arm and point in a crossed design) with its outputs.

    Args:
        runs: a sweep's runs table (:data:`COLUMNS` and the swept parameters).
        horizon: the day the outputs are taken at (at most every point's own horizon).

    Returns:
        Columns ``arm`` (when present), ``point``, the swept parameters,
        ``replicates``, ``collapse_share``, ``held_share`` and ``mean_days_held``.
    """
    keys = [c for c in ("arm", "point") if c in runs.columns]
    swept = swept_columns(runs)
    table = runs[[*keys, *swept]].copy()
    collapsed = collapsed_mask(runs, horizon)
    table["collapse_share"] = collapsed.astype(float)
    table["held_share"] = (~collapsed).astype(float)  # its own mean: k/n exactly as the other
    held = runs["days_held"].to_numpy(dtype=float)
    table["mean_days_held"] = np.minimum(held, horizon)
    grouped = table.groupby(keys, sort=True)
    out = grouped[swept].first()
    out["replicates"] = grouped.size()
    out["collapse_share"] = grouped["collapse_share"].mean()
    out["held_share"] = grouped["held_share"].mean()
    out["mean_days_held"] = grouped["mean_days_held"].mean()
    return out.reset_index()


def points_from_aggregates(points: pd.DataFrame, horizon: int | None) -> pd.DataFrame:
    """The per-point table of :func:`point_table` from a sweep's stored aggregates.

    A sweep stored as per-point aggregates (``points/``, no ``--keep-runs``) holds
    each point's collapse share at 30, 90 and 180 days and at its horizon, and its
    mean days held at the horizon: discovery reads those.

    Args:
        points: the points table (:func:`sim.experiment.storage.read_points`).
        horizon: the day (None: the days simulated).

    Raises:
        DiscoveryError: for a day the aggregates do not hold.
    """
    keys = [c for c in ("arm", "point") if c in points.columns]
    swept = swept_columns(points)
    stored = int(points["horizon"].min())
    day = stored if horizon is None else int(horizon)
    table = points[[*keys, *swept, "replicates"]].copy()
    if day == stored:
        share = points["collapse_share"].astype(float)
        table["mean_days_held"] = points["mean_days_held"].astype(float)
    elif f"collapse_share_{day}" in points.columns and day < stored:
        share = points[f"collapse_share_{day}"].astype(float)
        table["mean_days_held"] = np.nan
    else:
        held = ", ".join(str(d) for d in (30, 90, 180) if d < stored)
        raise DiscoveryError(
            f"--horizon {day}: this sweep stores per-point aggregates at {held} days and at "
            f"its horizon ({stored}); for another day run the sweep with --keep-runs"
        )
    table["collapse_share"] = share
    table["held_share"] = 1.0 - share
    return table


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence EMA Workbench's and scikit-learn's warnings and log messages."""
    loggers = [logging.getLogger(name) for name in ("EMA", "ema_workbench")]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)


def _libraries() -> tuple[Any, Any]:
    """EMA Workbench's ``prim`` module and scikit-learn's tree classifier (imported here)."""
    try:
        with _quiet():
            from ema_workbench.analysis import prim
            from sklearn.tree import DecisionTreeClassifier
    except ImportError as exc:
        raise MissingExtra(
            f"scenario discovery needs EMA Workbench and scikit-learn ({exc.name} is missing): "
            "pip install 'truce-sim[discover]'"
        ) from None
    return prim, DecisionTreeClassifier


def choose_step(trajectory: Sequence[Mapping[str, Any]], min_coverage: float) -> int:
    """The step of the peeling trajectory whose box is reported.

    The densest box among those that keep at least ``min_coverage`` of the
    cases of interest; among equally dense ones, the one with fewer restricted
    levers, then the one with more coverage. The whole design (step 0, full
    coverage) always qualifies, so a trajectory never leaves nothing to choose.

    Args:
        trajectory: the steps, each with ``coverage``, ``density`` and ``restricted``.
        min_coverage: the least coverage a chosen box keeps.
    """
    allowed = [i for i, s in enumerate(trajectory) if s["coverage"] >= min_coverage - 1e-12]
    allowed = allowed or [0]
    return min(
        allowed,
        key=lambda i: (
            -round(trajectory[i]["density"], 12),
            trajectory[i]["restricted"],
            -trajectory[i]["coverage"],
        ),
    )


def _restrictions(
    limits: pd.DataFrame, initial: pd.DataFrame, qp: Mapping[str, Sequence[float]]
) -> list[dict[str, Any]]:
    """The chosen box's restricted levers, each with its bounds and quasi-p-values."""
    out = []
    for lever in limits.columns:
        low, high = limits[lever].iloc[0], limits[lever].iloc[1]
        low0, high0 = initial[lever].iloc[0], initial[lever].iloc[1]
        if isinstance(low, set | frozenset):  # a nominal lever: the values kept
            if set(low) == set(low0):
                continue
            values = sorted(map(plain, low), key=str)
            q = [v for v in qp.get(lever, []) if v is not None and v >= 0]
            p = max(q) if q else None
            out.append(
                {
                    "lever": lever,
                    "values": values,
                    "low": None,
                    "high": None,
                    "design_low": None,
                    "design_high": None,
                    "qp_low": None,
                    "qp_high": p,
                    "qp": p,
                    "significant": p is not None and p < SIGNIFICANCE,
                }
            )
            continue
        restricted_low, restricted_high = bool(low != low0), bool(high != high0)
        if not (restricted_low or restricted_high):
            continue
        raw_low, raw_high = (list(qp.get(lever, [-1.0, -1.0])) + [-1.0, -1.0])[:2]
        # EMA gives -1 for a side the box does not restrict
        q_low = float(raw_low) if restricted_low and raw_low >= 0 else None
        q_high = float(raw_high) if restricted_high and raw_high >= 0 else None
        worst = max((q for q in (q_low, q_high) if q is not None), default=None)
        out.append(
            {
                "lever": lever,
                "values": None,
                "low": plain(low) if restricted_low else None,
                "high": plain(high) if restricted_high else None,
                "design_low": plain(low0),
                "design_high": plain(high0),
                "qp_low": q_low,
                "qp_high": q_high,
                "qp": worst,
                "significant": worst is not None and worst < SIGNIFICANCE,
            }
        )
    return out


def _features(x: pd.DataFrame) -> pd.DataFrame:
    """The levers as numbers for the tree: booleans as 0/1, text as one column per value."""
    out = x.copy()
    for c in out.columns:
        if pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].astype(int)
    text = [c for c in out.columns if not pd.api.types.is_numeric_dtype(out[c])]
    if text:
        out = pd.get_dummies(out, columns=text, prefix_sep="=", dtype=int)
    return out.astype(float)


def _tree_rules(model: Any, names: Sequence[str], y: np.ndarray, x: np.ndarray) -> list[dict]:
    """The leaves of a fitted tree as rules: conditions, points, points meeting the target."""
    tree = model.tree_
    leaves = model.apply(x)
    rules: list[dict[str, Any]] = []

    def walk(node: int, conditions: list[tuple[str, str, float]]) -> None:
        left, right = tree.children_left[node], tree.children_right[node]
        if left == right:  # a leaf
            inside = leaves == node
            n, k = int(inside.sum()), int(y[inside].sum())
            rules.append(
                {
                    "conditions": _merge(conditions),
                    "points": n,
                    "meeting": k,
                    "share": k / n if n else math.nan,
                    "predicts": bool(k * 2 > n),
                }
            )
            return
        name, threshold = names[tree.feature[node]], float(tree.threshold[node])
        walk(left, [*conditions, (name, "<=", threshold)])
        walk(right, [*conditions, (name, ">", threshold)])

    walk(0, [])
    rules.sort(key=lambda r: (-r["share"], -r["points"]))
    return rules


def _merge(conditions: Sequence[tuple[str, str, float]]) -> list[dict[str, Any]]:
    """Conditions along a tree's path, one per lever: ``{lever, above, at_most}``."""
    merged: dict[str, dict[str, Any]] = {}
    for name, op, value in conditions:
        entry = merged.setdefault(name, {"lever": name, "above": None, "at_most": None})
        if op == "<=":
            entry["at_most"] = value if entry["at_most"] is None else min(entry["at_most"], value)
        else:
            entry["above"] = value if entry["above"] is None else max(entry["above"], value)
    return list(merged.values())


def _analyse(
    points: pd.DataFrame,
    levers: list[str],
    target: Target,
    min_coverage: float,
    libraries: tuple[Any, Any],
) -> dict[str, Any]:
    """PRIM and CART on one set of design points (one arm)."""
    prim, tree_classifier = libraries
    y = target.met(points[target.column]).astype(int)
    x = points[levers].reset_index(drop=True)
    for c in x.columns:
        if pd.api.types.is_bool_dtype(x[c]):
            x[c] = x[c].astype(int)
        elif not pd.api.types.is_numeric_dtype(x[c]):
            x[c] = x[c].astype(str)
        elif pd.api.types.is_integer_dtype(x[c]):
            x[c] = x[c].astype(np.int64)
        else:
            x[c] = x[c].astype(np.float64)
    base = float(y.mean())
    with _quiet():
        # EMA's threshold both marks the cases of interest (y >= threshold) and discards a
        # final box less dense than it; with y in {0, 1}, one just above 0 marks y == 1 and
        # keeps the whole trajectory, from which choose_step picks the box.
        finder = prim.Prim(x, y, threshold=1e-9, peel_alpha=PEEL_ALPHA, mass_min=MASS_MIN)
        box = finder.find_box()
    frame = box.peeling_trajectory
    trajectory = [
        {
            "step": int(i),
            "coverage": float(frame["coverage"].iloc[i]),
            "density": float(frame["density"].iloc[i]),
            "mass": float(frame["mass"].iloc[i]),
            "restricted": int(frame["res_dim"].iloc[i]),
            "points": int(frame["n"].iloc[i]),
            "meeting": int(frame["k"].iloc[i]),
        }
        for i in range(len(frame))
    ]
    chosen = choose_step(trajectory, min_coverage)
    restrictions = _restrictions(box.box_lims[chosen], box.box_lims[0], box.qp[chosen])
    inside = np.ones(len(x), dtype=bool)
    for r in restrictions:
        column = x[r["lever"]]
        if r["values"] is not None:
            inside &= column.astype(str).isin([str(v) for v in r["values"]]).to_numpy()
            continue
        if r["low"] is not None:
            inside &= column.to_numpy(dtype=float) >= float(r["low"])
        if r["high"] is not None:
            inside &= column.to_numpy(dtype=float) <= float(r["high"])
    weights = points["replicates"].to_numpy(dtype=float)
    held = points["held_share"].to_numpy(dtype=float)
    truces_inside = float(weights[inside].sum())
    features = _features(x)
    leaf = max(2, len(x) // 20)
    model = tree_classifier(max_depth=TREE_DEPTH, min_samples_leaf=leaf, random_state=0)
    model.fit(features.to_numpy(), y)
    rules = _tree_rules(model, list(features.columns), y, features.to_numpy())
    return {
        "points": len(x),
        "meeting": int(y.sum()),
        "base_rate": base,
        "trajectory": trajectory,
        "box": {
            **trajectory[chosen],
            "restrictions": restrictions,
            "truces": int(truces_inside),
            "held_share": float((weights[inside] * held[inside]).sum() / truces_inside)
            if truces_inside
            else None,
        },
        "tree": {
            "depth": int(model.get_depth()),
            "min_points_per_leaf": leaf,
            "accuracy": float((model.predict(features.to_numpy()) == y).mean()),
            "rules": rules,
        },
    }


def discover(
    runs: pd.DataFrame,
    target: Target | str,
    *,
    horizon: int | None = None,
    arm: str | None = None,
    arms: Sequence[str] | None = None,
    min_coverage: float = MIN_COVERAGE,
) -> dict[str, Any]:
    """Scenario discovery on a sweep's runs: PRIM boxes and a CART tree for ``target``.

    Args:
        runs: the sweep's runs table (:data:`COLUMNS` and the swept parameters).
        target: e.g. ``"collapse_share<=0.3"`` (see :func:`parse_target`).
        horizon: the day the outputs are taken at (default: the days simulated;
            at most the shortest horizon of any point).
        arm: in a crossed design, analyse this arm only (default: each arm).
        arms: the design's arms in order (two or more: a crossed design).
        min_coverage: the least coverage of the chosen box (:func:`choose_step`).

    Returns:
        Plain JSON: ``discover_version``, ``target`` (``text``, ``column``, ``op``,
        ``threshold``), ``horizon``, ``levers`` (the swept parameters),
        ``min_coverage``, ``significance``, ``versions`` (the packages, EMA Workbench and
        scikit-learn too) and ``analyses``, one per
        arm analysed (one, with ``arm`` null, when the design is not crossed):
        ``arm``, ``points``, ``meeting``, ``base_rate``, ``trajectory`` (each step's
        ``coverage``, ``density``, ``mass``, ``restricted``, ``points``,
        ``meeting``), ``box`` (the chosen step, its ``restrictions`` with bounds,
        quasi-p-values and ``significant``, and the ``truces`` inside it with their
        pooled ``held_share``) and ``tree`` (``rules``, ``accuracy``).

    Raises:
        DiscoveryError: for a bad target, horizon or arm; no swept levers; fewer
            than :data:`MIN_POINTS` design points; or a target that every point
            (or none) meets.
        MissingExtra: when EMA Workbench or scikit-learn is not installed.
    """
    target = parse_target(target) if isinstance(target, str) else target
    if not 0 < min_coverage <= 1:
        raise DiscoveryError(
            f"--min-coverage: expected a share above 0 and at most 1, not {min_coverage:g}"
        )
    levers = swept_columns(runs)
    if not levers or "point" not in runs.columns:
        raise DiscoveryError("discovery needs a sweep: these runs have no swept levers")
    shortest = int(runs["horizon"].min())
    aggregated = "collapse_share" in runs.columns  # per-point aggregates, not runs
    horizon = shortest if horizon is None else int(horizon)
    if not 1 <= horizon <= shortest:
        raise DiscoveryError(
            f"--horizon {horizon}: expected a day from 1 to {shortest} (the days simulated)"
        )
    crossed = [str(a) for a in arms] if arms is not None and len(arms) > 1 else []
    if arm is not None and str(arm) not in (crossed or list(map(str, runs["arm"].unique()))):
        known = crossed or list(map(str, runs["arm"].unique()))
        raise DiscoveryError(f"--arm {arm!r}: no such arm; expected one of {', '.join(known)}")
    points = points_from_aggregates(runs, horizon) if aggregated else point_table(runs, horizon)
    varying = [c for c in levers if points[c].nunique(dropna=False) > 1]
    if not varying:
        raise DiscoveryError("discovery needs levers that vary: every swept value is the same")
    chosen_arms: list[str | None] = [arm] if arm is not None and crossed else [*crossed] or [None]
    for a in chosen_arms:
        n = int((points["arm"] == a).sum()) if a is not None else len(points)
        where = f" in arm '{a}'" if a is not None else ""
        if n < MIN_POINTS:
            raise DiscoveryError(
                f"the sweep has {n} design point{'s' if n != 1 else ''}{where}; discovery "
                f"needs at least {MIN_POINTS} (raise the design's size: lhs/sobol n, morris "
                "trajectories, more grid values)"
            )
    libraries = _libraries()
    analyses = []
    for a in chosen_arms:
        rows = points if a is None else points[points["arm"] == a]
        met = int(target.met(rows[target.column]).sum())
        where = f" in arm '{a}'" if a is not None else ""
        if met in (0, len(rows)):
            which = "none" if met == 0 else "every one"
            raise DiscoveryError(
                f"--target {target}: {which} of the {len(rows)} design points{where} meets it at "
                f"{horizon} days, so there is nothing to tell apart; choose another threshold"
            )
        found = _analyse(rows, varying, target, min_coverage, libraries)
        analyses.append({"arm": a, **found})
    return to_jsonable(
        {
            "discover_version": DISCOVER_VERSION,
            "target": {
                "text": str(target),
                "column": target.column,
                "op": target.op,
                "threshold": target.threshold,
            },
            "horizon": horizon,
            "levers": varying,
            **({"arms": crossed} if crossed else {}),
            "min_coverage": min_coverage,
            "significance": SIGNIFICANCE,
            "versions": _versions(),
            "analyses": analyses,
        }
    )


def _versions() -> dict[str, str]:
    """The versions of the packages that shaped the result, EMA Workbench and scikit-learn too."""
    from importlib.metadata import PackageNotFoundError, version

    from sim.experiment.provenance import versions

    out = versions()
    for name in ("ema_workbench", "scikit-learn"):
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    return out


def trajectory_table(found: Mapping[str, Any]) -> pd.DataFrame:
    """The peeling trajectories of :func:`discover`'s result (or ``discover.json``) as a table.

    Returns:
        One row per arm analysed and step: ``arm`` (None unless crossed),
        ``step``, ``coverage``, ``density``, ``mass``, ``restricted``, ``points``,
        ``meeting`` and ``chosen`` (the step of the reported box).
    """
    rows = [
        {"arm": a["arm"], **s, "chosen": s["step"] == a["box"]["step"]}
        for a in found["analyses"]
        for s in a["trajectory"]
    ]
    columns = ["arm", "step", "coverage", "density", "mass", "restricted", "points", "meeting"]
    return pd.DataFrame(rows, columns=[*columns, "chosen"])


def box_table(found: Mapping[str, Any]) -> pd.DataFrame:
    """The chosen boxes' restrictions of :func:`discover`'s result as a table.

    Returns:
        One row per arm analysed and restricted lever: ``arm``, ``lever``,
        ``design_low``, ``design_high``, ``low``, ``high`` (None where the box
        does not restrict that side), ``values`` (the values kept, for a lever
        that is not a number), ``qp`` and ``significant``.
    """
    keys = ["lever", "design_low", "design_high", "low", "high", "values", "qp", "significant"]
    rows = [
        {"arm": a["arm"], **{k: r[k] for k in keys}}
        for a in found["analyses"]
        for r in a["box"]["restrictions"]
    ]
    return pd.DataFrame(rows, columns=["arm", *keys])
