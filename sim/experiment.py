"""Experiments as library calls: run a scenario, store the result with its provenance.

``sim.run(...)`` is what ``truce run`` calls; it returns a :class:`Result`
usable in a notebook (``.runs``, ``.summary()``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import analysis, storage
from sim.config import Scenario
from sim.model import resolve_scenario
from sim.provenance import git_commit, now, versions
from sim.runner import CHUNK_SIZE, Chunk, chunks, run_one

ProgressCallback = Callable[[int, int], None]


@dataclass
class Result:
    """The outcome of an experiment: the per-truce table and how it was made."""

    scenario: Scenario
    runs: pd.DataFrame
    manifest: dict[str, Any]
    path: Path | None = None
    summary_dict: dict[str, Any] = field(default_factory=dict)

    def summary(self, horizons: Iterable[int] = analysis.DEFAULT_HORIZONS) -> pd.DataFrame:
        """Collapse shares by horizon with 95% Wilson intervals, one row per group."""
        return analysis.collapse_by_horizon(self.runs, horizons=tuple(horizons), by="arm")


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
        "versions": versions(),
        "git_commit": git_commit(),
        "command": " ".join(sys.argv),
        "started": now(),
        "finished": None,
        **extra,
    }


def run(
    scenario: Scenario | str | Path,
    *,
    replicates: int | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    out: str | Path | None = "results",
    chunk_size: int = CHUNK_SIZE,
    progress: ProgressCallback | None = None,
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
    """
    resolved = resolve_scenario(scenario, overrides or {})
    seed = resolved.seed if seed is None else seed
    replicates = resolved.replicates if replicates is None else replicates
    resolved = resolved.model_copy(update={"seed": seed, "replicates": replicates})
    manifest = manifest_for(resolved, seed, replicates, chunk_size, "run", arms=[resolved.name])
    run_dir = storage.new_run_dir(out, resolved.name) if out is not None else None
    if run_dir is not None:
        storage.write_json(run_dir / storage.MANIFEST, manifest)
    parts, done = [], 0
    for c in chunks(replicates, chunk_size):
        table = _arm_chunk(resolved, seed, c, resolved.name)
        if run_dir is not None:
            storage.write_part(run_dir, f"arm-0-chunk-{c.index:06d}", table)
        parts.append(table)
        done += c.size
        if progress:
            progress(done, replicates)
    runs = pd.concat(parts, ignore_index=True)
    summary = analysis.summarize(runs, by="arm")
    manifest |= {"status": "complete", "finished": now()}
    if run_dir is not None:
        storage.write_json(run_dir / storage.SUMMARY, summary)
        storage.write_json(run_dir / storage.MANIFEST, manifest)
    return Result(resolved, runs, manifest, run_dir, summary)


def _arm_chunk(scenario: Scenario, seed: int, c: Chunk, arm: str, point: int = 0) -> pd.DataFrame:
    table = run_one(scenario, seed, c.size, c.index, c.start)
    table.insert(0, "point", point)
    table.insert(0, "arm", arm)
    return table
