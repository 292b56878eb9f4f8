"""Students play: the class session pages (the teacher's screen and each student's).

The classroom page links here ("Open a class session"; the address ends in
``?class``). The teacher opens a session, gets a short code and puts it on the
projector; students open the same address from their own browsers on the same
network (``truce app --host 0.0.0.0`` prints it), enter the code and take a free
role. Each day every student is asked for the role's decision, with a time limit;
the model decides for a role nobody took and for a student whose time ran out.
The teacher's screen shows the truce as it goes (banner, chart, the plain-language
log) and, at the end, the debrief: the day-by-day story with the class's decisions
and how the class's truce compares with simulated ones under the same settings.

The shared state is :mod:`sim.app.play_session`'s; these components only read it
and pass on what people click. Every page redraws when the session changes (a
light poll of its version number). Who is on which screen is in the address
(``?class=ABCD&seat=…`` for a student, ``&teacher=…`` for the teacher): a reload,
or a connection that drops and comes back, shows the same seat.
"""

from __future__ import annotations

import html
import os
import secrets
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

import ipyvuetify
import solara
import traitlets

from sim.app.components import TITLE, Chart, Offstage
from sim.app.figures import timeline_json
from sim.app.play_session import (
    DEFAULT_DAYS,
    DEFAULT_TIME_LIMIT,
    LOBBY,
    LOCK,
    OVER,
    PLAYING,
    ClassSession,
    SessionError,
    choice_text,
    close_session,
    find_session,
    open_session,
)
from sim.app.scenarios import SCENARIO_ENV, load_choice, scenario_choices
from sim.app.truces import log_lines, status
from sim.model.players import BY_MODEL
from sim.present.charts import survival_chart

#: The query parameter of the class session's address (``/?class`` or ``/?class=ABCD``).
QUERY = "class"
#: The query parameters of a student's seat token and of the teacher's token.
SEAT, TEACHER = "seat", "teacher"
#: Seconds between two looks at the session's state.
POLL_SECONDS = 0.25


def wants_class_session(search: str | None) -> tuple[bool, str]:
    """Whether an address's query asks for the class session, and the code it gives."""
    query = parse_qs(search or "", keep_blank_values=True)
    if QUERY not in query:
        return False, ""
    return True, (query[QUERY][0] or "").strip().upper()


def _page_connected() -> bool:
    """Whether the calling page's browser is connected (True where Solara cannot tell)."""
    try:
        from solara.server.kernel_context import PageStatus, get_current_context

        return PageStatus.CONNECTED in get_current_context().page_status.values()
    except Exception:  # noqa: BLE001 (no server, e.g. the test renderer)
        return True


def use_session_updates(session: ClassSession | None) -> None:
    """Redraw the calling component whenever the session changes or a second passes.

    While the page's browser is connected, the poll also tells the session that a
    page is looking at it (:meth:`~sim.app.play_session.ClassSession.seen`); it stops
    when the session is forgotten.
    """
    _, set_tick = solara.use_state(0)

    def poll(cancel: threading.Event) -> None:
        if session is None:
            return
        seen = None
        while not cancel.wait(POLL_SECONDS):
            if _page_connected():
                session.seen()
            now = (session.version, int(session.seconds_left()))
            if now != seen:
                seen = now
                set_tick(lambda t: t + 1)
            if session.closed:  # drawn once more, as ended
                return

    # Not Solara's intrusive cancel: its trace function slowed every redraw this thread
    # makes (set_tick draws the page here) several times over.
    code = session.code if session else None
    solara.use_thread(poll, dependencies=[code], intrusive_cancel=False)


#: Text that is read from the back of a classroom (the log's size, without its scroll box).
READABLE = {"font-size": "19px", "line-height": "1.45"}


def _paragraphs(lines: list[str], classes: list[str], style: dict | None = None) -> None:
    solara.Div(
        children=[solara.HTML(tag="p", unsafe_innerHTML=html.escape(x)) for x in lines],
        classes=classes,
        style=style,
    )


# --------------------------------------------------------------------------- start


