"""With replicates=1 the model is an ordinary Mesa model."""

from __future__ import annotations

import mesa

from sim.model.agents import ExcludedGroup, Faction, Government, MonitorMission, Sponsor
from sim.model.model import CeasefireModel


def test_batch_run_drives_the_model(baseline_path):
    rows = mesa.batch_run(
        CeasefireModel,
        parameters={
            "scenario": str(baseline_path),
            "replicates": 1,
            "seed": [1, 2, 3],
            "monitors.coverage": [0.2, 0.8],
        },
        iterations=1,
        max_steps=400,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 6
    for row in rows:
        assert {"holding", "violence", "trust", "day"} <= set(row)
        assert row["holding"] in (0.0, 1.0)
        assert 1 <= row["day"] <= 365


def test_datacollector_and_agents(baseline):
    model = CeasefireModel(baseline, replicates=1, seed=4)
    for _ in range(10):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 11  # the initial state plus ten days
    types = {type(a) for a in model.agents}
    assert {Government, Faction, ExcludedGroup, Sponsor, MonitorMission} <= types
    assert len(model.agents_by_type[Faction]) == 3
    assert model.steps == 10 and model.day == 10
