"""Class sessions: one truce that a teacher opens and students play from their browsers.

The state shared between browser connections lives here, in a module-level
registry (:data:`SESSIONS`) guarded by a lock: a session is created by the
teacher's page, found by its short code from the students' pages, and played by
a background thread that, day after day, waits for the played roles' decisions
until all are in or the time limit passes, then plays the day through
:class:`sim.model.players.Players` (a role whose player did not answer is played
by the model's rule, and shown as such). At the end the debrief compares the
class's truce with simulated ones under the same settings.

The time limit is each student's own: a role's countdown starts when the
student's page shows the day's question (:meth:`ClassSession.shown`, reported by
the browser once the question is on the screen), not when the server asks, so a
slow page or a busy server does not eat into a student's time. A page that never
shows the question (closed, disconnected) holds the day at most
:data:`MAX_SHOW_DELAY` seconds (and at most one time limit) longer.

Each seat has a token (and the teacher's screen one too) that the page puts in
its address, so a reload or a dropped connection gets the same seat back. The
registry is bounded (:data:`MAX_SESSIONS`) and forgets a session nobody's page
has looked at for :data:`IDLE_TIMEOUT` seconds, one that ended
:data:`DEBRIEF_KEEP` seconds ago, or one the teacher ended
(:func:`expire_sessions`, :func:`close_session`); its day thread stops with it.

No model logic here: the decisions' effects are the model's
(:mod:`sim.model.players`), the story's words are :mod:`sim.present.text`'s.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.app.truces import DEFAULT_SEED, ENSEMBLE_SIZE, ensemble_progress, ensemble_runs
from sim.experiment.runner import forget
from sim.model.model import CeasefireModel
from sim.model.players import BY_MODEL, CHOICES, PlayerError, Players, Role, roles
from sim.present.text import cause_phrase, narrate_day, records, with_text
from sim.scenario.schema import ORIGINS, Scenario

#: Letters of a session code (no I or O, which read as 1 and 0 on a projector).
CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 4
#: Seconds each played role has to decide, by default.
DEFAULT_TIME_LIMIT = 30.0
#: Most seconds a role's countdown may start after the day was asked (its page was slow
#: to show the question), and never more than the time limit itself: a page that has not
#: shown it by then has its time counted from then on, so a closed page does not hold the
#: class's day for ever.
MAX_SHOW_DELAY = 15.0
#: Days a class plays by default (a class cannot play a year at 30 s a day).
DEFAULT_DAYS = 20
#: Seconds a session may go without any page looking at it before it is forgotten
#: (every open page looks at its session several times a second).
IDLE_TIMEOUT = 30 * 60.0
#: Seconds an ended session's debrief stays available after the end.
DEBRIEF_KEEP = 2 * 60 * 60.0
#: Most sessions open at once (each holds a truce and, at the end, 300 simulated ones).
MAX_SESSIONS = 50

#: The registry's clock (seconds); tests replace it.
clock: Callable[[], float] = time.monotonic

LOBBY, PLAYING, OVER = "lobby", "playing", "over"

LOG = logging.getLogger(__name__)

#: Every open session, by code; guarded by :data:`LOCK`.
SESSIONS: dict[str, ClassSession] = {}
#: Guards :data:`SESSIONS` and every session's state.
LOCK = threading.RLock()
#: Signalled whenever a decision comes in (the day's thread waits on it).
DECIDED = threading.Condition(LOCK)


class SessionError(ValueError):
    """A code, role or decision a page cannot use (the message says what was expected)."""


@dataclass
class Debrief:
    """The end of a class session: the story and the comparison with simulated truces."""

    lines: list[str]
    days_held: int
    collapsed: bool
    percentile: float
    fewer: float
    longer: float
    simulated: int
    sentence: str
    #: The simulated truces' runs table (one row each), for the debrief's chart.
    runs: pd.DataFrame | None = None


@dataclass
class ClassSession:
    """One class playing one truce (create it with :func:`open_session`)."""

    code: str
    scenario: Scenario
    seed: int
    time_limit: float
    model: CeasefireModel
    roles: dict[str, Role]
    #: Who plays each role: the student's name, or None while it is free.
    seats: dict[str, str | None] = field(default_factory=dict)
    state: str = LOBBY
    #: Decisions in for the day being asked (by role).
    pending: dict[str, str] = field(default_factory=dict)
    #: When the day being asked closes for a role whose page showed it at once
    #: (:data:`clock`), while a day is asked; None otherwise.
    deadline: float | None = None
    #: When the day being asked was asked (:data:`clock`).
    asked_at: float | None = None
    #: When each played role's page showed the day's question (:data:`clock`).
    shown_at: dict[str, float] = field(default_factory=dict)
    players: Players | None = None
    debrief: Debrief | None = None
    error: str | None = None
    #: Bumped at every change, so that pages know when to redraw.
    version: int = 0
    thread: threading.Thread | None = None
    #: Seat tokens (in each student's address): token → role.
    tokens: dict[str, str] = field(default_factory=dict)
    #: The teacher's token (in the teacher's address).
    teacher_token: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    #: When a page last looked at the session, and when it ended (:data:`clock`).
    last_seen: float = field(default_factory=lambda: clock())
    ended_at: float | None = None
    #: Set when the session is forgotten (:func:`close_session`): its thread stops.
    closed: bool = False

    # ------------------------------------------------------------------ reading
    @property
    def day(self) -> int:
        """The last day played (0 before the start)."""
        return int(self.model.day)

    @property
    def asking_day(self) -> int:
        """The day whose decisions are being asked."""
        return self.day + 1

    def free_roles(self) -> list[str]:
        """Roles nobody has taken yet."""
        with LOCK:
            return [r for r, who in self.seats.items() if who is None]

    def played_roles(self) -> list[str]:
        """Roles a student has taken."""
        with LOCK:
            return [r for r, who in self.seats.items() if who is not None]

    def deadline_of(self, role: str) -> float | None:
        """When ``role``'s time to decide today ends (:data:`clock`); None if nobody is asked.

        The time limit counted from when the role's page showed the question, or,
        until it has, from :data:`MAX_SHOW_DELAY` seconds (at most the time limit)
        after the day was asked.
        """
        with LOCK:
            if self.deadline is None or self.asked_at is None:
                return None
            latest = self.asked_at + min(MAX_SHOW_DELAY, self.time_limit)
            return min(self.shown_at.get(role, latest), latest) + self.time_limit

    def closes_at(self) -> float | None:
        """When the day being asked closes: the last undecided role's deadline (or None)."""
        with LOCK:
            if self.deadline is None or self.players is None:
                return None
            waiting = [r for r in self.players.played if r not in self.pending]
            ends = [self.deadline_of(r) for r in waiting]
            return max((e for e in ends if e is not None), default=clock())

    def seconds_left(self, role: str | None = None) -> float:
        """Seconds left to decide today: ``role``'s own, or until the day closes (0: none).

        A role whose page has not shown the question yet has the whole time limit left.
        """
        with LOCK:
            if self.deadline is None:
                return 0.0
            if role is not None and role not in self.shown_at:
                return self.time_limit
            end = self.deadline_of(role) if role is not None else self.closes_at()
            return max(0.0, (end or 0.0) - clock())

    def shown(self, role: str, day: int) -> None:
        """``role``'s page shows the question of ``day``: its countdown starts now.

        Only the first showing counts (a reload does not restart the countdown), and
        only for the day being asked (a late report of an earlier day is ignored).
        """
        with LOCK:
            if self.deadline is None or day != self.asking_day or role in self.shown_at:
                return
            if role not in self.seats or self.seats[role] is None:
                return
            self.shown_at[role] = clock()
            self._touch()

    def seat(self, token: str | None) -> str | None:
        """The role a seat token holds, or None (unknown token)."""
        with LOCK:
            return self.tokens.get(token or "")

    def seen(self, now: float | None = None) -> None:
        """A page looked at the session (it is not abandoned)."""
        with LOCK:
            self.last_seen = clock() if now is None else now

    def expired(self, now: float) -> bool:
        """Whether the session is abandoned (:data:`IDLE_TIMEOUT`) or ended long ago."""
        if now - self.last_seen > IDLE_TIMEOUT:
            return True
        return self.ended_at is not None and now - self.ended_at > DEBRIEF_KEEP

    def label(self, role: str) -> str:
        """A role's display name (the scenario's label; "The monitors")."""
        return "The monitors" if role == "monitors" else self.scenario.label(role)

    def decision_log(self) -> list[dict[str, Any]]:
        """Every played role's decision so far: day, role, choice, by (player or model)."""
        with LOCK:
            return list(self.players.log) if self.players else []

    # ------------------------------------------------------------------ changing
    def _touch(self) -> None:
        self.version += 1
        DECIDED.notify_all()

    def join(self, role: str, name: str) -> str:
        """A student takes a free role; returns the seat's token (a reload gives it back).

        Raises:
            SessionError: the session has started, or the role is unknown or taken.
        """
        name = name.strip() or "a student"
        with LOCK:
            if self.state != LOBBY:
                raise SessionError("this session has started: roles can no longer be taken")
            if role not in self.seats:
                raise SessionError(f"no role {role!r}; free roles: {', '.join(self.free_roles())}")
            if self.seats[role] is not None:
                raise SessionError(f"{self.label(role)} is already played by {self.seats[role]}")
            self.seats[role] = name
            token = secrets.token_urlsafe(9)
            self.tokens[token] = role
            self.last_seen = clock()
            self._touch()
            return token

    def start(self) -> None:
        """The teacher starts the truce: the model plays every role nobody took."""
        with LOCK:
            if self.state != LOBBY or self.closed:
                return
            self.players = Players(self.model, self.played_roles())
            self.state = PLAYING
            self._touch()
        self.thread = threading.Thread(target=self._play, name=f"class-{self.code}", daemon=True)
        self.thread.start()

    def decide(self, role: str, choice: str, day: int | None = None) -> None:
        """A student's decision for the day being asked (``day``: the day it was asked for).

        Raises:
            SessionError: nobody is being asked, the day asked for is over (a click that
                arrives late), or the decision is not one of the role's.
        """
        with LOCK:
            if self.state != PLAYING or self.deadline is None:
                raise SessionError("no day is being decided now")
            if day is not None and day != self.asking_day:
                raise SessionError(f"too late: day {day} is over, the model decided for you")
            if role not in self.played_roles():
                raise SessionError(f"nobody plays {role!r} in this session")
            end = self.deadline_of(role)
            if role not in self.pending and end is not None and clock() >= end:
                raise SessionError(
                    f"too late: your time for day {self.asking_day} ran out, "
                    "the model decides for you"
                )
            if choice not in self.roles[role].choices:
                allowed = ", ".join(self.roles[role].choices)
                raise SessionError(f"{self.label(role)} cannot {choice!r}; expected: {allowed}")
            self.pending[role] = choice
            self._touch()

    def _play(self) -> None:
        """The day loop (a background thread): ask, wait, play, until the truce ends."""
        try:
            while True:
                with LOCK:
                    assert self.players is not None
                    if self.expired(clock()):  # nobody's page looks at it any more
                        close_session(self.code)
                    if self.closed:
                        return
                    self.pending, self.shown_at = {}, {}
                    self.asked_at = clock()
                    self.deadline = self.asked_at + self.time_limit
                    self._touch()
                    played = self.players.played
                    # Until every played role has decided or its own time has run out; a
                    # page showing the question later moves its role's end (and wakes this).
                    while len(self.pending) < len(played) and not self.closed:
                        left = (self.closes_at() or 0.0) - clock()
                        if left <= 0:
                            break
                        DECIDED.wait(timeout=left)
                    if self.closed:
                        return
                    decisions = {r: self.pending.get(r) for r in played}
                    self.deadline = self.asked_at = None
                    going = self.players.play_day(decisions)
                    self._touch()
                if not going:
                    break
            debrief = make_debrief(self)
            with LOCK:
                self.debrief, self.state, self.ended_at = debrief, OVER, clock()
                self._touch()
        except (PlayerError, ValueError, RuntimeError) as exc:  # shown on every page
            LOG.exception("class session %s stopped", self.code)
            with LOCK:
                self.error, self.state = f"The session stopped: {exc}", OVER
                self.ended_at = clock()
                self._touch()
        finally:
            forget(self.model)


