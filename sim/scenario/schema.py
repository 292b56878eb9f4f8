"""Scenario schema: every parameter with its default, range and description, in one place.

The config classes are frozen pydantic models (the Starsim convention: defaults
in one place, unknown keys rejected with the list of valid ones). Each leaf
field also carries its source, its direction of effect on collapse and, for
the calibrated constants, its prior; :func:`parameters` returns all of it as
rows (``docs/MODEL.md``'s tables are generated from them), :func:`priors` the
calibration's priors. The cross-field rules are data (:data:`RULES`), checked
by the validators and read by :func:`bounds`, which gives the valid range of
a parameter in a given scenario (the classroom sliders use it); the other
cross-reference checks are :func:`reference_problems`. Loading files is
:mod:`sim.scenario.loading`.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NamedTuple

from annotated_types import Ge, Gt, Le, Lt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from sim.scenario.designs import Sweep, check_designs, parse_compare

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
RESERVED_NAMES = frozenset({"foreign_forces", "none", "all"})
ORIGINS = ("deliberate", "loophole", "accident", "spoiler", "indiscipline")

Unit = Annotated[float, Ge(0.0), Le(1.0)]
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=40)]


def _numeric(annotation: Any) -> bool:
    """Whether a field holds a number (int or float, possibly optional)."""
    args = typing.get_args(annotation) if typing.get_origin(annotation) else (annotation,)
    return any(a in (int, float) for a in args)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _no_bools_for_numbers(cls, data: Any) -> Any:
        """YAML's true/yes/on are not numbers (pydantic would read them as 1)."""
        if isinstance(data, Mapping):
            for name, value in data.items():
                field = cls.model_fields.get(name)
                if isinstance(value, bool) and field is not None and _numeric(field.annotation):
                    raise PydanticCustomError(
                        "bool_not_number", "{name}", {"name": name, "value": value}
                    )
        return data


# --------------------------------------------------------------------------- cross-field rules


def _value_at(root: Any, dotted: str) -> Any:
    """The value at a dotted path below ``root`` (a config object; "" is ``root`` itself)."""
    node = root
    for part in filter(None, dotted.split(".")):
        node = getattr(node, part)
    return node


def _within(path: str, scope: str) -> str:
    """``path`` relative to the section ``scope`` ("" for the whole scenario)."""
    return path.removeprefix(scope + ".") if scope else path


@dataclass(frozen=True)
class Param:
    """A limit that is the value of another parameter (a dotted path)."""

    path: str

    def value(self, root: Any, scope: str = "") -> float:
        """The limit in the scenario (or section ``scope``) ``root``."""
        return float(_value_at(root, _within(self.path, scope)))


@dataclass(frozen=True)
class CountOf:
    """A limit that is how many items of a list have a flag set (e.g. sponsors that fly)."""

    items: str
    flag: str

    @property
    def path(self) -> str:
        """The list the items are counted in."""
        return self.items

    def value(self, root: Any, scope: str = "") -> float:
        """The limit in the scenario (or section ``scope``) ``root``."""
        return float(
            sum(bool(getattr(x, self.flag)) for x in _value_at(root, _within(self.items, scope)))
        )


@dataclass(frozen=True)
class Rule:
    """A cross-field rule: the parameter at ``path`` is at most or at least a limit.

    Attributes:
        path: dotted path of the bounded parameter.
        op: ``"<="`` (at most the limit) or ``">="`` (at least the limit).
        limit: another parameter (:class:`Param`) or a count (:class:`CountOf`).
        message: what is wrong, with ``{value}`` and ``{limit}`` placeholders.
    """

    path: str
    op: Literal["<=", ">="]
    limit: Param | CountOf
    message: str

    @property
    def scope(self) -> str:
        """The smallest section that holds both sides (where the rule is checked)."""
        a, b = self.path.split(".")[:-1], self.limit.path.split(".")[:-1]
        common = []
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            common.append(x)
        return ".".join(common)

    def problem(self, root: Any, scope: str = "") -> str | None:
        """The message when ``root`` (the section at ``scope``) breaks the rule, else None."""
        value = _value_at(root, _within(self.path, scope))
        limit = self.limit.value(root, scope)
        ok = value <= limit if self.op == "<=" else value >= limit
        return None if ok else self.message.format(value=value, limit=_number(limit))


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


#: The cross-field rules, checked by the validators of the section that holds both sides.
RULES: tuple[Rule, ...] = (
    Rule(
        "truce.collapse.days_above",
        "<=",
        Param("truce.collapse.window"),
        "days_above ({value}) cannot exceed window ({limit})",
    ),
    Rule(
        "deconfliction.air_forces",
        ">=",
        CountOf("sponsors", "air_force"),
        "{value} is fewer than the {limit} sponsors that fly",
    ),
)


def rule_problems(root: Any, scope: str = "") -> Iterator[tuple[str, str]]:
    """Broken rules of :data:`RULES` checked at ``scope``, as (dotted path, message) pairs.

    Args:
        root: the scenario (``scope=""``) or the section at ``scope``.
        scope: the dotted path of ``root`` in a scenario.
    """
    for rule in RULES:
        if rule.scope == scope:
            message = rule.problem(root, scope)
            if message is not None:
                yield rule.path, message


# --------------------------------------------------------------------------- metadata
# Each leaf field carries, in ``json_schema_extra``, its ``source`` (the article, by title and
# outlet, or the study behind it; where the value is a modelling assumption it says so), its
# ``direction`` (what raising it does to the chance of collapse, as the model's equations in
# docs/MODEL.md have it) and, for the calibrated constants, its ``prior``. :func:`parameters`
# reads them back as data.

BI = (
    '"That proposed halt in fighting in Syria is now looking like a complete failure" '
    "(Business Insider, Feb 2016)"
)
UNZ = (
    '"US-Russian Ceasefire in Syria Has Broken Down, But Who Is at Fault?" '
    "(Patrick Cockburn, The Unz Review, Sep 2016)"
)
IC = '"Syria: Can Russia & US Broker a new Cease-Fire?" (Juan Cole, Informed Comment, Sep 2016)'
RD = '"The failure of the ceasefire in Syria …" (Russia Direct, Oct 2016)'
SW = "opinion blog post on the Southwest Syria ceasefire of July 2017 (opinion, not reporting)"
FORTNA_2003 = (
    'Fortna, "Scraps of Paper? Agreements and the Durability of Peace", '
    "International Organization 57 (2003)"
)
FORTNA_2008 = (
    "Fortna, *Does Peacekeeping Work?* (Princeton University Press, 2008), via the "
    "Kroc Institute's summary (second-hand)"
)
ETH_PRIO = (
    "ETH/PRIO Civil Conflict Ceasefire dataset, as reported by The Economist, "
    "1 Feb 2025 (second-hand)"
)
WU_AXELROD = (
    'Wu & Axelrod, "How to Cope with Noise in the Iterated Prisoner\'s Dilemma", '
    "Journal of Conflict Resolution 39 (1995)"
)
ZARTMAN = 'Zartman, "Ripeness" (Beyond Intractability essay)'
STEDMAN = 'Stedman, "Spoiler Problems in Peace Processes", International Security 22 (1997)'
UNSMIS = "UN Supervision Mission in Syria (UNSC Res. 2043, 2012; UN peacekeeping's mandate page)"
WIB = (
    "War is Boring, 31 Oct 2016: 84% of 105 failed ceasefires followed by an offensive, "
    "on average within 13 days"
)
ANNAN = (
    "Kofi Annan, UN–Arab League Joint Special Envoy for Syria, resigned on 2 Aug 2012 as the "
    "fighting went on (UN News, 2 Aug 2012)"
)
SETTLING = f"{FORTNA_2003}: mechanisms that settle incidents lengthen peace"
KARABAKH_OCT_2020 = (
    "the humanitarian ceasefires of 10, 17 and 25 Oct 2020 in Nagorno-Karabakh, each broken "
    "within hours with both sides accusing the other (Reuters and BBC News, Oct 2020)"
)
ANNAN_CONDITIONS = (
    "the Syrian government's acceptance of the Annan plan on condition of written guarantees "
    "from the opposition (Reuters and BBC News, 8–9 Apr 2012)"
)
KARABAKH_NOV_2020 = (
    "the Russian peacekeepers deployed along the line of contact in Nagorno-Karabakh under the "
    "ceasefire statement of 10 Nov 2020 (Reuters and BBC News, Nov 2020)"
)
GUARANTEES = (
    f"{FORTNA_2003}: demilitarised zones, third-party guarantees and peacekeeping, and joint "
    "commissions lengthen peace"
)
FREED_FORCES = (
    '"Activists: US tells rebels in Syria not to expect support" (Associated Press, 24 Jun '
    "2018): the offensive on Daraa came two months after the government retook Eastern Ghouta, "
    "which freed thousands of its soldiers; The National, June 2018"
)
SPONSOR_WANES = (
    '"US tells rebels in south Syria not to expect help against regime assault" (AFP, via The '
    "Times of Israel, 24 Jun 2018)"
)
NEW_GOVERNMENT = (
    '"Trump Ends Covert Aid to Syrian Rebels Trying to Topple Assad" (The New York Times, '
    "19 Jul 2017): a sponsor's new administration ended its predecessor's support"
)
ASSUMED = "Modelling assumption"
FITTED = "value: modelling assumption, fitted by `truce calibrate` (docs/VALIDATION.md)"
BY_HAND = "value: modelling assumption, set by hand (not calibrated)"
BOOKKEEPING = "Bookkeeping: no modelling content"
EXPERIMENT_DESIGN = (
    "Bookkeeping: experiment design (sim/scenario/designs.py), not a model parameter"
)

