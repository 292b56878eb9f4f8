"""The forecast scores: log score, floor, censored records, pooled benchmark, rank correlation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.scenario.schema import Observed
from sim.validation import scoring
from sim.validation.scoring import (
    floor,
    log_score,
    observed_share,
    rank_correlation,
    score_truces,
    summary,
    window,
)


def _runs(days, horizon=730):
    days = np.asarray(days, dtype=float)
    return pd.DataFrame({"days_held": days, "collapsed": days < horizon})


def _obs(days, low=None, high=None, censored=False):
    return Observed(days_held=days, low=low, high=high, censored=censored, source="test")


def test_window_widens_by_ten_percent_and_at_least_three_days():
    assert window(_obs(7)) == pytest.approx((4, 10))  # 10% of 7 is under 3 days
    assert window(_obs(345)) == pytest.approx((310.5, 379.5))
    assert window(_obs(53, low=51, high=55)) == pytest.approx((45.9, 60.5))
    assert window(_obs(1))[0] == 0  # never below day 0


def test_a_perfect_forecast_scores_zero():
    obs = _obs(64)
    runs = _runs(np.full(200, 64))
    assert observed_share(runs, obs) == 1.0
    assert log_score(observed_share(runs, obs), len(runs)) == 0.0


def test_share_counts_collapses_in_the_window_only():
    # 10 collapse on day 8 (inside 4-10), 10 on day 20, 20 hold to the horizon.
    runs = _runs(np.r_[np.full(10, 8), np.full(10, 20), np.full(20, 730)])
    assert observed_share(runs, _obs(7)) == pytest.approx(10 / 40)
    # A truce held to the horizon ended on no day, even when the window reaches the horizon.
    assert observed_share(runs, _obs(700)) == 0.0


def test_zero_share_takes_the_floor_of_half_a_truce():
    runs = _runs(np.full(50, 300))
    share = observed_share(runs, _obs(7))
    assert share == 0.0
    assert floor(50) == pytest.approx(0.01)
    assert log_score(share, 50) == pytest.approx(math.log(1 / 100))
    assert log_score(0.5, 50) == pytest.approx(math.log(0.5))  # above the floor: untouched


def test_censored_record_scores_the_share_still_holding():
    # still holding after 100 days: 30 collapsed by then (day 100 itself counts as collapsed).
    runs = _runs(np.r_[np.full(20, 50), np.full(10, 100), np.full(30, 101), np.full(40, 730)])
    assert observed_share(runs, _obs(100, censored=True)) == pytest.approx(70 / 100)
    # The same days uncensored are scored on the window 90-110 instead.
    assert observed_share(runs, _obs(100)) == pytest.approx(40 / 100)


def test_benchmark_has_zero_skill_against_itself():
    # The 345-day truce gets share 0 from both: the same floor, so skill 0 there too.
    runs = _runs(np.r_[np.full(30, 8), np.full(70, 400)])
    names, observed = ["a", "b", "c"], [_obs(7), _obs(345), _obs(60, censored=True)]
    scores = score_truces(names, observed, [runs] * 3, [730] * 3)
    for s in scores:
        assert s.skill == pytest.approx(0.0)
        assert s.log_score == pytest.approx(s.pooled_log_score)
    assert summary(scores)["skill"] == pytest.approx(0.0)


def test_skill_rewards_the_truce_specific_forecast():
    short = _runs(np.full(100, 7))  # forecasts a 7-day truce
    long = _runs(np.full(100, 345))  # forecasts a 345-day truce
    scores = score_truces(["s", "l"], [_obs(7), _obs(345)], [short, long], [730, 730])
    # Each own share is 1 (log score 0); the pooled share is 1/2 for both.
    for s in scores:
        assert s.log_score == 0.0
        assert s.pooled_share == pytest.approx(0.5)
        assert s.skill == pytest.approx(math.log(2))
    # Swapped forecasts: own share 0 -> floor 1/200; the benchmark is unchanged.
    swapped = score_truces(["s", "l"], [_obs(7), _obs(345)], [long, short], [730, 730])
    for s in swapped:
        assert s.log_score == pytest.approx(math.log(1 / 200))
        assert s.skill == pytest.approx(math.log(1 / 200) - math.log(0.5))


def test_pooled_benchmark_weighs_files_equally():
    big = _runs(np.full(900, 7))
    small = _runs(np.full(100, 300))
    share = scoring.pooled_share([big, small], _obs(7))
    assert share == pytest.approx(0.5)  # not 0.9: each file weighs the same


def test_rank_correlation_and_its_exact_p():
    r = rank_correlation([10, 20, 30, 40], [7, 53, 64, 345])
    assert r["rho"] == pytest.approx(1.0)
    assert r["p"] == pytest.approx(2 / 24)  # 2 of the 24 orderings have |rho| = 1
    assert rank_correlation([40, 30, 20, 10], [7, 53, 64, 345])["rho"] == pytest.approx(-1.0)
    assert math.isnan(rank_correlation([730, 730, 730], [7, 53, 64])["rho"])
    assert math.isnan(rank_correlation([1, 2], [1, 2])["rho"])


def test_observed_point_midpoint_and_censored_lower_bound():
    assert scoring.observed_point(_obs(53, low=51, high=55)) == 53
    assert scoring.observed_point(_obs(120, censored=True)) == 120


def test_simulated_median_not_reached_is_the_horizon():
    assert scoring.simulated_median(_runs(np.full(10, 730)), 730) == 730
    assert scoring.simulated_median(_runs(np.r_[np.full(6, 5), np.full(4, 730)]), 730) == 5


def test_meaning_reads_the_sign_of_the_skill():
    assert "helped" in scoring.meaning({"skill": math.log(2)})
    assert "2 times" in scoring.meaning({"skill": math.log(2)})
    assert "worse" in scoring.meaning({"skill": -1.0})
    assert scoring.meaning({"skill": math.nan}) == "No truce was scored."
