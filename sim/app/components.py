"""The page's Solara components: the truce's controls, banner, charts and event log.

Built like Mesa's SolaraViz: a controller with its buttons (Reset / ▶ / Step,
:func:`TruceControls`) drives a reactive model, and the panels redraw through
:func:`~mesa.visualization.utils.force_update` and its update counter, as in
SolaraViz. The ``SolaraViz`` wrapper itself is not used, because it always adds
sidebar cards meant for model developers (play and render intervals, a
threads switch, a model-parameter card, a step counter) that no argument
turns off, and a classroom projector needs none of them.
"""

from __future__ import annotations

import hashlib
import html
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import ipyvuetify
import pandas as pd
import plotly.graph_objects as go
import solara
import solara.lab
import traitlets
from mesa.visualization.utils import force_update, update_counter

from sim.app.figures import ensemble_figure, timeline_figure
from sim.app.truces import (
    ENSEMBLE_SIZE,
    TruceSetup,
    ensemble_key,
    ensemble_progress,
    ensemble_sentence,
    log_lines,
    status,
)
from sim.model.model import CeasefireModel
from sim.scenario.schema import Scenario

#: Milliseconds between two days while the live truce plays (the "normal" speed).
PLAY_INTERVAL_MS = 300
#: The speeds Play offers: label → milliseconds between two days.
SPEEDS = {"slow": 1000, "normal": PLAY_INTERVAL_MS, "fast": 60}
#: Milliseconds a slider moved by keys must rest before its value is sent.
KEY_REST_MS = 250
#: Title of the page (app bar and browser tab).
TITLE = "Why truces collapse"

LOG = logging.getLogger(__name__)

#: The page's style sheet (font sizes for a projector, the banner's colours, the log).
CSS = Path(__file__).with_name("page.css").read_text(encoding="utf-8")


class WidthProbe(ipyvuetify.VuetifyTemplate):
    """An invisible full-width line that reports its width in pixels to Python.

    Solara's ``FigurePlotly`` draws plotly's FigureWidget, which sizes an
    autosized figure once, before it is on the page (so at plotly's default
    700 px), and never follows its container. A probe at the top of a column
    measures the column with a ``ResizeObserver`` (again whenever the window
    or the sidebar changes it), and the panel draws its figure that wide
    (``width_probe.vue``).
    """

    width = traitlets.Int(0).tag(sync=True)
    template_file = (__file__, "width_probe.vue")


class LeverSlider(ipyvuetify.VuetifyTemplate):
    """A slider that always shows its value and sends it to Python on release only.

    During a drag the value shown under the label follows the thumb in the
    browser, and nothing is sent: the page recomputes once, for the value
    released (and the faint "previous" curve keeps the setting before the drag).
    Keys and clicks on the track are sent once they have rested
    :data:`KEY_REST_MS` (``lever_slider.vue``).
    """

    label = traitlets.Unicode("").tag(sync=True)
    value = traitlets.Float(0.0).tag(sync=True)
    min = traitlets.Float(0.0).tag(sync=True)
    max = traitlets.Float(1.0).tag(sync=True)
    step = traitlets.Float(0.05).tag(sync=True)
    decimals = traitlets.Int(2).tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    rest_ms = traitlets.Int(KEY_REST_MS).tag(sync=True)
    template_file = (__file__, "lever_slider.vue")


@solara.component
def Figure(fig: go.Figure):
    """A plotly figure on the page: Solara's ``FigurePlotly`` without view counting.

    Plotly's FigureWidget asks the browser to count its views (``_view_count =
    0``) but never reads the count. When a figure leaves the page (another
    scenario picked) the browser then reports its last view's removal to a
    widget already closed, an error in the console ("no comm channel
    defined"). ``None`` is ipywidgets' documented "do not track views".
    """
    element = solara.FigurePlotly(fig)

    def no_view_count() -> None:
        solara.get_widget(element)._view_count = None

    solara.use_effect(no_view_count, [])
    return element


@solara.component
def TruceControls(
    model: solara.Reactive[CeasefireModel],
    setup: TruceSetup,
    play_interval: solara.Reactive[int] | None = None,
):
    """Reset, ▶/❚❚ and Step: the buttons of Mesa's SolaraViz controller, for the current truce.

    Step advances one day, ▶ plays one day every ``play_interval`` milliseconds
    (:data:`PLAY_INTERVAL_MS` by default) until ❚❚ or the end of the truce, Reset
    builds ``LiveTruce(setup=...)`` again from the current settings. It is keyed
    by the truce: a new truce (a lever change or another scenario) gets a fresh
    controller, with Play and Step usable again, and stops the old one's ▶.

    Args:
        model: the live truce (replaced on reset and on lever changes).
        setup: what Reset rebuilds the truce from (updated by the levers).
        play_interval: milliseconds between two days while playing (the speed).
    """
    own_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    play_interval = own_interval if play_interval is None else play_interval
    PlayControls(model, setup, play_interval).key(f"truce-{id(model.value)}")