#: What raising a parameter does to the chance that a truce collapses.
RAISES = "raises collapse"
LOWERS = "lowers collapse"
DEPENDS = "depends"
NO_EFFECT = "none (bookkeeping)"
RUN_SETTING = "none (run setting)"
AFTER_COLLAPSE = "none (acts after collapse)"
DIRECTIONS = (RAISES, LOWERS, DEPENDS, NO_EFFECT, RUN_SETTING, AFTER_COLLAPSE)


def _f(
    default: Any,
    description: str,
    *,
    source: str,
    direction: str,
    prior: tuple[float, float, str] | None = None,
    depends_on: str | None = None,
    **bounds: Any,
) -> Any:
    """A field with a default, an optional range, a description, its source and direction.

    Args:
        default: the default value (``...`` for required).
        description: one line: what the parameter is.
        source: the article or study behind it (title and outlet), or why it has none.
        direction: what raising it does to collapse (one of :data:`DIRECTIONS`).
        prior: for a calibrated constant, (low, high, scale) of its prior, scale
            ``"linear"`` or ``"log"`` (uniform in the logarithm).
        depends_on: for direction :data:`DEPENDS`, what the direction depends on
            (required then: a two-signed lever says why).
        **bounds: pydantic constraints (``ge``, ``le``, ``max_length``, ...).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}")
    if (direction == DEPENDS) != bool(depends_on):
        raise ValueError("give depends_on exactly when the direction is 'depends'")
    extra: dict[str, Any] = {"source": source, "direction": direction}
    if depends_on:
        extra["depends_on"] = depends_on
    if prior is not None:
        low, high, scale = prior
        extra["prior"] = {"low": low, "high": high, "scale": scale}
    return Field(default, description=description, json_schema_extra=extra, **bounds)


def _name(default: Any = ..., description: str = "identifier used in results and overrides") -> Any:
    return _f(default, description, source=BOOKKEEPING, direction=NO_EFFECT)


def _label() -> Any:
    return _f("", "display name", source=BOOKKEEPING, direction=NO_EFFECT, max_length=80)


# --------------------------------------------------------------------------- terms


class Collapse(_Frozen):
    """When the truce counts as collapsed.

    See E13–E14.
    """

    model_config = ConfigDict(title="Collapse rule")

    threshold: int = _f(
        2,
        "violations in one day that count as a day of high violence",
        source=f"{ASSUMED}; the hindcast against the historical truces (docs/VALIDATION.md) "
        "checks it",
        direction=LOWERS,
        ge=1,
        le=50,
    )
    window: int = _f(
        7,
        "days looked back over (W)",
        source=f"{ASSUMED}: one week, the span over which a truce is read as over",
        direction=RAISES,
        ge=1,
        le=60,
    )
    days_above: int = _f(
        3,
        "high-violence days within the window that end the truce (K)",
        source=f"{ASSUMED}: sustained rather than isolated violence ends a truce; {UNZ} (a "
        "truce that never completely took hold)",
        direction=LOWERS,
        ge=1,
        le=60,
    )
    intensity: int = _f(
        10,
        "violations in one day in one theatre that end it at once (a truce that never takes hold)",
        source=f"{KARABAKH_OCT_2020}; {ASSUMED} for the value",
        direction=LOWERS,
        ge=1,
        le=500,
    )

    @model_validator(mode="after")
    def _rules(self) -> Collapse:
        for path, message in rule_problems(self, "truce.collapse"):
            raise PydanticCustomError("reference", "{message}", {"path": path, "message": message})
        return self


class End(_Frozen):
    """When the truce as a whole is over, given the collapse of its theatres.

    See E13c. A principal's withdrawal (E13b) ends the whole truce under every rule.
    """

    model_config = ConfigDict(title="End of the truce")

    rule: Literal["first", "share", "withdrawal"] = _f(
        "first",
        "first: the first theatre's collapse ends the truce; share: a share of the theatres "
        "must collapse; withdrawal: only a principal's withdrawal (or every theatre's collapse)",
        source=f"{UNZ} (escalation after collapse in some regions, not all); {SW} (a regional "
        "truce inside a national war)",
        direction=DEPENDS,
        depends_on="the rule: first ends a deal soonest, share later, withdrawal latest; with one"
        " theatre they coincide",
    )
    share: Unit = _f(
        0.5,
        "under the share rule, the share of theatres whose collapse ends the truce",
        source=f"{ASSUMED}: a deal is read as over once most of its zones are fighting again",
        direction=LOWERS,
    )


class Truce(_Frozen):
    """The terms of the truce."""

    model_config = ConfigDict(title="Truce terms")

    horizon: int = _f(
        365,
        "days simulated after the truce starts",
        source=f"{ETH_PRIO}: the stylized fact is stated at one year",
        direction=RUN_SETTING,
        ge=1,
        le=3650,
    )
    lead_time: int = _f(
        7,
        "days between announcement and start (pre-truce land grab)",
        source=f"{BI}: the Feb 2016 cessation was announced a week ahead and set off a "
        "last-minute grab for territory",
        # The land grab lowers the starting trust and leaves grievances unanswered (E16).
        direction=RAISES,
        ge=0,
        le=90,
    )
    exempted: tuple[Name, ...] = _f(
        (),
        "excluded groups that may still be struck under the truce",
        source=f'{BI} (strikes on ISIS and Nusra continued: a "licence to kill"); {IC} '
        "(strikes only on excluded groups)",
        direction=RAISES,
    )
    loophole_width: Unit = _f(
        0.5,
        "share of sponsors' strike tempo that continues under the exemptions",
        source=f"{BI} (the loopholes let Russia keep bombing); {IC}; {ASSUMED} for the value",
        direction=RAISES,
    )
    collapse: Collapse = Field(Collapse(), description="the collapse rule (per theatre)")
    end: End = Field(End(), description="when the collapse of theatres ends the whole truce")


# --------------------------------------------------------------------------- actors

_STRENGTH = (
    f"{RD} (Russian air support decides offensives); {SW} (the winning side); "
    "situational value per scenario"
)


class Party(_Frozen):
    """A principal party to the truce (government or opposition faction)."""

    model_config = ConfigDict(title="Principal party")

    name: Name = _name(description="identifier used in results and overrides (lower case, _)")
    label: str = _label()
    strength: Unit = _f(
        0.5,
        "relative military strength",
        source=_STRENGTH,
        direction=DEPENDS,
        depends_on="the side: a stronger party gains more by defecting (E2), while its "
        "adversaries gain less and regroup toward it (E12)",
    )
    resolve: Unit = _f(
        0.5,
        "hardline resolve: weight on military gains",
        source=f"{SW} (both sides aim at total control); {RD} (expected military gains); "
        "situational value per scenario",
        direction=DEPENDS,
        depends_on="the balance of strength: resolve multiplies the advantage (E2), which is "
        "negative for the weaker side, so it makes the stronger side defect more and "
        "the weaker less",
    )
    fatigue: Unit = _f(
        0.3,
        "war fatigue at the start (ripeness)",
        source=f'{ZARTMAN}; {RD} ("not tired enough of war"); situational value',
        direction=LOWERS,
    )
    cohesion: Unit = _f(
        0.8,
        "control of its own units (1 = full discipline)",
        source=f"{RD} (a sponsor cannot say which groups it controls); {STEDMAN} (spoilers "
        "inside the process); situational value",
        direction=LOWERS,
    )
    trust: Unit = _f(
        0.5,
        "trust in its adversaries before the announcement",
        source=f"{IC} (the last truce was used to gain ground); {UNZ} (chronic suspicion); "
        "situational value",
        direction=LOWERS,
    )
    rejection: Unit = _f(
        0.0,
        "chance it rejects the truce at signing in practice: its forces never stop fighting",
        source=f"{KARABAKH_OCT_2020}; situational value",
        direction=RAISES,
    )
    conditional: Unit = _f(
        0.0,
        "chance it accepts only conditionally: the first violation it perceives returns it to war",
        source=f"{ANNAN_CONDITIONS}; situational value",
        direction=RAISES,
    )
    aims: float = _f(
        1.0,
        "strength advantage over its adversaries in a theatre beyond which it ends the pause and "
        "launches an offensive (goes to war); 1: never; below 0: even while weaker",
        source=f"{SW} (a pause lets the losing side regroup; both sides still aim at total "
        f"control); {FREED_FORCES} (the offensive that ended the southwest deal); situational",
        direction=LOWERS,
        ge=-1.0,
        le=1.0,
    )


class Government(Party):
    """The government side.

    Values marked *situational* describe one truce and are set in each scenario file.
    """

    model_config = ConfigDict(title="Government")

    name: Name = _name("government")
    strength: Unit = _f(
        0.6,
        "relative military strength",
        source=_STRENGTH,
        direction=DEPENDS,
        depends_on="the side: a stronger party gains more by defecting (E2), while its "
        "adversaries gain less and regroup toward it (E12)",
    )
    ground_tempo: float = _f(
        0.0,
        "ground operations a day by its own forces against exempted groups (E22)",
        source=f'{BI} (the government\'s offensives against "terrorists" went on under the '
        "cessation); situational value",
        direction=RAISES,
        ge=0.0,
        le=20.0,
    )


class Faction(Party):
    """An opposition faction that is party to the truce.

    Each faction is one item of the `factions` list; address an item by index or name in
    `--set`, e.g. `factions.faction_a.strength=0.4`. Values marked *situational* describe one
    truce and are set in each scenario file.
    """

    model_config = ConfigDict(title="Opposition factions")

    entanglement: Unit = _f(
        0.2,
        "share of its positions co-located with exempted groups (the separation problem)",
        source=f"{IC} (the separation problem: opposition groups not separated from Nusra); "
        "situational value",
        direction=RAISES,
    )


class ExcludedGroup(_Frozen):
    """A group left out of the truce (a spoiler, e.g. ISIS or Nusra)."""

    model_config = ConfigDict(title="Excluded groups")

    name: Name = _name()
    label: str = _label()
    strength: Unit = _f(
        0.4,
        "military strength",
        source=f"{BI} (ISIS and Nusra left out of the truce); situational value",
        direction=RAISES,
    )
    spoiler_intent: Unit = _f(
        0.5,
        "will to wreck the truce (Stedman's limited → total)",
        source=f"{STEDMAN} (limited, greedy or total spoilers); situational",
        direction=RAISES,
    )
    kind: Literal["total", "greedy", "limited"] = _f(
        "total",
        "Stedman's type (E8b): total (attacks more as the truce holds calm), greedy (weighs "
        "the cost: attacks less where monitors would detect it), limited (aims that "
        "inducement can meet)",
        source=f"{STEDMAN} (spoilers are limited, greedy or total; custodians choose "
        "inducement, socialisation or coercion); direction depends on the truce's calm, the "
        "monitors' detection and the inducement offered: a total spoiler attacks more the "
        "longer the truce holds, a greedy one less where monitors watch, a limited one less as "
        "its demands are met",
        direction=DEPENDS,
        depends_on="the truce's calm, the monitors' detection and the inducement offered: a total "
        "spoiler attacks more the longer the truce holds, a greedy one less where "
        "monitors watch, a limited one less as its demands are met",
    )
    inducement: Unit = _f(
        0.0,
        "share of its demands the custodians meet (E8b; reaches a limited spoiler fully, a "
        "greedy one half, a total one not at all)",
        source=f"{STEDMAN} (inducement suits limited spoilers; greedy ones only with coercion; "
        f"total ones, whose aims are all or nothing, not at all); {ASSUMED} for the shares; "
        "direction depends on the group's kind: lowers collapse for limited and greedy "
        "spoilers, none for a total one",
        direction=DEPENDS,
        depends_on="the group's kind: lowers collapse for limited and greedy spoilers, none for a "
        "total one",
    )
    host: Name | None = _f(
        None,
        "inside spoiler: the principal from whose camp it operates (E8b); null: outside the "
        "process",
        source=f"{STEDMAN} (inside spoilers sign and use strategies of stealth; outside ones "
        "open violence); direction depends on the host: an inside spoiler hits only the "
        "host's adversaries and is always blamed on the host, which concentrates grievances "
        "on the host's edges, and verified attacks cost the host strength through its "
        "sponsors' sanctions (on the unmonitored baseline a government host raises collapse, "
        "a faction host lowers it slightly)",
        direction=DEPENDS,
        depends_on="the host: an inside spoiler hits only the host's adversaries and is always "
        "blamed on the host (on the unmonitored baseline a government host raises "
        "collapse, a faction host lowers it slightly)",
    )


class Sponsor(_Frozen):
    """An outside power backing one side."""

    model_config = ConfigDict(title="Sponsors")

    name: Name = _name()
    label: str = _label()
    clients: tuple[Name, ...] = _f(
        ...,
        "parties it backs (all on one side)",
        source=f"{UNZ} (regional backers decide the level of violence); {RD}",
        direction=DEPENDS,
        depends_on="whom the sponsor backs: its restraint (E1) falls on its clients, and its "
        "loophole strikes (E6) only come when it backs the government",
        min_length=1,
    )
    leverage: Unit = _f(
        0.5,
        "how much its clients depend on its support",
        source=f"{RD} (Russia can stop providing air support; the US cannot say which groups "
        f"it controls); {FORTNA_2003} (third-party guarantees)",
        direction=LOWERS,
    )
    commitment: Unit = _f(
        0.5,
        "how much it wants the truce to hold",
        source=f"{RD} (sponsors must make their clients stop); {BI} (sponsors postpone "
        "implementation talks)",
        direction=LOWERS,
    )
    strike_tempo: float = _f(
        1.0,
        "strikes per day on exempted groups",
        source=f"{BI}; {IC} (strikes on Nusra and ISIS continue); situational",
        direction=RAISES,
        ge=0.0,
        le=20.0,
    )
    dissent: Unit = _f(
        0.1,
        "internal dissent: chance of off-script strikes",
        source=f"{RD} (dissent inside a sponsor's own establishment)",
        direction=RAISES,
    )
    air_force: bool = _f(
        True,
        "flies its own aircraft in the theatre",
        source=f"{UNZ} (many foreign air forces in the theatre)",
        direction=RAISES,
    )


class Monitors(_Frozen):
    """A monitoring mission (absent when the section is null)."""

    model_config = ConfigDict(title="Monitoring mission")

    coverage: Unit = _f(
        0.5,
        "share of the front the mission observes",
        source=f'{UNZ} ("there needs to be monitors … or it will collapse"); {UNSMIS}; '
        f"{FORTNA_2008}",
        direction=LOWERS,
    )
    detection: Unit = _f(
        0.8,
        "chance a violation in covered ground is detected",
        source=f"{UNSMIS} (up to 300 unarmed observers); {ASSUMED} for the value",
        direction=LOWERS,
    )
    attribution: Unit = _f(
        0.85,
        "chance a detected violation is attributed to the right party",
        source=f'{UNZ} (blame "impossible to disentangle" without monitors); {ASSUMED} for '
        "the value",
        direction=LOWERS,
    )
    risk_tolerance: int = _f(
        6,
        "attacks on monitors the mission absorbs before withdrawing",
        source=f"{UNSMIS}: patrols attacked, operations suspended 15–16 Jun 2012 (Reuters, VOA "
        "and Guardian reports, Apr–Jun 2012)",
        direction=LOWERS,
        ge=0,
        le=1000,
    )
    verification_delay: int = _f(
        2,
        "days before a verified report reaches the parties",
        source=f"{ASSUMED}: days for a verified report to be delivered",
        direction=RAISES,
        ge=0,
        le=30,
    )


class Deconfliction(_Frozen):
    """Foreign air forces over the theatre and their coordination."""

    model_config = ConfigDict(title="Deconfliction")

    air_forces: int = _f(
        2,
        "foreign air forces flying in the theatre",
        source=f"{UNZ} (so many foreign powers engaged that they are bound to collide; the "
        "Deir ez-Zor raid of 17 Sep 2016)",
        direction=RAISES,
        ge=0,
        le=20,
    )
    level: Unit = _f(
        0.5,
        "coordination between them (notified strikes, shared reports)",
        source=f"{UNZ} (the US notified Russia before the Deir ez-Zor strike; cooperation "
        '"not enough to prevent accidents")',
        direction=LOWERS,
    )


class Mediator(_Frozen):
    """An envoy who works the parties day by day (absent when the section is null).

    See E17.
    """

    model_config = ConfigDict(title="Mediator")

    label: str = _label()
    effort: Unit = _f(
        0.3,
        "daily chance the envoy works the parties (shuttle diplomacy)",
        source=f"{SETTLING}; {ASSUMED} for the value",
        direction=LOWERS,
    )
    settle_share: Unit = _f(
        0.2,
        "share of the unanswered grievances settled on a day of work",
        source=f"{SETTLING}; {ASSUMED} for the value",
        direction=LOWERS,
    )
    trust_gain: Annotated[float, Ge(0.0), Le(0.1)] = _f(
        0.005,
        "share of the distance to full trust closed on a day of work",
        source=f"{SETTLING}; {ASSUMED} for the value",
        direction=LOWERS,
    )
    patience: int = _f(
        5,
        "days of work in a row that still see violence before the envoy gives up",
        source=f"{ANNAN}; {ASSUMED} for the value",
        direction=LOWERS,
        ge=1,
        le=365,
    )


class Theatre(_Frozen):
    """A theatre of the truce: a zone or front judged on its own (absent: one theatre).

    See E13 and E13c. Violence and collapse are judged per theatre; a party acts in every
    theatre it is present in.
    """

    model_config = ConfigDict(title="Theatres")

    name: Name = _name()
    label: str = _label()
    parties: tuple[Name, ...] = _f(
        (),
        "principals present (the government and at least one faction); empty: all of them",
        source=f"{SW} (a regional truce: Daraa, Quneitra, Suwayda); situational",
        direction=DEPENDS,
        depends_on="who meets where: a party present adds its own violence to the theatre's count"
        " and draws its adversaries' attacks there",
    )
    excluded: tuple[Name, ...] | None = _f(
        None,
        "excluded groups present; null: all of them",
        source=f"{IC} (the separation problem is local: rebels mixed in with Nusra in places)",
        direction=DEPENDS,
        depends_on="which groups: a group present adds its attacks (E8) and, when exempted, the "
        "strikes on it (E6)",
    )
    exempted: tuple[Name, ...] | None = _f(
        None,
        "excluded groups that may still be struck here; null: the truce's own exemptions",
        source=f"{BI} (the exemptions decide where strikes go on)",
        direction=DEPENDS,
        depends_on="entanglement: strikes on an exempted group only hit the factions mixed in "
        "with it (E6)",
    )
    coverage: Unit | None = _f(
        None,
        "share of this theatre the monitors observe; null: the mission's own coverage",
        source=f"{UNSMIS} (observers deployed in some towns, not others); {FORTNA_2008}",
        direction=LOWERS,
    )
    guarantor_troops: Unit = _f(
        0.0,
        "presence of an outside guarantor's troops or observation posts: a tripwire that "
        "raises the cost of attacking for every party here (E20); 0: none",
        source=f"{GUARANTEES}; {FORTNA_2008}; {KARABAKH_NOV_2020}; situational value",
        direction=LOWERS,
    )
    buffer_zone: Unit = _f(
        0.0,
        "share of the line of contact separated by a demilitarised buffer zone: cuts "
        "indiscipline and accidents' hits here by that share (E20)",
        source=f"{GUARANTEES}; situational value",
        direction=LOWERS,
    )
    joint_commission: Unit = _f(
        0.0,
        "daily chance that a joint commission settles an incident here before it becomes a "
        "grievance (E21); 0: none",
        source=f"{GUARANTEES}; {ASSUMED} for the value",
        direction=LOWERS,
    )


#: The fields a shift may change, by the kind of actor it names (E18).
SHIFT_FIELDS = {
    "principal": ("strength", "fatigue", "resolve"),
    "sponsor": ("leverage", "commitment"),
}
_SHIFT_DEPENDS = (
    "direction depends on the field shifted and the sign of the change: more strength or "
    "resolve for a party, less fatigue, less leverage or commitment for a sponsor raise collapse"
)


class Shift(_Frozen):
    """A change in the world during the truce: scheduled on a day, or at random (absent: none).

    See E18. Each shift names an actor (a principal or a sponsor) and one of its fields, and
    either a change (`by`) or a new value (`to`); it happens at the start of day `day`, or,
    when `day` is null, on a random day with the daily chance `chance` (at most once per truce).
    """

    model_config = ConfigDict(title="Shifts")

    name: Name = _name(description="identifier used in results (`shift_<name>_day`) and the trace")
    actor: Name = _f(
        ...,
        "the principal or sponsor it changes, by name",
        source=f"{FREED_FORCES} (a party); {SPONSOR_WANES} (a sponsor); {_SHIFT_DEPENDS}",
        direction=DEPENDS,
        depends_on=_SHIFT_DEPENDS.removeprefix("direction depends on "),
    )
    field: Literal["strength", "fatigue", "resolve", "leverage", "commitment"] = _f(
        ...,
        "the field changed: strength, fatigue or resolve of a principal; leverage or "
        "commitment of a sponsor",
        source=f"{FREED_FORCES} (strength); {SPONSOR_WANES} (commitment); {NEW_GOVERNMENT}; "
        f"{_SHIFT_DEPENDS}",
        direction=DEPENDS,
        depends_on=_SHIFT_DEPENDS.removeprefix("direction depends on "),
    )
    by: float | None = _f(
        None,
        "the change (may be negative; the result is clipped to [0, 1]); null: give `to`",
        source=f"{FREED_FORCES}; situational; {_SHIFT_DEPENDS}",
        direction=DEPENDS,
        depends_on=_SHIFT_DEPENDS.removeprefix("direction depends on "),
        ge=-1.0,
        le=1.0,
    )
    to: float | None = _f(
        None,
        "the new value; null: give `by`",
        source=f"{NEW_GOVERNMENT}; situational; {_SHIFT_DEPENDS}",
        direction=DEPENDS,
        depends_on=_SHIFT_DEPENDS.removeprefix("direction depends on "),
        ge=0.0,
        le=1.0,
    )
    day: int | None = _f(
        None,
        "the day it happens (at the start of the day); null: a random day, see `chance`",
        source=f"{FREED_FORCES} (Eastern Ghouta retaken two months before the offensive); "
        f"situational; {_SHIFT_DEPENDS}",
        direction=DEPENDS,
        depends_on=_SHIFT_DEPENDS.removeprefix("direction depends on "),
        ge=1,
        le=3650,
    )
    chance: float | None = _f(
        None,
        "when `day` is null: the daily chance that it happens (at most once per truce)",
        source=f"{NEW_GOVERNMENT} (a sponsor's change of government); situational; "
        f"{_SHIFT_DEPENDS}",
        direction=DEPENDS,
        depends_on=_SHIFT_DEPENDS.removeprefix("direction depends on "),
        ge=0.0,
        le=1.0,
    )


def _fitted(why: str) -> str:
    return f"{why}; {FITTED}"


def _by_hand(why: str) -> str:
    return f"{why}; {BY_HAND}"


class Constants(_Frozen):
    """Global constants shared by every scenario.

    Their defaults are fitted by `truce calibrate` (ABC rejection, seed 20120412, 120 points)
    against the historical truces and stylized facts (see docs/VALIDATION.md): those with a
    prior are calibrated, the others are set by hand. The source column says what motivates
    each term, not where the number was read.
    """

    model_config = ConfigDict(title="Constants")

    base_propensity: Annotated[float, Ge(0.0), Le(0.5)] = _f(
        3.38e-05,
        "daily chance of a deliberate violation at zero net gain, no fatigue",
        source=_fitted("Baseline rate of deliberate violation"),
        direction=RAISES,
        prior=(0.00003, 0.03, "log"),
    )
    gain_sensitivity: Annotated[float, Ge(0.0), Le(20.0)] = _f(
        2.6,
        "how sharply defection responds to net expected gain",
        source=_fitted(f"{RD} (expected military gains)"),
        direction=DEPENDS,
        depends_on="the sign of the net gain G − K: it sharpens defection where the gain exceeds "
        "the cost and damps it elsewhere (E4)",
        prior=(1.0, 8.0, "linear"),
    )
    fear_weight: Annotated[float, Ge(0.0), Le(5.0)] = _f(
        2.54,
        "weight of distrust (1 − trust) in the gain from striking first",
        source=_fitted(
            f"{IC} (the Pentagon distrusts Moscow, which it feels used the last ceasefire to "
            "hit US-backed rebels: distrust as a reason to strike first)"
        ),
        direction=RAISES,
        prior=(0.0, 3.0, "linear"),
    )
    reputation_cost: Annotated[float, Ge(0.0), Le(5.0)] = _f(
        0.5,
        "cost of a violation that the mission sees, before sponsor sanctions",
        source=_by_hand(
            f"{FORTNA_2003} (agreements with monitoring, guarantees and joint commissions last "
            "longer)"
        ),
        direction=LOWERS,
    )
    restraint_weight: Annotated[float, Ge(0.0), Le(5.0)] = _f(
        0.8,
        "weight of sponsors' leverage × commitment on their clients",
        source=_by_hand(f"{RD} (sponsors must make their clients stop)"),
        direction=LOWERS,
    )
    sanction_weight: Annotated[float, Ge(0.0), Le(5.0)] = _f(
        1.5,
        "expected cost of a verified violation through sponsor sanctions",
        source=_by_hand(f"{RD} (a sponsor can withdraw the air support its client depends on)"),
        direction=LOWERS,
    )
    sanction_strength: Unit = _f(
        0.03,
        "strength a sanctioned party loses per verified violation",
        source=_by_hand(f"{RD} (a sponsor can cut the support its client depends on)"),
        direction=DEPENDS,
        depends_on="who is sanctioned: a cut in a party's strength lowers its own gain from "
        "defecting (E2) but raises its adversaries' advantage",
    )
    indiscipline_rate: Unit = _f(
        0.0798,
        "daily chance of an unauthorised violation at cohesion 0",
        source=_fitted(f"{RD} (commanders who do not control their units)"),
        direction=RAISES,
        prior=(0.01, 0.08, "linear"),
    )
    offscript_rate: Unit = _f(
        0.05,
        "daily chance of an off-script sponsor strike at dissent 1",
        source=_by_hand(f"{RD} (dissent inside a sponsor)"),
        direction=RAISES,
    )
    loophole_hit: Unit = _f(
        0.0852,
        "chance a strike under an exemption hits a fully entangled party",
        source=_fitted(f"{IC} (the separation problem: rebels entangled with Nusra)"),
        direction=RAISES,
        prior=(0.02, 0.15, "linear"),
    )
    accident_rate: Unit = _f(
        0.004,
        "daily incidents per pair of uncoordinated air forces",
        source=_by_hand(f"{UNZ} (the Deir ez-Zor raid, 17 Sep 2016)"),
        direction=RAISES,
    )
    spoiler_rate: Unit = _f(
        0.252,
        "daily attack chance of an excluded group at strength × intent 1",
        source=_fitted(STEDMAN),
        direction=RAISES,
        prior=(0.05, 0.30, "linear"),
    )
    spoiler_calm_boost: Annotated[float, Ge(0.0), Le(10.0)] = _f(
        1.0,
        "extra spoiler activity once the truce has held calm (relative)",
        source=_by_hand(f"{STEDMAN} (spoilers act when a peace process threatens them)"),
        direction=RAISES,
    )
    calm_days: Annotated[int, Ge(1), Le(365)] = _f(
        30,
        "calm days over which spoiler activity builds up",
        source=f"{ASSUMED}: about a month for a lull to read as a lasting truce",
        direction=LOWERS,
    )
    blame_bias: Unit = _f(
        0.8,
        "chance an unattributed attack is blamed on the adversary",
        source=_by_hand(f"{UNZ} (chronic suspicion; blame impossible to disentangle)"),
        direction=RAISES,
    )
    trust_loss: Unit = _f(
        0.0933,
        "share of trust lost per perceived violation",
        source=_fitted(f"{WU_AXELROD} (responses to perceived defection)"),
        direction=RAISES,
        prior=(0.05, 0.35, "linear"),
    )
    forgiveness: Unit = _f(
        0.0219,
        "daily recovery of trust toward its healing level (E10, E10b)",
        source=_fitted(f"{WU_AXELROD} (generous tit-for-tat recovers from accidental defections)"),
        direction=LOWERS,
        prior=(0.01, 0.10, "linear"),
    )
    retaliation_threshold: Unit = _f(
        0.647,
        "trust below which a party retaliates",
        source=_fitted(f"{WU_AXELROD} (retaliation after perceived defection)"),
        direction=RAISES,
        prior=(0.2, 0.7, "linear"),
    )
    retaliation_rate: Unit = _f(
        0.544,
        "daily chance of retaliation at zero trust and no fatigue (scaled by 1 − fatigue)",
        source=_fitted(WU_AXELROD),
        direction=RAISES,
        prior=(0.2, 1.0, "linear"),
    )
    retaliation_restraint: Unit = _f(
        0.0918,
        "how far sponsors' restraint (E1) also holds back retaliation (0: not at all)",
        source=_fitted(
            f'{RD} (Russia "can simply stop providing air support", which bears on any raid)'
        ),
        direction=LOWERS,
        prior=(0.0, 1.0, "linear"),
    )
    hostility_threshold: Unit = _f(
        0.0813,
        "trust below which a party attacks without a fresh grievance (0: never)",
        source=_fitted(f'{UNZ} ("a ceasefire which never completely took hold"); {IC} (distrust)'),
        direction=RAISES,
        prior=(0.0, 0.35, "linear"),
    )
    grudge_memory: Annotated[float, Ge(0.5), Le(365.0)] = _f(
        2.04,
        "days over which an unanswered grievance fades (e-folding time)",
        source=_fitted(
            f"{WU_AXELROD} (a response answers a defection; an unanswered one is let go); "
            "SOHR via EVIDENCE.md, second-hand (violence fell about 80% in the first days of "
            "the February 2016 cessation)"
        ),
        direction=RAISES,
        prior=(1.0, 20.0, "linear"),
    )
    consolidation_rate: Annotated[float, Ge(0.0), Le(0.1)] = _f(
        0.00192,
        "daily rise, on calm days, of the trust level that forgiveness heals toward",
        source=_fitted(
            f"{FORTNA_2008} (the risk of renewed war falls as peace lasts); {FORTNA_2003}"
        ),
        direction=LOWERS,
        prior=(0.0, 0.004, "linear"),
    )
    withdrawal_trust: Unit = _f(
        0.0627,
        "trust below which a party withdraws from the truce",
        source=_fitted(
            "Reuters and Newsweek, Apr 2016 (the opposition suspended talks on 18–19 Apr 2016, "
            f"ending the cessation of hostilities); {IC} (distrust)"
        ),
        direction=RAISES,
        prior=(0.01, 0.10, "linear"),
    )
    fatigue_gain: Unit = _f(
        0.0212,
        "fatigue gained per violation suffered",
        source=_fitted(f"{ZARTMAN} (a mutually hurting stalemate); {RD}"),
        direction=LOWERS,
        prior=(0.002, 0.03, "linear"),
    )
    fatigue_recovery: Unit = _f(
        0.002,
        "fatigue lost per calm day",
        source=_by_hand(f"{ZARTMAN} (ripeness fades when the hurting stops)"),
        direction=RAISES,
    )
    regroup_rate: Unit = _f(
        0.00596,
        "daily share of the strength gap the weaker side recovers in calm",
        source=_fitted(f"{SW} (a pause lets the losing side regroup)"),
        direction=RAISES,
        prior=(0.001, 0.01, "linear"),
    )
    regroup_weight: Annotated[float, Ge(0.0), Le(10.0)] = _f(
        2.0,
        "weight of the adversary's regrouping in the stronger side's gain",
        source=_by_hand(f"{SW}; {IC} (distrust: the last truce was used to gain ground)"),
        direction=RAISES,
    )
    land_grab_rate: Unit = _f(
        0.225,
        "daily chance of a land-grab attack before the start, at resolve 1",
        source=_fitted(f"{BI} (a last-minute grab for territory)"),
        direction=RAISES,  # as truce.lead_time: less trust, more grievances (E16)
        prior=(0.10, 0.60, "linear"),
    )
    monitor_exposure: Unit = _f(
        0.05,
        "chance a violation in covered ground hits monitors",
        source=_by_hand(f"{UNSMIS} (observers' patrols attacked)"),
        direction=RAISES,
    )
    access_threshold: Annotated[int, Ge(0), Le(50)] = _f(
        1,
        "violations per day at or below which humanitarian access is possible",
        source=f"{IC} (aid access among the deal's terms); {SW} (safe zones and aid); {ASSUMED}",
        direction=DEPENDS,
        depends_on="the mechanism: more days count as calm, which consolidates trust (E10b) and "
        "lets fatigue fade (E11) and the weaker side regroup (E12) and spoilers grow "
        "bolder (E8)",
    )
    escalation_rate: Unit = _f(
        0.0525,
        "daily chance a collapsed truce turns into an offensive (scaled by fatigue, resolve)",
        source=_fitted(f"{WIB}; {UNZ} (escalation after collapse in some regions)"),
        direction=AFTER_COLLAPSE,
        prior=(0.04, 0.15, "linear"),
    )
    guarantee_weight: Annotated[float, Ge(0.0), Le(5.0)] = _f(
        1.0,
        "cost of attacking, per unit of guarantor troops in the theatre, in the units of E3 (E20)",
        source=_by_hand(
            f"{GUARANTEES}; {FORTNA_2008}: peacekeepers cut the risk of renewed war by "
            "55–85%, i.e. exp(−gain_sensitivity · guarantee_weight) of 0.15–0.45 at full "
            "presence, guarantee_weight 0.6–1.3"
        ),
        direction=LOWERS,
    )
    contrition: Unit = _f(
        0.0,
        "chance a party that truly committed the violation being answered accepts the answer "
        "without a new grievance (no trust cut, no grudge; E9c)",
        source=_by_hand(
            f"{WU_AXELROD} (contrite tit-for-tat: a player that defected by error accepts the "
            "punishment without answering it, which restores cooperation under noise); 0 leaves "
            "the mechanism off"
        ),
        direction=LOWERS,
    )
    generosity: Unit = _f(
        0.0,
        "daily chance a party lets a grudge go rather than answer it (scales E9 by "
        "1 − generosity; E9c)",
        source=_by_hand(
            f"{WU_AXELROD} (generous tit-for-tat: cooperating after some of the other's "
            "defections recovers from noise); 0 leaves the mechanism off"
        ),
        direction=LOWERS,
    )
    war_tempo: Annotated[int, Ge(1), Le(100)] = _f(
        10,
        "violations a day by a party at war in a theatre (rejection, conditional acceptance "
        "broken)",
        source=_by_hand(f"{KARABAKH_OCT_2020}: shelling went on at the pace of the war"),
        direction=RAISES,
    )
    spill_over: Unit = _f(
        0.3,
        "share of trust lost, on every edge between the parties of a theatre, when it collapses",
        source=_by_hand(
            f"{UNZ} (escalation after collapse in some regions, not all); {SW} (the southwest "
            "deal fell to an offensive after other zones had fallen)"
        ),
        direction=RAISES,
    )
    initial_spread: Annotated[float, Ge(0.0), Le(0.3)] = _f(
        0.05,
        "spread of initial strength, fatigue and trust across replicates",
        source=f"{ASSUMED}: uncertainty in the situational values",
        direction=DEPENDS,
        depends_on="the scenario: spreading the starting values widens the outcomes both ways",
    )


_RANGE_ON_RECORD = "Public record, where accounts differ on the end date"


class Observed(_Frozen):
    """What happened to a historical truce (for the hindcast).

    Given only in scenarios of historical truces.
    """

    model_config = ConfigDict(title="Hindcast")

    days_held: int = _f(
        ...,
        "days the truce held",
        source="Public record of the historical Syrian truces (validation table in "
        "docs/VALIDATION.md); each scenario cites its own in `observed.source`",
        direction=NO_EFFECT,
        ge=0,
        le=3650,
    )
    low: int | None = _f(
        None,
        "lower end when the record gives a range",
        source=_RANGE_ON_RECORD,
        direction=NO_EFFECT,
        ge=0,
    )
    high: int | None = _f(
        None,
        "upper end when the record gives a range",
        source=_RANGE_ON_RECORD,
        direction=NO_EFFECT,
        ge=0,
    )
    censored: bool = _f(
        False,
        "true when the truce was still holding after days_held (a right-censored record)",
        source="Public record: a truce still holding when the record ends, e.g. at the horizon",
        direction=NO_EFFECT,
    )
    source: str = _f(
        ...,
        "where the figure comes from",
        source="Bookkeeping: the citation for `observed.days_held`",
        direction=NO_EFFECT,
    )


# --------------------------------------------------------------------------- scenario


class Scenario(_Frozen):
    """A complete scenario: the truce, its actors and the model's constants."""

    model_config = ConfigDict(title="Top level")

    name: str = _f(
        "scenario",
        "scenario name (used for the results folder)",
        source=BOOKKEEPING,
        direction=NO_EFFECT,
        max_length=80,
    )
    description: str = _f(
        "", "one-line description", source=BOOKKEEPING, direction=NO_EFFECT, max_length=400
    )
    truce: Truce = Field(Truce(), description="the terms of the truce")
    government: Government = Field(Government(), description="the government")
    factions: tuple[Faction, ...] = Field(
        (Faction(name="faction_a"),),
        description="opposition factions party to the truce",
        min_length=1,
    )
    excluded: tuple[ExcludedGroup, ...] = Field(
        (), description="groups left out of the truce (spoilers)"
    )
    sponsors: tuple[Sponsor, ...] = Field(
        (), description="outside powers and the parties they back"
    )
    monitors: Monitors | None = Field(None, description="the monitoring mission; null for none")
    mediator: Mediator | None = Field(
        None, description="an envoy mediating between the parties; null for none"
    )
    theatres: tuple[Theatre, ...] = Field(
        (), description="zones or fronts judged on their own; empty: one theatre, every party"
    )
    shifts: tuple[Shift, ...] = Field(
        (), description="scheduled and random changes in the world during the truce (E18)"
    )
    deconfliction: Deconfliction = Field(
        Deconfliction(), description="foreign air forces and their coordination"
    )
    constants: Constants = Field(
        Constants(), description="global constants shared by every scenario"
    )
    replicates: int = _f(
        1000,
        "simulated truces per run",
        source=f"{ASSUMED}: enough replicates for a Wilson interval of about ±3 points on a "
        "collapse share",
        direction=RUN_SETTING,
        ge=1,
        le=100_000_000,
    )
    seed: int = _f(
        20160227,
        "root random seed",
        source="Bookkeeping: any integer (the default is the start date of the Feb 2016 truce)",
        direction=RUN_SETTING,
        ge=0,
        le=2**63 - 1,
    )
    observed: Observed | None = Field(None, description="observed outcome of a historical truce")
    sources: dict[str, str] = _f(
        {},
        "sources for situational values, by dotted path",
        source="Bookkeeping: lets a scenario cite the source of its own situational values",
        direction=NO_EFFECT,
    )
    compare: dict[str, dict[str, Any]] = _f(
        {},
        "named arms: dotted overrides per arm",
        source="Bookkeeping: named arms of a comparison (e.g. monitored vs unmonitored)",
        direction=NO_EFFECT,
    )
    sweep: Sweep | None = _f(
        None,
        "a sweep design (grid, points, lhs, sobol, morris)",
        source=EXPERIMENT_DESIGN,
        direction=NO_EFFECT,
    )

    @field_validator("compare", mode="before")
    @classmethod
    def _parse_compare(cls, value: Any) -> Any:
        return parse_compare(value)

    @model_validator(mode="after")
    def _check_references(self) -> Scenario:
        for path, message in reference_problems(self):
            raise PydanticCustomError("reference", "{message}", {"path": path, "message": message})
        return self

    @model_validator(mode="after")
    def _check_designs(self) -> Scenario:
        for path, message in check_designs(self):
            raise PydanticCustomError("reference", "{message}", {"path": path, "message": message})
        return self

    # ---- conveniences used by the model and the reports
    @property
    def principals(self) -> tuple[Party, ...]:
        """The government followed by the factions."""
        return (self.government, *self.factions)

    @property
    def theatre_list(self) -> tuple[Theatre, ...]:
        """The theatres, or the single theatre ``main`` holding every party when none is set."""
        return self.theatres or (Theatre(name="main"),)

    @property
    def party_names(self) -> tuple[str, ...]:
        """Every actor that can commit a violation, in result-column order."""
        return (
            *(p.name for p in self.principals),
            *(g.name for g in self.excluded),
            *(s.name for s in self.sponsors),
            "foreign_forces",
        )

    def label(self, name: str) -> str:
        """Display name of an actor (its label, else its name)."""
        actors: tuple[Party | ExcludedGroup | Sponsor, ...] = (
            *self.principals,
            *self.excluded,
            *self.sponsors,
        )
        for actor in actors:
            if actor.name == name:
                return actor.label or actor.name.replace("_", " ").title()
        return name.replace("_", " ")


