"""The lesson in docs/CLASSROOM.md says only what the model bears out (issue 16).

Every claim the lesson makes about a lever's direction is a row of its table "What the
model bears out": the scenario, the slider settings before and after (the page's own
slider labels and values) and the direction of collapse. Each row is tested here against
the model at exactly those settings, as the page builds them
(:func:`sim.app.levers.apply_levers`), so a claim cannot enter the lesson without being
tested. The lesson's plan must cite a claim wherever it talks about a slider, cite only
claims the table has, and add up to 45 minutes.

The test of a claim is the one of ``tests/test_directions.py`` (see
``tests/helpers_directions.py`` for the argument): both settings run on common random
numbers (the page's seed, one chunk), so the truces come in pairs; the outcome is the
days each truce held over the scenario's horizon; the paired z of the mean difference
must be at least :data:`Z_CRIT` the claimed way, with at least :data:`MIN_CHANGED` pairs
that differ. Then what the class sees: on the page's own ensemble (its size and seed),
the share that collapses must not move against the claim.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SCENARIOS
from helpers_directions import MIN_CHANGED, REPLICATES, Z_CRIT

from sim.app.levers import LEVERS, apply_levers, lever_values
from sim.app.truces import DEFAULT_SEED, ENSEMBLE_SIZE
from sim.experiment.runner import run_one
from sim.scenario.loading import load_scenario

LESSON = ROOT / "docs" / "CLASSROOM.md"
CLAIMS_HEADING = "## What the model bears out"
PLAN_HEADING = "## The lesson"
#: The lesson's length in minutes.
LESSON_MINUTES = 45
#: The page's switch (not a slider) and its values.
SWITCH = "Monitoring mission"
SWITCH_VALUES = {"on": True, "off": False}
LABELS = {lever.label: lever.key for lever in LEVERS}
DIRECTIONS = ("lower", "higher")
CLAIM_ID = re.compile(r"\bC\d+\b")


@dataclass(frozen=True)
class Claim:
    """One row of the lesson's claims table."""

    id: str
    scenario: str
    before: dict[str, Any]
    after: dict[str, Any]
    collapse: str
    line: int

    def __str__(self) -> str:
        return f"{self.id} (docs/CLASSROOM.md line {self.line})"


def _table(heading: str) -> list[tuple[int, list[str]]]:
    """The rows (line number, cells) of the first Markdown table after ``heading``."""
    lines = LESSON.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    assert start is not None, f"docs/CLASSROOM.md has no heading {heading!r}"
    rows: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines[start + 1 :], start + 2):
        if line.startswith("## "):
            break
        if line.startswith("|"):
            rows.append((number, [cell.strip() for cell in line.strip().strip("|").split("|")]))
        elif rows:
            break
    assert len(rows) > 2, f"no table under {heading!r}"
    return [row for row in rows[1:] if not set("".join(row[1])) <= set("-: ")]


def _settings(text: str, line: int) -> dict[str, Any]:
    """``Label = value; Label = value`` (the page's slider labels) as lever keys and values."""
    text = text.strip().strip("`")
    if text in ("", "the scenario's values"):
        return {}
    out: dict[str, Any] = {}
    for part in text.split(";"):
        label, sep, value = (x.strip() for x in part.partition("="))
        assert sep, f"line {line}: {part!r} is not 'Slider label = value'"
        if label == SWITCH:
            assert value in SWITCH_VALUES, f"line {line}: {SWITCH} is on or off, not {value!r}"
            out["monitoring"] = SWITCH_VALUES[value]
            continue
        assert label in LABELS, f"line {line}: {label!r} is no slider; sliders: {list(LABELS)}"
        out[LABELS[label]] = float(value) if "." in value else int(value)
    return out


@lru_cache(maxsize=1)
def claims() -> tuple[Claim, ...]:
    """The claims table of the lesson, parsed."""
    out = []
    for line, cells in _table(CLAIMS_HEADING):
        assert len(cells) >= 5, f"line {line}: a claim has id, scenario, from, to, collapse"
        ident, scenario, before, after, collapse = cells[:5]
        assert CLAIM_ID.fullmatch(ident), f"line {line}: claim id {ident!r} is not C<number>"
        scenario = scenario.strip("`")
        assert (SCENARIOS / scenario).is_file(), f"line {line}: no scenario {scenario}"
        assert collapse in DIRECTIONS, f"line {line}: collapse is one of {DIRECTIONS}"
        out.append(
            Claim(ident, scenario, _settings(before, line), _settings(after, line), collapse, line)
        )
    return tuple(out)


