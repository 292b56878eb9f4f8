"""The classroom demo: a SolaraViz page with sliders, a step button and moving plots.

Run it with ``truce app [SCENARIO.yaml]`` (or ``solara run sim.app``). The page
shows one truce stepping day by day (Mesa's SolaraViz controller: Reset, Play,
Step) and, beside it, the survival curve of a few hundred truces under the
current slider settings, recomputed in a background thread whenever a slider
moves, with the previous setting's curve kept faint for comparison.

The sliders are the levers a class argues about. Their bounds come from the
scenario schema (:func:`sim.config.field_table`), so a value the model would
reject cannot be set; :func:`apply_levers` refuses one with a
:class:`~sim.config.ScenarioError` too. Lever values that stand for several
actors (entanglement of the factions, war fatigue of the parties, sponsors'
leverage and commitment) set their average: each actor's value is scaled so
the differences between them are kept.

Visualisation only: the model knows nothing of this page.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from sim.catalog import scenario_dir, scenario_files
from sim.config import Scenario, ScenarioError, field_table, load_scenario, validate
from sim.model import CeasefireModel
from sim.narrative import cause_phrase, narrate_day
from sim.runner import forget

#: Environment variable through which ``truce app`` passes its scenario file to the page.
SCENARIO_ENV = "TRUCE_APP_SCENARIO"
#: Truces in the ensemble panel.
ENSEMBLE_SIZE = 300
#: Seed of the live truce and of the ensemble (common random numbers across settings).
DEFAULT_SEED = 20160227


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
_BETWEEN = re.compile(r"between (-?[\d.]+) and (-?[\d.]+)")


def lever_bounds(lever: Lever) -> tuple[float, float, bool]:
    """The schema's range for a lever: (low, high, whole numbers only)."""
    row = next(r for r in field_table() if r["path"] == lever.path)
    match = _BETWEEN.search(row["expected"])
    if match is None:
        raise ValueError(f"{lever.path} has no range in the schema: {row['expected']}")
    is_int = "whole number" in row["expected"]
    low, high = float(match.group(1)), float(match.group(2))
    return (int(low), int(high), True) if is_int else (low, high, False)


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
        ScenarioError: for an unknown lever or a value outside the schema's range.
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
        low, high, is_int = lever_bounds(lever)
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


# =========================================================================== the model side


@dataclass
class TruceSetup:
    """What the live truce is built from; the page updates it as sliders move."""

    scenario: Scenario
    seed: int = DEFAULT_SEED


class LiveTruce(CeasefireModel):
    """One recorded truce built from a :class:`TruceSetup` (what SolaraViz resets to).

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
    """A few hundred truces under ``scenario``: one row each (``runs`` columns)."""
    model = CeasefireModel(scenario, replicates=replicates, seed=seed).run()
    runs = model.results()
    forget(model)
    return runs


def status(model: CeasefireModel) -> tuple[str, str]:
    """The banner of the live truce: (text, state) with state holding/collapsed/held."""
    if model.collapse_day[0] > 0:
        day = int(model.collapse_day[0])
        cause = cause_phrase(str(model.results().loc[0, "cause"]))
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


def ensemble_figure(current: pd.DataFrame, previous: pd.DataFrame | None = None):
    """Survival curves of the current setting and, faint, of the previous one."""
    from sim.charts import survival_chart

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
        height=470,
        width=310,
        margin={"t": 50, "b": 100, "l": 70, "r": 10},
        legend={"y": -0.22},
    )
    return fig


def ensemble_sentence(current: pd.DataFrame, previous: pd.DataFrame | None = None) -> str:
    """How many of the ensemble's truces collapse, now and with the previous settings."""
    horizon = int(current["horizon"].max())
    text = f"{current['collapsed'].mean():.0%} collapse within {horizon} days"
    if previous is not None:
        text += f" (previous settings: {previous['collapsed'].mean():.0%})"
    return text


def timeline_figure(model: CeasefireModel):
    """The live truce's timeline (the report's chart, sized for the page)."""
    from sim.charts import timeline_chart

    days, events = model.trace_tables()
    fig = timeline_chart(days, events)
    first = int(days["day"].min()) if len(days) else 0
    last = max(int(model.day), 14)
    fig.update_xaxes(range=[first - 0.5, last + 0.5], autorange=False)
    fig.update_layout(
        title={"text": f"This truce, day by day (day {model.day})"},
        height=560,
        width=540,
        margin={"t": 50, "b": 40, "l": 70, "r": 10},
        legend={"font": {"size": 12}, "y": -0.14},
    )
    for trace in fig.data:
        if trace.name == "events (hover to read)":
            trace.showlegend = False
    return fig


# =========================================================================== scenarios


def scenario_choices(extra: str | None = None) -> dict[str, str]:
    """Picker labels → scenario files: the bundled ones, and ``extra`` first if given."""
    folder = scenario_dir()
    choices = {}
    if extra:
        choices[extra] = extra
    for path in scenario_files(folder):
        choices.setdefault(str(path.relative_to(folder)), str(path))
    return choices


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
    solara.FigurePlotly(timeline_figure(model))


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
    if task.latest is not None:
        current, previous = task.latest
        solara.Div(children=[ensemble_sentence(current, previous)], classes=["truce-ensemble"])
        solara.FigurePlotly(ensemble_figure(current, previous))
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
            low, high, is_int = lever_bounds(lever)
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
    """The demo for one picked scenario: SolaraViz controls, levers, truce and ensemble."""
    levers = solara.use_reactive(lever_values(base))
    setup = solara.use_memo(lambda: TruceSetup(base), [])
    model = solara.use_reactive(solara.use_memo(lambda: LiveTruce(setup), []))
    problem = solara.use_reactive(None)

    def on_change(new: dict) -> None:
        try:
            scenario = apply_levers(base, new)
        except ScenarioError as exc:
            problem.set(str(exc))
            return
        problem.set(None)
        levers.set(new)
        setup.scenario = scenario
        model.set(LiveTruce(setup))
        force_update()

    with solara.Sidebar():
        picker()
        LeverPanel(base, levers, on_change)
    SolaraViz(
        model,
        components=[],
        model_params={"setup": setup},
        play_interval=300,
        name="Why truces collapse",
    )
    solara.Style(CSS)
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

    def picker():
        solara.Select("Scenario", values=list(choices), value=choice)

    if scenario is None:
        solara.Style(CSS)
        with solara.AppBar():
            solara.AppBarTitle("Why truces collapse")
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
    if scenario is not None:
        env[SCENARIO_ENV] = str(Path(scenario).resolve())
    else:
        env.pop(SCENARIO_ENV, None)
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "sim.app",
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