def reference_problems(s: Scenario) -> Iterable[tuple[str, str]]:
    """Cross-reference problems as (dotted path, message) pairs."""
    seen: dict[str, str] = {}
    groups: list[tuple[str, Sequence[Party | ExcludedGroup | Sponsor]]] = [
        ("government", [s.government]),
        ("factions", s.factions),
        ("excluded", s.excluded),
        ("sponsors", s.sponsors),
    ]
    for section, actors in groups:
        for i, actor in enumerate(actors):
            path = section if section == "government" else f"{section}.{i}"
            if actor.name in RESERVED_NAMES:
                yield f"{path}.name", f"'{actor.name}' is a reserved name"
            if actor.name in seen:
                yield (
                    f"{path}.name",
                    f"the name '{actor.name}' is already used by {seen[actor.name]}",
                )
            seen[actor.name] = path
    principals = {p.name for p in s.principals}
    excluded = {g.name for g in s.excluded}
    for i, name in enumerate(s.truce.exempted):
        if name not in excluded:
            yield (
                f"truce.exempted.{i}",
                f"'{name}' is not a defined excluded group (defined: {_listing(excluded)})",
            )
    for i, sp in enumerate(s.sponsors):
        for j, client in enumerate(sp.clients):
            if client not in principals:
                yield (
                    f"sponsors.{i}.clients.{j}",
                    f"'{client}' is not a party to the truce (parties: {_listing(principals)})",
                )
        sides = {c == s.government.name for c in sp.clients if c in principals}
        if len(sides) > 1:
            yield f"sponsors.{i}.clients", "a sponsor cannot back both the government and a faction"
    for i, group in enumerate(s.excluded):
        if group.host is not None and group.host not in principals:
            yield (
                f"excluded.{i}.host",
                f"'{group.host}' is not a party to the truce (parties: {_listing(principals)})",
            )
    yield from theatre_problems(s, principals, excluded)
    yield from shift_problems(s, principals)
    yield from rule_problems(s)


