"""No valid scenario drives the model into a non-finite or out-of-range state.

Hypothesis draws valid scenarios with every parameter at its bounds or in
between (trust_loss 0 and 1, forgiveness 0 and 1, monitors with delays 0..30,
lead times 0 and 90, up to eight factions, no sponsors...), steps the model and
checks after every day that every float state is finite and in its range, that
every probability the decision rules return is in [0, 1], and that the counters
add up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import numpy as np
from annotated_types import Ge, Le
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_model import assert_invariants

from sim.model import decisions as dec
from sim.model.agents import ForeignForces
from sim.model.model import CeasefireModel
from sim.scenario.loading import validate
from sim.scenario.schema import Constants, Scenario

#: The decision rules that return a probability (or a restraint level, also in [0, 1]).
PROBABILITY_RULES = (
    "restraint",
    "defection_probability",
    "rate_to_probability",
    "loophole_hit_probability",
    "accident_probability",
    "spoiler_probability",
    "retaliation_probability",
)


def bounds(model: type, name: str) -> tuple[float, float]:
    """The (lower, upper) bounds of a config field, read from its schema."""
    meta = model.model_fields[name].metadata
    low = next(m.ge for m in meta if isinstance(m, Ge))
    high = next(m.le for m in meta if isinstance(m, Le))
    return low, high


def at_or_within(low: float, high: float, integer: bool, mode: str) -> st.SearchStrategy:
    """A value at the lower bound, the upper bound, or anywhere between."""
    if mode == "low":
        return st.just(low)
    if mode == "high":
        return st.just(high)
    return st.sampled_from([low, high]) | spread(low, high, integer)


def spread(low: float, high: float, integer: bool = False) -> st.SearchStrategy:
    """Values strictly between the bounds, on a grid of twentieths.

    A grid rather than ``st.floats``: hypothesis's floats favour tiny and
    subnormal values, which with 40 examples leave most of each range untried.
    """
    if integer:
        return st.integers(low, high)
    return st.integers(1, 19).map(lambda k: low + (high - low) * k / 20)


unit = st.sampled_from([0.0, 1.0]) | spread(0.0, 1.0)


@st.composite
def extreme_scenarios(draw: Callable, lasting: bool = False) -> Scenario:
    """Valid scenarios that lean on the edges of every range.

    Constants at their bounds often end every truce on day 1 (withdrawal_trust 1,
    a collapse threshold of one violation): with ``lasting`` the truces cannot
    end before the horizon (no withdrawal, a threshold of 50 violations a day),
    always have a mission, and run 30 to 45 days, so that the extremes act on the
    state day after day and delayed corrections come due.
    """
    mode = draw(st.sampled_from(["low", "high", "mixed", "mixed"]))
    constants = {}
    for name, field in Constants.model_fields.items():
        low, high = bounds(Constants, name)
        integer = field.annotation is int
        constants[name] = draw(at_or_within(low, high, integer, mode))
    constants["trust_loss"] = draw(unit)
    constants["forgiveness"] = draw(unit)
    n_factions = draw(st.sampled_from([1, 2, 8]))
    factions = [
        {
            "name": f"f{i}",
            **{k: draw(unit) for k in ("strength", "resolve", "fatigue", "cohesion", "trust")},
            "entanglement": draw(unit),
        }
        for i in range(n_factions)
    ]
    excluded = [
        {"name": f"x{i}", "strength": draw(unit), "spoiler_intent": draw(unit)}
        for i in range(draw(st.integers(0, 3)))
    ]
    sponsors = []
    for i in range(draw(st.integers(0, 3))):
        side = (
            ["government"]
            if draw(st.booleans())
            else sorted({f"f{draw(st.integers(0, n_factions - 1))}" for _ in range(2)})
        )
        sponsors.append(
            {
                "name": f"s{i}",
                "clients": side,
                "leverage": draw(unit),
                "commitment": draw(unit),
                "strike_tempo": draw(st.sampled_from([0.0, 20.0]) | spread(0.0, 5.0)),
                "dissent": draw(unit),
                "air_force": draw(st.booleans()),
            }
        )
    flying = sum(s["air_force"] for s in sponsors)
    monitors = draw(
        (st.nothing() if lasting else st.none())
        | st.fixed_dictionaries(
            {
                "coverage": unit,
                "detection": unit,
                "attribution": unit,
                "risk_tolerance": st.sampled_from([0, 1000]) | st.integers(0, 10),
                "verification_delay": st.sampled_from([0, 30]) | st.integers(0, 30),
            }
        )
    )
    window = draw(st.sampled_from([1, 60]) | st.integers(1, 10))
    threshold = draw(st.sampled_from([1, 50]) | st.integers(1, 4))
    horizon = draw(st.integers(1, 45))
    if lasting:
        # Only the edges of the two trust constants here: the interior is the other test's.
        constants["trust_loss"] = draw(st.sampled_from([1.0, 0.0]))
        constants["forgiveness"] = draw(st.sampled_from([0.0, 1.0]))
        constants["withdrawal_trust"] = 0.0
        threshold, window, horizon = 50, 1, draw(st.integers(30, 45))
    return validate(
        {
            "truce": {
                "horizon": horizon,
                "lead_time": draw(st.sampled_from([0, 90]) | st.integers(0, 20)),
                "exempted": [x["name"] for x in excluded if draw(st.booleans())],
                "loophole_width": draw(unit),
                "collapse": {
                    "threshold": threshold,
                    "window": window,
                    "days_above": draw(st.integers(1, window)),
                },
            },
            "government": {
                k: draw(unit) for k in ("strength", "resolve", "fatigue", "cohesion", "trust")
            },
            "factions": factions,
            "excluded": excluded,
            "sponsors": sponsors,
            "monitors": monitors,
            "deconfliction": {
                "air_forces": draw(st.integers(flying, 20)),
                "level": draw(unit),
            },
            "constants": constants,
        }
    )


@contextlib.contextmanager
def probabilities_checked() -> Iterator[list[str]]:
    """Make every probability rule fail loudly if it returns anything outside [0, 1]."""
    calls: list[str] = []

    def checked(name: str, rule: Callable) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            p = rule(*args, **kwargs)
            values = np.asarray(p, dtype=float)
            assert np.all(np.isfinite(values)), f"{name} returned a non-finite value"
            assert np.all((values >= 0) & (values <= 1)), f"{name} left [0, 1]: {values}"
            calls.append(name)
            return p

        return wrapper

    with contextlib.ExitStack() as stack:
        for name in PROBABILITY_RULES:
            stack.enter_context(mock.patch.object(dec, name, checked(name, getattr(dec, name))))
        yield calls


def assert_state(model: CeasefireModel) -> None:
    """Every float state array is finite and in range; the counters add up."""
    for name in ("trust", "trust_baseline", "strength", "fatigue", "calm"):
        values = getattr(model, name)
        assert np.all(np.isfinite(values)), f"{name} is not finite on day {model.day}"
        assert np.all((values >= 0) & (values <= 1)), f"{name} left [0, 1] on day {model.day}"
    assert np.all(np.isfinite(model.grudge)) and np.all(model.grudge >= 0)
    (air,) = model.agents_by_type[ForeignForces]
    for name, value in (
        ("p_detect_today", model.p_detect_today),
        ("p_accident", air.p_accident),
        ("restraint_level", model.restraint_level),
    ):
        values = np.asarray(value, dtype=float)
        assert np.all(np.isfinite(values)) and np.all((values >= 0) & (values <= 1)), name
    coverage = model.mission.coverage()
    assert np.all((coverage >= 0) & (coverage <= 1))
    ended = model.collapse_day > 0
    assert np.all(model.collapse_day[~ended] == -1)
    assert np.all((model.collapse_day[ended] >= 1) & (model.collapse_day[ended] <= model.day))
    assert np.all(model.alive == ~ended)
    violations = model.origin_total.sum(0)
    assert np.array_equal(model.party_total.sum(0), violations)
    assert np.all(model.detected <= violations)
    assert np.all(model.attributed <= model.detected)
    assert np.all(model.wrong_retaliations <= model.retaliations)
    assert np.all(model.retaliations <= violations)


def total_loss(**constants: float) -> Scenario:
    """A truce where one misread violation wipes trust out and the correction comes later."""
    return validate(
        {
            "truce": {"horizon": 60, "lead_time": 0, "exempted": ["x0"], "loophole_width": 1.0},
            "factions": [{"name": "f0", "entanglement": 1.0, "trust": 0.9}],
            "excluded": [{"name": "x0"}],
            "sponsors": [
                {"name": "s0", "clients": ["government"], "strike_tempo": 0.3, "leverage": 1.0}
            ],
            "monitors": {
                "coverage": 1.0,
                "detection": 1.0,
                "attribution": 1.0,
                "verification_delay": 3,
            },
            "constants": {
                "trust_loss": 1.0,
                "forgiveness": 0.0,  # only a correction can lift trust off 0
                "withdrawal_trust": 0.0,
                "loophole_hit": 1.0,
                **constants,
            },
        }
    )


def run_checked(scenario: Scenario, seed: int) -> None:
    """Step a few replicates of ``scenario`` to the end, checking the state after every day."""
    with probabilities_checked() as calls:
        model = CeasefireModel(scenario, replicates=6, seed=seed, collect=False)
        assert_state(model)
        while model.running:
            model.step()
            assert_state(model)
    assert "defection_probability" in calls and "retaliation_probability" in calls
    assert model.day <= scenario.truce.horizon
    assert_invariants(model.results(), scenario.truce.horizon)


@settings(max_examples=40)
@given(scenario=extreme_scenarios(), seed=st.integers(0, 2**32 - 1))
def test_state_stays_finite_and_in_range(scenario, seed):
    run_checked(scenario, seed)


@settings(max_examples=40)
@given(scenario=extreme_scenarios(lasting=True), seed=st.integers(0, 2**32 - 1))
@example(scenario=total_loss(), seed=1)
def test_state_stays_finite_and_in_range_in_lasting_truces(scenario, seed):
    run_checked(scenario, seed)


def test_delayed_correction_at_total_trust_loss_restores_trust():
    """trust_loss = 1: a verified correction of a misread hit brings trust back (was 0/0 = NaN).

    Loophole strikes on a fully entangled faction are misread as the government's
    and verified by a full-coverage mission three days later; the corrections must
    restore the faction's trust, and the state stay finite throughout. With
    forgiveness 0 nothing else can lift an edge's trust off 0.
    """
    model = CeasefireModel(total_loss(), replicates=20, seed=1, collect=False)
    restored = 0
    while model.running:
        before = model.trust.copy()
        model.step()
        assert np.all(np.isfinite(model.trust)), f"non-finite trust on day {model.day}"
        restored += int(np.sum((before == 0) & (model.trust > 0)))
    assert restored > 0, "no correction lifted a wiped-out edge: the test checks nothing"
