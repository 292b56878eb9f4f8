"""The classroom demo: a Solara page with sliders, a step button and moving plots.

Run it with ``truce app [SCENARIO.yaml]`` (or ``solara run sim.app``). The page
shows one truce stepping day by day (Reset, Play, Step, as in Mesa's SolaraViz
controller) and, beside it, the survival curve of a few hundred truces under the
current slider settings, recomputed in worker processes (:mod:`sim.app.workers`,
which also draw its chart) whenever a slider is released, with the previous
setting's curve kept faint for comparison. Its pieces:
:mod:`sim.app.truces` (the live truce and the ensemble), :mod:`sim.app.figures`
(their charts), :mod:`sim.app.components` (the panels), :mod:`sim.app.scenarios`
(the scenario picker) and :mod:`sim.app.server` (``truce app``).

The page's setting (scenario, every lever, the live truce's seed and the speed)
is kept in the address bar's query (``?scenario=baseline.yaml&coverage=0.6&seed=3``):
read when the page loads, updated on every change, so a reload or a shared link
restores it.

The sliders are the levers a class argues about (:mod:`sim.app.levers`: what
each sets, and its range from the scenario schema, so a value the model would
reject cannot be set).

Visualisation only: the model knows nothing of this page.
"""

from __future__ import annotations

import gc
import os
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import solara
from mesa.visualization.utils import force_update

from sim.app.components import (
    PLAY_INTERVAL_MS,
    SPEEDS,
    TITLE,
    AddressBar,
    EnsemblePanel,
    EventLog,
    LeverSlider,
    Offstage,
    StatusBanner,
    TimelinePanel,
    TruceControls,
)
from sim.app.levers import (
    LEVERS,
    apply_levers,
    lever_bounds,
    lever_values,
    levers_from_query,
    levers_to_query,
)
from sim.app.network import NetworkPanel
from sim.app.play import ClassSessionPage, wants_class_session
from sim.app.scenarios import SCENARIO_ENV, load_choice, scenario_choices
from sim.app.trace import mark
from sim.app.truces import DEFAULT_SEED, Ensembles, LiveTruce, TruceSetup
from sim.app.workers import warm_up
from sim.model.model import CeasefireModel
from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario

# =========================================================================== the page

#: Largest seed the "new random truce" button draws.
MAX_SEED = 999_999


def _query(search: str | None) -> dict[str, str]:
    """The address bar's query parameters (the last value of a repeated one)."""
    return dict(parse_qsl(search or "", keep_blank_values=True))


def _seed_from(query: dict[str, str]) -> int | None:
    text = query.get("seed", "").strip()
    return int(text) if text.isdigit() and int(text) <= 2**32 - 1 else None


MENU_ICON = (
    '<svg class="truce-icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">'
    '<path fill="currentColor" d="M3 6h18v2H3zm0 5h18v2H3zm0 5h18v2H3z"/></svg>'
)


@solara.component
def ControlsToggle(open_: solara.Reactive[bool]):
    """The button that hides and reopens the controls: an icon and a label."""
    label = "Hide controls" if open_.value else "Show controls"
    solara.Button(
        children=[solara.HTML(tag="span", unsafe_innerHTML=MENU_ICON), label],
        on_click=lambda: open_.set(not open_.value),
        classes=["truce-toggle"],
        outlined=True,
    )


@solara.component
def LeverPanel(
    base: Scenario,
    levers: solara.Reactive[dict[str, Any]],
    on_change: Callable[[dict[str, Any]], None],
):
    """The monitoring switch and the sliders, bounded by the schema's ranges, values shown."""
    values = levers.value

    def setter(key: str, is_int: bool = False) -> Callable[[Any], None]:
        def set_value(value: Any) -> None:
            on_change({**levers.value, key: int(round(value)) if is_int else float(value)})

        return set_value

    with solara.Card("Levers"):
        solara.Switch(
            label="Monitoring mission",
            value=values["monitoring"],
            on_value=lambda on: on_change({**levers.value, "monitoring": bool(on)}),
        )
        for lever in LEVERS:
            low, high, is_int = lever_bounds(lever, base)
            disabled = (lever.key == "coverage" and not values["monitoring"]) or (
                lever.key in ("leverage", "commitment") and not base.sponsors
            )
            LeverSlider.element(
                label=lever.label,
                value=float(values[lever.key]),
                min=float(low),
                max=float(high),
                step=float(lever.step),
                decimals=0 if is_int else 2,
                disabled=disabled,
                on_value=setter(lever.key, is_int),
            ).key(f"lever-{lever.key}")
        solara.Button(
            "Back to the scenario's values",
            text=True,
            on_click=lambda: on_change(lever_values(base)),
        )


