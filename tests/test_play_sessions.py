"""Class sessions' registry: seats that survive a reload, sessions that are forgotten.

Issue 16's known bugs: a student who reloaded lost the seat (the seat now has a
token that the page keeps in its address), and sessions were never cleaned up
(the registry now forgets abandoned and long-ended sessions and is bounded). The
registry's clock is injected (:data:`sim.app.play_session.clock`), so no test
waits half an hour. The reload in a real browser is in ``test_play_browser.py``.
"""

from __future__ import annotations

import time

import pytest
from conftest import SCENARIOS

from sim.app import play_session as ps
from sim.app.workers import WORKERS_ENV
from sim.scenario.loading import load_scenario


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(ps, "clock", fake)
    # The debriefs' truces in this thread (test_players.py's session uses the workers).
    monkeypatch.setenv(WORKERS_ENV, "0")
    # Each test starts with an empty registry and leaves none of its sessions behind.
    monkeypatch.setattr(ps, "SESSIONS", {})
    yield fake
    for code in list(ps.SESSIONS):
        ps.close_session(code)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIOS / "monitored.yaml")


def _over(session: ps.ClassSession, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while session.state != ps.OVER:
        assert time.monotonic() < deadline, "the session did not end"
        time.sleep(0.02)


def test_a_seat_token_gives_the_same_role_back(clock, scenario):
    session = ps.open_session(scenario, days=2, time_limit=5, seed=1)
    ana = session.join("government", "Ana")
    bo = session.join("monitors", "Bo")
    assert ana != bo and len(ana) >= 12  # not guessable from the other's
    assert session.seat(ana) == "government" and session.seat(bo) == "monitors"
    assert session.seat("not-a-token") is None and session.seat(None) is None
    assert session.teacher_token not in (ana, bo)
    # The same token after the start: the reloaded student decides for the same role.
    session.start()
    deadline = time.monotonic() + 10
    while session.deadline is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert ps.find_session(session.code).seat(ana) == "government"
    session.decide(session.seat(ana), "hold_fire", session.asking_day)
    assert session.pending == {"government": "hold_fire"}


def test_an_abandoned_lobby_is_forgotten_after_the_idle_timeout(clock, scenario):
    session = ps.open_session(scenario, days=2, time_limit=5, seed=1)
    clock.now += ps.IDLE_TIMEOUT - 1
    session.seen()  # a page still looks at it
    clock.now += ps.IDLE_TIMEOUT - 1
    assert ps.expire_sessions() == []
    assert ps.find_session(session.code) is session
    clock.now += 2  # nobody has looked for longer than the timeout
    assert ps.expire_sessions() == [session.code]
    assert session.closed
    with pytest.raises(ps.SessionError, match="no class session with code"):
        ps.find_session(session.code)
    session.start()  # a stale teacher's page: nothing starts
    assert session.state == ps.LOBBY and session.thread is None


def test_an_abandoned_truce_stops_its_day_thread(clock, scenario):
    session = ps.open_session(scenario, days=30, time_limit=600, seed=1)
    session.join("government", "Ana")
    session.start()
    deadline = time.monotonic() + 10
    while session.deadline is None:  # day 1 is being asked, for 600 s
        assert time.monotonic() < deadline
        time.sleep(0.01)
    clock.now += ps.IDLE_TIMEOUT + 1
    assert ps.expire_sessions() == [session.code]
    assert session.thread is not None
    session.thread.join(timeout=10)  # woken at once, not after the 600 s
    assert not session.thread.is_alive()
    assert session.day == 0 and session.debrief is None


def test_an_ended_session_is_kept_for_its_debrief_then_forgotten(clock, scenario):
    session = ps.open_session(scenario, days=2, time_limit=1, seed=1)
    session.start()  # nobody joined: the model plays every role, at once
    _over(session)
    assert session.ended_at == clock.now and session.debrief is not None
    clock.now += ps.DEBRIEF_KEEP - 1
    session.seen()
    assert ps.expire_sessions(clock.now) == []
    clock.now += 2  # looked at, but ended longer ago than the debrief is kept
    assert ps.expire_sessions(clock.now) == [session.code]


def test_the_teacher_ends_the_session(clock, scenario):
    session = ps.open_session(scenario, days=2, time_limit=1, seed=1)
    version = session.version
    ps.close_session(session.code)
    assert session.closed and session.version > version  # the pages redraw and stop polling
    assert session.code not in ps.SESSIONS
    ps.close_session(session.code)  # twice is harmless


def test_the_registry_is_bounded(clock, scenario, monkeypatch):
    monkeypatch.setattr(ps, "MAX_SESSIONS", 3)
    first = ps.open_session(scenario, days=1, time_limit=1, seed=1)
    first.start()
    _over(first)
    clock.now += 1
    others = [ps.open_session(scenario, days=1, time_limit=1, seed=1) for _ in range(2)]
    # Full: a new session takes the place of the ended one looked at least lately...
    newest = ps.open_session(scenario, days=1, time_limit=1, seed=1)
    assert first.closed and set(ps.SESSIONS) == {s.code for s in [*others, newest]}
    # ...and with no ended one, the teacher is told why no session opens.
    with pytest.raises(ps.SessionError, match="3 class sessions are open"):
        ps.open_session(scenario, days=1, time_limit=1, seed=1)
    assert len(ps.SESSIONS) == 3


def _asking(session: ps.ClassSession, day: int, timeout: float = 10) -> None:
    """Wait (real time) until the day thread asks for ``day``'s decisions."""
    deadline = time.monotonic() + timeout
    while not (session.deadline is not None and session.asking_day == day):
        assert time.monotonic() < deadline, f"day {day} was not asked"
        time.sleep(0.01)


def test_the_countdown_starts_when_the_students_page_shows_the_question(clock, scenario):
    # Issue 16's known bug: under load a student saw the question seconds after the
    # server had started its time limit. Each role's time now runs from its page's showing.
    from sim.model.players import BY_MODEL, BY_PLAYER

    session = ps.open_session(scenario, days=2, time_limit=5, seed=1)
    session.join("government", "Ana")
    session.join("monitors", "Bo")
    session.start()
    _asking(session, 1)
    asked = clock.now
    # Nobody's page shows it yet: each still has the whole time limit.
    assert session.seconds_left("government") == session.seconds_left("monitors") == 5
    session.shown("monitors", 1)  # Bo's page shows it at once...
    clock.now += 3
    session.shown("government", 1)  # ...Ana's, on a slow connection, 3 s later
    assert session.seconds_left("monitors") == 2 and session.seconds_left("government") == 5
    assert session.deadline_of("government") == asked + 3 + 5
    assert session.closes_at() == asked + 3 + 5  # the day waits for Ana's own time
    clock.now += 3  # 6 s after the server asked: Bo's time is up, Ana has 2 s left
    with pytest.raises(ps.SessionError, match="too late: your time for day 1 ran out"):
        session.decide("monitors", "report_violation", 1)
    session.decide("government", "hold_fire", 1)  # the server's clock alone said "too late"
    _asking(session, 2)  # Ana has decided, Bo's time is up: day 1 is played at once
    day_one = [row for row in session.decision_log() if row["day"] == 1]
    by_role = {row["role"]: (row["by"], row["choice"]) for row in day_one}
    assert by_role["government"] == (BY_PLAYER, "hold_fire")
    assert by_role["monitors"][0] == BY_MODEL

    # Day 2: a reload shows the question again but does not restart the countdown, and
    # a late report of day 1 changes nothing.
    asked = clock.now
    session.shown("government", 2)
    clock.now += 2
    session.shown("government", 2)
    session.shown("monitors", 1)
    assert session.seconds_left("government") == 3
    assert "monitors" not in session.shown_at
    # Bo's page never shows it (closed): his time counts from one time limit after the
    # ask (MAX_SHOW_DELAY is longer), so the day is not held for ever.
    assert session.deadline_of("monitors") == asked + min(ps.MAX_SHOW_DELAY, 5) + 5
    clock.now = asked + 5 + 5 + 1
    with pytest.raises(ps.SessionError, match="too late: your time for day 2 ran out"):
        session.decide("government", "hold_fire", 2)
    ps.close_session(session.code)