@solara.component
def PlayControls(
    model: solara.Reactive[CeasefireModel],
    setup: TruceSetup,
    play_interval: solara.Reactive[int],
):
    """The buttons of :func:`TruceControls` for one truce (``model.value`` when drawn first).

    Mesa's ``ModelController`` played ``model.value`` (whatever truce it was by then)
    in a thread that nothing stopped when the truce was replaced, and ended it
    silently on an error; here ▶'s thread plays the truce it was started for, stops
    on ❚❚, on the end of that truce and when the controller leaves the page, and an
    error stops it with a message on the page and its traceback in the server's log.
    """
    truce = solara.use_memo(lambda: model.value, [])
    playing = solara.use_reactive(False)
    running = solara.use_reactive(bool(truce.running))
    problem: solara.Reactive[str | None] = solara.use_reactive(None)

    def play(stop: threading.Event) -> None:
        if not playing.value:
            return
        try:
            while truce.running and not stop.wait(play_interval.value / 1000):
                truce.step()
                force_update()
        except Exception as exc:  # shown on the page; the traceback goes to the server log
            LOG.exception("▶ stopped on day %s", truce.day)
            problem.set(f"▶ stopped on day {truce.day}: {exc}")
            playing.set(False)
        if not truce.running:
            running.set(False)

    solara.use_thread(play, dependencies=[playing.value], intrusive_cancel=False)

    def step() -> None:
        truce.step()
        running.set(bool(truce.running))
        force_update()

    def reset() -> None:
        playing.set(False)
        model.set(type(truce)(setup=setup))
        force_update()

    with solara.Row(justify="space-between"):
        solara.Button(label="Reset", color="primary", on_click=reset)
        solara.Button(
            label="❚❚" if playing.value else "▶",
            color="primary",
            on_click=lambda: playing.set(not playing.value),
            disabled=not running.value,
        )
        solara.Button(
            label="Step",
            color="primary",
            on_click=step,
            disabled=playing.value or not running.value,
        )
    if problem.value:
        solara.Error(problem.value)


@solara.component
def Offstage(children: list = []):  # noqa: B006 (solara's convention for children)
    """The page's title, style and its children, in a hidden box.

    For :func:`solara.AppBar` and :func:`solara.Sidebar`, whose content Solara
    moves to the app bar and the sidebar: each leaves an empty placeholder
    where it is called, and the page's column would put a gap around every one
    of them above the banner.
    """
    with solara.Div(style={"display": "none"}) as box:
        solara.Title(TITLE)
        solara.Style(CSS)
        for child in children:
            solara.display(child)
    return box


@solara.component
def StatusBanner(model: CeasefireModel):
    """Holding, day N / Collapsed on day N: cause."""
    update_counter.get()
    text, state = status(model)
    solara.Div(children=[text], classes=["truce-status", state])


@solara.component
def TimelinePanel(model: CeasefireModel):
    """Violations per day by origin, trust and fatigue of the live truce."""
    update_counter.get()
    width, set_width = solara.use_state(0)
    with solara.Column(gap="0px"):
        WidthProbe.element(on_width=set_width)
        Figure(timeline_figure(model, width or None))


@solara.component
def EventLog(model: CeasefireModel):
    """The latest days of the live truce in plain words, newest first."""
    update_counter.get()
    _, events = model.trace_tables()
    lines = log_lines(events, model.scenario) or ["No violations yet."]
    solara.Div(
        children=[solara.HTML(tag="p", unsafe_innerHTML=_escape(x)) for x in lines],
        classes=["truce-log"],
    )


def _escape(text: str) -> str:
    return html.escape(text)


@dataclass
class _Curves:
    """The ensemble panel's memory: the last complete ensemble and its settings."""

    done: pd.DataFrame | None = None
    key: str | None = None


@solara.component
def EnsemblePanel(scenario: Scenario, seed: int, started: dict | None = None):
    """Survival of a few hundred truces under the current settings, previous curve faint.

    The truces are simulated in worker processes, a first curve from 50 of them,
    then all 300 (:func:`~sim.app.truces.ensemble_progress`); a newer setting
    stops the older one's work between chunks. Until the first curve of a new
    setting arrives the panel keeps the last curve; a "computing" sign beside
    the sentence says it is on its way. The faint curve is the last complete
    ensemble of another setting: the one on the screen before the change.

    Args:
        scenario: the current settings.
        seed: the ensemble's seed.
        started: first chunks already started (:func:`~sim.app.truces.start_ensemble`),
            by :func:`~sim.app.truces.ensemble_key`; the panel takes its own out.
    """
    memory = solara.use_ref(_Curves())
    key = ensemble_key(scenario, seed)

    def compute():
        store = memory.current
        previous = store.done if store.key != key else None
        first = (started or {}).pop(key, None)
        progress = ensemble_progress(
            scenario, seed, wanted=lambda: task.is_current(), started=first
        )
        for runs in progress:
            if len(runs) == ENSEMBLE_SIZE:
                store.done, store.key = runs, key
            yield key, runs, previous

    task = solara.lab.use_task(compute, dependencies=[key])  # noqa: SH101
    width, set_width = solara.use_state(0)
    WidthProbe.element(on_width=set_width)
    latest = task.latest
    got = len(latest[1]) if latest is not None and latest[0] == key else 0
    busy = (task.pending or got < ENSEMBLE_SIZE) and not task.error
    # Which setting the chart shows, as a class (the browser tests wait for it to change).
    shows = hashlib.blake2s(latest[0].encode(), digest_size=4).hexdigest() if latest else "none"
    head = ["truce-ensemble-head", f"truce-shows-{shows}"]
    with solara.Div(classes=head):
        if latest is not None:
            _, current, previous = latest
            solara.Div(children=[ensemble_sentence(current, previous)], classes=["truce-ensemble"])
        solara.Div(
            children=[f"⟳ computing… {got} of {ENSEMBLE_SIZE}" if busy else "✓ 300 of 300"],
            classes=["truce-computing", "busy" if busy else "idle"],
        )

    def draw():
        if latest is None:
            return None
        return ensemble_figure(latest[1], latest[2], width or None)

    # Drawn once per result and width, not on every redraw of the panel.
    fig = solara.use_memo(draw, [id(latest[1]) if latest else None, width])
    if fig is not None:
        Figure(fig)
    if task.error:
        solara.Error(f"Ensemble failed: {task.exception}")
