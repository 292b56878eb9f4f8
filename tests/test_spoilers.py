"""Spoilers by kind, inside and outside (E8b); contrition and generosity in retaliation (E9c).

Stedman, "Spoiler Problems in Peace Processes" (International Security, 1997): a total
spoiler attacks more as the truce holds, a greedy one weighs the cost of being seen, a
limited one can be met by inducement; an inside spoiler operates from a signatory's camp.
Wu & Axelrod, "How to Cope with Noise in the Iterated Prisoner's Dilemma" (JCR, 1995):
contrite and generous reciprocity recovers from noise.

Directions are tested on paired truces (common random numbers): the paired statistic
z = mean(d) / (sd(d) / sqrt(n)) on the days held must pass 3 (a false alarm under no effect
has a one-sided chance of about 1 in 700), as in tests/helpers_directions.py. They are run
on the unmonitored baseline (about 88% of truces collapse within a year), where these
mechanisms have room to act; the direction tests' reference (the zones deal with monitors
and an envoy, 180 days) holds in about 99% of truces, too few collapses for a lever that
is off at its low end to show (docs/MODEL.md, E9c).
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from test_model import assert_invariants

from sim.experiment.runner import run_one
from sim.model import decisions as dec
from sim.model.agents import SPOILER
from sim.model.model import CeasefireModel
from sim.model.streams import STREAMS
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario, resolve_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

#: Settings under which no truce ends (so that every arm is exposed for the same days).
LASTING = {
    "truce.collapse.threshold": 50,
    "truce.collapse.intensity": 500,
    "constants.withdrawal_trust": 0.0,
}


@pytest.fixture(scope="module")
def unmonitored():
    s = load_scenario(SCENARIOS / "unmonitored.yaml")
    return s.model_copy(update={"compare": {}, "sweep": None})


@pytest.fixture(scope="module")
def zones():
    s = load_scenario(SCENARIOS / "zones.yaml")
    return s.model_copy(update={"compare": {}, "sweep": None})


def paired_z(low: pd.DataFrame, high: pd.DataFrame) -> float:
    d = high["days_held"].to_numpy(float) - low["days_held"].to_numpy(float)
    return float(d.mean() / (d.std(ddof=1) / np.sqrt(len(d))))


def attack_once(model: CeasefireModel, calm: float = 0.0) -> np.ndarray:
    """Run the excluded groups' attack phase once with fresh draws; the spoiler rows fired."""
    model.acts.reset()
    model._draw_day()
    model.calm[:] = calm
    for group in model.excluded_groups:
        group.attack()
    rows = np.concatenate(
        [np.arange(g.spoiler.slice.start, g.spoiler.slice.stop) for g in model.excluded_groups]
    )
    assert (model.acts.origin[rows] == SPOILER).all()
    return model.acts.fired[rows]


# ---------------------------------------------------------------- the rules (decisions.py)


def test_a_total_spoiler_is_e8_exactly_and_grows_with_calm():
    calm = np.array([0.0, 0.5, 1.0])
    p = dec.spoiler_probability(0.4, 0.7, calm, 0.2, 1.0, kind="total", inducement=1.0)
    np.testing.assert_array_equal(p, np.clip(0.2 * 0.4 * 0.7 * (1.0 + 1.0 * calm), 0, 1))
    np.testing.assert_array_equal(p, dec.spoiler_probability(0.4, 0.7, calm, 0.2, 1.0))
    assert (np.diff(p) > 0).all()
    assert dec.INDUCEMENT_REACH == {"total": 0.0, "greedy": 0.5, "limited": 1.0}


def test_a_greedy_spoiler_weighs_detection_and_half_the_inducement_and_ignores_calm():
    calm = np.array([[0.0, 1.0], [0.0, 1.0]])
    p_det = np.array([[0.0, 0.0], [0.6, 0.6]])
    p = dec.spoiler_probability(0.5, 1.0, calm, 0.2, 3.0, kind="greedy", p_detect=p_det)
    np.testing.assert_allclose(p, 0.1 * (1 - p_det))
    assert p[0, 0] == p[0, 1]  # no calm boost
    q = dec.spoiler_probability(
        0.5, 1.0, calm, 0.2, 3.0, kind="greedy", p_detect=p_det, inducement=0.8
    )
    np.testing.assert_allclose(q, 0.1 * (1 - p_det) * (1 - 0.4))
    assert dec.spoiler_probability(1, 1, calm, 1, 0, kind="greedy", p_detect=1.0).max() == 0


