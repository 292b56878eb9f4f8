"""How a results folder's runs are grouped (by arm or design point, crossed or not).

:func:`design_of` reads the grouping from the manifest and the runs' columns;
:func:`load_summary` takes ``summary.json`` when it fits the grouping and
computes the summary from the runs otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import grouping, points, summaries
from sim.experiment import storage

_PARAMETER_KEYS = ("parameters", "params", "swept", "factors", "sweep")


@dataclass(frozen=True)
class Design:
    """How the runs are grouped: by arm (single run, comparison) or by design point.

    A sweep run under two or more arms (a scenario with both ``compare:`` and
    ``sweep:``) is *crossed*: every design point under every arm.
    """

    by: str
    arms: list[Any] = field(default_factory=list)
    parameters: list[str] = field(default_factory=list)

    @property
    def is_sweep(self) -> bool:
        """Whether the runs come from a sweep over parameters."""
        return self.by == "point"

    @property
    def crossed(self) -> bool:
        """Whether the sweep ran every design point under two or more arms."""
        return self.is_sweep and len(self.arms) > 1


def _names(value: Any) -> list[Any]:
    """Names from a list of names, a list of ``{"name": ...}`` or a mapping."""
    if isinstance(value, Mapping):
        return list(value)
    if isinstance(value, list | tuple):
        out = []
        for item in value:
            if isinstance(item, Mapping):
                item = item.get("name", item.get("path"))
            if item is not None:
                out.append(item)
        return out
    return []


def design_of(manifest: Mapping[str, Any], runs: pd.DataFrame) -> Design:
    """Find the grouping from the manifest's design and the runs' columns.

    Swept parameters are those the manifest lists (``parameters``, ``swept``,
    … at the top level or under ``design``, or the ``overrides`` of a design
    given as one record per point) that are columns of the runs and take more
    than one value; failing that, the dotted-path columns of the runs. A
    manifest of ``kind: sweep`` groups by design point. Arms keep the order
    the manifest gives (``arms``), then any other arm in the runs in order of
    appearance; a sweep whose runs hold two or more arms is crossed
    (:attr:`Design.crossed`).

    Args:
        manifest: the parsed manifest.json.
        runs: the runs table.

    Returns:
        The :class:`Design`.
    """
    raw = manifest.get("design")
    design = raw if isinstance(raw, Mapping) else {}
    listed = [n for src in (manifest, design) for k in _PARAMETER_KEYS for n in _names(src.get(k))]
    if isinstance(raw, list):  # one record per design point: {"arm", "point", "overrides"}
        listed += [k for r in raw if isinstance(r, Mapping) for k in r.get("overrides") or {}]
    candidates = [str(c) for c in dict.fromkeys(listed) if str(c) in runs.columns]
    candidates = candidates or grouping.swept_columns(runs)
    params = [c for c in candidates if runs[c].nunique(dropna=False) > 1]
    present = list(dict.fromkeys(runs["arm"]))
    ordered = [a for a in _names(manifest.get("arms") or design.get("arms")) if a in present]
    arms = list(dict.fromkeys(ordered + present))
    is_sweep = manifest.get("kind") == "sweep" or (bool(params) and runs["point"].nunique() > 1)
    return Design(by="point" if is_sweep else "arm", arms=arms, parameters=params)


def is_crossed(summary: Mapping[str, Any]) -> bool:
    """Whether a summary is of a crossed design: it lists two or more ``arms``."""
    return summary.get("by") == "point" and len(summary.get("arms") or []) > 1


def load_summary(results_dir: Path, runs: pd.DataFrame, design: Design) -> dict[str, Any]:
    """``summary.json`` if it is there and fits the design, else computed from the runs.

    ``runs`` may be a sweep's points table (:mod:`sim.analysis.points`).
    """
    path = Path(results_dir) / storage.SUMMARY
    if path.exists():
        try:
            summary = storage.read_json(path)
        except (OSError, json.JSONDecodeError):
            summary = None
        if (
            isinstance(summary, dict)
            and summary.get("summary_version") == summaries.SUMMARY_VERSION
            and summary.get("by") == design.by
            and summary.get("groups")
            and is_crossed(summary) == design.crossed
        ):
            return summary
    if points.is_points(runs):  # a sweep's per-point aggregates
        return points.summarize_points(runs)
    # ``arms`` makes a crossed summary only for a sweep with two or more arms.
    order = design.arms if design.by == "arm" else None
    return summaries.summarize(runs, by=design.by, order=order, arms=design.arms)


def in_arm_order(runs: pd.DataFrame, arms: Sequence[Any]) -> pd.DataFrame:
    """The runs with the arms in the order given (stable otherwise).

    Charts show groups in their order of appearance, so this puts the
    reference arm first everywhere.
    """
    rank = {a: i for i, a in enumerate(arms)}
    key = runs["arm"].map(lambda a: rank.get(a, len(rank)))
    if key.is_monotonic_increasing:
        return runs
    return runs.iloc[key.argsort(kind="stable")].reset_index(drop=True)
