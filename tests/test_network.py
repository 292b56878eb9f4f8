"""The network of the actors on the classroom page (issue 16): layout, strikes, blame, counters.

The network is read from a recorded model (:mod:`sim.present.network`) and drawn as a
plotly figure (:mod:`sim.app.network`). These tests check the figure against the
scenario (who is present in which theatre), against the model's event log (the day's
strikes, blame that went to the wrong party) and against the model's results (the
counters). The page in a real browser is in ``test_app_browser.py``
(``test_network_appears_and_updates_on_step``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import solara
from conftest import SCENARIOS

from sim.app import network as app_network
from sim.app.truces import LiveTruce, TruceSetup
from sim.model.model import CeasefireModel
from sim.present import network as net
from sim.scenario.loading import load_scenario

ZONES = SCENARIOS / "zones.yaml"
#: Days checked one by one against the event log (each check reads the whole log; the
#: first months hold the land grab's aftermath, retaliations and the first calm days).
CHECKED_DAYS = 90


def _nodes_in_figure(fig) -> dict[str, tuple[float, float]]:
    """Node key -> (x, y), as the figure draws the actors."""
    out = {}
    for trace in fig.data:
        if trace.meta == "nodes":
            for key, x, y in zip(trace.customdata, trace.x, trace.y, strict=True):
                out[key] = (x, y)
    return out


def _lines(fig, meta: str) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The (start, end) points of the figure's lines of one kind (``strike``, ``blame``)."""
    return [((t.x[0], t.y[0]), (t.x[-1], t.y[-1])) for t in fig.data if t.meta == meta and t.x]


def _col(table: pd.DataFrame, name: str, default) -> pd.Series:
    """A column of the event log, or ``default`` where the log has none yet (no act so far)."""
    if name in table:
        return table[name].fillna(default)
    return pd.Series(default, index=table.index)


def _near(point: tuple[float, float], node: tuple[float, float], within: float = 0.3) -> bool:
    return math.dist(point, node) <= within


# ------------------------------------------------------------------ layout


def test_figure_places_each_party_in_its_theatre_band():
    scenario = load_scenario(ZONES)
    model = CeasefireModel(scenario, replicates=1, seed=1, record=True)
    fig = app_network.network_figure(model)
    drawn = _nodes_in_figure(fig)
    theatres = scenario.theatre_list
    n_t = len(theatres)
    assert n_t == 3
    excluded = [g.name for g in scenario.excluded]
    for t, theatre in enumerate(theatres):
        # Band t from the top: n_t - t - 1 <= y < n_t - t (the layout's documented rule).
        low, high = n_t - t - 1, n_t - t
        present = set(theatre.parties or [p.name for p in scenario.principals])
        present |= set(excluded if theatre.excluded is None else theatre.excluded)
        in_band = {
            key.split("@")[0]
            for key, (x, y) in drawn.items()
            if low <= y < high and app_network.BAND_X[0] < x < app_network.BAND_X[1]
        }
        assert in_band == present, theatre.name  # every party there, and nobody else
        for name in present:
            x, y = drawn[f"{name}@{theatre.name}"]
            assert low < y < high
    # Columns by side: the government's side left, the factions' right, the excluded between.
    for key, (x, _) in drawn.items():
        name = key.split("@")[0]
        if name == scenario.government.name:
            assert x == net.GOVERNMENT
        elif name in {f.name for f in scenario.factions}:
            assert x == net.FACTIONS
        elif name in excluded:
            assert x == net.EXCLUDED
    for sponsor in scenario.sponsors:
        x, y = drawn[sponsor.name]
        backs_government = scenario.government.name in sponsor.clients
        assert x == (net.GOV_SPONSORS if backs_government else net.FACTION_SPONSORS)
        assert not app_network.BAND_X[0] < x < app_network.BAND_X[1]  # in no theatre's band
    # Deterministic: the same scenario is laid out the same whatever the truce.
    other = CeasefireModel(scenario, replicates=1, seed=2, record=True)
    assert _nodes_in_figure(app_network.network_figure(other)) == drawn


