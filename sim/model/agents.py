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
    from sim.scenario.schema import Government as GovernmentConfig
    from sim.scenario.schema import Mediator as MediatorConfig
    from sim.scenario.schema import Party as PartyConfig
    from sim.scenario.schema import Shift as ShiftConfig
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

    phases: ClassVar[tuple[str, ...]] = ("decide", "retaliate", "recover")

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
        """Decisions: defect, unauthorised act, target, per theatre; one answer per adversary.

        Reciprocity: one uniform per answer, whether its victim accepts it (contrition, E9c).
        """
        return {
            "decide": Draw("decide", "decisions", (3, len(self.theatres))),
            "answer": Draw("retaliate", "decisions", (len(self.edges),)),
            "contrite": Draw(
                "retaliate",
                "reciprocity",
                (len(self.edges),),
                self.model.constants.contrition > 0,  # read only when contrition is on
            ),
        }

    def restraint(self) -> np.ndarray:
        """Combined restraint from its sponsors (E1), per replicate (shifts may change it)."""
        lc = [s.leverage * s.commitment for s in self.sponsors]
        return dec.restraint(np.reshape(lc, (len(lc), self.model.r)))

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
        forces = self.strength > 0
        played = m.players is not None and m.players.overrides(self.name)  # a human decides
        if self.config.aims < 1.0 and not played:  # a strategic offensive when strong (E19)
            live = m.theatre_alive[self.theatres]
            launching = dec.offensive_now(self.strength - adv_now, self.config.aims, live)
            m.launch_offensive(self.index, launching & forces)
        p = dec.defection_probability(
            self.strength - adv_now,
            regroup,
            m.resolve[self.index],
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
            guarantee=m.guarantee_cost[self.theatres][:, None],  # guarantor troops (E20)
        )
        at_war = m.at_war[self.index]
        # Commanders rein in their units harder where monitors watch (E4b).
        p_unauthorised = c.indiscipline_rate * (1 - self.config.cohesion) * (1 - p_detect)
        # ... and units clash without orders only where they are in contact (buffer zone, E20).
        p_unauthorised = dec.through_buffer(
            p_unauthorised, m.theatre_buffer[self.theatres][:, None]
        )
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
        if m.players and played:  # a human decision replaces E2–E4 (MODEL.md, Human players)
            m.players.decide(self)

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
            generosity=c.generosity,
        )
        # Guarantor troops where the grievance arose damp the answer as a first strike (E20).
        p = p * m.guarantee_damping[m.grievance_theatre[edges]]
        acts.fired[s] = (self.u["answer"] < p) & (self.strength > 0)
        acts.actor[s] = self.index
        acts.target[s] = self.retaliation_target
        acts.blamed[s] = self.retaliation_blamed
        acts.culprit[s] = self.index
        acts.origin[s] = m.grievance[edges]
        acts.wrong[s] = m.grievance_wrong[edges]
        acts.theatre[s] = m.grievance_theatre[edges]
        if m.players:  # a human player's decision replaces E9 (docs/MODEL.md, Human players)
            m.players.retaliate(self)

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
    """The government side (principal 0).

    Besides what every principal does, its own forces conduct ground offensives against
    exempted groups (E22), which hit the factions entangled with them.
    """

    section = "government"
    phases = ("strike", "decide", "retaliate", "recover")

    def __init__(self, model: CeasefireModel, config: GovernmentConfig, k: int = 0):
        super().__init__(model, config, 0)
        # Ground offensives (E22) are fixed for the truce like the sponsors' loopholes (E6):
        # one row per faction and theatre where an exempted group is present.
        c = model.constants
        factions, self.ground_theatres, entanglement = model.exposed_factions()
        p = dec.ground_offensive_probability(
            config.ground_tempo, model.loophole_width, c.loophole_hit, entanglement
        )
        self.ground_p = p[:, None]
        self.ground_target = factions[:, None]
        self.ground_blamed = model.edge_index[factions, 0][:, None]

    def channels(self, acts: Acts) -> None:
        """A principal's channels, then a ground offensive per faction and theatre (E22).

        The ground rows are reserved whatever the ground tempo (0: they never fire), so
        that the acts table, and every stream that draws per row, keep their shapes.
        """
        super().channels(acts)
        self.ground: Channel = acts.reserve(
            "ground", len(self.ground_theatres), theatres=self.ground_theatres
        )

    def draws(self) -> dict[str, Draw]:
        """A principal's draws, and one uniform per ground row from the commission stream.

        Not from the loopholes stream: rows added there would shift the sponsors' loophole
        draws from the second day on.
        """
        read = bool((self.ground_p > 0).any())  # no ground tempo: never fires, not read
        return super().draws() | {
            "ground": Draw("strike", "commission", (len(self.ground_theatres),), read)
        }

    def strike(self) -> None:
        """(E22) Ground offensives under the exemptions by the government's own forces.

        Legal under the terms: no culprit (no sanction, no correction needed to clear a
        party); the faction hit blames the government. Origin ``loophole``. A government
        with no forces (E2c) conducts none.
        """
        acts, s = self.model.acts, self.ground.slice
        if "ground" in self.u:  # else no ground tempo (not drawn): nothing fires
            acts.fired[s] = (self.u["ground"] < self.ground_p) & (self.strength > 0)
        acts.actor[s] = self.index
        acts.target[s] = self.ground_target
        acts.blamed[s] = self.ground_blamed
        acts.origin[s] = LOOPHOLE
        if self.model.players:  # a human government decides its offensives (Human players)
            self.model.players.ground(self)


