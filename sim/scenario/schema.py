"""Scenario schema: YAML files validated into typed, frozen config objects.

Every parameter has its default, range and a one-line description here, in one
place (the Starsim convention); ``docs/MODEL.md`` gives the source behind each.
Unknown keys are rejected with the list of valid ones. ``load_scenario`` reads a
file (with ``extends:`` inheritance and dotted ``--set`` overrides) and turns
every problem into one :class:`ScenarioError` naming the file, the line, the
field path and what was expected.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from annotated_types import Ge, Gt, Le, Lt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
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


EXCERPT = 60  # characters of a bad value quoted in an error message


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """``value`` as text, cut to ``limit`` characters with "…" (for error messages)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def shown(value: Any) -> str:
    """A bad value as an error message quotes it: repr-style, at most ``EXCERPT`` characters."""
    if isinstance(value, dict | list):
        return type(value).__name__
    if isinstance(value, str) and len(value) > EXCERPT:
        return f"{value[:EXCERPT]!r}… ({len(value):,} characters)"
    return excerpt(repr(value))


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


# =========================================================================== loading


class ScenarioError(Exception):
    """A scenario that cannot be used, with where and why."""

    def __init__(
        self, file: str | Path, message: str, line: int | None = None, field: str | None = None
    ):
        if field is not None:
            field = ".".join(excerpt(part) for part in field.split("."))
        self.file, self.line, self.field, self.message = str(file), line, field, message
        where = self.file + (f", line {line}" if line else "")
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")


def load_scenario(
    path: str | Path,
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
    *,
    flags: Mapping[str, tuple[str, Any]] | None = None,
    kind: str | None = None,
) -> Scenario:
    """Read, merge (``extends:``), override and validate a scenario file.

    Args:
        path: the YAML file.
        overrides: dotted ``key=value`` strings (as given to ``--set``) or a mapping
            of dotted paths to values.
        flags: top-level values given by command-line options, as
            ``{field: (option, value)}`` (e.g. ``{"seed": ("--seed", 7)}``); a value
            of None leaves the file's. They obey the same limits as the file.
        kind: ``"run"``, ``"compare"`` or ``"sweep"`` to also refuse an experiment
            too large for this machine (see :func:`estimate_cost`), before any work;
            ``"any"`` for the largest the file holds.

    Returns:
        The validated, frozen scenario.

    Raises:
        ScenarioError: naming the file, line, field and what was expected.
    """
    path = Path(path)
    data, lines = _read_with_extends(path, chain=())
    data.setdefault("name", path.stem)
    set_lines: dict[tuple, tuple[str, int | None]] = {}
    for key, value in _parse_overrides(overrides):
        try:
            data = apply_override(data, key, value)
        except KeyError as exc:
            raise ScenarioError("--set", exc.args[0], field=key) from None
        set_lines[tuple(key.split("."))] = ("--set", None)
    for key, (flag, value) in (flags or {}).items():
        if value is not None:
            data = apply_override(data, key, value)
            set_lines[(key,)] = (flag, None)
    lines.update(set_lines)
    scenario = validate(data, path, lines)
    if kind == "any":  # the largest experiment the file holds
        kind = "sweep" if scenario.sweep else "compare" if scenario.compare else "run"
    if kind is not None:
        cost = estimate_cost(scenario, kind)
        if problem := cost.problem():
            file, line = _locate(("replicates",), lines, path)
            raise ScenarioError(file, problem, line=line, field="replicates")
    return scenario


