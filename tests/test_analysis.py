"""Tests of sim.analysis against small cases worked out by hand, scipy.stats, and properties.

Tolerances: values computed here by hand-written closed forms and by scipy
differ only by floating-point rounding, so 1e-9 (relative) is used; published
values rounded to four decimals are compared to within 5e-5.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from helpers_tables import make_runs, make_sweep_runs
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis import (
    comparisons,
    grouping,
    intervals,
    jsonable,
    logrank,
    shares,
    summaries,
    survival,
    violations,
)
from sim.scenario.schema import ORIGINS

Z95 = NormalDist().inv_cdf(0.975)
TIGHT = 1e-9


def table(arm: str, horizon: int, collapses: list[int], held: int, causes=None) -> pd.DataFrame:
    """Runs of one arm: truces collapsing on the given days, ``held`` more held to the end."""
    n = len(collapses) + held
    causes = list(causes or ["spoiler"] * len(collapses)) + [None] * held
    days = collapses + [horizon] * held
    return pd.DataFrame(
        {
            "arm": arm,
            "point": 0,
            "horizon": horizon,
            "collapsed": [True] * len(collapses) + [False] * held,
            "collapse_day": pd.array(collapses + [None] * held, dtype="Int64"),
            "days_held": days,
            "cause": pd.array(causes, dtype="string"),
            "replicate": range(n),
        }
    )


# ---------------------------------------------------------------- Wilson, Newcombe


def test_wilson_matches_closed_form_for_3_of_10():
    k, n, z = 3, 10, Z95
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    share, low, high = intervals.wilson(k, n)
    assert share == pytest.approx(0.3, rel=TIGHT)
    assert low == pytest.approx(centre - half, rel=TIGHT)
    assert high == pytest.approx(centre + half, rel=TIGHT)


def test_wilson_of_nothing_is_nan():
    assert all(math.isnan(v) for v in intervals.wilson(0, 0))


def test_wilson_extremes_stay_in_unit_interval():
    share, low, high = intervals.wilson(0, 20)
    assert share == 0 and low == 0 and 0 < high < 1
    share, low, high = intervals.wilson(20, 20)
    assert share == 1 and high == pytest.approx(1) and 0 < low < 1


def test_newcombe_reproduces_the_published_example():
    # Newcombe (1998), Stat Med 17:873, Table II example (a): 56/70 − 48/80 = 0.2,
    # method 10 (hybrid score) gives 0.0524 to 0.3339, published to four decimals.
    d, low, high = intervals.newcombe_difference(48, 80, 56, 70)
    assert d == pytest.approx(0.2, rel=TIGHT)
    assert low == pytest.approx(0.0524, abs=5e-5)
    assert high == pytest.approx(0.3339, abs=5e-5)


@pytest.mark.parametrize(
    ("both", "only_b", "only_a", "neither", "low", "high"),
    [
        # Newcombe (1998), Stat Med 17:2635, the paper's worked examples, method 10,
        # published to four decimals.
        (36, 12, 2, 0, 0.0569, 0.3404),
        (18, 12, 2, 18, 0.0562, 0.3290),
        (53, 0, 0, 1, -0.0729, 0.0729),
    ],
)
def test_newcombe_paired_reproduces_the_published_examples(
    both, only_b, only_a, neither, low, high
):
    n = both + only_b + only_a + neither
    d, lo, hi = intervals.newcombe_paired_difference(both, only_b, only_a, neither)
    assert d == pytest.approx((only_b - only_a) / n, rel=TIGHT)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_newcombe_paired_without_correlation_is_the_independent_interval():
    # B = both*neither - only_b*only_a = 100*100 - 100*100 = 0: phi = 0, and with equal
    # group sizes the paired interval is the independent one term for term.
    paired = intervals.newcombe_paired_difference(100, 100, 100, 100)
    independent = intervals.newcombe_difference(200, 400, 200, 400)
    assert paired == pytest.approx(independent, rel=TIGHT)


def test_newcombe_paired_covers_the_true_difference_and_is_narrower():
    """Coverage of correlated pairs like common random numbers produce.

    Arm a collapses with chance 0.5, arm b with 0.3; with chance 0.6 a pair shares
    its uniform draw (positive correlation, as under common random numbers), so the
    margins, and the true difference −0.2, are exact. 2,000 data sets of 300 pairs:
    the Monte Carlo standard error of a 95% coverage is 0.005, and Newcombe (1998)
    reports method 10's coverage close to nominal, so 0.93–0.97 (4 standard errors)
    is the band. The paired interval must also be narrower than the independent one.
    """
    rng = np.random.default_rng(7)
    hits, narrower = 0, 0
    for _ in range(2000):
        u1, u2, shared = rng.random((3, 300))
        x_a = u1 < 0.5
        x_b = np.where(shared < 0.6, u1, u2) < 0.3
        both, only_b = int((x_a & x_b).sum()), int((x_b & ~x_a).sum())
        only_a, neither = int((x_a & ~x_b).sum()), int((~x_a & ~x_b).sum())
        _, low, high = intervals.newcombe_paired_difference(both, only_b, only_a, neither)
        hits += low <= -0.2 <= high
        _, ilow, ihigh = intervals.newcombe_difference(int(x_a.sum()), 300, int(x_b.sum()), 300)
        narrower += (high - low) < (ihigh - ilow)
    assert 0.93 <= hits / 2000 <= 0.97
    assert narrower == 2000


def test_compare_arms_pairs_replicates_run_on_common_random_numbers():
    import sim

    path = Path(__file__).resolve().parent.parent / "scenarios" / "monitoring.yaml"
    runs = sim.compare(path, replicates=400, out=None, engine="serial").runs
    paired = comparisons.compare_arms(runs, "unmonitored", "monitored")
    assert paired.paired
    # Drop one replicate of one arm: the arms no longer pair, the intervals are independent.
    loose = runs.drop(index=runs.index[runs["arm"] == "monitored"][0])
    unpaired = comparisons.compare_arms(loose, "unmonitored", "monitored")
    assert not unpaired.paired
    for p, u in zip(paired.differences, unpaired.differences, strict=True):
        assert p["high"] - p["low"] < u["high"] - u["low"]
        assert p["low"] <= p["difference"] <= p["high"]


def _geometric_truces(rng, n: int, rate: float, horizon: int = 180) -> pd.DataFrame:
    held = np.minimum(rng.geometric(rate, n), horizon)
    return pd.DataFrame({"days_held": held, "collapsed": held < horizon})


@pytest.mark.parametrize("seed", range(3))
def test_logrank_scores_sum_to_the_score_and_match_its_variance(seed):
    rng = np.random.default_rng(seed)
    a, b = _geometric_truces(rng, 3000, 0.010), _geometric_truces(rng, 3000, 0.014)
    w_a, w_b = logrank.logrank_scores(a, b)
    oe = logrank.observed_expected(a, b)
    # Exact identity: the contributions add up to O_a − E_a.
    assert w_a.sum() + w_b.sum() == pytest.approx(oe.observed_a - oe.expected_a, abs=1e-9)
    # Each truce its own cluster (independent samples): the robust variance estimates
    # the same thing as the hypergeometric one. They differ by a few per cent when the
    # hazards differ (here HR 1.4; Lin & Wei 1989) plus the sampling noise of a sum of
    # squares over 6,000 truces (~2%), hence 10%.
    assert (np.sum(w_a**2) + np.sum(w_b**2)) / oe.variance == pytest.approx(1.0, rel=0.10)


def test_paired_logrank_uses_the_pairs():
    """Common random numbers make the arms' scores cancel within a pair: the robust
    variance is smaller, and so are the test's denominator and the hazard ratio's
    interval; the estimate itself does not change."""
    import sim

    path = Path(__file__).resolve().parent.parent / "scenarios" / "monitoring.yaml"
    runs = sim.compare(path, replicates=600, out=None, engine="serial").runs
    a, b = (runs[runs["arm"] == arm] for arm in ("unmonitored", "monitored"))
    pairs = comparisons.paired_rows(a, b)
    oe = logrank.observed_expected(a, b)
    robust = logrank.paired_logrank_variance(a, b, pairs)
    assert 0 < robust < oe.variance
    paired = comparisons.compare_arms(runs, "unmonitored", "monitored")
    loose = comparisons.compare_arms(
        runs.drop(index=b.index[0]), "unmonitored", "monitored"
    )  # no longer pairs: the independent-samples formulas
    assert paired.paired and not loose.paired
    assert paired.logrank_statistic == pytest.approx(
        (oe.observed_a - oe.expected_a) / math.sqrt(robust)
    )
    width = math.log(paired.hazard_ratio_high / paired.hazard_ratio_low)
    independent = 2 * 1.959964 * math.sqrt(1 / oe.expected_a + 1 / oe.expected_b)
    assert width == pytest.approx(independent * math.sqrt(robust / oe.variance), rel=1e-6)
    assert paired.hazard_ratio_low < paired.hazard_ratio < paired.hazard_ratio_high


# ---------------------------------------------------------------- collapse by horizon

SIX = table("x", 10, [2, 4, 4, 7], held=2)
# Six truces, horizon 10: collapses on days 2, 4, 4, 7; two hold to day 10.


def test_collapse_by_horizon_by_hand():
    got = shares.collapse_by_horizon(SIX, horizons=(3, 5, 30), by="arm")
    # Within 3 days: the day-2 collapse (1 of 6). Within 5: days 2, 4, 4 (3 of 6).
    # 30 > the 10 days simulated: skipped. The horizon (10) is added: 4 of 6.
    assert got["horizon"].tolist() == [3, 5, 10]
    assert got["collapsed"].tolist() == [1, 3, 4]
    assert got["n"].tolist() == [6, 6, 6]
    for _, row in got.iterrows():
        share, low, high = intervals.wilson(row["collapsed"], 6)
        assert (row["share"], row["low"], row["high"]) == (share, low, high)


def test_collapse_by_horizon_groups_by_several_columns():
    runs = make_sweep_runs()
    got = shares.collapse_by_horizon(runs, (90,), by=["monitors.coverage", "truce.loophole_width"])
    at90 = got[got["horizon"] == 90]
    assert len(at90) == 6 and (at90["n"] == 80).all()
    one = runs[(runs["monitors.coverage"] == 0.5) & (runs["truce.loophole_width"] == 1)]
    expected = int((one["collapsed"] & (one["collapse_day"] <= 90)).sum())
    row = at90[(at90["monitors.coverage"] == 0.5) & (at90["truce.loophole_width"] == 1)]
    assert row["collapsed"].item() == expected


# ---------------------------------------------------------------- Kaplan–Meier


def test_kaplan_meier_six_truces_by_hand():
    # day 0: 6 at risk, S = 1
    # day 2: 6 at risk, 1 collapse  -> S = 5/6
    # day 4: 5 at risk, 2 collapses -> S = 5/6 · 3/5 = 1/2
    # day 7: 3 at risk, 1 collapse  -> S = 1/2 · 2/3 = 1/3
    # day 10: 2 at risk, censored   -> S = 1/3
    got = survival.survival(SIX, by="arm")
    assert got["day"].tolist() == [0, 2, 4, 7, 10]
    assert got["survival"].tolist() == pytest.approx([1, 5 / 6, 1 / 2, 1 / 3, 1 / 3], rel=TIGHT)
    assert got["at_risk"].tolist() == [6, 6, 5, 3, 2]
    # Log-log band at day 4: Greenwood sum = 1/(6·5) + 2/(5·3) = 1/6;
    # se of log(−log S) = sqrt(1/6) / |log S|; band = S ** exp(± z · se).
    se = math.sqrt(1 / 6) / abs(math.log(0.5))
    day4 = got[got["day"] == 4].iloc[0]
    assert day4["low"] == pytest.approx(0.5 ** math.exp(Z95 * se), rel=TIGHT)
    assert day4["high"] == pytest.approx(0.5 ** math.exp(-Z95 * se), rel=TIGHT)
    assert got.iloc[0][["low", "high"]].tolist() == [1, 1]


def test_medians_by_hand():
    assert survival.median_days_held(SIX) == 4  # first day with S <= 1/2
    assert survival.median_collapse_day(SIX) == 4  # median of 2, 4, 4, 7


def test_median_not_reached_is_nan():
    runs = table("x", 30, [5, 9], held=8)  # S never below 0.8
    assert math.isnan(survival.median_days_held(runs))
    assert survival.median_collapse_day(runs) == 7
    assert math.isnan(survival.median_collapse_day(table("x", 30, [], held=3)))


def test_survival_when_nothing_collapsed_runs_flat_to_the_horizon():
    got = survival.survival(table("x", 30, [], held=5))
    assert got["day"].tolist() == [0, 30]
    assert got["survival"].tolist() == [1, 1]
    assert not got[["low", "high"]].isna().any().any()


def test_survival_when_everything_collapsed_ends_at_zero_and_reaches_the_horizon():
    got = survival.survival(table("x", 30, [3, 5, 8], held=0))
    assert got["survival"].iloc[-1] == 0 and got["day"].iloc[-1] == 30
    assert not got[["low", "high"]].isna().any().any()


# ---------------------------------------------------------------- log-rank, hazard ratio


def test_logrank_three_event_times_by_hand():
    a = table("a", 5, [1, 3], held=1)
    b = table("b", 5, [2], held=2)
    # t=1: n_a=3 n_b=3 d=1 -> E_a = 3/6,  V = (3/6)(3/6)(5/5)
    # t=2: n_a=2 n_b=3 d=1 -> E_a = 2/5,  V = (2/5)(3/5)(4/4)
    # t=3: n_a=2 n_b=2 d=1 -> E_a = 2/4,  V = (2/4)(2/4)(3/3)
    e_a = 3 / 6 + 2 / 5 + 2 / 4
    v = 0.25 + 0.24 + 0.25
    o_a, o_b, e_b = 2, 1, 3 - e_a
    chi2 = (o_a - e_a) ** 2 / v
    p = math.erfc(math.sqrt(chi2 / 2))  # chi-square(1) tail
    hr = (o_b / e_b) / (o_a / e_a)
    half = Z95 * math.sqrt(1 / e_a + 1 / e_b)

    oe = logrank.observed_expected(a, b)
    assert (oe.observed_a, oe.observed_b) == (o_a, o_b)
    assert oe.expected_a == pytest.approx(e_a, rel=TIGHT)
    assert oe.expected_b == pytest.approx(e_b, rel=TIGHT)
    assert oe.variance == pytest.approx(v, rel=TIGHT)

    c = comparisons.compare_arms(pd.concat([a, b]), "a", "b", horizons=(2,))
    assert c.logrank_p == pytest.approx(p, rel=1e-7)
    assert c.hazard_ratio == pytest.approx(hr, rel=TIGHT)
    assert c.hazard_ratio_low == pytest.approx(hr * math.exp(-half), rel=TIGHT)
    assert c.hazard_ratio_high == pytest.approx(hr * math.exp(half), rel=TIGHT)
    # Within 2 days: a 1/3, b 1/3; within 5: a 2/3, b 1/3.
    assert [d["horizon"] for d in c.differences] == [2, 5]
    assert c.differences[0]["difference"] == pytest.approx(0, abs=TIGHT)
    assert c.differences[1]["difference"] == pytest.approx(-1 / 3, rel=TIGHT)


def test_logrank_with_tied_collapses_by_hand():
    a = table("a", 3, [1, 1], held=1)
    b = table("b", 3, [1, 2], held=1)
    # t=1: n=6, d=3 (2 in a) -> E_a = 3·3/6; V = 3·(1/2)(1/2)·(6−3)/(6−1)
    # t=2: n=3 (1 in a), d=1 -> E_a = 1/3;  V = (1/3)(2/3)
    e_a = 1.5 + 1 / 3
    v = 3 * 0.25 * 3 / 5 + (1 / 3) * (2 / 3)
    p = math.erfc(math.sqrt((2 - e_a) ** 2 / v / 2))
    c = comparisons.compare_arms(pd.concat([a, b]), "a", "b")
    assert c.expected_a == pytest.approx(e_a, rel=TIGHT)
    assert c.logrank_p == pytest.approx(p, rel=1e-7)


def test_hazard_ratio_is_antisymmetric_and_detects_the_safer_arm():
    runs = make_runs(n=400, seed=3)
    ab = comparisons.compare_arms(runs, "unmonitored", "monitored")
    ba = comparisons.compare_arms(runs, "monitored", "unmonitored")
    assert ab.hazard_ratio * ba.hazard_ratio == pytest.approx(1, rel=TIGHT)
    # True hazard ratio is 0.004/0.012 = 1/3; 400 truces per arm pin it well.
    assert ab.hazard_ratio_low < 1 / 3 < ab.hazard_ratio_high
    assert ab.logrank_p < 1e-6
    assert all(d["high"] < 0 for d in ab.differences)
    json.dumps(ab.to_dict(), allow_nan=False)


def test_compare_arms_without_any_collapse_gives_nan_not_an_error():
    runs = pd.concat([table("a", 10, [], held=3), table("b", 10, [], held=3)])
    c = comparisons.compare_arms(runs, "a", "b")
    assert math.isnan(c.logrank_p) and math.isnan(c.hazard_ratio)
    assert c.to_dict()["hazard_ratio"] is None


def test_compare_arms_unknown_arm():
    with pytest.raises(KeyError):
        comparisons.compare_arms(SIX, "x", "nope")


# ---------------------------------------------------------------- the same as scipy.stats
# The summary path computes Wilson intervals, the Kaplan–Meier median and the
# log-rank test itself (so that it does not import scipy.stats); here each is
# checked against scipy.stats on seeded random right-censored samples. The
# closed forms are the same algebra as scipy's, so they differ only by
# floating-point rounding: 1e-9 relative is many orders of magnitude above
# that and far below any difference a formula error would make.

# (seed, truces, days the collapse day is drawn from, share censored): small
# day ranges force ties among collapses and between collapses and censoring on
# the same day; shares 0 and 1 are the no-censoring and all-censored cases.
SAMPLES = [
    (0, 40, 5, 0.3),
    (1, 300, 60, 0.5),
    (2, 25, 3, 0.0),
    (3, 12, 10, 1.0),
    (4, 1, 4, 0.0),
    (5, 2, 2, 0.5),
    (6, 500, 180, 0.8),
    (7, 60, 8, 0.6),
]


def censored_sample(seed: int, n: int, days: int, censored: float) -> pd.DataFrame:
    """Truces with a random day each; a random share of them censored on that day."""
    rng = np.random.default_rng(seed)
    held = rng.integers(1, days + 1, size=n)
    collapsed = rng.random(n) >= censored
    return pd.DataFrame(
        {
            "arm": "x",
            "horizon": days,
            "collapsed": collapsed,
            "collapse_day": pd.array(np.where(collapsed, held, None), dtype="Int64"),
            "days_held": held,
        }
    )


def scipy_censored(rows: pd.DataFrame):
    from scipy import stats

    held = rows["days_held"].to_numpy(dtype=float)
    collapsed = rows["collapsed"].to_numpy(dtype=bool)
    return stats.CensoredData(uncensored=held[collapsed], right=held[~collapsed])


def test_wilson_matches_scipy_binomtest():
    from scipy import stats

    rng = np.random.default_rng(11)
    cases = [(0, 1), (1, 1), (0, 20), (20, 20), (1, 2), (3, 10), (500, 1000), (1, 100_000)]
    cases += [(int(rng.integers(0, n + 1)), int(n)) for n in rng.integers(1, 5000, size=40)]
    for level in (0.8, 0.9, 0.95, 0.99):
        intervals._wilson.cache_clear()
        for k, n in cases:
            ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
            share, low, high = intervals.wilson(k, n, level)
            assert share == k / n
            assert low == pytest.approx(ci.low, rel=TIGHT), (k, n, level)
            assert high == pytest.approx(ci.high, rel=TIGHT), (k, n, level)


@pytest.mark.parametrize("sample", SAMPLES)
def test_kaplan_meier_and_median_match_scipy_ecdf(sample):
    from scipy import stats

    rows = censored_sample(*sample)
    sf = stats.ecdf(scipy_censored(rows)).sf
    days, surviving = survival.kaplan_meier(rows["days_held"], rows["collapsed"])
    # scipy's steps include censoring-only days, where survival does not move.
    assert surviving == pytest.approx(sf.evaluate(days), rel=TIGHT)
    event_days = np.unique(rows.loc[rows["collapsed"], "days_held"])
    assert days.tolist() == event_days.tolist()
    reached = np.flatnonzero(sf.probabilities <= 0.5)
    expected = float(sf.quantiles[reached[0]]) if reached.size else math.nan
    got = survival.median_days_held(rows)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


@pytest.mark.parametrize("level", [0.8, 0.95])
@pytest.mark.parametrize("sample", SAMPLES)
def test_survival_steps_and_bands_match_scipy_ecdf(sample, level):
    # The step table is computed with NumPy (a report does not import scipy.stats);
    # it must be scipy's ecdf with its log-log band, linear where log-log is
    # undefined, and the estimate itself where both are.
    import warnings

    from scipy import stats

    rows = censored_sample(*sample)
    sf = stats.ecdf(scipy_censored(rows)).sf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        loglog = sf.confidence_interval(confidence_level=level, method="log-log")
        linear = sf.confidence_interval(confidence_level=level, method="linear")
    low, high = (
        np.where(np.isnan(a.probabilities), b.probabilities, a.probabilities)
        for a, b in ((loglog.low, linear.low), (loglog.high, linear.high))
    )
    low = np.where(np.isnan(low), sf.probabilities, low)
    high = np.where(np.isnan(high), sf.probabilities, high)
    got = survival.survival(rows, level=level)
    steps = got.iloc[1 : 1 + len(sf.quantiles)]  # day 0 first, the horizon row (if any) last
    assert steps["day"].tolist() == sf.quantiles.astype(int).tolist()
    assert steps["survival"].to_numpy() == pytest.approx(sf.probabilities, rel=TIGHT, abs=1e-15)
    assert steps["low"].to_numpy() == pytest.approx(low, rel=TIGHT, abs=1e-15)
    assert steps["high"].to_numpy() == pytest.approx(high, rel=TIGHT, abs=1e-15)
    held = rows["days_held"].to_numpy()
    assert steps["at_risk"].tolist() == [int((held >= t).sum()) for t in sf.quantiles]


def test_kaplan_meier_keeps_truces_censored_on_a_collapse_day_at_risk():
    # Day 2: four at risk (the truce censored on day 2 counts), one collapse;
    # day 3: two at risk, two collapses.  S = 3/4, then 0.
    held = np.array([1, 2, 2, 3, 3])
    collapsed = np.array([False, True, False, True, True])
    days, surviving = survival.kaplan_meier(held, collapsed)
    assert days.tolist() == [2, 3]
    assert surviving.tolist() == [0.75, 0.0]


@pytest.mark.parametrize("pair", list(zip(SAMPLES, SAMPLES[1:] + SAMPLES[:1], strict=True)))
def test_logrank_matches_scipy(pair):
    from scipy import stats

    a, b = censored_sample(*pair[0]), censored_sample(*pair[1]).assign(arm="y")
    oe = logrank.observed_expected(a, b)
    z, p = logrank.logrank_test(oe)
    if oe.variance > 0:
        test = stats.logrank(x=scipy_censored(a), y=scipy_censored(b))
        assert z == pytest.approx(float(test.statistic), rel=TIGHT)
        assert p == pytest.approx(float(test.pvalue), rel=TIGHT)
        c = comparisons.compare_arms(pd.concat([a, b], ignore_index=True), "x", "y")
        assert (c.logrank_statistic, c.logrank_p) == (z, p)
    else:  # no collapse with two or more truces at risk: the statistic is 0/0
        assert math.isnan(z) and math.isnan(p)


def test_logrank_all_censored_and_no_censoring_edge_cases():
    from scipy import stats

    none = censored_sample(3, 30, 10, 1.0)
    every = censored_sample(2, 30, 10, 0.0).assign(arm="y")
    oe = logrank.observed_expected(none, every)
    assert oe.observed_a == 0 and oe.observed_b == 30 and oe.variance > 0
    test = stats.logrank(x=scipy_censored(none), y=scipy_censored(every))
    z, p = logrank.logrank_test(oe)
    assert z == pytest.approx(float(test.statistic), rel=TIGHT)
    assert p == pytest.approx(float(test.pvalue), rel=TIGHT)
    assert z < 0  # group a (nothing collapsed) had fewer collapses than expected


def test_summary_path_does_not_import_scipy_stats():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from sim.analysis import summaries\n"
        "from helpers_tables import make_runs\n"
        "summaries.summarize(make_runs(n=50))\n"
        "print('scipy.stats' in sys.modules)"
    )
    here = str(Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=here
    )
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- causes, violations


def test_cause_shares_by_hand():
    runs = pd.concat(
        [
            table("a", 10, [1, 2, 3, 4], held=1, causes=["spoiler", "spoiler", "accident", "x"]),
            table("b", 10, [], held=2),
        ]
    )
    got = shares.cause_shares(runs).set_index(["arm", "cause"])
    assert list(got.loc["a"].index) == [*ORIGINS, "x"]
    assert got.loc[("a", "spoiler"), "share"] == 0.5
    assert got.loc[("a", "accident"), "count"] == 1
    assert got.loc[("a", "deliberate"), "share"] == 0
    assert got.loc["a", "share"].sum() == pytest.approx(1)
    assert got.loc["b", "share"].isna().all()  # nothing collapsed in b


def test_violations_and_attribution():
    runs = make_runs(n=50)
    by_origin = violations.violations_by_origin(runs)
    assert by_origin["origin"].unique().tolist() == list(ORIGINS)
    one = runs[runs["arm"] == "monitored"]
    row = by_origin[(by_origin["arm"] == "monitored") & (by_origin["origin"] == "spoiler")]
    assert row["mean"].item() == pytest.approx(one["violations_spoiler"].mean(), rel=TIGHT)
    by_party = violations.violations_by_party(runs)
    assert set(by_party["party"]) == {"government", "faction_north", "isis"}
    # Party means add up to the mean number of violations per truce.
    total = by_party[by_party["arm"] == "monitored"]["mean"].sum()
    assert total == pytest.approx(one["violations"].mean(), rel=TIGHT)
    att = violations.attribution(runs).set_index("arm")
    assert att.loc["monitored", "detected_share"] == pytest.approx(
        one["detected"].sum() / one["violations"].sum(), rel=TIGHT
    )
    assert (att["attributed_share"] <= att["detected_share"]).all()


# ---------------------------------------------------------------- summary


def test_summary_is_plain_json_and_consistent():
    runs = make_runs(n=120, horizon=120)
    summary = summaries.summarize(runs, horizons=(30, 90, 180))
    text = json.dumps(summary, allow_nan=False)
    assert json.loads(text) == summary
    assert [g["arm"] for g in summary["groups"]] == ["unmonitored", "monitored"]
    for g in summary["groups"]:
        assert g["replicates"] == 120
        assert [c["horizon"] for c in g["collapse"]] == [30, 90, 120]  # 180 > 120 skipped
        assert g["median_days_held_reached"] == (g["median_days_held"] is not None)
        assert sum(c["count"] for c in g["causes"]) == g["collapsed"]
    comparison = summary["comparisons"][0]
    assert (comparison["a"], comparison["b"]) == ("unmonitored", "monitored")


def test_summary_order_and_sweep_parameters():
    runs = make_runs(n=30)
    summary = summaries.summarize(runs, order=["monitored", "unmonitored"])
    assert [g["arm"] for g in summary["groups"]] == ["monitored", "unmonitored"]
    assert summary["comparisons"][0]["a"] == "monitored"
    sweep = summaries.summarize(make_sweep_runs(), by="point")
    assert [g["point"] for g in sweep["groups"]] == list(range(6))
    assert sweep["groups"][5]["parameters"] == {
        "monitors.coverage": 1.0,
        "truce.loophole_width": 1,
    }
    assert sweep["comparisons"] == []


def test_median_not_reached_is_null_in_json():
    summary = summaries.summarize(table("x", 30, [5], held=9))
    g = summary["groups"][0]
    assert g["median_days_held"] is None and g["median_days_held_reached"] is False


# ---------------------------------------------------------------- declared columns
# Each computation declares the columns it reads, so that a caller can read those
# alone (sim.api reads SUMMARY_COLUMNS and the swept parameters). Given only the
# declared columns it must give exactly what it gives on the whole table.


def _only(runs: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return runs[list(dict.fromkeys(columns))]


def _crossed_runs() -> pd.DataFrame:
    return pd.concat(
        [make_sweep_runs(arm="a", seed=1), make_sweep_runs(arm="b", seed=2)], ignore_index=True
    )


def test_summary_needs_only_its_declared_columns():
    runs = make_runs(n=120)
    light = _only(runs, *summaries.SUMMARY_COLUMNS)
    assert summaries.summarize(light) == summaries.summarize(runs)
    assert summaries.summarize(light)["comparisons"][0]["paired"]  # the pairing keys are kept
    sweep = make_sweep_runs()
    swept = grouping.swept_columns(sweep)
    light = _only(sweep, *summaries.SUMMARY_COLUMNS, *swept)
    assert summaries.summarize(light, by="point") == summaries.summarize(sweep, by="point")
    crossed = _crossed_runs()
    light = _only(crossed, *summaries.SUMMARY_COLUMNS, *swept)
    full = summaries.summarize(crossed, by="point", arms=["a", "b"])
    assert summaries.summarize(light, by="point", arms=["a", "b"]) == full
    assert len(full["comparisons"]) == 6


def test_summary_columns_are_the_union_of_what_its_parts_declare():
    parts = [
        summaries.GROUP_COLUMNS,
        comparisons.COMPARISON_COLUMNS,
        shares.COLLAPSE_COLUMNS,
        shares.CAUSE_COLUMNS,
        survival.SURVIVAL_COLUMNS,
    ]
    assert set(summaries.SUMMARY_COLUMNS) == {c for part in parts for c in part}
    assert len(set(summaries.SUMMARY_COLUMNS)) == len(summaries.SUMMARY_COLUMNS)


def test_each_computation_needs_only_its_declared_columns():
    runs = make_runs(n=80)
    pd.testing.assert_frame_equal(
        shares.collapse_by_horizon(_only(runs, "arm", *shares.COLLAPSE_COLUMNS)),
        shares.collapse_by_horizon(runs),
    )
    pd.testing.assert_frame_equal(
        shares.cause_shares(_only(runs, "arm", *shares.CAUSE_COLUMNS)), shares.cause_shares(runs)
    )
    pd.testing.assert_frame_equal(
        survival.survival(_only(runs, "arm", *survival.SURVIVAL_COLUMNS)),
        survival.survival(runs),
    )
    light = _only(runs, "arm", *comparisons.COMPARISON_COLUMNS)
    assert comparisons.compare_arms(light, "unmonitored", "monitored") == (
        comparisons.compare_arms(runs, "unmonitored", "monitored")
    )
    declared = ["arm", "truces", "violations", "detected", "attributed"]
    declared += [
        c for c in violations.attribution(runs).columns if c.endswith(("_share", "_low", "_high"))
    ]
    light = violations.attribution(_only(runs, "arm", *violations.ATTRIBUTION_COLUMNS))
    pd.testing.assert_frame_equal(light[declared], violations.attribution(runs)[declared])
    a, b = (runs[runs["arm"] == arm] for arm in ("unmonitored", "monitored"))
    cols = list(logrank.LOGRANK_COLUMNS)
    assert logrank.observed_expected(a[cols], b[cols]) == logrank.observed_expected(a, b)


# ---------------------------------------------------------------- the layer's interface


def test_package_reexports_the_computing_modules_functions():
    import sim.analysis

    for name in sim.analysis.__all__:
        value = getattr(sim.analysis, name)
        module = getattr(value, "__module__", None)
        assert module is None or module.startswith("sim.analysis."), name
    # The step table is not re-exported: its name would hide the module's.
    assert sim.analysis.survival is survival
    assert sim.analysis.compare_arms is comparisons.compare_arms


def test_jsonable_turns_numpy_and_pandas_values_into_plain_json():
    value = {
        1: np.int64(3),
        "x": [np.float64(0.5), math.nan, pd.NA, None],
        "t": (np.bool_(True), "s"),
        "a": np.array([1, 2]),
    }
    got = jsonable.to_jsonable(value)
    assert got == {"1": 3, "x": [0.5, None, None, None], "t": [True, "s"], "a": [1, 2]}
    assert type(got["1"]) is int and type(got["t"][0]) is bool
    json.dumps(got, allow_nan=False)


# ---------------------------------------------------------------- properties


@st.composite
def random_runs(draw):
    horizon = draw(st.integers(1, 60))
    arms = []
    for arm in ("a", "b"):
        days = draw(st.lists(st.integers(1, horizon + 5), min_size=1, max_size=25))
        collapses = [d for d in days if d <= horizon]
        arms.append(table(arm, horizon, collapses, held=len(days) - len(collapses)))
    return pd.concat(arms, ignore_index=True)


@settings(max_examples=60, deadline=None)
@given(random_runs())
def test_properties_of_shares_and_survival(runs):
    collapse = shares.collapse_by_horizon(runs, horizons=(1, 7, 30))
    assert ((collapse["share"] >= 0) & (collapse["share"] <= 1)).all()
    assert (collapse["low"] <= collapse["share"] + 1e-12).all()
    assert (collapse["share"] <= collapse["high"] + 1e-12).all()
    km = survival.survival(runs)
    for arm, curve in km.groupby("arm"):
        rows = runs[runs["arm"] == arm]
        s = curve["survival"].to_numpy()
        assert s[0] == 1 and (np.diff(s) <= 1e-12).all()
        assert (np.diff(curve["at_risk"].to_numpy()) <= 0).all()
        assert (curve["low"] <= curve["survival"] + 1e-12).all()
        assert (curve["survival"] <= curve["high"] + 1e-12).all()
        assert curve["day"].iloc[-1] == rows["horizon"].iloc[0]
        # Censoring happens only at the horizon, so Kaplan–Meier equals the
        # share of truces that had not collapsed by each day.
        for day, value in zip(curve["day"], s, strict=True):
            fallen = rows["collapsed"] & (rows["days_held"] <= day)
            assert value == pytest.approx(1 - fallen.mean(), abs=1e-12)
    causes = shares.cause_shares(runs).dropna(subset=["share"])
    assert ((causes["low"] <= causes["share"]) & (causes["share"] <= causes["high"])).all()
    json.dumps(summaries.summarize(runs), allow_nan=False)


# ---------------------------------------------------------------- NumPy paths equal pandas'
# The per-point aggregates of a sweep are computed in NumPy where pandas took ~50 calls
# (issue 14: a narrow point's aggregates cost more than its truces). Each must give what the
# pandas expression it replaced gives, to the bit, on tables as stored (nullable and Arrow
# integers, missing days, odd and even counts).


def _stored(n: int, seed: int, dtype: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    collapsed = rng.random(n) < rng.random()
    day = rng.integers(1, 400, n)
    collapse_day = pd.array(np.where(collapsed, day, 0), dtype=dtype)
    if n:
        collapse_day[~collapsed] = pd.NA
        collapse_day[rng.random(n) < 0.05] = pd.NA  # a collapsed truce without a day too
    held = np.where(collapsed, day, 365).astype(np.int64)
    return pd.DataFrame(
        {
            "point": np.full(n, seed % 7, np.int64),
            "collapsed": collapsed,
            "collapse_day": collapse_day,
            "days_held": held,
        }
    )


@pytest.mark.parametrize("dtype", ["Int64", "int64[pyarrow]"])
@pytest.mark.parametrize("seed", range(12))
def test_collapse_counts_and_medians_equal_pandas(seed, dtype):
    from sim.analysis.sensitivity import point_means
    from sim.analysis.shares import collapse_days, collapsed_counts, collapsed_mask
    from sim.analysis.survival import median_collapse_day

    rows = _stored([0, 1, 2, 3, 30, 31, 1000][seed % 7], seed, dtype)
    day = rows["collapse_day"].astype("Float64").fillna(np.inf).to_numpy(dtype=float)
    for h in (0, 1, 30, 90, 180, 365):
        mask = rows["collapsed"].to_numpy(dtype=bool) & (day <= h)
        np.testing.assert_array_equal(collapsed_mask(rows, h), mask)
        assert collapsed_counts(rows, [h]) == [int(mask.sum())]
    assert collapse_days(rows).shape == (len(rows),)
    among = rows.loc[rows["collapsed"].astype(bool), "collapse_day"].astype(float)
    expected = float(among.median()) if len(among) else math.nan
    got = median_collapse_day(rows)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected
    if len(rows):  # one point: the fast path against the group-by it stands for
        table = pd.DataFrame(
            {
                "point": rows["point"].to_numpy(),
                "collapse_share": rows["collapsed"].to_numpy(dtype=float),
                "mean_days_held": rows["days_held"].to_numpy(dtype=float),
            }
        )
        grouped = table.groupby("point")
        by_group = grouped.mean().assign(replicates=grouped.size())
        pd.testing.assert_frame_equal(point_means(rows), by_group, check_exact=True)