def test_one_theatre_scenario_has_one_band_and_the_mission():
    scenario = load_scenario(SCENARIOS / "monitored.yaml")
    lay = net.layout(scenario)
    assert len(lay.bands) == 1
    assert lay.nodes[net.MISSION].y > lay.bands[0].high  # above the band
    assert lay.nodes[net.AIR_FORCES].y < lay.bands[0].low  # below it
    names = {node.name for node in lay.nodes.values()}
    assert names == set(scenario.party_names) | {net.MISSION}
    unmonitored = net.layout(load_scenario(SCENARIOS / "baseline.yaml"))
    assert net.MISSION not in unmonitored.nodes


# ------------------------------------------------------------------ trust, strikes, blame


def test_trust_edges_are_the_models_trust_table():
    model = CeasefireModel(load_scenario(ZONES), replicates=1, seed=3, record=True)
    for _ in range(10):
        model.step()
    pairs = net.trust_pairs(model)
    assert len(pairs) == len(model.scenario.factions)  # government and each faction
    names = list(model.party_names)
    for pair in pairs:
        victim, blamed = names.index(pair.a), names.index(pair.b)
        assert pair.a_in_b == model.trust[model.edge_index[victim, blamed], 0]
        assert pair.b_in_a == model.trust[model.edge_index[blamed, victim], 0]
    fig = app_network.network_figure(model)
    colours = {t.line.color for t in fig.data if t.meta == "trust"}
    expected = {app_network._trust_color(v) for p in pairs for v in (p.a_in_b, p.b_in_a)}
    assert colours == expected


def _misattributed(events: pd.DataFrame) -> pd.DataFrame:
    """Acts blamed on a party other than their culprit, not owned up to (E10's rule)."""
    acts = events[events["kind"].isin(["violation", "retaliation"]) & (events["day"] > 0)]
    blamed = acts["blamed"].fillna("")
    culprit = acts["culprit"].fillna("")
    admitted = _col(acts, "admitted", False).astype(bool)
    return acts[(blamed != "") & (blamed != culprit) & ~admitted]


def _first_misattribution(scenario, seeds=range(50)) -> tuple[int, int, pd.DataFrame]:
    for seed in seeds:
        model = CeasefireModel(scenario, replicates=1, seed=seed, record=True).run()
        wrong = _misattributed(model.trace_tables()[1])
        if not wrong.empty:
            day = int(wrong["day"].min())
            return seed, day, wrong[wrong["day"] == day]
    pytest.fail("no misattributed act in 50 seeds")


@pytest.mark.parametrize("name", ["baseline.yaml", "zones.yaml"])
def test_a_misattributed_strike_draws_blame_to_the_wrong_party(name):
    scenario = load_scenario(SCENARIOS / name)
    seed, day, wrong = _first_misattribution(scenario)
    model = CeasefireModel(scenario, replicates=1, seed=seed, record=True)
    while model.day < day - 1:
        model.step()
    assert not _lines(app_network.network_figure(model), "blame")  # none the day before
    model.step()
    fig = app_network.network_figure(model)
    drawn = _nodes_in_figure(fig)
    blames = _lines(fig, "blame")
    assert len(blames) == len(wrong)
    lay = net.layout(scenario)
    for act in wrong.to_dict("records"):
        theatre = act.get("theatre") if isinstance(act.get("theatre"), str) else None
        victim = lay.of(act["target"], theatre).key
        blamed = lay.of(act["blamed"], theatre).key
        assert act["blamed"] != act["culprit"]  # the wrong party: not who did it
        assert any(
            _near(start, drawn[victim]) and _near(end, drawn[blamed]) for start, end in blames
        ), f"no blame line from {victim} to {blamed} on day {day} (seed {seed})"


def test_strikes_are_the_days_acts():
    model = CeasefireModel(load_scenario(ZONES), replicates=1, seed=3, record=True)
    lay = net.layout(model.scenario)
    seen = 0
    while model.running and model.day < 40:
        model.step()
        events = model.trace_tables()[1]
        today = events[(events["day"] == model.day) & events["kind"].isin(net.ACT_KINDS)]
        fig = app_network.network_figure(model, lay=lay)
        drawn = _nodes_in_figure(fig)
        strikes = _lines(fig, "strike")
        assert len(strikes) == len(today)  # every act of the day, and only those
        for act in today.to_dict("records"):
            a = drawn[lay.of(act["actor"], act["theatre"]).key]
            b = drawn[lay.of(act["target"], act["theatre"]).key]
            assert any(_near(s, a) and _near(e, b) for s, e in strikes)
        seen += len(today)
    assert seen > 20  # the truce had acts to draw


