"""The actors of a truce, as Mesa agents that hold one value per replicate truce.

Each agent's state is a NumPy array of length R (the replicates stepped in
lockstep by :class:`sim.model.model.CeasefireModel`); its decision rules are
methods that write the day's acts for all replicates at once into the model's
:class:`~sim.model.acts.Acts` table. The equations live in
:mod:`sim.model.decisions`.

Every agent type declares what it adds to the model, so that the model needs
no list of agent types of its own:

- ``section``: the scenario section its instances are built from (one agent
  per item of a list section, one for a single section, none for ``null``);
- ``phases``: the phases of the day it acts in (:data:`sim.model.model.PHASES`),
  each a method of the same name that the model calls through Mesa's
  ``agents_by_type[...].do(phase)``;
- :meth:`Actor.channels`: the rows of the acts table it writes;
- :meth:`Actor.draws`: the random numbers it reads each day, per phase, from
  which named stream (:data:`sim.model.streams.STREAMS`) and in what shape;
- :meth:`Actor.outputs`: the columns it adds to the per-truce results.

A new agent type is a subclass with these declarations and its decision rules,
a section in :mod:`sim.scenario.schema` and its entry in ``docs/MODEL.md``.

Per-replicate state is a NumPy array attribute (of the agent, the model or the
acts table) with the replicate axis last, shape ``(..., model.r)``. The model
drops the columns of ended truces from every such array as they end
(:meth:`sim.model.model.CeasefireModel._compact`) and puts them back for the
results, so an agent needs no code for it, but:

- ``model.r`` is the current number of columns, not the number of replicates
  (``model.replicates``): build arrays with ``model.r`` and read shapes from them;
- read the model's arrays as ``self.model.<name>`` when needed, never keep a
  view or copy of them in another attribute (they are re-bound), and keep no
  per-replicate arrays inside lists or dicts (they would not be compacted);
- a truce that has ended must not change: its outputs are frozen when it ends;
- fixed tables (per party, theatre, edge, row of the acts table) must not have a
  last axis that could be taken for the replicates: compaction only runs on chunks
  of at least ``CeasefireModel.COMPACT_MIN`` replicates, wider than any such table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import mesa
import numpy as np

from sim.model import decisions as dec
from sim.model.acts import Acts, Channel
from sim.scenario.schema import ORIGINS

if TYPE_CHECKING:
    from sim.model.model import CeasefireModel
    from sim.scenario.schema import Deconfliction, Monitors, Scenario
    from sim.scenario.schema import ExcludedGroup as ExcludedConfig
    from sim.scenario.schema import Mediator as MediatorConfig
    from sim.scenario.schema import Party as PartyConfig
    from sim.scenario.schema import Sponsor as SponsorConfig

DELIBERATE, LOOPHOLE, ACCIDENT, SPOILER, INDISCIPLINE = range(len(ORIGINS))

#: Every agent type with a ``section``, in the order the model builds them.
ACTOR_TYPES: list[type[Actor]] = []


class Draw(NamedTuple):
    """Uniforms an agent reads each day: in which phase, from which stream, in what shape.

    ``read=False`` declares numbers the agent will not read (the absent mission's): they
    keep their place in the stream, but a stream whose numbers nobody reads is not drawn
    at all (it serves nobody else, so no other number changes).
    """

    phase: str
    stream: str
    shape: tuple[int, ...]
    read: bool = True


class Actor(mesa.Agent):
    """An actor of the truce: what every agent type declares (see the module docstring).

    Per-replicate state: NumPy array attributes with the replicate axis last, length
    ``model.r`` (dropped for ended truces, see the module docstring).
    """

    section: ClassVar[str] = ""
    phases: ClassVar[tuple[str, ...]] = ()
    model: CeasefireModel

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "section" in cls.__dict__ and cls.section:
            ACTOR_TYPES.append(cls)

    def __init__(self, model: CeasefireModel, config: Any = None, k: int = 0):
        """One agent; the model builds every agent type as ``cls(model, config, k)``.

        Args:
            model: the truce.
            config: the agent's item of :meth:`configs` (its part of the scenario);
                each agent type keeps what it reads of it.
            k: its index among the agents of its type.
        """
        super().__init__(model)
        #: Today's uniforms by the names of :meth:`draws`, set by the model each morning.
        self.u: dict[str, np.ndarray] = {}

    @classmethod
    def configs(cls, scenario: Scenario) -> list[Any]:
        """The configurations of this type's agents in ``scenario`` (one agent each)."""
        value = getattr(scenario, cls.section)
        if value is None:
            return []
        return list(value) if isinstance(value, tuple) else [value]

    def channels(self, acts: Acts) -> None:
        """Reserve the rows of the acts table this agent writes (none by default)."""

    def draws(self) -> dict[str, Draw]:
        """Its daily draws by name (shapes without the replicate axis; none by default).

        Within a stream, the model hands out numbers phase by phase in the order
        of :data:`sim.model.model.PHASES`, then agent by agent in build order.
        """
        return {}

    def outputs(self) -> dict[str, Any]:
        """Columns this agent adds to the per-truce results (none by default)."""
        return {}


class Principal(Actor):
    """A party to the truce: the government or an opposition faction.

    It acts in every theatre it is present in (one deliberate and one
    unauthorised act a day in each), and answers grievances where they arose.
    """

    phases = ("decide", "retaliate", "recover")

    def __init__(self, model: CeasefireModel, config: PartyConfig, index: int):
        super().__init__(model)
        self.config, self.index, self.name = config, index, config.name
        self.sponsors: list[Sponsor] = []
        #: Indices of the trust edges this party holds (its trust in each adversary): rows
        #: of the model's trust table.
        self.edges = model.edges_of[index]
        # Whom a retaliation along each of those edges hits, and the edge the victim blames:
        # fixed for the truce, shape (adversaries, 1).
        adversaries = model.edge_blamed[self.edges]
        self.retaliation_target = adversaries[:, None]
        self.retaliation_blamed = model.edge_index[adversaries, index][:, None]
        #: The theatres it is present in, and its adversaries in each (a 0/1 matrix over
        #: the principals, shape (theatres, principals)).
        self.theatres = model.theatres_of[index]
        self.adversaries = [model.adversaries_in(index, int(t)) for t in self.theatres]
        self.adversary_matrix = np.zeros((len(self.theatres), model.n_principals))
        for j, adv in enumerate(self.adversaries):
            self.adversary_matrix[j, adv] = 1.0

    @property
    def strength(self) -> np.ndarray:
        """Its strength per replicate: a view of its row of the model's ``strength``."""
        return self.model.strength[self.index]

    @property
    def fatigue(self) -> np.ndarray:
        """Its fatigue per replicate: a view of its row of the model's ``fatigue``."""
        return self.model.fatigue[self.index]

    def channels(self, acts: Acts) -> None:
        """A deliberate and an unauthorised act per theatre a day; an answer per adversary."""
        self.deliberate: Channel = acts.reserve(
            "deliberate", len(self.theatres), theatres=self.theatres
        )
        self.indiscipline: Channel = acts.reserve(
            "indiscipline", len(self.theatres), theatres=self.theatres
        )
        self.answers: Channel = acts.reserve("retaliation", len(self.edges), answer=True)

    def draws(self) -> dict[str, Draw]:
        """Decisions: defect, unauthorised act, target, per theatre; one answer per adversary."""
        return {
            "decide": Draw("decide", "decisions", (3, len(self.theatres))),
            "answer": Draw("retaliate", "decisions", (len(self.edges),)),
        }

    def restraint(self) -> float:
        """Combined restraint from its sponsors (E1)."""
        lc = np.array([s.config.leverage * s.config.commitment for s in self.sponsors])
        return float(dec.restraint(lc))

    def adversary_strength(self) -> np.ndarray:
        """Strength of its adversaries in each of its theatres, shape (theatres, R).

        The strength-weighted mean (E2c): a party with no forces counts for nothing.
        """
        s = self.model.strength
        return dec.weighted_strength(self.adversary_matrix @ s, self.adversary_matrix @ (s * s))

    def decide(self) -> None:
        """Deliberate defection and indiscipline for today, in each theatre (E2–E4).

        A party at war (it rejected the truce, or accepted it only conditionally and
        then suffered a violation, E2b) attacks every day at the war tempo. A party
        with no forces (strength 0) cannot act (E2c). Reads uniforms from the decisions
        stream, shape (3, theatres, R): defect, unauthorised act, target.
        """
        m, c, u, acts = self.model, self.model.constants, self.u["decide"], self.model.acts
        # The deterrent: it cannot change before monitors observe.
        p_detect = m.p_detect_today[self.theatres]
        adv_now = self.adversary_strength()
        regroup = np.maximum(adv_now - self.start_adversary_strength, 0.0)
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
            distrust=1.0 - m.weighted_trust(self.index),
            fear_weight=c.fear_weight,
        )
        forces = self.strength > 0
        at_war = m.at_war[self.index]
        # Commanders rein in their units harder where monitors watch (E4b).
        p_unauthorised = c.indiscipline_rate * (1 - self.config.cohesion) * (1 - p_detect)
        picks = [m.pick(adv, u[2, j]) for j, adv in enumerate(self.adversaries)]
        target = picks[0][None] if len(picks) == 1 else np.stack(picks)
        blamed = m.edge_index[target, self.index]
        for channel, fired, origin in (
            (self.deliberate, ((u[0] < p) | at_war) & forces, DELIBERATE),
            (self.indiscipline, (u[1] < p_unauthorised) & forces & ~at_war, INDISCIPLINE),
        ):
            s = channel.slice
            acts.fired[s] = fired
            acts.actor[s] = self.index
            acts.target[s] = target
            acts.blamed[s] = blamed
            acts.culprit[s] = self.index
            acts.origin[s] = origin
        acts.weight[self.deliberate.slice] = np.where(at_war, c.war_tempo, 1)

    def retaliate(self) -> None:
        """Answer unanswered grievances when trust falls below the threshold (E9).

        Only a perceived violation not yet answered (a grudge, E9b) can be
        answered, in the theatre where it happened; the party's sponsors hold it
        back as they hold back first strikes (E1). A retaliation inherits the
        origin of the grievance it answers; it is "wrong" when that grievance was
        misattributed. Reads one uniform per adversary from the decisions stream.
        """
        m, c, acts = self.model, self.model.constants, self.model.acts
        edges, s = self.edges, self.answers.slice
        p = dec.retaliation_probability(
            m.trust[edges],
            self.fatigue,
            c.retaliation_threshold,
            c.retaliation_rate,
            grudge=m.grudge[edges],
            restraint_level=c.retaliation_restraint * m.restraint_level[self.index],
            hostility_threshold=c.hostility_threshold,
        )
        acts.fired[s] = (self.u["answer"] < p) & (self.strength > 0)
        acts.actor[s] = self.index
        acts.target[s] = self.retaliation_target
        acts.blamed[s] = self.retaliation_blamed
        acts.culprit[s] = self.index
        acts.origin[s] = m.grievance[edges]
        acts.wrong[s] = m.grievance_wrong[edges]
        acts.theatre[s] = m.grievance_theatre[edges]

    def recover(self) -> None:
        """Fatigue from fighting and recovery in calm (E11); regrouping in calm (E12).

        A day is calm for a party when every theatre it is in is calm and still holding.
        A party with no forces has nothing to regroup.
        """
        m, c = self.model, self.model.constants
        calm, alive = np.asarray(m.calm_today[self.theatres].all(0)), m.alive
        new_fatigue = dec.update_fatigue(
            self.fatigue, m.suffered[self.index], calm, c.fatigue_gain, c.fatigue_recovery
        )
        adversary = m.adversary_mean(m.strength, self.index)
        regrouping = calm & (self.strength > 0)
        new_strength = dec.regroup(self.strength, adversary, regrouping, c.regroup_rate)
        self.fatigue[:] = np.where(alive, new_fatigue, self.fatigue)
        self.strength[:] = np.where(alive, new_strength, self.strength)


