"""The classroom demo: a Solara page with sliders, a step button and moving plots.

Run it with ``truce app [SCENARIO.yaml]`` (or ``solara run sim.app``). The page
shows one truce stepping day by day (Reset, Play, Step, as in Mesa's SolaraViz
controller) and, beside it, the survival curve of a few hundred truces under the
current slider settings, recomputed in a background thread whenever a slider
moves, with the previous setting's curve kept faint for comparison. Its pieces:
:mod:`sim.app.truces` (the live truce and the ensemble), :mod:`sim.app.figures`
(their charts), :mod:`sim.app.components` (the panels), :mod:`sim.app.scenarios`
(the scenario picker) and :mod:`sim.app.server` (``truce app``).

The sliders are the levers a class argues about. Their bounds come from the
scenario schema (the fields' ``ge``/``le`` constraints, and its cross-field
rules for the scenario shown: see :func:`lever_bounds`), so a value the model
would reject cannot be set; :func:`apply_levers` refuses one with a
:class:`~sim.scenario.errors.ScenarioError` too. Lever values that stand for several
actors (entanglement of the factions, war fatigue of the parties, sponsors'
leverage and commitment) set their average: each actor's value is scaled so
the differences between them are kept.

Visualisation only: the model knows nothing of this page.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import solara
from annotated_types import Ge, Le
from mesa.visualization.utils import force_update
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.app.components import (
    TITLE,
    EnsemblePanel,
    EventLog,
    Offstage,
    StatusBanner,
    TimelinePanel,
    TruceControls,
)
from sim.app.scenarios import SCENARIO_ENV, load_choice, scenario_choices
from sim.app.truces import LiveTruce, TruceSetup
from sim.model.model import CeasefireModel
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import validate
from sim.scenario.schema import Scenario

# =========================================================================== levers


@dataclass(frozen=True)
class Lever:
    """A slider on the page and the scenario parameter(s) it sets."""

    key: str
    label: str
    path: str
    step: float
    help: str


LEVERS: tuple[Lever, ...] = (
    Lever(
        "coverage",
        "Monitoring coverage",
        "monitors.coverage",
        0.05,
        "share of the front the monitors observe",
    ),
    Lever(
        "loophole_width",
        "Loophole width",
        "truce.loophole_width",
        0.05,
        "share of sponsors' strikes that go on under the exemptions",
    ),
    Lever(
        "entanglement",
        "Entanglement",
        "factions[].entanglement",
        0.05,
        "how mixed in the factions are with the exempted groups",
    ),
    Lever(
        "fatigue",
        "War fatigue",
        "government.fatigue",
        0.05,
        "how tired of war the parties are at the start",
    ),
    Lever(
        "leverage",
        "Sponsor leverage",
        "sponsors[].leverage",
        0.05,
        "how much the parties depend on their sponsors",
    ),
    Lever(
        "commitment",
        "Sponsor commitment",
        "sponsors[].commitment",
        0.05,
        "how much the sponsors want the truce to hold",
    ),
    Lever(
        "deconfliction",
        "Deconfliction",
        "deconfliction.level",
        0.05,
        "coordination between the foreign air forces",
    ),
    Lever(
        "air_forces",
        "Foreign air forces",
        "deconfliction.air_forces",
        1,
        "air forces flying over the theatre",
    ),
    Lever(
        "lead_time",
        "Lead time (days)",
        "truce.lead_time",
        1,
        "days between the announcement and the start",
    ),
)
"""The sliders, in page order (the monitoring switch comes first)."""

LEVER_BY_KEY = {lever.key: lever for lever in LEVERS}


def _lever_field(lever: Lever) -> FieldInfo:
    """The pydantic field a lever sets (``factions[].entanglement``: a faction's)."""
    model: Any = Scenario
    *sections, name = lever.path.replace("[]", "").split(".")
    for section in sections:
        model = _model_in(model.model_fields[section].annotation)
    return model.model_fields[name]


def _model_in(annotation: Any) -> type[BaseModel]:
    """The config class in a field's annotation (``Monitors | None``, ``tuple[Faction, ...]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        try:
            return _model_in(arg)
        except TypeError:
            continue
    raise TypeError(f"no config class in {annotation!r}")


def sponsors_that_fly(scenario: Scenario) -> int:
    """The fewest foreign air forces ``scenario`` allows: one per sponsor that flies.

    The cross-field rule of :func:`sim.scenario.schema.reference_problems` on
    ``deconfliction.air_forces``; the levers do not change the sponsors, so it is
    the slider's minimum for the whole page.
    """
    return sum(bool(sp.air_force) for sp in scenario.sponsors)


def lever_bounds(lever: Lever, scenario: Scenario | None = None) -> tuple[float, float, bool]:
    """The range a lever's slider offers: (low, high, whole numbers only).

    The bounds are the ``ge``/``le`` constraints of the pydantic field the lever
    sets; given ``scenario``, the cross-field rules of the schema raise the
    minimum where they apply (foreign air forces: at least the sponsors that
    fly). Every value in the range is one :func:`apply_levers` accepts.

    Raises:
        ValueError: if the field has no lower or upper bound (no slider can be made).
    """
    field = _lever_field(lever)
    low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    if low is None or high is None:
        raise ValueError(f"{lever.path} has no range (ge and le) in the schema")
    if lever.key == "air_forces" and scenario is not None:
        low = max(low, sponsors_that_fly(scenario))
    if field.annotation is int:
        return int(low), int(high), True
    return float(low), float(high), False


def _mean(values: list[float], fallback: float) -> float:
    return float(np.mean(values)) if values else fallback


def lever_values(scenario: Scenario) -> dict[str, Any]:
    """The slider positions that describe ``scenario`` (plus ``monitoring``: on/off)."""
    s = scenario
    monitors = s.monitors
    return {
        "monitoring": monitors is not None,
        "coverage": float(monitors.coverage if monitors else 0.5),
        "loophole_width": float(s.truce.loophole_width),
        "entanglement": _mean([f.entanglement for f in s.factions], 0.2),
        "fatigue": _mean([p.fatigue for p in s.principals], 0.3),
        "leverage": _mean([sp.leverage for sp in s.sponsors], 0.5),
        "commitment": _mean([sp.commitment for sp in s.sponsors], 0.5),
        "deconfliction": float(s.deconfliction.level),
        "air_forces": int(s.deconfliction.air_forces),
        "lead_time": int(s.truce.lead_time),
    }


def _set_average(items: list[dict], field: str, value: float) -> None:
    """Scale ``field`` of every item so that their average is ``value`` (clipped to 0–1)."""
    if not items:
        return
    old = np.array([item[field] for item in items], float)
    new = old * value / old.mean() if old.mean() > 0 else np.full(len(old), value)
    for item, v in zip(items, np.clip(new, 0.0, 1.0), strict=True):
        item[field] = round(float(v), 6)


def apply_levers(scenario: Scenario, levers: Mapping[str, Any]) -> Scenario:
    """``scenario`` with the slider settings applied.

    Args:
        scenario: the scenario picked on the page.
        levers: lever keys (see :data:`LEVERS`, plus ``monitoring``) and values.

    Returns:
        A validated scenario.

    Raises:
        ScenarioError: for an unknown lever or a value outside the range of
            :func:`lever_bounds` for ``scenario``.
    """
    data = scenario.model_dump()
    for key, value in levers.items():
        if key == "monitoring":
            continue
        lever = LEVER_BY_KEY.get(key)
        if lever is None:
            raise ScenarioError(
                "<app>", f"unknown lever; valid: {', '.join(LEVER_BY_KEY)}", field=key
            )
        low, high, is_int = lever_bounds(lever, scenario)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise ScenarioError(
                "<app>", f"{value!r} is outside the allowed range {low}–{high}", field=lever.path
            )
        if is_int and value != int(value):
            raise ScenarioError("<app>", f"{value!r} is not a whole number", field=lever.path)
    values = {**lever_values(scenario), **levers}
    if values["monitoring"]:
        data["monitors"] = {**(data["monitors"] or {}), "coverage": values["coverage"]}
    else:
        data["monitors"] = None
    data["truce"]["loophole_width"] = values["loophole_width"]
    data["truce"]["lead_time"] = int(values["lead_time"])
    data["deconfliction"]["level"] = values["deconfliction"]
    data["deconfliction"]["air_forces"] = int(values["air_forces"])
    _set_average(data["factions"], "entanglement", values["entanglement"])
    principals = [data["government"], *data["factions"]]
    _set_average(principals, "fatigue", values["fatigue"])
    _set_average(data["sponsors"], "leverage", values["leverage"])
    _set_average(data["sponsors"], "commitment", values["commitment"])
    return validate(data, "<app>")


# =========================================================================== the page


@solara.component
def LeverPanel(
    base: Scenario,
    levers: solara.Reactive[dict[str, Any]],
    on_change: Callable[[dict[str, Any]], None],
):
    """The monitoring switch and the sliders, bounded by the schema's ranges."""
    values = levers.value

    def setter(key: str) -> Callable[[Any], None]:
        def set_value(value: Any) -> None:
            on_change({**levers.value, key: value})

        return set_value

    with solara.Card("Levers"):
        solara.Switch(
            label="Monitoring mission", value=values["monitoring"], on_value=setter("monitoring")
        )
        for lever in LEVERS:
            low, high, is_int = lever_bounds(lever, base)
            disabled = (lever.key == "coverage" and not values["monitoring"]) or (
                lever.key in ("leverage", "commitment") and not base.sponsors
            )
            if is_int:
                solara.SliderInt(
                    lever.label,
                    value=int(values[lever.key]),
                    min=int(low),
                    max=int(high),
                    step=int(lever.step),
                    on_value=setter(lever.key),
                    disabled=disabled,
                )
            else:
                solara.SliderFloat(
                    lever.label,
                    value=float(values[lever.key]),
                    min=low,
                    max=high,
                    step=lever.step,
                    on_value=setter(lever.key),
                    disabled=disabled,
                )
        solara.Button(
            "Back to the scenario's values",
            text=True,
            on_click=lambda: on_change(lever_values(base)),
        )


@solara.component
def Classroom(base: Scenario, picker: Callable[[], None]):
    """The demo for one picked scenario: controls, levers, truce and ensemble."""
    levers = solara.use_reactive(lever_values(base))
    setup = solara.use_memo(lambda: TruceSetup(base), [])
    model: solara.Reactive[CeasefireModel] = solara.use_reactive(
        solara.use_memo(lambda: LiveTruce(setup), [])
    )
    problem: solara.Reactive[str | None] = solara.use_reactive(None)

    def restart() -> None:
        model.set(LiveTruce(setup))
        force_update()

    def on_change(new: dict[str, Any]) -> None:
        try:
            scenario = apply_levers(base, new)
        except ScenarioError as exc:
            problem.set(str(exc))
            return
        problem.set(None)
        levers.set(new)
        setup.scenario = scenario
        restart()

    with Offstage():
        with solara.AppBar():
            solara.AppBarTitle(TITLE)
        with solara.Sidebar():
            picker()
            with solara.Card("Controls"):
                TruceControls(model, setup)
            LeverPanel(base, levers, on_change)
    if problem.value:
        solara.Error(problem.value)
    StatusBanner(model.value)
    with solara.Columns([3, 2]):
        with solara.Column():
            TimelinePanel(model.value)
        with solara.Column():
            EnsemblePanel(setup.scenario, setup.seed)
    EventLog(model.value)


@solara.component
def Page():
    """The classroom page (what ``solara run sim.app`` serves)."""
    given = os.environ.get(SCENARIO_ENV) or None
    choices = solara.use_memo(lambda: scenario_choices(given), [])
    first = next(iter(choices), "")
    choice = solara.use_reactive(first)
    scenario, error = solara.use_memo(
        lambda: load_choice(choices.get(choice.value, choice.value)), [choice.value]
    )

    def picker() -> None:
        solara.Select("Scenario", values=list(choices), value=choice)

    if scenario is None:
        with Offstage():
            with solara.AppBar():
                solara.AppBarTitle(TITLE)
            with solara.Sidebar():
                picker()
        solara.Error(f"This scenario cannot be loaded: {error or 'no scenario files found'}")
        return
    Classroom(base=scenario, picker=picker).key(choice.value)
