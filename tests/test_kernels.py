"""The day's fast paths change no number.

- Rows of a stream that nobody reads (an absent mechanism's) are jumped over, not
  drawn: every number that is read is the one the full layout would give, results
  are identical to drawing everything, and a lever that switches a mechanism on or
  off moves no other draw.
- The compiled day (numba, when installed: :mod:`sim.model._compiled`) gives the NumPy
  path's results, day-by-day sums and final state bit for bit, on random scenarios
  (missions with and without delayed reports, mediators, spoilers of every kind,
  theatres with guarantees and end rules, shifts, signing and offensives).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from sim.model import agents, kernels
from sim.model.model import CeasefireModel
from sim.model.streams import make_streams
from sim.scenario.loading import resolve_scenario
from sim.scenario.schema import ORIGINS

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"


_DRAW = agents.Draw


def _draw_everything(phase: str, stream: str, shape: tuple[int, ...], read: bool = True):
    """A ``Draw`` that is always read: the full layout, as before rows were skipped."""
    return _DRAW(phase, stream, shape, True)


def _everything_drawn(*args, **kwargs) -> CeasefireModel:
    with mock.patch.object(agents, "Draw", _draw_everything):
        return CeasefireModel(*args, **kwargs)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"constants.contrition": 0.4, "government.ground_tempo": 1.0},
        {"theatres": [{"name": "front", "joint_commission": 0.5}]},
    ],
    ids=["mechanisms-absent", "contrition-and-ground", "commission"],
)
def test_skipping_unread_rows_changes_no_result(baseline, overrides):
    """Results with the unread rows skipped equal those with every row drawn."""
    scenario = resolve_scenario(baseline, {"truce.horizon": 150, **overrides})
    skipped = CeasefireModel(scenario, replicates=300, seed=11, collect=False)
    full = _everything_drawn(scenario, replicates=300, seed=11, collect=False)
    drawn = sum(plan.buffer.shape[0] for plan in skipped._draws)
    assert drawn <= sum(plan.buffer.shape[0] for plan in full._draws)
    pd.testing.assert_frame_equal(skipped.run().results(), full.run().results())


def test_every_read_number_is_the_full_layouts(baseline):
    """Day by day, the numbers drawn equal the read rows of the full layout from fresh streams."""
    model = CeasefireModel(baseline, replicates=40, seed=3, collect=False)
    assert any(not read for plan in model._draws for _, read in plan.segments)
    fresh = make_streams(model.root_seed, model.chunk)
    for _ in range(5):
        model.step()
        for plan in model._draws:
            rows = sum(n for n, _ in plan.segments)
            everything = fresh[plan.stream].random((rows, model.replicates))
            read = np.concatenate(
                [
                    np.full(n, read)
                    for n, read in plan.segments  # which rows of the layout are read
                ]
            )
            np.testing.assert_array_equal(plan.buffer, everything[read])
    # The streams nobody reads at all are not drawn, and are not handed out.
    assert {plan.stream for plan in model._draws} < set(model.streams)


@pytest.mark.parametrize(
    "lever",
    [
        {"constants.contrition": 0.5},
        {"government.ground_tempo": 2.0},
        {"theatres": [{"name": "front", "joint_commission": 0.7}]},
        {"monitors": {"coverage": 0.6, "detection": 0.8, "attribution": 0.8}},
    ],
    ids=["contrition", "ground", "commission", "mission"],
)
def test_a_lever_moves_no_other_streams_draws(baseline, lever):
    """Switching a mechanism on reads new numbers; every number read in both arms is equal."""
    off = CeasefireModel(baseline, replicates=50, seed=8, collect=False)
    on = CeasefireModel(baseline, replicates=50, seed=8, collect=False, **lever)
    shared = 0
    for _ in range(20):
        off.step()
        on.step()
        for a, b in zip(off.agents, on.agents, strict=True):
            assert a.u.keys() <= b.u.keys()
            for name in a.u:
                np.testing.assert_array_equal(a.u[name], b.u[name])
                shared += 1
    assert shared > 0
    extra = sum(plan.buffer.shape[0] for plan in on._draws) - sum(
        plan.buffer.shape[0] for plan in off._draws
    )
    assert extra > 0  # the lever's mechanism does read numbers of its own


def test_a_compacted_chunk_reads_its_own_columns(baseline):
    """After ended truces are dropped, each live truce still reads its column of the draw."""
    scenario = resolve_scenario(baseline, {"truce.horizon": 120})
    compacting = CeasefireModel(scenario, replicates=300, seed=4, collect=False)
    whole = CeasefireModel(scenario, replicates=300, seed=4, collect=True)  # never compacts
    compacted = 0
    while compacting.running:
        ids = compacting.ids.copy()  # the columns live this morning (the day's draw)
        compacting.step()
        whole.step()
        compacted += len(ids) < compacting.replicates
        for a, b in zip(compacting.agents, whole.agents, strict=True):
            for name in a.u:
                np.testing.assert_array_equal(a.u[name], b.u[name][..., ids])
    assert compacted > 0


def test_the_engine_switch_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRUCE_ENGINE", "numpy")
    assert kernels.engine() == "numpy"
    monkeypatch.setenv("TRUCE_ENGINE", "fortran")
    with pytest.raises(ValueError, match="TRUCE_ENGINE"):
        kernels.engine()


# ---------------------------------------------------------------- compiled == NumPy


def _compiled():
    """The compiled kernels, or skip where numba is not installed."""
    pytest.importorskip("numba", reason="numba not installed: the NumPy path alone runs")
    return kernels.compiled()


@pytest.mark.parametrize("case", range(40))
def test_compiled_pick_equals_numpy_on_random_weights(case):
    """Random shapes, weights with zeros and all-zero columns, uniforms at the ends."""
    from sim.model import decisions as dec

    compiled = _compiled()
    rng = np.random.default_rng(case)
    a = int(rng.integers(1, 6))
    shape = tuple(int(n) for n in rng.integers(1, 40, size=int(rng.integers(1, 3))))
    weights = rng.random((a, *shape)) * (rng.random((a, *shape)) < 0.7)
    if case % 4 == 0:
        weights[..., 0] = 0.0  # a column with every weight 0: the uniform choice
    u = rng.random(shape)
    u.flat[0] = 0.0
    u.flat[-1] = np.nextafter(1.0, 0.0)
    np.testing.assert_array_equal(compiled.pick_weighted(weights, u), dec.pick_weighted(weights, u))


@pytest.mark.parametrize("case", range(20))
def test_compiled_tally_and_counts_equal_numpy_on_random_acts(case):
    compiled = _compiled()
    rng = np.random.default_rng(100 + case)
    n, r = int(rng.integers(1, 40)), int(rng.integers(1, 300))
    n_t, n_o, n_parties, n_principals = int(rng.integers(1, 4)), 5, 9, 4
    args = (
        rng.random((n, r)) < rng.random(),  # fired
        rng.integers(0, n_o, (n, r)),
        rng.integers(0, n_t, (n, r)),
        rng.integers(1, 6, (n, r)),  # weights: 1 or a war tempo
        rng.integers(0, n_parties, (n, r)),
        rng.integers(0, n_principals, (n, r)),
        rng.random(n) < 0.3,  # retaliation rows
        rng.random((n, r)) < 0.2,
        rng.random((n, r)) < 0.5,
        rng.random((n, r)) < 0.3,
        n_t,
        n_o * n_t,
        n_parties,
        n_principals,
    )
    for got, expected in zip(compiled.tally(*args), kernels.tally_numpy(*args), strict=True):
        assert got.dtype == expected.dtype == np.int64
        np.testing.assert_array_equal(got, expected)
    values, cols = args[4][args[0]], np.nonzero(args[0])[1]
    w = args[3][args[0]]
    flat = np.bincount(values * r + cols, weights=w, minlength=n_parties * r)
    expected_counts = flat.reshape(n_parties, r).astype(np.int64)
    np.testing.assert_array_equal(compiled.count_at(values, cols, w, n_parties, r), expected_counts)


LEVERS = {  # numeric levers of the bundled scenarios, and the ranges drawn from
    "truce.loophole_width": (0.0, 1.0),
    "deconfliction.level": (0.0, 1.0),
    "constants.contrition": (0.0, 0.8),
    "constants.trust_loss": (0.05, 0.6),
    "constants.spill_over": (0.0, 0.5),
    "constants.hostility_threshold": (0.0, 0.3),
    "constants.consolidation_rate": (0.0, 0.05),
    "constants.withdrawal_trust": (0.0, 0.2),
    "government.ground_tempo": (0.0, 2.0),
    "government.strength": (0.0, 1.0),
    "government.rejection": (0.0, 0.3),
    "government.conditional": (0.0, 0.6),
    "government.aims": (0.3, 0.7),  # lower: every truce ends in an offensive on day 1
}

#: Missions drawn from: verified reports delayed or not, attacked until they leave.
MISSIONS = [
    None,
    {"coverage": 0.6, "detection": 0.8, "attribution": 0.7, "verification_delay": 0},
    {"coverage": 0.9, "detection": 0.9, "attribution": 0.5, "verification_delay": 2},
    {"coverage": 0.4, "detection": 0.6, "attribution": 0.9, "risk_tolerance": 1},
]


FILES = ["baseline", "monitored", "zones", "mediation", "operational_pause"]
SPOILERS = [None, "total", "greedy", "limited"]
END_RULES = ["first", "share", "withdrawal"]

#: How many random scenarios the compiled day is checked on (the first FAST_CASES in the
#: quick suite). Their mechanisms are laid out by the case number (:func:`_features`) so
#: that these few reach every one of them (``test_the_cases_reach_every_mechanism``):
#: 40 scenarios drawn at random did no better (7 of them ended on day 1).
CASES = 16
FAST_CASES = 6


def _features(case: int) -> dict:
    """The mechanisms of case ``case``: every value of each comes back every few cases."""
    return {
        "file": FILES[case % len(FILES)],
        "mission": MISSIONS[case % len(MISSIONS)],
        "mediator": case % 3 == 1,
        "spoiler": SPOILERS[(case // 2) % len(SPOILERS)],
        "inside": case % 4 == 3,  # the spoiler hosted by faction_b
        "theatres": case % 2 == 0,
        "end_rule": END_RULES[(case // 2) % len(END_RULES)],
        "shifts": case % 3 == 2,
    }


def _random_scenario(rng: np.random.Generator, case: int):
    """A bundled scenario with random levers and the mechanisms :func:`_features` gives."""
    from sim.scenario.loading import load_scenario

    f = _features(case)
    path = SCENARIO_DIR / f"{f['file']}.yaml"
    overrides: dict = {"truce.horizon": 90}
    for key, (low, high) in LEVERS.items():
        if rng.random() < 0.5:
            overrides[key] = float(rng.uniform(low, high))
    if f["mission"] is not None:
        overrides["monitors"] = f["mission"]
    if f["mediator"]:
        overrides["mediator"] = {"effort": 0.4, "settle_share": 0.3, "patience": 3}
    if f["spoiler"] is not None:  # an inside spoiler, or a greedy or limited one
        overrides["excluded"] = [
            {
                "name": "jihadists",
                "strength": 0.5,
                "spoiler_intent": 0.8,
                "kind": f["spoiler"],
                "inducement": 0.5,
                "host": "faction_b" if f["inside"] else None,
            }
        ]
    if f["theatres"]:  # theatres with guarantees on the ground, and an end rule
        overrides["theatres"] = [
            {
                "name": "north",
                "parties": ["government", "faction_a", "faction_b"],
                "guarantor_troops": float(rng.random()),
                "joint_commission": float(rng.random()),
            },
            {
                "name": "south",
                "parties": ["government", "faction_c"],
                "excluded": [],
                "buffer_zone": float(rng.random()),
            },
        ]
        overrides["truce.end.rule"] = f["end_rule"]
    if f["shifts"]:
        overrides["shifts"] = [
            {"name": "cut", "actor": "sponsor_o1", "field": "leverage", "by": -0.3, "day": 20},
            {"name": "surge", "actor": "faction_a", "field": "strength", "by": 0.2, "chance": 0.02},
        ]
    return load_scenario(path, overrides)


def _run(scenario, replicates: int, seed: int, name: str) -> tuple:
    """Results, day-by-day sums, final state and days compacted of one chunk under ``name``."""
    with mock.patch.dict(os.environ, {"TRUCE_ENGINE": name}):
        model = CeasefireModel(scenario, replicates=replicates, seed=seed, collect=False)
    assert model.kernel_engine == name
    compacted = 0
    while model.running:
        compacted += model.r < model.replicates
        model.step()
    state = {
        "trust": model.trust.copy(),
        "grudge": model.grudge.copy(),
        "strength": model.strength.copy(),
        "fatigue": model.fatigue.copy(),
    }
    return model.results(), model.daily(), state, compacted


@functools.cache
def _case(case: int) -> dict:
    """Case ``case`` run under each engine (once per process: two tests read it)."""
    rng = np.random.default_rng(1000 + case)
    scenario = _random_scenario(rng, case)
    seed = int(rng.integers(2**31))
    return {name: _run(scenario, 150, seed, name) for name in ("numpy", "numba")}


def _assert_same(got: tuple, expected: tuple) -> None:
    """Bit for bit: results and daily sums with ``check_exact``, final state arrays equal."""
    (res_c, daily_c, state_c, _), (res_n, daily_n, state_n, _) = got, expected
    pd.testing.assert_frame_equal(res_c, res_n, check_exact=True)
    pd.testing.assert_frame_equal(daily_c, daily_n, check_exact=True)
    for name in state_n:
        np.testing.assert_array_equal(state_c[name], state_n[name])


@pytest.mark.parametrize("case", range(FAST_CASES))
def test_compiled_day_equals_numpy_on_random_scenarios(case):
    """A random scenario: the same results, daily sums and final state, both engines.

    Random bundled scenario, levers, mission (with and without a verification delay),
    mediator, spoilers (inside, greedy, limited), theatres (guarantor troops, buffer
    zones, joint commissions, end rules) and shifts; 150 truces (wide enough to be
    compacted as they end), 90 days, a random seed. Bit for bit: ``assert_frame_equal``
    with its default tolerances would hide a last-bit difference, so floats are compared
    exactly (``check_exact``) and the final state arrays with ``assert_array_equal``.
    """
    _compiled()
    out = _case(case)
    _assert_same(out["numba"], out["numpy"])


@pytest.mark.slow
@pytest.mark.parametrize("case", range(FAST_CASES, CASES))
def test_compiled_day_equals_numpy_on_more_random_scenarios(case):
    """The same on the other cases (slow: a few tenths of a second of CPU each)."""
    test_compiled_day_equals_numpy_on_random_scenarios(case)


def test_the_cases_cover_every_mechanism_setting():
    """Every file, mission, spoiler kind, end rule, and each mechanism on and off, is among
    the cases, the quick ones included where they fit."""
    cases = [_features(case) for case in range(CASES)]
    for key, values in {
        "file": FILES,
        "mission": MISSIONS,
        "spoiler": SPOILERS,
        "end_rule": END_RULES,
        "mediator": [False, True],
        "inside": [False, True],
        "theatres": [False, True],
        "shifts": [False, True],
    }.items():
        for value in values:
            assert any(f[key] == value for f in cases), (key, value)
    # The quick cases alone have a mission, a mediator, theatres and shifts.
    quick = cases[:FAST_CASES]
    assert all(any(f[key] for f in quick) for key in ("mission", "mediator", "theatres"))
    assert any(f["shifts"] for f in quick) and any(f["spoiler"] for f in quick)


@pytest.mark.slow
def test_the_cases_reach_every_mechanism():
    """Run, the cases reach what the compiled day must get right: every cause of collapse
    and of violations, retaliations right and wrong, detection and attribution, offensives,
    a mission leaving, a mediator giving up, shifts, compaction; all but one case hold
    beyond day 1 (an offensive on day 1 in every truce is a case of its own, once)."""
    _compiled()
    results = []
    compacted = ended_on_day_1 = 0
    for case in range(CASES):
        res, daily, _, days_compacted = _case(case)["numpy"]
        ended_on_day_1 += daily["in_force"].iloc[1] == 0
        results.append(res)
        compacted += days_compacted > 0
    assert ended_on_day_1 <= 1
    every = pd.concat(results, ignore_index=True)
    causes = set(every["cause"].dropna())
    assert {"deliberate", "loophole", "accident", "spoiler", "indiscipline"} <= causes
    for column in [f"violations_{o}" for o in ORIGINS] + [
        "retaliations",
        "wrong_retaliations",
        "detected",
        "attributed",
        "escalation_days",
    ]:
        assert every[column].sum() > 0, column
    for column in ["offensive_day", "monitor_withdrawal_day", "mediator_exit_day"]:
        assert every[column].notna().any(), column
    assert any(c.startswith("shift_") and every[c].notna().any() for c in every.columns)
    assert every["theatres_collapsed"].max() >= 2  # a truce lost theatre after theatre
    assert compacted >= CASES // 3


def test_a_one_bit_change_in_the_compiled_day_is_caught():
    """The comparison sees a last-bit difference: the compiled day reading a table of
    trust losses one bit off ((1 - trust_loss) ** k, NumPy's) no longer equals NumPy."""
    _compiled()
    expected = _case(0)["numpy"]
    rng = np.random.default_rng(1000)
    scenario = _random_scenario(rng, 0)
    seed = int(rng.integers(2**31))
    plan = CeasefireModel._plan_kernels

    def one_bit_off(model):
        plan(model)
        powers = model._tables["powers"]
        powers[1:] = np.nextafter(powers[1:], 0.0)

    with mock.patch.object(CeasefireModel, "_plan_kernels", one_bit_off):
        got = _run(scenario, 150, seed, "numba")
    with pytest.raises(AssertionError):
        _assert_same(got, expected)


def test_the_compiled_day_falls_back_to_numpy_perception_the_same():
    """With a table of powers too short for the day, the compiled day perceives with NumPy,
    which reads the mission's and commissions' verdicts the observe kernel listed
    (``CeasefireModel._unlist``): the results are NumPy's still."""
    _compiled()
    plan, perceive = CeasefireModel._plan_kernels, CeasefireModel._perceive_numpy
    fallbacks = []

    def short_table(model):
        plan(model)
        model._tables["powers"] = model._tables["powers"][:2].copy()

    def counted(model):
        fallbacks.append(model.day)
        perceive(model)

    for case in (1, 2):  # both with a mission, so verdicts matter
        expected = _case(case)["numpy"]
        rng = np.random.default_rng(1000 + case)
        scenario = _random_scenario(rng, case)
        seed = int(rng.integers(2**31))
        with (
            mock.patch.object(CeasefireModel, "_plan_kernels", short_table),
            mock.patch.object(CeasefireModel, "_perceive_numpy", counted),
        ):
            got = _run(scenario, 150, seed, "numba")
        _assert_same(got, expected)
    assert len(fallbacks) > 10


def test_days_alternating_between_compiled_and_agents_days_give_numpy_s_results():
    """The compiled day holds the acts' integer fields narrow and the agents' day int64
    (:meth:`~sim.model.acts.Acts.cast`): switching between them every few days, across
    compactions, changes nothing, on two random cases (one compacted)."""
    _compiled()
    step = CeasefireModel.step
    held: dict[int, object] = {}
    widths: set = set()
    compacted = 0

    def alternating(model):
        if model.day % 7 in (3, 4, 5):  # the agents' day (as when a human plays)
            held[id(model)] = model._kernels
            model._kernels = None
        step(model)
        if held.get(id(model)) is not None:
            model._kernels = held.pop(id(model))
        widths.add(model.acts.actor.dtype)

    for case in (1, 2):
        expected = _case(case)["numpy"]
        rng = np.random.default_rng(1000 + case)
        scenario = _random_scenario(rng, case)
        seed = int(rng.integers(2**31))
        with mock.patch.object(CeasefireModel, "step", alternating):
            got = _run(scenario, 150, seed, "numba")
        _assert_same(got, expected)
        compacted += got[3]
    assert compacted > 0  # case 2 is compacted as its truces end
    assert widths == {np.dtype(np.int8), np.dtype(np.int64)}


def test_a_traced_run_is_the_same_under_both_engines(baseline, monkeypatch):
    """Tracing a replicate sends the agents' phases back to their methods: same trace, both."""
    _compiled()
    scenario = resolve_scenario(baseline, {"truce.horizon": 60})
    out = {}
    for name in ("numpy", "numba"):
        monkeypatch.setenv("TRUCE_ENGINE", name)
        model = CeasefireModel(scenario, replicates=80, seed=21, record=True, collect=False)
        model.run()
        out[name] = (model.results(), *model.trace_tables())
    assert len(out["numpy"][2]) > 0  # the traced truce has events to compare
    for got, expected in zip(out["numba"], out["numpy"], strict=True):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.parametrize("decision", ["hold_fire", "retaliate"])
def test_human_players_get_the_same_truce_under_both_engines(baseline, monkeypatch, decision):
    """A played truce runs the agents' own methods for their phases, compiled or not."""
    _compiled()
    from sim.model.players import Players

    scenario = resolve_scenario(baseline, {"truce.horizon": 60})
    out = {}
    for name in ("numpy", "numba"):
        monkeypatch.setenv("TRUCE_ENGINE", name)
        model = CeasefireModel(scenario, replicates=1, seed=5, record=True)
        Players(model, ["government", "faction_b"]).run(lambda role, day, choices: decision)
        out[name] = (model.results(), *model.trace_tables())
    for got, expected in zip(out["numba"], out["numpy"], strict=True):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_auto_compiles_a_lone_chunk_only_when_it_pays_for_numba(monkeypatch):
    """``auto`` keeps a lone small chunk (a one-off run of 1,000 truces over 90 days) on
    NumPy: numba is not even imported; a chunk whose saving pays for numba's load (1,000
    truces over 180 days) is compiled."""
    monkeypatch.setattr(kernels, "cached", lambda: True)  # numba's cache holds them
    monkeypatch.setenv("TRUCE_ENGINE", "auto")
    monkeypatch.setattr(kernels, "_asked", 0.0)  # a fresh process
    monkeypatch.setattr(kernels, "_expected", 0.0)
    assert kernels.saving(1000, 90) < kernels.LOAD_SECONDS <= kernels.saving(1000, 180)
    assert kernels.for_width(1000, 90) is None
    monkeypatch.setattr(kernels, "_asked", 0.0)
    long = kernels.for_width(1000, 180)
    assert (long is None) == (not kernels.numba_available())
    monkeypatch.setattr(kernels, "_asked", 0.0)
    assert kernels.for_width(300, 180) is None  # a few hundred truces save less than the load


def test_auto_compiles_narrower_chunks_once_a_process_has_run_enough(monkeypatch):
    """Chunk after chunk of 1,000 over 60 days: NumPy until the chunks run would have saved
    numba's load (:data:`kernels.LOAD_SECONDS`), then compiled; narrow chunks (a played or
    traced truce, ``mesa.batch_run``'s one-truce models) never count."""
    monkeypatch.setattr(kernels, "cached", lambda: True)  # numba's cache holds them
    monkeypatch.setenv("TRUCE_ENGINE", "auto")
    monkeypatch.setattr(kernels, "_asked", 0.0)
    monkeypatch.setattr(kernels, "_expected", 0.0)
    assert all(kernels.for_width(1, 60) is None for _ in range(1000))
    chunk = 1000
    engines = [kernels.for_width(chunk, 60) is not None for _ in range(4)]
    paid = [(k + 1) * kernels.saving(chunk, 60) >= kernels.LOAD_SECONDS for k in range(4)]
    assert engines == [p and kernels.numba_available() for p in paid]
    assert paid[0] is False and paid[-1] is True  # both engines are seen
    assert kernels.for_width(kernels.AUTO_CHUNK_WIDTH - 1, 60) is None


def test_a_process_told_its_work_compiles_narrow_chunks_from_the_first(monkeypatch):
    """A study's process told that its chunks, however narrow, save more than numba's load
    compiles them all; told less, and once the ``with`` block ends, it does not."""
    monkeypatch.setattr(kernels, "cached", lambda: True)  # numba's cache holds them
    monkeypatch.setenv("TRUCE_ENGINE", "auto")
    monkeypatch.setattr(kernels, "_asked", 0.0)
    monkeypatch.setattr(kernels, "_expected", 0.0)
    many = 400 * kernels.saving(30, 60)  # a sweep of 400 points of 30 truces, 60 days
    few = 2 * kernels.saving(30, 60)
    assert few < kernels.LOAD_SECONDS <= many
    with kernels.expecting(few):
        assert not kernels.would_compile(30, 60)
    with kernels.expecting(many):
        assert kernels.would_compile(30, 60) == kernels.numba_available()
        assert kernels.would_compile(1, 60) == kernels.numba_available()
    assert not kernels.would_compile(30, 60)
    assert kernels._expected == 0.0


def test_auto_compiles_only_work_that_pays_for_a_compilation_where_nothing_is_cached(
    monkeypatch,
):
    """Where numba's cache does not hold the kernels (:func:`kernels.cached`), loading them
    is compiling them (~30 s): ``auto`` compiles only work that saves more than that."""
    monkeypatch.setenv("TRUCE_ENGINE", "auto")
    monkeypatch.setattr(kernels, "_asked", 0.0)
    monkeypatch.setattr(kernels, "_expected", 0.0)
    interactive = 2 * kernels.saving(1000, 180)  # two forked workers share one load
    assert kernels.LOAD_SECONDS <= interactive < kernels.COMPILE_SECONDS
    available = kernels.numba_available()
    for cached in (True, False):
        monkeypatch.setattr(kernels, "cached", lambda cached=cached: cached)
        with kernels.expecting(interactive):
            assert kernels.would_compile(1000, 180) == (cached and available)
        with kernels.expecting(kernels.COMPILE_SECONDS):
            assert kernels.would_compile(1000, 180) == available
        with kernels.expecting(kernels.LOAD_SECONDS / 2):  # a chunk saving less than that
            assert not kernels.would_compile(1000, 90)


def test_the_cache_folder_is_where_numba_caches_the_kernels(tmp_path):
    """:func:`kernels.cached` looks where numba's cache locators put the kernels, beside
    the source or in ``NUMBA_CACHE_DIR`` (read by numba at its import: a fresh process)."""
    pytest.importorskip("numba", reason="numba not installed: no compiled day")
    code = (
        "from pathlib import Path\n"
        "from sim.model import _compiled, kernels\n"
        "print(kernels._cache_folder() == Path(_compiled.tally_day._cache._cache_path))\n"
    )
    assert _fresh_python_prints(code) == ["True"]
    assert _fresh_python_prints(code, NUMBA_CACHE_DIR=str(tmp_path)) == ["True"]


def test_a_compiled_run_to_its_end_marks_the_cache(monkeypatch, tmp_path):
    """A compiled run that ends writes the marker :func:`kernels.cached` reads; a change
    of the kernels' source (or of numba) makes it stale."""
    pytest.importorskip("numba", reason="numba not installed: no compiled day")
    monkeypatch.setattr(kernels, "_cache_folder", lambda: tmp_path)
    monkeypatch.setattr(kernels, "_marked", False)
    monkeypatch.setenv("TRUCE_ENGINE", "numba")
    assert not kernels.cached()
    model = CeasefireModel(None, replicates=4, seed=1, collect=False, **{"truce.horizon": 20})
    model.step()
    assert not (tmp_path / kernels.MARKER).exists()  # not before the run's end
    model.run()
    assert kernels.cached()
    # the marker (and the names of libraries loaded meanwhile: _compiled.SYMBOLS); no part
    left = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert kernels.MARKER in left and not [name for name in left if name.endswith(".part")]
    edited = tmp_path / "_compiled.py"
    edited.write_text(kernels._source().read_text() + "\n# edited\n")
    monkeypatch.setattr(kernels, "_source", lambda: edited)
    kernels._fingerprint.cache_clear()  # found once a process: as a process started after the edit
    try:
        assert not kernels.cached()
    finally:
        monkeypatch.undo()
        kernels._fingerprint.cache_clear()  # the real source's, for the tests after this one


def _fresh_python_prints(code: str, **env: str) -> list[str]:
    """The words ``code`` prints, run in a fresh interpreter (``env`` added to ours)."""
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def test_a_lone_small_chunk_does_not_import_numba():
    """A lone 1,000-truce chunk of 90 days (a one-off run's) under ``auto`` runs on NumPy:
    numba's import cost is not paid."""
    code = (
        "import sys\n"
        "from sim.model.model import CeasefireModel\n"
        f"m = CeasefireModel({str(SCENARIO_DIR / 'baseline.yaml')!r}, replicates=1000,"
        " collect=False, **{'truce.horizon': 90})\n"
        "m.step()\n"
        "print(m.kernel_engine, 'numba' in sys.modules)\n"
    )
    assert _fresh_python_prints(code, TRUCE_ENGINE="auto") == ["numpy", "False"]


def test_cached_kernels_load_without_numbas_registries_or_scipys_linear_algebra():
    """A fresh process loads the cached kernels without numba's compiler registries (its
    array functions are not imported, nor ``scipy.linalg``, which numba's BLAS check
    imports: ~0.1-0.2 s and ~0.4 s), gets the NumPy path's results from them, and can still
    compile a function that needs those registries, and import SciPy's linear algebra."""
    pytest.importorskip("numba", reason="numba not installed: no compiled day")
    code = (
        "import os, sys\n"
        "import numpy as np\n"
        "from sim.model.model import CeasefireModel\n"
        f"path = {str(SCENARIO_DIR / 'baseline.yaml')!r}\n"
        "def run(engine):\n"
        "    os.environ['TRUCE_ENGINE'] = engine\n"
        "    m = CeasefireModel(path, replicates=300, seed=7, collect=False).run()\n"
        "    return m.kernel_engine, m.results()\n"
        "engine, compiled = run('numba')\n"
        "light = not {'numba.np.arraymath', 'numba.typed.typeddict', 'scipy.linalg'}"
        " & set(sys.modules)\n"
        "_, reference = run('numpy')\n"
        "import numba\n"
        "cumsum = numba.njit(lambda a: np.cumsum(a))(np.arange(4.0))\n"
        "import scipy.linalg, scipy.stats\n"
        "print(engine, light, compiled.equals(reference), cumsum.tolist() == [0, 1, 3, 6],"
        " scipy.linalg.__name__)\n"
    )
    _fresh_python_prints(code)  # compiles what the cache lacks (as another test may have)
    assert _fresh_python_prints(code) == ["numba", "True", "True", "True", "scipy.linalg"]


def test_cached_kernels_load_without_parsing_their_bitcode():
    """A fresh process loads the kernels' cached libraries without parsing their LLVM bitcode
    (the names each defines kept beside numba's cache: ~40% of the load), gets the NumPy
    path's results from them, and a later compilation that links one of them (a new
    function calling a kernel's helper) parses it then, and runs."""
    pytest.importorskip("numba", reason="numba not installed: no compiled day")
    code = (
        "import os\n"
        "import llvmlite.binding as ll\n"
        "from sim.model.model import CeasefireModel\n"
        "parsed = []\n"
        "parse = ll.parse_bitcode\n"
        "ll.parse_bitcode = lambda data: parsed.append(len(data)) or parse(data)\n"
        f"path = {str(SCENARIO_DIR / 'monitoring.yaml')!r}\n"
        "def run(engine):\n"
        "    os.environ['TRUCE_ENGINE'] = engine\n"
        "    m = CeasefireModel(path, replicates=300, seed=11, collect=False).run()\n"
        "    return m.kernel_engine, m.results()\n"
        "engine, compiled = run('numba')\n"
        "loading = len(parsed)\n"
        "_, reference = run('numpy')\n"
        "import numba\n"
        "from sim.model import _compiled\n"
        "clipped = numba.njit(lambda x: _compiled._clip01(x) + 1.0)(2.5)\n"
        "print(engine, loading, compiled.equals(reference), clipped, len(parsed) > loading)\n"
    )
    _fresh_python_prints(code)  # the first process here may keep the names (or compile)
    assert _fresh_python_prints(code) == ["numba", "0", "True", "2.0", "True"]


def test_the_names_a_library_defines_are_kept_whole_or_not_at_all(tmp_path, monkeypatch):
    """The names kept for a library's bitcode are read back as written; a missing, torn or
    foreign file reads as not kept (numba's own load then), and an unwritable folder keeps
    nothing, without an error."""
    pytest.importorskip("numba", reason="numba not installed: no compiled day")
    from sim.model import _compiled

    monkeypatch.setattr(_compiled, "_symbols_folder", lambda: tmp_path / "symbols")
    assert _compiled._defined_names("a" * 64) is None
    names = frozenset({"cpython.sim.model._compiled.tally_day$1", "_ZN08NumbaEnv.x"})
    _compiled._keep_names("a" * 64, names)
    assert _compiled._defined_names("a" * 64) == names
    assert [p.name for p in (tmp_path / "symbols").iterdir()] == ["a" * 64 + ".json"]
    for torn in ('["cpython.sim', '{"a": 1}', "[1, 2]"):
        (tmp_path / "symbols" / ("b" * 64 + ".json")).write_text(torn)
        assert _compiled._defined_names("b" * 64) is None
    monkeypatch.setattr(_compiled, "_symbols_folder", lambda: tmp_path / "file" / "symbols")
    (tmp_path / "file").write_text("not a folder")
    _compiled._keep_names("c" * 64, names)  # nothing kept, nothing raised
    assert _compiled._defined_names("c" * 64) is None


def test_a_file_written_whole_replaces_the_old_text_and_leaves_no_part(tmp_path, monkeypatch):
    """``kernels.write_whole`` (the marker, the libraries' names): a reader finds the old
    text or the new, never a part; a failed write leaves the old text, no part, and raises
    OSError."""
    from sim.model import kernels

    path = tmp_path / "marker"
    kernels.write_whole(path, "old")
    kernels.write_whole(path, "new text")
    assert path.read_text(encoding="utf-8") == "new text"
    assert [p.name for p in tmp_path.iterdir()] == ["marker"]

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(kernels.os, "replace", fail)
    with pytest.raises(OSError):
        kernels.write_whole(path, "torn")
    assert path.read_text(encoding="utf-8") == "new text"
    assert [p.name for p in tmp_path.iterdir()] == ["marker"]


def test_a_kernel_missing_from_the_cache_is_compiled_without_blas(monkeypatch):
    """On a cache miss (the first run on a machine), the loader leaves the kernel to numba's
    compiler, having imported numba's array functions without SciPy's BLAS first."""
    pytest.importorskip("numba", reason="numba not installed: no compiled day")
    import contextlib
    from types import SimpleNamespace

    from numba.core.registry import cpu_target

    from sim.model import _compiled

    asked, skipped = [], []

    def load(sig, context):
        asked.append((sig, context))
        return None  # not in the cache

    cache = SimpleNamespace(
        _load_overload=load,
        _guard_against_spurious_io_errors=contextlib.nullcontext,
        load_overload=None,
    )
    monkeypatch.setattr(_compiled, "_load_array_functions_without_blas", lambda: skipped.append(1))
    _compiled._load_from_the_cache(SimpleNamespace(_cache=cache))
    context = cpu_target.target_context
    assert cache.load_overload("sig", context) is None
    assert asked == [("sig", context)] and skipped == [1]


def test_warm_compiles_and_leaves_the_engine_as_it_was(monkeypatch):
    """``kernels.warm`` (run by ``make app``/``make test`` and the page's workers) uses the
    compiled day, and leaves ``TRUCE_ENGINE`` as the caller had it."""
    pytest.importorskip("numba", reason="numba not installed: warm does nothing")
    monkeypatch.setenv("TRUCE_ENGINE", "numpy")
    assert kernels.warm() is True
    assert kernels.engine() == "numpy"
    monkeypatch.delenv("TRUCE_ENGINE")
    assert kernels.warm() is True
    assert "TRUCE_ENGINE" not in os.environ


def test_the_page_workers_use_the_compiled_day_unless_told_otherwise(monkeypatch):
    """A page worker's start-up switches it to the compiled day when numba is there and the
    user set no engine; an engine the user set is kept."""
    from sim.app import workers

    monkeypatch.setenv("TRUCE_ENGINE", "numpy")
    workers._prepare()
    assert kernels.engine() == "numpy"
    monkeypatch.delenv("TRUCE_ENGINE")
    workers._prepare()
    expected = "numba" if kernels.numba_available() else "auto"
    assert kernels.engine() == expected


# ---------------------------------------------------------------- the compiled day's shortcuts


@pytest.mark.parametrize("case", [1, 2, 3, 4])
def test_the_compiled_days_arguments_stay_the_models_arrays(case):
    """The compiled day builds its kernels' arguments once, and again only when an array
    they hold is replaced (compaction): after every day, arguments built afresh from the
    model hold the very arrays the cached ones do. Cases with a mediator (it binds new
    trust and grudge arrays), shifts (a sponsor's shift binds a new restraint), a mission
    and compaction."""
    _compiled()
    rng = np.random.default_rng(1000 + case)
    scenario = _random_scenario(rng, case)
    seed = int(rng.integers(2**31))
    with mock.patch.dict(os.environ, {"TRUCE_ENGINE": "numba"}):
        model = CeasefireModel(scenario, replicates=150, seed=seed, collect=False)
    days = compacted = 0
    while model.running:
        model.step()
        days += 1
        compacted += model.r < model.replicates
        assert model._stale_arguments() == [], model.day
    assert days > 5
    if case == 2:
        assert compacted  # the case compacts: its arguments were rebuilt, then held
    # The check sees an array replaced behind the kernels' back.
    model = CeasefireModel(scenario, replicates=150, seed=seed, collect=False)
    with mock.patch.dict(os.environ, {"TRUCE_ENGINE": "numba"}):
        model = CeasefireModel(scenario, replicates=150, seed=seed, collect=False)
    model.step()
    model.trust = model.trust.copy()
    assert model._stale_arguments()


def _scramble_unfired(model: CeasefireModel, rng: np.random.Generator) -> dict:
    """Random valid values in every field of the acts that did not fire; the old values."""
    acts, fired = model.acts, model.acts.fired
    n_parties, p = len(model.party_names), model.n_principals
    ranges = {
        "actor": (0, n_parties),
        "target": (0, p),
        "blamed": (-1, len(model.edge_victim)),
        "culprit": (-1, p),
        "origin": (0, len(ORIGINS)),
        "weight": (1, 6),
        "theatre": (0, model.n_theatres),
        "wrong": (0, 2),
        "admitted": (0, 2),
    }
    saved = {}
    for name, (low, high) in ranges.items():
        values = getattr(acts, name)
        saved[name] = values.copy()
        noise = rng.integers(low, high, size=values.shape).astype(values.dtype)
        values[~fired] = noise[~fired]
    return saved


@pytest.mark.parametrize("case", [0, 1, 2, 3])
def test_the_fields_of_acts_that_did_not_fire_are_never_read(case):
    """What the compiled day relies on to write an act's fields only where it fired: on the
    NumPy day, every field but ``fired`` of every act that did not fire is replaced by
    random valid values before the mask, the mission, the commissions, perception and the
    tally read them (and put back after the tally: channels with a fixed theatre never
    write it again), and nothing changes."""
    rng = np.random.default_rng(1000 + case)
    scenario = _random_scenario(rng, case)
    seed = int(rng.integers(2**31))
    expected = _run(scenario, 150, seed, "numpy")
    noise = np.random.default_rng(case)
    held: dict = {}
    mask, tally = CeasefireModel._mask, CeasefireModel._tally

    def scrambled_mask(model):
        held["saved"] = _scramble_unfired(model, noise)
        held["fired"] = model.acts.fired.copy()  # before the mask: what the agents wrote
        mask(model)

    def restored_tally(model):
        tally(model)
        unfired = ~held["fired"]
        for name, values in held["saved"].items():
            getattr(model.acts, name)[unfired] = values[unfired]

    with (
        mock.patch.object(CeasefireModel, "_mask", scrambled_mask),
        mock.patch.object(CeasefireModel, "_tally", restored_tally),
    ):
        got = _run(scenario, 150, seed, "numpy")
    _assert_same(got, expected)


def test_a_kernels_entry_point_is_found_again_only_for_the_same_argument_types():
    """``_compiled.entry`` remembers the compiled function by what decides the arguments'
    numba types: the same for new arrays of the same kind (a compaction's), another for
    another layout, a read-only array, a view with strides or another dtype — and each
    found function computes what the kernel does."""
    k = _compiled()
    width = 4

    def args(p_detect, coverage=None):
        coverage = np.array([0.5, 0.25]) if coverage is None else coverage
        return (coverage, True, np.array([False, True, False, False]), 0.5, p_detect)

    first = k.entry(k.deter_day, args(np.zeros((2, width))))
    assert k.entry(k.deter_day, args(np.zeros((2, width)))) is first
    read_only = np.array([0.5, 0.25])
    read_only.flags.writeable = False
    others = {
        "F": args(np.zeros((2, width), order="F")),
        "strided": args(np.zeros((2, 2 * width))[:, ::2]),
        "read-only": args(np.zeros((2, width)), read_only),
        "float32": args(np.zeros((2, width)), np.array([0.5, 0.25], np.float32)),
    }
    expected = np.array([[0.25, 0.0, 0.25, 0.25], [0.125, 0.0, 0.125, 0.125]])
    for name, given in others.items():
        call = k.entry(k.deter_day, given)
        assert call is not first, name
        call(*given)
        np.testing.assert_array_equal(given[-1], expected, err_msg=name)


@pytest.mark.parametrize("shape", [(7,), (3, 7), (2, 3, 7)])
@pytest.mark.parametrize("dtype", [bool, np.int64, np.float64])
def test_compiled_compaction_copies_the_columns_numpy_would(shape, dtype):
    """``_compiled.compact`` and ``expand`` (the compiled day's compaction) move the same
    columns as NumPy's ``take`` and fancy assignment, for every kind of per-truce array."""
    k = _compiled()
    rng = np.random.default_rng(len(shape))
    value = (rng.random((*shape[:-1], 7)) * 100).astype(dtype)
    alive = np.array([True, False, True, True, False, False, True])
    keep, drop = np.flatnonzero(alive), np.flatnonzero(~alive)
    ids = np.array([0, 2, 3, 5, 8, 9, 11])  # the live truces' columns in a 12-wide chunk
    ended = np.zeros((*shape[:-1], 12), dtype)
    expected = ended.copy()
    expected[..., ids[drop]] = np.take(value, drop, axis=-1)
    kept = k.compact(value, keep, drop, ids[drop], ended)
    np.testing.assert_array_equal(kept, np.take(value, keep, axis=-1))
    np.testing.assert_array_equal(ended, expected)
    k.expand(kept, ids[keep], ended)
    expected[..., ids[keep]] = kept
    np.testing.assert_array_equal(ended, expected)
    assert kept.dtype == value.dtype
