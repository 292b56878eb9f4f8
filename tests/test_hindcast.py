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
from sim.scenario.catalog import history_dir
from sim.scenario.loading import load_scenario
from sim.validation.hindcast import (
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
    s = load_scenario(history_dir() / "us_russia_2016.yaml")  # observed 7 days
    row = truce_row(s, _runs(np.arange(1, 101)))  # days 1..100: quantiles known exactly
    assert row["median"] == pytest.approx(50.5)
    assert (row["p25"], row["p75"]) == pytest.approx((25.75, 75.25))
    assert not row["in_50"] and not row["in_80"]  # 7 < p10 = 10.9
    assert row["outlived"] == pytest.approx(0.935)  # 93 longer, one tie counted half


def test_observed_range_counts_inside_when_it_overlaps():
    s = load_scenario(history_dir() / "cessation_2016.yaml")  # observed 51-55
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
        "horizon": 730,
        "observed_censored": False,
        "window_low": 4.0,
        "window_high": 10.0,
        "share": 0.25,
        "log_score": -1.386,
        "pooled_share": 0.1,
        "pooled_log_score": -2.303,
        "skill": 0.916,
        "km_median": 6.0,
        "observed_point": 7.0,
    }
    fact = {"target": [0.15, 0.45], "value": 0.3, "low": 0.2, "high": None, "met": True}
    fact |= {"role": "fit"}
    check = {"target": "below 1", "value": 0.6, "low": 0.5, "high": 0.7, "met": True}
    check |= {"role": "check"}
    age = {"bands": [{"from": 0, "to": 30, "events": 3, "rate": 0.5, "low": 0.1, "high": 1.4}]}
    age |= {"unit": "per 30 days", "trend": "falls", "met": True, "target": "none"}
    return {
        "replicates": 10,
        "truces": [row],
        "inside_50": 1,
        "inside_80": 0,
        "scores": {
            "overall": {
                "mean_log_score": -1.386,
                "mean_pooled_log_score": -2.303,
                "skill": 0.916,
                "rank_correlation": {"rho": float("nan"), "p": float("nan"), "n": 1},
            },
            "meaning": "The plain sentence.",
            "settings": {"tolerance": 0.1, "min_tolerance_days": 3},
        },
        "leave_one_out": None,
        "stylized_facts": {
            "monitoring_hazard_ratio": fact,
            "guarantees": check,
            "hazard_by_age": age,
        },
    }


def _loo():
    row = {"truce": "<i>y</i>", "share": 0.05, "log_score": -3.0, "pooled_log_score": -3.5}
    row |= {"skill": 0.5, "distance": 0.4, "simulated_median": 12.0}
    settings = {"budget": 2, "replicates": 10, "refine": 1, "refine_replicates": 10, "seed": 7}
    settings["description"] = "each fold: budget 2, 10 truces per point, refine 1 × 10, seed 7"
    means = {"mean_log_score": -3.0, "mean_pooled_log_score": -3.5, "skill": 0.5}
    means |= {"rank_correlation": {"rho": 0.4, "p": 0.75, "n": 4}}
    return {"settings": settings, "truces": [row], **means}


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
    # The tables: the truce's row (window, share, scores) and the facts with target and role.
    assert "4–10" in page and "4–12" in page and "25.0%" in page
    assert "-1.39" in page and "-2.30" in page and "+0.92" in page
    assert "0.15–0.45" in page and "0.2–" in page and "below 1" in page
    assert ">fit<" in page and ">check<" in page
    # The scores and their meaning in one sentence; no leave-one-out section without one.
    assert "The plain sentence." in page and "skill +0.92" in page
    assert "leave-one-out" not in page
    with_loo = render_html({**data, "leave_one_out": _loo()})
    assert 'id="leave-one-out"' in with_loo and "&lt;i&gt;y&lt;/i&gt;" in with_loo
    assert "budget 2" in with_loo and "skill +0.50" in with_loo and "0.4." in with_loo


def test_terminal_tables_read_the_plain_data():
    truces, facts = hindcast_tables(_page_data("[bold]x[/bold]"))
    assert truces.row_count == 1 and facts.row_count == 3
    cells = [str(c) for c in truces.columns[0].cells]
    assert cells == ["[bold]x[/bold]"]  # scenario text is never read as markup
    column = {c.header: [str(x) for x in c.cells] for c in truces.columns}
    assert column["scored window"] == ["4–10"] and column["P(observed)"] == ["25.0%"]
    assert column["skill"] == ["+0.92"]
    assert "skill +0.92" in str(truces.caption)
    assert "0.15–0.45" in [str(c) for c in facts.columns[2].cells]
    assert [str(c) for c in facts.columns[1].cells] == ["fit", "check", ""]
    truces, loo, facts = hindcast_tables({**_page_data(), "leave_one_out": _loo()})
    assert loo.row_count == 1 and "budget 2" in str(loo.title)


