"""The actors of a truce, as Mesa agents that hold one value per replicate truce.

Each agent's state is a NumPy array of length R (the replicates stepped in
lockstep by :class:`sim.model.model.CeasefireModel`); its decision rules are methods
that write the day's acts for all replicates at once into the model's
:class:`Acts` table. The equations live in :mod:`sim.model.decisions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model import decisions as dec
from sim.scenario.schema import ORIGINS

if TYPE_CHECKING:
    from sim.model.model import CeasefireModel
    from sim.scenario.schema import ExcludedGroup as ExcludedConfig
    from sim.scenario.schema import Monitors
    from sim.scenario.schema import Party as PartyConfig
    from sim.scenario.schema import Sponsor as SponsorConfig

DELIBERATE, LOOPHOLE, ACCIDENT, SPOILER, INDISCIPLINE = range(len(ORIGINS))


@dataclass
class Acts:
    """The day's possible violations: one row per channel, one column per replicate.

    Rows are assigned once (``slots``), so every array keeps its shape from day to
    day and every random stream draws the same amount whatever the levers.
    """

    n: int
    r: int
    fired: np.ndarray = field(init=False)
    actor: np.ndarray = field(init=False)
    target: np.ndarray = field(init=False)
    blamed: np.ndarray = field(init=False)
    culprit: np.ndarray = field(init=False)
    origin: np.ndarray = field(init=False)
    wrong: np.ndarray = field(init=False)
    admitted: np.ndarray = field(init=False)
    retaliation: np.ndarray = field(init=False)
    kind: list[str] = field(init=False)

    def __post_init__(self) -> None:
        shape = (self.n, self.r)
        self.fired = np.zeros(shape, bool)
        self.actor = np.zeros(shape, np.int64)
        self.target = np.zeros(shape, np.int64)
        self.blamed = np.full(shape, -1, np.int64)
        self.culprit = np.full(shape, -1, np.int64)
        self.origin = np.zeros(shape, np.int64)
        self.wrong = np.zeros(shape, bool)
        self.admitted = np.zeros(shape, bool)
        self.retaliation = np.zeros(self.n, bool)
        self.kind = [""] * self.n
        self._next = 0

    @property
    def reserved(self) -> int:
        """Rows reserved so far by :meth:`slots`."""
        return self._next

    def slots(self, count: int, kind: str, retaliation: bool = False) -> slice:
        """Reserve ``count`` rows for one channel."""
        s = slice(self._next, self._next + count)
        self._next += count
        self.retaliation[s] = retaliation
        self.kind[s] = [kind] * count
        return s

    def reset(self) -> None:
        """Clear the per-day fields before a new day."""
        self.fired[:] = False
        self.blamed[:] = -1
        self.culprit[:] = -1
        self.wrong[:] = False
        self.admitted[:] = False


class Principal(mesa.Agent):
    """A party to the truce: the government or an opposition faction."""

    def __init__(self, model: CeasefireModel, config: PartyConfig, index: int):
        super().__init__(model)
        self.config, self.index, self.name = config, index, config.name
        # Views into the model's state: the model updates both arrays in place only.
        self.strength = model.strength[index]
        self.fatigue = model.fatigue[index]
        self.sponsors: list[Sponsor] = []
        self.slot_deliberate = model.acts.slots(1, "deliberate")
        self.slot_indiscipline = model.acts.slots(1, "indiscipline")
        #: Indices of the trust edges this party holds (its trust in each adversary): rows
        #: of the model's trust table.
        self.edges = model.edges_of[index]
        # Whom a retaliation along each of those edges hits, and the edge the victim blames:
        # fixed for the truce, shape (adversaries, 1).
        adversaries = model.edge_blamed[self.edges]
        self.retaliation_target = adversaries[:, None]
        self.retaliation_blamed = model.edge_index[adversaries, index][:, None]

    def restraint(self) -> float:
        """Combined restraint from its sponsors (E1)."""
        lc = np.array([s.config.leverage * s.config.commitment for s in self.sponsors])
        return float(dec.restraint(lc))

    def adversary_strength(self) -> np.ndarray:
        """Mean strength of its adversaries, per replicate."""
        m = self.model
        return m.strength[1:].mean(0) if self.index == 0 else m.strength[0]

    def decide(self, acts: Acts, u: np.ndarray) -> None:
        """Deliberate defection and indiscipline for today (E2–E4).

        Args:
            acts: the day's acts table.
            u: uniforms from the decisions stream, shape (3, R): defect, unauthorised, target.
        """
        m, c = self.model, self.model.constants
        p_detect = m.p_detect_today  # the deterrent: it cannot change before monitors observe
        adv_now = self.adversary_strength()
        regroup = np.maximum(adv_now - m.start_adversary_strength[self.index], 0.0)
        p = dec.defection_probability(
            self.strength - adv_now,
            regroup,
            self.config.resolve,
            self.fatigue,
            m.restraint_level[self.index],
            p_detect,
            base_propensity=c.base_propensity,
            gain_sensitivity=c.gain_sensitivity,
            regroup_weight=c.regroup_weight,
            restraint_weight=c.restraint_weight,
            reputation_cost=c.reputation_cost,
            sanction_weight=c.sanction_weight,
            distrust=1.0 - m.trust[self.edges].mean(0),
            fear_weight=c.fear_weight,
        )
        # Commanders rein in their units harder where monitors watch (E4b).
        p_unauthorised = c.indiscipline_rate * (1 - self.config.cohesion) * (1 - p_detect)
        target = m.pick_adversary(self.index, u[2])
        for slot, fired, origin in (
            (self.slot_deliberate, u[0] < p, DELIBERATE),
            (self.slot_indiscipline, u[1] < p_unauthorised, INDISCIPLINE),
        ):
            acts.fired[slot] = fired
            acts.actor[slot] = self.index
            acts.target[slot] = target
            acts.blamed[slot] = m.edge_index[target, self.index]
            acts.culprit[slot] = self.index
            acts.origin[slot] = origin

    def retaliate(self, acts: Acts, slot: slice, u: np.ndarray) -> None:
        """Answer unanswered grievances when trust falls below the threshold (E9).

        Only a perceived violation not yet answered (a grudge, E9b) can be
        answered; the party's sponsors hold it back as they hold back first
        strikes (E1). A retaliation inherits the origin of the grievance it answers; it is
        "wrong" when that grievance was misattributed.
        """
        m, c = self.model, self.model.constants
        edges = self.edges
        p = dec.retaliation_probability(
            m.trust[edges],
            self.fatigue,
            c.retaliation_threshold,
            c.retaliation_rate,
            grudge=m.grudge[edges],
            restraint_level=c.retaliation_restraint * m.restraint_level[self.index],
            hostility_threshold=c.hostility_threshold,
        )
        acts.fired[slot] = u < p
        acts.actor[slot] = self.index
        acts.target[slot] = self.retaliation_target
        acts.blamed[slot] = self.retaliation_blamed
        acts.culprit[slot] = self.index
        acts.origin[slot] = m.grievance[edges]
        acts.wrong[slot] = m.grievance_wrong[edges]

    def recover(self, suffered: np.ndarray, calm: np.ndarray, alive: np.ndarray) -> None:
        """Fatigue from fighting and recovery in calm (E11); regrouping in calm (E12)."""
        c = self.model.constants
        new_fatigue = dec.update_fatigue(
            self.fatigue, suffered, calm, c.fatigue_gain, c.fatigue_recovery
        )
        new_strength = dec.regroup(self.strength, self.adversary_strength(), calm, c.regroup_rate)
        self.fatigue[:] = np.where(alive, new_fatigue, self.fatigue)
        self.strength[:] = np.where(alive, new_strength, self.strength)


class Government(Principal):
    """The government side (principal 0)."""


class Faction(Principal):
    """An opposition faction that signed the truce."""


class ExcludedGroup(mesa.Agent):
    """A group outside the truce; attacks more the longer the truce holds (E8)."""

    def __init__(self, model: CeasefireModel, config: ExcludedConfig, party: int):
        super().__init__(model)
        self.config, self.name, self.party = config, config.name, party
        self.slot = model.acts.slots(1, "spoiler")

    def attack(self, acts: Acts, u: np.ndarray) -> None:
        """Spoiler attacks on a random party, blamed on its adversary unless seen through.

        Args:
            acts: the day's acts table.
            u: uniforms from the spoilers stream, shape (4, R): attack, target, blame, whom.
        """
        m, c = self.model, self.model.constants
        p = dec.spoiler_probability(
            self.config.strength,
            self.config.spoiler_intent,
            m.calm,
            c.spoiler_rate,
            c.spoiler_calm_boost,
        )
        target = np.minimum((u[1] * m.n_principals).astype(np.int64), m.n_principals - 1)
        acts.fired[self.slot] = u[0] < p
        acts.actor[self.slot] = self.party
        acts.target[self.slot] = target
        acts.blamed[self.slot] = m.misblame(target, u[2], u[3])
        acts.origin[self.slot] = SPOILER


class Sponsor(mesa.Agent):
    """An outside power: strikes exempted groups, restrains its clients, has dissent."""

    def __init__(self, model: CeasefireModel, config: SponsorConfig, party: int):
        super().__init__(model)
        self.config, self.name, self.party = config, config.name, party
        self.clients = [model.principal_index[c] for c in config.clients]
        self.backs_government = 0 in self.clients
        self.client_index = np.asarray(self.clients)
        self.slot_loophole = model.acts.slots(model.n_factions, "loophole")
        self.slot_offscript = model.acts.slots(1, "offscript")
        # Loopholes (E6) are fixed for the truce: only the government camp's air forces
        # strike exempted groups, and each faction is hit with a fixed daily chance.
        terms, c = model.scenario.truce, model.constants
        self.can_loop = config.air_force and self.backs_government and bool(terms.exempted)
        entanglement = np.array([fc.entanglement for fc in model.scenario.factions])
        p = dec.loophole_hit_probability(
            config.strike_tempo,
            terms.loophole_width,
            c.loophole_hit,
            entanglement,
        )
        self.loophole_p = p[:, None]
        factions = np.arange(1, model.n_principals)
        self.loophole_target = factions[:, None]
        self.loophole_blamed = model.edge_index[factions, 0][:, None]

    def strike(self, acts: Acts, u_loop: np.ndarray, u_off: np.ndarray) -> None:
        """Strikes under the exemptions (E6) and off-script strikes from dissent.

        Args:
            acts: the day's acts table.
            u_loop: uniforms from the loopholes stream, shape (factions, R).
            u_off: uniforms from the dissent stream, shape (2, R): strike, target.
        """
        m, c, cfg = self.model, self.model.constants, self.config
        # Loopholes: the government camp's strikes on exempted groups land on entangled factions.
        s = self.slot_loophole
        acts.fired[s] = (u_loop < self.loophole_p) & self.can_loop
        acts.actor[s] = self.party
        acts.target[s] = self.loophole_target
        acts.blamed[s] = self.loophole_blamed
        acts.origin[s] = LOOPHOLE  # no truce party broke the terms: nobody is the culprit
        # Dissent: an off-script strike on the other side, blamed on this sponsor's client.
        s = self.slot_offscript
        if self.backs_government:
            target = m.pick_adversary(0, u_off[1])
            client = np.zeros(m.r, np.int64)
        else:
            target = np.zeros(m.r, np.int64)
            k = np.minimum((u_off[1] * len(self.clients)).astype(np.int64), len(self.clients) - 1)
            client = self.client_index[k]
        acts.fired[s] = u_off[0] < c.offscript_rate * cfg.dissent
        acts.actor[s] = self.party
        acts.target[s] = target
        acts.blamed[s] = m.edge_index[target, client]
        acts.origin[s] = INDISCIPLINE


class MonitorMission(mesa.Agent):
    """The monitoring mission: detects, attributes, and withdraws when attacked too often."""

    def __init__(self, model: CeasefireModel, config: Monitors | None):
        super().__init__(model)
        self.config = config
        self.present = config is not None
        self.attacks = np.zeros(model.r, np.int64)
        self.withdrawn = np.zeros(model.r, bool)
        self.withdrawal_day = np.full(model.r, -1, np.int64)
        self.delay = config.verification_delay if config else 0

    def active(self) -> np.ndarray:
        """Replicates where the mission is deployed and has not withdrawn."""
        return ~self.withdrawn if self.present else np.zeros(self.model.r, bool)

    def coverage(self) -> np.ndarray:
        """Coverage in force per replicate (0 once withdrawn)."""
        return self.active() * (self.config.coverage if self.present else 0.0)

    def p_detect(self) -> np.ndarray:
        """Chance that a violation is detected, per replicate (the deterrent)."""
        return self.coverage() * (self.config.detection if self.present else 0.0)

    def observe(self, acts: Acts, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Detect and attribute the day's violations; count attacks on the mission.

        Args:
            acts: the day's acts table (fired already masked to live replicates).
            u: uniforms from the monitoring stream, shape (3, N, R): detect, attribute, exposure.

        Returns:
            detected and correctly attributed masks, shape (N, R).
        """
        m = self.model
        if not self.present:
            none = np.zeros_like(acts.fired)
            return none, none
        cfg = self.config
        active = self.active()
        detected = acts.fired & active & (u[0] < cfg.coverage * cfg.detection)
        correct = detected & (u[1] < cfg.attribution)
        hostile = acts.origin != ACCIDENT
        hits = acts.fired & active & hostile & (u[2] < m.constants.monitor_exposure * cfg.coverage)
        self.attacks += hits.sum(0)
        leaving = active & (self.attacks > cfg.risk_tolerance)
        self.withdrawn |= leaving
        self.withdrawal_day[leaving] = m.day
        m.log_mission(hits, leaving)
        return detected, correct
