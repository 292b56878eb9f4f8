"""docs/MODEL.md stays honest: every parameter, the generated tables, sources, directions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from sim.experiment.runner import run_serial
from sim.present import modeldoc as docgen
from sim.scenario.loading import apply_override, load_scenario, validate
from sim.scenario.schema import (
    DIRECTIONS,
    LOWERS,
    NO_EFFECT,
    RAISES,
    RUN_SETTING,
    Prior,
    bounds,
    parameters,
    section_title,
)

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
    missing = [row["path"] for row in parameters() if f"`{row['path']}`" not in text]
    assert not missing, f"parameters missing from docs/MODEL.md: {missing}; {REGENERATE}"


def test_generated_tables_match_the_schema(text):
    assert docgen.generated_region(text) == docgen.render(), REGENERATE


def test_every_parameter_has_a_source_and_a_direction():
    rows = parameters()
    empty = [row["path"] for row in rows if not row["source"]]
    assert not empty, f"give these fields a source= in sim/scenario/schema.py: {empty}"
    odd = [(row["path"], row["direction"]) for row in rows if row["direction"] not in DIRECTIONS]
    assert not odd, f"directions must be one of {DIRECTIONS}: {odd}"


def test_model_parameters_have_a_direction_of_effect():
    # Bookkeeping is for names, labels, citations and designs, not for what the model reads.
    for row in parameters():
        section = row["section"].__name__
        if section in ("Constants", "Monitors", "Deconfliction", "Mediator", "Collapse"):
            assert row["direction"] not in (NO_EFFECT, RUN_SETTING) or row["path"].endswith(
                ".label"
            ), row["path"]


def test_sources_cite_no_file_names():
    for row in parameters():
        assert not re.search(r"\d{3}_[0-9a-f]{16}", row["source"]), row["path"]


@pytest.mark.parametrize("n", range(1, 23))
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


def _tables(rendered: str) -> dict[str, list[str]]:
    """Each table's heading and the parameter paths in its rows."""
    tables: dict[str, list[str]] = {}
    heading = None
    for line in rendered.splitlines():
        if line.startswith("## "):
            heading = line
            assert heading not in tables, f"two tables titled {heading}"
            tables[heading] = []
        elif line.startswith("| `"):
            assert heading is not None
            tables[heading].append(line.split("`")[1])
    return tables


def test_every_row_lands_in_the_table_of_its_section():
    rows = parameters()
    tables = _tables(docgen.render())
    by_section: dict[type, list[dict]] = {}
    for row in rows:
        by_section.setdefault(row["section"], []).append(row)
    assert len(tables) == len(by_section)
    for section, held in by_section.items():
        title = docgen.heading(section, held)
        assert title.startswith(f"## {section_title(section)}")
        assert tables[title] == [r["path"] for r in held], section.__name__
    # Spot checks against the schema's own classes.
    where = {path: heading for heading, paths in tables.items() for path in paths}
    assert where["truce.collapse.window"] == "## Collapse rule (`truce.collapse`)"
    assert where["truce.loophole_width"] == "## Truce terms (`truce`)"
    assert where["constants.trust_loss"] == "## Constants (`constants`)"
    assert where["mediator.patience"] == "## Mediator (`mediator`)"
    assert where["seed"] == "## Top level"


def test_a_new_section_gets_its_own_table():
    class Envoys(BaseModel):
        """Envoys of the regional powers.

        A made-up section.
        """

        model_config = ConfigDict(title="Regional envoys")

        count: int = Field(1, ge=0, le=5, description="envoys")

    rows = parameters()
    new = {
        **rows[-1],
        "path": "envoys.count",
        "section": Envoys,
        "default": 1,
        "low": 0,
        "high": 5,
        "kind": "integer",
        "nullable": False,
        "description": "envoys",
        "source": "Modelling assumption",
        "direction": "depends",
    }
    tables = _tables(docgen.render([*rows, new]))
    assert tables["## Regional envoys (`envoys`)"] == ["envoys.count"]
    assert "A made-up section." in docgen.render([*rows, new])


def test_a_changed_default_makes_the_tables_stale():
    rows = parameters()
    changed = [dict(r) for r in rows]
    target = next(r for r in changed if r["path"] == "constants.trust_loss")
    target["default"] = 0.123
    assert docgen.render(changed) != docgen.render(rows)
    assert "| `constants.trust_loss` | `0.123` |" in docgen.render(changed)