class Government(Principal):
    """The government side (principal 0)."""

    section = "government"

    def __init__(self, model: CeasefireModel, config: PartyConfig, k: int = 0):
        super().__init__(model, config, 0)


class Faction(Principal):
    """An opposition faction that signed the truce (principals 1 … F)."""

    section = "factions"

    def __init__(self, model: CeasefireModel, config: PartyConfig, k: int):
        super().__init__(model, config, 1 + k)


class ExcludedGroup(Actor):
    """A group outside the truce; attacks more the longer the truce holds (E8).

    It attacks in every theatre it is present in.
    """

    section = "excluded"
    phases = ("attack",)

    def __init__(self, model: CeasefireModel, config: ExcludedConfig, k: int):
        super().__init__(model)
        self.config, self.name = config, config.name
        self.party = model.n_principals + k
        self.theatres = np.flatnonzero(model.excluded_present[:, k])
        self.reachable = [np.flatnonzero(model.present[t]) for t in self.theatres]

    def channels(self, acts: Acts) -> None:
        """One attack a day in each theatre it is in."""
        self.spoiler: Channel = acts.reserve("spoiler", len(self.theatres), theatres=self.theatres)

    def draws(self) -> dict[str, Draw]:
        """Spoilers: attack, target, blame, whom, per theatre."""
        return {"attack": Draw("attack", "spoilers", (4, len(self.theatres)))}

    def attack(self) -> None:
        """Spoiler attacks on a party, blamed on its adversary unless seen through."""
        m, c, u, acts = self.model, self.model.constants, self.u["attack"], self.model.acts
        p = dec.spoiler_probability(
            self.config.strength,
            self.config.spoiler_intent,
            m.calm[self.theatres],
            c.spoiler_rate,
            c.spoiler_calm_boost,
        )
        target = np.stack([m.pick(who, u[1, j]) for j, who in enumerate(self.reachable)])
        s = self.spoiler.slice
        acts.fired[s] = u[0] < p
        acts.actor[s] = self.party
        acts.target[s] = target
        acts.blamed[s] = m.misblame(target, self.theatres[:, None], u[2], u[3])
        acts.origin[s] = SPOILER


