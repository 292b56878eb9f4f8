"""Global sensitivity indices of a finished ``sobol`` or ``morris`` sweep (SALib).

A ``sobol`` or ``morris`` design (:mod:`sim.scenario.designs`) is a SALib sample: each
design point is one row of the sample matrix, and every point simulates the
same replicate truces (common random numbers). This module reduces each
point to two outputs,

- ``collapse_share``: the share of the point's simulated truces that
  collapsed within the days simulated (the point's horizon);
- ``mean_days_held``: the mean number of days the point's truces held, a
  truce still holding at the horizon counting the horizon (the restricted
  mean survival time up to the horizon, in days),

and hands each output, in design-point order, to ``SALib.analyze.sobol``
(first-order ``S1`` and total ``ST`` indices: the share of the output's
variance over the design due to a parameter alone, and with all its
interactions) or ``SALib.analyze.morris`` (``mu_star``, the mean absolute
elementary effect, i.e. the change in the output over a step of the parameter
scaled to its bounds' width, with ``mu_star_conf``; and ``sigma``, their
standard deviation, large when the parameter interacts or acts nonlinearly).

Confidence intervals (``*_conf``, half-widths at ``level``) are SALib's
bootstrap over the design's samples. They do not include the Monte Carlo
noise of the outputs themselves, which the number of replicates per point
sets: common random numbers make that noise largely shared between points,
so it moves the outputs more than their differences, but with few replicates
small indices are still noise. A parameter the model never reads gets an
index of exactly 0, since its points then simulate the very same truces.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario.designs import Morris, Sobol, Sweep, problem_spec, sample_matrix

METHODS: tuple[str, ...] = ("sobol", "morris")
"""Designs that sensitivity indices are computed for."""

OUTPUTS: dict[str, str] = {
    "collapse_share": "share of truces collapsed within the horizon",
    "mean_days_held": "mean days held (a truce holding at the horizon counts the horizon)",
}
"""The outputs analysed per design point, with plain-language descriptions."""

INDICES: dict[str, tuple[str, ...]] = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu_star", "mu_star_conf", "sigma"),
}
"""The columns of the indices table, per method."""

RESAMPLES = 100
"""Bootstrap resamples for SALib's confidence intervals."""


def applies(sweep: Sweep | None) -> bool:
    """Whether a sweep is a design that sensitivity indices are computed for."""
    return sweep is not None and sweep.kind in METHODS


def _design(sweep: Sweep) -> Sobol | Morris | None:
    """The sweep's ``sobol`` or ``morris`` block, or None for another kind of design."""
    return sweep.sobol or sweep.morris


def load_sweep(data: Mapping[str, Any] | None) -> Sweep | None:
    """The sweep of a stored scenario (``manifest["scenario"]["sweep"]``), or None.

    The stored form lists every kind of design with the unused ones null, which
    :class:`~sim.scenario.designs.Sweep` reads as absent.
    """
    if not data:
        return None
    return Sweep.model_validate(data)


def point_means(runs: pd.DataFrame) -> pd.DataFrame:
    """The analysed outputs of each design point in a runs table, indexed by point.

    Args:
        runs: runs (columns ``point``, ``collapsed``, ``days_held``).

    Returns:
        One row per point found: ``collapse_share``, ``mean_days_held`` and ``replicates``.
    """
    point = runs["point"].to_numpy()
    collapsed = runs["collapsed"].to_numpy(dtype=float)
    held = runs["days_held"].to_numpy(dtype=float)
    if len(point) and runs["days_held"].dtype.kind in "iu" and (point == point[0]).all():
        # One point (what a sweep's worker reduces): each mean is its sum over the count.
        # The sums of these integers are exact in floating point, whatever their order, so
        # the means are the group-by's (compensated sums) to the bit, ~10x faster.
        n = len(point)
        return pd.DataFrame(
            {
                "collapse_share": [collapsed.sum() / n],
                "mean_days_held": [held.sum() / n],
                "replicates": np.array([n], dtype=np.int64),
            },
            index=pd.Index(point[:1], name="point"),
        )
    table = pd.DataFrame({"point": point, "collapse_share": collapsed, "mean_days_held": held})
    grouped = table.groupby("point")
    return grouped.mean().assign(replicates=grouped.size())


def point_outputs(runs: pd.DataFrame, points: int) -> pd.DataFrame:
    """The analysed outputs of each design point (see the module docstring).

    Args:
        runs: a sweep's runs table (columns ``point``, ``collapsed``,
            ``days_held``), or its points table (:mod:`sim.analysis.points`:
            ``point``, ``replicates`` and the outputs, one row per point).
        points: the number of design points.

    Returns:
        One row per design point ``0 … points−1``: ``replicates`` and one
        column per output in :data:`OUTPUTS`.

    Raises:
        ValueError: if some design point has no runs, or runs name a point
            outside the design.
    """
    out = runs.set_index("point") if "mean_days_held" in runs.columns else point_means(runs)
    extra = sorted(set(out.index) - set(range(points)))
    if extra:
        raise ValueError(f"runs name points {extra[:5]} outside a design of {points} points")
    missing = sorted(set(range(points)) - set(out.index))
    if missing:
        more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
        raise ValueError(
            f"sensitivity indices need every design point; no runs for points {missing[:5]}{more}"
        )
    return out.reindex(range(points))[["replicates", *OUTPUTS]]


