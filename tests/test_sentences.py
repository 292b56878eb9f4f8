"""Tests of sim.present.sentences: numbers in words and the plain-language summary.

Every number in the sentences must be the summary's own, rounded as the
formatters round it, so the tests read the numbers back out of the text and
compare them with the summary dictionary.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers_tables import make_runs, make_sweep_runs

from sim.analysis.summaries import summarize
from sim.present import charts, sentences
from sim.present import text as narrative
from sim.scenario.schema import ORIGINS

# ---------------------------------------------------------------- numbers in words


@pytest.mark.parametrize(
    ("share", "text"), [(0.613, "61%"), (0.0, "0%"), (1.0, "100%"), (0.004, "0%")]
)
def test_pct_is_a_whole_percentage(share, text):
    assert sentences.pct(share) == text


def test_pct_range_and_share_text():
    assert sentences.pct_range(0.58, 0.64) == "58–64%"
    assert sentences.share_text(0.613, 0.58, 0.64) == "61% (58–64%)"
    assert sentences.share_text(0.613, None, 0.64) == "61%"  # no interval, the share alone


@pytest.mark.parametrize(
    ("p", "text"), [(0.0344, "p = 0.034"), (0.001, "p = 0.001"), (0.00099, "p < 0.001")]
)
def test_p_value(p, text):
    assert sentences.p_value(p) == text


def test_points_and_differences_use_a_real_minus_sign():
    assert sentences.points(-0.28) == "−28"
    assert sentences.points(0.05) == "+5"
    row = {"difference": -0.28, "low": -0.35, "high": -0.21}
    assert sentences.difference_text(row) == "−28 (−35 to −21)"
    assert sentences.difference_text({**row, "low": None, "high": None}) == "−28 (— to —)"


def test_value_text_rounds_floats_only():
    assert sentences.value_text(0.123456) == "0.1235"
    assert sentences.value_text(3) == "3"
    assert sentences.value_text("wide") == "wide"


@pytest.mark.parametrize(
    "phrases",
    [
        sentences.CAUSE_PHRASES,
        charts.ORIGIN_LABELS,
        narrative._CAUSE_WORDS,
        narrative._ORIGIN_WORDS,
    ],
    ids=["sentences.CAUSE_PHRASES", "charts.ORIGIN_LABELS", "cause words", "origin words"],
)
def test_every_origin_has_a_phrase(phrases):
    assert set(phrases) == set(ORIGINS)


# ---------------------------------------------------------------- plain summary


def test_median_not_reached_reads_as_still_holding():
    # Ten truces over 30 days, one collapse on day 5: survival never reaches 0.5.
    runs = pd.DataFrame(
        {
            "arm": "x",
            "point": 0,
            "horizon": 30,
            "collapsed": [True] + [False] * 9,
            "collapse_day": pd.array([5] + [None] * 9, dtype="Int64"),
            "days_held": [5] + [30] * 9,
            "cause": pd.array(["spoiler"] + [None] * 9, dtype="string"),
            "replicate": range(10),
        }
    )
    text = sentences.plain_summary(summarize(runs))
    assert "More than half of the simulated truces still held at day 30." in text


def test_plain_summary_numbers_come_from_the_summary():
    runs = make_runs(n=200)
    summary = summarize(runs)
    labels = {"unmonitored": "without monitors", "monitored": "with monitors"}
    text = " ".join(sentences.plain_summary(summary, horizon=90, labels=labels))
    at90 = [next(c for c in g["collapse"] if c["horizon"] == 90) for g in summary["groups"]]
    first = re.search(r"Without monitors, (\d+)% of 200 .*? \(95% CI (\d+)–(\d+)%\)", text)
    assert first, text
    assert [int(x) for x in first.groups()] == [
        round(at90[0]["share"] * 100),
        round(at90[0]["low"] * 100),
        round(at90[0]["high"] * 100),
    ]
    second = re.search(r"with monitors, (\d+)% of 200 \(95% CI (\d+)–(\d+)%\)", text)
    assert second, text
    assert [int(x) for x in second.groups()] == [
        round(at90[1]["share"] * 100),
        round(at90[1]["low"] * 100),
        round(at90[1]["high"] * 100),
    ]
    hr = summary["comparisons"][0]["hazard_ratio"]
    assert f"hazard ratio {hr:.2f}" in text
    top = summary["groups"][0]["causes"][0]
    phrase = sentences.CAUSE_PHRASES[top["cause"]]
    assert f"{phrase} without monitors ({round(top['share'] * 100)}%" in text


def test_plain_summary_single_run_and_sweep():
    single = sentences.plain_summary(summarize(make_runs({"only": 0.01}, n=100)))
    assert single[0].startswith("Of 100 simulated truces, ")
    sweep = sentences.plain_summary(summarize(make_sweep_runs(), by="point"))
    assert sweep[0].startswith("Across 6 design points")
    assert "monitors.coverage = " in sweep[0]