@solara.component
def OpenOrJoin(
    code_hint: str,
    gone: str,
    on_teacher: Callable[[ClassSession], None],
    on_student: Callable[[ClassSession, str], None],
):
    """The first screen: the teacher opens a session, a student joins one.

    Args:
        code_hint: the code in the address, if any.
        gone: why the address's seat is not shown (the session ended), or "".
        on_teacher: called with the session the teacher opened.
        on_student: called with the session joined and the seat's token.
    """
    choices = solara.use_memo(lambda: scenario_choices(os.environ.get(SCENARIO_ENV)), [])
    scenario = solara.use_reactive(next(iter(choices), ""))
    days = solara.use_reactive(DEFAULT_DAYS)
    limit = solara.use_reactive(int(DEFAULT_TIME_LIMIT))
    seed = solara.use_reactive("")
    code = solara.use_reactive(code_hint)
    name = solara.use_reactive("")
    role = solara.use_reactive("")
    problem = solara.use_reactive(gone)

    def open_it() -> None:
        loaded, error = load_choice(choices.get(scenario.value, scenario.value))
        if loaded is None:
            problem.set(f"This scenario cannot be loaded: {error}")
            return
        try:
            given = seed.value.strip()
            if given and not given.isdigit():
                raise SessionError(f"seed must be a whole number 0 or more, not {given!r}")
            truce = open_session(
                loaded, int(days.value), float(limit.value), int(given) if given else None
            )
            on_teacher(truce)
        except SessionError as exc:
            problem.set(str(exc))

    def join() -> None:
        try:
            session = find_session(code.value)
            if not role.value:
                raise SessionError("choose a free role")
            token = session.join(role.value, name.value)
        except SessionError as exc:
            problem.set(str(exc))
            return
        on_student(session, token)

    found: ClassSession | None = None
    if len(code.value.strip()) >= 4:
        try:
            found = find_session(code.value)
        except SessionError:
            found = None
    use_session_updates(found)
    with solara.Columns([1, 1]):
        with solara.Card("Join a class session (students)"):
            solara.InputText("Session code", value=code, continuous_update=True)
            solara.InputText("Your name", value=name, continuous_update=True)
            if found is not None and found.state == LOBBY:
                free = found.free_roles()
                solara.Text("Free roles:" if free else "Every role is taken.")
                with solara.Row(style={"flex-wrap": "wrap"}):
                    for r in free:
                        solara.Button(
                            found.label(r),
                            color="primary" if role.value == r else None,
                            outlined=role.value != r,
                            on_click=lambda r=r: role.set(r),
                        )
            elif found is not None:
                solara.Text("This session has already started.")
            solara.Button("Join", color="primary", on_click=join, disabled=found is None)
        with solara.Card("Open a class session (teacher)"):
            solara.Select("Scenario", values=list(choices), value=scenario)
            solara.InputInt("Days to play", value=days)
            solara.InputInt("Seconds to decide each day", value=limit)
            solara.InputText("Seed (blank: a new random truce)", value=seed)
            solara.Button("Open the session", color="primary", on_click=open_it)
    if problem.value:
        solara.Error(problem.value)


# --------------------------------------------------------------------------- the teacher


def debrief_figure(session: ClassSession):
    """The simulated truces' survival curve, with the day the class's truce ended or reached."""
    debrief = session.debrief
    assert debrief is not None and debrief.runs is not None
    runs = debrief.runs.assign(arm=f"{debrief.simulated} simulated truces")
    fig = survival_chart(runs, by="arm", horizons=())
    verb = "collapsed" if debrief.collapsed else "held"
    fig.add_vline(
        x=debrief.days_held,
        line={"color": "#D55E00", "width": 3},
        annotation_text=f"your class: {verb}, day {debrief.days_held}",
        annotation_position="top left",
    )
    fig.update_layout(title={"text": "Your truce among the simulated ones"}, height=380)
    return fig


def _compared(state: str, debrief: Any) -> bool:
    """Whether the debrief's simulated truces are in (their chart can be drawn)."""
    return state == OVER and debrief is not None and debrief.runs is not None


def _roles_lines(session: ClassSession) -> list[str]:
    """Who plays what: every role in the lobby, then the played ones on one line."""
    if session.state == LOBBY:
        return [
            f"{session.label(r)}: {who if who else 'free (the model plays it)'}"
            for r, who in session.seats.items()
        ]
    played = [f"{session.label(r)}: {who}" for r, who in session.seats.items() if who]
    return [" · ".join(played + ["the model plays the other roles"])]


def _banner(session: ClassSession) -> tuple[str, str]:
    """The truce's banner (the demo's), with the class session's words before day 1."""
    if session.day == 0:
        return "Announced — day 1 starts when every role has decided", "holding"
    return status(session.model)