class Sponsor(Actor):
    """An outside power: strikes exempted groups, restrains its clients, has dissent."""

    section = "sponsors"
    phases = ("strike",)

    def __init__(self, model: CeasefireModel, config: SponsorConfig, k: int):
        super().__init__(model)
        self.config, self.name = config, config.name
        self.party = model.n_principals + len(model.scenario.excluded) + k
        self.clients = [model.principal_index[c] for c in config.clients]
        for client in self.clients:
            model.principals[client].sponsors.append(self)
        self.backs_government = 0 in self.clients
        self.client_index = np.asarray(self.clients)
        # Loopholes (E6) are fixed for the truce: only the government camp's air forces
        # strike exempted groups, in the theatres where an exempted group is present; each
        # faction there is hit with a fixed daily chance, its entanglement shared out
        # over the theatres it is in.
        c = model.constants
        rows = [
            (k, t)
            for k in range(1, model.n_principals)
            for t in model.theatres_of[k]
            if model.exempt_present[t]
        ]
        factions = np.array([k for k, _ in rows], np.int64)
        self.loophole_theatres = np.array([t for _, t in rows], np.int64)
        entanglement = np.array(
            [
                model.scenario.factions[k - 1].entanglement / len(model.theatres_of[k])
                for k, _ in rows
            ]
        )
        self.can_loop = config.air_force and self.backs_government and bool(rows)
        p = dec.loophole_hit_probability(
            config.strike_tempo, model.loophole_width, c.loophole_hit, entanglement
        )
        self.loophole_p = p[:, None]
        self.loophole_target = factions[:, None]
        self.loophole_blamed = model.edge_index[factions, 0][:, None]

    def channels(self, acts: Acts) -> None:
        """A loophole strike per faction and theatre, and one off-script strike a day."""
        self.loophole: Channel = acts.reserve(
            "loophole", len(self.loophole_theatres), theatres=self.loophole_theatres
        )
        self.offscript: Channel = acts.reserve("offscript", 1)

    def draws(self) -> dict[str, Draw]:
        """Loopholes: one per faction and theatre; dissent: strike, target, theatre."""
        return {
            "loophole": Draw("strike", "loopholes", (len(self.loophole_theatres),)),
            "dissent": Draw("strike", "dissent", (3,)),
        }

    def strike(self) -> None:
        """Strikes under the exemptions (E6) and off-script strikes from dissent."""
        m, c, cfg, acts = self.model, self.model.constants, self.config, self.model.acts
        u_loop, u_off = self.u["loophole"], self.u["dissent"]
        # Loopholes: the government camp's strikes on exempted groups land on entangled factions.
        s = self.loophole.slice
        acts.fired[s] = (u_loop < self.loophole_p) & self.can_loop
        acts.actor[s] = self.party
        acts.target[s] = self.loophole_target
        acts.blamed[s] = self.loophole_blamed
        acts.origin[s] = LOOPHOLE  # no truce party broke the terms: nobody is the culprit
        # Dissent: an off-script strike on the other side in a theatre, blamed on its client.
        s = self.offscript.slice
        theatre = m.pick_theatre(u_off[2])
        if self.backs_government:
            target = m.pick_in(theatre, m.faction_index, u_off[1])
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
        acts.theatre[s] = theatre