def theatre_problems(
    s: Scenario, principals: set[str], excluded: set[str]
) -> Iterator[tuple[str, str]]:
    """Problems with the theatres: unknown names, a theatre without both sides, a lost party."""
    names: set[str] = set()
    placed: set[str] = set()
    factions = {f.name for f in s.factions}
    for i, theatre in enumerate(s.theatres):
        path = f"theatres.{i}"
        if theatre.name in names or theatre.name in RESERVED_NAMES:
            yield f"{path}.name", f"the theatre name '{theatre.name}' is already used or reserved"
        names.add(theatre.name)
        for key, known in (
            ("parties", principals),
            ("excluded", excluded),
            ("exempted", excluded),
        ):
            for j, name in enumerate(getattr(theatre, key) or ()):
                if name not in known:
                    yield (
                        f"{path}.{key}.{j}",
                        f"'{name}' is not defined (defined: {_listing(known)})",
                    )
        present = set(theatre.parties or principals)
        placed |= present
        if s.government.name not in present or not present & factions:
            yield (
                f"{path}.parties",
                "a theatre needs the government and at least one faction",
            )
    if s.theatres:
        for i, f in enumerate(s.factions):
            if f.name not in placed:
                yield f"factions.{i}.name", f"'{f.name}' is in no theatre (add it to one)"