def test_censored_record_shows_as_a_lower_bound():
    data = _page_data()
    data["truces"][0] |= {"observed_censored": True, "window_low": None, "window_high": None}
    truces = hindcast_tables(data)[0]
    column = {c.header: [str(x) for x in c.cells] for c in truces.columns}
    assert column["observed"] == ["7+"] and column["scored window"] == ["> 7"]


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
        # The score is the log of the share, floored at half a simulated truce.
        assert 0.0 <= row["share"] <= 1.0
        assert row["log_score"] == pytest.approx(np.log(max(row["share"], 1 / 40)))
        assert row["skill"] == pytest.approx(row["log_score"] - row["pooled_log_score"])
    overall = data["scores"]["overall"]
    assert overall["skill"] == pytest.approx(np.mean([r["skill"] for r in data["truces"]]))
    assert overall["rank_correlation"]["n"] == len(data["truces"])
    assert data["scores"]["settings"]["tolerance"] > 0 and data["scores"]["meaning"]
    assert data["leave_one_out"] is None
    facts = data["stylized_facts"]
    for key in (
        "monitoring_hazard_ratio",
        "collapse_within_365_unmonitored",
        "escalation_days",
        "hazard_by_age",
    ):
        assert "target" in facts[key] and facts[key]["role"] == "fit"
    checks = [k for k, f in facts.items() if f["role"] == "check"]
    assert len(checks) >= 2
    for key in checks:
        assert facts[key]["source"] and facts[key]["low"] <= facts[key]["value"]
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


def test_leave_one_out_on_a_tiny_budget(tmp_path):
    # Four history files (four folds) from the command line's own history-folder argument:
    # the same path as the bundled fifteen, a quarter of the folds and far fewer runs each.
    history = tmp_path / "history"
    history.mkdir()
    for path in sorted(history_dir().glob("*.yaml"))[:4]:
        (history / path.name).write_text(path.read_text())
    args = ["hindcast", str(history), "-n", "20", "--leave-one-out", "--budget", "2"]
    args += ["--calibration-replicates", "10", "--refine", "1", "--refine-replicates", "10"]
    res = runner.invoke(app, [*args, "--seed", "5", "--json", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    loo = data["leave_one_out"]
    assert loo["settings"] | {"budget": 2, "replicates": 10, "seed": 5} == loo["settings"]
    assert loo["settings"]["refine_replicates"] == 10 and loo["settings"]["score_replicates"] == 20
    names = [r["truce"] for r in data["truces"]]
    assert len(names) == 4
    assert [r["truce"] for r in loo["truces"]] == names
    for row in loo["truces"]:
        # Each fold is fitted without the truce it scores, on all the others.
        assert row["truce"] not in row["trained_on"]
        assert sorted([*row["trained_on"], row["truce"]]) == sorted(names)
        assert row["skill"] == pytest.approx(row["log_score"] - row["pooled_log_score"])
        assert set(row["constants"]) and row["distance"] >= 0
    assert loo["skill"] == pytest.approx(np.mean([r["skill"] for r in loo["truces"]]))
    assert loo["rank_correlation"]["n"] == len(names)


def test_calibrate_fits_the_history_it_is_given():
    from sim.validation.calibrate import calibrate
    from sim.validation.hindcast import load_history

    some = load_history()[:2]
    cal = calibrate(2, 10, 3, refine=1, refine_replicates=10, out=None, history=some)
    assert cal.manifest["history"] == [s.name for s in some]
    assert sorted(k for k in cal.best_fit if k.startswith("obs_")) == sorted(
        f"obs_{s.name}" for s in some
    )


def test_leave_one_out_refuses_a_size_that_cannot_fit_before_any_work(tmp_path, monkeypatch):
    """The whole cost (hindcast, every fold's calibration and scoring) is checked first."""
    from sim.validation import calibrate as cal
    from sim.validation import hindcast as hc

    def no_work(*args, **kwargs):  # the hindcast must not start before the check
        raise AssertionError("the hindcast ran before the cost check")

    monkeypatch.setattr(hc, "hindcast", no_work)
    args = ["hindcast", "--leave-one-out", "--budget", "100000", "--out", str(tmp_path)]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert "too large to run" in lines[0]
    assert "of CPU" in lines[0] and "the limits are 1 day of CPU" in lines[0]
    assert not any(tmp_path.iterdir())
    # The estimate counts every fold's design, refinement and scoring, and the hindcast.
    history = hc.load_history()
    n = len(history)
    truces = cal.work_cost(
        [
            w
            for i in range(n)
            for w in cal.calibration_work(
                [s for k, s in enumerate(history) if k != i], 100000, 100, 3, 300
            )[0]
        ]
    )[0]
    truces += n * n * 1000 + (n + 6) * 1000  # scoring; hindcast: files, pair, 4 fact runs
    assert f"{n} folds" in lines[0] and f"{truces:,} simulated truces" in lines[0]
