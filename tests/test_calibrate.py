"""The calibration: its design and distance, and the command end to end on a tiny budget."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.scenario.schema import Constants
from sim.validation.calibrate import LOG_SCALE, PRIORS, components, design, distance, hazard_trend

runner = CliRunner()


def test_design_is_reproducible_and_inside_the_priors():
    a, b = design(16, seed=3), design(16, seed=3)
    assert a.equals(b)
    for name, (low, high) in PRIORS.items():
        assert a[name].between(low, high).all()
        assert name in Constants.model_fields


def test_log_scale_priors_spread_over_orders_of_magnitude():
    points = design(400, seed=5)
    for name in LOG_SCALE:
        low, high = PRIORS[name]
        logs = np.log(points[name])
        # A Latin hypercube puts exactly one point in each of 400 equal strata of log(value),
        # so the median of log(value) sits at the middle of the log range up to one stratum.
        mid = (np.log(low) + np.log(high)) / 2
        assert abs(np.median(logs) - mid) <= (np.log(high) - np.log(low)) / 400 * 2


def _runs(days_held, collapsed):
    return pd.DataFrame({"days_held": days_held, "collapsed": collapsed})


def test_hazard_trend_compares_late_and_early_collapse_rates():
    # 100 truces: 10 collapse on day 10, 10 on day 200, the rest hold to 365.
    days = np.r_[np.full(10, 10), np.full(10, 200), np.full(80, 365)]
    collapsed = np.r_[np.ones(20, bool), np.zeros(80, bool)]
    early_exposure = 10 * 10 + 90 * 90  # truce-days at risk in days 1-90
    late_exposure = 10 * 20 + 80 * 185  # in days 181-365
    expected = (10 / late_exposure) / (10 / early_exposure)
    assert hazard_trend(_runs(days, collapsed)) == pytest.approx(expected)
    # No collapse early: half a collapse stands in, so the ratio stays finite.
    late_only = np.r_[np.full(10, 200), np.full(90, 365)]
    ratio = hazard_trend(_runs(late_only, np.r_[np.ones(10, bool), np.zeros(90, bool)]))
    assert np.isfinite(ratio) and ratio > 1
    # A falling hazard costs nothing; a rising one costs log(ratio) / log 3.
    assert components([], 0.8, 0.3, 13.0, hazard_trend=0.5)["hazard_age"] == 0.0
    assert components([], 0.8, 0.3, 13.0, hazard_trend=3.0)["hazard_age"] == pytest.approx(1.0)


def test_distance_is_zero_at_a_perfect_fit_and_grows_with_misses():
    perfect = components([("x", 0.5, 1.0)], 0.8, 0.3, 13.0)
    assert distance(perfect) == pytest.approx(0.0)
    worse = components([("x", 0.0, 1.0)], 0.8, 0.3, 13.0)  # observed beyond every simulated truce
    assert worse["obs_x"] == pytest.approx(1.0)
    assert components([], 0.8, 0.9, 13.0)["hazard_ratio"] == pytest.approx(
        math.log(2) / math.log(3)
    )


def test_calibrate_runs_end_to_end_on_a_tiny_budget(tmp_path):
    res = runner.invoke(
        app,
        [
            "calibrate",
            "--budget",
            "2",
            "--replicates",
            "5",
            "--refine",
            "1",
            "--refine-replicates",
            "5",
            "--json",
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    Constants(**{**Constants().model_dump(), **data["constants"]})  # a valid set of constants
    run = next((tmp_path / "calibration").iterdir())
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["seed"] == data["seed"] and manifest["budget"] == 2
    assert (run / "design.csv").exists() and (run / "accepted.json").exists()
