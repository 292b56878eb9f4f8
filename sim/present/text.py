"""The package's plain-language vocabulary and the sentences for one simulated truce.

:data:`VOCABULARY` names the five origins of violence one way for the whole
presentation layer: the charts' legends, the terminal tables, the report and
the story all take their words from here (:func:`origin_label`,
:func:`origin_phrase`, :func:`cause_phrase`).

The model records a traced truce's events as data; :func:`with_text` adds one
sentence per event (:func:`describe`), and :func:`narrate_day` turns one day's
events into a short paragraph and adds what no single event says: which party
was hit that day and held its fire.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class OriginWords:
    """How one origin of violence is named, wherever the package names it.

    Attributes:
        label: a short name for legends, table rows and column heads ("spoiler attack").
        phrase: one violation of that origin in a sentence ("a spoiler attack").
        cause: as the cause of a collapse ("spoiler attacks").
    """

    label: str
    phrase: str
    cause: str


VOCABULARY: dict[str, OriginWords] = {
    "deliberate": OriginWords(
        label="deliberate violation",
        phrase="a deliberate attack",
        cause="deliberate violations",
    ),
    "loophole": OriginWords(
        label="strike through a loophole",
        phrase="a strike through the truce's loopholes",
        cause="strikes through the loopholes",
    ),
    "accident": OriginWords(
        label="accident among foreign forces",
        phrase="an accident among foreign forces",
        cause="accidents among foreign forces",
    ),
    "spoiler": OriginWords(
        label="spoiler attack",
        phrase="a spoiler attack",
        cause="spoiler attacks",
    ),
    "indiscipline": OriginWords(
        label="units acting without orders",
        phrase="an attack by units acting without orders",
        cause="units acting without orders",
    ),
}
"""The one plain-language vocabulary of the five origins (``sim.scenario.schema.ORIGINS``)."""

ORIGIN_LABELS: dict[str, str] = {o: w.label for o, w in VOCABULARY.items()}
"""Short names of the origins, for legends, table rows and column heads."""
ORIGIN_PHRASES: dict[str, str] = {o: w.phrase for o, w in VOCABULARY.items()}
"""One violation of each origin, in a sentence."""
CAUSE_PHRASES: dict[str, str] = {o: w.cause for o, w in VOCABULARY.items()}
"""Each origin as the cause of a collapse."""


def origin_label(origin: str) -> str:
    """The short name of an origin ("spoiler attack"); an unknown one as it is."""
    return ORIGIN_LABELS.get(origin, origin or "violence")


def origin_phrase(origin: str) -> str:
    """How an origin reads in a sentence ("a spoiler attack")."""
    return ORIGIN_PHRASES.get(origin, origin or "violence")


def cause_phrase(origin: str) -> str:
    """How the cause of a collapse reads ("spoiler attacks")."""
    return CAUSE_PHRASES.get(origin, origin or "violence")


def _flag(event: Mapping[str, Any], key: str) -> bool:
    """A boolean column of an event (missing or NaN reads as False)."""
    value = event.get(key)
    return isinstance(value, bool | np.bool_) and bool(value)


def _names(event: Mapping[str, Any], scenario: Scenario) -> tuple[str, str, str]:
    def name(key: str) -> str:
        value = event.get(key)
        return scenario.label(value) if isinstance(value, str) and value else ""

    return name("actor"), name("target"), name("blamed")


def describe(event: dict[str, Any], scenario: Scenario) -> str:
    """One sentence for one event of a traced truce.

    Args:
        event: one row of the ``events`` table (before its ``text`` is set).
        scenario: the scenario, for display names.

    Returns:
        A plain-language sentence ending with a full stop.
    """
    actor, target, blamed = _names(event, scenario)
    kind, origin = event["kind"], event.get("origin", "")
    if kind == "monitor_attack":
        return f"A monitors' patrol is attacked{' by ' + actor if actor else ''}."
    if kind == "monitor_withdrawal":
        return "The monitoring mission suspends operations and withdraws."
    if kind == "shift":  # E18
        value = event.get("value")
        now = f" to {value:.2f}" if isinstance(value, float) else ""
        return (
            f"The world shifts ({event.get('shift')}): {actor}'s {event.get('field')} moves{now}."
        )
    if kind == "offensive":  # E19
        return f"{actor} ends the pause and launches an offensive."
    if kind == "sanction":
        return f"{actor}'s sponsors cut support after monitors verified its violation."
    if kind == "rejection":
        return f"At the signing, {actor} rejects the truce in practice: its forces fight on."
    if kind == "conditional":
        return (
            f"At the signing, {actor} accepts only on conditions: the first violation "
            "against it will end its restraint."
        )
    if kind == "theatre_collapse":
        theatre = str(event.get("theatre") or "").replace("_", " ")
        return (
            f"The truce collapses in the {theatre} zone on day {event['day']} "
            f"({_how(event)}) — cause: {cause_phrase(origin)}."
        )
    if kind == "collapse":
        return (
            f"The truce collapses on day {event['day']} ({_how(event)}) — "
            f"cause: {cause_phrase(origin)}."
        )
    if _flag(event, "land_grab"):
        return f"Before the start, {actor} grabs ground from {target}."
    if kind == "retaliation":
        if _flag(event, "wrong"):
            return (
                f"{target}, blamed for {origin_phrase(origin)} it did not carry out, "
                f"is struck by {actor} in retaliation."
            )
        return f"{actor} retaliates against {target}."
    return _violation(event, actor, target, blamed, origin) + "."


def _how(event: Mapping[str, Any]) -> str:
    """How a truce or a zone ended, from the event's trigger."""
    trigger = event.get("trigger", "violence")
    if trigger == "withdrawal":
        return "a party walks out"
    if trigger == "intensity":
        return "one day of heavy fighting"
    return "violence stays high"