def new_code(taken: Callable[[str], bool]) -> str:
    """A fresh session code of :data:`CODE_LENGTH` letters."""
    while True:
        code = "".join(secrets.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))
        if not taken(code):
            return code


def open_session(
    scenario: Scenario,
    days: int = DEFAULT_DAYS,
    time_limit: float = DEFAULT_TIME_LIMIT,
    seed: int | None = None,
) -> ClassSession:
    """The teacher opens a session: a new truce of ``scenario`` over ``days`` days.

    Args:
        scenario: the settings (the page's scenario).
        days: the horizon the class plays (the simulated truces of the debrief too).
        time_limit: seconds each played role has to decide each day.
        seed: the truce's seed (a new random truce by default).

    Raises:
        SessionError: days or time limit out of range.
    """
    if not 1 <= days <= scenario.truce.horizon:
        raise SessionError(f"days must be between 1 and {scenario.truce.horizon}, not {days}")
    if not 1 <= time_limit <= 600:
        raise SessionError(f"time limit must be between 1 and 600 seconds, not {time_limit}")
    expire_sessions()
    with LOCK:
        if len(SESSIONS) >= MAX_SESSIONS:  # make room: the ended session looked at least lately
            ended = [s for s in SESSIONS.values() if s.state == OVER]
            if not ended:
                raise SessionError(
                    f"{MAX_SESSIONS} class sessions are open: end one (its teacher's "
                    "'End the session') or wait for one to end"
                )
            close_session(min(ended, key=lambda s: s.last_seen).code)
    truce = scenario.truce.model_copy(update={"horizon": int(days)})
    settings = scenario.model_copy(update={"truce": truce, "replicates": 1})
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    model = CeasefireModel(settings, replicates=1, seed=seed, record=True, collect=False)
    available = roles(model)
    with LOCK:
        code = new_code(lambda c: c in SESSIONS)
        session = ClassSession(
            code=code,
            scenario=settings,
            seed=seed,
            time_limit=float(time_limit),
            model=model,
            roles=available,
            seats=dict.fromkeys(available),
        )
        SESSIONS[code] = session
    return session


