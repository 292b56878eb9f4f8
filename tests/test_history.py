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


#: The Syrian truces of EVIDENCE.md; no other Syrian truce may be added (they are reserved).
SYRIAN = {"annan_2012", "cessation_2016", "southwest_2017", "us_russia_2016"}
#: Words that would mark a history file as a Syrian truce.
SYRIA_WORDS = ("syria", "damascus", "aleppo", "idlib", "daraa", "ghouta", "homs", "deir ez")


def test_the_four_truces_of_the_evidence_table_are_there():
    assert SYRIAN <= {p.stem for p in FILES}


def _wording(s) -> str:
    """Everything a file says about which truce it is: name, description, labels, source."""
    actors = (*s.principals, *s.excluded, *s.sponsors)
    return " ".join([s.name, s.description, *(a.label for a in actors), s.observed.source]).lower()


def test_no_syrian_truce_beyond_the_four_reserved():
    others = [load_scenario(p) for p in FILES if p.stem not in SYRIAN]
    syrian = [s.name for s in others if any(w in _wording(s) for w in SYRIA_WORDS)]
    assert not syrian, f"Syrian truces beyond the four reserved: {syrian}"


def test_the_set_from_outside_syria_is_mixed():
    """At least eight truces from elsewhere: monitored and not, short (days) and long (years)."""
    others = [load_scenario(p) for p in FILES if p.stem not in SYRIAN]
    assert len(others) >= 8
    assert any(s.monitors is not None for s in others)
    assert any(s.monitors is None for s in others)
    assert any(not s.observed.censored and s.observed.days_held <= 7 for s in others)
    assert any(s.observed.days_held >= 365 for s in others)
    assert any(not s.observed.censored for s in others) and any(s.observed.censored for s in others)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_validates_and_states_the_observed_outcome(path):
    s = load_scenario(path)
    obs = s.observed
    assert obs is not None and obs.source.strip()
    if obs.censored:  # still holding after days_held: at most the horizon
        assert obs.days_held <= s.truce.horizon
    else:  # the observed end lies inside the simulation
        assert obs.days_held < s.truce.horizon
    low = obs.days_held if obs.low is None else obs.low
    high = obs.days_held if obs.high is None else obs.high
    assert low <= obs.days_held <= high <= s.truce.horizon


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
        and not _comment(lines[line])
        and dotted not in sources
    ]
    assert not missing, f"values without a source comment: {missing}"


def _comment(line: str) -> str:
    """The words of a line's trailing comment ('' if none or empty)."""
    return line.partition("#")[2].strip() if "#" in line else ""


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_observed_block_carries_its_source(path):
    raw = yaml.safe_load(path.read_text())
    assert set(raw["observed"]) <= {"days_held", "low", "high", "censored", "source"}
    assert len(raw["observed"]["source"].split()) >= 3  # a citation, not a placeholder
