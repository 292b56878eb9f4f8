"""Generate the parameter tables of ``docs/MODEL.md`` from the scenario schema.

Every column (parameter, default, range, direction of effect on collapse,
meaning, source) comes from :func:`sim.scenario.schema.parameters`, which reads
the fields' own metadata, so the tables cannot drift from the code. There is
one table per config section (the class that holds the fields), titled from
the class (its ``model_config`` title, else its docstring) with the rest of its
docstring as the note under the title.

``python -m sim.present.modeldoc`` rewrites the region of ``docs/MODEL.md``
between the ``<!-- BEGIN PARAMETERS -->`` and ``<!-- END PARAMETERS -->``
markers (atomic write); ``python -m sim.present.modeldoc --check`` only
reports whether it is up to date.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from sim.scenario.schema import field_at, parameters, section_note, section_title

BEGIN = "<!-- BEGIN PARAMETERS -->"
END = "<!-- END PARAMETERS -->"
MODEL_MD = Path(__file__).resolve().parents[2] / "docs" / "MODEL.md"


def format_default(value: Any) -> str:
    """A default value as it would be written in YAML."""
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple | list):
        return "`[]`" if not value else f"`{list(value)}`"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return f"`{value}`"


_KIND_WORDS = {"boolean": "true or false"}


def format_range(row: Mapping[str, Any]) -> str:
    """A compact range from a parameter row's ``kind``, ``low``, ``high``, ``nullable``.

    A calibrated constant's prior follows (``; prior 0.05–0.35``, ``(log)`` when
    it is uniform in the logarithm).
    """
    kind, low, high = row["kind"], row.get("low"), row.get("high")
    if kind in ("real", "integer") and low is not None and high is not None:
        text = f"{kind} in [{low}, {high}]"
    elif kind in ("real", "integer") and low is not None:
        text = f"{kind} ≥ {low}"
    elif kind in ("real", "integer") and high is not None:
        text = f"{kind} ≤ {high}"
    else:
        text = _KIND_WORDS.get(kind, kind)
    if kind == "text" and row.get("max_length") is not None:
        text += f" of at most {row['max_length']} characters"
    text += ", or null" if row.get("nullable") else ""
    prior = row.get("prior")
    if prior is not None:
        text += f"; prior {prior.low}–{prior.high}" + (" (log)" if prior.scale == "log" else "")
    return text


def _where(path: str) -> str:
    """The section path of a parameter path (``factions[].trust``: ``factions[]``)."""
    return path.rpartition(".")[0]


def _default_note(where: str) -> str:
    """What a section defaults to when a scenario leaves it out ("" when nothing to say)."""
    try:
        field = field_at(where)
    except KeyError:  # the top level, or a section the scenario does not hold
        return ""
    name = where.removesuffix("[]")
    if field.default is None:
        return f"`{name}` defaults to `null` (none); the defaults below apply once it is given."
    if isinstance(field.default, tuple):
        if not field.default:
            return f"`{name}` defaults to an empty list (none)."
        names = ", ".join(f"`{getattr(x, 'name', x)}`" for x in field.default)
        return f"`{name}` defaults to the list {names}."
    return ""


def _sections(
    rows: Iterable[Mapping[str, Any]],
) -> list[tuple[type[BaseModel], list[Mapping[str, Any]]]]:
    """The rows grouped by the config class that holds them, in order of first appearance."""
    groups: dict[type[BaseModel], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["section"], []).append(row)
    return list(groups.items())


def heading(section: type[BaseModel], rows: Iterable[Mapping[str, Any]]) -> str:
    """The Markdown heading of a section's table: its title and where it sits in a scenario."""
    wheres = list(dict.fromkeys(_where(r["path"]) for r in rows))
    where = ", ".join(f"`{w}`" for w in wheres if w)
    return f"## {section_title(section)}" + (f" ({where})" if where else "")


def render(rows: Iterable[Mapping[str, Any]] | None = None) -> str:
    """The Markdown parameter tables, one per config section.

    Args:
        rows: parameter rows as given by :func:`sim.scenario.schema.parameters`
            (default: the schema's).

    Returns:
        The text that goes between the markers, starting and ending with a newline.

    Raises:
        KeyError: when a parameter has no source or no direction (give its field
            ``source=`` and ``direction=`` in sim/scenario/schema.py).
    """
    rows = list(parameters() if rows is None else rows)
    for what in ("source", "direction"):
        missing = [r["path"] for r in rows if not str(r.get(what) or "").strip()]
        if missing:
            raise KeyError(
                f"no {what} for {', '.join(missing)}: give the field {what}= in "
                "sim/scenario/schema.py"
            )
    out = [
        "",
        "<!-- Generated by `python -m sim.present.modeldoc` from sim/scenario/schema.py.",
        "     Do not edit by hand. -->",
        "",
    ]
    for section, held in _sections(rows):
        out += [heading(section, held), ""]
        notes = [section_note(section)]
        notes += [_default_note(w) for w in dict.fromkeys(_where(r["path"]) for r in held)]
        note = " ".join(n for n in notes if n)
        if note:
            out += [note, ""]
        out += [
            "| parameter | default | range | direction | meaning | source |",
            "|---|---|---|---|---|---|",
        ]
        for row in held:
            cells = (
                f"`{row['path']}`",
                format_default(row["default"]),
                format_range(row),
                f"{row['direction']}: on {row['depends_on']}"
                if row.get("depends_on")
                else row["direction"],
                row["description"] or "—",
                row["source"],
            )
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def splice(document: str, tables: str) -> str:
    """Replace the text between the markers of ``document`` with ``tables``.

    Raises:
        ValueError: when the markers are missing or out of order.
    """
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"expected the markers {BEGIN} … {END} in that order")
    return document[: start + len(BEGIN)] + tables + document[end:]


def generated_region(document: str) -> str:
    """The text between the markers of ``document`` (what :func:`render` produced)."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"expected the markers {BEGIN} … {END} in that order")
    return document[start + len(BEGIN) : end]


def update(path: Path = MODEL_MD, check: bool = False) -> bool:
    """Regenerate the parameter tables of ``path``.

    Args:
        path: the Markdown file with the markers.
        check: only report whether the file is up to date; do not write.

    Returns:
        True when the file was already up to date.
    """
    document = path.read_text(encoding="utf-8")
    new = splice(document, render())
    if new == document:
        return True
    if not check:
        from sim.experiment.storage import atomic_write_bytes  # imported here: it loads pandas

        atomic_write_bytes(path, new.encode("utf-8"))
    return False


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``python -m sim.present.modeldoc [--check] [PATH]``."""
    parser = argparse.ArgumentParser(prog="python -m sim.present.modeldoc", description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=MODEL_MD)
    parser.add_argument("--check", action="store_true", help="fail if the tables are stale")
    args = parser.parse_args(argv)
    current = update(args.path, check=args.check)
    if args.check and not current:
        print(f"{args.path}: parameter tables are stale; run `python -m sim.present.modeldoc`")
        return 1
    print(f"{args.path}: parameter tables {'up to date' if current else 'regenerated'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