class MonitorMission(Actor):
    """The monitoring mission: detects, attributes, and withdraws when attacked too often.

    Always built (the ``monitors`` section may be ``null``: then it is absent
    and detects nothing), so that a comparison of monitored and unmonitored
    truces draws the same numbers in both arms.
    """

    section = "monitors"
    phases = ("deter", "observe")

    @classmethod
    def configs(cls, scenario: Scenario) -> list[Any]:
        """One mission, present or not."""
        return [scenario.monitors]

    def __init__(self, model: CeasefireModel, config: Monitors | None, k: int = 0):
        super().__init__(model)
        self.config = config
        self.present = config is not None
        self.attacks = np.zeros(model.r, np.int64)
        self.withdrawn = np.zeros(model.r, bool)
        self.withdrawal_day = np.full(model.r, -1, np.int64)
        self.delay = config.verification_delay if config else 0
        model.mission = self

    def draws(self) -> dict[str, Draw]:
        """Monitoring: detect, attribute and exposure for every row of the acts table."""
        return {"observe": Draw("observe", "monitoring", (3, self.model.acts.n), self.present)}

    def active(self) -> np.ndarray:
        """Replicates where the mission is deployed and has not withdrawn."""
        return ~self.withdrawn if self.present else np.zeros(self.model.r, bool)

    def coverage(self) -> np.ndarray:
        """Coverage in force per theatre and replicate (0 once withdrawn), shape (T, R)."""
        return self.model.theatre_coverage[:, None] * self.active()

    def p_detect(self) -> np.ndarray:
        """Chance that a violation is detected, per theatre and replicate (the deterrent)."""
        return self.coverage() * (self.config.detection if self.config else 0.0)

    def deter(self) -> None:
        """Publish today's chance of detection, which every party weighs (E2–E4)."""
        self.model.p_detect_today = self.p_detect()

    def observe(self) -> None:
        """Detect and attribute the day's violations; count attacks on the mission.

        Reads uniforms from the monitoring stream, shape (3, N, R): detect,
        attribute, exposure. Sets the model's ``detected_today`` and
        ``correct_today`` masks, shape (N, R).
        """
        m, acts = self.model, self.model.acts
        if self.config is None:
            m.detected_today = m.correct_today = np.zeros_like(acts.fired)
            return
        u = self.u["observe"]
        cfg = self.config
        active = self.active()
        coverage = m.theatre_coverage[acts.theatre]
        detected = acts.fired & active & (u[0] < coverage * cfg.detection)
        correct = detected & (u[1] < cfg.attribution)
        hostile = acts.origin != ACCIDENT
        hits = acts.fired & active & hostile & (u[2] < m.constants.monitor_exposure * coverage)
        self.attacks += hits.sum(0)
        leaving = active & (self.attacks > cfg.risk_tolerance)
        self.withdrawn |= leaving
        self.withdrawal_day[leaving] = m.day
        m.log_mission(hits, leaving)
        m.detected_today, m.correct_today = detected, correct

    def outputs(self) -> dict[str, Any]:
        """The day the mission withdrew (null where it stayed or was never there)."""
        return {"monitor_withdrawal_day": (self.withdrawal_day, self.withdrawal_day > 0)}


