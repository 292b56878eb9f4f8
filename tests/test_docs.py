"""docs/MODEL.md stays honest: every parameter, the generated tables, sources, equations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.present import modeldoc as docgen
from sim.scenario.schema import field_table

ROOT = Path(__file__).resolve().parent.parent
MODEL_MD = ROOT / "docs" / "MODEL.md"
DECISIONS = ROOT / "sim" / "model" / "decisions.py"
REGENERATE = (
    "docs/MODEL.md is stale: run `.venv/bin/python -m sim.present.modeldoc` and commit the result"
)


@pytest.fixture(scope="module")
def text() -> str:
    return MODEL_MD.read_text(encoding="utf-8")


def test_every_parameter_path_is_documented(text):
    missing = [row["path"] for row in field_table() if f"`{row['path']}`" not in text]
    assert not missing, f"parameters missing from docs/MODEL.md: {missing}; {REGENERATE}"


def test_generated_tables_match_the_schema(text):
    assert docgen.generated_region(text) == docgen.render(), REGENERATE


def test_every_parameter_has_a_source():
    empty = [row["path"] for row in field_table() if not docgen.source_for(row["path"])]
    assert not empty, f"add a source to SOURCES in sim/present/modeldoc.py for: {empty}"
    assert all(value.strip() for value in docgen.SOURCES.values())
    assert all(value.strip() for value in docgen.PREFIX_SOURCES.values())


def test_no_source_for_a_parameter_that_no_longer_exists():
    paths = {row["path"] for row in field_table()}
    stale = sorted(set(docgen.SOURCES) - paths)
    assert not stale, (
        f"SOURCES in sim/present/modeldoc.py names parameters the schema lacks: {stale}"
    )


def test_sources_cite_no_file_names():
    for value in [*docgen.SOURCES.values(), *docgen.PREFIX_SOURCES.values()]:
        assert not re.search(r"\d{3}_[0-9a-f]{16}", value), value


@pytest.mark.parametrize("n", range(1, 17))
def test_every_equation_is_written_out(text, n):
    assert re.search(rf"\bE{n}\b", text), f"E{n} is not mentioned in docs/MODEL.md"


def test_every_equation_of_the_code_is_documented(text):
    numbers = set(re.findall(r"\(E(\d+)", DECISIONS.read_text(encoding="utf-8")))
    assert numbers, "sim/model/decisions.py no longer numbers its equations"
    for n in numbers:
        assert re.search(rf"\bE{n}\b", text), (
            f"E{n} of sim/model/decisions.py is not in docs/MODEL.md"
        )


def test_odd_sections_are_present(text):
    for heading in (
        "Purpose and patterns",
        "Entities, state variables and scales",
        "Process overview and scheduling",
        "Design concepts",
        "Initialisation",
        "Input data",
        "Submodels",
        "# Parameters",
        "# Outputs",
        "# Known simplifications",
    ):
        assert heading in text, heading


def test_every_stream_is_documented(text):
    from sim.model.streams import STREAMS

    for name in STREAMS:
        assert f"`{name}`" in text, name


def test_a_changed_default_makes_the_tables_stale():
    rows = field_table()
    changed = [dict(r) for r in rows]
    target = next(r for r in changed if r["path"] == "constants.trust_loss")
    target["default"] = 0.123
    assert docgen.render(changed) != docgen.render(rows)
    assert "| `constants.trust_loss` | `0.123` |" in docgen.render(changed)


def test_a_parameter_without_a_source_is_refused():
    rows = [
        {"path": "constants.new_knob", "default": 1.0, "expected": "a number", "description": "x"}
    ]
    with pytest.raises(KeyError, match="constants.new_knob"):
        docgen.render(rows)


def test_every_row_lands_in_one_table():
    tables = docgen.render()
    for row in field_table():
        assert tables.count(f"| `{row['path']}` |") == 1, row["path"]


@pytest.mark.parametrize(
    ("expected", "shown"),
    [
        ("a number between 0.0 and 1.0", "real in [0.0, 1.0]"),
        ("a whole number between 1 and 3650", "integer in [1, 3650]"),
        ("a whole number of at least 0 (or null)", "integer ≥ 0, or null"),
        ("a number", "real"),
        ("true or false", "true or false"),
        ("a list", "list"),
    ],
)
def test_format_range(expected, shown):
    assert docgen.format_range(expected) == shown


def test_update_rewrites_only_the_marked_region(tmp_path):
    path = tmp_path / "MODEL.md"
    path.write_text(f"head\n{docgen.BEGIN}\nold\n{docgen.END}\ntail\n", encoding="utf-8")
    assert docgen.update(path, check=True) is False
    assert "old" in path.read_text(encoding="utf-8")
    assert docgen.update(path) is False
    new = path.read_text(encoding="utf-8")
    assert new.startswith(f"head\n{docgen.BEGIN}") and new.endswith(f"{docgen.END}\ntail\n")
    assert docgen.generated_region(new) == docgen.render()
    assert docgen.update(path) is True
    assert [p.name for p in tmp_path.iterdir()] == ["MODEL.md"]


def test_missing_markers_are_an_error(tmp_path):
    path = tmp_path / "MODEL.md"
    path.write_text("no markers here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="markers"):
        docgen.update(path)