class Faction(Principal):
    """An opposition faction that signed the truce (principals 1 … F)."""

    section = "factions"

    def __init__(self, model: CeasefireModel, config: PartyConfig, k: int):
        super().__init__(model, config, 1 + k)


class ExcludedGroup(Actor):
    """A group outside the truce, a spoiler of Stedman's kind (E8, E8b).

    It attacks in every theatre it is present in. A total spoiler attacks more the
    longer the truce holds calm; a greedy one less where monitors would see it; a
    limited one less as custodians meet its demands. An inside spoiler (``host``)
    operates from a principal's camp: where its host is present it attacks the host's
    adversaries, who blame the host, and the host answers for it (its ``culprit``:
    verified attacks are sanctioned by the host's sponsors, E10).
    """

    section = "excluded"
    phases = ("attack",)

    def __init__(self, model: CeasefireModel, config: ExcludedConfig, k: int):
        super().__init__(model)
        self.config, self.name = config, config.name
        self.party = model.n_principals + k
        self.theatres = np.flatnonzero(model.excluded_present[:, k])
        self.host = -1 if config.host is None else model.principal_index[config.host]
        # Inside the process where its host is present (E8b), outside it elsewhere.
        self.inside = np.array(
            [self.host >= 0 and bool(model.present[t, self.host]) for t in self.theatres], bool
        )
        self.reachable = [
            model.adversaries_in(self.host, int(t)) if inside else np.flatnonzero(model.present[t])
            for t, inside in zip(self.theatres, self.inside, strict=True)
        ]

    def channels(self, acts: Acts) -> None:
        """One attack a day in each theatre it is in."""
        self.spoiler: Channel = acts.reserve("spoiler", len(self.theatres), theatres=self.theatres)

    def draws(self) -> dict[str, Draw]:
        """Spoilers: attack, target, blame, whom, per theatre."""
        return {"attack": Draw("attack", "spoilers", (4, len(self.theatres)))}

    def attack(self) -> None:
        """Spoiler attacks on a party, blamed on its adversary unless seen through (E8, E8b).

        An inside spoiler's attacks are blamed on its host, who is their culprit.
        """
        if not len(self.theatres):  # present in no theatre: nothing to attack
            return
        m, c, u, acts = self.model, self.model.constants, self.u["attack"], self.model.acts
        cfg = self.config
        # A greedy spoiler weighs today's chance of detection (what the mission will publish).
        p_detect = m.mission.p_detect()[self.theatres] if cfg.kind == "greedy" else 0.0
        p = dec.spoiler_probability(
            cfg.strength,
            cfg.spoiler_intent,
            m.calm[self.theatres],
            c.spoiler_rate,
            c.spoiler_calm_boost,
            kind=cfg.kind,
            p_detect=p_detect,
            inducement=cfg.inducement,
        )
        target = np.stack([m.pick(who, u[1, j]) for j, who in enumerate(self.reachable)])
        s = self.spoiler.slice
        acts.fired[s] = u[0] < p
        acts.actor[s] = self.party
        acts.target[s] = target
        blamed = m.misblame(target, self.theatres[:, None], u[2], u[3])
        if self.inside.any():
            inside = self.inside[:, None]
            blamed = np.where(inside, m.edge_index[target, self.host], blamed)
            acts.culprit[s] = np.where(inside, self.host, -1)
        acts.blamed[s] = blamed
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
        # Leverage and commitment per replicate: shifts may change them (E18).
        self.leverage = np.full(model.r, config.leverage)
        self.commitment = np.full(model.r, config.commitment)
        self.client_index = np.asarray(self.clients)
        # Loopholes (E6) are fixed for the truce: only the government camp's air forces
        # strike exempted groups, in the theatres where an exempted group is present; each
        # faction there is hit with a fixed daily chance, its entanglement shared out
        # over the theatres it is in.
        c = model.constants
        factions, self.loophole_theatres, entanglement = model.exposed_factions()
        self.can_loop = config.air_force and self.backs_government and bool(len(factions))
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
        read = self.can_loop and bool((self.loophole_p > 0).any())  # else they never fire
        return {
            "loophole": Draw("strike", "loopholes", (len(self.loophole_theatres),), read),
            "dissent": Draw("strike", "dissent", (3,)),
        }

    def strike(self) -> None:
        """Strikes under the exemptions (E6) and off-script strikes from dissent."""
        m, c, cfg, acts = self.model, self.model.constants, self.config, self.model.acts
        u_off = self.u["dissent"]
        # Loopholes: the government camp's strikes on exempted groups land on entangled factions.
        s = self.loophole.slice
        if "loophole" in self.u:  # else they cannot fire (not drawn)
            acts.fired[s] = (self.u["loophole"] < self.loophole_p) & self.can_loop
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
        if m.players:  # a human sponsor decides its strikes and sanctions (Human players)
            m.players.strike(self)


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
        if m.players:  # a human mission reports all it covers, or nothing (Human players)
            detected = m.players.observe(detected, acts.fired & active & (u[0] < coverage))
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
        # A buffer zone keeps a share of the line of contact out of reach (E20).
        acts.fired[s] = u[0] < dec.through_buffer(self.p_accident, m.theatre_buffer[theatre])
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


