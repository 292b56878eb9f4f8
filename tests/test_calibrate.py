"""The calibration: its design and distance, and the command end to end on a tiny budget."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.scenario.schema import Constants, parameters, priors
from sim.validation.calibrate import (
    components,
    design,
    distance,
    evaluate,
    evaluate_points,
    hazard_trend,
)
from sim.validation.hindcast import load_history

runner = CliRunner()


def test_priors_come_from_the_schema_and_lie_inside_the_fields_ranges():
    rows = {r["path"]: r for r in parameters()}
    found = priors()
    assert len(found) >= 10 and "base_propensity" in found
    for name, prior in found.items():
        row = rows[f"constants.{name}"]
        assert row["prior"] == prior
        assert row["low"] <= prior.low < prior.high <= row["high"], name
        assert prior.scale in ("linear", "log")
        assert prior.scale == "linear" or prior.low > 0, name
    # Constants without a prior are set by hand, not calibrated.
    assert "calm_days" not in found and "initial_spread" not in found


def test_design_is_reproducible_and_inside_the_priors():
    a, b = design(16, seed=3), design(16, seed=3)
    assert a.equals(b)
    assert list(a.columns) == list(priors())
    for name, prior in priors().items():
        assert a[name].between(prior.low, prior.high).all()
        assert name in Constants.model_fields
    assert not a.equals(design(16, seed=4))


def test_design_takes_priors_given_as_tuples():
    points = design(10, seed=1, priors={"trust_loss": (0.1, 0.2)})
    assert list(points.columns) == ["trust_loss"] and points["trust_loss"].between(0.1, 0.2).all()
    # A Latin hypercube: one point in each tenth of the range.
    assert sorted(np.floor((points["trust_loss"] - 0.1) / 0.01).astype(int)) == list(range(10))


def test_log_scale_priors_spread_over_orders_of_magnitude():
    points = design(400, seed=5)
    for name in [n for n, p in priors().items() if p.scale == "log"]:
        low, high, _ = priors()[name]
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


def test_points_run_through_the_experiment_layer_as_evaluate_runs_them():
    # Chunk tasks on an executor give each point the fit of a plain in-process evaluation.
    history = load_history()[:2]
    points = [{"trust_loss": 0.1}, {"trust_loss": 0.3}]
    seen = []
    fits = evaluate_points(points, 4, history, workers=1, progress=lambda: seen.append(1))
    assert len(seen) == 2
    for point, got in zip(points, fits, strict=True):
        assert got == pytest.approx(evaluate(point, 4, history), nan_ok=True)