def test_a_limited_spoiler_is_met_by_inducement_and_ignores_calm_and_monitors():
    calm = np.linspace(0, 1, 5)
    for inducement in (0.0, 0.3, 1.0):
        p = dec.spoiler_probability(
            0.5, 0.8, calm, 0.2, 2.0, kind="limited", p_detect=0.9, inducement=inducement
        )
        assert p.shape == calm.shape
        np.testing.assert_allclose(p, 0.2 * 0.5 * 0.8 * (1 - inducement))


def test_generosity_scales_retaliation_and_zero_is_e9_exactly():
    rng = np.random.default_rng(1)
    trust, fatigue, grudge = rng.random((3, 4, 50))
    args = (trust, fatigue, 0.5, 0.9)
    kw = {"grudge": grudge, "restraint_level": 0.2, "hostility_threshold": 0.1}
    e9 = dec.retaliation_probability(*args, **kw)
    np.testing.assert_array_equal(dec.retaliation_probability(*args, **kw, generosity=0.0), e9)
    np.testing.assert_allclose(dec.retaliation_probability(*args, **kw, generosity=0.3), e9 * 0.7)
    assert dec.retaliation_probability(*args, **kw, generosity=1.0).max() == 0


def test_contrition_accepts_only_fired_answers_to_true_grievances():
    fired = np.array([[True, True, False, True]])
    wrong = np.array([[False, True, False, False]])
    u = np.array([[0.1, 0.1, 0.1, 0.9]])
    accepted = dec.contrite_acceptance(fired, wrong, u, contrition=0.5)
    np.testing.assert_array_equal(accepted, [[True, False, False, False]])
    assert not dec.contrite_acceptance(fired, wrong, u, contrition=0.0).any()
    np.testing.assert_array_equal(
        dec.contrite_acceptance(fired, wrong, u, contrition=1.0), fired & ~wrong
    )


# ---------------------------------------------------------------- the kinds in the model


def test_kinds_behave_as_stated_in_the_model(unmonitored):
    """Greedy: none where detection is certain; limited: none when fully met; total: calm."""
    watched = {"monitors": {"coverage": 1.0, "detection": 1.0, "risk_tolerance": 1000}}
    greedy = CeasefireModel(
        resolve_scenario(unmonitored, {"excluded.0.kind": "greedy", **watched}), replicates=400
    )
    unwatched = CeasefireModel(
        resolve_scenario(unmonitored, {"excluded.0.kind": "greedy"}), replicates=400
    )
    assert not attack_once(greedy).any() and attack_once(unwatched).any()
    met = {"excluded.0.kind": "limited", "excluded.0.inducement": 1.0}
    limited = CeasefireModel(resolve_scenario(unmonitored, met), replicates=400)
    assert not attack_once(limited, calm=1.0).any()
    # A total spoiler: the same draws, more attacks after a month of calm than on day 1.
    quiet, calm = (
        attack_once(CeasefireModel(unmonitored, replicates=2000), calm=x) for x in (0.0, 1.0)
    )
    assert (quiet <= calm).all() and calm.sum() > quiet.sum()
    # Inducement does not reach a total spoiler: nothing changes at all.
    met_total = resolve_scenario(unmonitored, {"excluded.0.inducement": 1.0})
    pd.testing.assert_frame_equal(
        run_one(met_total, seed=3, replicates=200), run_one(unmonitored, seed=3, replicates=200)
    )


