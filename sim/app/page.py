"""The classroom demo: a Solara page with sliders, a step button and moving plots.

Run it with ``truce app [SCENARIO.yaml]`` (or ``solara run sim.app.page``). The page
shows one truce stepping day by day (Reset, Play, Step, as in Mesa's SolaraViz
controller) and, beside it, the survival curve of a few hundred truces under the
current slider settings, recomputed in a background thread whenever a slider
moves, with the previous setting's curve kept faint for comparison.

The page is built from Mesa's SolaraViz pieces: its ``ModelController``
(Reset / ▶ / Step) drives a reactive model, and the panels redraw through
:func:`~mesa.visualization.utils.force_update` and its update counter, as in
SolaraViz. The ``SolaraViz`` wrapper itself is not used, because it always adds
sidebar cards meant for model developers (play and render intervals, a
threads switch, a model-parameter card, a step counter) that no argument
turns off, and a classroom projector needs none of them.

The sliders are the levers a class argues about (:mod:`sim.app.levers`: what
each sets, and its range from the scenario schema, so a value the model would
reject cannot be set).

Visualisation only: the model knows nothing of this page.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipyvuetify
import pandas as pd
import solara
import traitlets
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import force_update, update_counter

from sim.app.levers import LEVERS, apply_levers, lever_bounds, lever_values
from sim.experiment.runner import forget, run_one
from sim.model.model import CeasefireModel
from sim.present.text import cause_phrase, narrate_day, with_text
from sim.scenario.catalog import scenario_dir, scenario_files
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario
from sim.scenario.schema import ORIGINS, Scenario

#: Environment variable through which ``truce app`` passes its scenario file to the page.
SCENARIO_ENV = "TRUCE_APP_SCENARIO"
#: Truces in the ensemble panel.
ENSEMBLE_SIZE = 300
#: Seed of the live truce and of the ensemble (common random numbers across settings).
DEFAULT_SEED = 20160227
#: Milliseconds between two days while the live truce plays.
PLAY_INTERVAL_MS = 300
#: Title of the page (app bar and browser tab).
TITLE = "Why truces collapse"
#: Day axes of the two charts (the report's titles are too long for the page's columns).
TIMELINE_DAY_TITLE = "day of the truce (day 1 = start)"
ENSEMBLE_DAY_TITLE = "days since the start"
#: Chart heights in pixels, chosen so both charts and their legends fit a 1280×720
#: projector screen under the banner. Their widths follow the page's columns
#: (see :class:`WidthProbe`); the fallbacks are used until the browser has measured them.
TIMELINE_HEIGHT = 530
ENSEMBLE_HEIGHT = 450
TIMELINE_WIDTH = 500
ENSEMBLE_WIDTH = 330


# =========================================================================== the model side


@dataclass
class TruceSetup:
    """What the live truce is built from; the page updates it as sliders move."""

    scenario: Scenario
    seed: int = DEFAULT_SEED


class LiveTruce(CeasefireModel):
    """One recorded truce built from a :class:`TruceSetup` (what Reset rebuilds).

    Args:
        setup: the current scenario and seed.
    """

    def __init__(self, setup: TruceSetup | None = None):
        setup = setup or TruceSetup(Scenario())
        super().__init__(setup.scenario, replicates=1, seed=setup.seed, record=True)
        # Every slider move and every reset builds a new LiveTruce; without this
        # Mesa's class-level id counters would keep each old one alive for as
        # long as the app runs. Safe here: all agents are created above.
        forget(self)


def ensemble_runs(
    scenario: Scenario, replicates: int = ENSEMBLE_SIZE, seed: int = DEFAULT_SEED
) -> pd.DataFrame:
    """A few hundred truces under ``scenario``: one row each (``runs`` columns but ``chunk``)."""
    return run_one(scenario, seed, replicates).drop(columns="chunk")


def status(model: CeasefireModel) -> tuple[str, str]:
    """The banner of the live truce: (text, state) with state holding/collapsed/held."""
    if model.collapse_day[0] > 0:
        day = int(model.collapse_day[0])
        cause = cause_phrase(ORIGINS[model.cause[0]])
        return f"Collapsed on day {day}: {cause}", "collapsed"
    if not model.running and model.day >= model.horizon:
        return f"Held for all {model.horizon} days", "held"
    if model.day == 0:
        return "Announced — press Step to start day 1 (day 0)", "holding"
    return f"Holding, day {model.day}", "holding"


def log_lines(events: pd.DataFrame, scenario: Scenario, days: int = 8) -> list[str]:
    """The most recent eventful days of the live truce as paragraphs, newest first."""
    if events.empty:
        return []
    groups = list(events.groupby("day"))[-days:]
    return [narrate_day(int(d), g.to_dict("records"), scenario) for d, g in reversed(groups)]


def ensemble_figure(
    current: pd.DataFrame, previous: pd.DataFrame | None = None, width: int | None = None
):
    """Survival curves of the current setting and, faint, of the previous one.

    The report's chart, fitted to the page's narrow column (``width`` pixels
    wide): its legend sits inside the figure at the bottom, and the
    labels of the reference days (30, 90, 180 days) run up their dotted lines
    from the bottom of the plot, so they neither overlap each other nor the
    ``100%`` tick however narrow the column is.
    """
    from sim.present.charts import survival_chart

    now, before = "these settings", "previous settings"
    parts = [current.assign(arm=now)]
    if previous is not None:
        parts.insert(0, previous.assign(arm=before))
    fig = survival_chart(pd.concat(parts, ignore_index=True), by="arm")
    for trace in fig.data:
        if trace.legendgroup == before:
            trace.opacity = 0.35
            if trace.line.width:
                trace.line.color = "#888888"
            if trace.fillcolor:
                trace.fillcolor = "rgba(136,136,136,0.15)"
    fig.update_layout(
        title={"text": f"{len(current)} truces like this"},
        margin={"t": 50, "b": 10, "l": 70, "r": 12},
    )
    fig.update_xaxes(title_text=ENSEMBLE_DAY_TITLE)
    _label_reference_lines(fig)
    return _fit_to_page(fig, width or ENSEMBLE_WIDTH, ENSEMBLE_HEIGHT)


def _label_reference_lines(fig) -> None:
    """Turn the labels of vertical reference lines to run up the line from the bottom.

    A label belongs to a line when it is placed on the data x of a vertical line
    shape (what ``fig.add_vline(annotation_text=...)`` makes).
    """
    lines = {
        shape.x0
        for shape in fig.layout.shapes
        if shape.type == "line" and shape.xref == "x" and shape.x0 == shape.x1
    }

    def turn(annotation) -> None:
        if annotation.xref == "x" and annotation.x in lines:
            annotation.update(
                textangle=-90,
                xanchor="right",
                yanchor="bottom",
                y=0,
                yref="y domain",
                xshift=-1,
                yshift=4,
                font={"size": 13},
                bgcolor="rgba(255,255,255,0.8)",
            )

    fig.for_each_annotation(turn)


def _fit_to_page(fig, width: int, height: int):
    """Size a figure for its column and keep its legend inside the figure.

    The legend is anchored to the bottom of the figure (not of the plot), so
    plotly makes room for it however many rows it wraps to.
    """
    fig.update_layout(
        autosize=False,
        width=width,
        height=height,
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "xanchor": "left",
        },
    )
    return fig


def ensemble_sentence(current: pd.DataFrame, previous: pd.DataFrame | None = None) -> str:
    """How many of the ensemble's truces collapse, now and with the previous settings."""
    horizon = int(current["horizon"].max())
    text = f"{current['collapsed'].mean():.0%} collapse within {horizon} days"
    if previous is not None:
        text += f" (previous settings: {previous['collapsed'].mean():.0%})"
    return text