def validate(data: Mapping[str, Any], path: str | Path = "<scenario>", lines=None) -> Scenario:
    """Validate a raw mapping into a :class:`Scenario`, converting errors."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _convert(exc, Path(path), lines or {}) from None


MAX_FILE_BYTES = 1_000_000  # a scenario is a page of YAML; a megabyte is not a scenario
MAX_ALIASES = 1_000  # YAML aliases (*name) per file: plenty for shared defaults
MAX_NODES = 100_000  # values in a file once aliases are expanded (billion laughs stop here)
MAX_DEPTH = 50  # nested sections and lists; a scenario needs five or six


_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
MAX_DIGITS = 100


class _Loader(yaml.SafeLoader):
    """``SafeLoader`` that bounds alias expansion and rejects duplicate keys.

    An alias is cheap to parse but every later step (line collection, merging,
    validation) walks the expanded tree, so a few nested aliases ("billion
    laughs") would take minutes and gigabytes. Each alias adds the size of the
    node it repeats to a running count of expanded nodes; past ``MAX_NODES`` (or
    ``MAX_ALIASES`` aliases) the file is refused at the line of that alias.
    """

    def __init__(self, text: str, path: Path):
        super().__init__(text)
        self.path = path
        self.aliases = 0
        self.expanded = 0
        self.sizes: dict[int, int] = {}
        self.at: list[str] = []  # the key path being composed, for messages

    def compose_node(self, parent: Any, index: Any) -> Any:
        is_alias = self.check_event(yaml.AliasEvent)
        mark = self.peek_event().start_mark
        step = index.value if isinstance(index, yaml.ScalarNode) else index
        if len(self.at) >= MAX_DEPTH:
            raise ScenarioError(
                self.path,
                f"sections and lists nested more than {MAX_DEPTH} deep",
                line=mark.line + 1,
                field=".".join(self.at[:3]) + ".…",
            )
        if step is not None:
            self.at.append(str(step))
        try:
            node = super().compose_node(parent, index)
        finally:
            if step is not None:
                self.at.pop()
        field = ".".join(self.at + ([str(step)] if step is not None else [])) or None
        if node.tag == _INT_TAG and len(node.value) > MAX_DIGITS:  # Python reads 4,300 at most
            raise ScenarioError(
                self.path,
                f"expected a number, got {shown(node.value)}; no value here has more "
                f"than {MAX_DIGITS} digits",
                line=mark.line + 1,
                field=field,
            )
        if is_alias:
            if node.end_mark is None:  # still being composed: the alias is inside its anchor
                raise ScenarioError(
                    self.path, "a YAML alias refers to itself", line=mark.line + 1, field=field
                )
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise ScenarioError(
                    self.path,
                    f"too many YAML aliases (*name): the limit is {MAX_ALIASES:,}",
                    line=mark.line + 1,
                    field=field,
                )
            self.expanded += self._size(node, mark, set(), field)
        else:
            self.expanded += 1
        if self.expanded > MAX_NODES:
            raise ScenarioError(
                self.path,
                f"the file expands to more than {MAX_NODES:,} values (YAML aliases repeat "
                "whole sections); a scenario needs far fewer",
                line=mark.line + 1,
                field=field,
            )
        return node

    def _size(self, node: Any, mark: Any, seen: set[int], field: str | None = None) -> int:
        """Values in ``node`` with every alias expanded (memoised; refuses cycles)."""
        key = id(node)
        if key in self.sizes:
            return self.sizes[key]
        if key in seen:
            raise ScenarioError(
                self.path, "a YAML alias refers to itself", line=mark.line + 1, field=field
            )
        seen.add(key)
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._size(item, mark, seen, field) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                size += self._size(k, mark, seen, field) + self._size(v, mark, seen, field)
                if size > MAX_NODES:
                    break
        seen.discard(key)
        self.sizes[key] = size
        return size

    def compose_mapping_node(self, anchor: Any) -> Any:
        node = super().compose_mapping_node(anchor)
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ScenarioError(
                    self.path,
                    f"duplicate key '{excerpt(key_node.value)}' (first given on line "
                    f"{seen[key]}); give each key once",
                    line=line,
                    field=".".join([*self.at, str(key_node.value)]),
                )
            seen[key] = line
        return node


def _decode(path: Path, raw: bytes) -> str:
    """The file's text, or a ScenarioError at the line of the first undecodable byte."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(
            path,
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be read; save the file as UTF-8",
            line=line,
        ) from None
    for i, ch in enumerate(text):
        if ch in _FORBIDDEN:
            line = text.count("\n", 0, i) + 1
            shown = "a NUL byte" if ch == "\x00" else f"the control character {ch!r}"
            raise ScenarioError(
                path, f"{shown} is not allowed in a scenario file (is it a text file?)", line=line
            )
    return text


