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
import os
import threading
from pathlib import Path

import ipyvuetify
import plotly
import solara
import solara.lab
import solara.server.settings
import traitlets
from mesa.visualization.utils import force_update, update_counter

from sim.app.figures import timeline_json
from sim.app.trace import mark
from sim.app.truces import (
    ENSEMBLE_SIZE,
    Ensembles,
    TruceSetup,
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
#: Environment variable: :data:`KEY_REST_MS` for this server (tests that press keys in
#: quick succession shorten it).
KEY_REST_ENV = "TRUCE_APP_KEY_REST_MS"
#: Milliseconds a slider moved by keys must rest before its value is sent.
KEY_REST_MS = 250


def key_rest_ms() -> int:
    """:data:`KEY_REST_MS`, or the whole number of milliseconds ``TRUCE_APP_KEY_REST_MS`` gives."""
    given = os.environ.get(KEY_REST_ENV, "").strip()
    return int(given) if given.isdigit() else KEY_REST_MS


#: Title of the page (app bar and browser tab).
TITLE = "Why truces collapse"

LOG = logging.getLogger(__name__)

#: The page's style sheet (font sizes for a projector, the banner's colours, the log).
CSS = Path(__file__).with_name("page.css").read_text(encoding="utf-8")


#: Where plotly keeps its plotly.js: served as the page's asset ``/static/assets/plotly.min.js``
#: (Solara's extra asset locations), for :class:`PlotlyChart`.
PLOTLY_JS = Path(plotly.__file__).with_name("package_data")
if str(PLOTLY_JS) not in solara.server.settings.assets.extra_locations:
    solara.server.settings.assets.extra_locations.append(str(PLOTLY_JS))


class PlotlyChart(ipyvuetify.VuetifyTemplate):
    """A plotly chart sent as its JSON and drawn by plotly.js's ``Plotly.react``.

    Solara's ``FigurePlotly`` (plotly's FigureWidget) validates every new figure
    in Python, compares it with the last one, and sends it as three messages
    (layout, new traces, old traces deleted), each redrawn in the browser: on
    the page's busy server that took longer than simulating the truces. Here the
    figure is one string (built where it is cheapest: the ensemble's in the
    workers), the browser redraws once what changed, as wide as its column
    (``plotly_chart.vue``; plotly.js itself is loaded once, from the server).
    When drawn, the chart's element carries ``data-drawn`` = ``name``.
    """

    figure = traitlets.Unicode("").tag(sync=True)
    name = traitlets.Unicode("").tag(sync=True)
    template_file = (__file__, "plotly_chart.vue")

    @traitlets.observe("figure")
    def _sent(self, change: dict) -> None:
        mark("figure-sent", name=self.name, size=len(change["new"]))


@solara.component
def Chart(figure: str, name: str = ""):
    """A :class:`PlotlyChart` of ``figure`` (plotly JSON), named ``name`` once drawn."""
    return PlotlyChart.element(figure=figure, name=name)


class AddressBar(ipyvuetify.VuetifyTemplate):
    """Writes ``query`` into the browser's address bar, with no navigation (``address_bar.vue``).

    The page keeps its setting in the address (a reload or a shared link restores it).
    Solara's router would draw the whole page again on the server for each change (a
    slider's release, a new truce); this changes the address in the browser alone.
    """

    query = traitlets.Unicode("").tag(sync=True)
    template_file = (__file__, "address_bar.vue")


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

    def __init__(self, **kwargs):
        kwargs.setdefault("rest_ms", key_rest_ms())
        super().__init__(**kwargs)

    template_file = (__file__, "lever_slider.vue")


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


#: Most seconds the timeline of a new truce waits for the ensemble's first curve.
TIMELINE_WAIT = 1.5


@solara.component
def TimelinePanel(model: CeasefireModel, after: threading.Event | None = None):
    """Violations per day by origin, trust and fatigue of the live truce.

    Args:
        model: the live truce.
        after: set once the ensemble's first curve is on its way to the browser.
            Until then (at most :data:`TIMELINE_WAIT` seconds) the chart of a new truce
            is not drawn and the last one stays (the page's first chart is drawn at
            once): after a slider's release the curve the class waits for comes first,
            and drawing the timeline (a tenth of a second of the server's CPU) does not
            compete with it.
    """
    counter = update_counter.get()
    last = solara.use_ref("")
    woken, set_woken = solara.use_state(0)
    # The first chart of the page is drawn at once (there is no last one to keep showing).
    waiting = bool(last.current) and after is not None and not after.is_set()
    waiting = waiting and woken != id(model)

    # Drawn once per day of a truce, not again when the page redraws for another reason
    # (the address bar's update after a release, the speed, the ensemble's progress).
    def draw() -> str:
        if waiting:
            return last.current
        mark("timeline-start")
        last.current = timeline_json(model)
        mark("timeline-end")
        return last.current

    figure = solara.use_memo(draw, [id(model), model.day, counter, waiting])

    def wake(cancel: threading.Event) -> None:
        if waiting and after is not None:
            after.wait(TIMELINE_WAIT)
            if not cancel.is_set():
                set_woken(id(model))  # drawn now, curve or not

    solara.use_thread(wake, dependencies=[id(model), waiting], intrusive_cancel=False)
    if figure:
        Chart(figure, name=f"day-{model.day}")


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


@solara.component
def EnsemblePanel(scenario: Scenario, ensembles: Ensembles):
    """Survival of a few hundred truces under the current settings, previous curve faint.

    The truces are simulated in worker processes, a first curve from 50 of them,
    then all 300 (:class:`~sim.app.truces.EnsembleJob`); a newer setting
    withdraws the older one's work. Until the first curve of a new setting
    arrives the panel keeps the last curve; a "computing" sign beside the
    sentence says it is on its way. The faint curve is the last complete
    ensemble of another setting: the one on the screen before the change.

    Args:
        scenario: the current settings.
        ensembles: the page's ensembles (the page starts a setting's on release).
    """
    job = ensembles.job(scenario)
    key = job.key
    mark("render-ensemble")

    def compute():
        for curve in job.progress(wanted=lambda: task.is_current()):
            if len(curve.runs) == ENSEMBLE_SIZE:
                ensembles.finished(curve)
            yield curve

    task = solara.lab.use_task(compute, dependencies=[key])  # noqa: SH101
    latest = task.latest
    got = len(latest.runs) if latest is not None and latest.key == key else 0
    busy = (task.pending or got < ENSEMBLE_SIZE) and not task.error
    # Which setting the chart shows (and how many truces), as a class and as the
    # chart's name once drawn: the browser tests wait for them to change.
    shows = "none"
    if latest is not None:
        shows = hashlib.blake2s(latest.key.encode(), digest_size=4).hexdigest()
    head = ["truce-ensemble-head", f"truce-shows-{shows}"]
    with solara.Div(classes=head):
        if latest is not None:
            text = ensemble_sentence(latest.runs, latest.previous)
            solara.Div(children=[text], classes=["truce-ensemble"])
        solara.Div(
            children=[f"⟳ computing… {got} of {ENSEMBLE_SIZE}" if busy else "✓ 300 of 300"],
            classes=["truce-computing", "busy" if busy else "idle"],
        )
    if latest is not None and latest.figure:
        Chart(latest.figure, name=f"{shows}-{len(latest.runs)}")
    if task.error:
        solara.Error(f"Ensemble failed: {task.exception}")
