"""A world that changes (issue 13, part 3): shifts (E18) and the strategic offensive (E19).

Unit tests of the rules in :mod:`sim.model.decisions`, then the model: a scheduled shift
lands on its day and not before, random shifts come on geometric days, shifts leave every
other stream's draws alone, an offensive fires exactly when the advantage passes the aims;
then the bundled scenario and bad shift input through the real CLI.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment.runner import run_one
from sim.model import decisions as dec
from sim.model.agents import World
from sim.model.model import CeasefireModel
from sim.model.streams import STREAMS
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario, validate

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"

#: Constants under which no truce can collapse: no day reaches 50 violations (about 30
#: channels, none at war) and trust never falls below 0. The state still moves.
NO_COLLAPSE = {
    "truce.collapse.threshold": 50,
    "truce.collapse.intensity": 500,
    "constants.withdrawal_trust": 0.0,
}


def scenario(shifts=(), **overrides):
    """The baseline truce (120 days) with ``shifts`` and dotted overrides."""
    return load_scenario(BASELINE, {"truce.horizon": 120, "shifts": list(shifts), **overrides})


# ---------------------------------------------------------------- the rules


def test_shift_due_scheduled_on_its_day_only():
    u = np.full((1, 3), 0.0)  # a random draw of 0 would fire any chance: ignored when scheduled
    day, chance = np.array([[5]]), np.array([[0.0]])
    happened = np.zeros((1, 3), bool)
    assert not dec.shift_due(u, chance, day, 4, happened).any()
    assert dec.shift_due(u, chance, day, 5, happened).all()
    assert not dec.shift_due(u, chance, day, 6, happened).any()


def test_shift_due_random_by_chance_and_at_most_once():
    u = np.array([[0.05, 0.2, 0.05]])
    chance, day = np.array([[0.1]]), np.array([[0]])
    happened = np.array([[False, False, True]])
    np.testing.assert_array_equal(
        dec.shift_due(u, chance, day, 7, happened), [[True, False, False]]
    )


def test_shift_value_by_is_clipped_and_to_sets():
    v = np.array([0.1, 0.5, 0.95])
    np.testing.assert_allclose(dec.shift_value(v, 0.1, None), [0.2, 0.6, 1.0])
    np.testing.assert_allclose(dec.shift_value(v, -0.3, None), [0.0, 0.2, 0.65])
    np.testing.assert_allclose(dec.shift_value(v, None, 0.25), [0.25, 0.25, 0.25])


def test_offensive_now_passes_aims_in_a_live_theatre():
    advantage = np.array([[0.2, 0.31, 0.5, 0.4], [0.0, 0.0, 0.0, 0.35]])
    live = np.array([[True, True, False, True], [True, True, True, True]])
    # strictly above the aims; a fallen theatre does not count; any theatre will do
    np.testing.assert_array_equal(
        dec.offensive_now(advantage, 0.3, live), [False, True, False, True]
    )
    assert not dec.offensive_now(np.array([[0.3]]), 0.3, np.array([[True]])).any()
    assert dec.offensive_now(np.array([[-0.1]]), -0.2, np.array([[True]])).all()


# ---------------------------------------------------------------- shifts in the model


def test_no_shifts_no_world_agent_and_no_world_draws():
    m = CeasefireModel(scenario(), replicates=10, seed=1)
    assert World not in m.agents_by_type
    assert all(plan.generator is not m.streams["world"] for plan in m._draws)
    assert STREAMS["world"] == 13


def test_a_scheduled_shift_applies_on_its_day_and_not_before():
    shifts = [
        {"name": "hardliners", "actor": "government", "field": "resolve", "by": 0.3, "day": 5},
        {"name": "wanes", "actor": "sponsor_o1", "field": "commitment", "to": 0.0, "day": 5},
        {"name": "tired", "actor": "faction_a", "field": "fatigue", "to": 0.9, "day": 8},
    ]
    m = CeasefireModel(scenario(shifts), replicates=300, seed=4)
    (world,) = m.agents_by_type[World]
    sponsor = next(sp for sp in m.sponsors if sp.name == "sponsor_o1")
    restraint_before = m.restraint_level.copy()
    for day in range(1, 11):
        alive = m.alive.copy()  # a shift lands only in truces still holding at dawn
        fatigue_before = m.fatigue[1].copy()
        m.step()
        if day < 5:
            np.testing.assert_array_equal(m.resolve[0], 0.6)
            np.testing.assert_array_equal(sponsor.commitment, 0.6)
            np.testing.assert_array_equal(m.restraint_level, restraint_before)
        if day == 5:
            np.testing.assert_allclose(m.resolve[0], np.where(alive, 0.9, 0.6))
            np.testing.assert_array_equal(sponsor.commitment, np.where(alive, 0.0, 0.6))
            # E1 recomputed: faction_a keeps only sponsor_o1 (now 0); faction_b has sponsor_o2
            expected_a = np.where(alive, 0.0, restraint_before[1])
            np.testing.assert_allclose(m.restraint_level[1], expected_a)
            expected_b = np.where(alive, 0.5 * 0.3, restraint_before[2])
            np.testing.assert_allclose(m.restraint_level[2], expected_b)
            np.testing.assert_array_equal(m.restraint_level[0], restraint_before[0])
            np.testing.assert_array_equal(world.happened[0], np.where(alive, 5, -1))
        if day < 8:
            assert (world.happened[2] == -1).all()
        if day == 8:
            # fatigue is set at dawn; the day's own fatigue rule (E11) then moves it a little
            moved = np.abs(m.fatigue[1] - 0.9) <= 0.05
            assert moved[alive].all() and (m.fatigue[1][~alive] == fatigue_before[~alive]).all()
    results = m.results()
    assert (results["shift_hardliners_day"].dropna() == 5).all()
    assert results["shift_hardliners_day"].notna().sum() > 0


def test_a_strength_shift_moves_the_model_state_the_principals_read():
    shift = {"name": "freed", "actor": "government", "field": "strength", "to": 1.0, "day": 3}
    m = CeasefireModel(scenario([shift], monitors=None), replicates=200, seed=2)
    for _ in range(3):
        m.step()
    # No monitors: no sanctions; the stronger side never regroups (E12): it stays at 1.
    live = m.alive
    np.testing.assert_array_equal(m.strength[0][live], 1.0)
    np.testing.assert_array_equal(m.government.strength[live], 1.0)


def test_random_shift_days_are_geometric_with_the_chance():
    chance, n, horizon = 0.02, 4000, 150
    shift = {"name": "new_government", "actor": "sponsor_o1", "field": "leverage", "to": 0.1}
    s = scenario([{**shift, "chance": chance}], **NO_COLLAPSE, **{"truce.horizon": horizon})
    table = run_one(s, seed=9, replicates=n)
    assert not table["collapsed"].any()  # nothing censors the shift's day but the horizon
    days = table["shift_new_government_day"]
    # P(day <= k) = 1 - (1 - c)^k. Each share is a binomial proportion of n = 4000 truces;
    # 4 standard errors leave a false alarm chance of about 6e-5 per check (the seed is fixed,
    # so the test is deterministic; the margin is for a change of seed or of draw order).
    for k in (10, 35, 75, horizon):
        p = 1 - (1 - chance) ** k
        share = float((days.fillna(horizon + 1) <= k).mean())
        assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / n), (k, share, p)
    # Every truce gets it at most once, on a day in [1, horizon].
    assert days.dropna().between(1, horizon).all()


def test_shifts_leave_every_other_streams_draws_unchanged():
    """Common random numbers: adding shifts changes no other stream's draws or exogenous acts."""
    shifts = [
        {"name": "freed", "actor": "government", "field": "strength", "by": 0.3, "day": 10},
        {"name": "wanes", "actor": "sponsor_o1", "field": "commitment", "to": 0.0, "chance": 0.05},
    ]
    without = CeasefireModel(scenario(), replicates=400, seed=11)
    with_shifts = CeasefireModel(scenario(shifts), replicates=400, seed=11)
    np.testing.assert_array_equal(without.strength, with_shifts.strength)
    np.testing.assert_array_equal(without.trust, with_shifts.trust)
    (accident,) = [c.slice for c in without.acts.channels if c.kind == "accident"]
    compared = 0
    for _ in range(60):
        without.step()
        with_shifts.step()
        for name in STREAMS:
            if name != "world":
                assert (
                    without.streams[name].bit_generator.state
                    == with_shifts.streams[name].bit_generator.state
                ), name
        both = without.alive & with_shifts.alive
        np.testing.assert_array_equal(
            without.acts.fired[accident, both], with_shifts.acts.fired[accident, both]
        )
        compared += int(both.sum())
    assert compared > 1000
    # ...and the shifts did change the truces.
    assert not np.array_equal(without.strength, with_shifts.strength)


