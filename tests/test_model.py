"""The ensemble model: seeded determinism, common random numbers, invariants, masks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from sim.experiment.runner import run_one
from sim.model.model import CeasefireModel
from sim.scenario.loading import validate
from sim.scenario.schema import ORIGINS


def small(baseline, **overrides):
    data = baseline.model_dump()
    data["truce"]["horizon"] = overrides.pop("horizon", 120)
    for key, value in overrides.items():
        section, _, field = key.partition(".")
        if field:
            data[section] = {**(data[section] or {}), field: value}
        else:
            data[section] = value
    return validate(data)


def test_same_seed_same_table(baseline):
    s = small(baseline)
    a = run_one(s, seed=7, replicates=300)
    b = run_one(s, seed=7, replicates=300)
    pd.testing.assert_frame_equal(a, b)


def test_different_seeds_differ(baseline):
    s = small(baseline)
    a = run_one(s, seed=7, replicates=300)
    b = run_one(s, seed=8, replicates=300)
    assert not a["days_held"].equals(b["days_held"])


def test_chunks_have_their_own_streams(baseline):
    s = small(baseline)
    a = run_one(s, seed=7, replicates=200, chunk=0)
    b = run_one(s, seed=7, replicates=200, chunk=1)
    assert not a["violations"].equals(b["violations"])


def _channel(model, kind):
    """The rows of the acts table reserved for ``kind`` (one channel of that kind)."""
    (found,) = [c.slice for c in model.acts.channels if c.kind == kind]
    return found


def test_monitoring_lever_leaves_accident_and_spoiler_draws_unchanged(baseline):
    """Common random numbers: switching the mission on changes no other stream's draws."""
    without = CeasefireModel(small(baseline), replicates=400, seed=11)
    with_mission = CeasefireModel(
        small(baseline, monitors={"coverage": 0.9}), replicates=400, seed=11
    )
    accident_row = _channel(without, "accident").start
    spoiler_row = without.excluded_groups[0].spoiler.slice.start
    assert _channel(with_mission, "accident").start == accident_row
    compared = 0
    for _ in range(60):
        without.step()
        with_mission.step()
        for name in ("accidents", "spoilers", "loopholes", "dissent", "init", "escalation"):
            assert (
                without.streams[name].bit_generator.state
                == with_mission.streams[name].bit_generator.state
            ), name
        both = without.alive & with_mission.alive
        # Accidents do not depend on anything the mission changes: identical where both live.
        np.testing.assert_array_equal(
            without.acts.fired[accident_row, both], with_mission.acts.fired[accident_row, both]
        )
        compared += both.sum()
    # Spoiler attacks on day 1 depend only on the draws (calm is zero everywhere).
    first = CeasefireModel(small(baseline), replicates=400, seed=11)
    first_m = CeasefireModel(small(baseline, monitors={"coverage": 0.9}), replicates=400, seed=11)
    first.step()
    first_m.step()
    np.testing.assert_array_equal(first.acts.fired[spoiler_row], first_m.acts.fired[spoiler_row])
    assert compared > 1000


def test_arms_share_initial_state(baseline):
    a = CeasefireModel(small(baseline), replicates=100, seed=3)
    b = CeasefireModel(small(baseline, monitors={"coverage": 0.5}), replicates=100, seed=3)
    np.testing.assert_array_equal(a.strength, b.strength)
    np.testing.assert_array_equal(a.trust, b.trust)
    np.testing.assert_array_equal(a.start_trust, b.start_trust)


def test_finished_replicates_are_frozen(baseline):
    model = CeasefireModel(small(baseline, horizon=365), replicates=200, seed=5)
    snapshots: dict[int, tuple] = {}
    while model.running:
        model.step()
        done = np.flatnonzero(~model.alive)
        for r in done:
            state = (
                model.trust[:, r].copy(),
                model.strength[:, r].copy(),
                model.fatigue[:, r].copy(),
                model.origin_total[:, r].copy(),
                model.party_total[:, r].copy(),
                model.access_days[r],
                model.detected[r],
                model.collapse_day[r],
                model.mission.attacks[r],
            )
            if r in snapshots:
                for before, after in zip(snapshots[r], state, strict=True):
                    np.testing.assert_array_equal(before, after)
            else:
                snapshots[r] = state
    assert len(snapshots) > 20, "the test needs collapsed replicates to be meaningful"


def assert_invariants(table: pd.DataFrame, horizon: int) -> None:
    collapsed = table["collapsed"].to_numpy(bool)
    day = table["collapse_day"]
    assert day[collapsed].between(1, horizon).all()
    assert day[~collapsed].isna().all()
    assert (table["days_held"] <= horizon).all() and (table["days_held"] >= 1).all()
    assert table["cause"][collapsed].isin(ORIGINS).all()
    assert table["cause"][~collapsed].isna().all()
    # Every violation has an origin and an actor.
    origins = table[[f"violations_{o}" for o in ORIGINS]].sum(axis=1)
    parties = table[[c for c in table if c.startswith("party_")]].sum(axis=1)
    assert (origins == table["violations"]).all()
    assert (parties == table["violations"]).all()
    assert (table["wrong_retaliations"] <= table["retaliations"]).all()
    assert (table["retaliations"] <= table["violations"]).all()
    assert (table["attributed"] <= table["detected"]).all()
    assert (table["detected"] <= table["violations"]).all()
    for share in ("detected_share", "attributed_share"):
        values = table[share].dropna()
        assert values.between(0, 1).all()
    assert table["start_trust"].between(0, 1).all()
    assert (table["access_days"] <= table["days_held"]).all()
    first = table["first_violation_day"].dropna()
    assert first.between(1, horizon).all()
    withdrawal = table["monitor_withdrawal_day"].dropna()
    assert withdrawal.between(1, horizon).all()
    assert (table["escalation_days"].dropna() >= 1).all()


