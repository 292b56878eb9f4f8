"""The JSON Schema of scenario files, for editors (YAML language servers) and other tools.

:func:`file_schema` starts from the pydantic models of :mod:`sim.scenario.schema`
(``Scenario.model_json_schema``) and adds what a *file* may hold beyond the
model's fields, as :mod:`sim.scenario.loading` reads it:

- ``extends:``, the parent file. A file that extends another gives only what
  it changes, so it is checked against a second copy of the definitions in
  which nothing is required but the ``name`` of list items (the key that the
  merge matches them by), and in which a list item may be
  ``{name: x, remove: true}`` (drop the inherited item ``x``);
- ``compare:`` and ``sweep:`` as written in YAML (their parsers,
  :func:`~sim.scenario.designs.parse_compare` and
  :func:`~sim.scenario.designs.parse_sweep`, accept forms the models'
  own schemas do not show: an arm of ``null``, a grid of ``{low, high, steps}``,
  exactly one design).

The schema checks keys, types, ranges and names. What it cannot say (cross
references between parties, the cross-field rules, bounds in order, an arm and
a sweep setting the same parameter) ``truce validate`` still checks.
"""

from __future__ import annotations

import copy
from typing import Any

from sim.scenario.designs import KINDS, MAX_POINTS
from sim.scenario.loading import REMOVE
from sim.scenario.schema import Scenario

DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: Keys our fields carry for the docs (source, direction, prior), not JSON Schema keywords.
_DOC_KEYS = ("source", "direction", "depends_on", "prior")
#: Suffix of the definitions a file with ``extends:`` is checked against.
PARTIAL = "Partial"


def file_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario YAML file, as a JSON-ready dict."""
    generated = Scenario.model_json_schema(mode="validation")
    defs: dict[str, Any] = generated.pop("$defs")
    defs["Scenario"] = generated
    for schema in defs.values():
        _strip_doc_keys(schema)
    _design_defs(defs)
    top = defs["Scenario"]["properties"]
    top["compare"] = {"$ref": "#/$defs/Compare", **_described(top["compare"])}
    top["sweep"] = {
        "anyOf": [{"$ref": "#/$defs/Sweep"}, {"type": "null"}],
        **_described(top["sweep"]),
    }
    partial = {f"{name}{PARTIAL}": _partial(schema) for name, schema in defs.items()}
    extends = {
        "type": "string",
        "minLength": 1,
        "description": "the parent YAML file (relative to this one): inherit everything, "
        "override what this file gives; lists of named items merge by name",
    }
    no_parent = {"type": "null", "description": extends["description"]}  # null: no parent
    defs["Scenario"]["properties"] = {"extends": no_parent, **top}
    child = partial[f"Scenario{PARTIAL}"]
    child["properties"] = {"extends": extends, **child["properties"]}
    child["required"] = ["extends"]
    return {
        "$schema": DIALECT,
        "title": "truce scenario file",
        "description": "A scenario of the truce simulator (https://json-schema.org; "
        "`truce schema` prints this). `truce validate FILE` also checks cross references.",
        "type": "object",
        "if": {"required": ["extends"], "properties": {"extends": {"type": "string"}}},
        "then": {"$ref": f"#/$defs/Scenario{PARTIAL}"},
        "else": {"$ref": "#/$defs/Scenario"},
        "$defs": {**defs, **partial},
    }


def _described(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: schema[k] for k in ("title", "description", "default") if k in schema}


def _strip_doc_keys(node: Any) -> None:
    """Remove our documentation keys (not JSON Schema keywords) from a schema, in place."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            for field in props.values():
                if isinstance(field, dict):
                    for key in _DOC_KEYS:
                        field.pop(key, None)
        for value in node.values():
            _strip_doc_keys(value)
    elif isinstance(node, list):
        for value in node:
            _strip_doc_keys(value)