def find_session(code: str) -> ClassSession:
    """The open session with this code (case and spaces ignored).

    Raises:
        SessionError: no session has that code.
    """
    key = code.strip().upper()
    expire_sessions()
    with LOCK:
        session = SESSIONS.get(key)
    if session is None:
        raise SessionError(f"no class session with code {key or '(empty)'}: check the code")
    return session


def close_session(code: str) -> None:
    """Forget a session; its day thread, if any, stops at once (no debrief)."""
    with LOCK:
        session = SESSIONS.pop(code, None)
        if session is not None:
            session.closed = True
            session._touch()  # wakes the day thread and every page's poll


def expire_sessions(now: float | None = None) -> list[str]:
    """Forget the sessions abandoned or ended long ago (:meth:`ClassSession.expired`).

    Args:
        now: the time on :data:`clock` (now by default).

    Returns:
        The codes forgotten.
    """
    now = clock() if now is None else now
    with LOCK:
        gone = [code for code, s in SESSIONS.items() if s.expired(now)]
        for code in gone:
            close_session(code)
    return gone


# --------------------------------------------------------------------------- the debrief


def choice_text(choice: str | None) -> str:
    """A decision in words."""
    return CHOICES.get(choice or "", "")


def decisions_line(session: ClassSession, day: int, log: list[dict[str, Any]]) -> str:
    """The class's decisions of one day in words ("Class: Government (Ana) holds fire; …")."""
    parts = []
    for row in log:
        if row["day"] != day:
            continue
        who = session.seats.get(row["role"]) or "?"
        label = session.label(row["role"])
        if row["by"] == BY_MODEL:
            parts.append(f"{label} ({who}): time ran out, the model decided")
        else:
            parts.append(f"{label} ({who}): {choice_text(row['choice'])}")
    return "Decisions — " + "; ".join(parts) + "." if parts else ""


