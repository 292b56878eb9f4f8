"""Every lever with a documented direction moves collapse that way in the model (issue 13).

The levers are discovered from the schema (:func:`sim.scenario.schema.parameters`): every
parameter documented as raising or lowering collapse gets a test, including those added
later, and one that cannot be set to two values in the reference scenario fails (it is
never skipped). Each test runs the lever at the low and the high end of its valid range on
common random numbers and asserts, with a paired test on the days held, that collapse moves
the documented way. The two reference scenarios (one theatre; several theatres for the
levers that act only there), the outcome (mean days held over 365 days, and why), the
replicate count (by power) and the critical value (by the family of tests) are explained in
``tests/helpers_directions.py``; ``tools/directions.py`` prints the same measurements as a
table. Parameters documented as ``depends`` have no sign to test: their
schema field must say what the direction depends on.

CPU: about 100 s for the whole file (two runs of 600 truces over 365 days per lever).
"""

from __future__ import annotations

import dataclasses

import pytest
from helpers_directions import (
    DOCUMENTED,
    MIN_CHANGED,
    REPLICATES,
    Lever,
    NotExercised,
    concrete_paths,
    depending,
    depends_reason,
    ends,
    levers,
    measure,
    needs_theatres,
    reference,
    reference_for,
)

from sim.scenario.loading import resolve_scenario
from sim.scenario.schema import AFTER_COLLAPSE, LOWERS, RAISES, parameters

LEVERS = levers()
DEPENDING = depending()


def test_levers_are_read_from_the_schema():
    documented = [r["path"] for r in parameters() if r["direction"] in DOCUMENTED]
    assert documented, "the schema documents no lever as raising or lowering collapse"
    assert [lever.path for lever in LEVERS] == documented


@pytest.mark.parametrize("lever", LEVERS, ids=lambda lever: lever.path)
def test_lever_moves_collapse_the_documented_way(lever: Lever):
    try:
        m = measure(lever)
    except NotExercised as exc:  # a documented direction that cannot be checked is a failure
        pytest.fail(f"{lever.path} ({lever.direction}) cannot be exercised: {exc}")
    assert m.n == REPLICATES
    assert m.changed >= MIN_CHANGED, (
        f"{lever.path} is not active in the reference scenario: {m.explain()}"
    )
    assert m.verdict == "agrees", m.explain()


@pytest.mark.parametrize("lever", DEPENDING, ids=lambda lever: lever.path)
def test_a_depends_parameter_says_what_it_depends_on(lever: Lever):
    reason = depends_reason(lever.path)
    assert reason, (
        f"{lever.path} is documented 'depends' but its field does not say on what: give it "
        "metadata depends_on='...' or a description or source sentence 'direction depends "
        "on ...' (or 'raises collapse when ...')"
    )


# ---------------------------------------------------------------- the method itself


def test_the_reference_switches_on_every_levers_section():
    # Each lever is present in the reference it is measured on, and both references have
    # every optional section that holds a lever switched on.
    missing = [
        lever.path for lever in LEVERS if not concrete_paths(lever.path, reference_for(lever.path))
    ]
    assert not missing, f"levers absent from their reference scenario: {missing}"
    for name in ("one", "theatres"):
        ref = reference(name)
        off = [
            lever.path
            for lever in LEVERS
            if not lever.path.startswith("theatres[]") and not concrete_paths(lever.path, ref)
        ]
        assert not off, f"levers whose section is off in the {name!r} reference: {off}"


def test_the_theatre_levers_have_a_reference_where_they_act():
    one, several = reference("one"), reference("theatres")
    assert len(one.theatre_list) == 1
    assert len(several.theatres) >= 2
    assert several.truce.end.rule == "share"
    # The deal survives its first theatre's fall, so that spill_over and end.share act.
    assert several.truce.end.share * len(several.theatres) >= 2
    assert any(t.guarantor_troops > 0 for t in several.theatres)  # guarantee_weight acts
    moved = {lever.path for lever in LEVERS if needs_theatres(lever.path)}
    assert {"constants.spill_over", "constants.guarantee_weight", "truce.end.share"} <= moved
    assert all(p.startswith(("theatres[]", "truce.end", "constants.")) for p in moved)


def test_list_items_resolve_to_every_item_and_null_sections_to_none():
    ref = reference()
    assert concrete_paths("factions[].trust", ref) == [
        f"factions.{i}.trust" for i in range(len(ref.factions))
    ]
    assert concrete_paths("truce.collapse.window", ref) == ["truce.collapse.window"]
    without = resolve_scenario(ref, {"monitors": None, "excluded": [], "truce.exempted": []})
    assert concrete_paths("monitors.coverage", without) == []
    assert concrete_paths("excluded[].strength", without) == []
    with pytest.raises(NotExercised, match="not present"):
        ends(Lever("excluded[].strength", RAISES, "real", ""), without)
    with pytest.raises(NotExercised, match="empty"):
        ends(Lever("truce.exempted", RAISES, "list", ""), without)


def test_the_ends_obey_the_cross_field_rules():
    ref = reference()
    low, high = ends(Lever("truce.collapse.days_above", LOWERS, "integer", ""), ref)
    assert high == {"truce.collapse.days_above": ref.truce.collapse.window}
    low, high = ends(Lever("truce.collapse.window", RAISES, "integer", ""), ref)
    assert low == {"truce.collapse.window": ref.truce.collapse.days_above}
    low, high = ends(Lever("deconfliction.air_forces", RAISES, "integer", ""), ref)
    assert low == {"deconfliction.air_forces": sum(s.air_force for s in ref.sponsors)}
    low, high = ends(Lever("sponsors[].air_force", RAISES, "boolean", ""), ref)
    assert set(low.values()) == {False} and set(high.values()) == {True}
    with pytest.raises(NotExercised, match="no low and high"):
        ends(Lever("name", RAISES, "text", ""), ref)


def test_a_parameter_that_does_not_act_before_collapse_is_not_confirmed():
    # The test cannot pass by construction: a parameter the schema says acts only after
    # collapse, posing as a lever, leaves every pair's days held unchanged.
    row = next(r for r in parameters() if r["direction"] == AFTER_COLLAPSE and r["kind"] == "real")
    m = measure(Lever(row["path"], RAISES, row["kind"], row["description"]))
    assert m.changed == 0 and m.days_diff == 0
    assert m.verdict == "unclear"


def test_a_wrong_documented_direction_is_caught():
    # The same measurement read against the opposite documentation must contradict it (on a
    # lever whose effect is strong: trust, the heart of the reciprocity mechanism).
    lever = next(lever for lever in LEVERS if lever.path == "factions[].trust")
    m = measure(lever)
    flipped = RAISES if lever.direction == LOWERS else LOWERS
    wrong = dataclasses.replace(m, lever=dataclasses.replace(lever, direction=flipped))
    assert m.verdict == "agrees"
    assert wrong.verdict == "contradicts"
