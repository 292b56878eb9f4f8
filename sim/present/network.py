"""The network of the actors: who stands where, whom they trust, who hit whom today.

What the classroom page's network view draws (:mod:`sim.app.network`), read
from a recorded :class:`~sim.model.model.CeasefireModel` and its scenario; no
model logic here, only where to put each actor and which of the model's
records to show.

* :func:`layout` places the actors deterministically: **columns by side**
  (the government's sponsors, the government, the excluded groups, the
  factions, the factions' sponsors) and **bands by theatre** (one horizontal
  band per theatre, in the scenario's order from the top). A party present in
  several theatres has a node in each of their bands; the monitoring mission
  sits above the bands and the foreign air forces below them, in the middle
  column; sponsors are not in any theatre and are spread down their column.
* :func:`snapshot` reads the live replicate of a recorded model: the trust
  table between the principals (the model's ``trust`` edges, each party's
  trust in the other), the day's acts from its event log (who hit whom, by
  origin, in which theatre), the blame that went to a party that did not do
  it, and the counters the page shows beside the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.model.model import CeasefireModel
from sim.scenario.schema import Scenario

#: The columns of the layout, left to right (x of each node).
COLUMNS: tuple[str, ...] = (
    "government's sponsors",
    "government",
    "excluded groups",
    "factions",
    "factions' sponsors",
)
GOV_SPONSORS, GOVERNMENT, EXCLUDED, FACTIONS, FACTION_SPONSORS = range(len(COLUMNS))
#: Name of the monitoring mission's node (it commits no violation, so it is no party).
MISSION = "monitors"
#: Name of the foreign air forces' node (the actor of accidents, as in the results).
AIR_FORCES = "foreign_forces"
#: Where the mission and the air forces sit: this far above the top band and below the bottom.
OUTSIDE = 0.4
#: Highest place of an excluded group in its band (above the band's bottom), clear of the
#: trust edges that cross the middle column.
EXCLUDED_HEIGHT = 0.14
#: Kinds of events that are acts (a strike on someone) in the model's event log.
ACT_KINDS = ("violation", "retaliation")


@dataclass(frozen=True)
class Node:
    """One actor on the network (a party in several theatres has one node per theatre).

    Attributes:
        key: ``name`` for an actor outside the theatres, ``name@theatre`` inside one.
        name: the actor's name (as in the results' columns).
        label: its display name.
        role: government, faction, excluded, sponsor, mission or air_forces.
        theatre: the theatre's name, or ``None`` for an actor outside the theatres.
        x: its column (an index of :data:`COLUMNS`).
        y: its height (theatre ``t`` of ``T`` is the band ``T - t - 1 <= y < T - t``).
    """

    key: str
    name: str
    label: str
    role: str
    theatre: str | None
    x: float
    y: float


@dataclass(frozen=True)
class Band:
    """One theatre's horizontal band: ``low <= y < high``."""

    name: str
    label: str
    low: float
    high: float


@dataclass(frozen=True)
class Layout:
    """Where every actor of a scenario is drawn."""

    nodes: dict[str, Node]
    bands: tuple[Band, ...]
    #: Sponsor to client node keys (the sponsors' backing).
    backing: tuple[tuple[str, str], ...]

    def of(self, name: str, theatre: str | None = None) -> Node:
        """The node of actor ``name`` in ``theatre`` (or its only or first node).

        Raises:
            KeyError: when the scenario has no actor ``name``.
        """
        if theatre and f"{name}@{theatre}" in self.nodes:
            return self.nodes[f"{name}@{theatre}"]
        if name in self.nodes:
            return self.nodes[name]
        for node in self.nodes.values():
            if node.name == name:
                return node
        raise KeyError(name)

    def nodes_of(self, name: str) -> list[Node]:
        """Every node of actor ``name`` (one per theatre it is present in)."""
        return [node for node in self.nodes.values() if node.name == name]


def _theatre_members(scenario: Scenario) -> list[tuple[str, list[str], list[str]]]:
    """Per theatre: its name, the principals present and the excluded groups present."""
    principals = [p.name for p in scenario.principals]
    excluded = [g.name for g in scenario.excluded]
    out = []
    for theatre in scenario.theatre_list:
        parties = set(theatre.parties or principals)
        here = set(excluded if theatre.excluded is None else theatre.excluded)
        out.append(
            (
                theatre.name,
                [p for p in principals if p in parties],
                [g for g in excluded if g in here],
            )
        )
    return out