def test_a_greedy_spoiler_attacks_less_where_monitors_watch(unmonitored):
    """End to end, over truces that cannot end (equal exposure), on the same draws."""
    greedy = resolve_scenario(unmonitored, {"excluded.0.kind": "greedy", **LASTING})
    watched = resolve_scenario(greedy, {"monitors": {"coverage": 0.8, "risk_tolerance": 1000}})
    off = run_one(greedy, seed=5, replicates=300)["violations_spoiler"].sum()
    on = run_one(watched, seed=5, replicates=300)["violations_spoiler"].sum()
    # p falls by the factor 1 − 0.8 · 0.8 (detection 0.8): expect about 36% of the attacks;
    # thousands of attacks make the binomial noise a few percent.
    assert 0.25 < on / off < 0.5


def test_inducement_lowers_collapse_for_a_limited_spoiler(unmonitored):
    limited = resolve_scenario(unmonitored, {"excluded.0.kind": "limited"})
    met = resolve_scenario(limited, {"excluded.0.inducement": 1.0})
    low, high = (run_one(s, seed=7, replicates=800) for s in (limited, met))
    assert high["violations_spoiler"].sum() == 0
    assert paired_z(low, high) > 3


# ---------------------------------------------------------------- inside spoilers


def test_an_inside_spoilers_attacks_are_blamed_on_its_host(zones):
    """faction_a hosts the group in the north; in the east (no faction_a) it is outside."""
    s = resolve_scenario(zones, {"excluded.0.host": "faction_a"})
    model = CeasefireModel(s, replicates=3000)
    (group,) = model.excluded_groups
    north, east = model.theatre_names.index("north"), model.theatre_names.index("east")
    assert list(group.theatres) == [north, east] and list(group.inside) == [True, False]
    host = model.principal_index["faction_a"]
    attack_once(model, calm=1.0)
    acts, rows = model.acts, np.arange(group.spoiler.slice.start, group.spoiler.slice.stop)
    inside, outside = rows[0], rows[1]
    fired = acts.fired[inside]
    assert fired.any()
    # Inside: it attacks the host's adversary (the government), who blames the host.
    assert (acts.target[inside] == 0).all()
    assert (acts.blamed[inside] == model.edge_index[0, host]).all()
    assert (acts.culprit[inside] == host).all()
    # Outside: any party present, blamed by the misblame rule (sometimes on nobody).
    assert (acts.culprit[outside] == -1).all()
    assert (acts.target[outside] != 0).any() and (acts.blamed[outside] == -1).any()


def test_verified_inside_attacks_sanction_the_host(zones):
    """The mission sees everything and pins it right: the host's sponsors sanction it."""
    s = resolve_scenario(
        zones,
        {
            "excluded.0.host": "faction_a",
            "monitors": {"coverage": 1.0, "detection": 1.0, "attribution": 1.0},
            "factions.faction_a.cohesion": 1.0,  # faction_a commits nothing of its own
            "constants.base_propensity": 0.0,
            "constants.retaliation_rate": 0.0,
            **LASTING,
        },
    )
    model = CeasefireModel(s, replicates=500)
    host = model.principal_index["faction_a"]
    (group,) = model.excluded_groups
    model.step()
    inside = model.acts.fired[group.spoiler.slice.start]
    assert inside.any()
    np.testing.assert_array_equal(model._sanctions[host], inside)
    # The outside group's verified attacks sanction nobody.
    out = CeasefireModel(resolve_scenario(s, {"excluded.0.host": None}), replicates=500)
    out.step()
    assert out.acts.fired[out.excluded_groups[0].spoiler.slice].any()
    assert not out._sanctions.any()


def test_a_host_must_be_a_party(zones):
    with pytest.raises(ScenarioError, match="not a party to the truce"):
        resolve_scenario(zones, {"excluded.0.host": "sponsor_g1"})


# ---------------------------------------------------------------- contrition and generosity


def test_contrition_and_generosity_lower_collapse(unmonitored):
    base = run_one(unmonitored, seed=11, replicates=800)
    for lever in ("constants.contrition", "constants.generosity"):
        high = run_one(resolve_scenario(unmonitored, {lever: 0.5}), seed=11, replicates=800)
        z = paired_z(base, high)
        assert z > 3, f"{lever}: z = {z:.2f}"
        assert high["collapsed"].mean() < base["collapsed"].mean()