def story(session: ClassSession) -> list[str]:
    """The class's truce day by day: each day's decisions and what happened."""
    model, scenario = session.model, session.scenario
    _, events = model.trace_tables()
    events = with_text(events, scenario) if len(events) else events
    by_day: dict[int, list[dict[str, Any]]] = {}
    for event in records(events):
        by_day.setdefault(int(event["day"]), []).append(event)
    log = session.decision_log()
    lines = []
    lead = sum(len(v) for d, v in by_day.items() if d <= 0)
    if lead:
        lines.append(f"Before the start: {lead} land-grab attacks.")
    for day in range(1, session.day + 1):
        said = narrate_day(day, by_day.get(day, []), scenario) or f"Day {day}: no violations."
        decided = decisions_line(session, day, log)
        lines.append(f"{said} {decided}".strip())
    return lines


def percentile(days_held: int, simulated: pd.Series) -> tuple[float, float, float]:
    """Where a truce's days held fall among simulated ones: (percentile, fewer, longer).

    The mid-rank percentile: the share of simulated truces that held fewer days plus
    half the share that held as many, in percent.
    """
    days = np.asarray(simulated, dtype=float)
    fewer = float((days < days_held).mean())
    longer = float((days > days_held).mean())
    return 100.0 * (fewer + (1.0 - fewer - longer) / 2.0), fewer, longer


