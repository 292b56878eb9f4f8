"""The hindcast: its measures on hand-made tables, and the command end to end on few replicates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.present.charts.hindcast import hindcast_figure
from sim.present.hindcast_page import render_html
from sim.present.terminal import hindcast_tables
from sim.scenario.loading import load_scenario
from sim.validation.hindcast import (
    HISTORY,
    hazard_by_age,
    outlived_share,
    truce_row,
)

runner = CliRunner()


def _runs(days, horizon=730):
    days = np.asarray(days)
    return pd.DataFrame(
        {
            "days_held": days,
            "collapsed": days < horizon,
            "cause": pd.array(["deliberate"] * len(days), dtype="string"),
        }
    )


def test_outlived_share_counts_ties_half():
    assert outlived_share(np.array([1, 5, 5, 9]), 5) == pytest.approx(0.25 + 0.25)


def test_truce_row_intervals_and_flags():
    s = load_scenario(HISTORY / "us_russia_2016.yaml")  # observed 7 days
    row = truce_row(s, _runs(np.arange(1, 101)))  # days 1..100: quantiles known exactly
    assert row["median"] == pytest.approx(50.5)
    assert (row["p25"], row["p75"]) == pytest.approx((25.75, 75.25))
    assert not row["in_50"] and not row["in_80"]  # 7 < p10 = 10.9
    assert row["outlived"] == pytest.approx(0.935)  # 93 longer, one tie counted half


def test_observed_range_counts_inside_when_it_overlaps():
    s = load_scenario(HISTORY / "cessation_2016.yaml")  # observed 51-55
    row = truce_row(s, _runs(np.r_[np.full(50, 20), np.full(50, 54)]))
    assert row["in_80"]


def test_hazard_by_age_on_a_known_table():
    # 10 truces collapse on day 10, 10 hold to 365: 10 events over 200 + 10*30 days at risk in 0-30.
    rows = hazard_by_age(_runs(np.r_[np.full(10, 10), np.full(10, 365)], horizon=366))
    assert rows[0]["events"] == 10
    assert rows[0]["rate"] == pytest.approx(10 * 30 / (10 * 10 + 10 * 30))
    assert rows[0]["low"] < rows[0]["rate"] < rows[0]["high"]


def _page_data(truce="<b>x</b>"):
    """The plain data of a one-truce hindcast, as ``Hindcast.to_dict()`` gives it."""
    row = {
        "truce": truce,
        "observed": 7,
        "observed_low": 7,
        "observed_high": 7,
        "median": 6.0,
        "p25": 5.0,
        "p75": 9.0,
        "p10": 4.0,
        "p90": 12.0,
        "in_50": True,
        "in_80": False,
        "outlived": 0.4,
        "censored": False,
    }
    fact = {"target": [0.15, 0.45], "value": 0.3, "low": 0.2, "high": None, "met": True}
    age = {"bands": [{"from": 0, "to": 30, "events": 3, "rate": 0.5, "low": 0.1, "high": 1.4}]}
    age |= {"unit": "per 30 days", "trend": "falls", "met": True, "target": "none"}
    return {
        "replicates": 10,
        "truces": [row],
        "inside_50": 1,
        "inside_80": 0,
        "stylized_facts": {"monitoring_hazard_ratio": fact, "hazard_by_age": age},
    }


def test_chart_and_report_escape_names():
    data = _page_data()
    fig = hindcast_figure(pd.DataFrame(data["truces"]))
    assert fig.layout.xaxis.type == "log"
    assert "&lt;b&gt;x&lt;/b&gt;" in list(fig.data[-1].y)  # plotly renders tags: escaped
    page = render_html(data)
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and page.count("plotly.js v") <= 1
    # The page has the shared stylesheet inline and nothing fetched from the network.
    assert "<style>" in page and "<script src=" not in page
    # The tables: the truce's row and the stylized fact with its target as a range.
    assert "5–9" in page and "4–12" in page and "40%" in page
    assert "0.15–0.45" in page and "0.2–" in page


def test_terminal_tables_read_the_plain_data():
    truces, facts = hindcast_tables(_page_data("[bold]x[/bold]"))
    assert truces.row_count == 1 and facts.row_count == 2
    cells = [str(c) for c in truces.columns[0].cells]
    assert cells == ["[bold]x[/bold]"]  # scenario text is never read as markup
    assert [str(c) for c in truces.columns[6].cells] == ["no"]
    assert "0.15–0.45" in [str(c) for c in facts.columns[1].cells]


def test_hindcast_json_runs_on_few_replicates(tmp_path):
    res = runner.invoke(app, ["hindcast", "--replicates", "20", "--json", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["n_truces"] == len(data["truces"]) >= 4
    for row in data["truces"]:
        for key in (
            "truce",
            "observed",
            "median",
            "p25",
            "p75",
            "p10",
            "p90",
            "in_50",
            "in_80",
            "outlived",
        ):
            assert key in row
        assert row["p10"] <= row["p25"] <= row["median"] <= row["p75"] <= row["p90"]
        assert 0.0 <= row["outlived"] <= 1.0
    facts = data["stylized_facts"]
    for key in (
        "monitoring_hazard_ratio",
        "collapse_within_365_unmonitored",
        "escalation_days",
        "hazard_by_age",
    ):
        assert "target" in facts[key]
    assert (tmp_path / "hindcast").is_dir()
    assert list((tmp_path / "hindcast").glob("*/report.html"))


def test_bad_folder_exits_with_status_2(tmp_path):
    res = runner.invoke(app, ["hindcast", str(tmp_path / "nope"), "-n", "5"])
    assert res.exit_code == 2
    assert "not a folder" in res.output


def test_history_file_without_observed_outcome_exits_with_status_2(tmp_path):
    (tmp_path / "x.yaml").write_text("name: x\n")
    res = runner.invoke(app, ["hindcast", str(tmp_path), "-n", "5"])
    assert res.exit_code == 2
    assert "observed" in res.output
