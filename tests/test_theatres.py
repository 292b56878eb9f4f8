"""Theatres, signing and the intensity rule (issue 13: the model's structure, not the scenario).

Statistical tests compare two independent samples (different random layouts: adding
a party changes the shape of the draws) with two-sided tests at p < 0.001, so a
correct model fails one of them about once in a thousand runs; the seeds are fixed,
so a given commit passes or fails deterministically.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.experiment.runner import run_one
from sim.model.model import CeasefireModel
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario

pytestmark = pytest.mark.xdist_group("theatres")

INERT = {
    "name": "bystander",
    "strength": 0.0,  # no forces: it cannot fire, be targeted or weigh in a mean (E2c)
    "resolve": 0.0,
    "cohesion": 1.0,
    "entanglement": 0.0,
}
ALPHA = 0.001


def _with_factions(path, extra, *sets):
    base = load_scenario(path, ["truce.horizon=365", *sets])
    factions = [f.model_dump() for f in base.factions] + extra
    return base.model_validate(base.model_dump() | {"factions": factions})


def test_a_party_that_does_nothing_changes_nothing(baseline_path):
    """Adding a faction with no forces leaves the distribution of outcomes unchanged."""
    n = 3000
    plain = run_one(_with_factions(baseline_path, []), seed=11, replicates=n)
    added = run_one(_with_factions(baseline_path, [INERT]), seed=12, replicates=n)
    # It never acts and is never hit: nothing is ever counted against or for it.
    assert (added["party_bystander"] == 0).all()
    # Same chance of collapse: two-proportion z-test, two-sided p < 0.001 (|z| < 3.29).
    a, b = plain["collapsed"].to_numpy(), added["collapsed"].to_numpy()
    pooled = (a.sum() + b.sum()) / (2 * n)
    z = (a.mean() - b.mean()) / np.sqrt(pooled * (1 - pooled) * 2 / n)
    assert abs(z) < 3.29, (a.mean(), b.mean())
    # Same timing: two-sample Kolmogorov–Smirnov on days held, p > 0.001.
    ks = stats.ks_2samp(plain["days_held"], added["days_held"])
    assert ks.pvalue > ALPHA, ks
    # Same violence by origin (Welch t on the per-truce totals, p > 0.001).
    t = stats.ttest_ind(plain["violations"], added["violations"], equal_var=False)
    assert t.pvalue > ALPHA, t


def test_more_active_parties_mean_more_violence_not_a_lower_bar(baseline_path):
    """The threshold is per theatre: active parties add their violence, inert ones nothing."""
    inert = [dict(INERT, name=f"bystander_{k}") for k in range(3)]
    plain = run_one(_with_factions(baseline_path, []), seed=5, replicates=1000)
    added = run_one(_with_factions(baseline_path, inert), seed=5, replicates=1000)
    ks = stats.ks_2samp(plain["days_held"], added["days_held"])
    assert ks.pvalue > ALPHA, ks


def test_rejection_ends_the_truce_on_day_one(baseline_path):
    results = run_one(
        load_scenario(baseline_path, ["government.rejection=1"]), seed=3, replicates=300
    )
    assert (results["collapse_day"] == 1).all()
    assert set(results["collapse_trigger"]) == {"intensity"}
    assert set(results["cause"]) == {"deliberate"}


def test_day_one_collapse_follows_the_signing(baseline_path):
    """Every truce a party rejects at signing ends on day 1; the rest as the signing drew."""
    scenario = load_scenario(baseline_path, ["factions.faction_b.rejection=0.3"])
    model = CeasefireModel(scenario, replicates=4000, seed=8, collect=False)
    rejected = model.at_war[2].copy()
    model.run()
    day_one = model.collapse_day == 1
    assert day_one[rejected].all()
    # The signing draw: the share rejected is Binomial(4000, 0.3): within 4 standard
    # deviations (sd = sqrt(0.3 · 0.7 / 4000) ≈ 0.0072).
    assert abs(rejected.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 4000)
    # Without a rejection a truce rarely ends on day 1 (K = 3 days of high violence needed,
    # or a single day at the intensity bar).
    assert day_one[~rejected].mean() < 0.05


def test_collapse_on_day_one_is_reachable_without_rejection(baseline_path):
    """A single day of very high violence is enough (the intensity rule)."""
    scenario = load_scenario(baseline_path, ["truce.collapse.intensity=1", "truce.lead_time=30"])
    results = run_one(scenario, seed=4, replicates=2000)
    day_one = results["collapse_day"] == 1
    assert day_one.any()
    assert set(results.loc[day_one, "collapse_trigger"]) <= {"intensity", "withdrawal"}


def test_a_conditional_party_goes_to_war_after_a_violation(baseline_path):
    scenario = load_scenario(
        baseline_path, [f"{p}.conditional=1" for p in ("government", "factions.faction_a")]
    )
    model = CeasefireModel(scenario, replicates=500, seed=9, collect=False)
    assert model.conditional[:2].all() and not model.at_war.any()
    model.run()
    # Whoever went to war was conditional (nobody rejected at signing).
    assert not (model.at_war & ~model.conditional).any()
    assert model.at_war[:2].any()


def test_conditional_acceptance_raises_collapse(baseline_path):
    """Paired arms (common random numbers): conditional acceptance ends truces sooner."""
    low = run_one(load_scenario(baseline_path), seed=6, replicates=1000)
    high = run_one(
        load_scenario(baseline_path, ["government.conditional=1"]), seed=6, replicates=1000
    )
    d = high["days_held"].to_numpy() - low["days_held"].to_numpy()
    z = d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))
    assert z < -3.29


@pytest.fixture
def zones_path(baseline_path):
    return baseline_path.parent / "zones.yaml"


@pytest.fixture
def zones(zones_path):
    return load_scenario(zones_path)


def test_zones_fall_one_by_one(zones):
    results = run_one(zones, seed=21, replicates=2000)
    days = results[[f"theatre_{t.name}_collapse_day" for t in zones.theatres]]
    fell = days.notna().sum(axis=1)
    assert (fell == results["theatres_collapsed"]).all()
    first = results["first_collapse_day"]
    assert (first.isna() == (fell == 0)).all()
    assert (first.dropna() == days.min(axis=1).dropna()).all()
    # Share rule, three zones, share 0.5: two must fall for the deal to end by violence.
    by_violence = results["collapse_trigger"].isin(["violence", "intensity"]).fillna(False)
    assert (fell[by_violence] >= 2).all()
    assert (results.loc[by_violence, "collapse_day"] == days[by_violence].max(axis=1)).all()
    # A zone can fall while the deal holds: "escalation in some regions, not all".
    assert ((fell == 1) & ~results["collapsed"]).any()
    # Every collapse day lies within the horizon, and a zone never falls after the deal.
    held = results["days_held"]
    assert ((days.max(axis=1) <= held) | days.max(axis=1).isna()).all()


def test_the_first_rule_ends_the_deal_with_its_first_zone(zones_path):
    scenario = load_scenario(zones_path, ["truce.end.rule=first"])
    results = run_one(scenario, seed=22, replicates=1000)
    by_violence = results["collapse_trigger"].isin(["violence", "intensity"]).fillna(False)
    assert (
        results.loc[by_violence, "collapse_day"] == results.loc[by_violence, "first_collapse_day"]
    ).all()
    assert (results.loc[by_violence, "theatres_collapsed"] >= 1).all()


def test_spill_over_raises_collapse(zones_path):
    def arm(spill: float):
        scenario = load_scenario(zones_path, [f"constants.spill_over={spill}"])
        return run_one(scenario, seed=23, replicates=1500)

    d = arm(1.0)["days_held"].to_numpy() - arm(0.0)["days_held"].to_numpy()
    z = d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))
    assert z < -3.29


def test_one_theatre_is_the_whole_truce(baseline_path):
    results = run_one(load_scenario(baseline_path), seed=2, replicates=500)
    by_violence = results["collapse_trigger"].isin(["violence", "intensity"]).fillna(False)
    assert (
        results.loc[by_violence, "theatre_main_collapse_day"]
        == results.loc[by_violence, "collapse_day"]
    ).all()


@pytest.mark.parametrize(
    ("theatres", "field", "expected"),
    [
        (
            [{"name": "north", "parties": ["government", "rebels"]}],
            "theatres.0.parties.1",
            "rebels",
        ),
        ([{"name": "north", "parties": ["faction_a"]}], "theatres.0.parties", "government"),
        (
            [{"name": "north", "parties": ["government", "faction_a"]}],
            "factions.1.name",
            "no theatre",
        ),
        (
            [{"name": "north"}, {"name": "north"}],
            "theatres.1.name",
            "already used",
        ),
    ],
)
def test_bad_theatres_are_one_clear_error(baseline_path, theatres, field, expected):
    base = load_scenario(baseline_path)
    with pytest.raises(ScenarioError) as error:
        load_scenario(baseline_path, [f"theatres={_yaml(theatres)}"])
    message = str(error.value)
    assert field in message and expected in message, message
    assert base.theatres == ()


def _yaml(value) -> str:
    import json

    return json.dumps(value)


def test_a_zones_run_stored_and_read_back_keeps_every_theatre(zones_path, tmp_path):
    """`truce run` of a deal of zones, stored in parts and read back: the same truces."""
    from typer.testing import CliRunner

    from sim.cli import app
    from sim.experiment import storage

    got = CliRunner().invoke(
        app,
        ["run", str(zones_path), "-n", "120", "--chunk-size", "50", "--engine", "serial"]
        + ["--out", str(tmp_path), "--seed", "31"],
    )
    assert got.exit_code == 0, got.output
    (folder,) = [p for p in (tmp_path / "zones").iterdir() if p.is_dir()]
    stored = storage.read_runs(folder).sort_values(["chunk", "replicate"])
    names = [t.name for t in load_scenario(zones_path).theatres]
    for name in names:
        assert f"theatre_{name}_collapse_day" in stored and f"theatre_{name}_cause" in stored
    days = stored[[f"theatre_{n}_collapse_day" for n in names]]
    assert (days.notna().sum(axis=1) == stored["theatres_collapsed"]).all()
    # The same truces as the runner gives in memory, chunk by chunk.
    for chunk, rows in stored.groupby("chunk"):
        size = len(rows)
        direct = run_one(load_scenario(zones_path), seed=31, replicates=size, chunk=int(chunk))
        assert (rows["days_held"].to_numpy() == direct["days_held"].to_numpy()).all()
        assert (
            rows["theatres_collapsed"].to_numpy() == direct["theatres_collapsed"].to_numpy()
        ).all()
