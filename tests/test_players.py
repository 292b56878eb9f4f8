"""Human players (sim.model.players): a played role's decision takes effect, and only it.

Each test builds one truce of a bundled scenario, plays some roles with fixed
decisions and checks what the decision must do (docs/MODEL.md, "Human players"),
against the same truce with no players where a comparison is needed. No expected
model output is hard-coded: the checks are invariants of the decisions.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiment.runner import run_one
from sim.model.model import CeasefireModel
from sim.model.players import BY_MODEL, BY_PLAYER, PlayerError, Players, roles
from sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SEEDS = range(8)
#: A shorter truce where a test plays many (the checks hold day by day).
SHORT = {"truce.horizon": 90}


def _model(name: str = "baseline", seed: int = 0, **overrides) -> CeasefireModel:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    return CeasefireModel(scenario, replicates=1, seed=seed, record=True, **overrides)


def _events(model: CeasefireModel) -> pd.DataFrame:
    _, events = model.trace_tables()
    return events[events["day"] > 0]


def _play(model: CeasefireModel, decisions: dict[str, str | None]) -> Players:
    players = Players(model, decisions)
    players.run(lambda role, day, choices: decisions[role])
    return players


# ----------------------------------------------------------------- no players, no change


def test_players_that_never_answer_leave_the_truce_identical():
    """Every played role timing out every day: the model's rules decide, draw for draw."""
    for seed in range(4):
        plain = _model("monitored", seed, **SHORT).run()
        played_model = _model("monitored", seed, **SHORT)
        names = list(roles(played_model))
        players = _play(played_model, dict.fromkeys(names))
        pd.testing.assert_frame_equal(plain.results(), played_model.results())
        pd.testing.assert_frame_equal(plain.trace_tables()[1], played_model.trace_tables()[1])
        assert {row["by"] for row in players.log} == {BY_MODEL}
        assert len(players.log) == len(names) * played_model.day


def test_a_player_does_not_move_any_random_stream():
    """A government holding fire changes what fires, not the uniforms anyone draws.

    A played truce also draws the rows of mechanisms its levers leave idle (a
    played role may set them off); every number the plain truce reads is the same.
    """
    plain, played = _model("monitored", 1), _model("monitored", 1)
    players = Players(played, ["government"])
    while plain.running and played.running:
        plain.step()
        players.play_day({"government": "hold_fire"})
        for a, b in zip(plain.agents, played.agents, strict=True):
            assert a.u.keys() <= b.u.keys()
            for name in a.u:
                np.testing.assert_array_equal(a.u[name], b.u[name])


def test_the_golden_digests_still_hold_for_a_scenario_without_players():
    """The hooks are inert without players (tests/test_golden.py checks every scenario)."""
    spec = importlib.util.spec_from_file_location("golden", ROOT / "tools" / "golden.py")
    golden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(golden)
    recorded = json.loads(golden.DIGESTS.read_text())
    scenario = load_scenario(SCENARIOS / "monitored.yaml")
    table = run_one(scenario, scenario.seed, golden.REPLICATES)
    assert golden.table_digest(table) == recorded["monitored.yaml"]


# ----------------------------------------------------------------- each decision


def _channel_events(model: CeasefireModel, actor: str, channels: set[str]) -> pd.DataFrame:
    events = _events(model)
    if "channel" not in events:
        return events.iloc[:0]
    return events[(events["actor"] == actor) & events["channel"].isin(channels)]


#: Both parties reject the truce at the signing: at war from day 1, they attack every day.
AT_WAR = {"factions.faction_a.rejection": 1.0, "government.rejection": 1.0}


def test_hold_fire_stops_deliberate_acts_and_answers_but_not_indiscipline():
    played = {"faction_a": "hold_fire", "government": "hold_fire"}
    counts = {"held": 0, "deliberate": 0, "retaliation": 0, "indiscipline": 0}
    for seed in SEEDS:
        for settings in (SHORT, SHORT | AT_WAR):
            model = _model("baseline", seed, **settings)
            _play(model, played)
            plain = _model("baseline", seed, **settings).run()
            for actor in played:
                acts = {"deliberate", "retaliation", "ground"}
                counts["held"] += len(_channel_events(model, actor, acts))
                counts["indiscipline"] += len(_channel_events(model, actor, {"indiscipline"}))
                for kind in ("deliberate", "retaliation"):
                    counts[kind] += len(_channel_events(plain, actor, {kind}))
    assert counts["held"] == 0
    # Not vacuous: the same truces without players attack and answer; indiscipline goes on.
    assert counts["deliberate"] > 0 and counts["retaliation"] > 0
    assert counts["indiscipline"] > 0


