"""``sim.as_function``: the model as a plain function from parameters to outcomes.

The function must give what ``truce run`` stores for the same scenario, seed
and replicates (read back from disk), give the same numbers for the same call,
share its random numbers between calls (common random numbers), refuse a bad
parameter as ``--set`` does, survive pickling (so that multiprocessing and EMA
Workbench can ship it), and drive SALib.

A scenario with no exempted groups never reads ``truce.loophole_width`` (the
loophole strikes need an exempted group to strike), and one with a single
theatre never reads ``constants.spill_over`` (a zone's fall straining the next):
those levers must leave every outcome exactly as it was, since the calls
simulate the very same truces.
"""

from __future__ import annotations

import json
import math
import pickle
import re
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.analysis.outcomes import outcome_names
from sim.cli import app
from sim.scenario.errors import ScenarioError
from sim.scenario.schema import ORIGINS

ROOT = Path(__file__).resolve().parent.parent
MONITORED = ROOT / "scenarios" / "monitored.yaml"

INERT = """\
extends: {base}
name: inert_loophole
truce: {{horizon: 60, exempted: [], collapse: {{threshold: 1}}}}
monitors: {{coverage: 0.6, detection: 0.8, attribution: 0.85}}
replicates: 40
"""


def same(a: dict, b: dict) -> bool:
    """Equal outcome dictionaries, NaN equal to NaN."""
    return list(a) == list(b) and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a
    )


@pytest.fixture(scope="module")
def f():
    return sim.as_function(MONITORED, replicates=120)


def test_as_function_is_exported_like_run():
    assert "as_function" in sim.__all__
    assert sim.as_function is sim.api.as_function


def test_a_call_gives_what_truce_run_stores(f, tmp_path):
    # The user's path for the same numbers: `truce run --set`, stored, read back.
    args = ["run", str(MONITORED), "-n", "120", "--set", "monitors.coverage=0.3"]
    shown = CliRunner().invoke(
        app, [*args, "--out", str(tmp_path), "--engine", "serial", "--json", "--no-report"]
    )
    assert shown.exit_code == 0, shown.output
    folder = Path(json.loads(shown.stdout)["results"])
    stored = json.loads((folder / "summary.json").read_text())["groups"][0]
    runs = pd.read_parquet(folder / "runs")

    got = f(**{"monitors.coverage": 0.3})
    assert list(got) == outcome_names(365)
    for row in stored["collapse"]:
        assert got[f"collapse_share_{row['horizon']}"] == pytest.approx(row["share"], abs=1e-12)
    assert {f"collapse_share_{r['horizon']}" for r in stored["collapse"]} == {
        k for k in got if k.startswith("collapse_share_")
    }
    median = stored["median_days_held"]
    assert (
        math.isnan(got["median_days_held"]) if median is None else got["median_days_held"] == median
    )
    assert got["mean_days_held"] == pytest.approx(runs["days_held"].mean())
    causes = {c["cause"]: c["share"] for c in stored["causes"]}
    for origin in ORIGINS:
        assert got[f"cause_share_{origin}"] == pytest.approx(causes.get(origin, 0.0), abs=1e-12)


def test_calls_are_deterministic_and_picklable(f):
    params = {"monitors.coverage": 0.4, "truce.loophole_width": 0.5}
    first = f(**params)
    assert same(first, f(**params))
    assert same(first, sim.as_function(MONITORED, replicates=120)(**params))
    shipped = pickle.loads(pickle.dumps(f))
    assert same(first, shipped(**params))
    # In another process, as multiprocessing or EMA Workbench's evaluators run it.
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        assert same(first, pool.submit(f, **params).result())


def test_keyword_names_spell_dots_with_double_underscores(f):
    dotted = f(**{"monitors.coverage": 0.3, "factions.faction_b.entanglement": 0.6})
    assert same(dotted, f(monitors__coverage=0.3, factions__faction_b__entanglement=0.6))
    with pytest.raises(ScenarioError, match=r"monitors\.coverage: given twice"):
        f(**{"monitors.coverage": 0.3}, monitors__coverage=0.4)