def test_shifts_are_recorded_in_the_trace():
    shift = {"name": "freed", "actor": "government", "field": "strength", "by": 0.1, "day": 1}
    m = CeasefireModel(scenario([shift]), replicates=5, seed=3, record=True)
    start = float(m.strength[0, 0])  # nothing moves strength before day 1
    _, events = m.run().trace_tables()
    (row,) = events[events["kind"] == "shift"].to_dict("records")
    assert (row["day"], row["actor"], row["shift"], row["field"]) == (
        1,
        "government",
        "freed",
        "strength",
    )
    assert row["value"] == pytest.approx(min(1.0, start + 0.1))


# ---------------------------------------------------------------- the strategic offensive


def _regrouping(aims: float, **extra):
    """A weaker government that regroups fast toward a stronger faction, with aims."""
    return validate(
        {
            "truce": {"horizon": 150, "lead_time": 0},
            "government": {"strength": 0.3, "aims": aims, "fatigue": 0.3},
            "factions": [{"name": "rebels", "strength": 0.6}],
            "constants": {"regroup_rate": 0.05},
            **extra,
        }
    )


def test_an_offensive_fires_once_the_advantage_passes_the_aims_and_never_below():
    aims = -0.15
    m = CeasefireModel(_regrouping(aims), replicates=500, seed=5)
    fired_when = np.full(m.r, -1)
    checked_days = 0
    while m.running:
        # The advantage the government weighs today: nothing moves strength between the end
        # of a day and the decide phase of the next (no shifts here).
        advantage = m.strength[0] - m.government.adversary_strength()[0]
        alive, at_war = m.alive.copy(), m.at_war[0].copy()
        m.step()
        launched = (m.offensive_day == m.day) & (fired_when < 0)
        expected = alive & ~at_war & (advantage > aims)
        np.testing.assert_array_equal(launched, expected)
        fired_when[launched] = m.day
        checked_days += 1
    assert (fired_when > 0).sum() > 50  # the advantage did pass the aims in many truces
    assert (fired_when > 1).sum() > 50  # ... and not only on day 1
    table = m.results()
    launched = table["offensive_day"].notna().to_numpy()
    np.testing.assert_array_equal(table["offensive_day"].fillna(-1).to_numpy(), fired_when)
    # The offensive is the party at war: its violations are deliberate, at the war tempo.
    war_tempo = m.constants.war_tempo
    assert (table.loc[launched, "violations_deliberate"] >= war_tempo).all()
    assert (table.loc[launched, "cause"] == "deliberate").all()