def _check_design(runs: pd.DataFrame, names: list[str], matrix: np.ndarray) -> None:
    """Check that the runs' swept values are the sample's (rounded where whole numbers)."""
    present = [n for n in names if n in runs.columns]
    if not present:
        return
    first = runs.drop_duplicates("point").set_index("point").sort_index()
    for name in present:
        column = names.index(name)
        got = first[name].to_numpy(dtype=float)
        want = matrix[first.index.to_numpy(), column]
        if pd.api.types.is_integer_dtype(first[name]):
            want = np.round(want)
        bad = np.flatnonzero(~np.isclose(got, want, rtol=1e-9, atol=1e-12))
        if bad.size:
            point = int(first.index[bad[0]])
            raise ValueError(
                f"the runs do not come from this design: at point {point}, {name} = "
                f"{got[bad[0]]:g} but the design gives {want[bad[0]]:g}"
            )


def analyze(
    runs: pd.DataFrame,
    sweep: Sweep,
    seed: int,
    level: float = 0.95,
    arms: list[str] | None = None,
) -> dict[str, Any]:
    """Sensitivity indices of a finished ``sobol`` or ``morris`` sweep.

    Args:
        runs: the sweep's runs table (``point``, ``collapsed``, ``days_held``;
            the swept columns, when present, are checked against the design),
            or its points table (one row per point, see :mod:`sim.analysis.points`).
        sweep: the scenario's ``sweep:`` design.
        seed: the scenario's root seed (the design's seed when it names none;
            also seeds the bootstrap, so the intervals are reproducible).
        level: confidence level of the intervals.
        arms: the arms of a crossed design (the sweep run under each arm of a
            ``compare:`` block): the indices are computed for each arm alone.

    Returns:
        Plain JSON: ``method``, ``level``, ``points``, ``replicates`` (per
        point, the smallest), ``outputs`` (name → description), ``parameters``
        (in design order) and ``indices``, one record per output and
        parameter: ``output``, ``parameter`` and the method's
        :data:`INDICES` (null for an output that takes the same value at
        every design point, e.g. no truce collapsed anywhere). With ``arms``,
        also ``arms`` and an ``arm`` in every record.

    Raises:
        ValueError: if the design is not ``sobol`` or ``morris``, or the runs
            do not cover it.
    """
    design = _design(sweep)
    if design is None:
        raise ValueError(
            f"sensitivity indices need a sobol or morris sweep, not a {sweep.kind} design"
        )
    method = sweep.kind
    bounds = dict(design.bounds)
    problem = problem_spec(bounds)
    names = list(bounds)
    seed = int(seed) % 2**32
    design_seed = seed if design.seed is None else design.seed
    matrix = sample_matrix(sweep, seed)
    crossed = list(arms) if arms is not None and len(arms) > 1 else []
    groups: list[str | None] = [*crossed] if crossed else [None]  # None: the runs as a whole
    records, replicates = [], []
    for arm in groups:
        rows = runs if arm is None else runs[runs["arm"] == arm]
        _check_design(rows, names, matrix)
        outputs = point_outputs(rows, len(matrix))
        replicates.append(int(outputs["replicates"].min()))
        for output in OUTPUTS:
            y = outputs[output].to_numpy(dtype=float)
            found: Mapping[str, Any] = {}
            if np.ptp(y) > 0:  # an output that never varies has no indices (0/0)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    found = _salib(design, problem, matrix, y, level, design_seed)
            for i, name in enumerate(names):
                row: dict[str, Any] = {} if arm is None else {"arm": arm}
                row |= {"output": output, "parameter": name}
                for key in INDICES[method]:
                    value = float(np.asarray(found[key])[i]) if found else math.nan
                    row[key] = None if math.isnan(value) else value
                records.append(row)
    return {
        "method": method,
        "level": level,
        "points": len(matrix),
        "replicates": min(replicates),
        "outputs": dict(OUTPUTS),
        "parameters": names,
        **({"arms": crossed} if crossed else {}),
        "indices": records,
    }


def _salib(
    design: Sobol | Morris,
    problem: dict,
    matrix: np.ndarray,
    y: np.ndarray,
    level: float,
    seed: int,
) -> Mapping[str, Any]:
    if isinstance(design, Sobol):
        from SALib.analyze import sobol

        return sobol.analyze(
            problem,
            y,
            calc_second_order=design.second_order,
            num_resamples=RESAMPLES,
            conf_level=level,
            seed=seed,
        )
    from SALib.analyze import morris

    return morris.analyze(
        problem,
        matrix,
        y,
        num_resamples=RESAMPLES,
        conf_level=level,
        num_levels=design.levels,
        seed=seed,
    )