def ordinal(n: int) -> str:
    """A number as an ordinal: 1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def simulated_runs(session: ClassSession, simulated: int = ENSEMBLE_SIZE) -> pd.DataFrame:
    """The simulated truces of the debrief (:func:`~sim.app.truces.ensemble_runs`' table).

    The page's 300 run in its worker processes (:func:`~sim.app.truces.ensemble_progress`,
    the same truces), not in the server process, where they held up every open page for
    seconds (a full year: 5 s on 2 busy cores).
    """
    if simulated != ENSEMBLE_SIZE:
        return ensemble_runs(session.scenario, simulated, DEFAULT_SEED)
    progress = ensemble_progress(session.scenario, DEFAULT_SEED, wanted=lambda: not session.closed)
    runs = pd.DataFrame()
    for part in progress:  # 50 truces, then all of them
        runs = part
    if len(runs) != simulated:
        raise RuntimeError("the session was ended before its debrief")
    return runs


def make_debrief(session: ClassSession, simulated: int = ENSEMBLE_SIZE) -> Debrief:
    """The story and how the class's truce compares with ``simulated`` ones (same settings)."""
    model = session.model
    collapsed = bool(model.collapse_day[0] > 0)
    days_held = int(model.collapse_day[0]) if collapsed else int(model.horizon)
    runs = simulated_runs(session, simulated)
    pct, fewer, longer = percentile(days_held, runs["days_held"])
    if collapsed:
        head = f"Your truce collapsed on day {days_held} ({cause_phrase(ORIGINS[model.cause[0]])})."
    else:
        head = f"Your truce held all {days_held} days."
    held_all = float((~runs["collapsed"]).mean())
    sentence = (
        f"{head} Of {simulated} truces simulated under the same settings, "
        f"{fewer:.0%} held fewer days and {longer:.0%} held longer "
        f"({held_all:.0%} held all {int(model.horizon)} days): "
        f"yours is at the {ordinal(round(pct))} percentile."
    )
    return Debrief(
        lines=story(session),
        days_held=days_held,
        collapsed=collapsed,
        percentile=pct,
        fewer=fewer,
        longer=longer,
        simulated=simulated,
        sentence=sentence,
        runs=runs,
    )


def share_url(host: str, port: int) -> str | None:
    """The class session's address for students' devices, when ``host`` lets them in.

    Listening on every interface (``0.0.0.0`` or ``::``), the address is this
    computer's on the network (the interface its default route goes through; no
    packet is sent); on another address other than the loopback, that address.
    None for the loopback, which other devices cannot reach.
    """
    import socket

    if host in ("127.0.0.1", "localhost", "::1"):
        return None
    if host in ("0.0.0.0", "::", ""):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("10.255.255.255", 1))
                host = s.getsockname()[0]
        except OSError:
            host = socket.gethostname()
    return f"http://{host}:{port}/?class"
