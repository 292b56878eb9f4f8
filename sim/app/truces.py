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

from sim.app.trace import mark
from sim.app.workers import (
    LATER,
    URGENT,
    chunk_with_figure,
    figure_of,
    run_stoppable,
    submit_shared,
)
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
POLL = 0.01


def ensemble_key(scenario: Scenario, seed: int = DEFAULT_SEED) -> str:
    """What identifies an ensemble: its seed and its resolved scenario."""
    return f"{seed}:{scenario.model_dump_json()}"


@dataclass
class Curve:
    """What the ensemble panel draws: the truces so far and their chart.

    Attributes:
        key: the setting (:func:`ensemble_key`).
        runs: the truces so far (50, then all 300; ``runs`` columns but ``chunk``).
        previous: the last complete ensemble of the setting before (the faint curve).
        figure: the survival chart as plotly JSON (None when not asked for).
    """

    key: str
    runs: pd.DataFrame
    previous: pd.DataFrame | None
    figure: str | None = None


class EnsembleJob:
    """The truces of one setting, asked of the workers all at once (:mod:`sim.app.workers`).

    The first chunk (50 truces, drawn in its worker) and the rest (250) start
    together on the two cores; once both are in, a worker draws the chart of all
    300. :meth:`cancel` (a newer release) withdraws whatever has not started.
    Every page shares the work (:func:`~sim.app.workers.submit_shared`): two students
    asking for the same setting at once, or a page going back to a setting seen
    before, wait for one run of its truces (the chart too, when the faint previous
    curve is the same).

    Args:
        scenario: the settings.
        seed: the ensemble's seed.
        previous: the last complete ensemble of another setting (drawn faint), if any.
        figures: whether the workers draw the charts too.
        previous_key: the setting of ``previous`` (:func:`ensemble_key`); without it,
            charts with a faint curve are not shared.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int = DEFAULT_SEED,
        previous: pd.DataFrame | None = None,
        figures: bool = True,
        previous_key: str | None = None,
    ):
        self.key = ensemble_key(scenario, seed)
        self.previous = previous
        self.figures = figures
        self.cancelled = False
        #: What a chart depends on besides the setting: the faint curve's setting (a
        #: unique token when it is not known, so that such a chart is never shared).
        self._drawn_over: object = None
        if previous is not None:
            self._drawn_over = previous_key or object()
        #: Set once the first curve has been handed on (or will never be: cancelled,
        #: failed); the page draws the live truce's new timeline after it.
        self.first_shown = threading.Event()
        size, rest = ENSEMBLE_CHUNKS
        self._first: Future
        if figures:
            self._first = submit_shared(
                ("first", self.key, self._drawn_over),
                URGENT,
                chunk_with_figure,
                scenario,
                seed,
                size,
                0,
                0,
                previous,
            )
        else:
            self._first = _chunk(self.key, scenario, seed, size, 0, 0)
        self._rest: Future = _chunk(self.key, scenario, seed, rest, 1, size)
        self._all: Future | None = None

    def cancel(self) -> None:
        """No longer wanted: withdraw what has not started (what runs finishes unseen)."""
        self.cancelled = True
        self.first_shown.set()
        for future in (self._first, self._rest, self._all):
            if future is not None:
                future.cancel()

    def progress(self, wanted: Callable[[], bool] = lambda: True) -> Iterator[Curve]:
        """The curves as they come: 50 truces first, then all 300 (:data:`ENSEMBLE_CHUNKS`).

        While waiting, ``wanted()`` is asked whether the result is still needed
        (a newer slider release makes it False); if not, the job is cancelled and
        the generator stops. The last table equals :func:`ensemble_runs`.
        """

        def wait(future: Future) -> bool:
            while True:
                if self.cancelled or not wanted():
                    self.cancel()
                    return False
                if future.done():
                    return not future.cancelled()
                time.sleep(POLL)

        try:
            if not wait(self._first):
                return
            got = self._first.result()
            if got is None:  # stopped while it ran: cancelled
                return
            first, figure = got if self.figures else (got, None)
            first = first.drop(columns="chunk")
            mark("curve", truces=len(first))
            yield Curve(self.key, first, self.previous, figure)
        finally:  # handed on (the page has drawn it when this resumes), or never will be
            self.first_shown.set()
        if not wait(self._rest) or self._rest.result() is None:
            return
        runs = pd.concat([first, self._rest.result().drop(columns="chunk")], ignore_index=True)
        figure = None
        if self.figures:
            key = ("all", self.key, self._drawn_over)
            self._all = submit_shared(key, URGENT, figure_of, runs, self.previous)
            if not wait(self._all):
                return
            figure = self._all.result()
        mark("curve", truces=len(runs))
        yield Curve(self.key, runs, self.previous, figure)


def _chunk(
    key: str, scenario: Scenario, seed: int, replicates: int, chunk: int, start: int
) -> Future:
    """One chunk of the ensemble ``key`` in a worker (shared), the first chunk urgent."""
    priority = URGENT if chunk == 0 else LATER
    return submit_shared(
        ("chunk", key, chunk), priority, run_stoppable, scenario, seed, replicates, chunk, start
    )


class Ensembles:
    """One page's ensembles: the one on its way, and the last complete one.

    The page asks for a setting's ensemble as soon as a slider is released
    (:meth:`start`, before the page redraws), so the workers start at once; the
    panel then follows it (:meth:`job`). The last complete ensemble of another
    setting is the faint "previous" curve.
    """

    def __init__(self, seed: int = DEFAULT_SEED):
        self.seed = seed
        self.current: EnsembleJob | None = None
        self.done: Curve | None = None
        self._lock = threading.Lock()

    def start(self, scenario: Scenario) -> EnsembleJob:
        """Start the ensemble of ``scenario`` (cancelling the one on its way, if another)."""
        key = ensemble_key(scenario, self.seed)
        with self._lock:
            if self.current is not None and self.current.key == key:
                return self.current
            if self.current is not None:
                self.current.cancel()
            done = self.done if self.done is not None and self.done.key != key else None
            previous = done.runs if done is not None else None
            self.current = EnsembleJob(
                scenario, self.seed, previous, previous_key=done.key if done else None
            )
            return self.current

    def job(self, scenario: Scenario) -> EnsembleJob:
        """The job of ``scenario``: the one started for it, or a new one."""
        return self.start(scenario)

    def finished(self, curve: Curve) -> None:
        """Remember a complete ensemble (the next setting's faint curve)."""
        with self._lock:
            self.done = curve


def ensemble_progress(
    scenario: Scenario,
    seed: int = DEFAULT_SEED,
    wanted: Callable[[], bool] = lambda: True,
) -> Iterator[pd.DataFrame]:
    """The ensemble's truces as they come: 50 first, then all 300 (:data:`ENSEMBLE_CHUNKS`).

    The tables of an :class:`EnsembleJob` without charts. Each chunk runs in a
    worker process (:mod:`sim.app.workers`), both at once; while waiting,
    ``wanted()`` is asked whether the result is still needed (a newer slider
    release makes it False); if not, the generator stops and what has not
    started is withdrawn. The last table equals :func:`ensemble_runs`.

    Args:
        scenario: the settings.
        seed: the ensemble's seed.
        wanted: False once the result is no longer needed.
    """
    job = EnsembleJob(scenario, seed, figures=False)
    for curve in job.progress(wanted):
        yield curve.runs


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