def timeline_figure(model: CeasefireModel, width: int | None = None):
    """The live truce's timeline (the report's chart, fitted to a column ``width`` pixels wide).

    Each party has one legend entry (its trust and war-fatigue lines toggle
    together) and a key above the lower panel tells the line styles apart, so
    the legend stays short enough to fit under the chart.
    """
    from sim.present.charts import timeline_chart

    days, events = model.trace_tables()
    if days.empty:  # day 0 of a truce without lead time: nothing recorded yet
        days = pd.DataFrame({"day": pd.Series(dtype=int)})
    fig = timeline_chart(days, with_text(events, model.scenario))
    first = int(days["day"].min()) if len(days) else 0
    last = max(int(model.day), 14)
    fig.update_xaxes(range=[first - 0.5, last + 0.5], autorange=False)
    for axis in fig.select_xaxes():
        if axis.title.text:  # the day axis under the lower panel
            axis.title.text = TIMELINE_DAY_TITLE
    fig.update_layout(
        title={"text": f"This truce, day by day (day {model.day})"},
        margin={"t": 50, "b": 10, "l": 70, "r": 12},
        legend={"font": {"size": 13}},
    )
    for trace in fig.data:
        if trace.name == "events (hover to read)":
            trace.showlegend = False
    _one_entry_per_party(fig)
    _shorten_day_markers(fig, middle=(first + last) / 2)
    return _fit_to_page(fig, width or TIMELINE_WIDTH, TIMELINE_HEIGHT)