# ------------------------------------------------------------------ counters


def _access_day_from_log(model: CeasefireModel, events: pd.DataFrame) -> bool:
    """Whether the model's current day was a day of humanitarian access, from the event log.

    E10b's calm in every theatre: a theatre's day is calm when its violations (acts'
    intensities) are at most ``access_threshold`` while the theatre and the truce hold at
    the day's tally (a theatre or a truce that falls on a day still had that day's tally).
    """
    day, names = model.day, model.theatre_names
    threshold = model.scenario.constants.access_threshold
    earlier = events[events["day"] < day]
    if (earlier["kind"] == "collapse").any():
        return False
    fallen = set(_col(earlier[earlier["kind"] == "theatre_collapse"], "theatre", ""))
    today = events[(events["day"] == day) & events["kind"].isin(net.ACT_KINDS)]
    where = _col(today, "theatre", names[0])
    intensity = _col(today, "intensity", 1)
    return all(t not in fallen and intensity[where == t].sum() <= threshold for t in names)


@pytest.mark.parametrize(("name", "seed"), [("zones.yaml", 3), ("baseline.yaml", 0)])
def test_counters_equal_the_models_records(name, seed):
    model = CeasefireModel(load_scenario(SCENARIOS / name), replicates=1, seed=seed, record=True)
    access = 0
    while model.running and model.day < CHECKED_DAYS:
        model.step()
        c = net.counters(model)
        events = model.trace_tables()[1]
        acts = events[events["kind"].isin(net.ACT_KINDS) & (events["day"] > 0)]
        intensity = _col(acts, "intensity", 1)
        assert c.day == model.day
        assert c.violations == int(intensity.sum())
        wrong = _col(acts, "wrong", False).astype(bool) & (acts["kind"] == "retaliation")
        assert c.wrong_retaliations == int(intensity[wrong].sum())
        access += _access_day_from_log(model, events)
        assert c.access_days == access
    model.run()  # to the end: the counters are then the truce's row of the results
    row = model.results().iloc[0]
    c = net.counters(model)
    assert (c.violations, c.wrong_retaliations, c.access_days) == (
        row["violations"],
        row["wrong_retaliations"],
        row["access_days"],
    )
    text = app_network.counters_text(c)
    for number in (c.violations, c.wrong_retaliations, c.access_days):
        assert f"{number} " in text


def test_theatre_bands_show_collapse_and_calm():
    model = CeasefireModel(load_scenario(ZONES), replicates=1, seed=3, record=True)
    states: set[str] = set()
    while model.running and model.day < CHECKED_DAYS:
        model.step()
        snap = net.snapshot(model)
        r0 = model.trace_replicate
        for t, name in enumerate(model.theatre_names):
            expected = "calm" if model.calm_today[t, r0] else "holding"
            if not model.theatre_alive[t, r0] or model.collapse_day[r0] > 0:
                expected = "collapsed"
            assert snap.theatres[name] == expected
            states.add(expected)
    assert {"calm", "holding"} <= states


def test_panel_renders_the_counters_and_the_figure(baseline, monkeypatch):
    model = solara.reactive(LiveTruce(TruceSetup(baseline)))
    for _ in range(5):
        model.value.step()
    monkeypatch.setattr(app_network, "SHOW_AT_START", True)
    box, rc = solara.render(app_network.NetworkPanel(model.value), handle_error=False)
    try:
        text = app_network.counters_text(net.counters(model.value))
        assert text.startswith("Day 5 ")
        html = str(box)
        assert "truce-counters" in html or rc.find(children=[text]).widgets
    finally:
        rc.close()


def test_withdrawn_mission_is_drawn_withdrawn():
    scenario = load_scenario(SCENARIOS / "monitored.yaml", {"monitors.risk_tolerance": 1})
    for seed in range(40):
        model = CeasefireModel(scenario, replicates=1, seed=seed, record=True).run()
        if model.mission.withdrawn[0]:
            break
    else:
        pytest.fail("no withdrawal in 40 seeds at risk tolerance 1")
    assert net.snapshot(model).mission is False
    fig = app_network.network_figure(model)
    mission = next(t for t in fig.data if t.meta == "nodes" and net.MISSION in t.customdata)
    assert mission.marker.color == app_network.NODE_FILL["withdrawn"]
    assert np.isfinite([p.a_in_b for p in net.trust_pairs(model)]).all()
