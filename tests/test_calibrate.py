"""The calibration: its design and distance, and the command end to end on a tiny budget."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.scenario import schema
from sim.scenario.cost import SECONDS_PER_REPLICATE_DAY, estimate_cost
from sim.scenario.schema import Constants, Observed, Prior, parameters, priors
from sim.validation import calibrate as cal
from sim.validation.calibrate import (
    HISTORY_SCALE,
    TARGETS,
    components,
    design,
    distance,
    evaluate,
    evaluate_points,
    hazard_trend,
    history_component,
)
from sim.validation.hindcast import load_history
from sim.validation.scoring import floor

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


def _record(days_held, censored=False, low=None, high=None):
    return Observed(
        days_held=days_held, low=low, high=high, censored=censored, source="a made-up record"
    )


def test_a_censored_truce_whose_simulated_truces_all_hold_is_a_perfect_fit():
    # "Still holding after 400 days": simulated truces that hold to the 730-day horizon, or
    # collapse only after day 400, are what the record says; none may be scored as a miss.
    record = _record(400, censored=True)
    holding = _runs(np.full(200, 730), np.zeros(200, bool))
    assert history_component(holding, record) == 0.0
    later = _runs(
        np.r_[np.full(100, 730), np.full(100, 500)], np.r_[np.zeros(100, bool), np.ones(100, bool)]
    )
    assert history_component(later, record) == 0.0
    facts = {"collapse_365": 0.8, "hazard_ratio": 0.3, "escalation": 13.0}
    assert distance(components([("held", history_component(holding, record))], **facts)) == 0.0


def test_a_censored_truce_whose_simulated_truces_all_end_early_is_a_bad_fit():
    record = _record(400, censored=True)
    early = _runs(np.full(200, 30), np.ones(200, bool))
    miss = history_component(early, record)
    # No simulated truce did what happened: the share is floored at half a truce, 1/(2n).
    assert miss == pytest.approx(-math.log(floor(200)) / HISTORY_SCALE)
    assert miss > 1.0  # worse than giving what happened a tenth of the probability
    # Half of them ending early costs log10(2): between the perfect fit and the miss.
    half = _runs(
        np.r_[np.full(100, 30), np.full(100, 730)], np.r_[np.ones(100, bool), np.zeros(100, bool)]
    )
    assert history_component(half, record) == pytest.approx(math.log10(2))
    facts = {"collapse_365": 0.8, "hazard_ratio": 0.3, "escalation": 13.0}
    assert distance(components([("x", miss)], **facts)) > distance(
        components([("x", history_component(half, record))], **facts)
    )


def test_an_ended_truce_is_scored_on_its_observed_window():
    # Ended on day 100 (window 90-110 with the 10% tolerance): truces still holding at the
    # horizon did not end then, whatever their days_held.
    record = _record(100)
    inside = _runs(np.full(50, 100), np.ones(50, bool))
    assert history_component(inside, record) == 0.0
    holding = _runs(np.full(50, 100), np.zeros(50, bool))
    assert history_component(holding, record) == pytest.approx(-math.log(floor(50)) / HISTORY_SCALE)
    tenth = _runs(np.r_[np.full(5, 100), np.full(45, 300)], np.ones(50, bool))
    assert history_component(tenth, record) == pytest.approx(1.0)  # a tenth: one unit


def test_distance_is_zero_at_a_perfect_fit_and_grows_with_misses():
    perfect = components([("x", 0.0)], 0.8, 0.3, 13.0)
    assert distance(perfect) == pytest.approx(0.0)
    assert set(perfect) == {"obs_x", *TARGETS} - {"hazard_age"}  # hazard_age only when given
    worse = components([("x", 1.0)], 0.8, 0.3, 13.0)
    assert distance(worse) == pytest.approx(math.sqrt(1 / 4))  # RMS: one of four parts at 1
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


# --------------------------------------------------------------------------- priors from the schema

#: Two constants the schema does not calibrate (no prior), standing in for constants the
#: model's author adds later with a prior: one whole-number, one on a log scale.
FAKE_PRIORS = {
    "calm_days": Prior(5.0, 60.0, "linear"),
    "initial_spread": Prior(0.01, 0.2, "log"),
}


def test_the_calibrated_constants_and_priors_come_only_from_the_schema(monkeypatch, tmp_path):
    monkeypatch.setattr(schema, "priors", lambda: dict(FAKE_PRIORS))
    seen = []
    real = cal.evaluate_points

    def spy(points, *args, **kwargs):
        seen.extend(points)
        return real(points, *args, **kwargs)

    monkeypatch.setattr(cal, "evaluate_points", spy)
    res = cal.calibrate(
        2, 3, refine=1, refine_replicates=3, out=tmp_path, history=load_history()[:1]
    )
    assert set(res.best) == set(FAKE_PRIORS) and set(res.manifest["priors"]) == set(FAKE_PRIORS)
    assert res.manifest["log_scale_priors"] == ["initial_spread"]
    assert list(res.posterior().index) == list(FAKE_PRIORS)
    assert len(seen) == 3  # two design points, one refined
    for point in seen:
        assert set(point) == set(FAKE_PRIORS)
        for name, prior in FAKE_PRIORS.items():
            assert prior.low <= point[name] <= prior.high
        assert float(point["calm_days"]).is_integer()  # an integer field gets whole values


def test_the_command_calibrates_whatever_the_schema_gives_a_prior(monkeypatch, tmp_path):
    monkeypatch.setattr(schema, "priors", lambda: dict(FAKE_PRIORS))
    monkeypatch.setattr(cal, "load_history", lambda: load_history()[:1])
    args = ["calibrate", "--budget", "2", "-n", "3", "--refine", "1", "--refine-replicates", "3"]
    res = runner.invoke(app, [*args, "--json", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert set(json.loads(res.stdout)["constants"]) == set(FAKE_PRIORS)


# --------------------------------------------------------------------------- cost, before any work


def test_calibration_cost_is_the_experiments_cost_model():
    history = load_history()[:2]
    work, what = cal.calibration_work(history, 7, 11, 3, 13)
    truces, days, cpu, _ = cal.work_cost(work)
    scenarios = [*history, *cal.baseline_pair()]
    assert truces == (7 * 11 + 3 * 13) * len(scenarios)
    assert days == max(estimate_cost(s, "run").days for s in scenarios)
    truce_days = sum((7 * 11 + 3 * 13) * estimate_cost(s, "run").days for s in scenarios)
    assert cpu == pytest.approx(truce_days * SECONDS_PER_REPLICATE_DAY)
    assert "4 scenarios (2 history files and the baseline pair)" in what


def test_calibrate_refuses_a_size_that_cannot_fit_before_any_work(tmp_path):
    res = runner.invoke(
        app, ["calibrate", "--budget", "100000", "-n", "1000", "--out", str(tmp_path)]
    )
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    work, _ = cal.calibration_work(load_history(), 100000, 1000, cal.REFINE, cal.REFINE_REPLICATES)
    truces = cal.work_cost(work)[0]
    assert f"{truces:,} simulated truces" in lines[0]  # the estimate ...
    assert "of CPU" in lines[0] and "the limits are 1 day of CPU" in lines[0]  # ... and the limit
    assert "Traceback" not in res.output and not any(tmp_path.iterdir())  # nothing written


def test_scoring_runs_spread_over_workers_are_the_plain_runs():
    # The leave-one-out scores every file with each fold's constants on the workers: the
    # tables must be exactly those of an in-process run (same seeds, same chunks).
    from sim.experiment.runner import CHUNK_SIZE
    from sim.validation.hindcast import simulate

    history = load_history()[:2]
    n = CHUNK_SIZE + 1  # two chunks of the first file, put back in their order
    spread = cal.simulate_all(history, n, workers=2)
    for s, got in zip(history, spread, strict=True):
        pd.testing.assert_frame_equal(got, simulate(s, n))


def test_leave_one_out_on_one_shared_pool_gives_the_serial_results():
    # Every fold's design, refinement and scoring run on one pool of two processes; the
    # results must be those of one process (each run keeps its scenario's seed and chunks).
    history = load_history()[:2]
    settings = {"budget": 2, "replicates": 5, "refine": 1, "refine_replicates": 5}
    serial = cal.leave_one_out(history, **settings, score_replicates=10, workers=1)
    pooled = cal.leave_one_out(history, **settings, score_replicates=10, workers=2)
    for a, b in zip(serial["truces"], pooled["truces"], strict=True):
        assert a["constants"] == b["constants"]
        assert a["log_score"] == b["log_score"] and a["skill"] == b["skill"]


def test_the_command_defaults_are_the_fitting_settings():
    """`truce calibrate` with no options reproduces the settings the constants were fitted with."""
    import inspect

    from sim import cli
    from sim.validation import calibrate as cal

    params = inspect.signature(cli.calibrate).parameters
    assert params["budget"].default == cal.BUDGET
    assert params["replicates"].default == cal.REPLICATES
    assert params["accept"].default == cal.ACCEPT
    assert params["refine"].default == cal.REFINE
    assert params["refine_replicates"].default == cal.REFINE_REPLICATES
    assert inspect.signature(cal.calibrate).parameters["budget"].default == cal.BUDGET


def _design(tmp_path, history, good_for_first: dict, good_for_rest: dict):
    """A two-point design: point 0 fits the first truce only, point 1 fits the rest."""
    names = [s.name for s in history]
    rows = []
    for point, consts in enumerate((good_for_first, good_for_rest)):
        row = {"point": point, **consts}
        for k, n in enumerate(names):
            row[f"obs_{n}"] = (0.0 if k == 0 else 3.0) if point == 0 else (3.0 if k == 0 else 0.1)
        row.update(dict.fromkeys(cal.TARGETS, 0.5))
        rows.append(row)
    folder = tmp_path / "calibration"
    folder.mkdir()
    pd.DataFrame(rows).to_csv(folder / "design.csv", index=False)
    return folder


def test_leave_one_out_from_a_design_never_uses_the_left_out_truce(tmp_path):
    """Fold k picks its point on the other truces' components only; no design runs."""
    history = load_history()[:3]
    first = {"base_propensity": 0.0001, "gain_sensitivity": 2.0}
    rest = {"base_propensity": 0.002, "gain_sensitivity": 3.0}
    folder = _design(tmp_path, history, first, rest)
    result = cal.leave_one_out_from_design(folder, history, score_replicates=20)
    rows = {r["truce"]: r for r in result["truces"]}
    # Left out, the first truce cannot pull the choice to the point that fits it alone.
    assert rows[history[0].name]["constants"] == rest
    # With the first truce in, each fold of the others keeps its 0-component point 0
    # (mean square (0 + 9 + 0.25·4)/6 < (9 + 0.01 + 0.25·4)/6): the fold's own data decide.
    assert rows[history[1].name]["constants"] == first
    assert result["settings"]["points"] == 2 and "in_sample" in result
    for key in ("mean_log_score", "skill"):
        assert math.isfinite(result[key]) and math.isfinite(result["in_sample"][key])


def test_leave_one_out_from_a_folder_without_a_design_is_one_message(tmp_path):
    runner = CliRunner()
    got = runner.invoke(
        app,
        ["hindcast", "-n", "5", "--leave-one-out", "--from-calibration", str(tmp_path)],
    )
    assert got.exit_code == 2
    assert "no calibration design" in got.output
    got = runner.invoke(app, ["hindcast", "-n", "5", "--from-calibration", str(tmp_path)])
    assert got.exit_code == 2 and "--leave-one-out" in got.output
