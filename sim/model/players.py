"""Human players: people who decide, day by day, for roles of one live truce.

As in NetLogo's HubNet participatory simulations, a class plays one truce together:
each student takes a role (the government, a faction, a sponsor, the monitors),
each simulated day the model asks every played role for its decision, and the
model plays every role nobody took, and every played role whose player did not
answer in time, with its own rules. ``docs/MODEL.md`` ("Human players") lists
exactly what each decision overrides.

Usage (one truce, ``replicates=1``)::

    model = CeasefireModel(scenario, replicates=1, seed=3, record=True)
    players = Players(model, ["government", "faction_a"])
    players.play_day({"government": "hold_fire", "faction_a": None})  # None: time ran out
    players.run(lambda role, day, choices: "retaliate")                # or ask each day

The agents call the override methods below from their decision rules, guarded by
``if model.players`` (None without players). A decision only changes which of the
day's acts fire, computed from the uniforms the agent has already drawn: the random
streams draw exactly what they draw without players, so no other mechanism's
numbers move, and a truce with no players (or whose players never answer) is
identical, draw for draw, to one without.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.model import decisions as dec

if TYPE_CHECKING:
    from sim.model.agents import Government, Principal, Sponsor
    from sim.model.model import CeasefireModel

#: Every decision a player can make, with the words the page shows for it.
CHOICES: dict[str, str] = {
    "hold_fire": "hold fire",
    "retaliate": "retaliate",
    "strike_exempted": "strike the exempted group",
    "sanction_client": "sanction a client",
    "report_violation": "report violations",
    "stay_quiet": "stay quiet",
}
#: The role of the monitoring mission (the other roles are named as in the scenario).
MONITORS = "monitors"

#: Who decided a played role's day: its player, or the model's rule when time ran out.
BY_PLAYER, BY_MODEL = "player", "model"


class PlayerError(ValueError):
    """A role or decision the truce does not have (the message says what it expected)."""


@dataclass(frozen=True)
class Role:
    """A role people can play: its name, what kind of actor it is, the decisions it has."""

    name: str
    kind: str  # "government", "faction", "sponsor" or "monitors"
    choices: tuple[str, ...]


def roles(model: CeasefireModel) -> dict[str, Role]:
    """The roles of ``model``'s truce, by name, each with the decisions it can make.

    The government and every faction may hold fire or retaliate; the government may
    also strike the exempted groups where a faction is entangled with them (E22). A
    sponsor may hold fire or sanction its clients, and strike exempted groups if its
    air force flies for the government (E6). The monitors, when there is a mission,
    report the violations they cover or stay quiet.
    """
    out: dict[str, Role] = {}
    gov = model.government
    choices = ("hold_fire", "retaliate")
    exposed = len(model.exposed_factions()[0]) > 0
    out[gov.name] = Role(gov.name, "government", choices + (("strike_exempted",) * exposed))
    for faction in model.factions:
        out[faction.name] = Role(faction.name, "faction", choices)
    for sponsor in model.sponsors:
        strike = ("strike_exempted",) if sponsor.can_loop else ()
        out[sponsor.name] = Role(sponsor.name, "sponsor", ("hold_fire", "sanction_client") + strike)
    if model.mission.present:
        out[MONITORS] = Role(MONITORS, "monitors", ("report_violation", "stay_quiet"))
    return out


class Players:
    """The roles people play in one live truce, and their decisions day by day.

    Building it attaches it to the model (``model.players``); the model then asks it,
    in each played role's decision rule, what that role decided today.

    Args:
        model: a truce of one replicate that has not started (day 0).
        played: the names of the roles people play (see :func:`roles`).

    Raises:
        PlayerError: for a model of several replicates, one already started, or a role
            the truce does not have.
    """

    def __init__(self, model: CeasefireModel, played: Iterable[str]):
        if model.replicates != 1:
            raise PlayerError(
                f"people play one truce: replicates must be 1, not {model.replicates}"
            )
        if model.day != 0:
            raise PlayerError(f"players join before day 1, not on day {model.day}")
        self.model = model
        self.roles = roles(model)
        self.played: tuple[str, ...] = tuple(dict.fromkeys(played))
        for name in self.played:
            self._role(name)
        #: Today's decisions of the played roles (None: the model's rule decides).
        self.today: dict[str, str | None] = {}
        #: Every played role's decision, day by day: day, role, choice, by (player/model).
        self.log: list[dict[str, Any]] = []
        # One day's strikes on the exempted groups at full tempo (at least one a day).
        c = model.constants
        _, _, entanglement = model.exposed_factions()
        tempo = max(model.scenario.government.ground_tempo, 1.0)
        self._ground_p = dec.ground_offensive_probability(
            tempo, model.loophole_width, c.loophole_hit, entanglement
        )[:, None]
        self._loophole_p = {
            sp.name: dec.loophole_hit_probability(
                max(sp.config.strike_tempo, 1.0), model.loophole_width, c.loophole_hit, entanglement
            )[:, None]
            for sp in model.sponsors
        }
        # Draw what the levers leave idle (ground offensives at tempo 0, a sponsor's
        # loopholes): a played role may set it off. Rows keep their places in their
        # streams, so no other number moves.
        model.plan_draws(read_all=True)
        model.players = self

    def __bool__(self) -> bool:
        """True: the agents' hooks test ``if model.players``."""
        return True

    def _role(self, name: str) -> Role:
        role = self.roles.get(name)
        if role is None:
            raise PlayerError(
                f"no role {name!r} in this truce; expected one of: {', '.join(self.roles)}"
            )
        return role

    # ------------------------------------------------------------------ playing
    def choices(self, role: str) -> tuple[str, ...]:
        """The decisions ``role`` can make."""
        return self._role(role).choices

    def set_day(self, decisions: Mapping[str, str | None]) -> None:
        """Set the played roles' decisions for the next day (missing or None: the model's rule).

        Raises:
            PlayerError: for a role nobody plays or a decision that role cannot make.
        """
        for role, choice in decisions.items():
            if role not in self.played:
                raise PlayerError(
                    f"nobody plays {role!r}; the played roles are: {', '.join(self.played)}"
                )
            allowed = self._role(role).choices
            if choice is not None and choice not in allowed:
                raise PlayerError(
                    f"{role} cannot {choice!r}; expected one of: {', '.join(allowed)}"
                )
        self.today = {role: decisions.get(role) for role in self.played}

    def play_day(self, decisions: Mapping[str, str | None]) -> bool:
        """Play one day with these decisions; return whether the truce goes on.

        Raises:
            PlayerError: as :meth:`set_day`, or when the truce is already over.
        """
        if not self.model.running:
            raise PlayerError(f"the truce is over (day {self.model.day}): no more days to play")
        self.set_day(decisions)
        day = self.model.day + 1
        for role in self.played:
            choice = self.today[role]
            by = BY_MODEL if choice is None else BY_PLAYER
            self.log.append({"day": day, "role": role, "choice": choice, "by": by})
        self.model.step()
        self.today = {}
        return bool(self.model.running)

    def run(self, ask: Callable[[str, int, tuple[str, ...]], str | None]) -> CeasefireModel:
        """Play to the end, asking ``ask(role, day, choices)`` for every played role each day.

        ``ask`` returns a decision, or None when its player did not answer in time.
        """
        while self.model.running:
            day = self.model.day + 1
            self.play_day({r: ask(r, day, self.choices(r)) for r in self.played})
        return self.model

    def decision(self, role: str) -> str | None:
        """What ``role`` decided today: None when nobody plays it or time ran out."""
        return self.today.get(role)

    # ------------------------------------------------------------------ the agents' hooks
    def overrides(self, role: str) -> bool:
        """Whether a player decided for ``role`` today (the model's rule then stands aside)."""
        return self.today.get(role) is not None

    def decide(self, principal: Principal) -> None:
        """A played principal's deliberate acts today (after its E2–E4 rule has run).

        hold fire, strike the exempted group: no deliberate act. Retaliate: no deliberate
        act where it holds a grievance to answer (its answers fire in the retaliate phase);
        holding none, it strikes first in every theatre it is in (a deliberate violation).
        Indiscipline is left to chance.
        """
        choice = self.today.get(principal.name)
        if choice is None:
            return
        m, s = self.model, principal.deliberate.slice
        fire = np.zeros_like(m.acts.fired[s])
        if choice == "retaliate" and not (m.grudge[principal.edges] > 0).any():
            fire[:] = principal.strength > 0
        m.acts.fired[s] = fire

    def retaliate(self, principal: Principal) -> None:
        """A played principal's answers today (after its E9 rule has run).

        Retaliate: an answer along every edge where it holds an unanswered grievance
        (E9b, grudge > 0), if it has forces; any other decision: no answer.
        """
        choice = self.today.get(principal.name)
        if choice is None:
            return
        m, s = self.model, principal.answers.slice
        if choice == "retaliate":
            m.acts.fired[s] = (m.grudge[principal.edges] > 0) & (principal.strength > 0)
        else:
            m.acts.fired[s] = False

    def ground(self, government: Government) -> None:
        """A played government's ground offensives on the exempted groups (E22).

        Strike the exempted group: each entangled faction is hit with the chance of one
        day of operations at the government's ground tempo, at least one (E22 with
        tempo max(ground_tempo, 1)), read from the same uniforms; otherwise none.
        """
        choice = self.today.get(government.name)
        if choice is None:
            return
        m, s = self.model, government.ground.slice
        if choice == "strike_exempted":
            u = government.u["ground"]
            m.acts.fired[s] = (u < self._ground_p) & (government.strength > 0)
        else:
            m.acts.fired[s] = False

    def strike(self, sponsor: Sponsor) -> None:
        """A played sponsor's strikes under the exemptions (E6) and sanctions.

        Strike the exempted group: E6 at the sponsor's strike tempo, at least one strike
        a day. Hold fire, sanction a client: no loophole strike. Sanction a client: each
        client loses ``sanction_strength · leverage · commitment`` (this sponsor's) of its
        strength today. The off-script strikes of dissent stay random.
        """
        choice = self.today.get(sponsor.name)
        if choice is None:
            return
        m, s = self.model, sponsor.loophole.slice
        if choice == "strike_exempted":
            p = self._loophole_p[sponsor.name]
            m.acts.fired[s] = (sponsor.u["loophole"] < p) & sponsor.can_loop
        else:
            m.acts.fired[s] = False
        if choice == "sanction_client":
            cut = m.constants.sanction_strength * sponsor.leverage * sponsor.commitment
            for client in sponsor.clients:
                m.strength[client] = np.where(
                    m.alive, np.clip(m.strength[client] - cut, 0.0, 1.0), m.strength[client]
                )

    def observe(self, detected: np.ndarray, covered: np.ndarray) -> np.ndarray:
        """A played mission's detections today.

        Report violations: every violation in the ground it covers (``covered``: fired,
        mission active, u < coverage) is detected, attribution still by its chance.
        Stay quiet: nothing is detected (no sanction, no correction). Time ran out or
        nobody plays the monitors: ``detected`` (the model's rule).
        """
        choice = self.today.get(MONITORS)
        if choice == "report_violation":
            return covered
        if choice == "stay_quiet":
            return np.zeros_like(detected)
        return detected