def shift_problems(s: Scenario, principals: set[str]) -> Iterator[tuple[str, str]]:
    """Problems with the shifts (E18), as (dotted path, message) pairs.

    An unknown actor or a field it does not have, a change given twice or not at all, a
    day and a chance both or neither, a name used twice.
    """
    sponsors = {sp.name for sp in s.sponsors}
    names: set[str] = set()
    for i, shift in enumerate(s.shifts):
        path = f"shifts.{i}"
        if shift.name in names:
            yield f"{path}.name", f"the shift name '{shift.name}' is already used"
        names.add(shift.name)
        kind = (
            "principal"
            if shift.actor in principals
            else "sponsor"
            if shift.actor in sponsors
            else None
        )
        if kind is None:
            yield (
                f"{path}.actor",
                f"'{shift.actor}' is neither a principal ({_listing(principals)}) nor a sponsor "
                f"({_listing(sponsors)})",
            )
        elif shift.field not in SHIFT_FIELDS[kind]:
            yield (
                f"{path}.field",
                f"a {kind} has no field '{shift.field}' to shift (valid: "
                f"{', '.join(SHIFT_FIELDS[kind])})",
            )
        if (shift.by is None) == (shift.to is None):
            where = f"{path}.to" if shift.by is not None else f"{path}.by"
            yield where, "give either by (a change) or to (a new value), exactly one of them"
        if (shift.day is None) == (shift.chance is None):
            where = f"{path}.chance" if shift.day is not None else f"{path}.day"
            yield where, "give either day (scheduled) or chance (random), exactly one of them"


