"""The page's Solara components: the truce's controls, banner, charts and event log.

Built from Mesa's SolaraViz pieces: its ``ModelController`` (Reset / ▶ / Step)
drives a reactive model, and the panels redraw through
:func:`~mesa.visualization.utils.force_update` and its update counter, as in
SolaraViz. The ``SolaraViz`` wrapper itself is not used, because it always adds
sidebar cards meant for model developers (play and render intervals, a
threads switch, a model-parameter card, a step counter) that no argument
turns off, and a classroom projector needs none of them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import ipyvuetify
import pandas as pd
import plotly.graph_objects as go
import solara
import solara.lab
import traitlets
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from sim.app.figures import ensemble_figure, timeline_figure
from sim.app.truces import (
    ENSEMBLE_SIZE,
    TruceSetup,
    ensemble_runs,
    ensemble_sentence,
    log_lines,
    status,
)
from sim.model.model import CeasefireModel
from sim.scenario.schema import Scenario

#: Milliseconds between two days while the live truce plays.
PLAY_INTERVAL_MS = 300
#: Title of the page (app bar and browser tab).
TITLE = "Why truces collapse"

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
def TruceControls(model: solara.Reactive[CeasefireModel], setup: TruceSetup):
    """Reset, ▶/❚❚ and Step: the controller of Mesa's SolaraViz, for the current truce.

    Mesa's :func:`~mesa.visualization.solara_viz.ModelController` as SolaraViz
    builds it (Step advances one day, ▶ plays one day every
    :data:`PLAY_INTERVAL_MS`, Reset builds ``LiveTruce(setup=...)`` again from
    the current settings), without the interval sliders and threads switch
    that SolaraViz puts beside it. It is keyed by the truce: the controller
    remembers whether its model still runs, so a new truce (a lever change or
    another scenario) gets a fresh controller, with Play and Step usable again.

    Args:
        model: the live truce (replaced on reset and on lever changes).
        setup: what Reset rebuilds the truce from (updated by the levers).
    """
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    ModelController(
        model,
        model_parameters={"setup": setup},
        play_interval=play_interval,
        render_interval=render_interval,
        use_threads=use_threads,
    ).key(f"truce-{id(model.value)}")


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
    """The ensemble panel's memory: the runs of the current and the previous settings."""

    current: pd.DataFrame | None = None
    previous: pd.DataFrame | None = None
    key: str | None = None


@solara.component
def EnsemblePanel(scenario: Scenario, seed: int):
    """Survival of a few hundred truces under the current settings, previous curve faint."""
    memory = solara.use_ref(_Curves())
    key = scenario.model_dump_json()

    def compute() -> tuple[pd.DataFrame, pd.DataFrame | None]:
        runs = ensemble_runs(scenario, ENSEMBLE_SIZE, seed)
        store = memory.current
        if store.key != key:
            store.previous, store.key = store.current, key
        store.current = runs
        return runs, store.previous

    task = solara.lab.use_task(compute, dependencies=[key])  # noqa: SH101
    width, set_width = solara.use_state(0)
    WidthProbe.element(on_width=set_width)
    if task.latest is not None:
        current, previous = task.latest
        solara.Div(children=[ensemble_sentence(current, previous)], classes=["truce-ensemble"])
        Figure(ensemble_figure(current, previous, width or None))
    if task.pending:
        solara.Text(
            f"Simulating {ENSEMBLE_SIZE} truces…", style={"font-size": "18px", "color": "#555"}
        )
    elif task.error:
        solara.Error(f"Ensemble failed: {task.exception}")