def _asking_line(session: ClassSession) -> str:
    played = session.played_roles()
    if session.deadline is None and not session.model.running:
        return "The truce is over: comparing it with 300 simulated ones…"
    if session.deadline is None:
        return f"Day {session.day} played."
    n_in = len(session.pending)
    return (
        f"Day {session.asking_day}: {n_in} of {len(played)} decisions in, "
        f"{session.seconds_left():.0f} s left"
    )


def _day_view(
    session: ClassSession, days: int, chart: bool = False
) -> tuple[list[str], str | None]:
    """The latest days in words and (``chart``) the truce's chart: redrawn once a day.

    The pages redraw every second (the countdown); the chart and the words change
    only when a day has been played, and reading them holds :data:`LOCK`, which
    the day's play and every other page wait for (the chart as plotly JSON, written
    from its figure dictionary: a tenth of the CPU of a validated figure).
    """
    with LOCK:
        _, events = session.model.trace_tables()
        figure = timeline_json(session.model) if chart and session.state != LOBBY else None
    return log_lines(events, session.scenario, days=days), figure


@solara.component
def TeacherView(session: ClassSession):
    """The projector: the code, who plays what, the truce as it goes, the debrief."""
    use_session_updates(session)
    with LOCK:
        state, error, debrief = session.state, session.error, session.debrief
        roles_lines = _roles_lines(session)
        banner, banner_state = _banner(session)
        asking = _asking_line(session) if state == PLAYING else ""
        day = session.day
    log, figure = solara.use_memo(lambda: _day_view(session, 6, chart=True), [day, state])
    compared = solara.use_memo(
        lambda: debrief_figure(session).to_json() if _compared(state, debrief) else None,
        [state, id(debrief)],
    )
    solara.Div(
        children=[f"Session code: {session.code}"],
        classes=["truce-status", "holding", "class-code"],
    )
    if state == LOBBY:
        solara.Div(
            children=[
                "Students: open this page's address on your own device (same network), "
                f"ending in ?{QUERY}, enter the code {session.code} and take a free role."
            ],
            classes=["truce-log"],
        )
    _paragraphs(roles_lines, ["class-roles"], READABLE)
    if error:
        solara.Error(error)
    if session.closed:
        solara.Info("This session has ended: its code no longer works.")
    elif state == OVER:  # the debrief has been read: free the code and the truces
        solara.Button("End the session", on_click=lambda: close_session(session.code))
    if state == LOBBY:
        if not session.closed:
            solara.Button("Start the truce", color="primary", on_click=session.start)
        return
    solara.Div(children=[banner], classes=["truce-status", banner_state])
    if asking:
        solara.Div(children=[asking], classes=["truce-ensemble", "class-asking"])
    if state == OVER and debrief is not None:
        solara.Div(children=[debrief.sentence], classes=["truce-ensemble", "class-debrief"])
    if compared is not None and figure is not None:
        with solara.Columns([1, 1]):  # the class's truce beside the simulated ones
            Chart(figure, name=f"day-{day}")
            Chart(compared, name="debrief")
    elif figure is not None:
        Chart(figure, name=f"day-{day}")
    if state == OVER and debrief is not None:
        solara.HTML(tag="h3", unsafe_innerHTML="Debrief: the class's truce, day by day")
        _paragraphs(debrief.lines, ["class-story"], READABLE)
    elif state == OVER:
        solara.Text("Comparing with simulated truces…")
    else:
        _paragraphs(log or ["No violations yet."], ["truce-log"])


# --------------------------------------------------------------------------- a student


class QuestionShown(ipyvuetify.VuetifyTemplate):
    """An invisible mark beside the day's question: the browser says when it shows it.

    Once the question of ``day`` is painted on the student's screen, the browser
    sets ``shown`` to ``day`` (``question_shown.vue``); the page passes it on to
    :meth:`~sim.app.play_session.ClassSession.shown`, which starts the role's
    countdown then.
    """

    day = traitlets.Int(0).tag(sync=True)
    shown = traitlets.Int(0).tag(sync=True)
    template_file = (__file__, "question_shown.vue")


def _your_day(row: dict) -> str:
    if row["by"] == BY_MODEL:
        return f"Day {row['day']}: time ran out, the model decided"
    return f"Day {row['day']}: you chose {choice_text(row['choice'])}"