def _listing(names: Iterable[str]) -> str:
    names = sorted(names)
    return ", ".join(names) if names else "none"


# --------------------------------------------------------------------------- errors


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The config class that holds the field at ``loc`` (None if not a model)."""
    model: Any = Scenario
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        if isinstance(part, int) or str(part).isdigit():
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        for inner in typing.get_args(arg):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return annotation


def _field_for(loc: tuple) -> Any:
    """The pydantic field at ``loc`` (trailing list indices stripped), or None."""
    parts = list(loc)
    while parts and str(parts[-1]).isdigit():
        parts.pop()
    if not parts:
        return None
    holder = _model_at(tuple(parts[:-1]))
    return holder.model_fields.get(str(parts[-1])) if holder else None


def _expected(field: Any) -> str:
    """Plain-language statement of what a field accepts."""
    if field is None:
        return "a valid value"
    ann = field.annotation
    if typing.get_origin(ann) in (types.UnionType, typing.Union):
        non_none = [a for a in typing.get_args(ann) if a is not type(None)]
        ann = non_none[0] if non_none else ann
        nullable = " (or null)"
    else:
        nullable = ""
    inner: tuple[Any, ...] = ()
    if typing.get_origin(ann) is Annotated:  # a nullable number keeps its limits inside
        ann, *rest = typing.get_args(ann)
        inner = tuple(rest)
    kind = {
        float: "a number",
        int: "a whole number",
        bool: "true or false",
        str: "text",
    }.get(ann)
    if kind is None:
        origin = typing.get_origin(ann)
        if origin is tuple:
            kind = "a list"
        elif origin is dict:
            kind = "a mapping"
        elif typing.get_origin(ann) is Literal:
            kind = "one of " + ", ".join(map(repr, typing.get_args(ann)))
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            kind = "a section with keys: " + ", ".join(ann.model_fields)
        else:
            kind = "a valid value"
    low = high = None
    longest = next((m.max_length for m in field.metadata if hasattr(m, "max_length")), None)
    if longest is not None and ann is str:
        kind += f" of at most {longest} characters"
    for m in (*field.metadata, *inner):
        if isinstance(m, Ge | Gt):
            low = getattr(m, "ge", None) if isinstance(m, Ge) else m.gt
        if isinstance(m, Le | Lt):
            high = getattr(m, "le", None) if isinstance(m, Le) else m.lt
    if low is not None and high is not None:
        kind += f" between {low} and {high}"
    elif low is not None:
        kind += f" of at least {low}"
    elif high is not None:
        kind += f" of at most {high}"
    return kind + nullable


# --------------------------------------------------------------------------- parameters as data


class Range(NamedTuple):
    """The valid range of a numeric parameter (None where a side is open)."""

    low: float | None
    high: float | None
    integer: bool


class Prior(NamedTuple):
    """The prior of a calibrated constant: uniform on [low, high], or on its log (``log``)."""

    low: float
    high: float
    scale: str


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return dict(extra) if isinstance(extra, dict) else {}


def _plain(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``None`` and whether ``None`` is allowed."""
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        args = typing.get_args(annotation)
        non_none = [a for a in args if a is not type(None)]
        return (non_none[0] if len(non_none) == 1 else annotation), len(non_none) < len(args)
    return annotation, False


