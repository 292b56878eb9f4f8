"""Scenario schema: every parameter with its default, range and description, in one place.

The config classes are frozen pydantic models (the Starsim convention: defaults
in one place, unknown keys rejected with the list of valid ones); the
cross-field rules are :func:`reference_problems`. ``docs/MODEL.md`` gives the
source behind each parameter. Loading files is :mod:`sim.scenario.loading`.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, Le, Lt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
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


def _f(default: Any, description: str, **bounds: Any) -> Any:
    """A field with a default, an optional range and a one-line description."""
    return Field(default, description=description, **bounds)


# --------------------------------------------------------------------------- terms


class Collapse(_Frozen):
    """When the truce counts as collapsed (mechanism 10)."""

    threshold: int = _f(
        2, "violations in one day that count as a day of high violence", ge=1, le=50
    )
    window: int = _f(7, "days looked back over (W)", ge=1, le=60)
    days_above: int = _f(
        3, "high-violence days within the window that end the truce (K)", ge=1, le=60
    )

    @model_validator(mode="after")
    def _k_within_w(self) -> Collapse:
        if self.days_above > self.window:
            raise PydanticCustomError(
                "reference",
                "days_above ({k}) cannot exceed window ({w})",
                {"path": "truce.collapse.days_above", "k": self.days_above, "w": self.window},
            )
        return self


class Truce(_Frozen):
    """The terms of the truce."""

    horizon: int = _f(365, "days simulated after the truce starts", ge=1, le=3650)
    lead_time: int = _f(7, "days between announcement and start (pre-truce land grab)", ge=0, le=90)
    exempted: tuple[Name, ...] = _f((), "excluded groups that may still be struck under the truce")
    loophole_width: Unit = _f(
        0.5, "share of sponsors' strike tempo that continues under the exemptions"
    )
    collapse: Collapse = _f(Collapse(), "the collapse rule")


# --------------------------------------------------------------------------- actors


class Party(_Frozen):
    """A principal party to the truce (government or opposition faction)."""

    name: Name = _f(..., "identifier used in results and overrides (lower case, _)")
    label: str = _f("", "display name", max_length=80)
    strength: Unit = _f(0.5, "relative military strength")
    resolve: Unit = _f(0.5, "hardline resolve: weight on military gains")
    fatigue: Unit = _f(0.3, "war fatigue at the start (ripeness)")
    cohesion: Unit = _f(0.8, "control of its own units (1 = full discipline)")
    trust: Unit = _f(0.5, "trust in its adversaries before the announcement")


class Government(Party):
    """The government side."""

    name: Name = _f("government", "identifier used in results and overrides")
    strength: Unit = _f(0.6, "relative military strength")


class Faction(Party):
    """An opposition faction that is party to the truce."""

    entanglement: Unit = _f(
        0.2, "share of its positions co-located with exempted groups (the separation problem)"
    )


class ExcludedGroup(_Frozen):
    """A group left out of the truce (a spoiler, e.g. ISIS or Nusra)."""

    name: Name = _f(..., "identifier used in results and overrides")
    label: str = _f("", "display name", max_length=80)
    strength: Unit = _f(0.4, "military strength")
    spoiler_intent: Unit = _f(0.5, "will to wreck the truce (Stedman's limited → total)")


class Sponsor(_Frozen):
    """An outside power backing one side."""

    name: Name = _f(..., "identifier used in results and overrides")
    label: str = _f("", "display name", max_length=80)
    clients: tuple[Name, ...] = _f(..., "parties it backs (all on one side)", min_length=1)
    leverage: Unit = _f(0.5, "how much its clients depend on its support")
    commitment: Unit = _f(0.5, "how much it wants the truce to hold")
    strike_tempo: float = _f(1.0, "strikes per day on exempted groups", ge=0.0, le=20.0)
    dissent: Unit = _f(0.1, "internal dissent: chance of off-script strikes")
    air_force: bool = _f(True, "flies its own aircraft in the theatre")


class Monitors(_Frozen):
    """A monitoring mission (absent when the section is null)."""

    coverage: Unit = _f(0.5, "share of the front the mission observes")
    detection: Unit = _f(0.8, "chance a violation in covered ground is detected")
    attribution: Unit = _f(0.85, "chance a detected violation is attributed to the right party")
    risk_tolerance: int = _f(
        6, "attacks on monitors the mission absorbs before withdrawing", ge=0, le=1000
    )
    verification_delay: int = _f(
        2, "days before a verified report reaches the parties", ge=0, le=30
    )


class Deconfliction(_Frozen):
    """Foreign air forces over the theatre and their coordination."""

    air_forces: int = _f(2, "foreign air forces flying in the theatre", ge=0, le=20)
    level: Unit = _f(0.5, "coordination between them (notified strikes, shared reports)")


class Mediator(_Frozen):
    """An envoy who works the parties day by day (absent when the section is null)."""

    label: str = _f("", "display name", max_length=80)
    effort: Unit = _f(0.3, "daily chance the envoy works the parties (shuttle diplomacy)")
    settle_share: Unit = _f(0.2, "share of the unanswered grievances settled on a day of work")
    trust_gain: Annotated[float, Ge(0.0), Le(0.1)] = _f(
        0.005, "share of the distance to full trust closed on a day of work"
    )
    patience: int = _f(
        5, "days of work in a row that still see violence before the envoy gives up", ge=1, le=365
    )


class Constants(_Frozen):
    """Global constants shared by every scenario.

    Those listed in ``sim.validation.calibrate.PRIORS`` were fitted by ``truce calibrate``
    (ABC rejection, seed 20120412, 500 points; see ``docs/VALIDATION.md``); the others are set
    by hand.
    """

    base_propensity: Annotated[float, Ge(0.0), Le(0.5)] = _f(
        0.0175, "daily chance of a deliberate violation at zero net gain, no fatigue"
    )
    gain_sensitivity: Annotated[float, Ge(0.0), Le(20.0)] = _f(
        1.41, "how sharply defection responds to net expected gain"
    )
    fear_weight: Annotated[float, Ge(0.0), Le(5.0)] = _f(
        1.73, "weight of distrust (1 − trust) in the gain from striking first"
    )
    reputation_cost: Annotated[float, Ge(0.0), Le(5.0)] = _f(
        0.5, "cost of a violation that the mission sees, before sponsor sanctions"
    )
    restraint_weight: Annotated[float, Ge(0.0), Le(5.0)] = _f(
        0.8, "weight of sponsors' leverage × commitment on their clients"
    )
    sanction_weight: Annotated[float, Ge(0.0), Le(5.0)] = _f(
        1.5, "expected cost of a verified violation through sponsor sanctions"
    )
    sanction_strength: Unit = _f(0.03, "strength a sanctioned party loses per verified violation")
    indiscipline_rate: Unit = _f(0.0318, "daily chance of an unauthorised violation at cohesion 0")
    offscript_rate: Unit = _f(0.05, "daily chance of an off-script sponsor strike at dissent 1")
    loophole_hit: Unit = _f(
        0.0716, "chance a strike under an exemption hits a fully entangled party"
    )
    accident_rate: Unit = _f(0.004, "daily incidents per pair of uncoordinated air forces")
    spoiler_rate: Unit = _f(0.2, "daily attack chance of an excluded group at strength × intent 1")
    spoiler_calm_boost: Annotated[float, Ge(0.0), Le(10.0)] = _f(
        1.0, "extra spoiler activity once the truce has held calm (relative)"
    )
    calm_days: Annotated[int, Ge(1), Le(365)] = _f(
        30, "calm days over which spoiler activity builds up"
    )
    blame_bias: Unit = _f(0.8, "chance an unattributed attack is blamed on the adversary")
    trust_loss: Unit = _f(0.0854, "share of trust lost per perceived violation")
    forgiveness: Unit = _f(0.0118, "daily recovery of trust toward its healing level (E10, E10b)")
    retaliation_threshold: Unit = _f(0.517, "trust below which a party retaliates")
    retaliation_rate: Unit = _f(
        0.925, "daily chance of retaliation at zero trust and no fatigue (scaled by 1 − fatigue)"
    )
    retaliation_restraint: Unit = _f(
        0.261, "how far sponsors' restraint (E1) also holds back retaliation (0: not at all)"
    )
    hostility_threshold: Unit = _f(
        0.0918, "trust below which a party attacks without a fresh grievance (0: never)"
    )
    grudge_memory: Annotated[float, Ge(0.5), Le(365.0)] = _f(
        3.29, "days over which an unanswered grievance fades (e-folding time)"
    )
    consolidation_rate: Annotated[float, Ge(0.0), Le(0.1)] = _f(
        0.00198, "daily rise, on calm days, of the trust level that forgiveness heals toward"
    )
    withdrawal_trust: Unit = _f(0.0445, "trust below which a party withdraws from the truce")
    fatigue_gain: Unit = _f(0.0271, "fatigue gained per violation suffered")
    fatigue_recovery: Unit = _f(0.002, "fatigue lost per calm day")
    regroup_rate: Unit = _f(
        0.00615, "daily share of the strength gap the weaker side recovers in calm"
    )
    regroup_weight: Annotated[float, Ge(0.0), Le(10.0)] = _f(
        2.0, "weight of the adversary's regrouping in the stronger side's gain"
    )
    land_grab_rate: Unit = _f(
        0.556, "daily chance of a land-grab attack before the start, at resolve 1"
    )
    monitor_exposure: Unit = _f(0.05, "chance a violation in covered ground hits monitors")
    access_threshold: Annotated[int, Ge(0), Le(50)] = _f(
        1, "violations per day at or below which humanitarian access is possible"
    )
    escalation_rate: Unit = _f(
        0.135, "daily chance a collapsed truce turns into an offensive (scaled by fatigue, resolve)"
    )
    initial_spread: Annotated[float, Ge(0.0), Le(0.3)] = _f(
        0.05, "spread of initial strength, fatigue and trust across replicates"
    )


class Observed(_Frozen):
    """What happened to a historical truce (for the hindcast)."""

    days_held: int = _f(..., "days the truce held", ge=0, le=3650)
    low: int | None = _f(None, "lower end when the record gives a range", ge=0)
    high: int | None = _f(None, "upper end when the record gives a range", ge=0)
    source: str = _f(..., "where the figure comes from")


# --------------------------------------------------------------------------- scenario


class Scenario(_Frozen):
    """A complete scenario: the truce, its actors and the model's constants."""

    name: str = _f("scenario", "scenario name (used for the results folder)", max_length=80)
    description: str = _f("", "one-line description", max_length=400)
    truce: Truce = _f(Truce(), "the terms of the truce")
    government: Government = _f(Government(), "the government")
    factions: tuple[Faction, ...] = _f(
        (Faction(name="faction_a"),), "opposition factions party to the truce", min_length=1
    )
    excluded: tuple[ExcludedGroup, ...] = _f((), "groups left out of the truce (spoilers)")
    sponsors: tuple[Sponsor, ...] = _f((), "outside powers and the parties they back")
    monitors: Monitors | None = _f(None, "the monitoring mission; null for none")
    mediator: Mediator | None = _f(None, "an envoy mediating between the parties; null for none")
    deconfliction: Deconfliction = _f(Deconfliction(), "foreign air forces and their coordination")
    constants: Constants = _f(Constants(), "global constants shared by every scenario")
    replicates: int = _f(1000, "simulated truces per run", ge=1, le=100_000_000)
    seed: int = _f(20160227, "root random seed", ge=0, le=2**63 - 1)
    observed: Observed | None = _f(None, "observed outcome of a historical truce")
    sources: dict[str, str] = _f({}, "sources for situational values, by dotted path")
    compare: dict[str, dict[str, Any]] = _f({}, "named arms: dotted overrides per arm")
    sweep: Sweep | None = _f(None, "a sweep design (grid, points, lhs, sobol, morris)")

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
        for actor in (*self.principals, *self.excluded, *self.sponsors):
            if actor.name == name:
                return actor.label or actor.name.replace("_", " ").title()
        return name.replace("_", " ")


def reference_problems(s: Scenario) -> Iterable[tuple[str, str]]:
    """Cross-reference problems as (dotted path, message) pairs."""
    seen: dict[str, str] = {}
    groups = [("government", [s.government]), ("factions", s.factions)]
    groups += [("excluded", s.excluded), ("sponsors", s.sponsors)]
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
    flying = sum(sp.air_force for sp in s.sponsors)
    if s.deconfliction.air_forces < flying:
        yield (
            "deconfliction.air_forces",
            f"{s.deconfliction.air_forces} is fewer than the {flying} sponsors that fly",
        )


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
    for m in field.metadata:
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


def field_table(model: type[BaseModel] = Scenario, prefix: str = "") -> list[dict[str, Any]]:
    """Every leaf parameter with its default, range and description (for docs and the app)."""
    rows = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        inner = _inner_model(field.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not Scenario:
            item = "[]." if typing.get_origin(field.annotation) is tuple else "."
            rows += field_table(inner, path + item)
            continue
        rows.append(
            {
                "path": path,
                "default": field.default,
                "expected": _expected(field),
                "description": field.description or "",
            }
        )
    return rows
