"""Measure the direction of every lever the schema documents as raising or lowering collapse.

Shared by ``tests/test_directions.py`` (which asserts each documented direction) and
``tools/directions.py`` (which prints the table for the docs). Nothing here names a
parameter: the levers, their ranges and their directions are read from the schema
(:func:`sim.scenario.schema.parameters` and :func:`sim.scenario.schema.bounds`), so
the levers the model gains later are tested without a change here.

The design, for one lever:

* **Two reference scenarios.** Every optional section that holds a lever (today the
  monitors and the mediator) is switched on at its schema defaults in both, so that every
  lever is active, and each runs :data:`HORIZON` days.

  - *One theatre* (:data:`REFERENCE`, ``scenarios/baseline.yaml``): the baseline truce (an
    exempted group, excluded groups, sponsors with and without air forces). Over a year
    about 37% of its truces collapse, so that levers that lower collapse have collapses
    to prevent and levers that raise it have truces left to end.
  - *Several theatres* (:data:`THEATRES_REFERENCE`, ``tests/directions/theatres.yaml``):
    the same truce as two theatres with guarantor troops in one, over only once both have
    fallen. It serves the levers of :func:`needs_theatres` only: those that act only in a
    deal of several theatres or where guarantor troops stand.
* **Two arms, low and high.** The lever at the low and at the high end of its valid range
  in the reference scenario (``bounds(path, reference)``: the cross-field rules narrow it);
  a boolean at false and true; a list of names empty and as the reference has it. A list
  item (``factions[].trust``) is set on *every* item of the reference's list at once: the
  documented direction holds for each item, and moving all of them gives the clearest
  effect.
* **Common random numbers.** Both arms run with the reference's seed and one chunk, so
  replicate ``i`` of the two arms starts from the same state and draws the same exogenous
  events: the arms' truces come in pairs.
* **Outcome: days held** (``days_held``: the collapse day, or the horizon for a truce that
  holds). Its mean over the horizon (the restricted mean survival time) counts both whether
  and when a truce collapses: a lever that only delays collapse, or that acts where nearly
  every truce collapses in both arms (a saturated collapse share), still registers, and
  under common random numbers the paired differences of days are far less noisy than two
  independent shares. The collapse share is reported beside it.
* **Paired test.** ``d_i = days_held_high_i - days_held_low_i``; ``z = mean(d) / (sd(d) /
  sqrt(n))`` (a normal bound on the paired mean difference; with ``n`` in the hundreds and
  at least :data:`MIN_CHANGED` pairs that differ, the mean is close to normal). A lever
  that raises collapse must have ``z <= -Z_CRIT``, one that lowers it ``z >= Z_CRIT``.
"""

from __future__ import annotations

import math
import re
import typing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from sim.experiment.runner import run_one
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario, resolve_scenario
from sim.scenario.schema import (
    DEPENDS,
    LOWERS,
    RAISES,
    Scenario,
    bounds,
    field_at,
    parameters,
)

ROOT = Path(__file__).resolve().parent.parent

#: The one-theatre reference: every lever but those of :func:`needs_theatres`.
REFERENCE = ROOT / "scenarios" / "baseline.yaml"

#: The several-theatre reference (its comments say why each setting).
THEATRES_REFERENCE = ROOT / "tests" / "directions" / "theatres.yaml"

#: Days simulated per truce, in both references. A year: since the constants were refitted
#: the baseline truce with the monitors and the mediator on collapses in only ~1% of
#: truces within 180 days in the zones deal, and in 37% within 365 days as one theatre
#: (tools/directions.py prints both references' shares), so a lever that lowers collapse
#: has collapses to prevent. The cost is linear in days and small (about 0.6 s of CPU
#: for 300 truces over a year).
HORIZON = 365

#: The levers measured on the several-theatre reference, by an explicit rule: every lever
#: under ``theatres[]`` (absent from a one-theatre deal) and ``truce.end`` (with one theatre
#: every end rule coincides), plus the two constants that act only there: ``spill_over``
#: (a fallen theatre's strain on the others: needs a deal that survives a first fall) and
#: ``guarantee_weight`` (acts only where ``theatres[].guarantor_troops`` > 0).
THEATRE_PREFIXES = ("theatres[].", "truce.end.")
THEATRE_CONSTANTS = ("constants.spill_over", "constants.guarantee_weight")


