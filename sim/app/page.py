"""The classroom demo: a Solara page with sliders, a step button and moving plots.

Run it with ``truce app [SCENARIO.yaml]`` (or ``solara run sim.app``). The page
shows one truce stepping day by day (Reset, Play, Step, as in Mesa's SolaraViz
controller) and, beside it, the survival curve of a few hundred truces under the
current slider settings, recomputed in a background thread whenever a slider
moves, with the previous setting's curve kept faint for comparison. Its pieces:
:mod:`sim.app.truces` (the live truce and the ensemble), :mod:`sim.app.figures`
(their charts), :mod:`sim.app.components` (the panels), :mod:`sim.app.scenarios`
(the scenario picker) and :mod:`sim.app.server` (``truce app``).

The sliders are the levers a class argues about (:mod:`sim.app.levers`: what
each sets, and its range from the scenario schema, so a value the model would
reject cannot be set).

Visualisation only: the model knows nothing of this page.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import solara
from mesa.visualization.utils import force_update

from sim.app.components import (
    TITLE,
    EnsemblePanel,
    EventLog,
    Offstage,
    StatusBanner,
    TimelinePanel,
    TruceControls,
)
from sim.app.levers import LEVERS, apply_levers, lever_bounds, lever_values
from sim.app.network import NetworkPanel
from sim.app.play import ClassSessionPage, wants_class_session
from sim.app.scenarios import SCENARIO_ENV, load_choice, scenario_choices
from sim.app.truces import LiveTruce, TruceSetup
from sim.model.model import CeasefireModel
from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario

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
            solara.Button(  # students play: sim.app.play
                "Open a class session", href="?class", target="_blank", text=True
            )
    if problem.value:
        solara.Error(problem.value)
    StatusBanner(model.value)
    with solara.Columns([3, 2]):
        with solara.Column():
            TimelinePanel(model.value)
        with solara.Column():
            EnsemblePanel(setup.scenario, setup.seed)
    NetworkPanel(model.value)
    EventLog(model.value)


@solara.component
def Page():
    """The classroom page (what ``solara run sim.app`` serves); ``?class``: a class session."""
    given = os.environ.get(SCENARIO_ENV) or None
    choices = solara.use_memo(lambda: scenario_choices(given), [])
    first = next(iter(choices), "")
    choice = solara.use_reactive(first)
    scenario, error = solara.use_memo(
        lambda: load_choice(choices.get(choice.value, choice.value)), [choice.value]
    )
    wanted, code = wants_class_session(solara.use_router().search)
    if wanted:  # students play (sim.app.play): the page at ``?class``
        ClassSessionPage(code)
        return

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
