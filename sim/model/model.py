"""The ceasefire model: R replicate truces stepped in lockstep as one Mesa model.

The model owns the phases of a day (:data:`PHASES`), the shared tables (trust
between parties, the day's acts), the collapse rule and the per-replicate
outputs; the agents (:mod:`sim.model.agents`) declare which phases they act in,
what they draw and what they add. With ``replicates=1`` it is an ordinary Mesa
model: ``mesa.batch_run`` and a ``DataCollector`` drive it as usual (one row
per day, collected after the day, so the last row is the final state), and the
classroom page steps it day by day (``sim.app.components.PlayControls``, a
controller like Mesa's ``ModelController`` that plays only its own truce). (Mesa 3.3's complete
``SolaraViz`` page is not supported: it needs ipyvuetify < 2, which the
classroom page cannot use; ``tests/test_mesa.py`` keeps a strict expected
failure that will notice when it works.) ``mesa.batch_run`` passes no seed of
its own: sweep ``seed`` (e.g. ``"seed": range(1000)``), or every iteration
replays the scenario's seed and simulates the same truce.

One day (see ``docs/MODEL.md``, "Process overview"): sponsors strike
(loopholes, dissent); foreign air forces have accidents; excluded groups
attack; the mission publishes its deterrent; principals decide and retaliate;
the mission observes; victims perceive; the day is tallied; an envoy
mediates; principals tire and regroup; calm consolidates; the collapse rule.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, NamedTuple, cast

import mesa
import numpy as np
import pandas as pd

from sim.model import decisions as dec
from sim.model import kernels
from sim.model.acts import Acts
from sim.model.agents import (
    ACTOR_TYPES,
    DELIBERATE,
    ExcludedGroup,
    ForeignForces,
    JointCommissions,
    MonitorMission,
    Principal,
    Sponsor,
)
from sim.model.players import Players
from sim.model.streams import make_streams
from sim.scenario.loading import resolve_scenario
from sim.scenario.schema import ORIGINS, Scenario

TRIGGERS = ("violence", "withdrawal", "intensity")
VIOLENCE, WITHDRAWAL, INTENSITY = range(len(TRIGGERS))

#: The phases of a day, in order. An agent type acts in those it names in its
#: ``phases`` (a method of the same name); the model's own phases are its methods
#: ``_<phase>``. Within a random stream, draws are handed out in this order.
PHASES = (
    "shift",  # the world: scheduled and random shifts (E18)
    "strike",  # sponsors: loopholes (E6) and dissent
    "accident",  # foreign air forces (E7)
    "attack",  # excluded groups (E8)
    "deter",  # the mission publishes today's chance of detection
    "decide",  # principals: deliberate defection, indiscipline (E2–E4)
    "retaliate",  # principals: answers to grievances (E9)
    "mask",  # model: nothing happens in a truce that has ended
    "observe",  # the mission detects, attributes, may be attacked and withdraw
    "perceive",  # model: trust, grievances, sanctions, corrections (E10)
    "tally",  # model: the day's violence, calm, first violator
    "mediate",  # an envoy settles grievances (E17)
    "recover",  # principals: fatigue and regrouping (E11–E12)
    "consolidate",  # model: calm consolidates (E10b)
    "collapse",  # model: the collapse rule (E13–E14)
)
MODEL_PHASES = ("mask", "perceive", "tally", "consolidate", "collapse")
#: The agents' phases the compiled day (:meth:`CeasefireModel._step_compiled`) leaves to
#: their Python methods; it runs every other phase in kernels.
PY_PHASES = ("shift", "mediate")
#: Attributes that NumPy code run on a compiled day may bind to a new array (a shift's
#: restraint, the mediator's trust and grudge, the NumPy fallbacks of perceive and
#: collapse): the compiled day copies them back into the arrays its kernels were handed
#: (:meth:`CeasefireModel._repin`).
REBOUND = (
    "trust",
    "grudge",
    "trust_baseline",
    "restraint_level",
    "sanction_cut",
    "_sanctions",
    "strength",
    "fatigue",
    "resolve",
)
#: What the compiled perception and tally read of each act that fired, listed in the order
#: of ``np.nonzero(acts.fired)`` (:meth:`CeasefireModel._list_fired`; on the compiled day
#: the ``observe`` kernel lists them): the act's row and column, then its fields.
LISTED = (
    "rows",
    "cols",
    "origin",
    "theatre",
    "weight",
    "actor",
    "target",
    "blamed",
    "culprit",
    "wrong",
    "admitted",
    "priority",
    "detected",
    "correct",
    "settled",
)


class CeasefireModel(mesa.Model):
    """R replicate truces of one scenario, stepped one day at a time.

    Args:
        scenario: a :class:`Scenario`, a path to a YAML file, or None for the defaults.
        replicates: number of replicate truces (defaults to ``scenario.replicates``).
        seed: root seed (defaults to ``scenario.seed``).
        chunk: chunk index; with ``seed`` it fixes every random stream.
        record: keep a day-by-day trace and event log of replicate ``trace_replicate``.
        trace_replicate: which replicate to trace.
        collect: run the Mesa ``DataCollector`` (``self.datacollector``) after every day:
            its row ``k`` is the state at the end of day ``k + 1``, so ``mesa.batch_run``
            (which reads row ``model.steps - 1`` in Mesa 3.3) reports the state after the
            last day. The state before day 1 is not a row (it is ``day == 0`` and every
            truce holding). The runner, which only reads :meth:`results`, turns it off;
            with False the collector exists but stays empty.
        **kwargs: overrides: dotted parameter paths and values, e.g.
            ``**{"monitors.coverage": 0.8}`` (what ``mesa.batch_run`` passes for swept
            parameters). Named ``kwargs`` because SolaraViz's model-parameter check
            accepts extra parameters only under that name.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        replicates: int | None = None,
        seed: int | None = None,
        chunk: int = 0,
        record: bool = False,
        trace_replicate: int = 0,
        collect: bool = True,
        **kwargs: Any,
    ):
        self.scenario = resolve_scenario(scenario, kwargs)
        s = self.scenario
        self.root_seed = int(s.seed if seed is None else seed)
        self.chunk = int(chunk)
        self.streams = make_streams(self.root_seed, self.chunk)
        # Mesa's own generators (``self.rng`` and ``self.random``, for agent shuffles or
        # any agent that draws from them) come from the chunk's dedicated "mesa" stream:
        # two chunks of one seed draw differently, and the mechanism streams are untouched.
        super().__init__(rng=self.streams["mesa"])
        #: The replicates (truces) of this model, and the current width of its per-replicate
        #: arrays: ``r`` shrinks when ended truces are dropped (:meth:`_compact`), and ``ids``
        #: holds the replicate index of each column.
        self.replicates = self.r = int(s.replicates if replicates is None else replicates)
        self.ids = np.arange(self.r)
        #: The day's kernels: ``"numba"`` (compiled) or ``"numpy"``, by ``TRUCE_ENGINE`` and the
        #: work (:func:`sim.model.kernels.for_width`); the results are the same either way.
        self._kernels = kernels.for_width(self.replicates, s.truce.horizon)
        self.kernel_engine = "numpy" if self._kernels is None else "numba"
        self._ended: dict[tuple[int, str], np.ndarray] = {}
        self.constants = s.constants
        self.horizon = s.truce.horizon
        self.day = 0
        self.record = record
        self.trace_replicate = trace_replicate
        self.collect = collect
        self._build_structure()
        self._build_state()
        self._build_agents()
        self._land_grab()
        self._sign()
        self.start_trust = self._mean_trust()
        # Arrays whose last axis is not the replicate axis at full width are fixed for the
        # truce: compaction never touches them, even if their size later equals the width.
        self._fixed = {
            (id(holder), name)
            for holder in self._holders()
            for name, value in vars(holder).items()
            if isinstance(value, np.ndarray) and not _per_replicate(value, self.replicates)
        }
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "day": "day",
                "holding": lambda m: float(m.alive.mean()),
                "violence": lambda m: float(m.violence.mean()),
                "trust": lambda m: float(m._mean_trust().mean()),
            }
        )

    #: Human players of a live truce (:class:`sim.model.players.Players` attaches itself);
    #: None: the model plays every role.
    players: Players | None = None
    #: The day's detections and correct attributions, per act (the mission's observe phase).
    detected_today: np.ndarray
    correct_today: np.ndarray
    #: The compiled day's kernel arguments (:meth:`_compiled_args`); None: to be built.
    _args: dict[str, Any] | None = None

    # ------------------------------------------------------------------ set-up
    def _build_structure(self) -> None:
        s = self.scenario
        self.n_factions = len(s.factions)
        self.n_principals = 1 + self.n_factions
        self.party_names = s.party_names
        self.principal_index = {p.name: i for i, p in enumerate(s.principals)}
        f, p = self.n_factions, self.n_principals
        # Directed trust edges: victim holds trust in blamed. Edges 0..F-1: government in
        # faction k; edges F..2F-1: faction k in the government.
        self.edge_victim = np.r_[np.zeros(f, np.int64), np.arange(1, p)]
        self.edge_blamed = np.r_[np.arange(1, p), np.zeros(f, np.int64)]
        self.edge_index = np.full((p, p), -1, np.int64)
        self.edge_index[self.edge_victim, self.edge_blamed] = np.arange(2 * f)
        self.edges_of = [np.flatnonzero(self.edge_victim == i) for i in range(p)]
        self.adversaries_of = [self.edge_blamed[edges] for edges in self.edges_of]
        # Blame falls on a faction in proportion to (0.1 + entanglement) and its forces (E8).
        self.blame_base = np.array([0.1 + fc.entanglement for fc in s.factions])
        self.faction_index = np.arange(1, p)
        self.principal_all = np.arange(p)
        # Theatres (E13c): who is present where, the monitors' coverage, the exemptions.
        theatres = s.theatre_list
        self.theatre_names = [t.name for t in theatres]
        self.n_theatres = n_t = len(theatres)
        excluded_names = [g.name for g in s.excluded]
        self.present = np.zeros((n_t, p), bool)
        self.excluded_present = np.zeros((n_t, len(excluded_names)), bool)
        self.exempt_present = np.zeros(n_t, bool)
        self.theatre_coverage = np.zeros(n_t)
        # Guarantees on the ground (E20, E21): troops, buffer zones, joint commissions.
        self.theatre_troops = np.array([t.guarantor_troops for t in theatres])
        self.theatre_buffer = np.array([t.buffer_zone for t in theatres])
        self.theatre_commission = np.array([t.joint_commission for t in theatres])
        c = self.constants
        self.guarantee_cost = dec.guarantee_cost(self.theatre_troops, c.guarantee_weight)
        self.guarantee_damping = dec.guarantee_damping(
            self.theatre_troops, c.guarantee_weight, c.gain_sensitivity
        )
        for t, theatre in enumerate(theatres):
            names = set(theatre.parties or self.party_names[:p])
            self.present[t] = [q.name in names for q in s.principals]
            here = set(excluded_names if theatre.excluded is None else theatre.excluded)
            self.excluded_present[t] = [g in here for g in excluded_names]
            exempted = s.truce.exempted if theatre.exempted is None else theatre.exempted
            self.exempt_present[t] = bool(here & set(exempted))
            if s.monitors is not None:
                cover = s.monitors.coverage if theatre.coverage is None else theatre.coverage
                self.theatre_coverage[t] = cover
        self.loophole_width = s.truce.loophole_width
        self.theatres_of = [np.flatnonzero(self.present[:, i]) for i in range(p)]
        # The edges between the parties of each theatre (spill-over, E13c), shape (T, edges).
        self.theatre_edges = self.present[:, self.edge_victim] & self.present[:, self.edge_blamed]
        # Where a grievance along an edge is first placed: the first theatre both share.
        self.edge_home = np.argmax(self.theatre_edges, axis=0)

    def _build_state(self) -> None:
        s, c, r = self.scenario, self.constants, self.r
        rng = self.streams["init"]
        principals = s.principals
        jitter = rng.uniform(-1.0, 1.0, size=(3, self.n_principals, r)) * c.initial_spread
        base = np.array([[p.strength, p.fatigue, p.trust] for p in principals]).T[:, :, None]
        self.strength, self.fatigue, trust_by_party = np.clip(base + jitter, 0.0, 1.0)
        # A party with no forces stays without: its strength is not jittered (E2c).
        self.strength[base[0, :, 0] == 0] = 0.0
        self.trust = trust_by_party[self.edge_victim].copy()
        self.trust_baseline = self.trust.copy()
        self.grievance = np.full(self.trust.shape, DELIBERATE, np.int64)
        self.grievance_wrong = np.zeros(self.trust.shape, bool)
        # Unanswered grievances per edge (E9b); the signature wipes the slate of the land grab.
        self.grudge = np.zeros(self.trust.shape)
        self.grievance_theatre = np.repeat(self.edge_home[:, None], r, axis=1)
        self.alive = np.ones(r, bool)
        n_t = self.n_theatres
        self.violence = np.zeros(r, np.int64)
        self.theatre_violence = np.zeros((n_t, r), np.int64)
        self.theatre_alive = np.ones((n_t, r), bool)
        self.theatre_collapse_day = np.full((n_t, r), -1, np.int64)
        self.theatre_cause = np.full((n_t, r), -1, np.int64)
        self.theatre_trigger = np.full((n_t, r), -1, np.int64)
        self.calm_streak = np.zeros((n_t, r), np.int64)
        self.calm = np.zeros((n_t, r))
        self.calm_today = np.zeros((n_t, r), bool)
        w = s.truce.collapse.window
        self.high_window = np.zeros((w, n_t, r), bool)
        self.origin_window = np.zeros((w, len(ORIGINS), n_t, r), np.int64)
        self.origin_total = np.zeros((len(ORIGINS), r), np.int64)
        self.party_total = np.zeros((len(self.party_names), r), np.int64)
        self.retaliations = np.zeros(r, np.int64)
        self.wrong_retaliations = np.zeros(r, np.int64)
        self.detected = np.zeros(r, np.int64)
        self.attributed = np.zeros(r, np.int64)
        self.access_days = np.zeros(r, np.int64)
        self.first_violator = np.full(r, -1, np.int64)
        self.first_violation_day = np.full(r, -1, np.int64)
        self.collapse_day = np.full(r, -1, np.int64)
        self.cause = np.full(r, -1, np.int64)
        self.trigger = np.full(r, -1, np.int64)
        self.escalation = np.full(r, -1, np.int64)
        self.pre_truce_violations = np.zeros(r, np.int64)
        # Signing (E2b): who is at war from day 1, who accepted only conditionally.
        self.at_war = np.zeros((self.n_principals, r), bool)
        self.conditional = np.zeros((self.n_principals, r), bool)
        # Strategic offensives (E19): the first day any principal launched one.
        self.offensive_day = np.full(r, -1, np.int64)
        self.escalation_u = self.streams["escalation"].random(r)
        delay = s.monitors.verification_delay if s.monitors else 0
        # Ring buffer of corrections: written on day t, applied on day t + delay.
        self.pending = np.zeros((max(delay, 1), self.trust.shape[0], r), np.int64)
        self.days_log: list[dict[str, Any]] = []
        self.events_log: list[dict[str, Any]] = []
        # Day-by-day sums over the chunk's truces (:meth:`daily`), in a dict so that
        # compaction, which only looks at array attributes, never takes them for state.
        self._daily = {
            "count": np.zeros((self.horizon, 1), np.int64),  # holding at the end of the day
            "origin": np.zeros((self.horizon, 2, len(ORIGINS) + 1), np.int64),  # sum, squares
            "trust": np.zeros(self.horizon),  # summed over the truces holding
        }

    def _build_agents(self) -> None:
        """Build every agent type's agents from its section, then the day's tables."""
        s = self.scenario
        self.acts = Acts(self.r)
        self.principals: list[Principal] = []
        self.excluded_groups: list[ExcludedGroup] = []
        self.sponsors: list[Sponsor] = []
        self.mission: MonitorMission
        for cls in ACTOR_TYPES:
            for k, config in enumerate(cls.configs(s)):
                agent = cls(self, config, k)
                if isinstance(agent, Principal):
                    self.principals.append(agent)
                elif isinstance(agent, ExcludedGroup):
                    self.excluded_groups.append(agent)
                elif isinstance(agent, Sponsor):
                    self.sponsors.append(agent)
        self.government, self.factions = self.principals[0], self.principals[1:]
        actors = [a for cls in ACTOR_TYPES for a in self.agents_by_type.get(cls, [])]
        for agent in actors:
            agent.channels(self.acts)
        self.acts.lay_out()
        # Fixed random priorities break ties when several violations open a truce on one day.
        self.first_priority = self.streams["order"].random((self.acts.n, self.r))
        self._act_dtype = self._narrowest_act_type()
        # Who acts in each phase (Mesa's agent sets), and what each reads from which stream.
        by_type = self.agents_by_type
        self._acting = {
            phase: [by_type[c] for c in ACTOR_TYPES if phase in c.phases and c in by_type]
            for phase in PHASES
        }
        self._actors = actors
        self.plan_draws()
        # The phases that anyone acts in, with the model's own method or the agent sets.
        self._day = [
            (
                getattr(self, f"_{phase}") if phase in MODEL_PHASES else None,
                [(agents, phase) for agents in self._acting[phase]],
            )
            for phase in PHASES
            if phase in MODEL_PHASES or self._acting[phase]
        ]
        self._phase_names = [p for p in PHASES if p in MODEL_PHASES or self._acting[p]]
        self.p_detect_today = self.mission.p_detect()
        self.settled_today = np.zeros_like(self.acts.fired)
        self.slot_retaliation = slice(
            self.principals[0].answers.slice.start, self.principals[-1].answers.slice.stop
        )
        # Sponsors' restraint on each principal (E1), per replicate: shifts may change it (E18).
        self.update_restraint()
        # Resolve per principal and replicate (E2, E15, E16): shifts may change it (E18).
        resolve = np.array([p.config.resolve for p in self.principals])
        self.resolve = np.repeat(resolve[:, None], self.r, axis=1)
        self._plan_kernels()

    def _plan_kernels(self) -> None:
        """The fixed tables the compiled phases read (:mod:`sim.model._compiled`).

        Kept in a dict, so that compaction never takes one for per-replicate state.
        """
        c, s = self.constants, self.scenario
        end, n_t = s.truce.end, self.n_theatres
        # The end rule as "at least this many theatres have fallen".
        need = {"first": 1.0, "share": float(max(end.share * n_t, 1))}.get(end.rule, float(n_t))
        self._tables: dict[str, Any] = {
            # Each principal's trust edges and the adversary at the other end, flattened.
            "edge_ptr": np.cumsum([0] + [len(e) for e in self.edges_of]).astype(np.int64),
            "edge_list": np.concatenate(self.edges_of).astype(np.int64),
            "adv_list": np.concatenate(self.adversaries_of).astype(np.int64),
            # NumPy's own (1 - trust_loss) ** k for the integers k a day can bring (its power
            # routine may differ from the C library's in the last bit: the kernels look it up).
            "powers": (1.0 - c.trust_loss) ** np.arange(64, dtype=np.int64),
            # ... and (1 - spill_over) ** k for a truce losing k theatres in a day.
            "spill_powers": (1.0 - c.spill_over) ** np.arange(n_t + 1, dtype=np.int64),
            "grudge_decay": float(np.exp(-1.0 / max(c.grudge_memory, 1e-9))),
            "end_need": need,
        }
        # Per principal, what its compiled decisions read: its theatres, its adversaries in
        # each (flattened, in the order the strength-weighted sums add them), its rows.
        principals = []
        for p in self.principals:
            sizes = [len(a) for a in p.adversaries]
            principals.append(
                {
                    "theatres": np.asarray(p.theatres, np.int64),
                    "adv_ptr": np.cumsum([0, *sizes]).astype(np.int64),
                    "adv_flat": np.concatenate([*p.adversaries, np.zeros(0, np.int64)]).astype(
                        np.int64
                    ),
                    "guarantee": np.asarray(self.guarantee_cost[p.theatres], np.float64),
                    "buffer": np.asarray(self.theatre_buffer[p.theatres], np.float64),
                    "unauthorised": c.indiscipline_rate * (1 - p.config.cohesion),
                }
            )
        self._tables["principals"] = principals
        # The same, every principal's theatres as one run of slots (one compiled call a day).
        self._tables["decide"] = {
            "index": np.array([p.index for p in self.principals], np.int64),
            "slot_ptr": np.cumsum([0] + [len(p.theatres) for p in self.principals]).astype(
                np.int64
            ),
            "theatre_list": np.concatenate([t["theatres"] for t in principals]),
            "adv_ptr": np.cumsum(
                [0] + [len(a) for p in self.principals for a in p.adversaries]
            ).astype(np.int64),
            "adv_flat": np.concatenate([t["adv_flat"] for t in principals]),
            "guarantee": np.concatenate([t["guarantee"] for t in principals]),
            "buffer": np.concatenate([t["buffer"] for t in principals]),
            "aims": np.array([float(p.config.aims) for p in self.principals], np.float64),
            "offensive": np.array([p.config.aims < 1.0 for p in self.principals], bool),
            "unauthorised": np.array([t["unauthorised"] for t in principals], np.float64),
            "deliberate_start": np.array(
                [p.deliberate.slice.start for p in self.principals], np.int64
            ),
            "indiscipline_start": np.array(
                [p.indiscipline.slice.start for p in self.principals], np.int64
            ),
        }
        self._tables["ans_start"] = np.array(
            [p.answers.slice.start for p in self.principals], np.int64
        )
        sponsors = self.sponsors
        gov = self.government
        self._tables["strike"] = {
            "party": np.array([sp.party for sp in sponsors], np.int64),
            "backs_government": np.array([sp.backs_government for sp in sponsors], bool),
            "offscript_p": np.array(
                [c.offscript_rate * sp.config.dissent for sp in sponsors], np.float64
            ),
            "offscript_row": np.array([sp.offscript.slice.start for sp in sponsors], np.int64),
            "client_ptr": np.cumsum([0] + [len(sp.clients) for sp in sponsors]).astype(np.int64),
            "client_flat": np.array([k for sp in sponsors for k in sp.clients], np.int64),
            "loop_ptr": np.cumsum([0] + [len(sp.loophole_theatres) for sp in sponsors]).astype(
                np.int64
            ),
            "loop_start": np.array([sp.loophole.slice.start for sp in sponsors], np.int64),
            "loop_p": np.concatenate([sp.loophole_p[:, 0] for sp in sponsors] + [np.zeros(0)]),
            "loop_target": np.concatenate(
                [sp.loophole_target[:, 0] for sp in sponsors] + [np.zeros(0, np.int64)]
            ).astype(np.int64),
            "loop_blamed": np.concatenate(
                [sp.loophole_blamed[:, 0] for sp in sponsors] + [np.zeros(0, np.int64)]
            ).astype(np.int64),
            "ground_start": gov.ground.slice.start,
            "ground_p": np.asarray(gov.ground_p[:, 0], np.float64),
            "ground_target": np.asarray(gov.ground_target[:, 0], np.int64),
            "ground_blamed": np.asarray(gov.ground_blamed[:, 0], np.int64),
        }
        # Each excluded group's attack (E8, E8b): what its kernel reads beside the day's state.
        self._tables["groups"] = [
            (
                np.asarray(g.theatres, np.int64),
                np.cumsum([0] + [len(w) for w in g.reachable]).astype(np.int64),
                np.concatenate([*g.reachable, np.zeros(0, np.int64)]).astype(np.int64),
                g.inside,
                g.host,
                g.party,
                c.spoiler_rate * g.config.strength * g.config.spoiler_intent,
                1.0 - dec.INDUCEMENT_REACH[g.config.kind] * g.config.inducement,
                g.config.kind == "total",
            )
            for g in self.excluded_groups
        ]
        self._tables["theatre_buffer"] = np.asarray(self.theatre_buffer, np.float64)
        forces = self.agents_by_type.get(ForeignForces, [])
        self._tables["air_force_party"] = np.asarray(
            forces[0].air_force_party if forces else np.zeros(0), np.int64
        )
        theatres = [np.asarray(p.theatres, np.int64) for p in self.principals]
        self._tables["theatre_ptr"] = np.cumsum([0] + [len(t) for t in theatres]).astype(np.int64)
        self._tables["theatre_list"] = np.concatenate([*theatres, np.zeros(0, np.int64)])

    def plan_draws(self, read_all: bool = False) -> None:
        """Lay out the day's draws: per stream, its rows and each agent's share of them.

        Args:
            read_all: draw the rows of absent mechanisms too (human players may set
                off what the scenario's levers leave idle, :mod:`sim.model.players`).
                Skipped rows keep their place in their stream, so drawing them moves
                no other number.
        """
        # The day's draws: per stream, its rows in all, and each agent's share of them
        # (a slice of rows and the shape it is read in), phase by phase, then agent by agent.
        requests: dict[str, list[tuple[Any, str, tuple[int, ...], bool]]] = {}
        phase_of: dict[tuple[int, str], str] = {}
        for phase in PHASES:
            for agent in self._actors:
                for name, draw in agent.draws().items():
                    if draw.phase == phase:
                        requests.setdefault(draw.stream, []).append(
                            (agent, name, draw.shape, draw.read or read_all)
                        )
                        phase_of[id(agent.u), name] = phase
        self._draws: list[DayDraws] = []
        #: Where each drawn share lies, by (agent, name): its stream's buffer and first row
        #: (what the compiled day reads; :meth:`_step_compiled`).
        self._share_at: dict[tuple[int, str], tuple[np.ndarray, int]] = {}
        #: The shares the compiled day hands out: those of the phases it leaves to Python.
        self._python_shares: list[tuple[DayDraws, list[tuple[dict, str, slice, tuple]]]] = []
        for stream, wanted in requests.items():
            if not any(read for *_, read in wanted):  # nobody reads it: not drawn at all
                continue
            # Rows nobody reads (an absent mechanism's) keep their place in the stream but
            # are skipped (the generator jumps over them), so no other number moves.
            shares, start = [], 0
            segments: list[list[Any]] = []
            for agent, name, shape, read in wanted:
                rows = int(np.prod(shape))
                if read:
                    shares.append((agent.u, name, slice(start, start + rows), shape))
                    start += rows
                if segments and segments[-1][1] == read:
                    segments[-1][0] += rows
                else:
                    segments.append([rows, read])
            # Drawn into the same buffer every day (the shares are views of it, valid for the day).
            plan = DayDraws(
                stream,
                self.streams[stream],
                np.empty((start, self.r)),
                shares,
                tuple((int(rows), bool(read)) for rows, read in segments),
            )
            self._draws.append(plan)
            for store, name, rows_of, _ in shares:
                self._share_at[id(store), name] = (plan.buffer, rows_of.start)
            python = [share for share in shares if phase_of[id(share[0]), share[1]] in PY_PHASES]
            if python:
                self._python_shares.append((plan, python))
        self._args = None  # the compiled day's arguments hold the old buffers

    def update_restraint(self) -> None:
        """(E1) Sponsors' restraint on each principal and the sanction it backs, shape (P, R).

        Computed at set-up and again when a shift changes a sponsor (E18).
        """
        self.restraint_level = np.stack([p.restraint() for p in self.principals])
        self.sanction_cut = self.constants.sanction_strength * self.restraint_level

    # ------------------------------------------------------------------ helpers
    def exposed_factions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where strikes on exempted groups can hit a truce party (E6, E22).

        One row per faction and theatre it is in where an exempted group is present:
        the faction, the theatre, and its entanglement shared out over the theatres it
        is in.
        """
        rows = [
            (k, t)
            for k in range(1, self.n_principals)
            for t in self.theatres_of[k]
            if self.exempt_present[t]
        ]
        factions = np.array([k for k, _ in rows], np.int64)
        theatres = np.array([t for _, t in rows], np.int64)
        entanglement = np.array(
            [
                self.scenario.factions[k - 1].entanglement / len(self.theatres_of[k])
                for k in factions
            ]
        )
        return factions, theatres, entanglement

    def adversaries_in(self, index: int, theatre: int) -> np.ndarray:
        """The adversaries of principal ``index`` present in ``theatre``."""
        if index == 0:
            return self.faction_index[self.present[theatre, 1:]]
        return np.zeros(1, np.int64)

    def pick(self, candidates: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One of ``candidates`` per replicate, chosen in proportion to strength (E2c)."""
        if len(candidates) == 1:
            return np.full(u.shape, candidates[0], np.int64)
        return candidates[self._pick_weighted(self.strength[candidates], u)]

    def pick_theatre(self, u: np.ndarray) -> np.ndarray:
        """A theatre per replicate, each equally likely."""
        if self.n_theatres == 1:
            return np.zeros(u.shape, np.int64)
        return np.minimum((u * self.n_theatres).astype(np.int64), self.n_theatres - 1)

    def pick_in(self, theatre: np.ndarray, candidates: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One of ``candidates`` present in each replicate's ``theatre``, by strength (E2c)."""
        if len(candidates) == 1:
            return np.full(u.shape, candidates[0], np.int64)
        if self.n_theatres == 1:  # one theatre: who is present is the same everywhere
            here = self.present[0, candidates][:, None]
        else:
            here = self.present[theatre][..., candidates].T
        weights = self.strength[candidates] * here
        return candidates[self._pick_weighted(weights, u)]

    def misblame(
        self, target: np.ndarray, theatre: np.ndarray, u_blame: np.ndarray, u_whom: np.ndarray
    ) -> np.ndarray:
        """Edge along which a victim blames its adversary for an attack it did not make.

        A hit government blames a faction present in the theatre (the more
        entangled and the stronger, the likelier); a hit faction blames the
        government. With chance 1 − ``blame_bias`` the victim sees it for what it
        was and blames nobody (−1). Shapes: ``target`` and the uniforms (..., R);
        ``theatre`` broadcasts to them.
        """
        if self.n_factions == 1:  # the only faction
            whom = np.where(target == 0, 1, 0)
        else:
            base = self.blame_base.reshape(-1, *([1] * target.ndim))
            if self.n_theatres == 1:  # one theatre: who is present is the same everywhere
                here = self.present[0, 1:].reshape(base.shape)
            else:
                theatre = np.broadcast_to(theatre, target.shape)
                here = np.moveaxis(self.present[theatre][..., 1:], -1, 0)
            strength = self.strength[1:].reshape(
                self.n_factions, *([1] * (target.ndim - 1)), self.r
            )
            weights = base * strength
            faction = 1 + self._pick_weighted(weights * here, u_whom)
            whom = np.where(target == 0, faction, 0)
        edge = self.edge_index[target, whom]
        return np.where(u_blame < self.constants.blame_bias, edge, -1)

    def _narrowest_act_type(self) -> type[np.signedinteger]:
        """The narrowest integer type that holds every value of the acts' integer fields.

        Parties (actor, target), edges (blamed), principals (culprit), origins, theatres,
        and the weight (1 or the war tempo); -1 stands for none. The compiled day holds the
        acts' tables in it (:meth:`Acts.cast`).
        """
        largest = max(
            len(self.party_names),
            len(self.edge_victim),
            self.n_principals,
            len(ORIGINS),
            self.n_theatres,
            self.constants.war_tempo,
        )
        for dtype in (np.int8, np.int16, np.int32):
            if largest <= np.iinfo(dtype).max:
                return dtype
        return np.int64

    def _pick_weighted(self, weights: np.ndarray, u: np.ndarray) -> np.ndarray:
        """``decisions.pick_weighted``, compiled when the model's engine is numba."""
        if self.kernel_engine == "numba":
            return kernels.compiled().pick_weighted(weights, u)
        return dec.pick_weighted(weights, u)

    def weighted_trust(self, index: int) -> np.ndarray:
        """Trust of principal ``index`` in its adversaries, weighted by their strength (E2c)."""
        edges = self.edges_of[index]
        return dec.weighted_mean(self.trust[edges], self.strength[self.adversaries_of[index]])

    def adversary_mean(self, values: np.ndarray, index: int) -> np.ndarray:
        """Mean of per-principal ``values`` over ``index``'s adversaries, weighted by strength."""
        adversaries = self.adversaries_of[index]
        return dec.weighted_mean(values[adversaries], self.strength[adversaries])

    def _mean_trust(self) -> np.ndarray:
        return self.trust.mean(0)

    # ------------------------------------------------------------------ one day
    def step(self) -> None:
        """Advance every live replicate truce by one day, phase by phase (:data:`PHASES`).

        Compiled (:meth:`_step_compiled`) when the model's engine is numba and nobody plays
        or is traced; else the agents' methods and the model's phases, one after the other.
        """
        self.day += 1
        compiled = self._kernels is not None and self.players is None and not self.record
        if compiled:
            self._step_compiled()
        else:
            self._args = None  # rebuilt when the compiled day resumes
            self.acts.cast(np.int64)  # the agents' NumPy arithmetic needs the room
            self.acts.reset()
            self._draw_day()
            for own, agent_sets in self._day:
                if own is not None:
                    own()
                for agents, phase in agent_sets:
                    agents.do(phase)
        if self.record:
            self._record_day(self.acts, self.detected_today, self.correct_today)
        if self.collect:
            self.datacollector.collect(self)
        if compiled:
            live = self._add_daily_compiled()
        else:
            live = int(np.count_nonzero(self.alive))
            self._add_daily(live)
        self.running = live > 0 and self.day < self.horizon
        if not self.running:
            self._expand()  # done: every array at full width again, ended truces included
            if compiled:  # numba's cache holds the compiled day now (kernels.cached)
                kernels.mark_cached()
        elif live <= self.r * self.COMPACT_SHARE and self._compactable():
            self._compact()

    def _add_daily(self, live: int) -> None:
        """Add today's violence by origin (sum and squares), holding count and trust to the sums.

        Ended truces add nothing (their acts are masked), whether or not they were dropped.
        """
        d = self._daily
        today = self.origin_window[self.day % len(self.origin_window)]  # (origins, T, R)
        by_origin = today[:, 0] if self.n_theatres == 1 else today.sum(1)
        values = np.concatenate([by_origin, self.violence[None]])  # (origins + 1, R)
        d["origin"][self.day - 1, 0] = values.sum(1)
        d["origin"][self.day - 1, 1] = np.einsum("ij,ij->i", values, values)
        d["count"][self.day - 1, 0] = live
        d["trust"][self.day - 1] = self._mean_trust() @ self.alive

    def daily(self) -> pd.DataFrame:
        """Day-by-day sums over this model's truces, one row per day of the horizon.

        Columns (``docs/RESULTS.md``): ``day``; ``truces`` (in the chunk); ``in_force``
        (truces still holding at the start of the day, so those the day was played in) and
        ``holding`` (at its end); ``violence_sum`` and ``violence_sumsq`` (the day's
        violations, summed and squared-and-summed over the truces); the same per origin
        (``violations_<origin>_sum``, ``…_sumsq``); ``trust_sum`` (the mean trust of each
        truce holding at the end of the day, summed over them). Sums, so the tables of
        several chunks add up (:func:`sim.experiment.daily.daily_aggregate`). Days after
        the last truce ended are rows of zeros.
        """
        d = self._daily
        holding = d["count"][:, 0].copy()
        data: dict[str, Any] = {
            "day": np.arange(1, self.horizon + 1, dtype=np.int64),
            "truces": np.full(self.horizon, self.replicates, np.int64),
            "in_force": np.r_[self.replicates, holding[:-1]].astype(np.int64),
            "holding": holding,
        }
        names = ["violence"] + [f"violations_{o}" for o in ORIGINS]
        columns = [len(ORIGINS), *range(len(ORIGINS))]  # where each name is in the sums
        for name, k in zip(names, columns, strict=True):
            data[f"{name}_sum"] = d["origin"][:, 0, k].copy()
            data[f"{name}_sumsq"] = d["origin"][:, 1, k].copy()
        data["trust_sum"] = d["trust"].copy()
        return pd.DataFrame(data)

    def _draw_day(self) -> None:
        """Draw the day's uniforms, stream by stream, and hand each agent its share.

        Every stream draws the same amount every day whatever happens: common
        random numbers across arms and levers. Once ended truces have been
        dropped (:meth:`_compact`), the live ones take their own columns of the
        full draw, so each truce reads the numbers it would read without compaction.
        """
        r, width = self.r, self.replicates
        compacted = r < width
        for plan in self._draws:
            generator, buffer = plan.generator, plan.buffer
            at = 0
            for rows, read in plan.segments:
                if read:
                    generator.random(out=buffer[at : at + rows])
                    at += rows
                else:  # unread rows: jump over their numbers (one 64-bit output each)
                    cast(Any, generator.bit_generator).advance(rows * width)
            u = np.take(buffer, self.ids, axis=1) if compacted else buffer
            for store, name, rows_of, shape in plan.shares:
                store[name] = u[rows_of].reshape(*shape, r)

    # ------------------------------------------------------------------ compaction
    #: Ended truces are dropped only from chunks at least this wide (below it a day costs
    #: little more than NumPy's per-call overhead), which also keeps small fixed tables
    #: (per party, theatre or edge) from being mistaken for per-replicate state.
    COMPACT_MIN = 64
    #: … and when at most this share of them is still live.
    COMPACT_SHARE = 0.75

    def _compactable(self) -> bool:
        """Whether ended truces may be dropped: wide enough, nobody traced or collected."""
        # A fixed array as long as the full width could not be told from per-replicate
        # state: with a width equal to one of the model's structural sizes, do not compact.
        structure = {
            self.acts.n,
            len(self.edge_victim),
            self.n_principals,
            self.n_theatres,
            len(self.party_names),
            len(self.scenario.shifts),
        }
        ambiguous = self.replicates in structure
        return self.r >= self.COMPACT_MIN and not self.record and not self.collect and not ambiguous

    def _holders(self) -> list[Any]:
        """Every object holding per-replicate state: the model, its acts table, its agents."""
        return [self, self.acts, *self.agents]

    def _compact(self) -> None:
        """Drop the columns of ended truces from every per-replicate array.

        Per-replicate state is any NumPy array attribute, of the model, its acts
        table or an agent, whose last axis is the current width ``r`` (the
        replicate axis last; see :class:`~sim.model.agents.Actor`). An ended
        truce does not change any more: its columns are kept aside and put back
        by :meth:`_expand` for :meth:`results`.
        """
        keep = np.flatnonzero(self.alive)
        drop = np.flatnonzero(~self.alive)
        width, gone = self.r, self.ids[drop]
        fast = self._kernels  # the compiled copies, when the day is compiled
        for holder in self._holders():
            for name, value in list(vars(holder).items()):
                if (
                    name == "ids"
                    or (id(holder), name) in self._fixed
                    or not _per_replicate(value, width)
                ):
                    continue
                key = (id(holder), name)
                ended = self._ended.get(key)
                if ended is None:
                    ended = np.zeros((*value.shape[:-1], self.replicates), value.dtype)
                    self._ended[key] = ended
                if fast and _copyable(value, ended):
                    setattr(holder, name, fast.compact(value, keep, drop, gone, ended))
                    continue
                ended[..., gone] = np.take(value, drop, axis=-1)
                setattr(holder, name, np.take(value, keep, axis=-1))
        self.ids = self.ids[keep]
        self.r = self.acts.r = len(keep)
        self._args = None  # the compiled day's arguments held the old arrays

    def _expand(self) -> None:
        """Put the ended truces' columns back: every per-replicate array at full width."""
        if self.r == self.replicates:
            return
        fast = self._kernels  # the compiled copies, when the day is compiled
        for holder in self._holders():
            for name, value in list(vars(holder).items()):
                if (
                    name == "ids"
                    or (id(holder), name) in self._fixed
                    or not _per_replicate(value, self.r)
                ):
                    continue
                full = self._ended.get((id(holder), name))
                if full is None or full.shape[:-1] != value.shape[:-1]:
                    full = np.zeros((*value.shape[:-1], self.replicates), value.dtype)
                if fast and _copyable(value, full):
                    fast.expand(value, self.ids, full)
                else:
                    full[..., self.ids] = value
                setattr(holder, name, full)
        self._ended = {}
        self.ids = np.arange(self.replicates)
        self.r = self.acts.r = self.replicates
        self._args = None

    def _mask(self) -> None:
        """Nothing happens in a truce, or a theatre, that has already ended."""
        acts = self.acts
        if self.n_theatres == 1:
            acts.fired &= self.alive & self.theatre_alive[0]
        else:
            acts.fired &= self.alive & np.take_along_axis(self.theatre_alive, acts.theatre, 0)

    def _count(
        self, index: np.ndarray, mask: np.ndarray, size: int, weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Per-replicate counts (or sums of ``weights``) of ``index`` values where ``mask``.

        Returns shape (size, R).
        """
        rows, cols = np.nonzero(mask)  # few acts fire on a day: work on those alone
        w = None if weights is None else weights[rows, cols]
        return self._count_at(index[rows, cols], cols, size, w)

    def _count_at(
        self, values: np.ndarray, cols: np.ndarray, size: int, weights: np.ndarray | None = None
    ) -> np.ndarray:
        """Per-replicate counts (or sums of ``weights``) of ``values`` found in columns ``cols``.

        Returns shape (size, R).
        """
        if self.kernel_engine == "numba" and weights is not None and weights.dtype.kind == "i":
            return kernels.compiled().count_at(values, cols, weights, size, self.r)
        flat = values * self.r + cols
        counts = np.bincount(flat, weights=weights, minlength=size * self.r).reshape(size, self.r)
        return counts if weights is None else counts.astype(np.int64)

    def _perceive(self) -> None:
        """(E10) Victims read the day's violations: trust, grievances, sanctions, corrections.

        Only the acts that fired matter: the rule reads them alone (``rows``, ``cols``).
        Compiled (:func:`sim.model._compiled.perceive_day`) unless the day is traced.
        """
        if self._kernels is not None and not self.record and self._perceive_compiled():
            return
        self._perceive_numpy()

    def _perceive_numpy(self) -> None:
        """:meth:`_perceive` in NumPy (the reference)."""
        acts, c = self.acts, self.constants
        rows, cols = np.nonzero(acts.fired)
        # int64 (a no-op on the agents' day): the compiled day's tables may be narrower.
        blamed = acts.blamed[rows, cols].astype(np.int64, copy=False)
        weight = acts.weight[rows, cols].astype(np.int64, copy=False)
        correct = self.correct_today[rows, cols]
        has_blame = blamed >= 0
        blamed_party = np.where(has_blame, self.edge_blamed[blamed], -1)
        misattributed = has_blame & (blamed_party != acts.culprit[rows, cols])
        delay = self.mission.delay
        corrected_now = misattributed & (acts.admitted[rows, cols] | (correct & (delay == 0)))
        corrected_later = misattributed & correct & ~corrected_now
        # A joint commission settles some incidents before they become grievances (E21).
        settled = self.settled_today[rows, cols]
        corrected_later &= ~settled
        perceived = has_blame & ~corrected_now & ~settled
        if c.contrition > 0:
            # (E9c) A culprit may accept the answer to what it truly did: no new grievance.
            ret = self.slot_retaliation
            answer = (rows >= ret.start) & (rows < ret.stop)
            u = np.concatenate([p.u["contrite"] for p in self.principals])
            at = (rows[answer] - ret.start, cols[answer])
            accepted = dec.contrite_acceptance(
                np.ones(len(at[0]), bool),
                acts.wrong[rows[answer], cols[answer]],
                u[at],
                c.contrition,
            )
            perceived[np.flatnonzero(answer)[accepted]] = False
        n_edges = self.trust.shape[0]
        counts = self._count_at(blamed[perceived], cols[perceived], n_edges, weight[perceived])
        # Verified reports due today undo one misread violation each (verification delay).
        if delay:
            slot = self.day % delay
            due = self.pending[slot] * self.alive
            if due.any():
                self.trust = dec.restore_trust(self.trust, self.trust_baseline, due, c.trust_loss)
                self.grievance_wrong &= due == 0
                self.grudge = np.maximum(self.grudge - due, 0.0)
            later = corrected_later
            self.pending[slot] = self._count_at(blamed[later], cols[later], n_edges, weight[later])
        new_trust = dec.update_trust(
            self.trust, self.trust_baseline, counts, c.trust_loss, c.forgiveness
        )
        self.trust = np.where(self.alive, new_trust, self.trust)
        answered = acts.fired[self.slot_retaliation]
        new_grudge = dec.update_grudge(self.grudge, counts, answered, c.grudge_memory)
        self.grudge = np.where(self.alive, new_grudge, self.grudge)
        # Grievances: the latest perceived violation on each edge, and whether it was misread.
        edges, where, at = blamed[perceived], cols[perceived], (rows[perceived], cols[perceived])
        self.grievance[edges, where] = acts.origin[at]
        self.grievance_wrong[edges, where] = misattributed[perceived]
        self.grievance_theatre[edges, where] = acts.theatre[at]
        # A party that accepted only conditionally returns to war at the first violation it
        # perceives against it (E2b).
        if self.conditional.any():
            hurt = np.stack([counts[e].sum(0) for e in self.edges_of]) > 0
            self.at_war |= self.conditional & hurt & self.alive
        # Sponsors sanction their clients for violations the mission verified (E4).
        # Acts with no culprit (a government's ground offensive under the exemptions, E22)
        # break no term: nobody is sanctioned for them. A principal is the culprit of its own
        # acts and of its inside spoilers' (E8b).
        culprit = acts.culprit[rows, cols].astype(np.int64, copy=False)
        verified = correct & (culprit >= 0)
        if verified.any():
            sanctions = self._count_at(culprit[verified], cols[verified], self.n_principals)
            self.strength -= self.sanction_cut * sanctions
            np.clip(self.strength, 0.0, 1.0, out=self.strength)
        else:  # nothing verified (e.g. no mission): nobody is sanctioned
            sanctions = np.zeros((self.n_principals, self.r), np.int64)
        self._sanctions = sanctions

    def _perceive_compiled(self) -> bool:
        """The compiled :meth:`_perceive`; False (nothing written) if it cannot run today."""
        if self.constants.contrition > 0:
            u_contrite = np.concatenate([p.u["contrite"] for p in self.principals])
        else:
            u_contrite = np.zeros((1, 1))
        sanctions = np.zeros((self.n_principals, self.r))
        identity = np.arange(self.r)
        listed = self._list_fired()
        args = self._perceive_args(listed, u_contrite, 0, identity, sanctions)
        delay = self.mission.delay
        status = self._kernels.perceive_day(  # type: ignore[union-attr]
            self.day % delay if delay else 0, len(listed["rows"]), *args
        )
        if status < 0:  # more perceived violations on an edge than the table of powers holds
            return False
        self._sanctions = sanctions if status else np.zeros((self.n_principals, self.r), np.int64)
        return True

    def _perceive_args(
        self,
        listed: dict[str, np.ndarray],
        u_contrite: np.ndarray,
        contrite_at: int,
        ids: np.ndarray,
        sanctions: np.ndarray,
    ) -> tuple:
        """:func:`sim.model._compiled.perceive_day`'s arguments after the first two.

        The first two: the day's slot in the ring buffer of corrections and the number of
        acts that fired (listed in ``listed``: :data:`LISTED`).
        """
        acts, c, ret = self.acts, self.constants, self.slot_retaliation
        return (
            listed["rows"],
            listed["cols"],
            acts.fired,
            listed["blamed"],
            listed["weight"],
            listed["culprit"],
            listed["admitted"],
            listed["origin"],
            listed["theatre"],
            listed["wrong"],
            listed["correct"],
            listed["settled"],
            self.edge_blamed,
            ret.start,
            ret.stop,
            float(c.contrition),
            u_contrite,
            contrite_at,
            ids,
            self.mission.delay,
            self.pending,
            self.trust,
            self.trust_baseline,
            self.grudge,
            self.alive,
            self.grievance,
            self.grievance_wrong,
            self.grievance_theatre,
            self.conditional,
            self.at_war,
            self._tables["edge_ptr"],
            self._tables["edge_list"],
            self.strength,
            self.sanction_cut,
            self._tables["powers"],
            float(c.forgiveness),
            self._tables["grudge_decay"],
            sanctions,
        )

    def _tally(self) -> None:
        """The day's violence by origin, party and theatre; calm; the first violator."""
        if self._kernels is not None:
            self._tally_compiled()
            return
        acts, fired, n_t = self.acts, self.acts.fired, self.n_theatres
        tally = kernels.compiled().tally if self.kernel_engine == "numba" else kernels.tally_numpy
        by_cell, by_party, suffered, rets, wrong_rets, detected, attributed = tally(
            fired,
            acts.origin,
            acts.theatre,
            acts.weight,
            acts.actor,
            acts.target,
            acts.retaliation,
            acts.wrong,
            self.detected_today,
            self.correct_today,
            n_t,
            len(ORIGINS) * n_t,
            len(self.party_names),
            self.n_principals,
        )
        by_cell = by_cell.reshape(len(ORIGINS), n_t, self.r)
        by_origin = by_cell.sum(1)
        self.theatre_violence = by_cell.sum(0)
        self.violence = by_origin.sum(0)
        self.origin_total += by_origin
        self.party_total += by_party
        self.retaliations += rets
        self.wrong_retaliations += wrong_rets
        self.detected += detected
        self.attributed += attributed
        first = fired.any(0) & (self.first_violation_day < 0)
        if first.any():
            row = np.argmax(fired * self.first_priority, axis=0)
            self.first_violator[first] = acts.actor[row, np.arange(self.r)][first]
            self.first_violation_day[first] = self.day
        w = self.day % len(self.high_window)
        self.high_window[w] = self.theatre_violence >= self.scenario.truce.collapse.threshold
        self.origin_window[w] = by_cell
        # A theatre is calm on a quiet day while it holds; the truce gives access when all are.
        calm = self.theatre_violence <= self.constants.access_threshold
        calm &= self.theatre_alive & self.alive
        self.calm_today = calm
        self.access_days += calm.all(0)
        self.calm_streak = np.where(calm, self.calm_streak + 1, 0)
        self.calm = np.minimum(1.0, self.calm_streak / self.constants.calm_days)
        self.suffered = suffered

    def _tally_compiled(self) -> None:
        """The compiled :meth:`_tally` (:func:`sim.model._compiled.tally_day`), in place."""
        if not isinstance(getattr(self, "suffered", None), np.ndarray):
            self.suffered = np.zeros((self.n_principals, self.r), np.int64)
        listed = self._list_fired()
        self._kernels.tally_day(  # type: ignore[union-attr]
            self.day,
            self.day % len(self.high_window),
            len(listed["rows"]),
            *self._tally_args(listed),
        )

    def _tally_args(self, listed: dict[str, np.ndarray]) -> tuple:
        """:func:`sim.model._compiled.tally_day`'s arguments after the first three.

        The first three: the day, its slot in the window and the number of acts that
        fired (listed in ``listed``: :data:`LISTED`).
        """
        acts, c = self.acts, self.constants
        return (
            listed["rows"],
            listed["cols"],
            acts.fired,
            listed["origin"],
            listed["theatre"],
            listed["weight"],
            listed["actor"],
            listed["target"],
            acts.retaliation,
            listed["wrong"],
            listed["detected"],
            listed["correct"],
            listed["priority"],
            acts.actor,
            self.alive,
            self.theatre_alive,
            len(ORIGINS),
            len(self.party_names),
            self.n_principals,
            self.scenario.truce.collapse.threshold,
            c.access_threshold,
            c.calm_days,
            self.origin_total,
            self.party_total,
            self.retaliations,
            self.wrong_retaliations,
            self.detected,
            self.attributed,
            self.first_violator,
            self.first_violation_day,
            self.high_window,
            self.origin_window,
            self.access_days,
            self.calm_streak,
            self.theatre_violence,
            self.violence,
            self.calm_today,
            self.calm,
            self.suffered,
        )

    def _listed_tables(self) -> dict[str, np.ndarray]:
        """The tables of the acts' shape that :data:`LISTED` copies, by name (not the first two)."""
        acts = self.acts
        return {
            "origin": acts.origin,
            "theatre": acts.theatre,
            "weight": acts.weight,
            "actor": acts.actor,
            "target": acts.target,
            "blamed": acts.blamed,
            "culprit": acts.culprit,
            "wrong": acts.wrong,
            "admitted": acts.admitted,
            "priority": self.first_priority,
            "detected": self.detected_today,
            "correct": self.correct_today,
            "settled": self.settled_today,
        }

    def _list_fired(self) -> dict[str, np.ndarray]:
        """The acts that fired today and their fields (:data:`LISTED`), with NumPy."""
        rows, cols = np.nonzero(self.acts.fired)
        listed = {"rows": rows, "cols": cols}
        for name, table in self._listed_tables().items():
            listed[name] = table[rows, cols]
        return listed

    # ------------------------------------------------------------------ the compiled day
    def _step_compiled(self) -> None:
        """One day in kernels (:mod:`sim.model._compiled`), from the draws to the collapse.

        The same phases as the agents' methods, in the same order and with the same
        numbers: a handful of kernel calls, each handed a tuple of arguments built once
        (:meth:`_compiled_args`) and built again only when an array it holds is replaced
        (compaction, a day played by a human or traced). The kernels read the agents'
        uniforms in the streams' buffers (columns ``ids``), write in place, and write an
        act's fields other than ``fired`` where it fired alone (:mod:`sim.model.acts`).
        The phases left to Python (:data:`PY_PHASES`: shifts, the mediator) may bind
        new arrays to the model's state: :meth:`_repin` copies them back.
        """
        if self._args is None:
            self._prepare_compiled()
        a, k, day = self._args, self._calls, self.day
        assert a is not None
        self.acts.fired[:] = False  # the other fields are written where an act fires
        self._draw_compiled()
        for agents in self._acting["shift"]:
            agents.do("shift")
            self._repin()
        k["strike"](*a["strike"])
        for call, args in zip(k["accident"], a["accident"], strict=True):
            call(*args)
        for call, args in zip(k["attack"], a["attack"], strict=True):
            call(*args)
        k["deter"](*a["deter"])
        k["gains"](day, *a["gains"])
        np.exp(self._gain_arg, out=self._growth)  # NumPy's exponential, all in one call
        k["acts"](*a["acts"])
        k["retaliate"](*a["retaliate"])
        fired = k["observe"](day, *a["observe"])  # the acts that fired, listed
        delay = self.mission.delay
        if k["perceive"](day % delay if delay else 0, fired, *a["perceive"]) < 0:
            self._unlist(fired)
            self._hand_out([(plan, plan.shares) for plan in self._draws])
            self._perceive_numpy()
            self._repin()
        k["tally"](day, day % len(self.high_window), fired, *a["tally"])
        for agents in self._acting["mediate"]:
            agents.do("mediate")
            self._repin()
        k["recover"](*a["recover"])
        if self.constants.consolidation_rate > 0:
            k["consolidate"](*a["consolidate"])
        status = k["collapse"](day, *a["collapse"])
        if status < 0:
            self._collapse_numpy()
        elif status:  # (E15) the escalation days: NumPy's log1p between two kernels
            n = k["escalate_begin"](*a["escalate_begin"])
            log_u = np.log1p(self._neg_u[:n])
            log_p = np.log1p(self._neg_p[:n])
            k["escalate_end"](n, self._ends, log_u, log_p, self.escalation, self.alive)

    def _unlist(self, n: int) -> None:
        """What the observe kernel listed of the ``n`` acts that fired, into the model's tables.

        The mission's and the commissions' verdicts (``detected_today``, ``correct_today``,
        ``settled_today``), which the NumPy methods read where an act fired.
        """
        rows, cols = self._listed["rows"][:n], self._listed["cols"][:n]
        for name in ("detected", "correct", "settled"):
            getattr(self, f"{name}_today")[rows, cols] = self._listed[name][:n]

    def _draw_compiled(self) -> None:
        """The day's draws into the streams' buffers; the Python phases get their shares."""
        for call, argument in self._draw_ops:
            call(argument)
        self._hand_out(self._python_shares)

    def _hand_out(self, plans: list[tuple[DayDraws, list]]) -> None:
        """Give agents their shares of today's draws (their own columns once compacted)."""
        r, compacted = self.r, self.r < self.replicates
        for plan, shares in plans:
            u = np.take(plan.buffer, self.ids, axis=1) if compacted else plan.buffer
            for store, name, rows_of, shape in shares:
                store[name] = u[rows_of].reshape(*shape, r)

    def _add_daily_compiled(self) -> int:
        """:meth:`_add_daily` of the compiled day; returns the truces holding."""
        assert self._args is not None
        d = self._daily
        w = self.day % len(self.origin_window)
        live = self._calls["daily"](self.day, w, *self._args["daily"])
        # ``_mean_trust() @ self.alive``, both written by the kernel (``alive`` as floats).
        d["trust"][self.day - 1] = self._mean @ self._holding
        return live

    def _repin(self) -> None:
        """Copy state that NumPy code bound to new arrays into the arrays the kernels hold."""
        for name, pinned in self._pinned.items():
            value = getattr(self, name)
            if value is not pinned:
                pinned[...] = value
                setattr(self, name, pinned)

    def _prepare_compiled(self) -> dict[str, Any]:
        """The compiled day's scratch arrays, draw calls and arguments (:meth:`_compiled_args`)."""
        r, n_p, acts = self.r, self.n_principals, self.acts
        slots = len(self._tables["decide"]["theatre_list"])
        scratch = {
            "_gain_arg": ((slots, r), np.float64),
            "_growth": ((slots, r), np.float64),
            "_sanctions": ((n_p, r), np.float64),
            "_ending": ((r,), bool),
            "_ending_fatigue": ((r,), np.float64),
            "_ending_resolve": ((r,), np.float64),
            "_ends": ((r,), np.int64),
            "_neg_u": ((r,), np.float64),
            "_neg_p": ((r,), np.float64),
            "_mean": ((r,), np.float64),
            "_holding": ((r,), np.float64),
            "suffered": ((n_p, r), np.int64),
            "detected_today": ((acts.n, r), bool),
            "correct_today": ((acts.n, r), bool),
            "settled_today": ((acts.n, r), bool),
        }
        for name, (shape, dtype) in scratch.items():
            value = getattr(self, name, None)
            if not isinstance(value, np.ndarray) or value.shape != shape or value.dtype != dtype:
                setattr(self, name, np.zeros(shape, dtype))
        if self.correct_today is self.detected_today:  # the absent mission's one array
            self.correct_today = self.detected_today.copy()
        # The acts' integer fields in the narrowest type that holds them: a wide chunk's
        # tables then stay in cache where the kernels scatter an act's fields.
        acts.cast(self._act_dtype)
        # The acts that fired today and their fields, listed by the observe kernel (room for
        # every act): in a dict, as they are not per-replicate arrays (compaction leaves
        # them alone). Allocated, not filled: only the pages of the acts listed are touched.
        listed = getattr(self, "_listed", {})
        if not listed or listed["rows"].size < acts.n * r:
            # Integers listed as int64 whatever the tables' type (the agents' day's lists).
            dtypes: dict[str, Any] = {"rows": np.int64, "cols": np.int64}
            dtypes.update(
                {
                    name: np.int64 if v.dtype.kind == "i" else v.dtype
                    for name, v in self._listed_tables().items()
                }
            )
            self._listed = {name: np.zeros(acts.n * r, dtypes[name]) for name in LISTED}
        if getattr(self, "_start_adversary", None) is None:
            self._start_adversary = np.concatenate(
                [p.start_adversary_strength for p in self.principals]
            )
        # The draws as calls: ``generator.random(None, out=rows)``, or a jump over unread rows.
        self._draw_ops: list[tuple[Any, Any]] = []
        for plan in self._draws:
            at = 0
            for rows, read in plan.segments:
                if read:
                    view = plan.buffer[at : at + rows]
                    self._draw_ops.append(
                        (functools.partial(plan.generator.random, out=view), None)
                    )
                    at += rows
                else:
                    advance = cast(Any, plan.generator.bit_generator).advance
                    self._draw_ops.append((advance, rows * self.replicates))
        # Where each agent's uniforms lie in its stream's buffer (the draws' layout).
        share = self._share
        self._offsets = {
            "decide_at": np.array([share(p, "decide")[1] for p in self.principals], np.int64),
            "dissent_at": np.array([share(sp, "dissent")[1] for sp in self.sponsors], np.int64),
            "loop_at": np.array([share(sp, "loophole")[1] for sp in self.sponsors], np.int64),
        }
        self._pinned = {name: getattr(self, name) for name in REBOUND}
        self._args = args = self._compiled_args()
        # Each kernel found once for its arguments' types (``_compiled.entry``); the
        # arguments that change every day (the day, its slot in a ring buffer) are ints.
        k = self._kernels
        assert k is not None
        leading = {"gains": 1, "observe": 1, "perceive": 2, "tally": 3, "collapse": 1, "daily": 2}
        kernels_of = {
            "strike": k.strike_day,
            "deter": k.deter_day,
            "gains": k.decide_gains,
            "acts": k.decide_acts,
            "retaliate": k.retaliate_day,
            "observe": k.observe_day,
            "perceive": k.perceive_day,
            "tally": k.tally_day,
            "recover": k.recover_day,
            "consolidate": k.consolidate_day,
            "collapse": k.collapse_day,
            "daily": k.daily_day,
            "escalate_begin": k.escalate_begin,
        }
        self._calls: dict[str, Any] = {
            name: k.entry(kernel, (0,) * leading.get(name, 0) + args[name])
            for name, kernel in kernels_of.items()
        }
        self._calls["escalate_end"] = k.entry(
            k.escalate_end, (0, self._ends, self._neg_u, self._neg_p, self.escalation, self.alive)
        )
        self._calls["accident"] = [k.entry(k.accident_day, x) for x in args["accident"]]
        self._calls["attack"] = [k.entry(k.attack_day, x) for x in args["attack"]]
        return args

    def _share(self, agent: Any, name: str) -> tuple[np.ndarray, int]:
        """The buffer and first row of an agent's draw ``name``; (empty, -1) if not drawn."""
        return self._share_at.get((id(agent.u), name), (self._no_draws, -1))

    #: The buffer handed to a kernel for a draw nobody makes (never read).
    _no_draws = np.zeros((1, 1))

    def _compiled_args(self) -> dict[str, Any]:
        """Every kernel's arguments on the compiled day (but the day and what follows it).

        Built from the model's arrays as they are bound now, without allocating any:
        ``test_kernels`` rebuilds them after every day and checks that each array is the
        one the kernels were handed.
        """
        c, acts, t, mission = self.constants, self.acts, self._tables, self.mission
        d, st = t["decide"], t["strike"]
        ids, gov, mc = self.ids, self.government, mission.config
        u_dissent, _ = self._share(self.sponsors[0], "dissent") if self.sponsors else (None, 0)
        loops = [self._share(sp, "loophole") for sp in self.sponsors]
        u_ground, ground_at = self._share(gov, "ground")
        args: dict[str, Any] = {}
        args["strike"] = (
            self.n_theatres,
            self.present,
            self.faction_index,
            self.strength,
            self.edge_index,
            st["party"],
            st["backs_government"],
            st["offscript_p"],
            st["offscript_row"],
            st["client_ptr"],
            st["client_flat"],
            self._no_draws if u_dissent is None else u_dissent,
            self._offsets["dissent_at"],
            st["loop_ptr"],
            st["loop_start"],
            self._offsets["loop_at"],
            st["loop_p"],
            st["loop_target"],
            st["loop_blamed"],
            next((u for u, at in loops if at >= 0), self._no_draws),
            st["ground_start"],
            st["ground_p"],
            st["ground_target"],
            st["ground_blamed"],
            ground_at,
            u_ground,
            ids,
            acts.fired,
            acts.actor,
            acts.target,
            acts.blamed,
            acts.origin,
            acts.theatre,
        )
        args["accident"] = [
            (
                forces.incident.slice.start,
                *self._share(forces, "accident"),
                ids,
                self.n_theatres,
                self.principal_all,
                self.present,
                self.strength,
                float(forces.p_accident),
                t["theatre_buffer"],
                t["air_force_party"],
                forces.config.level,
                self.n_factions,
                self.blame_base,
                self.edge_index,
                c.blame_bias,
                acts.fired,
                acts.actor,
                acts.target,
                acts.theatre,
                acts.blamed,
                acts.origin,
                acts.admitted,
            )
            for forces in self.agents_by_type.get(ForeignForces, [])
        ]
        detection = mc.detection if mc else 0.0
        args["attack"] = [
            (
                group.spoiler.slice.start,
                *self._share(group, "attack"),
                ids,
                *t["groups"][k],
                c.spoiler_calm_boost,
                group.config.kind == "greedy",
                self.calm,
                self.theatre_coverage,
                mission.present,
                mission.withdrawn,
                detection,
                self.n_factions,
                self.blame_base,
                self.present,
                self.strength,
                self.edge_index,
                c.blame_bias,
                acts.fired,
                acts.actor,
                acts.target,
                acts.blamed,
                acts.culprit,
                acts.origin,
            )
            for k, group in enumerate(self.excluded_groups)
            if len(group.theatres)  # present in no theatre: nothing to attack
        ]
        args["deter"] = (
            self.theatre_coverage,
            mission.present,
            mission.withdrawn,
            detection,
            self.p_detect_today,
        )
        args["gains"] = (
            d["index"],
            d["slot_ptr"],
            d["theatre_list"],
            d["adv_ptr"],
            d["adv_flat"],
            self.strength,
            self._start_adversary,
            self.resolve,
            self.restraint_level,
            self.p_detect_today,
            d["guarantee"],
            self.trust,
            t["edge_ptr"],
            t["edge_list"],
            t["adv_list"],
            self.theatre_alive,
            self.alive,
            self.at_war,
            self.offensive_day,
            d["aims"],
            d["offensive"],
            c.regroup_weight,
            c.fear_weight,
            c.restraint_weight,
            c.reputation_cost,
            c.sanction_weight,
            c.gain_sensitivity,
            self._gain_arg,
        )
        u_decisions, _ = self._share(gov, "decide")
        args["acts"] = (
            d["index"],
            d["slot_ptr"],
            d["theatre_list"],
            d["adv_ptr"],
            d["adv_flat"],
            self._growth,
            u_decisions,
            self._offsets["decide_at"],
            ids,
            self.strength,
            self.fatigue,
            self.p_detect_today,
            d["buffer"],
            self.at_war,
            self.edge_index,
            c.base_propensity,
            d["unauthorised"],
            c.war_tempo,
            d["deliberate_start"],
            d["indiscipline_start"],
            acts.fired,
            acts.actor,
            acts.target,
            acts.blamed,
            acts.culprit,
            acts.origin,
            acts.weight,
        )
        args["retaliate"] = (
            t["ans_start"],
            t["edge_ptr"],
            t["edge_list"],
            t["adv_list"],
            u_decisions,
            self._share(gov, "answer")[1],
            ids,
            self.trust,
            self.grudge,
            self.fatigue,
            self.strength,
            self.restraint_level,
            self.grievance,
            self.grievance_wrong,
            self.grievance_theatre,
            self.guarantee_damping,
            self.edge_index,
            c.retaliation_threshold,
            c.retaliation_rate,
            c.retaliation_restraint,
            c.hostility_threshold,
            c.generosity,
            acts.fired,
            acts.actor,
            acts.target,
            acts.blamed,
            acts.culprit,
            acts.origin,
            acts.wrong,
            acts.theatre,
        )
        commissions = self.agents_by_type.get(JointCommissions, [])
        u_settle, settle_at = (
            self._share(commissions[0], "settle") if commissions else (self._no_draws, -1)
        )
        args["observe"] = (
            acts.fired,
            acts.theatre,
            acts.origin,
            self.alive,
            self.theatre_alive,
            mission.present,
            self.theatre_coverage,
            detection,
            mc.attribution if mc else 0.0,
            c.monitor_exposure,
            mc.risk_tolerance if mc else 0,
            mission.withdrawn,
            mission.attacks,
            mission.withdrawal_day,
            *self._share(mission, "observe"),
            self.theatre_commission,
            u_settle,
            settle_at,
            ids,
            acts.weight,
            acts.actor,
            acts.target,
            acts.blamed,
            acts.culprit,
            acts.wrong,
            acts.admitted,
            self.first_priority,
            self.first_violation_day,
            *(self._listed[name] for name in LISTED),
        )
        args["perceive"] = self._perceive_args(
            self._listed, *self._share(gov, "contrite"), ids, self._sanctions
        )
        args["tally"] = self._tally_args(self._listed)
        args["recover"] = (
            t["theatre_ptr"],
            t["theatre_list"],
            t["edge_ptr"],
            t["adv_list"],
            self.calm_today,
            self.alive,
            self.suffered,
            self.fatigue,
            self.strength,
            c.fatigue_gain,
            c.fatigue_recovery,
            c.regroup_rate,
        )
        args["consolidate"] = (
            self.calm_today,
            self.alive,
            c.consolidation_rate,
            self.trust_baseline,
        )
        args["collapse"] = self._collapse_args(
            self._ending, self._ending_fatigue, self._ending_resolve
        )
        args["daily"] = (
            self.origin_window,
            self.violence,
            self._daily["origin"],
            self.alive,
            self._daily["count"],
            self.trust,
            self._mean,
            self._holding,
        )
        args["escalate_begin"] = (
            self._ending,
            self._ending_fatigue,
            self._ending_resolve,
            self.escalation_u,
            c.escalation_rate,
            self._ends,
            self._neg_u,
            self._neg_p,
        )
        return args

    def _stale_arguments(self) -> list[str]:
        """The compiled day's arguments that are no longer the model's arrays (for tests)."""
        if self._args is None:
            return []
        stale = []

        def compare(name: str, held: Any, now: Any) -> None:
            if isinstance(now, np.ndarray):
                if held is not now:
                    stale.append(name)
            elif isinstance(now, (tuple, list)):
                if len(held) != len(now):
                    stale.append(name)
                else:
                    for i, (h, n) in enumerate(zip(held, now, strict=True)):
                        compare(f"{name}[{i}]", h, n)
            elif held != now:
                stale.append(name)

        fresh = self._compiled_args()
        for name, now in fresh.items():
            compare(name, self._args[name], now)
        return stale

    def _collapse_compiled(self) -> bool:
        """The compiled :meth:`_collapse` (:func:`sim.model._compiled.collapse_day`).

        False (nothing written) if it cannot run today; the escalation days (E15) of the
        truces that end are computed with NumPy, on those truces alone.
        """
        ending, fatigue, resolve = np.zeros(self.r, bool), np.zeros(self.r), np.zeros(self.r)
        status = self._kernels.collapse_day(  # type: ignore[union-attr]
            self.day, *self._collapse_args(ending, fatigue, resolve)
        )
        if status < 0:
            return False
        if status:
            self._escalate(ending, fatigue, resolve)
        return True

    def _escalate(self, ending: np.ndarray, fatigue: np.ndarray, resolve: np.ndarray) -> None:
        """(E15) The escalation days of the truces ``ending`` today, which then end."""
        end = np.flatnonzero(ending)
        self.escalation[end] = dec.escalation_days(
            self.escalation_u[end], fatigue[end], resolve[end], self.constants.escalation_rate
        )
        self.alive[end] = False

    def _collapse_args(self, ending: np.ndarray, fatigue: np.ndarray, resolve: np.ndarray) -> tuple:
        """:func:`sim.model._compiled.collapse_day`'s arguments after the day."""
        c, rule, t = self.constants, self.scenario.truce.collapse, self._tables
        return (
            self.alive,
            self.theatre_alive,
            self.high_window,
            rule.days_above,
            self.theatre_violence,
            rule.intensity,
            self.origin_window,
            self.origin_total,
            self._pre_origin,
            self.theatre_edges,
            t["spill_powers"],
            self.trust,
            self.strength,
            self.fatigue,
            self.resolve,
            t["edge_ptr"],
            t["edge_list"],
            t["adv_list"],
            c.withdrawal_trust,
            t["end_need"],
            self.theatre_cause,
            self.theatre_trigger,
            self.theatre_collapse_day,
            self.cause,
            self.trigger,
            self.collapse_day,
            ending,
            fatigue,
            resolve,
        )

    def _consolidate(self) -> None:
        """(E10b) A calm day raises the trust level that forgiveness heals toward.

        A day counts as calm for the truce when every theatre is calm.
        """
        calm = self.calm_today.all(0) & self.alive
        rate = self.constants.consolidation_rate
        if rate > 0:
            self.trust_baseline = dec.consolidate(self.trust_baseline, calm, rate)

    def _collapse(self) -> None:
        """(E13–E14, E13c) Theatres collapse; the end rule or a withdrawal ends the truce."""
        if self._kernels is not None and self._collapse_compiled():
            return
        self._collapse_numpy()

    def _collapse_numpy(self) -> None:
        """:meth:`_collapse` in NumPy (the reference)."""
        c, rule, end = self.constants, self.scenario.truce.collapse, self.scenario.truce.end
        live = self.theatre_alive & self.alive
        violent = dec.collapse_now(self.high_window.sum(0), rule.days_above)
        intense = self.theatre_violence >= rule.intensity
        falling = live & (violent | intense)
        window: np.ndarray | None = None  # the last week's violations (origins, T, R), if needed
        if falling.any():
            window = self.origin_window.sum(0)
            counts = np.where(window.sum(0) > 0, window, window.sum(1, keepdims=True))
            cause = dec.dominant_origin(counts)
            self.theatre_cause[falling] = cause[falling]
            self.theatre_trigger[falling] = np.where(intense, INTENSITY, VIOLENCE)[falling]
            self.theatre_collapse_day[falling] = self.day
            self.theatre_alive &= ~falling
            # Spill-over: trust falls on every edge between the parties of a fallen theatre.
            hits = (self.theatre_edges[:, :, None] & falling[:, None, :]).sum(0)
            self.trust *= (1.0 - c.spill_over) ** hits
        withdrawn = self.weighted_trust(0) < c.withdrawal_trust
        for i in range(1, self.n_principals):
            withdrawn |= self.weighted_trust(i) < c.withdrawal_trust
        fallen = (~self.theatre_alive).sum(0)
        if end.rule == "first":
            over = fallen > 0
        elif end.rule == "share":
            over = fallen >= max(end.share * self.n_theatres, 1)
        else:
            over = fallen == self.n_theatres
        ending = self.alive & (over | withdrawn)
        if not ending.any():
            return
        if window is None:
            window = self.origin_window.sum(0)
        # The cause: what fell today (or, on a withdrawal alone, every theatre's last week).
        today = np.where(falling.any(0), (window * falling).sum(1), window.sum(1))
        counts = np.where(today.sum(0) > 0, today, self.origin_total + self._pre_origin)
        self.cause[ending] = dec.dominant_origin(counts)[ending]
        trigger = np.where(
            over & falling.any(0),
            np.where((intense & falling).any(0), INTENSITY, VIOLENCE),
            WITHDRAWAL,
        )
        self.trigger[ending] = trigger[ending]
        self.collapse_day[ending] = self.day
        weights = self.strength
        fatigue = dec.weighted_mean(self.fatigue, weights)
        resolve = dec.weighted_mean(self.resolve, weights)
        esc = dec.escalation_days(self.escalation_u, fatigue, resolve, c.escalation_rate)
        self.escalation[ending] = esc[ending]
        self.alive &= ~ending

    # ------------------------------------------------------------------ before the start
    def _land_grab(self) -> None:
        """(E16) Lead time between announcement and start: everyone grabs ground.

        Every land-grab attack cuts its victim's trust and is a grievance still
        unanswered when the truce starts (E9b). It does not tire anyone: the
        scenario's fatigue is the parties' state at the start, the war before it
        included.
        """
        c = self.constants
        rng = self.streams["land_grab"]
        self._pre_origin = np.zeros((len(ORIGINS), self.r), np.int64)
        resolve = self.resolve
        lead = self.scenario.truce.lead_time
        adversaries = [self.edge_blamed[e] for e in self.edges_of]
        actor = np.broadcast_to(np.arange(self.n_principals)[:, None], (self.n_principals, self.r))
        n_edges = self.trust.shape[0]
        for day in range(-lead + 1, 1):
            u = rng.random((2, self.n_principals, self.r))
            fired = (u[0] < c.land_grab_rate * resolve) & (self.strength > 0)
            target = np.stack([self.pick(adv, u[1, i]) for i, adv in enumerate(adversaries)])
            edges = self.edge_index[target, actor]
            counts = self._count(edges, fired, n_edges)
            self.trust = dec.update_trust(
                self.trust, self.trust_baseline, counts, c.trust_loss, c.forgiveness
            )
            self.grudge = dec.update_grudge(self.grudge, counts, np.zeros(1), c.grudge_memory)
            self.pre_truce_violations += fired.sum(0)
            self._pre_origin[DELIBERATE] += fired.sum(0)
            if self.record:
                self._record_lead_day(day, fired, target)
        for principal in self.principals:
            principal.start_adversary_strength = principal.adversary_strength()

    def _sign(self) -> None:
        """(E2b) Signing: each principal accepts, accepts only conditionally, or rejects.

        Reads uniforms from the signing stream, shape (2, principals, R): reject,
        conditional.
        """
        u = self.streams["signing"].random((2, self.n_principals, self.r))
        rejection = np.array([p.config.rejection for p in self.principals])[:, None]
        conditional = np.array([p.config.conditional for p in self.principals])[:, None]
        self.at_war = u[0] < rejection
        self.conditional = ~self.at_war & (u[1] < conditional)
        if self.record:
            for i in np.flatnonzero(self.at_war[:, self.trace_replicate]).tolist():
                self._event(0, "rejection", i, -1, "deliberate", blamed=-1)
            for i in np.flatnonzero(self.conditional[:, self.trace_replicate]).tolist():
                self._event(0, "conditional", i, -1, "", blamed=-1)

    # ------------------------------------------------------------------ running and outputs
    def run(self) -> CeasefireModel:
        """Step until every replicate has collapsed or reached the horizon."""
        while self.running:
            self.step()
        return self

    def results(self) -> pd.DataFrame:
        """One row per replicate truce (columns as in ``docs/RESULTS.md``)."""
        self._expand()
        collapsed = self.collapse_day > 0
        names = np.array(self.party_names, dtype=object)
        origins = np.array(ORIGINS, dtype=object)
        triggers = np.array(TRIGGERS, dtype=object)
        missing = np.full(self.r, None, dtype=object)

        def nullable(values: np.ndarray, mask: np.ndarray) -> pd.arrays.IntegerArray:
            return pd.arrays.IntegerArray(np.where(mask, values, 0).astype(np.int64), ~mask)

        violations = self.origin_total.sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            detected_share = np.where(violations > 0, self.detected / violations, np.nan)
            attributed_share = np.where(violations > 0, self.attributed / violations, np.nan)
        has_first = self.first_violation_day > 0
        data: dict[str, Any] = {
            "replicate": np.arange(self.r, dtype=np.int64),
            "horizon": np.full(self.r, self.horizon, np.int64),
            "collapsed": collapsed,
            "collapse_day": nullable(self.collapse_day, collapsed),
            "days_held": np.where(collapsed, self.collapse_day, self.horizon).astype(np.int64),
            "cause": pd.array(
                np.where(collapsed, origins[self.cause.clip(0)], missing), dtype="string"
            ),
            "collapse_trigger": pd.array(
                np.where(collapsed, triggers[self.trigger.clip(0)], missing),
                dtype="string",
            ),
            "first_violator": pd.array(
                np.where(has_first, names[self.first_violator.clip(0)], missing), dtype="string"
            ),
            "first_violation_day": nullable(self.first_violation_day, has_first),
            "violations": violations,
        }
        # Theatres (E13c): the first one's collapse, how many fell, and each one's fate.
        fell = self.theatre_collapse_day > 0
        first_fall = np.where(fell, self.theatre_collapse_day, np.iinfo(np.int64).max).min(0)
        data["first_collapse_day"] = nullable(first_fall, np.asarray(fell.any(0)))
        data["theatres_collapsed"] = fell.sum(0).astype(np.int64)
        for t, name in enumerate(self.theatre_names):
            data[f"theatre_{name}_collapse_day"] = nullable(self.theatre_collapse_day[t], fell[t])
            data[f"theatre_{name}_cause"] = pd.array(
                np.where(fell[t], origins[self.theatre_cause[t].clip(0)], missing), dtype="string"
            )
        for k, origin in enumerate(ORIGINS):
            data[f"violations_{origin}"] = self.origin_total[k]
        for k, name in enumerate(self.party_names):
            data[f"party_{name}"] = self.party_total[k]
        data |= {
            "retaliations": self.retaliations,
            "wrong_retaliations": self.wrong_retaliations,
            "detected": self.detected,
            "attributed": self.attributed,
            "detected_share": detected_share,
            "attributed_share": attributed_share,
        }
        # What each agent type adds (e.g. the mission's withdrawal day), in build order.
        for cls in ACTOR_TYPES:
            for agent in self.agents_by_type.get(cls, []):
                for column, (values, present) in agent.outputs().items():
                    data[column] = nullable(values, present)
        data |= {
            "access_days": self.access_days,
            "start_trust": self.start_trust,
            "pre_truce_violations": self.pre_truce_violations,
            "escalation_days": nullable(self.escalation, collapsed),
            "offensive_day": nullable(self.offensive_day, self.offensive_day > 0),
        }
        return pd.DataFrame(data)

    # ------------------------------------------------------------------ tracing one truce
    def _record_lead_day(self, day: int, fired: np.ndarray, target: np.ndarray) -> None:
        r0 = self.trace_replicate
        for i in np.flatnonzero(fired[:, r0]).tolist():
            victim = int(target[i, r0])
            self._event(day, "violation", i, victim, "deliberate", blamed=i, land_grab=True)
        self._day_row(day, "lead", int(fired[:, r0].sum()), {}, {})

    def _record_day(self, acts: Acts, detected: np.ndarray, correct: np.ndarray) -> None:
        r0 = self.trace_replicate
        by_origin: dict[str, int] = {}
        by_party: dict[str, int] = {}
        for row in np.flatnonzero(acts.fired[:, r0]):
            origin = ORIGINS[acts.origin[row, r0]]
            actor = self.party_names[acts.actor[row, r0]]
            by_origin[origin] = by_origin.get(origin, 0) + 1
            by_party[actor] = by_party.get(actor, 0) + 1
            edge = acts.blamed[row, r0]
            blamed = self.edge_blamed[edge] if edge >= 0 else -1
            self._event(
                self.day,
                "retaliation" if acts.retaliation[row] else "violation",
                acts.actor[row, r0],
                acts.target[row, r0],
                origin,
                blamed=blamed,
                detected=bool(detected[row, r0]),
                correct=bool(correct[row, r0]),
                culprit=acts.culprit[row, r0],
                admitted=bool(acts.admitted[row, r0]),
                wrong=bool(acts.wrong[row, r0]),
                channel=acts.kind[row],
                theatre=self.theatre_names[acts.theatre[row, r0]],
                intensity=int(acts.weight[row, r0]),
            )
        for i, n in enumerate(self._sanctions[:, r0]):
            if n:
                self._event(self.day, "sanction", i, i, "", blamed=-1)
        if self.n_theatres > 1:
            for t in np.flatnonzero(self.theatre_collapse_day[:, r0] == self.day).tolist():
                self._event(
                    self.day,
                    "theatre_collapse",
                    -1,
                    -1,
                    ORIGINS[self.theatre_cause[t, r0]],
                    blamed=-1,
                    theatre=self.theatre_names[t],
                    trigger=TRIGGERS[self.theatre_trigger[t, r0]],
                )
        if self.collapse_day[r0] == self.day:
            self._event(
                self.day,
                "collapse",
                -1,
                -1,
                ORIGINS[self.cause[r0]],
                blamed=-1,
                trigger=TRIGGERS[self.trigger[r0]],
            )
        phase = "truce" if self.alive[r0] or self.collapse_day[r0] == self.day else "collapsed"
        self._day_row(self.day, phase, int(self.violence[r0]), by_origin, by_party)

    def launch_offensive(self, index: int, launching: np.ndarray) -> None:
        """(E19) Principal ``index`` ends the pause where ``launching``: it goes to war."""
        launching = launching & self.alive & ~self.at_war[index]
        if not launching.any():
            return
        self.at_war[index] |= launching
        self.offensive_day[launching & (self.offensive_day < 0)] = self.day
        if self.record and launching[self.trace_replicate]:
            self._event(self.day, "offensive", index, -1, "deliberate", blamed=-1)

    def log_shift(self, party: int, name: str, field: str, value: float) -> None:
        """Record a shift (E18) in the traced replicate's event log."""
        if self.record:
            self._event(
                self.day, "shift", party, -1, "", blamed=-1, shift=name, field=field, value=value
            )

    def log_mission(self, hits: np.ndarray, leaving: np.ndarray) -> None:
        """Record attacks on the mission and its withdrawal in the trace."""
        if not self.record:
            return
        r0 = self.trace_replicate
        for row in np.flatnonzero(hits[:, r0]):
            self._event(self.day, "monitor_attack", self.acts.actor[row, r0], -1, "", blamed=-1)
        if leaving[r0]:
            self._event(self.day, "monitor_withdrawal", -1, -1, "", blamed=-1)

    def _event(
        self,
        day: int,
        kind: str,
        actor: int,
        target: int,
        origin: str,
        *,
        blamed: int,
        **extra: Any,
    ) -> None:
        event = {
            "day": int(day),
            "kind": kind,
            "actor": self.party_names[actor] if actor >= 0 else "",
            "target": self.party_names[target] if target >= 0 else "",
            "origin": origin,
            "blamed": self.party_names[blamed] if blamed >= 0 else "",
            "detected": bool(extra.pop("detected", False)),
            "correct": bool(extra.pop("correct", False)),
        }
        culprit = extra.pop("culprit", -1)
        event["culprit"] = self.party_names[culprit] if culprit >= 0 else ""
        event |= extra
        self.events_log.append(event)

    def _day_row(
        self, day: int, phase: str, violence: int, by_origin: dict, by_party: dict
    ) -> None:
        r0 = self.trace_replicate
        row: dict[str, Any] = {"day": day, "phase": phase, "violence": violence}
        row |= {f"violations_{o}": by_origin.get(o, 0) for o in ORIGINS}
        row |= {f"party_{p}": by_party.get(p, 0) for p in self.party_names}
        for p in self.principals:
            row[f"trust_{p.name}"] = float(self.trust[p.edges, r0].mean())
            row[f"fatigue_{p.name}"] = float(self.fatigue[p.index, r0])
        row["coverage"] = float(self.mission.coverage()[:, r0].mean())
        row["holding"] = bool(self.alive[r0])
        self.days_log.append(row)

    def trace_tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The day-by-day table and the event log of the traced replicate."""
        columns = [
            "day",
            "kind",
            "actor",
            "target",
            "origin",
            "blamed",
            "detected",
            "correct",
        ]
        events = pd.DataFrame(self.events_log)
        if events.empty:
            events = pd.DataFrame(columns=columns)
        return pd.DataFrame(self.days_log), events


class DayDraws(NamedTuple):
    """One stream's draws of a day: where they go and which rows are drawn or skipped.

    ``segments`` lists consecutive runs of rows of the stream's daily layout as
    ``(rows, read)``: read rows are drawn into ``buffer`` (full width, in order), unread
    ones are jumped over, so that every read number is the one it would be if all were
    drawn. ``shares`` hands each agent its rows of ``buffer``.
    """

    stream: str
    generator: np.random.Generator
    buffer: np.ndarray
    shares: list[tuple[dict, str, slice, tuple]]
    segments: tuple[tuple[int, bool], ...]


def _per_replicate(value: Any, width: int) -> bool:
    """Whether an attribute is per-replicate state: an array with the replicate axis last."""
    return isinstance(value, np.ndarray) and value.ndim > 0 and value.shape[-1] == width


def _copyable(value: np.ndarray, other: np.ndarray) -> bool:
    """Whether the compiled compaction may copy ``value``'s columns to or from ``other``.

    Numbers or booleans, both C-contiguous (their reshapes are views).
    """
    return value.dtype.kind in "biuf" and value.flags.c_contiguous and other.flags.c_contiguous