def layout(scenario: Scenario) -> Layout:
    """Place the actors of ``scenario``: columns by side, bands by theatre (deterministic)."""
    members = _theatre_members(scenario)
    n_t = len(members)
    labels = {t.name: t.label or t.name for t in scenario.theatre_list}
    nodes: dict[str, Node] = {}
    bands = []
    government = scenario.government.name
    for t, (theatre, principals, excluded) in enumerate(members):
        low = float(n_t - t - 1)
        bands.append(Band(theatre, labels[theatre].replace("_", " "), low, low + 1.0))
        columns: dict[int, list[tuple[str, str]]] = {}
        for name in principals:
            role = "government" if name == government else "faction"
            columns.setdefault(GOVERNMENT if role == "government" else FACTIONS, []).append(
                (name, role)
            )
        for name in excluded:
            columns.setdefault(EXCLUDED, []).append((name, "excluded"))
        for x, column in columns.items():
            for j, (name, role) in enumerate(column):
                y = low + (j + 0.5) / len(column)
                if x == EXCLUDED:  # below the edges that run from the government to a faction
                    y = low + EXCLUDED_HEIGHT * (j + 1) / len(column)
                key = f"{name}@{theatre}"
                nodes[key] = Node(key, name, scenario.label(name), role, theatre, float(x), y)
    # Excluded groups present in no theatre still exist (they may have no one to hit).
    placed = {node.name for node in nodes.values()}
    absent = [g.name for g in scenario.excluded if g.name not in placed]
    for j, name in enumerate(absent):
        y = n_t * (j + 0.5) / len(absent)
        nodes[name] = Node(name, name, scenario.label(name), "excluded", None, EXCLUDED, y)
    # Sponsors: by the side of their clients, spread down their column.
    sides: dict[int, list[str]] = {GOV_SPONSORS: [], FACTION_SPONSORS: []}
    for sponsor in scenario.sponsors:
        side = GOV_SPONSORS if government in sponsor.clients else FACTION_SPONSORS
        sides[side].append(sponsor.name)
    backing = []
    for x, names in sides.items():
        for j, name in enumerate(names):
            y = n_t - n_t * (j + 0.5) / len(names)
            nodes[name] = Node(name, name, scenario.label(name), "sponsor", None, float(x), y)
    for sponsor in scenario.sponsors:
        for client in sponsor.clients:
            backing += [(sponsor.name, node.key) for node in nodes.values() if node.name == client]
    middle = float(EXCLUDED)
    if scenario.monitors is not None:
        nodes[MISSION] = Node(
            MISSION, MISSION, "monitoring mission", "mission", None, middle, n_t + OUTSIDE
        )
    nodes[AIR_FORCES] = Node(
        AIR_FORCES, AIR_FORCES, "foreign air forces", "air_forces", None, middle, -OUTSIDE
    )
    return Layout(nodes, tuple(bands), tuple(backing))


# ------------------------------------------------------------------ the live replicate


@dataclass(frozen=True)
class Trust:
    """Trust between two principals: each one's trust in the other (0 to 1)."""

    a: str
    b: str
    a_in_b: float
    b_in_a: float


@dataclass(frozen=True)
class Strike:
    """One act of the day: who hit whom, by origin, where; and whom the victim blamed.

    Attributes:
        wrong_blame: the victim blamed a party that did not do it (misattribution,
            as the model's perception counts it: a blamed party other than the culprit).
        wrong: a retaliation against a party that had not done what it is punished for.
    """

    actor: str
    target: str
    origin: str
    kind: str
    theatre: str | None
    blamed: str
    culprit: str
    wrong_blame: bool
    wrong: bool
    intensity: int
    text: str = ""


@dataclass(frozen=True)
class Counters:
    """What the page counts beside the network, for the live replicate so far.

    Attributes:
        day: the day the truce has reached (0 before the start).
        violations: violations since the start (``violations`` in the results).
        wrong_retaliations: retaliations against the wrong party (``wrong_retaliations``).
        access_days: days of humanitarian access (``access_days``: days on which every
            theatre was calm, at most ``constants.access_threshold`` violations, while
            the truce held).
    """

    day: int
    violations: int
    wrong_retaliations: int
    access_days: int


@dataclass(frozen=True)
class Snapshot:
    """The network's state on the live replicate's current day."""

    day: int
    trust: tuple[Trust, ...]
    strikes: tuple[Strike, ...]
    counters: Counters
    #: Per theatre: ``holding``, ``calm`` (a day of access there today) or ``collapsed``.
    theatres: dict[str, str] = field(default_factory=dict)
    #: Whether the monitoring mission is (still) deployed.
    mission: bool = False


