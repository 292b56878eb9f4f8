"""The classroom page's levers: which scenario parameters its sliders set, and their ranges.

A lever is a slider on the page (:data:`LEVERS`). Its range is the valid range
of the parameter it sets in the scenario shown, as the schema gives it
(:func:`sim.scenario.schema.bounds`: the field's ``ge``/``le`` narrowed by the
schema's cross-field rules, e.g. at least one foreign air force per sponsor that
flies), so a value the model would reject cannot be set; :func:`apply_levers`
refuses one with a :class:`~sim.scenario.errors.ScenarioError` too. Lever values
that stand for several actors (entanglement of the factions, war fatigue of the
parties, sponsors' leverage and commitment) set their average: each actor's
value is scaled so the differences between them are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.scenario.errors import ScenarioError
from sim.scenario.loading import validate
from sim.scenario.schema import Scenario, bounds


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


def lever_bounds(lever: Lever, scenario: Scenario | None = None) -> tuple[float, float, bool]:
    """The range a lever's slider offers: (low, high, whole numbers only).

    The range of :func:`sim.scenario.schema.bounds` for the parameter the lever
    sets, in ``scenario`` when given (the levers do not change what the
    cross-field rules read, e.g. the sponsors, so the range holds for the whole
    page). Every value in the range is one :func:`apply_levers` accepts.

    Raises:
        ValueError: if the parameter has no lower or upper bound (no slider can be made).
    """
    low, high, integer = bounds(lever.path, scenario)
    if low is None or high is None:
        raise ValueError(f"{lever.path} has no range (ge and le) in the schema")
    return low, high, integer


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


def _number(text: str) -> float:
    value = float(text)
    if not np.isfinite(value):
        raise ValueError(text)
    return value


def levers_to_query(values: Mapping[str, Any]) -> dict[str, str]:
    """Slider settings as URL query parameters (``monitoring=on``, ``coverage=0.6``, …)."""
    query = {"monitoring": "on" if values["monitoring"] else "off"}
    for lever in LEVERS:
        value = values[lever.key]
        query[lever.key] = str(int(value)) if lever.step == int(lever.step) else f"{value:.4g}"
    return query


def levers_from_query(
    scenario: Scenario, query: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """Slider settings read from URL query parameters, over ``scenario``'s own values.

    A parameter that is not a lever is left alone (the page reads others, e.g.
    ``scenario`` and ``seed``); a lever's value that is not a number in its
    slider's range is ignored and named in the second value returned, so a
    hand-edited link cannot break the page.

    Returns:
        (settings, ignored): the settings, and one ``key=value`` per value ignored.
    """
    values = lever_values(scenario)
    ignored = []
    if "monitoring" in query:
        flag = query["monitoring"].strip().lower()
        if flag in ("on", "1", "true", "yes"):
            values["monitoring"] = True
        elif flag in ("off", "0", "false", "no"):
            values["monitoring"] = False
        else:
            ignored.append(f"monitoring={query['monitoring']}")
    for lever in LEVERS:
        if lever.key not in query:
            continue
        text = query[lever.key]
        low, high, is_int = lever_bounds(lever, scenario)
        try:
            value = _number(text)
        except ValueError:
            ignored.append(f"{lever.key}={text}")
            continue
        if not low <= value <= high or (is_int and value != int(value)):
            ignored.append(f"{lever.key}={text}")
            continue
        values[lever.key] = int(value) if is_int else value
    return values, ignored