def test_aims_of_1_the_default_mean_never():
    never = _regrouping(-1.0).model_dump()
    del never["government"]["aims"]
    assert validate(never).government.aims == 1.0
    for scenario in (validate(never), _regrouping(1.0)):
        table = run_one(scenario, seed=1, replicates=300)
        assert table["offensive_day"].isna().all()
    # A strength advantage of exactly 1 (1 against 0) does not pass aims of 1 either.
    assert not dec.offensive_now(np.array([[1.0]]), 1.0, np.array([[True]])).any()


def test_an_offensive_is_recorded_in_the_trace():
    m = CeasefireModel(_regrouping(-1.0), replicates=3, seed=2, record=True).run()
    _, events = m.trace_tables()
    offensive = events[events["kind"] == "offensive"]
    assert list(offensive["day"]) == [1] and list(offensive["actor"]) == ["government"]
    assert list(offensive["origin"]) == ["deliberate"]


# ---------------------------------------------------------------- the bundled scenario


def test_the_operational_pause_scenario_runs_end_to_end(tmp_path):
    out = tmp_path / "results"
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(SCENARIOS / "operational_pause.yaml"),
            "-n",
            "600",
            "--out",
            str(out),
            "--no-report",
            "--engine",
            "serial",
            "--json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    (runs,) = list(out.rglob("runs"))
    table = pd.concat(pd.read_parquet(p) for p in sorted(runs.glob("*.parquet")))
    freed = table["shift_forces_freed_day"].dropna()
    assert len(freed) > 0 and (freed == 60).all()
    assert table["shift_sponsor_wanes_day"].notna().any()
    # The government ends the pause only once its freed forces have arrived.
    offensive = table["offensive_day"].dropna()
    assert len(offensive) > 0 and (offensive >= 60).all()