def _shorten_day_markers(fig, middle: float) -> None:
    """Shorten the labels over the timeline's day markers (collapse, monitors' withdrawal).

    The report writes the whole story over the line ("truce collapsed (day 11):
    units acting without orders"), too long for the page's column; here the
    banner tells it. The label keeps its first words, the rest moves to its
    hover text, and a label in the right half of the chart runs to the left of
    its line so it is not cut off at the edge.
    """
    lines = {
        shape.x0
        for shape in fig.layout.shapes
        if shape.type == "line" and shape.yref == "paper" and shape.x0 == shape.x1
    }

    def shorten(annotation) -> None:
        if annotation.xref != "x" or annotation.yref != "paper" or annotation.x not in lines:
            return
        text = annotation.text or ""
        annotation.update(text=text.split(" (day")[0], hovertext=text)
        if annotation.x > middle:
            annotation.update(xanchor="right")

    fig.for_each_annotation(shorten)


_LINE_KINDS = ((": trust", "solid: trust"), (": war fatigue", "dashed: war fatigue"))


def _one_entry_per_party(fig) -> None:
    """Group each party's trust and fatigue lines under one legend entry named after it."""
    key, axes = [], ("x", "y")
    for suffix, meaning in _LINE_KINDS:
        for trace in fig.data:
            name = trace.name or ""
            if not name.endswith(suffix):
                continue
            party = name[: -len(suffix)]
            axes = (trace.xaxis or "x", trace.yaxis or "y")
            trace.legendgroup = f"party {party}"
            if suffix == _LINE_KINDS[0][0]:
                trace.name = party
            else:
                trace.showlegend = False
            if meaning not in key:
                key.append(meaning)
    if not key:
        return
    if any(trace.name == "monitoring coverage" for trace in fig.data):
        key.append("dotted: monitoring coverage")
    fig.add_annotation(
        text=" · ".join(key),
        x=0,
        xref=f"{axes[0]} domain",
        xanchor="left",
        y=1,
        yref=f"{axes[1]} domain",
        yanchor="bottom",
        yshift=2,
        showarrow=False,
        font={"size": 13, "color": "#555555"},
    )


# =========================================================================== scenarios


def scenario_choices(extra: str | None = None) -> dict[str, str]:
    """Picker labels → scenario files: the bundled ones, and ``extra`` first if given.

    A bundled file keeps its short label (its path in the scenarios folder) even
    when it is the one given on the command line; another file is labelled by
    its name, or by its full path when a bundled file already has that label.
    """
    folder = scenario_dir()
    bundled = {str(path.relative_to(folder)): str(path) for path in scenario_files(folder)}
    if not extra:
        return bundled
    given = Path(extra).resolve()
    label = next((k for k, v in bundled.items() if Path(v).resolve() == given), None)
    if label is None:
        label = given.name if given.name not in bundled else extra
        return {label: extra, **bundled}
    return {label: bundled.pop(label), **bundled}


def load_choice(path: str) -> tuple[Scenario | None, str | None]:
    """A scenario file loaded for the page: (scenario, None) or (None, the validation message)."""
    try:
        return load_scenario(path), None
    except ScenarioError as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"{path}: cannot be read ({exc.strerror or exc})"


# =========================================================================== the page