class ForeignForces(Actor):
    """The foreign air forces over the theatre: accidents among them (E7).

    One agent for the ``deconfliction`` section; it acts for every air force,
    the sponsors' own and any other foreign force flying there.
    """

    section = "deconfliction"
    phases = ("accident",)

    def __init__(self, model: CeasefireModel, config: Deconfliction, k: int = 0):
        super().__init__(model)
        self.config = config
        flying = [sp.party for sp in model.sponsors if sp.config.air_force]
        others = len(model.party_names) - 1  # "foreign_forces", the last party
        self.air_force_party = np.array(flying + [others] * (config.air_forces - len(flying)))
        self.p_accident = dec.accident_probability(
            config.air_forces, config.level, model.constants.accident_rate
        )

    def channels(self, acts: Acts) -> None:
        """One incident a day at most."""
        self.incident: Channel = acts.reserve("accident", 1)

    def draws(self) -> dict[str, Draw]:
        """Accidents: incident, target, which force, blame, whom, owned up."""
        return {"accident": Draw("accident", "accidents", (7,))}

    def accident(self) -> None:
        """Incidents among foreign air forces, blamed on an adversary unless owned up to."""
        m, u, acts, s = self.model, self.u["accident"], self.model.acts, self.incident.slice
        n_air = len(self.air_force_party)
        theatre = m.pick_theatre(u[6])
        target = m.pick_in(theatre, m.principal_all, u[1])
        acts.fired[s] = u[0] < self.p_accident
        if n_air:
            k = np.minimum((u[2] * n_air).astype(np.int64), n_air - 1)
            acts.actor[s] = self.air_force_party[k]
        acts.target[s] = target
        acts.theatre[s] = theatre
        acts.blamed[s] = m.misblame(target, theatre, u[3], u[4])
        acts.origin[s] = ACCIDENT
        # Coordinated forces share reports: the force that erred owns up (deconfliction).
        acts.admitted[s] = u[5] < self.config.level


