"""The seam between the model and everything that drives it.

``run_one`` turns (scenario, seed, replicates, chunk) into a per-replicate table;
the model never knows whether it runs alone, in a comparison or in a sweep.
Replicates are grouped in fixed-size chunks whose random streams derive from
(root seed, chunk index) alone, so a result does not depend on how chunks are
spread over workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import Scenario
from sim.model import CeasefireModel, resolve_scenario

#: Replicates per chunk. Part of a result's identity: it is written to the manifest.
CHUNK_SIZE = 1000


@dataclass(frozen=True)
class Chunk:
    """A block of replicates with its own random streams."""

    index: int
    start: int
    size: int


def chunks(replicates: int, chunk_size: int = CHUNK_SIZE) -> list[Chunk]:
    """Split ``replicates`` into chunks of ``chunk_size`` (the last may be smaller)."""
    return [
        Chunk(i, start, min(chunk_size, replicates - start))
        for i, start in enumerate(range(0, replicates, chunk_size))
    ]


def run_one(scenario: Scenario, seed: int, replicates: int, chunk: int = 0, start: int = 0) -> pd.DataFrame:
    """Simulate ``replicates`` truces of ``scenario`` and return one row per truce.

    Args:
        scenario: the validated scenario.
        seed: root seed.
        replicates: number of truces in this chunk.
        chunk: chunk index (selects the random streams together with ``seed``).
        start: index of the chunk's first replicate (for the ``replicate`` column).
    """
    model = CeasefireModel(scenario, replicates=replicates, seed=seed, chunk=chunk).run()
    table = model.results()
    table["replicate"] += start
    table.insert(0, "chunk", chunk)
    return table


def iter_chunks(
    scenario: Scenario, seed: int, replicates: int, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[Chunk, pd.DataFrame]]:
    """Run chunk after chunk in this process, yielding each chunk's table."""
    for c in chunks(replicates, chunk_size):
        yield c, run_one(scenario, seed, c.size, c.index, c.start)


def run_serial(
    scenario: Scenario,
    seed: int | None = None,
    replicates: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    on_chunk: Callable[[Chunk, pd.DataFrame], Any] | None = None,
) -> pd.DataFrame:
    """All replicates of one scenario, chunk by chunk, as one table."""
    seed = scenario.seed if seed is None else seed
    replicates = scenario.replicates if replicates is None else replicates
    parts = []
    for c, table in iter_chunks(scenario, seed, replicates, chunk_size):
        if on_chunk is not None:
            on_chunk(c, table)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


@dataclass
class Trace:
    """One simulated truce, day by day."""

    scenario: Scenario
    seed: int
    replicate: int
    days: pd.DataFrame
    events: pd.DataFrame
    outcome: dict[str, Any]


def trace(scenario: Scenario | str | Path, seed: int | None = None, replicate: int = 0,
          chunk_size: int = CHUNK_SIZE, **overrides: Any) -> Trace:
    """Re-run the chunk holding ``replicate`` and keep that truce's day-by-day record.

    The traced truce is the same one that row ``replicate`` of a run with this seed
    describes (same chunk, same streams).
    """
    resolved = resolve_scenario(scenario, overrides)
    seed = resolved.seed if seed is None else seed
    chunk = next(c for c in chunks(max(resolved.replicates, replicate + 1), chunk_size)
                 if c.start <= replicate < c.start + c.size)
    local = replicate - chunk.start
    model = CeasefireModel(resolved, replicates=chunk.size, seed=seed, chunk=chunk.index,
                           record=True, trace_replicate=local).run()
    days, events = model.trace_tables()
    outcome = model.results().iloc[local].to_dict()
    outcome["replicate"] = replicate
    return Trace(resolved, seed, replicate, days, events, outcome)
