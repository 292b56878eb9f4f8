"""The day's fast paths change no number.

- Rows of a stream that nobody reads (an absent mechanism's) are jumped over, not
  drawn: every number that is read is the one the full layout would give, results
  are identical to drawing everything, and a lever that switches a mechanism on or
  off moves no other draw.
- The compiled kernels (numba, when installed) give the NumPy path's results bit
  for bit, on random scenarios.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
import pytest

from sim.model import agents, kernels
from sim.model.model import CeasefireModel
from sim.model.streams import make_streams
from sim.scenario.loading import resolve_scenario


_DRAW = agents.Draw


def _draw_everything(phase: str, stream: str, shape: tuple[int, ...], read: bool = True):
    """A ``Draw`` that is always read: the full layout, as before rows were skipped."""
    return _DRAW(phase, stream, shape, True)


def _everything_drawn(*args, **kwargs) -> CeasefireModel:
    with mock.patch.object(agents, "Draw", _draw_everything):
        return CeasefireModel(*args, **kwargs)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"constants.contrition": 0.4, "government.ground_tempo": 1.0},
        {"theatres": [{"name": "front", "joint_commission": 0.5}]},
    ],
    ids=["mechanisms-absent", "contrition-and-ground", "commission"],
)
def test_skipping_unread_rows_changes_no_result(baseline, overrides):
    """Results with the unread rows skipped equal those with every row drawn."""
    scenario = resolve_scenario(baseline, overrides)
    skipped = CeasefireModel(scenario, replicates=300, seed=11, collect=False)
    full = _everything_drawn(scenario, replicates=300, seed=11, collect=False)
    drawn = sum(plan.buffer.shape[0] for plan in skipped._draws)
    assert drawn <= sum(plan.buffer.shape[0] for plan in full._draws)
    pd.testing.assert_frame_equal(skipped.run().results(), full.run().results())


def test_every_read_number_is_the_full_layouts(baseline):
    """Day by day, the numbers drawn equal the read rows of the full layout from fresh streams."""
    model = CeasefireModel(baseline, replicates=40, seed=3, collect=False)
    assert any(not read for plan in model._draws for _, read in plan.segments)
    fresh = make_streams(model.root_seed, model.chunk)
    for _ in range(5):
        model.step()
        for plan in model._draws:
            rows = sum(n for n, _ in plan.segments)
            everything = fresh[plan.stream].random((rows, model.replicates))
            read = np.concatenate(
                [
                    np.full(n, read)
                    for n, read in plan.segments  # which rows of the layout are read
                ]
            )
            np.testing.assert_array_equal(plan.buffer, everything[read])
    # The streams nobody reads at all are not drawn, and are not handed out.
    assert {plan.stream for plan in model._draws} < set(model.streams)


@pytest.mark.parametrize(
    "lever",
    [
        {"constants.contrition": 0.5},
        {"government.ground_tempo": 2.0},
        {"theatres": [{"name": "front", "joint_commission": 0.7}]},
        {"monitors": {"coverage": 0.6, "detection": 0.8, "attribution": 0.8}},
    ],
    ids=["contrition", "ground", "commission", "mission"],
)
def test_a_lever_moves_no_other_streams_draws(baseline, lever):
    """Switching a mechanism on reads new numbers; every number read in both arms is equal."""
    off = CeasefireModel(baseline, replicates=50, seed=8, collect=False)
    on = CeasefireModel(baseline, replicates=50, seed=8, collect=False, **lever)
    shared = 0
    for _ in range(20):
        off.step()
        on.step()
        for a, b in zip(off.agents, on.agents, strict=True):
            assert a.u.keys() <= b.u.keys()
            for name in a.u:
                np.testing.assert_array_equal(a.u[name], b.u[name])
                shared += 1
    assert shared > 0
    extra = sum(plan.buffer.shape[0] for plan in on._draws) - sum(
        plan.buffer.shape[0] for plan in off._draws
    )
    assert extra > 0  # the lever's mechanism does read numbers of its own


def test_a_compacted_chunk_reads_its_own_columns(baseline):
    """After ended truces are dropped, each live truce still reads its column of the draw."""
    scenario = resolve_scenario(baseline, {"truce.horizon": 120})
    compacting = CeasefireModel(scenario, replicates=300, seed=4, collect=False)
    whole = CeasefireModel(scenario, replicates=300, seed=4, collect=True)  # never compacts
    compacted = 0
    while compacting.running:
        ids = compacting.ids.copy()  # the columns live this morning (the day's draw)
        compacting.step()
        whole.step()
        compacted += len(ids) < compacting.replicates
        for a, b in zip(compacting.agents, whole.agents, strict=True):
            for name in a.u:
                np.testing.assert_array_equal(a.u[name], b.u[name][..., ids])
    assert compacted > 0


def test_the_engine_switch_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRUCE_ENGINE", "numpy")
    assert kernels.engine() == "numpy"
    monkeypatch.setenv("TRUCE_ENGINE", "fortran")
    with pytest.raises(ValueError, match="TRUCE_ENGINE"):
        kernels.engine()