def needs_theatres(path: str) -> bool:
    """Whether a lever is measured on the several-theatre reference (see THEATRE_PREFIXES)."""
    return path.startswith(THEATRE_PREFIXES) or path in THEATRE_CONSTANTS


#: The levers measured on the defection reference (tests/directions/defection.yaml says why):
#: those that act through a party's deliberate choice to fight, rare at the calibrated
#: constants in the baseline.
DEFECTION_LEVERS = (
    "constants.reputation_cost",
    "constants.restraint_weight",
    "constants.sanction_weight",
    "constants.regroup_weight",
    "constants.regroup_rate",
    "constants.war_tempo",
    "sponsors[].leverage",
    "truce.lead_time",
)


def needs_defection(path: str) -> bool:
    """Whether a lever is measured on the defection reference (see DEFECTION_LEVERS)."""
    return path in DEFECTION_LEVERS


#: Replicate truces per arm, by power. Under common random numbers the paired differences of
#: days held have a standard deviation sd of about 25-145 days over the 365-day horizon,
#: depending on the lever (measured with tools/directions.py). A shift of the mean is found
#: with probability 0.9 at Z_CRIT when it is (Z_CRIT + 1.28) x sd / sqrt(n) = 0.175 sd at
#: n = 600: 25 days (7% of the horizon) for the noisiest lever, 5-9 days for the quiet ones
#: whose effects are smallest (sponsors[].commitment, constants.contrition,
#: monitors.attribution: z 3.2-4.9 today). Twice the replicates would buy a factor 1.4 in z
#: for twice the CPU (about 100 s for the whole file at 600).
REPLICATES = 600

#: One-sided critical value of the paired z. 3.0 (p = 0.0013 one-sided) rather than 1.64:
#: about 60 levers are tested, so a lever with no effect at all would pass by chance with
#: probability 60 x 0.0013 = 8% for the whole family, instead of 96% at 1.64.
Z_CRIT = 3.0

#: Pairs that must differ between the arms for the normal bound to be trusted (fewer means
#: the lever barely acts in the reference scenario, which is a failure in itself).
MIN_CHANGED = 20

DOCUMENTED = (RAISES, LOWERS)
NO_CLEAR_CHANGE = "no clear change"


@dataclass(frozen=True)
class Lever:
    """A parameter with a documented direction: its schema path, direction and kind."""

    path: str
    direction: str
    kind: str
    description: str


def levers() -> list[Lever]:
    """Every parameter the schema documents as raising or lowering collapse."""
    return [
        Lever(row["path"], row["direction"], row["kind"], row["description"])
        for row in parameters()
        if row["direction"] in DOCUMENTED
    ]


def depending() -> list[Lever]:
    """Every parameter documented as ``depends`` (its direction is not one sign)."""
    return [
        Lever(row["path"], row["direction"], row["kind"], row["description"])
        for row in parameters()
        if row["direction"] == DEPENDS
    ]


def depends_reason(path: str) -> str:
    """What a ``depends`` parameter's direction depends on, as its schema field says it.

    Either the field's metadata ``depends_on`` (``json_schema_extra``), or the sentence of
    its description or source that starts with "direction depends on" (or "raises collapse
    when" / "lowers collapse when"). Empty when the field says neither.
    """
    field = field_at(path)
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    given = str(extra.get("depends_on") or "").strip()
    if given:
        return given
    texts = (field.description or "", str(extra.get("source") or ""))
    for text in texts:
        found = REASON.search(text)
        if found:
            return found.group(0).strip()
    return ""


#: The words that introduce a ``depends`` parameter's reason in its description or source.
REASON = re.compile(
    r"(direction depends on|(raises|lowers) collapse (when|if|where|unless))[^.;]*\S",
    re.IGNORECASE,
)


def _models(annotation: Any) -> tuple[type[BaseModel] | None, bool, bool]:
    """The config class a field holds, whether it is a list of them and whether it may be null."""
    args = typing.get_args(annotation) or (annotation,)
    nullable = type(None) in args
    for arg in args:
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg, False, nullable
        inner = typing.get_args(arg)
        if typing.get_origin(arg) is tuple and inner and isinstance(inner[0], type):
            if issubclass(inner[0], BaseModel):
                return inner[0], True, nullable
    return None, False, nullable