def _violation(event: Mapping[str, Any], actor: str, target: str, blamed: str, origin: str) -> str:
    what = origin_phrase(origin)
    if origin == "loophole":
        text = f"{actor}'s strike on an exempted group hits {target}"
    elif origin == "accident":
        text = f"A misdirected strike by {actor} hits {target}"
    elif origin == "spoiler":
        text = f"A spoiler attack by {actor} hits {target}"
    elif origin == "indiscipline":
        text = f"Units of {actor} attack {target} without orders"
    else:
        text = f"{what.capitalize()} by {actor} on {target}"
    if _flag(event, "admitted"):
        text += f"; {actor} owns up through the deconfliction channel"
    elif _flag(event, "correct"):
        text += "; monitors attribute it correctly"
    elif _flag(event, "detected"):
        text += "; monitors see it but misattribute it"
    culprit = event.get("culprit") or event.get("actor")
    if event.get("blamed") and not _flag(event, "admitted"):
        if event.get("blamed") != culprit:
            but = ", but" if _flag(event, "correct") else ";"
            text += f"{but} {target} wrongly blames {blamed}"
        elif origin in ("spoiler", "accident"):
            text += f"; {target} blames {blamed}"
    return text


def held_fire(day_events: Iterable[Mapping[str, Any]], principals: Iterable[str]) -> list[str]:
    """Principal parties hit on a day (during the truce) that did not retaliate that day.

    Args:
        day_events: the events of one day.
        principals: names of the principal parties (government and factions).

    Returns:
        Their names, in the order they were first hit.
    """
    rows = list(day_events)
    principals = set(principals)
    hit = [
        e["target"]
        for e in rows
        if e["kind"] in ("violation", "retaliation") and not _flag(e, "land_grab")
    ]
    answered = {e["actor"] for e in rows if e["kind"] == "retaliation"}
    return [p for p in dict.fromkeys(hit) if p in principals and p not in answered]


def narrate_day(day: int, day_events: Iterable[Mapping[str, Any]], scenario: Scenario) -> str:
    """One day of a truce as a short paragraph ("Day 3: …; the government holds fire.").

    Args:
        day: the day number (≤ 0 before the start).
        day_events: the events of that day, with their ``text``.
        scenario: the scenario, for display names.

    Returns:
        The paragraph, or an empty string for a day without events.
    """
    rows = list(day_events)
    if not rows:
        return ""
    sentences = [str(e.get("text") or describe(dict(e), scenario)) for e in rows]
    collapsed = any(e["kind"] == "collapse" for e in rows)
    quiet = held_fire(rows, (p.name for p in scenario.principals))
    if quiet and not collapsed:
        who = " and ".join(scenario.label(p) for p in quiet)
        verb = "hold" if len(quiet) > 1 else "holds"
        sentences.append(f"{who} {verb} fire.")
    if day > 0:
        return f"Day {day}: " + " ".join(sentences)
    # the day's own label says it is before the start: the sentences need not repeat it
    prefix = "Before the start, "
    sentences = [_cap(t[len(prefix) :]) if t.startswith(prefix) else t for t in sentences]
    return f"Day {day} (before the start): " + " ".join(sentences)


def _cap(text: str) -> str:
    """``text`` with its first letter in upper case (the rest untouched)."""
    return text[:1].upper() + text[1:]


def with_text(events: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The event log with a ``text`` column: each event as one plain sentence.

    The model records events as data (who, whom, origin, blame); the words are
    chosen here, in one vocabulary.
    """
    out = events.copy()
    out["text"] = [describe(row, scenario) for row in records(out)]
    return out


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table (the events of a truce) as dictionaries keyed by column name."""
    return [{str(k): v for k, v in row.items()} for row in table.to_dict("records")]
