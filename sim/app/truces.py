"""The truces the classroom page shows: one live truce, day by day, and an ensemble.

The live truce is a recorded :class:`~sim.model.model.CeasefireModel` of one
replicate, rebuilt from a :class:`TruceSetup` on Reset and whenever a lever
moves; the ensemble is a few hundred truces run by the experiment runner under
the same settings. Both start from :data:`DEFAULT_SEED`, so two settings are
compared on common random numbers. The banner, the event log and the
ensemble's sentence put them into words; the model knows nothing of the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.experiment.runner import forget, run_one
from sim.model.model import CeasefireModel
from sim.present.text import cause_phrase, narrate_day
from sim.scenario.schema import ORIGINS, Scenario

#: Truces in the ensemble panel.
ENSEMBLE_SIZE = 300
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
        super().__init__(setup.scenario, replicates=1, seed=setup.seed, record=True)
        # Every slider move and every reset builds a new LiveTruce; without this
        # Mesa's class-level id counters would keep each old one alive for as
        # long as the app runs. Safe here: all agents are created above.
        forget(self)


def ensemble_runs(
    scenario: Scenario, replicates: int = ENSEMBLE_SIZE, seed: int = DEFAULT_SEED
) -> pd.DataFrame:
    """A few hundred truces under ``scenario``: one row each (``runs`` columns but ``chunk``)."""
    return run_one(scenario, seed, replicates).drop(columns="chunk")


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
