"""The calibration: its design and distance, and the command end to end on a tiny budget."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from sim.calibrate import PRIORS, components, design, distance
from sim.cli import app
from sim.config import Constants

runner = CliRunner()


def test_design_is_reproducible_and_inside_the_priors():
    a, b = design(16, seed=3), design(16, seed=3)
    assert a.equals(b)
    for name, (low, high) in PRIORS.items():
        assert a[name].between(low, high).all()
        assert name in Constants.model_fields


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