def _switch_on(model: type[BaseModel], data: dict[str, Any], prefix: str, paths: set[str]) -> None:
    """Fill, in ``data``, every null optional section on the way to a lever, at any depth."""
    for name, field in model.model_fields.items():
        section, listed, nullable = _models(field.annotation)
        here = f"{prefix}{name}{'[]' if listed else ''}."
        if section is None or not any(p.startswith(here) for p in paths):
            continue
        if data.get(name) is None and nullable and not listed:
            try:
                data[name] = section().model_dump()
            except ValueError:  # pydantic's ValidationError: the section has required fields
                continue
        items = data.get(name) or []
        for item in items if listed else [items]:
            if isinstance(item, dict):
                _switch_on(section, item, here, paths)


#: The references by name: ``one`` theatre and ``theatres`` (several).
REFERENCES = {
    "one": REFERENCE,
    "theatres": THEATRES_REFERENCE,
    "defection": ROOT / "tests" / "directions" / "defection.yaml",
}


@lru_cache(maxsize=len(REFERENCES))
def reference(name: str = "one") -> Scenario:
    """A reference (``one`` or ``theatres``), every lever's section on, :data:`HORIZON` days.

    An optional section on the way to a lever that is null in the file (today the monitors
    and the mediator) is switched on at its schema defaults; a section whose defaults are
    not enough to build it stays off, and its levers then fail as absent.
    """
    base = load_scenario(REFERENCES[name], {"truce.horizon": HORIZON})
    data = base.model_dump()
    _switch_on(Scenario, data, "", {lever.path for lever in levers()})
    return Scenario.model_validate(data)


def reference_for(path: str) -> Scenario:
    """The reference a lever is measured on (:func:`needs_theatres`, :func:`needs_defection`)."""
    if needs_theatres(path):
        return reference("theatres")
    return reference("defection" if needs_defection(path) else "one")


def concrete_paths(path: str, scenario: Scenario) -> list[str]:
    """The dotted paths a schema path names in ``scenario``: each ``[]`` becomes every index.

    Returns an empty list when a list on the way is empty or a section on the way is null.
    """
    paths = [("", scenario.model_dump())]
    for part in path.split("."):
        listed = part.endswith("[]")
        key = part.removesuffix("[]")
        nxt: list[tuple[str, Any]] = []
        for prefix, node in paths:
            if not isinstance(node, dict) or node.get(key) is None:
                continue
            here = f"{prefix}{key}"
            if listed:
                nxt += [(f"{here}.{i}.", item) for i, item in enumerate(node[key])]
            else:
                nxt.append((f"{here}.", node[key]))
        paths = nxt
    return [prefix.rstrip(".") for prefix, _ in paths]


class NotExercised(Exception):
    """A lever that cannot be set to two different values in the reference scenario."""


def _value(scenario: Scenario, dotted: str) -> Any:
    node: Any = scenario
    for part in dotted.split("."):
        node = node[int(part)] if part.isdigit() else getattr(node, part)
    return node


def ends(lever: Lever, scenario: Scenario) -> tuple[dict[str, Any], dict[str, Any]]:
    """The overrides of the low and the high arm.

    Raises:
        NotExercised: when the lever is absent from ``scenario`` or its kind or range gives
            no two ends.
    """
    paths = concrete_paths(lever.path, scenario)
    if not paths:
        raise NotExercised(
            f"{lever.path} is not present in the reference scenario (an empty list or a null "
            "section on its way)"
        )
    if lever.kind in ("real", "integer"):
        lows, highs = [], []
        for p in paths:
            r = bounds(p, scenario)
            if r.low is None or r.high is None:
                raise NotExercised(f"{p} has an open range ({r.low}, {r.high}): give it ge and le")
            lows.append(r.low)
            highs.append(r.high)
        low, high = max(lows), min(highs)
        if not low < high:
            raise NotExercised(f"{lever.path}: no valid range in the reference ({low}, {high})")
        return dict.fromkeys(paths, low), dict.fromkeys(paths, high)
    if lever.kind == "boolean":
        return dict.fromkeys(paths, False), dict.fromkeys(paths, True)
    if lever.kind == "list":
        given = {p: list(_value(scenario, p)) for p in paths}
        if not all(given.values()):
            raise NotExercised(f"{lever.path} is empty in the reference: nothing to switch off")
        return dict.fromkeys(paths, []), given
    raise NotExercised(f"{lever.path}: a {lever.kind} has no low and high end")


