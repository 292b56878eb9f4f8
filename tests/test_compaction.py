"""Dropping ended truces from the arrays (compaction) changes no number (issue 13, performance).

The model drops the columns of ended truces from every per-replicate array
(``CeasefireModel._compact``) and draws the full width of every random stream,
so each live truce reads the numbers it would read without compaction: the
results must be identical, value for value, with compaction on and off. No
statistics here, only exact equality.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.model.model import CeasefireModel
from sim.scenario.loading import load_scenario

pytestmark = pytest.mark.xdist_group("compaction")

SCENARIOS = ["baseline.yaml", "monitoring.yaml", "zones.yaml", "mediation.yaml"]


def _results(path: str, monkeypatch: pytest.MonkeyPatch, compact: bool) -> pd.DataFrame:
    with monkeypatch.context() as patch:
        if not compact:
            patch.setattr(CeasefireModel, "COMPACT_MIN", 10**9)
        scenario = load_scenario(f"scenarios/{path}")
        model = CeasefireModel(scenario, replicates=200, seed=7, collect=False).run()
        assert model.r == model.replicates  # full width again once it has run
        return model.results()


@pytest.mark.parametrize("path", SCENARIOS)
def test_results_identical_with_and_without_compaction(path, monkeypatch):
    on = _results(path, monkeypatch, compact=True)
    off = _results(path, monkeypatch, compact=False)
    pd.testing.assert_frame_equal(on, off)


def test_compaction_keeps_live_truces_only():
    """While it runs, every per-replicate array has the live width; ended truces are gone."""
    scenario = load_scenario("scenarios/baseline.yaml")
    model = CeasefireModel(scenario, replicates=256, seed=3, collect=False)
    widths = []
    while model.running:
        model.step()
        widths.append(model.r)
        if not model.running:
            break
        assert model.ids.shape == (model.r,)
        assert np.all(np.diff(model.ids) > 0)
        for holder in (model, model.acts, *model.agents):
            for name, value in vars(holder).items():
                if isinstance(value, np.ndarray) and value.ndim and value.shape[-1] > 64:
                    assert value.shape[-1] == model.r, name
        # The principals' state is read through the model, whatever its width.
        for p in model.principals:
            assert p.strength.shape == (model.r,)
            np.testing.assert_array_equal(p.fatigue, model.fatigue[p.index])
    assert min(widths) < model.replicates  # it did compact
    assert model.r == model.replicates  # once done, every array has its full width again
    table = model.results()
    assert model.r == model.replicates == len(table)
    assert table["replicate"].tolist() == list(range(256))


@pytest.mark.parametrize("option", ["record", "collect"])
def test_no_compaction_when_traced_or_collected(option):
    """A traced replicate or Mesa's DataCollector reads the full width every day."""
    scenario = load_scenario("scenarios/baseline.yaml")
    kwargs = {"collect": False, **{option: True}}
    model = CeasefireModel(scenario, replicates=128, seed=3, **kwargs).run()
    assert model.r == model.replicates == 128