def test_contrition_removes_the_grievance_of_every_true_answer(unmonitored):
    """At contrition 1 every answer to a true grievance is accepted: it cuts no trust.

    Without a mission, a violation is perceived unless it is an admitted accident; the
    trust rule must receive exactly those counts, less the accepted answers.
    """
    s = resolve_scenario(unmonitored, {"constants.contrition": 1.0})
    model = CeasefireModel(s, replicates=400)
    accepted_total = 0
    with mock.patch.object(dec, "update_trust", wraps=dec.update_trust) as trust_rule:
        for _ in range(60):
            model.step()
            if not model.alive.any():
                break
            acts, ret = model.acts, model.slot_retaliation
            accepted = np.zeros_like(acts.fired)
            accepted[ret] = acts.fired[ret] & ~acts.wrong[ret]
            accepted_total += int(accepted.sum())
            blamed_party = np.where(acts.blamed >= 0, model.edge_blamed[acts.blamed], -1)
            corrected = (acts.blamed >= 0) & (blamed_party != acts.culprit) & acts.admitted
            perceived = acts.fired & (acts.blamed >= 0) & ~corrected & ~accepted
            expected = model._count(acts.blamed, perceived, model.trust.shape[0], acts.weight)
            np.testing.assert_array_equal(trust_rule.call_args.args[2], expected)
    assert accepted_total > 0


def test_off_reproduces_todays_acts_exactly(unmonitored):
    """contrition = generosity = 0: the reciprocity draws play no part, the new rules none.

    With contrition off nobody reads the reciprocity stream, so it is not drawn at all
    (its numbers are skipped, which moves no other stream's); with it on, the answers'
    uniforms come from it. The same seed with another reciprocity stream gives the same
    acts, day by day, and the contrition rule is never consulted. (Checked once against
    the commit before E8b/E9c, b8da086: every bundled scenario's results were identical.)
    """
    a = CeasefireModel(unmonitored, replicates=300)
    b = CeasefireModel(unmonitored, replicates=300)
    b.streams["reciprocity"] = np.random.default_rng(12345)
    assert STREAMS["reciprocity"] == 15
    assert all(plan.stream != "reciprocity" for plan in a._draws)
    on = CeasefireModel(unmonitored, replicates=300, **{"constants.contrition": 0.5})
    assert [plan.stream for plan in on._draws].count("reciprocity") == 1
    with mock.patch.object(dec, "contrite_acceptance", side_effect=AssertionError):
        for _ in range(120):
            a.step()
            b.step()
            for field in ("fired", "actor", "target", "blamed", "origin", "wrong"):
                np.testing.assert_array_equal(getattr(a.acts, field), getattr(b.acts, field))
            np.testing.assert_array_equal(a.trust, b.trust)
    # Nobody was handed reciprocity numbers: they were not drawn.
    assert all("contrite" not in m.principals[0].u for m in (a, b))
    on.step()
    assert on.principals[0].u["contrite"].shape == (len(on.principals[0].edges), 300)


def test_every_kind_and_position_keeps_the_model_in_range(zones):
    """Kinds, hosts and both reciprocity levers at their ends: the results stay consistent."""
    s = resolve_scenario(
        zones,
        {
            "excluded": [
                {"name": "jihadists", "kind": "greedy", "inducement": 1.0, "host": "government"},
                {"name": "militia", "kind": "limited", "inducement": 0.5, "host": "faction_b"},
                {"name": "holdouts", "strength": 1.0, "spoiler_intent": 1.0},
            ],
            # militia: inside in the east (faction_b is there), outside in the south.
            "theatres.south.excluded": ["militia", "holdouts"],
            "theatres.east.excluded": ["jihadists", "militia"],
            "monitors": {"coverage": 0.7},
            "constants.contrition": 1.0,
            "constants.generosity": 1.0,
            "truce.horizon": 120,
        },
    )
    table = run_one(s, seed=9, replicates=300)
    assert_invariants(table, 120)
    assert table["retaliations"].sum() == 0  # generosity 1: no answer at all
    assert (table[["party_jihadists", "party_militia", "party_holdouts"]].sum() > 0).all()