@solara.component
def Classroom(base: Scenario, picker: Callable[[], None], label: str = ""):
    """The demo for one picked scenario: controls, levers, truce and ensemble.

    Args:
        base: the picked scenario.
        picker: draws the scenario picker.
        label: the scenario's label in the picker (its ``scenario`` query parameter).
    """
    router = solara.use_router()
    mark("render-page")

    def from_address() -> tuple[dict[str, Any], int, int, list[str]]:
        query = _query(router.search)
        if query.get("scenario") != label:
            return lever_values(base), DEFAULT_SEED, PLAY_INTERVAL_MS, []
        values, ignored = levers_from_query(base, query)
        seed = _seed_from(query)
        if seed is None:
            seed = DEFAULT_SEED
            if "seed" in query:
                ignored.append(f"seed={query['seed']}")
        speed = SPEEDS.get(query.get("speed", ""), PLAY_INTERVAL_MS)
        return values, seed, speed, ignored

    first, first_seed, first_speed, ignored = solara.use_memo(from_address, [])
    levers = solara.use_reactive(first)
    seed = solara.use_reactive(first_seed)
    play_interval = solara.use_reactive(first_speed)
    controls_open = solara.use_reactive(True)
    # The scenario itself unless the link set other values (applying the levers rounds).
    setup = solara.use_memo(
        lambda: TruceSetup(
            base if first == lever_values(base) else apply_levers(base, first), first_seed
        ),
        [],
    )
    model: solara.Reactive[CeasefireModel] = solara.use_reactive(
        solara.use_memo(lambda: LiveTruce(setup), [])
    )
    problem: solara.Reactive[str | None] = solara.use_reactive(None)
    # The ensembles of this page, the new setting's started on release before the page redraws.
    ensembles = solara.use_memo(lambda: Ensembles(DEFAULT_SEED), [])

    def restart() -> None:
        model.set(LiveTruce(setup))
        force_update()

    def on_change(new: dict[str, Any]) -> None:
        mark("release")
        try:
            scenario = apply_levers(base, new)
        except ScenarioError as exc:
            problem.set(str(exc))
            return
        problem.set(None)
        ensembles.start(scenario)
        mark("submitted")
        levers.set(new)
        setup.scenario = scenario
        restart()
        mark("rebuilt")

    def new_truce() -> None:
        seed.set(secrets.randbelow(MAX_SEED) + 1)
        setup.seed = seed.value
        restart()

    def set_speed(name: str) -> None:
        play_interval.set(SPEEDS[name])

    speed_name = next((k for k, v in SPEEDS.items() if v == play_interval.value), "normal")
    address = {
        "scenario": label,
        **levers_to_query(levers.value),
        "seed": str(seed.value),
        "speed": speed_name,
    }

    Offstage()
    AddressBar.element(query=urlencode(address))
    with solara.Div(classes=["truce-app"]):
        with solara.Div(classes=["truce-bar"]):
            ControlsToggle(controls_open)
            solara.Div(children=[TITLE], classes=["truce-title"])
        with solara.Div(classes=["truce-body"]):
            if controls_open.value:
                with solara.Div(classes=["truce-controls"]):
                    picker()
                    with solara.Card("Controls"):
                        TruceControls(model, setup, play_interval)
                        solara.Div(children=["Speed of ▶"], classes=["truce-note"])
                        solara.ToggleButtonsSingle(
                            value=speed_name,
                            values=list(SPEEDS),
                            on_value=set_speed,
                            classes=["truce-speed"],
                        )
                        solara.Button("New random truce", on_click=new_truce, outlined=True)
                        solara.Div(children=[f"truce no. {seed.value}"], classes=["truce-seed"])
                    LeverPanel(base, levers, on_change)
                    solara.Button(  # students play: sim.app.play
                        "Open a class session", href="?class", target="_blank", text=True
                    )
            with solara.Div(classes=["truce-main"]):
                if ignored:
                    solara.Warning(
                        "The link's values not used (not in the sliders' ranges): "
                        + ", ".join(ignored)
                    )
                if problem.value:
                    solara.Error(problem.value)
                StatusBanner(model.value)
                with solara.Div(classes=["truce-charts"]):
                    with solara.Div(classes=["truce-col", "truce-col-timeline"]):
                        job = ensembles.current  # the curve the class waits for comes first
                        TimelinePanel(model.value, job.first_shown if job else None)
                    with solara.Div(classes=["truce-col", "truce-col-ensemble"]):
                        EnsemblePanel(setup.scenario, ensembles)
                NetworkPanel(model.value)
                EventLog(model.value)


def _start() -> None:
    """With the first page: start the ensemble's workers and freeze what is loaded.

    The workers start now, not on the first release. The server's modules (Solara,
    plotly, pandas, the model) live as long as it does: frozen (``gc.freeze``), a
    full collection in the middle of a release walks that release's objects only.
    """
    global _started
    warm_up()
    if not _started:
        _started = True
        gc.collect()
        gc.freeze()


_started = False


@solara.component
def Page():
    """The classroom page (what ``solara run sim.app`` serves); ``?class``: a class session."""
    router = solara.use_router()
    solara.use_memo(_start, [])
    given = os.environ.get(SCENARIO_ENV) or None
    choices = solara.use_memo(lambda: scenario_choices(given), [])
    wanted = solara.use_memo(lambda: _query(router.search).get("scenario"), [])
    first = wanted if wanted in choices else next(iter(choices), "")
    choice = solara.use_reactive(first)
    scenario, error = solara.use_memo(
        lambda: load_choice(choices.get(choice.value, choice.value)), [choice.value]
    )
    session, code = wants_class_session(router.search)
    if session:  # students play (sim.app.play): the page at ``?class``
        ClassSessionPage(code)
        return

    def picker() -> None:
        solara.Select("Scenario", values=list(choices), value=choice)

    if scenario is None:
        Offstage()
        with solara.Div(classes=["truce-controls"]):
            picker()
        solara.Error(f"This scenario cannot be loaded: {error or 'no scenario files found'}")
        return
    Classroom(base=scenario, picker=picker, label=choice.value).key(choice.value)