class JointCommissions(Actor):
    """Joint commissions of the parties, one per theatre that has one (E21).

    Always built (a theatre's ``joint_commission`` may be 0: then it settles nothing),
    so that the commission stream draws the same numbers whatever the levers. It acts
    in the observe phase, after the mission, and tells the model which of the day's
    incidents it settles before they become grievances (read in its perceive phase).
    """

    section = "theatres"
    phases = ("observe",)

    @classmethod
    def configs(cls, scenario: Scenario) -> list[Any]:
        """One agent for every theatre (the scenario's, or the single theatre)."""
        return [scenario.theatre_list]

    def draws(self) -> dict[str, Draw]:
        """Commission: one uniform per row of the acts table."""
        read = bool((self.model.theatre_commission > 0).any())  # else it settles nothing
        return {"settle": Draw("observe", "commission", (self.model.acts.n,), read)}

    def observe(self) -> None:
        """Settle each of the day's incidents with its theatre's commission's daily chance."""
        m, acts = self.model, self.model.acts
        if "settle" not in self.u:  # no theatre has a commission: nothing is settled
            m.settled_today = np.zeros_like(acts.fired)
            return
        chance = m.theatre_commission[acts.theatre]
        m.settled_today = dec.settled_by_commission(acts.fired, self.u["settle"], chance)


class World(Actor):
    """The world outside the truce: scheduled and random shifts (E18).

    One agent for the whole ``shifts`` list (none when it is empty). At the start of
    each day it applies the shifts due, in truces still holding: a scheduled shift on
    its day, a random one with its daily chance until it has happened (at most once per
    truce). A shift of a principal changes its strength, fatigue or resolve; a shift of
    a sponsor its leverage or commitment, and with them the restraint (E1) its clients
    get.
    """

    section = "shifts"
    phases = ("shift",)

    @classmethod
    def configs(cls, scenario: Scenario) -> list[Any]:
        """One agent for all the shifts, or none."""
        return [scenario.shifts] if scenario.shifts else []

    def __init__(self, model: CeasefireModel, config: tuple[ShiftConfig, ...], k: int = 0):
        super().__init__(model)
        self.shifts = config
        self.day_of = np.array([s.day or 0 for s in config], np.int64)[:, None]
        self.chance = np.array([s.chance or 0.0 for s in config])[:, None]
        self.happened = np.full((len(config), model.r), -1, np.int64)
        sponsors = {sp.name: sp for sp in model.sponsors}
        #: Who each shift changes: a principal's index, or a sponsor agent.
        self.actors: list[int | Sponsor] = [
            model.principal_index[s.actor]
            if s.actor in model.principal_index
            else sponsors[s.actor]
            for s in config
        ]

    def draws(self) -> dict[str, Draw]:
        """World: one uniform per shift, scheduled or not (the same shape whatever they are)."""
        return {"shift": Draw("shift", "world", (len(self.shifts),))}

    def shift(self) -> None:
        """Apply today's shifts (E18)."""
        m = self.model
        due = dec.shift_due(self.u["shift"], self.chance, self.day_of, m.day, self.happened >= 0)
        due &= m.alive
        sponsor_changed = False
        for k, (config, actor) in enumerate(zip(self.shifts, self.actors, strict=True)):
            hit = due[k]
            if not hit.any():
                continue
            self.happened[k, hit] = m.day
            if isinstance(actor, Sponsor):
                values, party = getattr(actor, config.field), actor.party
                sponsor_changed = True
            else:  # the model's (P, R) state: strength, fatigue or resolve
                values, party = getattr(m, config.field)[actor], actor
            values[:] = np.where(hit, dec.shift_value(values, config.by, config.to), values)
            if hit[m.trace_replicate]:
                m.log_shift(party, config.name, config.field, float(values[m.trace_replicate]))
        if sponsor_changed:
            m.update_restraint()

    def outputs(self) -> dict[str, Any]:
        """The day each shift happened (null where it never did)."""
        return {
            f"shift_{config.name}_day": (self.happened[k], self.happened[k] > 0)
            for k, config in enumerate(self.shifts)
        }
