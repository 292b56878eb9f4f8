"""The truces the classroom page shows: one live truce, day by day, and an ensemble.

The live truce is a recorded :class:`~sim.model.model.CeasefireModel` of one
replicate, rebuilt from a :class:`TruceSetup` on Reset and whenever a lever
moves; the ensemble is a few hundred truces run by the experiment runner under
the same settings. Both start from :data:`DEFAULT_SEED`, so two settings are
compared on common random numbers. The banner, the event log and the
ensemble's sentence put them into words; the model knows nothing of the page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.app.workers import submit_chunk
from sim.experiment.runner import forget, run_one
from sim.model.model import CeasefireModel
from sim.present.text import cause_phrase, narrate_day
from sim.scenario.schema import ORIGINS, Scenario

#: Truces in the ensemble panel.
ENSEMBLE_SIZE = 300
#: The ensemble's chunks, in the order they are run: a first curve from few truces,
#: then the rest (each chunk has its own random streams, so the 300 truces are the
#: same however the page gets them). Most of a chunk's time is the day-by-day loop,
#: whatever its size, so two chunks are the fewest that still give a quick first curve.
ENSEMBLE_CHUNKS = (50, 250)
#: Seed of the live truce and of the ensemble (common random numbers across settings).
DEFAULT_SEED = 20160227


@dataclass
class TruceSetup:
    """What the live truce is built from; the page updates it as sliders move."""

    scenario: Scenario
    seed: int = DEFAULT_SEED


class LiveTruce(CeasefireModel):
    """One recorded truce built from a :class:`TruceSetup` (what Reset rebuilds).

    Args:
        setup: the current scenario and seed.
    """

    def __init__(self, setup: TruceSetup | None = None):
        setup = setup or TruceSetup(Scenario())
        #: Held while a day is played and while the records are read: ▶ plays days in
        #: a thread while the page may redraw in another (a render that read the event
        #: log half-way through a day raised and blanked the page; issue 16).
        self.lock = threading.RLock()
        super().__init__(setup.scenario, replicates=1, seed=setup.seed, record=True)
        # Every slider move and every reset builds a new LiveTruce; without this
        # Mesa's class-level id counters would keep each old one alive for as
        # long as the app runs. Safe here: all agents are created above.
        forget(self)

    def step(self) -> None:
        """Play one day (under :attr:`lock`)."""
        with self.lock:
            super().step()

    def trace_tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The day-by-day table and the event log, read whole (under :attr:`lock`)."""
        with self.lock:
            return super().trace_tables()


def ensemble_runs(
    scenario: Scenario, replicates: int = ENSEMBLE_SIZE, seed: int = DEFAULT_SEED
) -> pd.DataFrame:
    """A few hundred truces under ``scenario``: one row each (``runs`` columns but ``chunk``).

    With the default ``replicates`` these are the truces :func:`ensemble_progress`
    ends with (the chunks of :data:`ENSEMBLE_CHUNKS`), run here in this thread.
    """
    if replicates != ENSEMBLE_SIZE:
        return run_one(scenario, seed, replicates).drop(columns="chunk")
    parts, start = [], 0
    for index, size in enumerate(ENSEMBLE_CHUNKS):
        parts.append(run_one(scenario, seed, size, index, start))
        start += size
    return pd.concat(parts, ignore_index=True).drop(columns="chunk")


#: How often (seconds) a wait for a chunk checks whether it is still wanted.
POLL = 0.02


def ensemble_key(scenario: Scenario, seed: int = DEFAULT_SEED) -> str:
    """What identifies an ensemble: its seed and its resolved scenario."""
    return f"{seed}:{scenario.model_dump_json()}"


def start_ensemble(scenario: Scenario, seed: int = DEFAULT_SEED) -> Future[pd.DataFrame]:
    """Start the ensemble's first chunk now (what :func:`ensemble_progress` waits for first).

    The page calls it as soon as a slider is released, before it redraws the
    live truce, so the workers start on the new curve at once.
    """
    return submit_chunk(scenario, seed, ENSEMBLE_CHUNKS[0], 0, 0)


def ensemble_progress(
    scenario: Scenario,
    seed: int = DEFAULT_SEED,
    wanted: Callable[[], bool] = lambda: True,
    started: Future[pd.DataFrame] | None = None,
) -> Iterator[pd.DataFrame]:
    """The ensemble's truces as they come: 50 first, then all 300 (:data:`ENSEMBLE_CHUNKS`).

    Each chunk runs in a worker process (:mod:`sim.app.workers`); the next chunk
    is asked for before the caller draws the last one. Between chunks, and while
    waiting for one, ``wanted()`` is asked whether the result is still needed (a
    newer slider release makes it False); if not, the generator stops without
    asking for the next chunk. The last table equals :func:`ensemble_runs`.

    Args:
        scenario: the settings.
        seed: the ensemble's seed.
        wanted: False once the result is no longer needed.
        started: the first chunk, if :func:`start_ensemble` already started it.
    """
    parts: list[pd.DataFrame] = []
    starts = [sum(ENSEMBLE_CHUNKS[:i]) for i in range(len(ENSEMBLE_CHUNKS))]
    future = started or start_ensemble(scenario, seed)
    for index in range(len(ENSEMBLE_CHUNKS)):
        while not future.done():
            if not wanted():
                future.cancel()
                return
            time.sleep(POLL)
        parts.append(future.result())
        following = index + 1
        if following < len(ENSEMBLE_CHUNKS):
            if not wanted():
                return
            future = submit_chunk(
                scenario, seed, ENSEMBLE_CHUNKS[following], following, starts[following]
            )
        yield pd.concat(parts, ignore_index=True).drop(columns="chunk")


def status(model: CeasefireModel) -> tuple[str, str]:
    """The banner of the live truce: (text, state) with state holding/collapsed/held."""
    if model.collapse_day[0] > 0:
        day = int(model.collapse_day[0])
        cause = cause_phrase(ORIGINS[model.cause[0]])
        return f"Collapsed on day {day}: {cause}", "collapsed"
    if not model.running and model.day >= model.horizon:
        return f"Held for all {model.horizon} days", "held"
    if model.day == 0:
        return "Announced — press Step to start day 1 (day 0)", "holding"
    return f"Holding, day {model.day}", "holding"


def log_lines(events: pd.DataFrame, scenario: Scenario, days: int = 8) -> list[str]:
    """The most recent eventful days of the live truce as paragraphs, newest first."""
    if events.empty:
        return []
    recent = sorted({int(day) for day in events["day"]})[-days:]
    return [_narrate(events[events["day"] == day], day, scenario) for day in reversed(recent)]


def _narrate(day_events: pd.DataFrame, day: int, scenario: Scenario) -> str:
    """One day's events (rows of the ``events`` table) as a paragraph."""
    records: list[dict[str, Any]] = day_events.to_dict("records", into=dict[str, Any]())
    return narrate_day(day, records, scenario)


def ensemble_sentence(current: pd.DataFrame, previous: pd.DataFrame | None = None) -> str:
    """How many of the ensemble's truces collapse, now and with the previous settings."""
    horizon = int(current["horizon"].max())
    text = f"{current['collapsed'].mean():.0%} collapse within {horizon} days"
    if previous is not None:
        text += f" (previous settings: {previous['collapsed'].mean():.0%})"
    return text