unit = st.floats(0.0, 1.0)


@st.composite
def scenarios(draw):
    n_factions = draw(st.integers(1, 4))
    n_excluded = draw(st.integers(0, 2))
    factions = [
        {
            "name": f"f{i}",
            "strength": draw(unit),
            "resolve": draw(unit),
            "fatigue": draw(unit),
            "cohesion": draw(unit),
            "trust": draw(unit),
            "entanglement": draw(unit),
        }
        for i in range(n_factions)
    ]
    excluded = [
        {"name": f"x{i}", "strength": draw(unit), "spoiler_intent": draw(unit)}
        for i in range(n_excluded)
    ]
    sponsors = []
    for i in range(draw(st.integers(0, 3))):
        clients = (
            ["government"] if draw(st.booleans()) else [f"f{draw(st.integers(0, n_factions - 1))}"]
        )
        sponsors.append(
            {
                "name": f"s{i}",
                "clients": clients,
                "leverage": draw(unit),
                "commitment": draw(unit),
                "strike_tempo": draw(st.floats(0, 5)),
                "dissent": draw(unit),
                "air_force": draw(st.booleans()),
            }
        )
    flying = sum(s["air_force"] for s in sponsors)
    monitors = draw(
        st.none()
        | st.fixed_dictionaries(
            {
                "coverage": unit,
                "detection": unit,
                "attribution": unit,
                "risk_tolerance": st.integers(0, 10),
                "verification_delay": st.integers(0, 5),
            }
        )
    )
    window = draw(st.integers(1, 10))
    return validate(
        {
            "truce": {
                "horizon": draw(st.integers(5, 120)),
                "lead_time": draw(st.integers(0, 20)),
                "exempted": [x["name"] for x in excluded if draw(st.booleans())],
                "loophole_width": draw(unit),
                "collapse": {
                    "threshold": draw(st.integers(1, 4)),
                    "window": window,
                    "days_above": draw(st.integers(1, window)),
                },
            },
            "government": {"strength": draw(unit), "resolve": draw(unit), "fatigue": draw(unit)},
            "factions": factions,
            "excluded": excluded,
            "sponsors": sponsors,
            "monitors": monitors,
            "deconfliction": {"air_forces": draw(st.integers(flying, 10)), "level": draw(unit)},
        }
    )


@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_random_valid_scenarios(scenario, seed):
    model = CeasefireModel(scenario, replicates=25, seed=seed)
    while model.running:
        model.step()
        for array in (model.trust, model.strength, model.fatigue, model.calm):
            assert np.all((array >= 0) & (array <= 1))
    assert model.day <= scenario.truce.horizon
    assert_invariants(model.results(), scenario.truce.horizon)


def test_trace_replicate_matches_its_row(baseline):
    from sim.experiment.runner import trace
    from sim.present.text import with_text

    s = small(baseline)
    table = run_one(s, seed=9, replicates=s.replicates)
    for replicate in (0, 5):
        t = trace(s, seed=9, replicate=replicate)
        row = table.iloc[replicate]
        assert t.outcome["days_held"] == row["days_held"]
        assert t.outcome["violations"] == row["violations"]
        truce_days = t.days[t.days["day"] >= 1]
        assert truce_days["violence"].sum() == row["violations"]
        events = t.events[
            t.events["kind"].isin(["violation", "retaliation"]) & (t.events["day"] >= 1)
        ]
        assert len(events) == row["violations"]
        assert events["origin"].isin(ORIGINS).all()
        # The model records events as data; the presentation layer puts each in words.
        assert "text" not in t.events
        assert with_text(events, s)["text"].str.len().gt(0).all()


def _recording_models(monkeypatch):
    """Make sim.experiment.runner build models that leave a weak reference in the returned list."""
    import weakref

    import sim.experiment.runner

    made = []

    class Recorded(CeasefireModel):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(weakref.ref(self))

    monkeypatch.setattr(sim.experiment.runner, "CeasefireModel", Recorded)
    return made


def test_run_one_and_trace_release_their_models(baseline, monkeypatch):
    # Mesa 3.3 keeps every model alive through mesa.Agent._ids unless
    # sim.experiment.runner.forget drops it; a long-lived process (story --find, the app,
    # a worker) would otherwise grow by a model per call.
    import gc

    import mesa

    import sim.experiment.runner

    made = _recording_models(monkeypatch)
    s = small(baseline, horizon=15, replicates=30)
    gc.collect()
    before = len(mesa.Agent._ids)
    for seed in range(3):
        run_one(s, seed=seed, replicates=30)
        told = sim.experiment.runner.trace(s, seed=seed, replicate=seed)
        assert told.replicate == seed and len(told.days) > 0
    gc.collect()
    assert len(made) == 6
    assert [ref() for ref in made] == [None] * 6
    assert len(mesa.Agent._ids) == before


def test_app_models_are_released(baseline):
    # The classroom app builds a LiveTruce on every slider move or reset and an
    # ensemble model per change of settings; neither may outlive its use.
    import gc
    import weakref

    import mesa

    app = __import__("pytest").importorskip("sim.app.truces")
    s = small(baseline, horizon=10, replicates=5)
    gc.collect()
    before = len(mesa.Agent._ids)
    live = app.LiveTruce(app.TruceSetup(s, seed=1))
    live.step()
    ref = weakref.ref(live)
    del live
    assert len(app.ensemble_runs(s, replicates=20, seed=2)) == 20
    gc.collect()
    assert ref() is None
    assert len(mesa.Agent._ids) == before