def _design_defs(defs: dict[str, Any]) -> None:
    """``compare:`` and ``sweep:`` as :mod:`sim.scenario.designs` parses them from YAML."""
    count = {"type": "integer", "minimum": 1, "maximum": MAX_POINTS}
    seed = {
        "anyOf": [{"type": "integer", "minimum": 0, "maximum": 2**32 - 1}, {"type": "null"}],
        "description": "seed of the design (default: the scenario's)",
    }
    bounds = {
        "type": "object",
        "description": "interval of each dotted parameter path",
        "additionalProperties": {"$ref": "#/$defs/Bounds"},
        "minProperties": 1,
    }
    number = {"type": "number"}
    defs["Bounds"] = {
        "type": "object",
        "description": "the interval a sampled parameter is drawn from (low below high)",
        "properties": {"low": number, "high": number},
        "required": ["low", "high"],
        "additionalProperties": False,
    }
    defs["Span"] = {
        "type": "object",
        "description": "evenly spaced grid values, both ends included (low below high)",
        "properties": {
            "low": number,
            "high": number,
            "steps": {**count, "minimum": 2, "description": "number of values (at least 2)"},
        },
        "required": ["low", "high", "steps"],
        "additionalProperties": False,
    }
    defs["Lhs"] = {
        "type": "object",
        "description": "a Latin hypercube of n points within bounds",
        "properties": {"n": count, "bounds": bounds, "seed": seed},
        "required": ["n", "bounds"],
        "additionalProperties": False,
    }
    defs["Sobol"] = {
        "type": "object",
        "description": "Saltelli's sampling for Sobol indices (SALib); points = n (D + 2)",
        "properties": {
            "n": {
                "enum": [2**k for k in range(17)],
                "description": "base samples: a power of two up to 65536",
            },
            "bounds": {**bounds, "minProperties": 2},
            "second_order": {"type": "boolean"},
            "seed": seed,
        },
        "required": ["n", "bounds"],
        "additionalProperties": False,
    }
    defs["Morris"] = {
        "type": "object",
        "description": "Morris elementary effects (SALib); points = trajectories (D + 1)",
        "properties": {
            "trajectories": {**count, "minimum": 2, "default": 10},
            "levels": {
                "type": "integer",
                "minimum": 2,
                "maximum": 100,
                "multipleOf": 2,
                "default": 4,
            },
            "bounds": {**bounds, "minProperties": 2},
            "seed": seed,
        },
        "required": ["bounds"],
        "additionalProperties": False,
    }
    grid_values = {
        "anyOf": [{"type": "array", "minItems": 1}, {"$ref": "#/$defs/Span"}],
        "description": "a list of values or {low, high, steps}",
    }
    point = {
        "type": "object",
        "minProperties": 1,
        "description": "parameter paths to values (a list of values expands as a small grid)",
        "additionalProperties": {"not": {"type": "array", "maxItems": 0}},
    }
    designs = {
        "grid": {
            "type": "object",
            "minProperties": 1,
            "description": "full factorial over each dotted parameter path",
            "additionalProperties": grid_values,
        },
        "points": {
            "type": "array",
            "minItems": 1,
            "description": "hand-picked design points",
            "items": point,
        },
        "lhs": {"$ref": "#/$defs/Lhs"},
        "sobol": {"$ref": "#/$defs/Sobol"},
        "morris": {"$ref": "#/$defs/Morris"},
    }
    assert tuple(designs) == KINDS
    defs["Sweep"] = {
        "type": "object",
        "description": "exactly one design: " + ", ".join(KINDS),
        "properties": designs,
        "additionalProperties": False,
        "minProperties": 1,
        "maxProperties": 1,
    }
    defs["Compare"] = {
        "type": ["object", "null"],
        "description": "named arms (two or more), each a mapping of dotted parameter paths "
        "to values; an arm of null keeps the scenario's values",
        "propertyNames": {"minLength": 1, "maxLength": 60},
        "additionalProperties": {"type": ["object", "null"]},
        "anyOf": [
            {"type": "null"},
            {"type": "object", "maxProperties": 0},
            {"type": "object", "minProperties": 2},
        ],
    }
    for name in ("Bounds", "Span", "Lhs", "Sobol", "Morris", "Sweep"):
        defs[name]["title"] = name


def _partial(schema: dict[str, Any]) -> dict[str, Any]:
    """A definition for a file with ``extends:``: nothing required but list items' names.

    References point to the partial copies; every object with a ``name`` property
    (an item of a list merged by name) may instead be ``{name: x, remove: true}``.
    """
    out = _retarget(copy.deepcopy(schema))
    _relax(out)
    props = out.get("properties", {})
    if "name" in props and schema.get("required") and "name" in schema["required"]:
        out["required"] = ["name"]
        return {
            "anyOf": [
                {"type": "object", **{k: v for k, v in out.items() if k != "title"}},
                {
                    "type": "object",
                    "description": "drop the item of this name inherited through extends:",
                    "properties": {"name": props["name"], REMOVE: {"const": True}},
                    "required": ["name", REMOVE],
                    "additionalProperties": False,
                },
            ],
            **({"title": schema["title"]} if "title" in schema else {}),
        }
    return out


def _retarget(node: Any) -> Any:
    """Point every ``#/$defs/X`` reference at ``#/$defs/X`` + :data:`PARTIAL`."""
    if isinstance(node, dict):
        return {
            k: f"{v}{PARTIAL}" if k == "$ref" and isinstance(v, str) else _retarget(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_retarget(v) for v in node]
    return node


def _relax(node: Any) -> None:
    """Drop ``required`` and ``minProperties``: a child's mappings merge into its parent's."""
    if isinstance(node, dict):
        node.pop("required", None)
        node.pop("minProperties", None)
        for value in node.values():
            _relax(value)
    elif isinstance(node, list):
        for value in node:
            _relax(value)