@solara.component
def StudentView(session: ClassSession, role: str, name: str):
    """A student's screen: the role, the day's question with its countdown, the outcome."""
    use_session_updates(session)
    problem = solara.use_reactive("")
    with LOCK:
        state, error, debrief = session.state, session.error, session.debrief
        label = session.label(role)
        asking = state == PLAYING and session.deadline is not None
        day, chosen = session.asking_day, session.pending.get(role)
        left = session.seconds_left(role)
        banner, banner_state = _banner(session)
        log = session.decision_log()
    recent, _ = solara.use_memo(lambda: _day_view(session, 3), [day])
    mine = [row for row in log if row["role"] == role]
    solara.Div(
        children=[f"You play {label} ({name or 'a student'}) — session {session.code}"],
        classes=["truce-status", "holding", "class-role"],
    )
    if error:
        solara.Error(error)
    if session.closed:
        solara.Info("The teacher has ended this session.")
    if state == LOBBY:
        if not session.closed:
            solara.Text("Waiting for the teacher to start the truce…")
        return
    solara.Div(children=[banner], classes=["truce-status", banner_state])
    if mine and mine[-1]["by"] == BY_MODEL:
        solara.Warning(f"Day {mine[-1]['day']}: time ran out — the model decided for you.")
    if mine:
        _paragraphs([" · ".join(_your_day(row) for row in mine)], ["class-yours"])

    def decide(choice: str, asked: int) -> None:
        try:
            session.decide(role, choice, asked)
            problem.set("")
        except SessionError as exc:
            problem.set(str(exc))

    if asking:
        solara.Div(
            children=[f"Day {day}: what do you do? {left:.0f} s left"],
            classes=["truce-ensemble", "class-question"],
        )
        QuestionShown.element(day=day, on_shown=lambda shown: session.shown(role, shown))
        with solara.Row(style={"flex-wrap": "wrap"}):
            for choice in session.roles[role].choices:
                solara.Button(
                    choice_text(choice).capitalize(),
                    color="primary" if chosen == choice else None,
                    outlined=chosen != choice,
                    on_click=lambda c=choice: decide(c, day),
                )
        if chosen:
            solara.Text(f"You chose: {choice_text(chosen)}. Waiting for the others…")
    elif state == PLAYING and not session.model.running:
        solara.Text("The truce is over: the debrief is on its way…")
    elif state == PLAYING:
        solara.Text("The day is being played…")
    if problem.value:
        solara.Error(problem.value)
    if state == OVER and debrief is not None:
        solara.Div(children=[debrief.sentence], classes=["truce-ensemble", "class-debrief"])
    _paragraphs(recent or ["No violations yet."], ["truce-log"])


# --------------------------------------------------------------------------- the page


def _first(query: dict[str, list[str]], key: str) -> str:
    return (query.get(key) or [""])[0].strip()


@solara.component
def ClassSessionPage(code_hint: str = ""):
    """The class session: open or join, then the teacher's or the student's screen.

    Which screen is the address's: ``seat=`` (a student's token) or ``teacher=``
    (the teacher's), with the session's code; a reload shows the same screen.
    """
    router = solara.use_router()
    query = parse_qs(router.search or "", keep_blank_values=True)
    seat_token, teacher_token = _first(query, SEAT), _first(query, TEACHER)
    session: ClassSession | None = None
    gone = ""
    if code_hint and (seat_token or teacher_token):
        try:
            session = find_session(code_hint)
        except SessionError:
            gone = f"Class session {code_hint} has ended (or its code is wrong)."
    role = session.seat(seat_token) if session is not None and seat_token else None
    teacher = (
        session is not None
        and bool(teacher_token)
        and secrets.compare_digest(teacher_token, session.teacher_token)
    )
    if session is not None and not teacher and role is None:
        gone = "This address's seat is not one of this session's: join with the code."

    def go(code: str, key: str, token: str) -> None:
        router.push(f"{router.path}?{urlencode({QUERY: code, key: token})}")

    with Offstage():
        with solara.AppBar():
            solara.AppBarTitle(f"{TITLE}: class session")
    if session is not None and teacher:
        TeacherView(session)
    elif session is not None and role is not None:
        StudentView(session, role, session.seats.get(role) or "")
    else:
        OpenOrJoin(
            code_hint,
            gone,
            on_teacher=lambda s: go(s.code, TEACHER, s.teacher_token),
            on_student=lambda s, token: go(s.code, SEAT, token),
        )