@dataclass(frozen=True)
class Measured:
    """The paired comparison of a lever's high arm with its low arm."""

    lever: Lever
    low: dict[str, Any]
    high: dict[str, Any]
    n: int
    changed: int
    days_low: float
    days_high: float
    days_diff: float
    days_se: float
    share_low: float
    share_high: float
    share_diff: float
    share_se: float

    @property
    def z(self) -> float:
        """The paired z of the mean difference in days held (0 when no pair differs)."""
        return self.days_diff / self.days_se if self.days_se > 0 else 0.0

    @property
    def measured(self) -> str:
        """The direction measured: :data:`RAISES`, :data:`LOWERS` or ``no clear change``."""
        if self.changed < MIN_CHANGED or abs(self.z) < Z_CRIT:
            return NO_CLEAR_CHANGE
        return RAISES if self.z < 0 else LOWERS

    @property
    def verdict(self) -> str:
        """``agrees``, ``contradicts`` or ``unclear`` (no significant change either way).

        For a lever documented as neither raising nor lowering collapse: ``n/a``.
        """
        if self.lever.direction not in DOCUMENTED:
            return "n/a"
        if self.measured == NO_CLEAR_CHANGE:
            return "unclear"
        return "agrees" if self.measured == self.lever.direction else "contradicts"

    def explain(self) -> str:
        """One line for a failed assertion."""
        needed = f"<= -{Z_CRIT}" if self.lever.direction == RAISES else f">= {Z_CRIT}"
        return (
            f"{self.lever.path} is documented '{self.lever.direction}', but low→high "
            f"({_ends(self.low)} → {_ends(self.high)}) changes the mean days held by "
            f"{self.days_diff:+.1f} (paired z {self.z:+.2f}, {self.changed} of {self.n} pairs "
            f"differ; {self.days_low:.1f} → {self.days_high:.1f} days) and the collapse share "
            f"by {self.share_diff:+.3f} ({self.share_low:.3f} → {self.share_high:.3f}); "
            f"needed: z {needed} with at least {MIN_CHANGED} pairs that differ"
        )


def _ends(overrides: dict[str, Any]) -> str:
    values = {repr(v) for v in overrides.values()}
    return values.pop() if len(values) == 1 else repr(overrides)


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    d = b.astype(float) - a.astype(float)
    sd = float(d.std(ddof=1)) if len(d) > 1 else 0.0
    return float(d.mean()), sd / math.sqrt(len(d))


def measure(lever: Lever, replicates: int = REPLICATES) -> Measured:
    """Run the lever's low and high arms on common random numbers and compare them.

    Raises:
        NotExercised: when the lever cannot be set, or an end makes the scenario invalid.
    """
    ref = reference_for(lever.path)
    low, high = ends(lever, ref)
    tables = []
    for overrides in (low, high):
        try:
            scenario = resolve_scenario(ref, overrides)
        except ScenarioError as exc:
            raise NotExercised(f"{lever.path} = {_ends(overrides)} is invalid: {exc}") from None
        table = run_one(scenario, ref.seed, replicates).sort_values("replicate")
        tables.append(table)
    a, b = tables
    days_a, days_b = a["days_held"].to_numpy(), b["days_held"].to_numpy()
    coll_a, coll_b = a["collapsed"].to_numpy(), b["collapsed"].to_numpy()
    days_diff, days_se = _paired(days_a, days_b)
    share_diff, share_se = _paired(coll_a, coll_b)
    return Measured(
        lever=lever,
        low=low,
        high=high,
        n=len(a),
        changed=int((days_a != days_b).sum()),
        days_low=float(days_a.mean()),
        days_high=float(days_b.mean()),
        days_diff=days_diff,
        days_se=days_se,
        share_low=float(coll_a.mean()),
        share_high=float(coll_b.mean()),
        share_diff=share_diff,
        share_se=share_se,
    )