@pytest.mark.parametrize("what", ["source", "direction"])
def test_a_parameter_without_a_source_or_direction_is_refused(what):
    row = {**parameters()[-1], "path": "constants.new_knob", what: ""}
    with pytest.raises(KeyError, match="constants.new_knob"):
        docgen.render([row])


@pytest.mark.parametrize(
    ("row", "shown"),
    [
        ({"kind": "real", "low": 0.0, "high": 1.0}, "real in [0.0, 1.0]"),
        ({"kind": "integer", "low": 1, "high": 3650}, "integer in [1, 3650]"),
        ({"kind": "integer", "low": 0, "high": None, "nullable": True}, "integer ≥ 0, or null"),
        ({"kind": "real", "low": None, "high": None}, "real"),
        ({"kind": "boolean"}, "true or false"),
        ({"kind": "list"}, "list"),
        ({"kind": "text", "max_length": 80}, "text of at most 80 characters"),
        (
            {"kind": "real", "low": 0.0, "high": 0.5, "prior": Prior(0.001, 0.03, "log")},
            "real in [0.0, 0.5]; prior 0.001–0.03 (log)",
        ),
    ],
)
def test_format_range(row, shown):
    assert docgen.format_range(row) == shown


def test_ranges_come_from_the_fields_constraints():
    rows = {r["path"]: r for r in parameters()}
    assert (rows["truce.horizon"]["low"], rows["truce.horizon"]["high"]) == (1, 3650)
    assert rows["constants.grudge_memory"]["low"] == 0.5
    assert rows["observed.low"]["high"] is None and rows["observed.low"]["nullable"]
    assert "| `truce.horizon` | `365` | integer in [1, 3650] |" in docgen.render()


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


def _set(data: dict, path: str, value) -> dict:
    """``data`` with ``value`` at ``path``; ``x[].y`` sets ``y`` of every item of ``x``."""
    if "[]" in path:
        section, name = path.split("[].")
        return {**data, section: [{**item, name: value} for item in data[section]]}
    return apply_override(data, path, value)


def _ends(row, scenario) -> tuple[float, float]:
    """The two values a direction is checked between.

    A calibrated constant's prior range; else the parameter's valid range in the
    scenario, cut to 5 (reals outside the constants) or 60 (whole numbers): at
    the far ends of the wide ranges every truce collapses or none does, which
    would hide the direction.
    """
    if row["prior"] is not None:
        return row["prior"].low, row["prior"].high
    low, high, integer = bounds(row["path"], scenario)
    return low, min(high, 60 if integer else 5 if row["section"].__name__ != "Constants" else high)


@pytest.mark.slow
def test_documented_directions_hold_in_the_model():
    # The baseline with a monitoring mission and an envoy, so that every mechanism is in play;
    # both ends run on the same replicate truces (common random numbers), 600 of them. A
    # weak inequality: some terms act only in a few truces (withdrawal_trust over its prior
    # range changes none), but none may move collapse against its documented direction.
    data = load_scenario(ROOT / "scenarios" / "baseline.yaml").model_dump(
        mode="json", exclude={"compare", "sweep"}
    )
    data = {**data, "monitors": data["monitors"] or {}, "mediator": data["mediator"] or {}}
    scenario = validate(data)
    assert scenario.truce.exempted and scenario.sponsors and scenario.excluded
    wrong, checked = [], 0
    for row in parameters():
        if row["direction"] not in (RAISES, LOWERS) or row["kind"] not in ("real", "integer"):
            continue
        low, high = _ends(row, scenario)
        shares = [
            run_serial(validate(_set(data, row["path"], v)), replicates=600)["collapsed"].mean()
            for v in (low, high)
        ]
        moved = shares[1] - shares[0]
        if (moved < 0) if row["direction"] == RAISES else (moved > 0):
            wrong.append((row["path"], row["direction"], low, high, shares))
        checked += 1
    assert checked > 40
    assert not wrong, wrong


def test_only_the_calibrated_constants_say_they_were_fitted():
    for row in parameters():
        if row["section"].__name__ == "Constants":
            fitted = "fitted by `truce calibrate`" in row["source"]
            assert fitted == (row["prior"] is not None), row["path"]
