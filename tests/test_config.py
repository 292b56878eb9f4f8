"""The scenario schema: good files load, every kind of bad input gets one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario.errors import ScenarioError
from sim.scenario.loading import apply_override, load_scenario, validate
from sim.scenario.schema import RULES, Scenario, bounds, parameters, rule_problems


def error_of(path, overrides=None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


def test_bundled_scenarios_load(baseline):
    assert baseline.name == "baseline"
    assert len(baseline.factions) == 3
    assert sum(s.clients == ("government",) for s in baseline.sponsors) == 2
    assert baseline.monitors is None


def test_extends_inherits_and_overrides(baseline_path):
    monitored = load_scenario(baseline_path.parent / "monitored.yaml")
    assert monitored.name == "monitored"
    assert monitored.monitors is not None and monitored.monitors.coverage == 0.6
    assert monitored.factions == load_scenario(baseline_path).factions


def test_config_is_frozen(baseline):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        baseline.truce.horizon = 10  # type: ignore[misc]


def test_dotted_overrides_by_name_and_index(baseline_path):
    s = load_scenario(
        baseline_path,
        ["monitors.coverage=0.8", "factions.faction_b.entanglement=0.9", "factions.0.strength=0.1"],
    )
    assert s.monitors.coverage == 0.8
    assert s.factions[1].entanglement == 0.9
    assert s.factions[0].strength == 0.1


def test_override_of_missing_list_item_is_clear(baseline_path):
    err = error_of(baseline_path, ["factions.faction_z.strength=0.1"])
    assert err.file == "--set"
    assert "faction_z" in err.message and "faction_a" in err.message


def test_yaml_syntax_error_names_file_and_line(write_yaml):
    path = write_yaml("truce:\n  horizon: 30\n  lead_time: [1, 2\nseed: 3\n")
    err = error_of(path)
    assert err.file == str(path)
    assert err.line is not None and err.line >= 3
    assert "YAML syntax error" in str(err)


def test_unknown_key_suggests_the_right_one(write_yaml):
    path = write_yaml("name: x\nmonitoring:\n  coverage: 0.5\n")
    err = error_of(path)
    assert err.line == 2
    assert err.field == "monitoring"
    assert "did you mean 'monitors'" in err.message
    assert "valid keys here" in err.message


def test_unknown_nested_key(write_yaml):
    path = write_yaml("monitors:\n  coverge: 0.5\n")
    err = error_of(path)
    assert err.field == "monitors.coverge" and err.line == 2
    assert "did you mean 'coverage'" in err.message


def test_wrong_type(write_yaml):
    path = write_yaml("truce:\n  horizon: soon\n")
    err = error_of(path)
    assert err.field == "truce.horizon" and err.line == 2
    assert "expected a whole number between 1 and 3650" in err.message
    assert "'soon'" in err.message


def test_out_of_range(write_yaml):
    path = write_yaml("monitors:\n  coverage: 1.5\n")
    err = error_of(path)
    assert err.field == "monitors.coverage" and err.line == 2
    assert "between 0.0 and 1.0" in err.message and "1.5" in err.message


def test_dangling_sponsor_client(write_yaml):
    path = write_yaml(
        "factions:\n  - name: rebels\nsponsors:\n  - name: patron\n    clients: [rebelz]\n"
    )
    err = error_of(path)
    assert err.field == "sponsors.0.clients.0"
    assert err.line == 5
    assert "'rebelz' is not a party" in err.message and "rebels" in err.message


def test_duplicate_faction_names(write_yaml):
    path = write_yaml("factions:\n  - name: a\n  - name: a\n")
    err = error_of(path)
    assert err.field == "factions.1.name" and err.line == 3
    assert "already used" in err.message


def test_exempted_group_must_be_defined(write_yaml):
    path = write_yaml("truce:\n  exempted: [isis]\n")
    err = error_of(path)
    assert err.field == "truce.exempted.0"
    assert "not a defined excluded group" in err.message


def test_circular_extends(write_yaml):
    write_yaml("extends: b.yaml\n", "a.yaml")
    b = write_yaml("extends: a.yaml\n", "b.yaml")
    err = error_of(b)
    assert "circular extends" in err.message
    assert "a.yaml" in err.message and "b.yaml" in err.message


def test_missing_file(tmp_path):
    err = error_of(tmp_path / "nope.yaml")
    assert "file not found" in err.message and "nope.yaml" in str(err)


def test_missing_parent_file(write_yaml):
    path = write_yaml("extends: gone.yaml\n")
    err = error_of(path)
    assert err.field == "extends" and err.line == 1 and "gone.yaml" in err.message


def test_error_in_parent_points_at_parent(write_yaml):
    parent = write_yaml("truce:\n  horizon: -5\n", "parent.yaml")
    child = write_yaml("extends: parent.yaml\nseed: 1\n", "child.yaml")
    err = error_of(child)
    assert err.file == str(parent) and err.line == 2


def test_yaml_is_read_safely(write_yaml):
    path = write_yaml("name: !!python/object/apply:os.system ['echo hi']\n")
    err = error_of(path)
    assert "YAML syntax error" in err.message


def test_every_field_has_a_description():
    rows = parameters()
    assert len(rows) > 50
    assert all(row["description"] for row in rows), [
        r["path"] for r in rows if not r["description"]
    ]


def test_apply_override_does_not_mutate_input():
    data = {"truce": {"horizon": 10}}
    out = apply_override(data, "truce.horizon", 20)
    assert data["truce"]["horizon"] == 10 and out["truce"]["horizon"] == 20


def test_validate_defaults_is_a_valid_scenario():
    assert isinstance(validate({}), Scenario)


def test_cross_field_rules_are_data_the_validators_use():
    assert {(r.path, r.op) for r in RULES} >= {
        ("truce.collapse.days_above", "<="),
        ("deconfliction.air_forces", ">="),
    }
    with pytest.raises(ScenarioError) as err:
        validate({"truce": {"collapse": {"window": 3, "days_above": 4}}})
    assert err.value.field == "truce.collapse.days_above"
    assert "days_above (4) cannot exceed window (3)" in err.value.message
    flying = {
        "sponsors": [
            {"name": "a", "clients": ["faction_a"]},
            {"name": "b", "clients": ["faction_a"]},
        ]
    }
    with pytest.raises(ScenarioError) as err:
        validate({**flying, "deconfliction": {"air_forces": 1}})
    assert err.value.field == "deconfliction.air_forces"
    assert "1 is fewer than the 2 sponsors that fly" in err.value.message
    assert list(rule_problems(validate(flying))) == []


def test_bounds_of_a_parameter_in_a_scenario():
    assert bounds("truce.horizon") == (1, 3650, True)
    assert bounds("constants.grudge_memory") == (0.5, 365.0, False)
    assert bounds("observed.low") == (0, None, True)
    # List items by [], index or name.
    assert bounds("factions[].trust") == bounds("factions.0.trust") == (0.0, 1.0, False)
    assert bounds("factions.faction_a.trust") == (0.0, 1.0, False)
    # The rules narrow the range in a scenario, from either side.
    s = validate({"truce": {"collapse": {"window": 5, "days_above": 4}}})
    assert bounds("truce.collapse.days_above", s) == (1, 5, True)
    assert bounds("truce.collapse.window", s) == (4, 60, True)
    s = validate(
        {
            "sponsors": [
                {"name": "a", "clients": ["faction_a"]},
                {"name": "b", "clients": ["faction_a"], "air_force": False},
                {"name": "c", "clients": ["government"]},
            ],
            "deconfliction": {"air_forces": 2},
        }
    )
    assert bounds("deconfliction.air_forces", s) == (2, 20, True)
    assert bounds("deconfliction.air_forces") == (0, 20, True)
    with pytest.raises(KeyError):
        bounds("truce.nope")


@pytest.mark.parametrize("name", ["baseline.yaml", "monitored.yaml", "mediation.yaml"])
def test_every_end_of_a_rule_bounded_range_is_valid(name):
    base = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / name)
    data = base.model_dump(mode="json", exclude={"compare", "sweep"})
    for rule in RULES:
        for path in (rule.path, getattr(rule.limit, "path", None)):
            row = next((r for r in parameters() if r["path"] == path), None)
            if row is None or row["kind"] != "integer":
                continue
            low, high, _ = bounds(path, base)
            for value in (low, high):
                validate(apply_override(data, path, value))  # no error
            with pytest.raises(ScenarioError):
                validate(apply_override(data, path, low - 1))