CSS = """
.v-application, .v-application .v-label, .v-application .v-btn { font-size: 18px !important; }
.v-application .v-input__slot .v-label { font-size: 17px !important; }
.truce-status { font-size: 30px; font-weight: 700; padding: 10px 18px; border-radius: 8px;
                margin: 4px 0 10px 0; }
.truce-status.holding { background: #d9ecf7; border-left: 10px solid #0072B2; }
.truce-status.collapsed { background: #fbe3d6; border-left: 10px solid #D55E00; }
.truce-status.held { background: #d9f0e8; border-left: 10px solid #009E73; }
.truce-log { font-size: 19px; line-height: 1.45; max-height: 260px; overflow-y: auto; }
.truce-log p { margin: 0 0 6px 0; }
.truce-ensemble { font-size: 22px; font-weight: 600; margin: 4px 0; }
"""


class WidthProbe(ipyvuetify.VuetifyTemplate):
    """An invisible full-width line that reports its width in pixels to Python.

    Solara's ``FigurePlotly`` draws plotly's FigureWidget, which sizes an
    autosized figure once, before it is on the page (so at plotly's default
    700 px), and never follows its container. A probe at the top of a column
    measures the column with a ``ResizeObserver`` (again whenever the window
    or the sidebar changes it), and the panel draws its figure that wide.
    """

    width = traitlets.Int(0).tag(sync=True)
    template = traitlets.Unicode(
        """
<template><div class="truce-width-probe" style="width: 100%; height: 0"></div></template>
<script>
module.exports = {
  mounted() {
    const report = () => {
      const width = Math.floor(this.$el.getBoundingClientRect().width);
      if (width > 0 && Math.abs(width - this.width) > 2) { this.width = width; }
    };
    this.observer = new ResizeObserver(report);
    this.observer.observe(this.$el);
    report();
  },
  beforeDestroy() { if (this.observer) { this.observer.disconnect(); } },
  beforeUnmount() { if (this.observer) { this.observer.disconnect(); } },
};
</script>
"""
    ).tag(sync=True)


@solara.component
def Figure(fig):
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
    import html

    return html.escape(text)


@solara.component
def EnsemblePanel(scenario: Scenario, seed: int):
    """Survival of a few hundred truces under the current settings, previous curve faint."""
    memory = solara.use_ref({"current": None, "previous": None, "key": None})
    key = scenario.model_dump_json()

    def compute() -> tuple[pd.DataFrame, pd.DataFrame | None]:
        runs = ensemble_runs(scenario, ENSEMBLE_SIZE, seed)
        store = memory.current
        if store["key"] != key:
            store["previous"], store["current"], store["key"] = store["current"], runs, key
        return store["current"], store["previous"]

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


@solara.component
def LeverPanel(base: Scenario, levers: solara.Reactive[dict], on_change):
    """The monitoring switch and the sliders, bounded by the schema's ranges."""
    values = levers.value

    def setter(key: str):
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
def Classroom(base: Scenario, picker):
    """The demo for one picked scenario: controls, levers, truce and ensemble."""
    levers = solara.use_reactive(lever_values(base))
    setup = solara.use_memo(lambda: TruceSetup(base), [])
    model = solara.use_reactive(solara.use_memo(lambda: LiveTruce(setup), []))
    problem = solara.use_reactive(None)

    def restart() -> None:
        model.set(LiveTruce(setup))
        force_update()

    def on_change(new: dict) -> None:
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
    """The classroom page (what ``solara run sim.app.page`` serves)."""
    given = os.environ.get(SCENARIO_ENV) or None
    choices = solara.use_memo(lambda: scenario_choices(given), [])
    first = next(iter(choices), "")
    choice = solara.use_reactive(first)
    scenario, error = solara.use_memo(
        lambda: load_choice(choices.get(choice.value, choice.value)), [choice.value]
    )

    def picker():
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


# =========================================================================== serving


def server_command(
    scenario: Path | None = None, host: str = "127.0.0.1", port: int = 8765
) -> tuple[list[str], dict]:
    """The ``solara run`` command line and environment that serve the page."""
    env = dict(os.environ)
    # Solara's "This website runs on Solara" badge sits on top of the charts.
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "false")
    if scenario is not None:
        env[SCENARIO_ENV] = str(Path(scenario).resolve())
    else:
        env.pop(SCENARIO_ENV, None)
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "sim.app.page",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--log-level",
        "warning",
    ]
    return cmd, env


def serve(scenario: Path | None = None, host: str = "127.0.0.1", port: int = 8765) -> int:
    """Serve the page until interrupted; return the server's exit status."""
    cmd, env = server_command(scenario, host, port)
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