def from_manifest(manifest: Mapping[str, Any], runs: pd.DataFrame) -> dict[str, Any] | None:
    """:func:`analyze` for a stored sweep, or None when it is not ``sobol`` / ``morris``.

    Args:
        manifest: the results folder's manifest.json.
        runs: its runs table.
    """
    scenario = manifest.get("scenario")
    if manifest.get("kind") != "sweep" or not isinstance(scenario, Mapping):
        return None
    sweep = load_sweep(scenario.get("sweep"))
    if sweep is None or not applies(sweep):
        return None
    seed = int(scenario.get("seed", manifest.get("seed", 0)))
    return analyze(runs, sweep, seed, arms=manifest.get("arms"))  # one arm: not crossed


def indices_table(sensitivity: Mapping[str, Any]) -> pd.DataFrame:
    """The indices of :func:`analyze` as a table: one row per output and parameter.

    Columns ``output``, ``parameter`` and the method's :data:`INDICES`
    (``arm`` first in a crossed design); missing values are NaN.
    """
    arm = ["arm"] if sensitivity.get("arms") else []
    columns = [*arm, "output", "parameter", *INDICES[sensitivity["method"]]]
    return pd.DataFrame(sensitivity["indices"], columns=columns).astype(
        {c: float for c in INDICES[sensitivity["method"]]}
    )


RANKED_BY: dict[str, tuple[str, str]] = {
    "sobol": ("ST", "ST_conf"),
    "morris": ("mu_star", "mu_star_conf"),
}
"""The index (and its interval's half-width) that ranks the levers, per method: Sobol's
total index ``ST`` (a lever's share of the variance with all its interactions, so a
lever that acts only through others is not missed: Saltelli's "factor fixing"
setting) and Morris's ``mu_star``."""


def leading_levers(sensitivity: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The lever that matters most for each output (and arm), and whether that ranking is firm.

    The levers are ranked by :data:`RANKED_BY`. The ranking of the first two is
    called *unclear* (it could be noise) when the gap between their indices is
    smaller than ``sqrt(c1² + c2²)``, where ``c1`` and ``c2`` are their intervals'
    half-widths; or when either has no interval.

    Args:
        sensitivity: the indices of :func:`analyze` (or summary.json's ``sensitivity``).

    Returns:
        One record per output (per arm and output in a crossed design), in the
        indices' order: ``output`` (and ``arm``), ``index`` (the ranking index's
        name), ``lever``, ``value``, ``conf`` (half-width or None) of the first;
        ``runner_up``, ``runner_up_value``, ``runner_up_conf`` of the second
        (None with a single lever); ``gap`` and ``margin`` (the gap the rule
        needs), and ``unclear``. ``lever`` is None when the output took the
        same value at every point (no indices).
    """
    index, conf = RANKED_BY[sensitivity["method"]]
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for row in sensitivity["indices"]:
        groups.setdefault((row.get("arm"), row["output"]), []).append(row)
    out = []
    for (arm, output), rows in groups.items():
        record: dict[str, Any] = {} if arm is None else {"arm": arm}
        record |= {"output": output, "index": index}
        ranked = sorted(
            (r for r in rows if r.get(index) is not None), key=lambda r: -float(r[index])
        )  # stable: a tie keeps the design's order
        first = ranked[0] if ranked else None
        second = ranked[1] if len(ranked) > 1 else None
        record |= {
            "lever": first["parameter"] if first else None,
            "value": first[index] if first else None,
            "conf": first.get(conf) if first else None,
            "runner_up": second["parameter"] if second else None,
            "runner_up_value": second[index] if second else None,
            "runner_up_conf": second.get(conf) if second else None,
        }
        gap = margin = None
        unclear = False
        if first is not None and second is not None:
            gap = float(first[index]) - float(second[index])
            c1, c2 = first.get(conf), second.get(conf)
            if c1 is None or c2 is None:
                unclear = True  # no interval to judge the gap by
            else:
                # The rule: the first lever leads clearly only if the gap between the two
                # indices exceeds sqrt(c1² + c2²), the half-width of a 95% interval for the
                # difference of two independent estimates with half-widths c1 and c2 (normal
                # approximation). Two intervals that merely overlap can still differ clearly
                # (for equal widths c, they overlap up to a gap of 2c, while the difference is
                # significant past 1.41c: Cumming & Finch 2005, "overlap of about half a
                # margin is p ≈ 0.05"); an overlap past that point is too much. SALib's
                # bootstrap intervals of two indices come from the same design, so the
                # estimates are not independent; and they leave out the Monte Carlo noise of
                # each point (see the module docstring). The rule is a screen, not a test:
                # it flags a ranking that could be noise, it does not prove one firm.
                margin = math.hypot(float(c1), float(c2))
                unclear = gap <= margin
        record |= {"gap": gap, "margin": margin, "unclear": unclear}
        out.append(record)
    return out