# ---------------------------------------------------------------- bad input


BAD = [
    (
        "unknown-actor",
        "  - name: s1\n    actor: nobody\n    field: strength\n    by: 0.1\n    day: 3\n",
        "shifts.0.actor",
        4,
        "neither a principal",
    ),
    (
        "field-of-another-kind",
        "  - name: s1\n    actor: sponsor_o1\n    field: strength\n    by: 0.1\n    day: 3\n",
        "shifts.0.field",
        5,
        "a sponsor has no field 'strength'",
    ),
    (
        "unknown-field",
        "  - name: s1\n    actor: government\n    field: morale\n    by: 0.1\n    day: 3\n",
        "shifts.0.field",
        5,
        "expected one of",
    ),
    (
        "by-and-to",
        "  - name: s1\n    actor: government\n    field: strength\n    by: 0.1\n    to: 0.5\n"
        "    day: 3\n",
        "shifts.0.to",
        7,
        "exactly one of them",
    ),
    (
        "neither-by-nor-to",
        "  - name: s1\n    actor: government\n    field: strength\n    day: 3\n",
        "shifts.0.by",
        3,
        "exactly one of them",
    ),
    (
        "day-and-chance",
        "  - name: s1\n    actor: government\n    field: resolve\n    to: 0.1\n    day: 3\n"
        "    chance: 0.1\n",
        "shifts.0.chance",
        8,
        "either day (scheduled) or chance",
    ),
    (
        "neither-day-nor-chance",
        "  - name: s1\n    actor: government\n    field: resolve\n    to: 0.1\n",
        "shifts.0.day",
        3,
        "either day (scheduled) or chance",
    ),
]


@pytest.mark.parametrize(
    ("text", "field", "line", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_shift_input_one_clear_message(tmp_path, text, field, line, words):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {BASELINE}\nshifts:\n{text}", encoding="utf-8")
    out = tmp_path / "results"
    result = CliRunner().invoke(
        app,
        ["run", str(path), "--out", str(out), "--no-report", "--engine", "serial"],
        catch_exceptions=False,
    )
    assert result.exit_code == 2, result.output
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert f"{path}, line {line}: {field}:" in lines[0], lines[0]
    assert words in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.rglob("*"))


def test_shift_problems_name_the_actor_kinds():
    data = load_scenario(BASELINE).model_dump()
    data["shifts"] = [{"name": "x", "actor": "jihadists", "field": "strength", "by": 0.1, "day": 1}]
    with pytest.raises(ScenarioError) as err:
        validate(data)
    message = str(err.value)
    assert "government" in message and "sponsor_o1" in message