class Mediator(Actor):
    """An envoy who works the parties day by day, and may give up (E17).

    On a day of work (chance ``effort``) the envoy settles a share of the
    grievances the parties hold unanswered and raises their trust. A day of
    work on which the truce still sees a day of high violence is a failure;
    after ``patience`` failures in a row the envoy gives up and leaves.
    """

    section = "mediator"
    phases = ("mediate",)

    def __init__(self, model: CeasefireModel, config: MediatorConfig, k: int = 0):
        super().__init__(model)
        self.config = config
        self.failures = np.zeros(model.r, np.int64)
        self.gone = np.zeros(model.r, bool)
        self.exit_day = np.full(model.r, -1, np.int64)

    def draws(self) -> dict[str, Draw]:
        """Mediation: whether the envoy works today."""
        return {"mediate": Draw("mediate", "mediation", (1,))}

    def mediate(self) -> None:
        """Settle grievances and raise trust on a day of work; count failures; give up."""
        m, cfg = self.model, self.config
        working = m.alive & ~self.gone & (self.u["mediate"][0] < cfg.effort)
        m.grudge, m.trust = dec.mediate(
            m.grudge, m.trust, working, cfg.settle_share, cfg.trust_gain
        )
        failed = working & (m.violence > 0)  # the truce's violence, over every theatre
        self.failures = np.where(working, np.where(failed, self.failures + 1, 0), self.failures)
        leaving = ~self.gone & (self.failures >= cfg.patience)
        self.gone |= leaving
        self.exit_day[leaving] = m.day

    def outputs(self) -> dict[str, Any]:
        """The day the envoy gave up (null where the envoy stayed)."""
        return {"mediator_exit_day": (self.exit_day, self.exit_day > 0)}