@lru_cache(maxsize=64)
def _runs(scenario: str, settings: tuple[tuple[str, Any], ...], n: int) -> pd.DataFrame:
    base = load_scenario(SCENARIOS / scenario)
    levers = {**lever_values(base), **dict(settings)}
    return run_one(apply_levers(base, levers), DEFAULT_SEED, n)


def _arm(claim: Claim, settings: dict[str, Any], n: int) -> pd.DataFrame:
    return _runs(claim.scenario, tuple(sorted(settings.items())), n)


CLAIMS = claims()


def test_the_lesson_has_claims_and_each_is_unique():
    ids = [c.id for c in CLAIMS]
    assert len(ids) >= 5 and len(set(ids)) == len(ids)
    for c in CLAIMS:
        assert c.before != c.after, f"{c}: the two settings are the same"


@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_claim_holds_in_the_model(claim: Claim):
    # Paired days held on common random numbers (tests/helpers_directions.py: why days
    # held, why 600 truces, why z >= 3 and at least 20 pairs that differ).
    low = _arm(claim, claim.before, REPLICATES)
    high = _arm(claim, claim.after, REPLICATES)
    d = high["days_held"].to_numpy(float) - low["days_held"].to_numpy(float)
    changed = int(np.count_nonzero(d))
    se = float(d.std(ddof=1)) / math.sqrt(len(d))
    z = float(d.mean()) / se if se > 0 else 0.0
    wanted = 1 if claim.collapse == "lower" else -1  # lower collapse: more days held
    shares = f"{low['collapsed'].mean():.3f} → {high['collapsed'].mean():.3f}"
    explain = (
        f"{claim}: collapse {claim.collapse} claimed, but the days held change by "
        f"{d.mean():+.1f} (paired z {z:+.2f}, {changed} of {len(d)} pairs differ; collapse "
        f"share {shares}); needed z {'>=' if wanted > 0 else '<='} {wanted * Z_CRIT}"
    )
    assert changed >= MIN_CHANGED, explain
    assert wanted * z >= Z_CRIT, explain
    # What the class sees: the page's ensemble (its size and seed) does not contradict it.
    seen = [_arm(claim, s, ENSEMBLE_SIZE)["collapsed"].mean() for s in (claim.before, claim.after)]
    assert wanted * (seen[0] - seen[1]) >= 0, (
        f"{claim}: the page shows {seen[0]:.2f} → {seen[1]:.2f}"
    )


def _plan() -> list[tuple[int, list[str]]]:
    return _table(PLAN_HEADING)


def test_the_plan_adds_up_to_45_minutes():
    start = 0
    for line, cells in _plan():
        found = re.fullmatch(r"(\d+)\s*[–-]\s*(\d+)", cells[0])
        assert found, f"line {line}: minutes {cells[0]!r} are not 'a–b'"
        a, b = int(found.group(1)), int(found.group(2))
        assert a == start and b > a, f"line {line}: {a}–{b} does not follow {start}"
        start = b
    assert start == LESSON_MINUTES


def test_the_plan_cites_a_tested_claim_wherever_it_moves_a_slider():
    known = {c.id for c in CLAIMS}
    cited: set[str] = set()
    words = [re.sub(r"\s*\(.*\)", "", label) for label in [*LABELS, SWITCH]]
    for line, cells in _plan():
        row = " ".join(cells)
        ids = set(CLAIM_ID.findall(row))
        assert ids <= known, f"line {line}: cites {sorted(ids - known)}, not in the claims table"
        moves = [w for w in words if w.lower() in row.lower()]
        if moves:
            assert ids, f"line {line} talks about {moves} but cites no claim (C1, C2, …)"
        cited |= ids
    text = LESSON.read_text(encoding="utf-8")
    everywhere = set(CLAIM_ID.findall(text))
    assert everywhere <= known, f"the lesson cites {sorted(everywhere - known)}: no such claim"
    assert known <= cited, f"claims the plan never uses: {sorted(known - cited)}"