def test_retaliate_answers_every_grievance_held_that_morning():
    answered = struck_first = 0
    for seed in range(6):
        model = _model("baseline", seed)
        players = Players(model, ["faction_b"])
        faction = next(p for p in model.principals if p.name == "faction_b")
        while model.running:
            grudge = model.grudge[faction.edges, 0] > 0
            forces = model.strength[faction.index, 0] > 0
            day = model.day + 1
            players.play_day({"faction_b": "retaliate"})
            today = _events(model)
            today = today[(today["day"] == day) & (today["actor"] == "faction_b")]
            answers = int((today["kind"] == "retaliation").sum())
            first = int((today.get("channel") == "deliberate").sum()) if len(today) else 0
            if not forces:
                assert answers == 0 and first == 0
            elif grudge.any():
                assert answers == int(grudge.sum())
                assert first == 0
                answered += answers
            else:  # nothing to answer: it strikes first
                assert answers == 0 and first >= 1
                struck_first += first
    assert answered > 0 and struck_first > 0  # both branches were exercised


@pytest.mark.parametrize(
    ("role", "channel"), [("sponsor_g1", "loophole"), ("government", "ground")]
)
def test_strike_the_exempted_group_fires_its_strikes_holding_fire_stops_them(role, channel):
    """A sponsor's strikes (E6), the government's ground offensives (E22): only if chosen."""
    counts = {}
    for choice in ("strike_exempted", "hold_fire"):
        n = 0
        for seed in SEEDS:
            model = _model("baseline", seed, **{"truce.loophole_width": 1.0}, **SHORT)
            _play(model, {role: choice})
            n += len(_channel_events(model, role, {channel}))
        counts[choice] = n
    assert counts["hold_fire"] == 0
    assert counts["strike_exempted"] > 0


def test_sanction_a_client_cuts_its_strength():
    hold, sanction = _model("baseline", 2), _model("baseline", 2)
    Players(hold, ["sponsor_g1"]).play_day({"sponsor_g1": "hold_fire"})
    players = Players(sanction, ["sponsor_g1"])
    players.play_day({"sponsor_g1": "sanction_client"})
    sponsor = next(s for s in sanction.sponsors if s.name == "sponsor_g1")
    for client in sponsor.clients:
        assert sanction.strength[client, 0] < hold.strength[client, 0]
    assert players.log == [
        {"day": 1, "role": "sponsor_g1", "choice": "sanction_client", "by": BY_PLAYER}
    ]


@pytest.mark.parametrize("choice", ["report_violation", "stay_quiet"])
def test_monitors_report_all_they_cover_or_nothing(choice):
    total_violations, total_detected = 0, 0
    for seed in range(8):
        model = _model("monitored", seed, **{"monitors.coverage": 1.0}, **SHORT)
        _play(model, {"monitors": choice})
        out = model.results().iloc[0]
        total_violations += int(out["violations"])
        total_detected += int(out["detected"])
        withdrew = not pd.isna(out["monitor_withdrawal_day"])
        if choice == "stay_quiet":
            assert out["detected"] == 0
        elif not withdrew:  # full coverage: every violation seen while the mission stays
            assert out["detected"] == out["violations"]
    assert total_violations > 0


# ----------------------------------------------------------------- bad input


def test_invalid_roles_and_decisions_are_refused_with_a_clear_message():
    model = _model("baseline")
    with pytest.raises(PlayerError, match="no role 'monitors'.*expected one of: government"):
        Players(model, ["monitors"])  # the baseline has no mission
    players = Players(model, ["faction_a"])
    with pytest.raises(PlayerError, match="faction_a cannot 'sanction_client'.*hold_fire"):
        players.play_day({"faction_a": "sanction_client"})
    with pytest.raises(PlayerError, match="nobody plays 'government'"):
        players.play_day({"government": "hold_fire"})
    assert model.day == 0  # nothing was played
    with pytest.raises(PlayerError, match="replicates must be 1"):
        Players(CeasefireModel(load_scenario(SCENARIOS / "baseline.yaml"), replicates=5), [])