_FORBIDDEN = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r") | {"\x7f"}


def _read_yaml(path: Path) -> tuple[dict, dict[tuple, tuple[str, int | None]]]:
    """Load one YAML file with ``safe_load`` semantics, and the line of each key."""
    if not path.is_file():
        raise ScenarioError(path, "file not found" if not path.exists() else "not a file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            path, f"file too large for a scenario: {size:,} bytes; the limit is {MAX_FILE_BYTES:,}"
        )
    text = _decode(path, path.read_bytes())
    loader = _Loader(text, path)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else None
        raise ScenarioError(path, f"YAML syntax error: {problem}", line=line) from None
    finally:
        loader.dispose()
    if data is None:
        raise ScenarioError(path, "the file is empty; expected a mapping of sections", line=1)
    if not isinstance(data, dict):
        raise ScenarioError(path, "expected a mapping of sections at the top level", line=1)
    lines: dict[tuple, tuple[str, int | None]] = {}
    _collect_lines(node, (), str(path), lines)
    return data, lines


def _collect_lines(node: Any, prefix: tuple, file: str, out: dict) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, str(key_node.value))
            out[key] = (file, key_node.start_mark.line + 1)
            _collect_lines(value_node, key, file, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            key = (*prefix, str(i))
            out[key] = (file, item.start_mark.line + 1)
            _collect_lines(item, key, file, out)


def _read_with_extends(path: Path, chain: tuple[Path, ...]) -> tuple[dict, dict]:
    resolved = path.resolve()
    if resolved in chain:
        loop = " → ".join(p.name for p in (*chain, resolved))
        raise ScenarioError(chain[-1], f"circular extends: {loop}", field="extends")
    data, lines = _read_yaml(path)
    parent = data.pop("extends", None)
    line = lines.get(("extends",), (None, None))[1]
    if parent is None:
        _reject_removals(data, lines, path, why="this file extends nothing; delete the item")
        return data, lines
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError(path, "expected the name of a YAML file", line=line, field="extends")
    parent_path = (path.parent / parent).resolve()
    if not parent_path.exists():
        raise ScenarioError(path, f"file not found: {excerpt(parent)}", line=line, field="extends")
    if not parent_path.is_file():
        raise ScenarioError(
            path,
            f"expected the name of a YAML file, got the folder {excerpt(parent)}",
            line=line,
            field="extends",
        )
    base, base_lines = _read_with_extends(parent_path, (*chain, resolved))
    base.pop("name", None)
    merged_lines: dict[tuple, tuple[str, int | None]] = {}
    merged = _merge(base, data, base_lines, lines, (), (), (), merged_lines, path)
    return merged, merged_lines


REMOVE = "remove"  # ``{name: x, remove: true}`` in a child file drops the parent's item x


def _named_items(value: Any) -> bool:
    """Whether ``value`` is a non-empty list of mappings that each have a text ``name``."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(x, Mapping) and isinstance(x.get("name"), str) for x in value)
    )


def _move_lines(src: Mapping, src_at: tuple, out: dict, dest_at: tuple) -> None:
    """Copy the lines of everything under ``src_at`` to ``dest_at``."""
    n = len(src_at)
    for key, where in src.items():
        if key[:n] == src_at:
            out[dest_at + key[n:]] = where


def _merge(
    base: Any,
    top: Any,
    base_lines: Mapping,
    top_lines: Mapping,
    base_at: tuple,
    top_at: tuple,
    at: tuple,
    out_lines: dict,
    path: Path,
) -> Any:
    """Merge a child file's ``top`` over its parent's ``base`` and carry each key's line.

    Mappings merge key by key. Lists of named items (factions, excluded,
    sponsors: every item a mapping with a ``name``) merge by name: an item whose
    name the parent has merges into that item, a new name is appended, and
    ``{name: x, remove: true}`` drops the parent's item ``x``. Anything else
    (values, other lists, an empty list) replaces the parent's.
    """
    if isinstance(base, Mapping) and isinstance(top, Mapping):
        merged = {}
        if at:
            out_lines[at] = top_lines.get(top_at, base_lines.get(base_at))
        for key, value in base.items():
            if key not in top:
                merged[key] = value
                _move_lines(base_lines, (*base_at, str(key)), out_lines, (*at, str(key)))
        for key, value in top.items():
            k = str(key)
            if key in base:
                merged[key] = _merge(
                    base[key], value, base_lines, top_lines,
                    (*base_at, k), (*top_at, k), (*at, k), out_lines, path,
                )  # fmt: skip
            else:
                merged[key] = value
                _reject_removals(value, top_lines, path, (*top_at, k), (*at, k))
                _move_lines(top_lines, (*top_at, k), out_lines, (*at, k))
        return {k: merged[k] for k in [*base, *(k for k in top if k not in base)]}
    if _named_items(base) and _named_items(top):
        return _merge_named(base, top, base_lines, top_lines, base_at, top_at, at, out_lines, path)
    _reject_removals(top, top_lines, path, top_at, at)
    _move_lines(top_lines, top_at, out_lines, at)
    return top


def _merge_named(base, top, base_lines, top_lines, base_at, top_at, at, out_lines, path) -> list:
    """Merge two lists of named items by name (see :func:`_merge`)."""
    by_name = {item["name"]: i for i, item in enumerate(base)}
    updates: dict[str, tuple[int, Mapping]] = {}
    removed: set[str] = set()
    added: list[tuple[int, Mapping]] = []
    for j, item in enumerate(top):
        name = item["name"]
        where = (*top_at, str(j))
        if REMOVE in item:
            line = top_lines.get((*where, REMOVE), (None, None))[1]
            field = ".".join((*at, str(j), REMOVE))
            if item[REMOVE] is not True or set(item) != {"name", REMOVE}:
                raise ScenarioError(
                    path,
                    "expected exactly {name: ..., remove: true} to drop an inherited item",
                    line=line,
                    field=field,
                )
            if name not in by_name:
                raise ScenarioError(
                    path,
                    f"nothing to remove: the parent file has no item named '{excerpt(name)}' "
                    f"here (it has: {_listing(by_name)})",
                    line=line,
                    field=field,
                )
            removed.add(name)
        elif name in by_name:
            updates[name] = (j, item)
        else:
            added.append((j, item))
    merged: list = []
    for i, item in enumerate(base):
        if item["name"] in removed:
            continue
        dest = (*at, str(len(merged)))
        if item["name"] in updates:
            j, change = updates[item["name"]]
            merged.append(
                _merge(
                    item,
                    change,
                    base_lines,
                    top_lines,
                    (*base_at, str(i)),
                    (*top_at, str(j)),
                    dest,
                    out_lines,
                    path,
                )  # fmt: skip
            )
        else:
            merged.append(item)
            _move_lines(base_lines, (*base_at, str(i)), out_lines, dest)
    for j, item in added:
        _reject_removals(item, top_lines, path, (*top_at, str(j)), (*at, str(len(merged))))
        _move_lines(top_lines, (*top_at, str(j)), out_lines, (*at, str(len(merged))))
        merged.append(item)
    if at:
        out_lines[at] = top_lines.get(top_at, base_lines.get(base_at))
    return merged


def _reject_removals(
    data: Any,
    lines: Mapping,
    path: Path,
    at: tuple = (),
    dest: tuple | None = None,
    why: str = "the parent file has no list of named items here",
) -> None:
    """Refuse ``remove: true`` where no inherited list holds the item to drop."""
    dest = at if dest is None else dest
    if isinstance(data, Mapping):
        for key, value in data.items():
            _reject_removals(value, lines, path, (*at, str(key)), (*dest, str(key)), why)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            if isinstance(item, Mapping) and REMOVE in item:
                raise ScenarioError(
                    path,
                    "nothing to remove: remove: drops an item inherited through extends:, "
                    f"and {why}",
                    line=lines.get((*at, str(i), REMOVE), (None, None))[1],
                    field=".".join((*dest, str(i), REMOVE)),
                )


def _parse_overrides(overrides: Any) -> list[tuple[str, Any]]:
    if not overrides:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    pairs = []
    for item in overrides:
        key, sep, raw = str(item).partition("=")
        if not sep or not key.strip():
            raise ScenarioError("--set", f"expected key=value, got {shown(str(item))}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        pairs.append((key.strip(), value))
    return pairs


def apply_override(data: Mapping[str, Any], dotted: str, value: Any) -> dict:
    """Return a copy of ``data`` with ``dotted`` set to ``value``.

    List items are addressed by index (``factions.0.strength``) or by their
    ``name`` (``factions.faction_a.strength``).

    Raises:
        KeyError: with a readable message when the path does not exist.
    """
    parts = dotted.split(".")
    root = _copy(data)
    node: Any = root
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = excerpt(".".join(parts[:depth]), 120) or "the scenario"
        if isinstance(node, list):
            index = _list_index(node, part)
            if index is None:
                names = [str(x.get("name")) for x in node if isinstance(x, dict)]
                raise KeyError(
                    f"no item '{excerpt(part)}' in {here} (items: {', '.join(names) or 'none'})"
                )
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if node.get(part) is None:
                    node[part] = _default_section(parts[: depth + 1])
                node = node[part]
        else:
            raise KeyError(f"{here} is a value, not a section")
    return root


def _default_section(path: list[str]) -> Any:
    """An empty section to fill, or a list copied from the schema's default."""
    field = _field_for(tuple(path))
    default = getattr(field, "default", None) if field is not None else None
    if isinstance(default, tuple):
        return [d.model_dump() if isinstance(d, BaseModel) else d for d in default]
    return {}


def _list_index(items: list, part: str) -> int | None:
    if part.isdigit():
        return int(part) if int(part) < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == part:
            return i
    return None


def _copy(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {k: _copy(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_copy(v) for v in x]
    return x


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


def _convert(exc: ValidationError, path: Path, lines: Mapping[tuple, tuple]) -> ScenarioError:
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    if err["type"] == "reference":
        loc = tuple(ctx["path"].split("."))
        message = err["msg"]
    elif err["type"] == "bool_not_number":
        loc = (*loc, ctx["name"])
        word = "true" if ctx["value"] else "false"
        message = (
            f"expected {_expected(_field_for(loc))}, got {word} "
            "(YAML reads true/false, yes/no and on/off as booleans, not numbers)"
        )
    elif err["type"] == "extra_forbidden":
        holder = _model_at(loc[:-1])
        valid = list(holder.model_fields) if holder else []
        guess = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f"did you mean '{guess[0]}'? " if guess else ""
        message = f"unknown key; {hint}valid keys here: {', '.join(valid)}"
    elif err["type"] == "missing":
        message = f"required; expected {_expected(_field_for(loc))}"
    else:
        got = shown(err.get("input"))
        message = f"expected {_expected(_field_for(loc))}, got {got}"
        if err["type"] == "string_pattern_mismatch":
            message = f"expected a name in lower case letters, digits and _, got {got}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    file, line = _locate(loc, lines, path)
    return ScenarioError(file, message, line=line, field=".".join(map(str, loc)))


def _locate(loc: tuple, lines: Mapping[tuple, tuple], default: Path) -> tuple[str, int | None]:
    """The file and line of the deepest key of ``loc`` that the files give.

    Keys may themselves hold dots (``sweep.grid`` keys are dotted parameter
    paths), so ``loc`` is matched as a dotted string against the dotted keys.
    """
    dotted = {".".join(k): where for k, where in lines.items()}
    parts = [str(p) for p in loc]
    while parts:
        key = ".".join(parts)
        if key in dotted:
            return dotted[key]
        parts.pop()
    return str(default), None


# --------------------------------------------------------------------------- size


# Measured on the development machine (2 cores, Dec 2026): `sim.run("scenarios/baseline.yaml",
# replicates=4000, engine="serial")` simulated 4,000 truces x 372 days (lead time + horizon)
# in 6.7 s, start-up included: 4.5 microseconds per truce-day on one core. Scenarios with
# more actors cost somewhat more; the estimate is meant to catch orders of magnitude.
SECONDS_PER_REPLICATE_DAY = 4.5e-6
# The same run's table of results in pandas: 39 columns, 340 bytes per simulated truce
# (`DataFrame.memory_usage(deep=True)`); on disk (Parquet) about 63 bytes.
BYTES_PER_ROW = 340
MAX_CPU_SECONDS = 24 * 3600  # one day of CPU: beyond it, a cluster and a deliberate choice
MEMORY_SHARE = 0.5  # the results table may take at most half the machine's memory


def _physical_memory() -> int:
    """Bytes of physical memory (16 GB if the system does not say)."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


class Cost(BaseModel):
    """What an experiment would take, estimated before any work (see :func:`estimate_cost`)."""

    replicates: int
    points: int
    arms: int
    days: int
    truces: int
    cpu_seconds: float
    memory_bytes: float
    memory_limit: float

    def problem(self) -> str | None:
        """Why the experiment cannot run on this machine (None if it can)."""
        if self.cpu_seconds <= MAX_CPU_SECONDS and self.memory_bytes <= self.memory_limit:
            return None
        parts = [f"{self.replicates:,} replicates"]
        if self.points > 1:
            parts.append(f"{self.points:,} design points")
        if self.arms > 1:
            parts.append(f"{self.arms:,} arms")
        return (
            f"too large to run: {' × '.join(parts)} = {self.truces:,} simulated truces of up "
            f"to {self.days:,} days, about {_duration(self.cpu_seconds)} of CPU and "
            f"{_gigabytes(self.memory_bytes)} of memory on this machine; the limits are "
            f"{_duration(MAX_CPU_SECONDS)} of CPU and {_gigabytes(self.memory_limit)} "
            "(half its memory). Lower replicates or the size of the design"
        )


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.1f} {unit}" if value != 1 else f"1 {unit[:-1]}"
    return f"{seconds:.0f} seconds"


def _gigabytes(n: float) -> str:
    return f"{n / 2**30:,.1f} GB"


def _max_days(scenario: Scenario) -> int:
    """The longest lead time + horizon any arm or design point can set."""
    from sim.scenario.designs import design_values

    longest = {"truce.horizon": scenario.truce.horizon, "truce.lead_time": scenario.truce.lead_time}
    for key in longest:
        for value in design_values(scenario, key):
            if isinstance(value, int | float) and not isinstance(value, bool):
                longest[key] = max(longest[key], int(math.ceil(value)))
    return sum(longest.values())


def estimate_cost(scenario: Scenario, kind: str) -> Cost:
    """Estimate the CPU time and memory of an experiment before running it.

    Truce-days (replicates × design points × arms × (lead time + horizon))
    times :data:`SECONDS_PER_REPLICATE_DAY`, and rows (simulated truces) times
    :data:`BYTES_PER_ROW`.

    Args:
        scenario: the validated scenario (with the replicates to run).
        kind: ``"run"``, ``"compare"`` or ``"sweep"``.
    """
    from sim.scenario.designs import design_size

    arms = len(scenario.compare) if kind != "run" and scenario.compare else 1
    points = design_size(scenario.sweep) if kind == "sweep" and scenario.sweep else 1
    truces = scenario.replicates * points * arms
    days = _max_days(scenario)
    return Cost(
        replicates=scenario.replicates,
        points=points,
        arms=arms,
        days=days,
        truces=truces,
        cpu_seconds=truces * days * SECONDS_PER_REPLICATE_DAY,
        memory_bytes=truces * BYTES_PER_ROW,
        memory_limit=_physical_memory() * MEMORY_SHARE,
    )


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
