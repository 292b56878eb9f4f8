"""``truce discover``: scenario discovery (PRIM and CART) over a finished sweep (issue 15).

The sweeps are real and small (``truce sweep`` through the command line, stored, read
back); ``truce discover`` runs in the same process through typer's ``CliRunner`` so that
EMA Workbench is imported once (a subprocess pays several seconds for it on every call).
No expected model output is written down: the targets' thresholds are the medians of the
stored per-point collapse shares (so that about half the points meet them), and the box
is checked against the directions the schema documents (``tests/test_directions.py``
checks those directions in the model itself).

CPU: about 15 s for the file on an idle machine (two sweeps of some 1,500 truces, and
EMA Workbench's import).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.analysis import discovery
from sim.cli import app
from sim.experiment.storage import DISCOVER, MANIFEST, SUMMARY, write_json
from sim.scenario.loading import resolve_scenario
from sim.scenario.schema import LOWERS, RAISES, parameters

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
DIRECTIONS = {r["path"]: r["direction"] for r in parameters()}

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("discover")]


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error(result, *words: str) -> None:
    """Exit status 2 and one ``error:`` line on stderr naming ``words``; no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], (word, lines[0])


def sweep(tmp_path: Path, name: str, text: str, kind: str = "sweep", *extra: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    args = [kind, path, "--engine", "serial", "--out", tmp_path / "results", "--no-report"]
    result = invoke(*args, *extra, "--json")
    assert result.exit_code == 0, result.output
    return Path(json.loads(result.stdout)["results"])


def point_shares(folder: Path, arm: str | None = None) -> list[float]:
    """The stored design points' shares collapsed by the horizon (summary.json), of one arm."""
    groups = json.loads((folder / SUMMARY).read_text())["groups"]
    return [
        max(g["collapse"], key=lambda r: r["horizon"])["share"]
        for g in groups
        if arm is None or g.get("arm") == arm
    ]


def median_share(folder: Path, arm: str | None = None) -> float:
    """The median, over the stored design points, of the share collapsed by the horizon."""
    return statistics.median(point_shares(folder, arm))


LHS = f"""\
extends: {SCENARIOS / "monitored.yaml"}
name: discover_lhs
description: a small Latin hypercube over the loophole and the monitors' coverage
replicates: 40
truce: {{horizon: 90}}
sweep:
  lhs:
    n: 24
    bounds:
      monitors.coverage: {{low: 0.0, high: 1.0}}
      truce.loophole_width: {{low: 0.0, high: 1.0}}
"""


@pytest.fixture(scope="module")
def lhs(tmp_path_factory) -> Path:
    return sweep(tmp_path_factory.mktemp("lhs"), "lhs", LHS)


def test_the_box_restricts_the_levers_the_way_the_model_documents(lhs):
    target = f"collapse_share<={median_share(lhs)}"
    result = invoke("discover", lhs, "--target", target, "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    (analysis,) = found["analyses"]
    assert analysis["points"] == 24 and 0 < analysis["meeting"] < 24
    box = analysis["box"]
    assert box["density"] >= analysis["base_rate"]
    levers = {r["lever"]: r for r in box["restrictions"]}
    # the loophole drives collapse in this design (its range spans no loophole to a full one)
    assert "truce.loophole_width" in levers, box
    for lever, r in levers.items():
        if DIRECTIONS[lever] == RAISES:  # few collapses: keep this lever low
            assert r["high"] is not None and r["low"] is None, r
        elif DIRECTIONS[lever] == LOWERS:  # few collapses: keep this lever high
            assert r["low"] is not None and r["high"] is None, r
        assert r["qp"] is None or 0 <= r["qp"] <= 1
        assert r["significant"] == (r["qp"] is not None and r["qp"] < found["significance"])
    # the trajectory starts from the whole design; each step's numbers are its counts
    steps = analysis["trajectory"]
    assert steps[0]["coverage"] == 1 and steps[0]["restricted"] == 0 and steps[0]["points"] == 24
    for s in steps:
        assert s["coverage"] == pytest.approx(s["meeting"] / analysis["meeting"])
        assert s["density"] == pytest.approx(s["meeting"] / s["points"])
    assert box["step"] in [s["step"] for s in steps] and box["coverage"] >= found["min_coverage"]
    # every point is in exactly one CART leaf
    rules = analysis["tree"]["rules"]
    assert sum(r["points"] for r in rules) == 24
    assert sum(r["meeting"] for r in rules) == analysis["meeting"]


def test_json_printed_stored_and_from_the_library_agree(lhs):
    target = f"held_share>={1 - median_share(lhs)}"
    printed = invoke("discover", lhs, "--target", target, "--json")
    assert printed.exit_code == 0, printed.output
    found = json.loads(printed.stdout)  # nothing else on stdout
    assert json.loads((lhs / DISCOVER).read_text()) == found
    assert sim.load(lhs).discover(target) == found
    # the terminal shows the same sentence, with the levers named in words
    shown = invoke("discover", lhs, "--target", target)
    assert shown.exit_code == 0, shown.output
    sentence = found["analyses"][0]["sentence"]
    assert " ".join(sentence.split()) in " ".join(shown.stdout.split())
    assert "monitors.coverage" not in sentence and "of the truces still held at day 90" in sentence
    assert "the share of sponsors' strike tempo" in sentence  # truce.loophole_width's words
    assert json.loads((lhs / DISCOVER).read_text()) == found  # the same target: the same file


def test_horizon_takes_the_outputs_at_an_earlier_day(lhs, tmp_path):
    # a sweep stored as per-point aggregates holds 30, 90, 180 days and its horizon only
    refused = invoke("discover", lhs, "--target", "collapse_share<=0.5", "--horizon", "60")
    assert refused.exit_code == 2 and "--keep-runs" in refused.output
    lhs = sweep(tmp_path, "lhs", LHS, "sweep", "--keep-runs")  # the same sweep, runs kept
    runs = sim.load(lhs).load_runs()
    held = runs.assign(d=runs["days_held"].clip(upper=60)).groupby("point")["d"].mean()
    threshold = float(held.median())
    target = f"mean_days_held>={threshold!r}"
    result = invoke("discover", lhs, "--target", target, "--horizon", "60", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["horizon"] == 60 and found["target"]["column"] == "mean_days_held"
    (analysis,) = found["analyses"]
    assert analysis["meeting"] == int((held >= threshold).sum())
    assert "on average (counting up to day 60)" in analysis["sentence"]


def test_the_terminal_stays_quiet_in_a_subprocess(lhs):
    # as a user runs it: EMA Workbench's import warnings and log lines stay off the terminal
    target = f"held_share>={1 - median_share(lhs)}"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "discover", str(lhs), "--target", target]
        + ["--json", "--no-report"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert json.loads(proc.stdout)["target"]["text"] == target


def test_the_report_draws_the_discovery(lhs):
    target = f"collapse_share<={median_share(lhs)}"
    assert invoke("report", lhs).exit_code == 0
    result = invoke("discover", lhs, "--target", target)  # rebuilds the existing report
    assert result.exit_code == 0, result.output
    page = (lhs / "report.html").read_text()
    found = json.loads((lhs / DISCOVER).read_text())
    assert 'id="discovery-peeling-0"' in page and 'id="discovery-box-0"' in page
    first = found["analyses"][0]["sentence"].split(";")[0].replace("'", "&#39;")
    assert first in page


def test_bad_input_gives_one_line(lhs, tmp_path):
    one_error(invoke("discover", lhs, "--target", "collapse_share=0.3"), "expected OUTPUT<=VALUE")
    one_error(invoke("discover", lhs, "--target", "truces<=0.3"), "unknown output 'truces'")
    one_error(invoke("discover", lhs, "--target", "held_share>=7"), "between 0 and 1")
    one_error(invoke("discover", lhs, "--target", "held_share>=0", "--json"), "every one")
    one_error(invoke("discover", lhs, "--target", "held_share>=0.5", "--horizon", "91"), "1 to 90")
    one_error(invoke("discover", lhs, "--target", "held_share>=0.5", "--arm", "x"), "no such arm")
    missing = tmp_path / "nope"
    one_error(invoke("discover", missing, "--target", "held_share>=0.5"), "no such folder")

    unfinished = tmp_path / "unfinished"
    (unfinished / "runs").mkdir(parents=True)
    manifest = json.loads((lhs / MANIFEST).read_text())
    write_json(unfinished / MANIFEST, {**manifest, "status": "running"})
    for part in (lhs / "runs").glob("*.parquet"):
        (unfinished / "runs" / part.name).write_bytes(part.read_bytes())
    one_error(invoke("discover", unfinished, "--target", "held_share>=0.5"), "running", "complete")
    assert not (unfinished / DISCOVER).exists()


def test_a_single_run_or_too_few_points_is_refused(tmp_path):
    base = f"extends: {SCENARIOS / 'monitored.yaml'}\nreplicates: 20\ntruce: {{horizon: 30}}\n"
    single = sweep(tmp_path, "single", f"{base}name: single\n", kind="run")
    one_error(
        invoke("discover", single, "--target", "held_share>=0.5"), "single run", "at least 10"
    )
    few = sweep(
        tmp_path,
        "few",
        f"{base}name: few\nsweep:\n  grid:\n    truce.loophole_width: [0.1, 0.5, 0.9]\n",
    )
    one_error(invoke("discover", few, "--target", "held_share>=0.5"), "3 design points", "10")
    assert not (few / DISCOVER).exists() and not (single / DISCOVER).exists()


CROSSED = f"""\
extends: {SCENARIOS / "monitoring.yaml"}
name: discover_crossed
description: monitored and unmonitored truces over a small Latin hypercube
replicates: 30
truce: {{horizon: 90}}
sweep:
  lhs:
    n: 12
    bounds:
      truce.loophole_width: {{low: 0.0, high: 1.0}}
      deconfliction.level: {{low: 0.0, high: 1.0}}
"""


def test_a_crossed_design_is_analysed_by_arm(tmp_path):
    folder = sweep(tmp_path, "crossed", CROSSED)
    for arm in ("unmonitored", "monitored"):
        target = f"collapse_share<={median_share(folder, arm)}"
        result = invoke("discover", folder, "--target", target, "--arm", arm, "--json")
        assert result.exit_code == 0, result.output
        found = json.loads(result.stdout)
        assert found["arms"] == ["unmonitored", "monitored"]
        (analysis,) = found["analyses"]
        assert analysis["arm"] == arm and analysis["points"] == 12
        assert analysis["box"]["density"] >= analysis["base_rate"]
        assert f"“{arm}” arm" in analysis["sentence"]
    # without --arm: each arm on its own, with one target that splits both arms' points
    shares = {a: point_shares(folder, a) for a in ("unmonitored", "monitored")}
    split = max(min(v) for v in shares.values())
    assert split < min(max(v) for v in shares.values()), "the arms' ranges should overlap"
    result = invoke("discover", folder, "--target", f"collapse_share<={split!r}", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert [a["arm"] for a in found["analyses"]] == ["unmonitored", "monitored"]
    # a target one arm meets at every point is refused, naming that arm
    safe, risky = sorted(shares, key=lambda a: max(shares[a]))
    top = max(shares[safe])
    assert top < max(shares[risky])
    result = invoke("discover", folder, "--target", f"collapse_share<={top!r}")
    one_error(result, "every one", f"in arm '{safe}'")


# ------------------------------------------------------- every kind of design, synthetic outcomes


DESIGNS = {
    "lhs": "lhs: {n: 30, bounds: {truce.loophole_width: {low: 0, high: 1}, "
    "monitors.coverage: {low: 0, high: 1}}}",
    "sobol": "sobol: {n: 8, bounds: {truce.loophole_width: {low: 0, high: 1}, "
    "monitors.coverage: {low: 0, high: 1}}}",
    "morris": "morris: {trajectories: 8, bounds: {truce.loophole_width: {low: 0, high: 1}, "
    "monitors.coverage: {low: 0, high: 1}}}",
    "grid": "grid: {truce.loophole_width: {low: 0, high: 1, steps: 5}, "
    "monitors.coverage: [0.2, 0.5, 0.8], truce.lead_time: [0, 7]}",
}


def synthetic_runs(design: str, replicates: int = 60) -> pd.DataFrame:
    """A runs table over a real design whose collapse rises with the loophole (by construction).

    The outcomes are drawn, not simulated: the chance of collapse is the loophole
    width itself, so the truth is known and the test needs no model output.
    """
    import yaml

    from sim.scenario.designs import sweep_points

    scenario = resolve_scenario(
        SCENARIOS / "monitored.yaml", {"sweep": yaml.safe_load(DESIGNS[design])}
    )
    points = sweep_points(scenario)
    rng = np.random.default_rng(7)
    frames = []
    for i, p in enumerate(points):
        collapsed = rng.random(replicates) < p["truce.loophole_width"]
        day = rng.integers(1, 91, replicates)
        frames.append(
            pd.DataFrame(
                {
                    "arm": "monitored",
                    "point": i,
                    "horizon": 90,
                    "collapsed": collapsed,
                    "collapse_day": pd.Series(day, dtype="Int64").where(collapsed),
                    "days_held": np.where(collapsed, day, 90),
                    **{k: v for k, v in p.items()},
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("design", DESIGNS)
def test_every_kind_of_design_finds_the_lever_that_drives_the_target(design):
    runs = synthetic_runs(design)
    points = discovery.point_table(runs, 90)
    target = f"collapse_share<={points['collapse_share'].median()}"
    found = discovery.discover(runs, target)
    (analysis,) = found["analyses"]
    assert analysis["points"] == len(points)
    box = analysis["box"]
    levers = {r["lever"]: r for r in box["restrictions"]}
    assert set(levers) >= {"truce.loophole_width"}, box
    assert levers["truce.loophole_width"]["high"] is not None
    assert levers["truce.loophole_width"]["low"] is None
    assert box["density"] >= analysis["base_rate"]
    # the tree's best leaf keeps the loophole low too
    best = analysis["tree"]["rules"][0]
    widths = [c for c in best["conditions"] if c["lever"] == "truce.loophole_width"]
    assert widths and widths[0]["at_most"] is not None


# ------------------------------------------------------------------ imports and the extra


def test_discovery_libraries_are_imported_only_when_used():
    code = (
        "import sys, sim, sim.api, sim.cli, sim.analysis.discovery, sim.present.report\n"
        "print(sorted(m for m in ('ema_workbench', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_extra_says_what_to_install(lhs, monkeypatch):
    monkeypatch.setitem(sys.modules, "ema_workbench", None)
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis", None)
    result = invoke("discover", lhs, "--target", "held_share>=0.5")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install 'truce-sim[discover]'" in lines[0], result.stderr


def test_help():
    result = invoke("discover", "--help")
    assert result.exit_code == 0 and "--json" in result.stdout and "--target" in result.stdout


def test_the_charts_draw_the_tables():
    from sim.present.charts.discovery import box_chart, peeling_chart

    found = discovery.discover(synthetic_runs("grid"), "collapse_share<=0.5")
    steps, box = discovery.trajectory_table(found), discovery.box_table(found)
    assert steps["chosen"].sum() == 1 and len(box) == len(
        found["analyses"][0]["box"]["restrictions"]
    )
    peeling = peeling_chart(steps)
    counts = sorted(steps["restricted"].unique())
    assert len(peeling.data) == len(counts) + 1  # a trace per number of restrictions, the ring
    drawn = sorted(x for trace in peeling.data[:-1] for x in trace.x)
    assert drawn == sorted(steps["coverage"])
    bars = box_chart(box)
    for trace in bars.data[1:]:  # the box's bars lie within the design's
        for start, width in zip(trace.base, trace.x, strict=True):
            assert 0 <= start and start + width <= 1 + 1e-9
    assert sorted(y for trace in bars.data[1:] for y in trace.y) == sorted(box["lever"])
