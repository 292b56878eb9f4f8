"""One plain-language vocabulary of the origins, in text.py; charts, terminal, report use it."""

from __future__ import annotations

import re

import pytest
from helpers_tables import make_runs, make_trace, write_results_dir

from sim.present import charts, terminal, text
from sim.present.report import build_report
from sim.scenario.schema import ORIGINS


@pytest.mark.parametrize("origin", ORIGINS)
def test_every_origin_has_all_its_words(origin):
    words = text.VOCABULARY[origin]
    assert words.label and words.phrase and words.cause
    assert text.origin_label(origin) == words.label == text.ORIGIN_LABELS[origin]
    assert text.origin_phrase(origin) == words.phrase == text.ORIGIN_PHRASES[origin]
    assert text.cause_phrase(origin) == words.cause == text.CAUSE_PHRASES[origin]


def test_the_vocabulary_names_exactly_the_model_origins():
    assert set(text.VOCABULARY) == set(ORIGINS)
    # Distinct words: no two origins read the same anywhere.
    for kind in ("label", "phrase", "cause"):
        assert len({getattr(w, kind) for w in text.VOCABULARY.values()}) == len(ORIGINS)


def test_unknown_origins_read_as_given():
    assert text.origin_label("weather") == "weather"
    assert text.cause_phrase("") == "violence"


def test_cause_chart_legend_is_the_vocabulary():
    runs = make_runs({"unmonitored": 0.01, "monitored": 0.004}, n=200)
    fig = charts.cause_chart(runs)
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert legend and set(legend) <= set(text.ORIGIN_LABELS.values())
    assert legend == [text.ORIGIN_LABELS[o] for o in ORIGINS if o in runs["cause"].unique()]


def test_timeline_legend_and_collapse_mark_are_the_vocabulary():
    days, events = make_trace()
    fig = charts.timeline_chart(days, events)
    bars = [t.name for t in fig.data if t.type == "bar"]
    assert bars == [text.ORIGIN_LABELS[o] for o in ORIGINS]
    cause = events.loc[events["kind"] == "collapse", "origin"].iloc[0]
    marks = [a.text for a in fig.layout.annotations if "collapsed" in a.text]
    assert marks == [f"truce collapsed (day 42): {text.cause_phrase(cause)}"]


def test_terminal_causes_table_heads_are_the_vocabulary():
    summary = {
        "by": "arm",
        "groups": [
            {
                "arm": "a",
                "replicates": 10,
                "horizon": 180,
                "collapse": [],
                "median_days_held": None,
                "median_collapse_day": None,
                "causes": [{"cause": o, "share": 0.2} for o in ORIGINS],
            }
        ],
    }
    _, causes = terminal.summary_tables(summary, "t")
    heads = [str(c.header) for c in causes.columns[1:]]
    assert heads == [text.ORIGIN_LABELS[o] for o in ORIGINS]


def test_report_names_the_origins_with_the_vocabulary(tmp_path):
    runs = make_runs({"unmonitored": 0.01, "monitored": 0.004}, n=100)
    write_results_dir(tmp_path, runs)
    page = build_report(tmp_path).read_text(encoding="utf-8")
    rows = re.findall(r"<td>… ([^<]+)</td>", page)
    assert rows == [text.ORIGIN_LABELS[o] for o in ORIGINS]
    # The cause chart's legend in the page's figure JSON.
    for o in ORIGINS:
        assert f'"name":"{text.ORIGIN_LABELS[o]}"' in page