def counters(model: CeasefireModel) -> Counters:
    """The counters of the traced replicate: the model's own running totals."""
    r0 = model.trace_replicate
    return Counters(
        day=int(model.day),
        violations=int(model.origin_total[:, r0].sum()),
        wrong_retaliations=int(model.wrong_retaliations[r0]),
        access_days=int(model.access_days[r0]),
    )


def trust_pairs(model: CeasefireModel) -> tuple[Trust, ...]:
    """Trust between the government and each faction, in the traced replicate."""
    r0 = model.trace_replicate
    names = model.party_names
    pairs: dict[tuple[int, int], dict[str, float]] = {}
    for edge, (victim, blamed) in enumerate(
        zip(model.edge_victim.tolist(), model.edge_blamed.tolist(), strict=True)
    ):
        pair = (min(victim, blamed), max(victim, blamed))
        pairs.setdefault(pair, {})[names[victim]] = float(model.trust[edge, r0])
    out = []
    for (a, b), held in pairs.items():
        a_in_b, b_in_a = held.get(names[a], np.nan), held.get(names[b], np.nan)
        out.append(Trust(names[a], names[b], a_in_b, b_in_a))
    return tuple(out)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and value == value  # not NaN


def _flag(value: Any) -> bool:
    return isinstance(value, bool | np.bool_) and bool(value)


def strikes_on(events: pd.DataFrame, day: int) -> tuple[Strike, ...]:
    """The acts of ``day`` in an event log (the model's ``trace_tables()[1]``).

    Blame counts as wrong as the model's perception (E10) counts a misattribution:
    the victim blamed a party (``blamed``) other than the act's culprit (an excluded
    group's or a foreign force's act has no principal culprit, so any blame on a
    principal is wrong). Blame a party owned up to (``admitted``) is corrected at once
    and not drawn.
    """
    if events.empty:
        return ()
    today = events[(events["day"] == day) & events["kind"].isin(ACT_KINDS)]
    out = []
    for row in today.to_dict("records"):
        blamed, culprit = _text(row.get("blamed")), _text(row.get("culprit"))
        wrong_blame = bool(blamed) and blamed != culprit and not _flag(row.get("admitted"))
        if _flag(row.get("land_grab")):  # the land grab: the actor is its own culprit
            wrong_blame = False
            culprit = _text(row.get("actor"))
        intensity = row.get("intensity")
        out.append(
            Strike(
                actor=_text(row["actor"]),
                target=_text(row["target"]),
                origin=_text(row["origin"]),
                kind=str(row["kind"]),
                theatre=_text(row.get("theatre")) or None,
                blamed=blamed,
                culprit=culprit,
                wrong_blame=wrong_blame,
                wrong=_flag(row.get("wrong")),
                intensity=int(intensity)
                if isinstance(intensity, int | float) and _number(intensity)
                else 1,
                text=_text(row.get("text")),
            )
        )
    return tuple(out)


def theatre_states(model: CeasefireModel) -> dict[str, str]:
    """Each theatre of the traced replicate today: ``collapsed``, ``calm`` or ``holding``."""
    r0 = model.trace_replicate
    out = {}
    for t, name in enumerate(model.theatre_names):
        if not model.theatre_alive[t, r0] or model.collapse_day[r0] > 0:
            out[name] = "collapsed"
        elif model.day > 0 and model.calm_today[t, r0]:
            out[name] = "calm"
        else:
            out[name] = "holding"
    return out


def snapshot(model: CeasefireModel, events: pd.DataFrame | None = None) -> Snapshot:
    """The network's state for the traced replicate of a recorded model, on its current day.

    Args:
        model: a model built with ``record=True``.
        events: its event log (``model.trace_tables()[1]``), if already read.
    """
    if events is None:
        _, events = model.trace_tables()
    mission = bool(model.mission.active()[model.trace_replicate])
    return Snapshot(
        day=int(model.day),
        trust=trust_pairs(model),
        strikes=strikes_on(events, int(model.day)),
        counters=counters(model),
        theatres=theatre_states(model),
        mission=mission,
    )


def blame_lines(snap: Snapshot) -> list[tuple[str, str, str | None]]:
    """The day's blame that went to the wrong party: (victim, blamed, theatre) each."""
    return [(s.target, s.blamed, s.theatre) for s in snap.strikes if s.wrong_blame]


def count_by(strikes: tuple[Strike, ...], key: str) -> Mapping[str, int]:
    """How many of ``strikes`` share each value of attribute ``key`` (e.g. ``origin``)."""
    out: dict[str, int] = {}
    for strike in strikes:
        value = str(getattr(strike, key))
        out[value] = out.get(value, 0) + 1
    return out
