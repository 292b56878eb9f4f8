"""The mediator (E17): its rule, its direction, and that it shifts no other draw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiment.runner import run_one
from sim.model.agents import ACTOR_TYPES, Mediator
from sim.model.decisions import mediate
from sim.model.model import PHASES, CeasefireModel
from sim.scenario.loading import load_scenario, resolve_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture(scope="module")
def unmonitored():
    s = load_scenario(SCENARIOS / "unmonitored.yaml")
    return s.model_copy(update={"compare": {}, "sweep": None, "replicates": 1500})


def with_envoy(scenario, **values):
    return resolve_scenario(scenario, {"mediator": {"effort": 0.3, **values}})


def test_rule_settles_grievances_and_raises_trust_on_days_of_work():
    grudge = np.array([[2.0, 2.0], [0.5, 0.5]])
    trust = np.array([[0.2, 0.2], [0.9, 0.9]])
    working = np.array([True, False])
    g, t = mediate(grudge, trust, working, settle_share=0.25, trust_gain=0.1)
    np.testing.assert_allclose(g[:, 0], grudge[:, 0] * 0.75)
    np.testing.assert_allclose(t[:, 0], trust[:, 0] + 0.1 * (1 - trust[:, 0]))
    # No work, no change.
    np.testing.assert_array_equal(g[:, 1], grudge[:, 1])
    np.testing.assert_array_equal(t[:, 1], trust[:, 1])
    # Never out of range, even at the ends of its parameters.
    g, t = mediate(grudge, trust, np.ones(2, bool), settle_share=1.0, trust_gain=0.1)
    assert (g == 0).all() and ((t >= 0) & (t <= 1)).all()


def test_the_agent_declares_its_section_phase_stream_and_column(unmonitored):
    assert Mediator in ACTOR_TYPES and "mediate" in PHASES
    model = CeasefireModel(with_envoy(unmonitored), replicates=50, seed=3)
    (envoy,) = model.agents_by_type[Mediator]
    assert envoy.draws()["mediate"].stream == "mediation"
    assert "mediator_exit_day" in model.run().results()
    assert Mediator not in CeasefireModel(unmonitored, replicates=5, seed=3).agents_by_type


def test_an_idle_envoy_changes_nothing_else(unmonitored):
    """Its own stream: an envoy who never works leaves every other draw and outcome as it was."""
    without = run_one(unmonitored, seed=5, replicates=400)
    idle = run_one(with_envoy(unmonitored, effort=0.0), seed=5, replicates=400)
    assert idle["mediator_exit_day"].isna().all()
    pd.testing.assert_frame_equal(idle.drop(columns="mediator_exit_day"), without)


def test_an_envoy_makes_truces_last_longer(unmonitored):
    """Direction (docs/MODEL.md, E17): mediation lowers collapse and lengthens truces.

    The arms share their random numbers, so the test is on paired differences of
    days held: a one-sided t statistic above 3 (a false alarm under no effect has a
    chance of about 1 in 700) rather than a tolerance on the shares themselves.
    """
    without = run_one(unmonitored, seed=11, replicates=1500)
    envoy = run_one(with_envoy(unmonitored), seed=11, replicates=1500)
    diff = envoy["days_held"].to_numpy() - without["days_held"].to_numpy()
    t = diff.mean() / (diff.std(ddof=1) / np.sqrt(len(diff)))
    assert t > 3, f"mean gain {diff.mean():.1f} days, t = {t:.2f}"
    assert envoy["collapsed"].mean() < without["collapsed"].mean()


def test_an_impatient_envoy_gives_up_more_often(unmonitored):
    """Direction: lower patience, more envoys leave (on the same truces)."""
    exits = [
        run_one(with_envoy(unmonitored, patience=p), seed=13, replicates=800)["mediator_exit_day"]
        .notna()
        .mean()
        for p in (2, 5, 30)
    ]
    assert exits[0] > exits[1] > exits[2]
    assert exits[0] > 0.2  # some give up; with patience 30 almost none do
