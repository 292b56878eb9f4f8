"""Pure decision rules, tested without a model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.model import decisions as dec

KW = dict(
    base_propensity=0.01,
    gain_sensitivity=4.0,
    regroup_weight=2.0,
    restraint_weight=0.8,
    reputation_cost=0.5,
    sanction_weight=1.5,
)


def test_restraint_combines_sponsors():
    assert dec.restraint(np.array([])) == 0.0
    assert dec.restraint(np.array([0.5])) == pytest.approx(0.5)
    # Two sponsors at 0.5 each: 1 - 0.5 * 0.5.
    assert dec.restraint(np.array([0.5, 0.5])) == pytest.approx(0.75)


def test_defection_falls_with_fatigue_detection_and_restraint():
    args = dict(advantage=np.array([0.2]), regroup=np.array([0.0]), resolve=0.6)
    base = dec.defection_probability(
        **args, fatigue=np.array([0.1]), restraint_level=0.3, p_detect=0.0, **KW
    )
    tired = dec.defection_probability(
        **args, fatigue=np.array([0.8]), restraint_level=0.3, p_detect=0.0, **KW
    )
    watched = dec.defection_probability(
        **args, fatigue=np.array([0.1]), restraint_level=0.3, p_detect=0.5, **KW
    )
    restrained = dec.defection_probability(
        **args, fatigue=np.array([0.1]), restraint_level=0.9, p_detect=0.0, **KW
    )
    assert tired < base and watched < base and restrained < base


def test_defection_rises_when_the_adversary_regroups():
    low = dec.defection_probability(
        np.array([0.1]), np.array([0.0]), 0.6, np.array([0.2]), 0.3, 0.0, **KW
    )
    high = dec.defection_probability(
        np.array([0.1]), np.array([0.2]), 0.6, np.array([0.2]), 0.3, 0.0, **KW
    )
    assert high > low


@given(
    advantage=st.floats(-1, 1),
    regroup=st.floats(0, 1),
    resolve=st.floats(0, 1),
    fatigue=st.floats(0, 1),
    restraint_level=st.floats(0, 1),
    p_detect=st.floats(0, 1),
    base=st.floats(0, 0.5),
    k=st.floats(0, 20),
)
def test_probabilities_stay_in_unit_interval(
    advantage, regroup, resolve, fatigue, restraint_level, p_detect, base, k
):
    p = dec.defection_probability(
        np.array([advantage]),
        np.array([regroup]),
        resolve,
        np.array([fatigue]),
        restraint_level,
        p_detect,
        **{**KW, "base_propensity": base, "gain_sensitivity": k},
    )
    assert 0.0 <= p[0] <= 1.0
    r = dec.retaliation_probability(
        np.array([fatigue]), np.array([restraint_level]), 0.3, base * 2, k, p_detect
    )
    assert 0.0 <= r[0] <= 1.0
    s = dec.spoiler_probability(resolve, fatigue, np.array([p_detect]), 1.0, 10.0)
    assert 0.0 <= s[0] <= 1.0


def test_accidents_rise_with_air_forces_and_fall_with_deconfliction():
    assert dec.accident_probability(1, 0.0, 0.01) == 0.0  # one air force: no pair to collide
    assert dec.accident_probability(4, 0.0, 0.01) > dec.accident_probability(2, 0.0, 0.01)
    assert dec.accident_probability(4, 0.9, 0.01) < dec.accident_probability(4, 0.1, 0.01)
    # Six pairs at rate 0.01 with no coordination: 1 - exp(-0.06).
    assert dec.accident_probability(4, 0.0, 0.01) == pytest.approx(1 - np.exp(-0.06))


def test_loophole_hits_need_entanglement_and_width():
    ent = np.array([0.0, 0.5])
    p = dec.loophole_hit_probability(2.0, 0.5, 0.1, ent)
    assert p[0] == 0.0 and p[1] == pytest.approx(1 - np.exp(-0.05))
    assert np.all(dec.loophole_hit_probability(2.0, 0.0, 0.1, ent) == 0.0)


def test_retaliation_only_below_threshold():
    trust = np.array([0.5, 0.3, 0.15, 0.0])
    p = dec.retaliation_probability(trust, np.zeros(4), threshold=0.3, rate=0.8)
    np.testing.assert_allclose(p, [0.0, 0.0, 0.4, 0.8])


def test_retaliation_needs_a_grudge_and_is_held_back_by_sponsors():
    trust = np.full(4, 0.15)
    grudge = np.array([0.0, 0.5, 1.0, 3.0])
    p = dec.retaliation_probability(trust, np.zeros(4), threshold=0.3, rate=0.8, grudge=grudge)
    # Half the threshold: shortfall 0.5; a grudge above one answers no more readily than one.
    np.testing.assert_allclose(p, [0.0, 0.2, 0.4, 0.4])
    held = dec.retaliation_probability(
        trust, np.zeros(4), threshold=0.3, rate=0.8, grudge=grudge, restraint_level=0.5
    )
    np.testing.assert_allclose(held, p * 0.5)


def test_hostility_below_the_lower_threshold_needs_no_grievance():
    trust = np.array([0.4, 0.2, 0.1, 0.0])
    none = np.zeros(4)
    p = dec.retaliation_probability(
        trust, np.zeros(4), threshold=0.5, rate=0.8, grudge=none, hostility_threshold=0.2
    )
    # No grudge: only the hostility term, clip(1 - trust / 0.2), is left.
    np.testing.assert_allclose(p, [0.0, 0.0, 0.4, 0.8])
    # With a grudge the larger of the two terms counts.
    q = dec.retaliation_probability(
        trust, np.zeros(4), threshold=0.5, rate=0.8, grudge=np.ones(4), hostility_threshold=0.2
    )
    np.testing.assert_allclose(q, 0.8 * np.maximum(1 - trust / 0.5, np.clip(1 - trust / 0.2, 0, 1)))


def test_grudges_add_up_are_answered_and_fade():
    g = dec.update_grudge(np.array([0.0, 2.0, 1.0]), np.array([1, 0, 0]), np.array([0, 1, 3]), 5.0)
    fade = np.exp(-1 / 5)
    # A new grievance counts in full; an answer removes one; a grudge never goes below 0.
    np.testing.assert_allclose(g, [1.0, fade, 0.0])
    many = np.ones(1)
    for _ in range(50):
        many = dec.update_grudge(many, np.zeros(1), np.zeros(1), 5.0)
    assert many[0] == pytest.approx(np.exp(-10))


def test_consolidation_raises_the_healing_level_only_on_calm_days():
    base = np.array([0.4, 0.4, 1.0])
    out = dec.consolidate(base, np.array([True, False, True]), 0.01)
    np.testing.assert_allclose(out, [0.4 + 0.01 * 0.6, 0.4, 1.0])


def test_distrust_raises_the_gain_from_striking_first():
    args = (np.array([0.1]), np.array([0.0]), 0.6, np.array([0.2]), 0.3, 0.0)
    trusting = dec.defection_probability(*args, **KW, distrust=0.2, fear_weight=1.0)
    fearful = dec.defection_probability(*args, **KW, distrust=0.8, fear_weight=1.0)
    fearless = dec.defection_probability(*args, **KW, distrust=0.8, fear_weight=0.0)
    assert fearful > trusting
    # exp(k · w · Δdistrust) with k = 4, w = 1, Δ = 0.6 (E2-E4).
    assert fearful / trusting == pytest.approx(np.exp(4.0 * 0.6))
    assert fearless == pytest.approx(dec.defection_probability(*args, **KW))


def test_trust_falls_on_violations_and_heals_on_quiet_days():
    trust = np.array([0.5, 0.5, 0.2])
    baseline = np.array([0.5, 0.5, 0.5])
    out = dec.update_trust(trust, baseline, np.array([0, 2, 0]), trust_loss=0.2, forgiveness=0.1)
    np.testing.assert_allclose(out, [0.5, 0.5 * 0.8**2, 0.2 + 0.1 * 0.3])


def test_corrections_undo_misread_cuts_up_to_the_ceiling():
    trust = np.array([0.5 * 0.8**2, 0.2, 0.45, 0.9, 0.3])
    baseline = np.full(5, 0.5)
    out = dec.restore_trust(trust, baseline, np.array([2, 3, 1, 1, 0]), trust_loss=0.2)
    # Undone exactly; undone in part; capped at the baseline; never pulled down; untouched.
    np.testing.assert_allclose(out, [0.5, 0.2 / 0.8**3, 0.5, 0.9, 0.3])


@given(
    trust=st.floats(0, 1),
    baseline=st.floats(0, 1),
    corrected=st.integers(0, 40),
    trust_loss=st.sampled_from([0.0, 1.0]) | st.floats(0, 1),
)
def test_corrections_stay_finite_and_in_range(trust, baseline, corrected, trust_loss):
    """Well defined for every valid trust_loss, 1 included (a wiped-out edge: 0 / 0 before)."""
    out = dec.restore_trust(np.array([trust]), np.array([baseline]), corrected, trust_loss)[0]
    assert np.isfinite(out)
    assert trust <= out <= max(trust, baseline)
    if corrected == 0:
        assert out == trust
    elif trust_loss == 1.0:
        assert out == max(trust, baseline)


def test_fatigue_and_regrouping():
    f = dec.update_fatigue(
        np.array([0.5, 0.5]), np.array([3, 0]), np.array([False, True]), 0.01, 0.002
    )
    np.testing.assert_allclose(f, [0.53, 0.498])
    s = dec.regroup(np.array([0.2, 0.7]), np.array([0.6, 0.3]), np.array([True, True]), 0.1)
    np.testing.assert_allclose(s, [0.24, 0.7])  # only the weaker side regroups


def test_dominant_origin_and_collapse_rule():
    counts = np.array([[0, 2], [3, 2], [1, 0], [0, 0], [0, 0]])
    np.testing.assert_array_equal(dec.dominant_origin(counts), [1, 0])  # ties → earlier origin
    np.testing.assert_array_equal(dec.collapse_now(np.array([2, 3, 4]), 3), [False, True, True])


def test_escalation_is_slower_when_tired():
    u = np.linspace(0.01, 0.99, 200)
    fresh = dec.escalation_days(u, np.zeros(200), np.full(200, 0.5), 0.1)
    tired = dec.escalation_days(u, np.full(200, 0.8), np.full(200, 0.5), 0.1)
    assert (fresh >= 1).all() and (tired >= fresh).all() and tired.mean() > fresh.mean()
