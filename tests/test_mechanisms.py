"""Mechanism directions: each lever moves outcomes the way DESIGN.md says, beyond noise.

Each test runs two arms of the baseline truce on the same seed (common random
numbers) and compares them with a one-sided two-sample test at z > 3.29
(p < 0.0005). The z statistic uses the independent-samples standard error; with
common random numbers the arms are positively correlated, so the true standard
error of the difference is smaller and the test is conservative. With 2,000
replicates per arm the test detects a difference of about 4.5 percentage points
in a collapse share near 50% (3.29 · sqrt(2 · 0.25 / 2000) ≈ 0.052 at most).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.experiment.runner import run_one
from sim.scenario.loading import load_scenario

REPLICATES = 2000
Z = 3.29  # one-sided p < 0.0005


def arm(baseline_path, *sets, replicates=REPLICATES):
    scenario = load_scenario(baseline_path, ["truce.horizon=180", *sets])
    return run_one(scenario, seed=2024, replicates=replicates)


def z_proportions(a: np.ndarray, b: np.ndarray) -> float:
    """z for mean(b) − mean(a) of two boolean samples (pooled standard error)."""
    pa, pb = a.mean(), b.mean()
    pooled = (a.sum() + b.sum()) / (len(a) + len(b))
    se = np.sqrt(pooled * (1 - pooled) * (1 / len(a) + 1 / len(b)))
    return (pb - pa) / se


def z_means(a: np.ndarray, b: np.ndarray) -> float:
    """Welch z for mean(b) − mean(a)."""
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return (b.mean() - a.mean()) / se


pytestmark = pytest.mark.xdist_group("mechanisms")


def test_more_monitoring_coverage_fewer_collapses(baseline_path):
    low = arm(baseline_path, "monitors.coverage=0.1")
    high = arm(baseline_path, "monitors.coverage=0.9")
    assert z_proportions(high["collapsed"].to_numpy(), low["collapsed"].to_numpy()) > Z


def test_wider_loopholes_with_entanglement_more_collapses(baseline_path):
    entangled = [f"factions.{f}.entanglement=0.6" for f in ("faction_a", "faction_b", "faction_c")]
    narrow = arm(baseline_path, "truce.loophole_width=0.1", *entangled)
    wide = arm(baseline_path, "truce.loophole_width=0.9", *entangled)
    assert z_proportions(narrow["collapsed"].to_numpy(), wide["collapsed"].to_numpy()) > Z


def test_higher_fatigue_fewer_collapses(baseline_path):
    parties = ("government", "factions.faction_a", "factions.faction_b", "factions.faction_c")
    fresh = arm(baseline_path, *(f"{p}.fatigue=0.05" for p in parties))
    tired = arm(baseline_path, *(f"{p}.fatigue=0.7" for p in parties))
    assert z_proportions(tired["collapsed"].to_numpy(), fresh["collapsed"].to_numpy()) > Z


def test_more_foreign_forces_without_deconfliction_more_accidents(baseline_path):
    few = arm(baseline_path, "deconfliction.air_forces=2", "deconfliction.level=0")
    many = arm(baseline_path, "deconfliction.air_forces=8", "deconfliction.level=0")
    # Accidents per day the truce held: truces end at different times, so compare rates.
    rate_few = few["violations_accident"] / few["days_held"]
    rate_many = many["violations_accident"] / many["days_held"]
    assert z_means(rate_few.to_numpy(), rate_many.to_numpy()) > Z


def test_deconfliction_cuts_accidents(baseline_path):
    loose = arm(baseline_path, "deconfliction.air_forces=6", "deconfliction.level=0")
    tight = arm(baseline_path, "deconfliction.air_forces=6", "deconfliction.level=0.9")
    rate_loose = loose["violations_accident"] / loose["days_held"]
    rate_tight = tight["violations_accident"] / tight["days_held"]
    assert z_means(rate_tight.to_numpy(), rate_loose.to_numpy()) > Z


def test_longer_lead_time_lower_starting_trust(baseline_path):
    short = arm(baseline_path, "truce.lead_time=0", replicates=500)
    long = arm(baseline_path, "truce.lead_time=21", replicates=500)
    assert z_means(long["start_trust"].to_numpy(), short["start_trust"].to_numpy()) > Z
    assert (long["pre_truce_violations"] >= 0).all() and (short["pre_truce_violations"] == 0).all()


def test_no_grievance_no_retaliation(baseline_path):
    """Retaliation answers perceived violations (E9, E9b): with standing hostility switched off,
    a truce with nothing to answer stays silent however little the parties trust each other.
    Deterministic: every source of a first violation is switched off, so any violation at all
    would be spontaneous."""
    parties = ("government", "factions.faction_a", "factions.faction_b", "factions.faction_c")
    quiet = [
        "truce.exempted=[]",
        "excluded=[]",
        "truce.lead_time=0",
        "deconfliction.air_forces=2",
        "constants.accident_rate=0",
        "constants.base_propensity=0",
        "constants.hostility_threshold=0",
        "constants.withdrawal_trust=0.01",
        *(f"{p}.trust=0.1" for p in parties),  # above withdrawal_trust, whatever the jitter
        *(f"{p}.cohesion=1" for p in parties),
        *(
            f"sponsors.{s}.dissent=0"
            for s in ("sponsor_g1", "sponsor_g2", "sponsor_o1", "sponsor_o2")
        ),
    ]
    runs = arm(baseline_path, *quiet, replicates=200)
    assert runs["violations"].sum() == 0 and runs["retaliations"].sum() == 0
    assert not runs["collapsed"].any()


def test_sponsors_hold_back_retaliation(baseline_path):
    """E9 damps retaliation by the sponsors' restraint. Restraint's other channels (E2-E4) are
    switched off so the arms differ only in how readily grievances are answered."""
    sponsors = ("sponsor_g1", "sponsor_g2", "sponsor_o1", "sponsor_o2")
    common = [
        "constants.restraint_weight=0",
        "constants.sanction_weight=0",
        "constants.retaliation_restraint=1",
    ]
    loose = arm(baseline_path, *common, *(f"sponsors.{s}.commitment=0" for s in sponsors))
    tight = arm(
        baseline_path,
        *common,
        *(f"sponsors.{s}.commitment=1" for s in sponsors),
        *(f"sponsors.{s}.leverage=0.9" for s in sponsors),
    )
    rate_loose = (loose["retaliations"] / loose["days_held"]).to_numpy()
    rate_tight = (tight["retaliations"] / tight["days_held"]).to_numpy()
    assert z_means(rate_tight, rate_loose) > Z


def test_distrust_brings_first_strikes(baseline_path):
    """E2: with fear_weight > 0, lower trust makes deliberate violations likelier."""
    parties = ("government", "factions.faction_a", "factions.faction_b", "factions.faction_c")
    trusting = arm(baseline_path, "constants.fear_weight=1.5", *(f"{p}.trust=0.6" for p in parties))
    wary = arm(baseline_path, "constants.fear_weight=1.5", *(f"{p}.trust=0.2" for p in parties))
    rate_trusting = (trusting["violations_deliberate"] / trusting["days_held"]).to_numpy()
    rate_wary = (wary["violations_deliberate"] / wary["days_held"]).to_numpy()
    assert z_means(rate_trusting, rate_wary) > Z


def test_consolidation_makes_old_truces_safer(baseline_path):
    """E10b: with consolidation, truces that reached day 90 collapse less often afterwards."""
    plain = arm(baseline_path, "truce.horizon=365", "constants.consolidation_rate=0")
    firm = arm(baseline_path, "truce.horizon=365", "constants.consolidation_rate=0.004")
    # Condition on the same truces: with common random numbers the two arms share every
    # exogenous draw, and consolidation only acts after calm days, so compare collapses after
    # day 90 among truces that held 90 days in both arms.
    held = (plain["days_held"] > 90).to_numpy() & (firm["days_held"] > 90).to_numpy()
    assert held.sum() > 200  # enough truces reach day 90 for the test to have power
    late_plain = plain["collapsed"].to_numpy()[held]
    late_firm = firm["collapsed"].to_numpy()[held]
    assert z_proportions(late_firm, late_plain) > Z
