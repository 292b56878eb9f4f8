"""The history scenarios: they validate, state their outcome and cite a source for every value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.scenario.loading import load_scenario
from sim.scenario.schema import Constants

HISTORY = Path(__file__).resolve().parent.parent / "scenarios" / "history"
FILES = sorted(HISTORY.glob("*.yaml"))
#: Keys that name or describe rather than set a situational value.
NOT_SITUATIONAL = {"name", "label", "description", "observed", "sources", "replicates", "seed"}


def test_the_four_truces_of_the_evidence_table_are_there():
    assert len(FILES) >= 4


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_validates_and_states_the_observed_outcome(path):
    s = load_scenario(path)
    assert s.observed is not None and s.observed.source.strip()
    assert s.truce.horizon > s.observed.days_held  # the observed end lies inside the simulation


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_global_constants_are_not_set_per_scenario(path):
    raw = yaml.safe_load(path.read_text())
    assert "constants" not in raw
    assert "extends" not in raw or "constants" not in yaml.safe_load(
        (path.parent / raw["extends"]).read_text()
    )
    assert load_scenario(path).constants == Constants()


def _leaves(node, prefix=()):
    """(dotted path, line) of every key whose value is a scalar or a flow list."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*prefix, key.value)
            if isinstance(value, yaml.ScalarNode) or (
                isinstance(value, yaml.SequenceNode) and value.flow_style
            ):
                yield ".".join(path), key.start_mark.line
            else:
                yield from _leaves(value, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _leaves(item, (*prefix, str(i)))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_situational_value_cites_a_source(path):
    text = path.read_text()
    lines = text.splitlines()
    sources = yaml.safe_load(text).get("sources") or {}
    missing = [
        dotted
        for dotted, line in _leaves(yaml.compose(text))
        if not NOT_SITUATIONAL & set(dotted.split("."))
        and "#" not in lines[line]
        and dotted not in sources
    ]
    assert not missing, f"values without a source comment: {missing}"
