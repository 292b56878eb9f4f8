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