def test_calls_share_their_random_numbers(f, write_yaml, baseline_path):
    base = f()
    # The same seed for every call: a lever the model does not read changes nothing.
    assert same(base, f(**{"constants.spill_over": 0.9}))
    inert = sim.as_function(write_yaml(INERT.format(base=baseline_path), "inert.yaml"))
    assert same(inert(truce__loophole_width=0.1), inert(truce__loophole_width=0.9))
    assert not same(inert(monitors__coverage=0.1), inert(monitors__coverage=0.9))
    # A call may give its own seed: other truces, the same as a function made with it.
    reseeded = f(seed=7)
    assert not same(base, reseeded)
    assert same(reseeded, sim.as_function(MONITORED, replicates=120, seed=7)())
    assert f.seed == sim.as_function(MONITORED).seed  # the scenario's own seed by default


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"monitors.coverag": 0.3}, "monitors.coverag", "did you mean 'coverage'"),
        ({"monitors.coverage": 2}, "monitors.coverage", "expected a number between 0.0 and 1.0"),
        ({"factions.faction_z.strength": 0.5}, "factions.faction_z.strength", "no item"),
        ({"replicates": 0}, "replicates", "expected"),
        ({"truce.horizon": 100}, "truce.horizon", "collapse shares are for 1 to 100 days"),
    ],
)
def test_a_bad_parameter_is_refused_naming_it(f, monkeypatch, params, field, message):
    def no_run(*args, **kwargs):
        raise AssertionError("nothing may be simulated for a bad parameter")

    monkeypatch.setattr(sim.api, "run_serial", no_run)
    with pytest.raises(ScenarioError) as caught:
        f(**params)
    assert caught.value.field == field
    assert message in str(caught.value)
    assert str(caught.value).startswith("as_function(monitored): ")


def test_the_same_message_as_set_on_the_command_line(f):
    shown = CliRunner().invoke(app, ["validate", str(MONITORED), "--set", "monitors.coverage=2"])
    assert shown.exit_code == 2
    with pytest.raises(ScenarioError) as caught:
        f(**{"monitors.coverage": 2})
    assert caught.value.message in shown.output


def test_outcomes_can_be_chosen_and_are_checked():
    g = sim.as_function(MONITORED, ["collapse_share_60", "mean_days_held"], replicates=50)
    assert list(g()) == ["collapse_share_60", "mean_days_held"]
    for bad, message in [
        (["collapse_rate"], "unknown outcome 'collapse_rate'"),
        (["collapse_share_400"], "1 to 365 days"),
        ([], "no outcome"),
    ]:
        with pytest.raises(ScenarioError, match=re.escape(message)) as caught:
            sim.as_function(MONITORED, bad)
        assert caught.value.field == "outcomes"
    with pytest.raises(ScenarioError, match="replicates"):
        sim.as_function(MONITORED, replicates=-1)


def test_a_saltelli_sample_through_the_function(write_yaml, baseline_path):
    from SALib.analyze import sobol
    from SALib.sample import sobol as saltelli

    g = sim.as_function(
        write_yaml(INERT.format(base=baseline_path), "inert.yaml"), ["collapse_share_60"]
    )
    problem = {
        "num_vars": 2,
        "names": ["monitors.coverage", "truce.loophole_width"],
        "bounds": [[0.0, 1.0], [0.0, 1.0]],
    }
    x = saltelli.sample(problem, 8, calc_second_order=False, seed=1)
    assert x.shape == (8 * (2 + 2), 2)
    y = np.array(
        [g(**dict(zip(problem["names"], row, strict=True)))["collapse_share_60"] for row in x]
    )
    indices = sobol.analyze(problem, y, calc_second_order=False, seed=1)
    # The unread lever's points simulate the same truces: its indices are exactly 0.
    assert abs(indices["ST"][1]) < 1e-12 and abs(indices["S1"][1]) < 1e-12
    assert indices["ST"][0] > 0


def test_the_readme_salib_example_runs(monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(# SALib through sim\.as_function.*?)```", text, re.S)
    assert block, "README.md lost its SALib example"
    code = block.group(1)
    # As written, but with 8 design points of 20 truces, to keep the suite quick.
    for wrote, quick in [("saltelli.sample(problem, 8,", "saltelli.sample(problem, 2,")]:
        assert wrote in code, f"README.md's SALib example no longer has {wrote!r}"
        code = code.replace(wrote, quick)
    code = re.sub(r"replicates=\d+", "replicates=20", code)
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - our own README
    assert len(scope["Y"]) == 8
    assert set(scope["indices"]) >= {"S1", "ST"}


def test_ema_workbench_drives_the_function():
    ema = pytest.importorskip("ema_workbench")  # not a dependency: tested where installed
    g = sim.as_function(MONITORED, replicates=40)
    model = ema.Model("truce", function=g)
    model.uncertainties = [
        ema.RealParameter("monitors.coverage", 0.1, 0.9),
        ema.RealParameter("truce.loophole_width", 0.1, 0.9),
    ]
    model.outcomes = [ema.ScalarOutcome("collapse_share_90")]
    experiments, outcomes = ema.perform_experiments(model, 3)
    for i, row in experiments.iterrows():
        params = {k: row[k] for k in ("monitors.coverage", "truce.loophole_width")}
        assert outcomes["collapse_share_90"][i] == g(**params)["collapse_share_90"]