def test_the_lesson_uses_the_participatory_round():
    text = LESSON.read_text(encoding="utf-8")
    rows = " ".join(" ".join(cells) for _, cells in _plan())
    assert "Open a class session" in rows, "the plan has no participatory round"
    assert "Open a class session" in text.split(PLAN_HEADING)[1]


# ------------------------------------------------------------------ the story read aloud

#: The default story read aloud fits a five-minute slot: at most 800 words (150 words a
#: minute is a calm reading pace; 800 words leave a little slack over 750).
STORY_WORDS = 800


def _words(text: str) -> int:
    return len(text.split())


def _accounted(told) -> int:
    """Violations the story mentions: told days (from the log) plus the summed-up stretches."""
    from sim.present.story import _intensity

    events = told.trace.events
    acts = events[events["kind"].isin(["violation", "retaliation"]) & (events["day"] > 0)]
    total = 0
    for line in told.lines[1:-1]:
        summed = re.match(r"Days? (\d+)(?:–(\d+))?: (\d+) violations?\b", line)
        if summed:
            total += int(summed.group(3))
            continue
        day = re.match(r"Day (\d+): ", line)
        if day and not line.endswith("no violations."):
            rows = acts[acts["day"] == int(day.group(1))].to_dict("records")
            total += sum(_intensity(r) for r in rows)
    return total


@pytest.mark.slow
def test_the_default_story_reads_in_five_minutes_on_every_bundled_scenario():
    from sim.present import story as st
    from sim.scenario.catalog import scenario_files

    files = scenario_files()
    assert len(files) >= 10
    longest = 0
    for path in files:
        scenario = load_scenario(path)
        # Seed 0 and the first surviving truce among a few seeds (a year of events: the
        # longest stories; a whole one takes 15-27 minutes to read).
        seeds = {0}
        try:
            seeds.add(st.find_seed(scenario, "survive", limit=3))
        except st.NoSuchStory:
            pass
        for seed in seeds:
            told = st.tell(scenario, seed)
            words = _words(told.text)
            longest = max(longest, words)
            assert words <= STORY_WORDS, f"{path.name} seed {seed}: {words} words"
            # Nothing is lost: every violation is in a day told or a stretch summed up.
            assert _accounted(told) == int(told.trace.outcome["violations"]), path.name
            if told.collapsed:  # the collapse day is always told in full
                day = int(told.trace.outcome["collapse_day"])
                assert any(
                    line.startswith(f"Day {day}: ") and f"collapses on day {day}" in line
                    for line in told.lines
                ), f"{path.name} seed {seed}: the collapse is not told"
    assert longest > STORY_WORDS / 4  # the stories are not trivially short


def test_the_story_options_from_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app as cli

    run = CliRunner().invoke
    args = ["story", "scenarios/baseline.yaml", "--find", "survive", "--html"]
    short = run(cli, [*args, str(tmp_path / "a.html")])
    assert short.exit_code == 0, short.output
    whole = run(cli, [*args, str(tmp_path / "b.html"), "--full"])
    assert whole.exit_code == 0, whole.output
    assert _words(short.output) <= STORY_WORDS < _words(whole.output)
    two = run(cli, [*args, str(tmp_path / "c.html"), "--beats", "2", "--minutes", "20"])
    assert two.exit_code == 0
    told = [line for line in two.output.splitlines() if re.match(r"Day \d+: [A-Z]", line)]
    assert 1 <= len(told) <= 2 + 2  # two beats (a wrapped line may start with "Day")
    tight = run(cli, [*args, str(tmp_path / "d.html"), "--minutes", "1"])
    assert tight.exit_code == 0 and _words(tight.output) < _words(short.output)
    bad = run(cli, [*args, str(tmp_path / "e.html"), "--full", "--beats", "3"])
    assert bad.exit_code == 2
    errors = [line for line in bad.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "--full" in errors[0] and "Traceback" not in bad.output
    assert not (tmp_path / "e.html").exists()