def test_a_finished_truce_has_no_more_days():
    model = _model("baseline", 0, **{"truce.horizon": 3})
    players = _play(model, {"government": "hold_fire"})
    with pytest.raises(PlayerError, match="the truce is over"):
        players.play_day({"government": "hold_fire"})


# ----------------------------------------------------------------- the class session


def test_a_class_session_plays_its_roles_and_lets_the_model_decide_on_timeout():
    """The session's day loop, without browsers (tests/test_play_browser.py has them)."""
    import time

    from sim.app import play_session as ps

    scenario = load_scenario(SCENARIOS / "monitored.yaml")
    session = ps.open_session(scenario, days=4, time_limit=1.0, seed=5)
    try:
        assert len(session.code) == ps.CODE_LENGTH and ps.find_session(session.code.lower())
        session.join("government", "Ana")
        with pytest.raises(ps.SessionError, match="already played by Ana"):
            session.join("government", "Bo")
        session.join("monitors", "Bo")
        session.start()
        with pytest.raises(ps.SessionError, match="join.*started|can no longer be taken"):
            session.join("faction_a", "Cy")
        deadline = time.monotonic() + 30
        while session.state != ps.OVER and time.monotonic() < deadline:
            with ps.LOCK:
                asking, day = session.deadline is not None, session.asking_day
                answered = "government" in session.pending
            if asking and not answered:
                with pytest.raises(ps.SessionError, match="cannot 'sanction_client'"):
                    session.decide("government", "sanction_client", day)
                with pytest.raises(ps.SessionError, match="too late: day"):
                    session.decide("government", "hold_fire", day - 1)
                session.decide("government", "hold_fire", day)
            time.sleep(0.02)
        assert session.state == ps.OVER and session.error is None
        log = session.decision_log()
        days = session.day
        assert [r["by"] for r in log if r["role"] == "government"] == [BY_PLAYER] * days
        assert [r["by"] for r in log if r["role"] == "monitors"] == [BY_MODEL] * days
        debrief = session.debrief
        assert debrief is not None and len(debrief.lines) >= days
        # The debrief's comparison is the ensemble's, recomputed here.
        runs = ps.ensemble_runs(session.scenario, debrief.simulated, ps.DEFAULT_SEED)
        assert debrief.percentile == ps.percentile(debrief.days_held, runs["days_held"])[0]
    finally:
        ps.close_session(session.code)
    with pytest.raises(ps.SessionError, match="no class session with code"):
        ps.find_session(session.code)


def test_percentile_is_the_mid_rank_of_days_held():
    from sim.app.play_session import ordinal, percentile

    simulated = pd.Series([5, 10, 10, 20])
    assert percentile(1, simulated) == (0.0, 0.0, 1.0)
    assert percentile(30, simulated) == (100.0, 1.0, 0.0)
    assert percentile(10, simulated) == (50.0, 0.25, 0.25)  # 1 fewer, 2 tied, 1 longer
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 100)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "100th",
    ]


def test_a_session_refuses_settings_out_of_range():
    from sim.app.play_session import SessionError, open_session

    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    with pytest.raises(SessionError, match="days must be between 1 and 365, not 0"):
        open_session(scenario, days=0)
    with pytest.raises(SessionError, match="time limit must be between 1 and 600 seconds"):
        open_session(scenario, days=5, time_limit=0.5)


def test_truce_app_on_every_interface_prints_the_class_sessions_address(monkeypatch):
    from typer.testing import CliRunner

    import sim.app.server
    from sim.cli import app

    monkeypatch.setattr(sim.app.server, "serve", lambda scenario, host, port: 0)
    shared = CliRunner().invoke(app, ["app", "--host", "0.0.0.0", "--port", "8800"])
    assert shared.exit_code == 0, shared.output
    assert re.search(r"Class session for students' devices: http://\S+:8800/\?class", shared.output)
    local = CliRunner().invoke(app, ["app", "--port", "8800"])
    assert local.exit_code == 0 and "Class session" not in local.output  # unreachable
