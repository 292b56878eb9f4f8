"""The classroom page's ▶ loop, rendered with Solara's test renderer (no browser).

Issue 16's "Play stalls": ▶ plays days in a thread while the page redraws in
another (a width report, the ensemble's progress); a redraw that read the live
truce's event log half-way through a day raised (pandas: columns of different
lengths) and the page lost its banner, so the day stopped moving. The browser
test (``test_app_browser.py::test_controls_sliders_and_charts``) plays to the
collapse; these tests pin the causes down, each one quickly.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

import ipyvuetify as v
import pytest
import solara
from conftest import SCENARIOS

from sim.app import components, truces
from sim.app.truces import LiveTruce, TruceSetup
from sim.scenario.loading import load_scenario


def _button(rc, label: str):
    found = rc.find(v.Btn, children=[label])
    found.assert_single()
    return found.widget


def _wait(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def quick_switches():
    """Threads switch every 10 µs instead of 5 ms: a read in the middle of a day, if it can
    happen, happens within a few days (without the lock, ~10 times in 60 days)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def test_reading_the_truce_while_play_runs_never_sees_half_a_day(quick_switches):
    # operational_pause's live truce holds 60 days: long enough for many overlaps.
    setup = TruceSetup(load_scenario(SCENARIOS / "operational_pause.yaml"))
    model = solara.reactive(LiveTruce(setup))
    interval = solara.reactive(1)
    box, rc = solara.render(components.TruceControls(model, setup, interval), handle_error=False)
    errors: list[Exception] = []
    reads = 0
    try:
        _button(rc, "▶").click()
        # What the page's panels read on a redraw from another thread, as fast as it can.
        while model.value.running:
            reads += 1
            try:
                days, events = model.value.trace_tables()
                if len(events) and len(days):  # no event of a day not yet in the days table
                    assert events["day"].max() <= days["day"].max()
            except Exception as exc:  # noqa: BLE001 (any error is the bug)
                errors.append(exc)
        assert model.value.day >= 30
    finally:
        rc.close()
    # The reads did overlap the days (a read takes a few ms, a day a few ms more).
    assert reads >= 10, reads
    assert errors == [], errors[:3]


def test_a_new_truce_stops_the_old_ones_play(baseline):
    # Mesa's controller played `model.value`, whatever truce it was by then: a lever
    # moved during ▶ left the old loop stepping the new truce, unasked (and a second ▶
    # then stepped it from two threads). Each truce's ▶ plays that truce only.
    setup = TruceSetup(baseline)
    model = solara.reactive(LiveTruce(setup))
    interval = solara.reactive(20)
    box, rc = solara.render(components.TruceControls(model, setup, interval), handle_error=False)
    try:
        old = model.value
        _button(rc, "▶").click()
        _wait(lambda: old.day >= 2)
        model.set(LiveTruce(setup))  # what a lever change does
        _wait(lambda: rc.find(v.Btn, children=["▶"]).widgets)
        stopped = old.day
        time.sleep(0.3)  # 15 intervals
        assert model.value.day == 0, "the old ▶ stepped the new truce"
        assert old.day <= stopped + 1, "the old truce still plays"
        _button(rc, "▶").click()
        _wait(lambda: model.value.day >= 2)
        _button(rc, "❚❚").click()
    finally:
        rc.close()


class _Breaks(LiveTruce):
    """A truce whose day 3 fails (what an error in a day's play looks like to the page)."""

    def step(self) -> None:
        if self.day == 2:
            raise RuntimeError("the model broke")
        super().step()


def test_an_error_in_play_is_shown_and_logged_not_swallowed(baseline, caplog):
    setup = TruceSetup(baseline)
    model = solara.reactive(_Breaks(setup))
    interval = solara.reactive(5)
    box, rc = solara.render(components.TruceControls(model, setup, interval), handle_error=False)
    try:
        with caplog.at_level(logging.ERROR, logger=components.__name__):
            _button(rc, "▶").click()
            _wait(lambda: rc.find(v.Alert).widgets)
        text = " ".join(str(c) for w in rc.find(v.Alert).widgets for c in w.children)
        assert "stopped on day 2" in text and "the model broke" in text
        assert any(r.exc_info and "the model broke" in str(r.exc_info[1]) for r in caplog.records)
        # ▶ is usable again (the error is on the page, not a dead button).
        _wait(lambda: rc.find(v.Btn, children=["▶"]).widgets)
        assert model.value.day == 2
    finally:
        rc.close()


def test_live_truce_plays_like_the_model(baseline):
    # The lock changes nothing in what is played: the same records as the model's own.
    from sim.model.model import CeasefireModel

    live = LiveTruce(TruceSetup(baseline, seed=7))
    bare = CeasefireModel(baseline, replicates=1, seed=7, record=True)
    for _ in range(15):
        live.step()
        bare.step()
    for a, b in zip(live.trace_tables(), bare.trace_tables(), strict=True):
        assert a.equals(b)
    assert isinstance(live.lock, type(threading.RLock()))
    assert truces.LiveTruce.step is not CeasefireModel.step