def _unannotated(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """The type under ``Annotated`` (of a nullable field too) and its metadata."""
    ann, _ = _plain(annotation)
    if typing.get_origin(ann) is Annotated:
        base, *meta = typing.get_args(ann)
        return base, tuple(meta)
    return ann, ()


def _kind(annotation: Any) -> str:
    """What a field holds, in one word."""
    ann, _ = _unannotated(annotation)
    simple = {bool: "boolean", int: "integer", float: "real", str: "text"}
    if ann in simple:
        return simple[ann]
    origin = typing.get_origin(ann)
    if origin is tuple:
        return "list"
    if origin is dict:
        return "mapping"
    if origin is Literal:
        return "choice"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "section"
    return "value"


def _limits(field: FieldInfo) -> tuple[Any, Any]:
    """The (low, high) of a field from its pydantic constraints (Ge/Gt/Le/Lt)."""
    low: Any = None
    high: Any = None
    # A nullable number (``Unit | None``) keeps its limits inside its ``Annotated`` member.
    for m in (*field.metadata, *_unannotated(field.annotation)[1]):
        if isinstance(m, Ge):
            low = m.ge
        elif isinstance(m, Gt):
            low = m.gt
        elif isinstance(m, Le):
            high = m.le
        elif isinstance(m, Lt):
            high = m.lt
    return low, high


def section_title(model: type[BaseModel]) -> str:
    """A config class's title: its ``model_config`` title, else its docstring's first line."""
    title = model.model_config.get("title")
    if title:
        return str(title)
    first = (model.__doc__ or model.__name__).strip().splitlines()[0]
    return first.rstrip(".").replace("``", "`")


def section_note(model: type[BaseModel]) -> str:
    """The body of a config class's docstring (after its first paragraph), on one line."""
    paragraphs = (model.__doc__ or "").strip().split("\n\n")[1:]
    return " ".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def parameters(
    model: type[BaseModel] | None = None, prefix: str = "", inherited: dict | None = None
) -> list[dict[str, Any]]:
    """Every leaf parameter as data, read from the fields' pydantic metadata.

    Each row has ``path`` (dotted; ``[]`` marks an item of a list), ``section``
    (the config class that holds the field), ``default``, ``low`` and ``high``
    (from ``ge``/``gt``/``le``/``lt``; None when open), ``kind`` (real, integer,
    boolean, text, list, mapping, ...), ``nullable``, ``max_length``,
    ``expected`` (the plain-language range used in error messages),
    ``description``, ``source``, ``direction`` (:data:`DIRECTIONS`) and
    ``prior`` (a :class:`Prior` for calibrated constants, else None). Fields of
    sections that carry no metadata of their own (the experiment designs) take
    the ``source`` and ``direction`` of the field that holds the section.
    """
    model = Scenario if model is None else model
    rows: list[dict[str, Any]] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        extra = {**(inherited or {}), **_extra(field)}
        inner = _inner_model(field.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not Scenario:
            item = "[]." if typing.get_origin(_plain(field.annotation)[0]) is tuple else "."
            keep = {k: v for k, v in extra.items() if k in ("source", "direction", "depends_on")}
            rows += parameters(inner, path + item, keep)
            continue
        low, high = _limits(field)
        prior = extra.get("prior")
        rows.append(
            {
                "path": path,
                "section": model,
                "default": field.default,
                "low": low,
                "high": high,
                "kind": _kind(field.annotation),
                "nullable": _plain(field.annotation)[1],
                "max_length": next(
                    (m.max_length for m in field.metadata if hasattr(m, "max_length")), None
                ),
                "expected": _expected(field),
                "description": field.description or "",
                "source": str(extra.get("source", "")).strip(),
                "direction": str(extra.get("direction", "")),
                "depends_on": str(extra.get("depends_on", "")),
                "prior": Prior(prior["low"], prior["high"], prior["scale"]) if prior else None,
            }
        )
    return rows


def priors() -> dict[str, Prior]:
    """The priors of the calibrated constants (those whose field carries a ``prior``)."""
    return {
        row["path"].removeprefix("constants."): row["prior"]
        for row in parameters(Constants, "constants.")
        if row["prior"] is not None
    }


def field_at(path: str) -> FieldInfo:
    """The field at a dotted path; list items by ``[]``, index or name (``factions.x.trust``).

    Raises:
        KeyError: when no parameter has that path.
    """
    model: Any = Scenario
    field: FieldInfo | None = None
    parts = [p for p in path.replace("[]", "").split(".") if p]
    listed = False
    for part in parts:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise KeyError(path)
        if part not in model.model_fields and listed:
            listed = False  # an item of the list named by index or name
            continue
        if part not in model.model_fields:
            raise KeyError(path)
        field = model.model_fields[part]
        listed = typing.get_origin(_plain(field.annotation)[0]) is tuple
        model = _inner_model(field.annotation)
    if field is None:
        raise KeyError(path)
    return field


def _canonical(path: str) -> str:
    """A path without list items (``factions.0.trust`` and ``factions[].trust`` alike)."""
    parts, out, model = path.replace("[]", "").split("."), [], Scenario
    listed = False
    for part in parts:
        fields = getattr(model, "model_fields", {})
        if part not in fields and listed:
            listed = False
            continue
        out.append(part)
        if part in fields:
            listed = typing.get_origin(_plain(fields[part].annotation)[0]) is tuple
            model = _inner_model(fields[part].annotation)
    return ".".join(out)


def bounds(path: str, scenario: Scenario | None = None) -> Range:
    """The valid range of a numeric parameter, in ``scenario`` if given.

    The range is the field's own (``ge``/``le``); given a scenario, the rules of
    :data:`RULES` narrow it: ``deconfliction.air_forces`` is at least the number
    of sponsors that fly, ``truce.collapse.days_above`` at most the window (and
    the window at least ``days_above``). Every value in the range is valid in
    ``scenario`` as long as the other parameters keep their values.

    Raises:
        KeyError: when no parameter has that path.
    """
    field = field_at(path)
    low, high = _limits(field)
    integer = _plain(field.annotation)[0] is int
    if scenario is not None:
        here = _canonical(path)
        for rule in RULES:
            if rule.path == here:
                limit = rule.limit.value(scenario)
                if rule.op == ">=":
                    low = limit if low is None else max(low, limit)
                else:
                    high = limit if high is None else min(high, limit)
            elif isinstance(rule.limit, Param) and rule.limit.path == here:
                other = float(_value_at(scenario, rule.path))
                if rule.op == "<=":  # the other is at most this one: this one is at least it
                    low = other if low is None else max(low, other)
                else:
                    high = other if high is None else min(high, other)
    if integer:
        return Range(None if low is None else int(low), None if high is None else int(high), True)
    return Range(None if low is None else float(low), None if high is None else float(high), False)
