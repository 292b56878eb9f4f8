"""The classroom page without a browser: its controls, its figures, its scenario picker.

The page in a real browser is in ``test_app_browser.py``; these tests render the
controls with Solara's test renderer and check the figures' layout in Python.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import ipyvuetify as v
import pytest
import solara

from sim.app import components, figures, scenarios, server, truces
from sim.app import levers as lv
from sim.scenario.catalog import scenario_dir, scenario_files
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import apply_override, load_scenario, validate
from sim.scenario.schema import parameters


@contextmanager
def _worker_pool(monkeypatch, count: int) -> Iterator[None]:
    """The page's worker pool with ``count`` processes for a block, shut down after it."""
    from sim.app import workers

    monkeypatch.setenv("TRUCE_APP_WORKERS", str(count))
    monkeypatch.setattr(workers, "_pool", None)
    try:
        yield
    finally:
        pool = workers._pool
        workers._pool = None
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _button(rc, label: str):
    found = rc.find(v.Btn, children=[label])
    found.assert_single()
    return found.widget


def _wait(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_controls_step_play_pause_and_reset(baseline, monkeypatch):
    monkeypatch.setattr(components, "PLAY_INTERVAL_MS", 5)
    setup = truces.TruceSetup(baseline)
    model = solara.reactive(truces.LiveTruce(setup))
    box, rc = solara.render(components.TruceControls(model, setup), handle_error=False)
    try:
        # Only Mesa's three buttons: no intervals, no threads switch, no step counter.
        assert [b.children for b in rc.find(v.Btn).widgets] == [["Reset"], ["▶"], ["Step"]]
        assert not rc.find(v.Slider) and not rc.find(v.Checkbox)

        _button(rc, "Step").click()
        assert model.value.day == 1

        _button(rc, "▶").click()
        _wait(lambda: model.value.day >= 3)
        _button(rc, "❚❚").click()
        _wait(lambda: rc.find(v.Btn, children=["▶"]).widgets)
        # Mesa's controller finishes the day it was waiting on, then stops.
        time.sleep(0.3)
        paused = model.value.day
        time.sleep(0.3)
        assert model.value.day == paused
        assert not _button(rc, "Step").disabled

        first = model.value
        _button(rc, "Reset").click()
        # Reset rebuilds the truce from the current setup (Mesa's model_parameters).
        assert model.value is not first and model.value.day == 0
        assert model.value.scenario == setup.scenario
    finally:
        rc.close()


def test_controls_follow_the_current_truce(baseline, monkeypatch):
    # Play to the collapse (day 11 with the default seed): Play and Step turn
    # off. A new truce (what a lever change builds) gets a fresh controller with
    # them on again, without Reset.
    monkeypatch.setattr(components, "PLAY_INTERVAL_MS", 5)
    setup = truces.TruceSetup(baseline)
    model = solara.reactive(truces.LiveTruce(setup))
    box, rc = solara.render(components.TruceControls(model, setup), handle_error=False)
    try:
        _button(rc, "▶").click()
        _wait(lambda: not model.value.running)

        # Every button but Reset turns off; the page may redraw them one by one.
        def all_off() -> bool:
            play = [b for b in rc.find(v.Btn).widgets if b.children != ["Reset"]]
            return bool(play) and all(b.disabled for b in play)

        _wait(all_off)
        model.set(truces.LiveTruce(setup))
        _wait(lambda: rc.find(v.Btn, children=["▶"]).widgets)
        assert not _button(rc, "Step").disabled and not _button(rc, "▶").disabled
        _button(rc, "Step").click()
        assert model.value.day == 1
    finally:
        rc.close()


def _ensemble(scenario, n: int = 40):
    return truces.ensemble_runs(scenario, replicates=n, seed=3)


def test_ensemble_figure_fits_its_column(baseline):
    runs = _ensemble(baseline)
    fig = figures.ensemble_figure(runs, _ensemble(baseline, 30), width=341)
    assert fig.layout.width == 341 and fig.layout.height == figures.ENSEMBLE_HEIGHT
    assert figures.ensemble_figure(runs).layout.width == figures.ENSEMBLE_WIDTH
    # The legend is anchored inside the figure, at its bottom.
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0
    # The reference days run up their lines from the bottom of the plot.
    days = [a for a in fig.layout.annotations if a.text and a.text.endswith(" days")]
    assert [a.text for a in days] == ["30 days", "90 days", "180 days"]
    for a in days:
        assert (a.textangle, a.y, a.yref, a.yanchor) == (-90, 0, "y domain", "bottom")
    assert fig.layout.xaxis.title.text == figures.ENSEMBLE_DAY_TITLE


def test_timeline_figure_legend_and_markers(baseline):
    truce = truces.LiveTruce(truces.TruceSetup(baseline))
    while truce.running:
        truce.step()
    fig = figures.timeline_figure(truce, width=480)
    assert fig.layout.width == 480 and fig.layout.height == figures.TIMELINE_HEIGHT
    assert fig.layout.legend.yref == "container"
    # One legend entry per party, the line styles explained once above the lower panel.
    shown = [t.name for t in fig.data if t.showlegend is not False]
    assert not [n for n in shown if n.endswith((": trust", ": war fatigue"))]
    assert "government" in shown
    assert any(a.text.startswith("solid: trust") for a in fig.layout.annotations)
    titles = [ax.title.text for ax in fig.select_xaxes() if ax.title.text]
    assert titles == [figures.TIMELINE_DAY_TITLE]
    # The collapse marker keeps a short label; the cause is in its hover text.
    collapse = [a for a in fig.layout.annotations if a.hovertext]
    assert [a.text for a in collapse] == ["truce collapsed"]
    assert f"(day {truce.collapse_day[0]})" in collapse[0].hovertext
    assert collapse[0].xanchor == "right"


def test_scenario_choices_labels(tmp_path):
    bundled = scenarios.scenario_choices()
    assert "baseline.yaml" in bundled
    given = scenarios.scenario_choices(bundled["baseline.yaml"])
    assert next(iter(given)) == "baseline.yaml" and list(given) == [
        "baseline.yaml",
        *[k for k in bundled if k != "baseline.yaml"],
    ]
    other = tmp_path / "mine.yaml"
    mine = scenarios.scenario_choices(str(other))
    assert next(iter(mine.items())) == ("mine.yaml", str(other))
    clash = tmp_path / "baseline.yaml"
    assert next(iter(scenarios.scenario_choices(str(clash)))) == str(clash)


def test_server_hides_solaras_badge(monkeypatch):
    monkeypatch.delenv("SOLARA_THEME_SHOW_BANNER", raising=False)
    _, env = server.server_command()
    assert env["SOLARA_THEME_SHOW_BANNER"] == "false"
    monkeypatch.setenv("SOLARA_THEME_SHOW_BANNER", "true")
    assert server.server_command()[1]["SOLARA_THEME_SHOW_BANNER"] == "true"


def test_lever_bounds_follow_the_schema():
    rows = {r["path"]: r for r in parameters()}
    for lever in lv.LEVERS:
        low, high, is_int = lv.lever_bounds(lever)
        assert (low, high) == (rows[lever.path]["low"], rows[lever.path]["high"])
        assert is_int == (rows[lever.path]["kind"] == "integer")


def test_lever_bounds_follow_the_cross_field_rules():
    # Three sponsors, two of which fly: at least two foreign air forces.
    data = {
        "factions": [{"name": "rebels"}],
        "sponsors": [
            {"name": "a", "clients": ["government"]},
            {"name": "b", "clients": ["rebels"]},
            {"name": "c", "clients": ["rebels"], "air_force": False},
        ],
        "deconfliction": {"air_forces": 3},
    }
    scenario = validate(data)
    low, high, is_int = lv.lever_bounds(lv.LEVER_BY_KEY["air_forces"], scenario)
    assert (low, high, is_int) == (2, 20, True)
    values = lv.lever_values(scenario)
    assert lv.apply_levers(scenario, {**values, "air_forces": 2}).deconfliction.air_forces == 2
    with pytest.raises(ScenarioError):
        lv.apply_levers(scenario, {**values, "air_forces": 1})
    # The model itself refuses what the slider does not offer.
    with pytest.raises(ScenarioError):
        validate(apply_override(data, "deconfliction.air_forces", 1))


def test_apply_levers(monitored):
    scenario = monitored
    values = lv.lever_values(scenario)
    same = lv.apply_levers(scenario, values)
    assert same.monitors.coverage == scenario.monitors.coverage
    changed = lv.apply_levers(scenario, {**values, "entanglement": 0.5, "monitoring": False})
    assert changed.monitors is None
    mean = sum(f.entanglement for f in changed.factions) / len(changed.factions)
    assert mean == pytest.approx(0.5, abs=1e-6)
    # The most entangled faction stays the most entangled.
    order = [f.name for f in sorted(scenario.factions, key=lambda f: f.entanglement)]
    assert order == [f.name for f in sorted(changed.factions, key=lambda f: f.entanglement)]
    for bad in ({"coverage": 1.5}, {"lead_time": 91}, {"air_forces": 2.5}, {"nope": 1}):
        with pytest.raises(ScenarioError):
            lv.apply_levers(scenario, bad)


def _positions(lever, scenario):
    low, high, is_int = lv.lever_bounds(lever, scenario)
    return (low, (low + high) // 2 if is_int else (low + high) / 2, high)


# Levers that set one field (the others set an average, clipped to 0-1 per actor).
EXACT = ("coverage", "loophole_width", "deconfliction", "air_forces", "lead_time")
SIMULATED = ("truce", "government", "factions", "excluded", "sponsors", "monitors", "deconfliction")


def _slider_settings(keys=None, middle=True, switch=True):
    """(scenario, lever, value, monitoring, applied) for every bundled scenario the page offers."""
    for path in scenario_files(scenario_dir()):
        base = load_scenario(path)
        for lever in lv.LEVERS:
            if keys and lever.key not in keys:
                continue
            low, mid, high = _positions(lever, base)
            for value in (low, mid, high) if middle else (low, high):
                for monitoring in (True, False) if switch else (base.monitors is not None,):
                    levers = {**lv.lever_values(base), lever.key: value, "monitoring": monitoring}
                    yield base, lever, value, monitoring, lv.apply_levers(base, levers)


@pytest.mark.slow
def test_every_slider_position_runs():
    # Every bundled scenario, every lever at its minimum, middle and maximum,
    # the monitoring switch on and off: what a slider move does on the page
    # (apply_levers, a new live truce, Step, the banner and the log) works.
    # The charts are drawn in the next test (plotly is too slow for all ~600).
    seen = 0
    for _base, lever, value, monitoring, scenario in _slider_settings():
        assert lv.lever_values(scenario)["monitoring"] is monitoring
        if lever.key in EXACT and (monitoring or lever.key != "coverage"):
            assert lv.lever_values(scenario)[lever.key] == pytest.approx(value)
        truce = truces.LiveTruce(truces.TruceSetup(scenario))
        truces.status(truce)
        for _ in range(10):
            if not truce.running:
                break
            truce.step()
        truces.status(truce)
        truces.log_lines(truce.trace_tables()[1], scenario)
        seen += 1
    assert seen == 2 * 3 * len(lv.LEVERS) * len(scenario_files(scenario_dir()))


@pytest.mark.slow
def test_slider_ends_draw_every_chart():
    # The charts at the ends of the sliders that change what they draw: the
    # lead time (0: nothing recorded before day 1) and the foreign air forces
    # (from the sponsors that fly to the schema's maximum), for every bundled
    # scenario; the same truce is drawn once.
    drawn = set()
    for _base, _lever, _value, _monitoring, scenario in _slider_settings(
        ("lead_time", "air_forces"), middle=False, switch=False
    ):
        key = scenario.model_dump_json(include=set(SIMULATED))
        if key not in drawn:
            drawn.add(key)
            _draw_the_page(scenario)
    assert len(drawn) > 10


def _draw_the_page(scenario):
    truce = truces.LiveTruce(truces.TruceSetup(scenario))
    assert "(day 0)" in figures.timeline_figure(truce).layout.title.text  # before Step
    for _ in range(20):
        if not truce.running:
            break
        truce.step()
    assert f"(day {truce.day})" in figures.timeline_figure(truce).layout.title.text
    runs = truces.ensemble_runs(scenario, replicates=8, seed=1)
    fig = figures.ensemble_figure(runs, runs)
    assert len(fig.data) > 0
    assert truces.ensemble_sentence(runs, runs).endswith("%)")


# --------------------------------------------------------------------------- issue 16


def test_levers_query_round_trip(monitored):
    values = {**lv.lever_values(monitored), "coverage": 0.3, "lead_time": 0, "monitoring": False}
    query = lv.levers_to_query(values)
    back, ignored = lv.levers_from_query(monitored, query)
    assert ignored == []
    assert back["monitoring"] is False and back["lead_time"] == 0
    for lever in lv.LEVERS:
        assert back[lever.key] == pytest.approx(values[lever.key], abs=1e-4), lever.key
    # The settings read back are ones the page can apply.
    lv.apply_levers(monitored, back)


def test_levers_query_ignores_what_it_cannot_use(monitored):
    # A hand-edited link: out of range, not a number, not whole, infinite, unknown flag.
    query = {
        "coverage": "1.5",
        "lead_time": "2.5",
        "air_forces": "many",
        "fatigue": "inf",
        "monitoring": "maybe",
        "loophole_width": "0.1",
        "unrelated": "x",
    }
    values, ignored = lv.levers_from_query(monitored, query)
    assert sorted(ignored) == sorted(
        ["coverage=1.5", "lead_time=2.5", "air_forces=many", "fatigue=inf", "monitoring=maybe"]
    )
    own = lv.lever_values(monitored)
    assert values == {**own, "loophole_width": 0.1}


def _short(scenario):
    return apply_override(scenario.model_dump(), "truce.horizon", 40)


def test_ensemble_progress_first_curve_then_all(baseline, monkeypatch):
    # Without worker processes (TRUCE_APP_WORKERS=0) the chunks run in this
    # thread; the last table is the ensemble_runs table, row for row.
    monkeypatch.setenv("TRUCE_APP_WORKERS", "0")
    scenario = validate(_short(baseline))
    steps = list(truces.ensemble_progress(scenario, seed=5))
    assert [len(s) for s in steps] == [50, truces.ENSEMBLE_SIZE]
    assert steps[0].equals(steps[1].iloc[:50])
    assert steps[1].equals(truces.ensemble_runs(scenario, seed=5))
    assert list(steps[1]["replicate"]) == list(range(truces.ENSEMBLE_SIZE))


def test_ensemble_progress_stops_when_no_longer_wanted(baseline, monkeypatch):
    # A newer release makes the older request unwanted: nothing more is drawn from it.
    # Both chunks are asked for at once (they run on the two cores side by side).
    monkeypatch.setenv("TRUCE_APP_WORKERS", "0")
    asked = []
    real = truces._chunk

    def counting(*args):
        asked.append(args[4])
        return real(*args)

    monkeypatch.setattr(truces, "_chunk", counting)
    scenario = validate(_short(baseline))
    assert list(truces.ensemble_progress(scenario, seed=5, wanted=lambda: False)) == []
    assert asked == [0, 1]
    asked.clear()
    assert len(list(truces.ensemble_progress(scenario, seed=5))) == 2 and asked == [0, 1]


@pytest.mark.slow
def test_workers_take_the_urgent_first_and_skip_the_cancelled(monkeypatch):
    # One worker, busy: what waits is handed to it by priority (a first curve before
    # the rest of another ensemble), and a task cancelled while waiting never runs.
    import time

    from sim.app import workers

    with _worker_pool(monkeypatch, 1):
        busy = workers.submit(workers.LATER, time.sleep, 1.0)
        later = workers.submit(workers.LATER, time.time)
        urgent = workers.submit(workers.URGENT, time.time)
        dropped = workers.submit(workers.URGENT, time.time)
        assert dropped.cancel()
        assert busy.result(timeout=120) is None
        assert urgent.result(timeout=60) < later.result(timeout=60)
        assert dropped.cancelled()


@pytest.mark.slow
def test_shared_tasks_run_once_and_stop_when_nobody_waits(monkeypatch):
    # Issue 16: pages asking for the same work share one task. One worker, busy, so
    # that the asks wait: a page withdrawing leaves the task to the other page; the
    # result is kept for a later ask; a task every page withdrew never runs.
    from sim.app import workers

    with _worker_pool(monkeypatch, 1):
        busy = workers.submit(workers.LATER, time.sleep, 1.0)
        a = workers.submit_shared("k", workers.URGENT, time.time)
        b = workers.submit_shared("k", workers.URGENT, time.time)
        assert a is not b and a.cancel() and a.cancelled()
        assert not b.done()  # the other page still waits for it
        assert busy.result(timeout=120) is None
        ran = b.result(timeout=60)
        kept = workers.submit_shared("k", workers.URGENT, time.time)
        assert kept.done() and kept.result() == ran  # no second run
        busy = workers.submit(workers.LATER, time.sleep, 1.0)
        c = workers.submit_shared("j", workers.URGENT, time.time)
        d = workers.submit_shared("j", workers.URGENT, time.time)
        assert c.cancel() and d.cancel()  # nobody waits: withdrawn before it ran
        assert busy.result(timeout=60) is None
        after = time.time()
        again = workers.submit_shared("j", workers.URGENT, time.time)
        assert again.result(timeout=60) >= after  # run now: nothing had been kept


@pytest.mark.slow
def test_a_setting_asked_again_while_its_run_stops_runs_again(baseline, monkeypatch):
    # Issue 16: a slider moved away and back at once. The setting's run was asked to
    # stop (nobody wanted it); asked again before it had stopped, the page must get a
    # run of its own, not follow the stopping one to its end (None: no curve, ever).
    from sim.app import workers

    scenario = validate(_short(baseline))
    args = (workers.run_stoppable, scenario, 1, 20_000, 1, 50)  # seconds of work
    with _worker_pool(monkeypatch, 1):
        workers.warm_up()[0].result(timeout=180)
        first = workers.submit_shared("setting", workers.LATER, *args)
        entry = first.entry
        deadline = time.monotonic() + 60
        while not entry.task.running():
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.01)
        assert first.cancel()  # the page moved on: the run is asked to stop...
        again = workers.submit_shared("setting", workers.LATER, *args)  # ...and back
        assert entry.task.result(timeout=120) is None  # the old run stopped
        table = again.result(timeout=300)
        assert table is not None and len(table) == 20_000


def test_pages_share_the_truces_of_one_setting(baseline, monkeypatch):
    # Issue 16: two students asking for the same setting (or a page going back to one)
    # wait for one run of its truces; the curves are those each page would get alone.
    monkeypatch.setenv("TRUCE_APP_WORKERS", "0")
    runs: list[tuple[str, int]] = []
    real_chunk, real_first = truces.run_stoppable, truces.chunk_with_figure

    def chunk(*args):
        runs.append(("chunk", args[3]))
        return real_chunk(*args)

    def first(*args):
        runs.append(("first", args[3]))
        return real_first(*args)

    monkeypatch.setattr(truces, "run_stoppable", chunk)
    monkeypatch.setattr(truces, "chunk_with_figure", first)
    one = validate(_short(baseline))
    two = validate(apply_override(baseline.model_dump(), "truce.horizon", 30))
    pages = [truces.Ensembles(seed=5), truces.Ensembles(seed=5)]

    def show(page, scenario):
        curves = list(page.start(scenario).progress())
        page.finished(curves[-1])
        return curves

    alone = [show(page, one) for page in pages]
    assert runs == [("first", 0), ("chunk", 1)]  # the second page ran nothing
    assert [c.figure for c in alone[0]] == [c.figure for c in alone[1]]
    assert alone[1][-1].runs.equals(truces.ensemble_runs(one, seed=5))
    runs.clear()
    show(pages[0], two)
    back = show(pages[0], one)  # back to a setting: its truces kept, a new faint curve
    assert runs == [("first", 0), ("chunk", 1), ("first", 0)]
    assert back[-1].runs.equals(alone[0][-1].runs)
    assert back[-1].previous is not None and back[-1].figure != alone[0][-1].figure


def test_ensemble_job_draws_the_curves(baseline, monkeypatch):
    # The page's job: the 50 truces with their chart, then all 300 with theirs (the
    # previous setting faint in both); the tables are those of ensemble_runs.
    import json

    monkeypatch.setenv("TRUCE_APP_WORKERS", "0")
    scenario = validate(_short(baseline))
    previous = truces.ensemble_runs(scenario, seed=4)
    curves = list(truces.EnsembleJob(scenario, seed=5, previous=previous).progress())
    assert [len(c.runs) for c in curves] == [50, truces.ENSEMBLE_SIZE]
    assert curves[-1].runs.equals(truces.ensemble_runs(scenario, seed=5))
    for curve in curves:
        fig = json.loads(curve.figure)
        assert fig["layout"]["title"]["text"] == f"{len(curve.runs)} truces like this"
        names = {t.get("legendgroup") for t in fig["data"]}
        assert {"these settings", "previous settings"} <= names


@pytest.mark.slow
def test_ensemble_in_worker_processes_equals_in_thread(baseline, monkeypatch):
    # The page's worker processes (spawned, two of them) give the same truces
    # as this thread: the chunks' streams depend on (seed, chunk) alone.
    from sim.app import workers

    scenario = validate(_short(baseline))
    with _worker_pool(monkeypatch, 2):
        steps = list(truces.ensemble_progress(scenario, seed=9))
        assert workers.pool() is not None
    monkeypatch.setenv("TRUCE_APP_WORKERS", "0")
    assert steps[-1].equals(truces.ensemble_runs(scenario, seed=9))
    assert [len(s) for s in steps] == [50, truces.ENSEMBLE_SIZE]


def test_a_stoppable_chunk_is_the_runners_chunk(baseline):
    # The page's workers run chunks day by day (so that a newer release can stop them):
    # the same truces as the runner's run_one, column for column.
    from sim.app import workers
    from sim.experiment.runner import run_one

    scenario = validate(_short(baseline))
    assert workers.run_stoppable(scenario, 3, 20, 2, 40).equals(run_one(scenario, 3, 20, 2, 40))


def test_ensemble_figure_json_is_the_validated_figure(baseline):
    # The workers write the survival chart from its dictionary, without plotly's
    # validation: the JSON the browser gets is the validated go.Figure's.
    import json

    runs, previous = _ensemble(baseline), _ensemble(baseline, 30)
    for before in (None, previous):
        validated = json.loads(figures.ensemble_figure(runs, before).to_json())
        assert json.loads(figures.ensemble_json(runs, before)) == validated


def test_timeline_json_is_the_validated_figure():
    # Issue 16: the server draws the live truce's timeline every day from a figure
    # dictionary, without plotly's validation (70 ms of its CPU a day before): the JSON
    # the browser gets is the validated go.Figure's, before Step, during and after the
    # truce, with and without lead time, monitors and a collapse.
    import json

    seen: set[str] = set()
    for path in scenario_files()[:6]:
        truce = truces.LiveTruce(truces.TruceSetup(load_scenario(path)))
        for stop in (0, 1, 7, 10**6):
            while truce.running and truce.day < stop:
                truce.step()
            fig = figures.timeline_figure(truce)
            fig.update_layout(uirevision="timeline")
            assert json.loads(figures.timeline_json(truce)) == json.loads(fig.to_json())
            texts = " ".join(a.text for a in fig.layout.annotations)
            seen |= {k for k in ("before the start", "truce collapsed") if k in texts}
            seen |= {"coverage"} & {t.name.split()[-1] for t in fig.data if t.name}
    assert seen == {"before the start", "truce collapsed", "coverage"}  # every part drawn


@pytest.mark.slow
def test_a_newer_release_stops_the_running_batch(baseline, monkeypatch):
    # Issue 16: a fast run of slider releases queued stale work. With one worker, a
    # batch already running is asked to stop when cancelled: it gives up within a day
    # of the model (its result is None, not a table), so the newer setting's first
    # curve does not wait for it.
    from sim.app import workers

    with _worker_pool(monkeypatch, 1):
        workers.warm_up()[0].result(timeout=180)
        # 20,000 truces for a year: seconds of work, far more than the wait below (3,000
        # were ~0.5 s on the compiled day of issue 14's session 8: done before the cancel).
        stale = workers.submit(workers.LATER, workers.run_stoppable, baseline, 1, 20_000, 1, 50)
        deadline = time.monotonic() + 60
        while not stale.running():
            assert time.monotonic() < deadline, "the batch did not start"
            time.sleep(0.01)
        time.sleep(0.3)  # well into its days
        assert not stale.cancel()  # running: it cannot be withdrawn, only stopped
        newer = truces.EnsembleJob(validate(_short(baseline)), seed=5, figures=False)
        first = next(newer.progress())
        assert len(first.runs) == 50
        # The one worker had to be free for the newer curve: the stale batch had ended,
        # stopped (None), not finished.
        assert stale.done() and stale.result() is None
        newer.cancel()


def _serve_without_assets(tmp_path):
    import signal
    import socket
    import subprocess
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SOLARA_ASSETS_PROXY_CACHE_DIR": str(tmp_path / "empty")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "app", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    page = r.read().decode()
            except urllib.error.HTTPError as exc:
                assert exc.code == 503
                page = exc.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "no page within 60 s"
                time.sleep(0.3)
                continue
            break
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
    return page, err


def test_app_without_page_assets_says_what_to_do(tmp_path):
    # Issue 16: without Solara's page assets the page was blank and nothing said
    # why. `truce app` (the real command) says so in one error line, and the page
    # at its address says the same.
    page, err = _serve_without_assets(tmp_path)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    for text in (errors[0], page):
        assert "make app" in text and "tools/fetch-solara-assets" in text
        assert "solara-vuetify" in text
    assert "Traceback" not in err
    assert 'id="truce-assets-missing"' in page or "id='truce-assets-missing'" in page


def test_speed_sets_the_play_interval(baseline):
    # The page's speed control hands its interval to Mesa's controller: at a
    # 5 ms interval (the module default stays 300 ms) ▶ plays several days fast.
    assert components.SPEEDS["normal"] == components.PLAY_INTERVAL_MS
    assert components.SPEEDS["slow"] > components.SPEEDS["normal"] > components.SPEEDS["fast"]
    setup = truces.TruceSetup(baseline)
    model = solara.reactive(truces.LiveTruce(setup))
    interval = solara.reactive(5)
    box, rc = solara.render(components.TruceControls(model, setup, interval), handle_error=False)
    try:
        _button(rc, "▶").click()
        _wait(lambda: model.value.day >= 3, timeout=20)
        _button(rc, "❚❚").click()
    finally:
        rc.close()
