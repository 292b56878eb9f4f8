"""Loading scenarios: YAML files, ``extends:``, ``--set`` overrides, line numbers, errors.

``load_scenario`` reads a file (with ``extends:`` inheritance and dotted
``--set`` overrides) and turns every problem into one :class:`ScenarioError`
naming the file, the line, the field path and what was expected.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from sim.scenario.cost import estimate_cost
from sim.scenario.errors import ScenarioError, excerpt, shown
from sim.scenario.schema import Scenario, _expected, _field_for, _listing, _model_at


def load_scenario(
    path: str | Path,
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
    *,
    flags: Mapping[str, tuple[str, Any]] | None = None,
    kind: str | None = None,
) -> Scenario:
    """Read, merge (``extends:``), override and validate a scenario file.

    Args:
        path: the YAML file.
        overrides: dotted ``key=value`` strings (as given to ``--set``) or a mapping
            of dotted paths to values.
        flags: top-level values given by command-line options, as
            ``{field: (option, value)}`` (e.g. ``{"seed": ("--seed", 7)}``); a value
            of None leaves the file's. They obey the same limits as the file.
        kind: ``"run"``, ``"compare"`` or ``"sweep"`` to also refuse an experiment
            too large for this machine (see :func:`estimate_cost`), before any work;
            ``"any"`` for the largest the file holds.

    Returns:
        The validated, frozen scenario.

    Raises:
        ScenarioError: naming the file, line, field and what was expected.
    """
    path = Path(path)
    data, lines = _read_with_extends(path, chain=())
    data.setdefault("name", path.stem)
    set_lines: dict[tuple, tuple[str, int | None]] = {}
    for key, value in _parse_overrides(overrides):
        try:
            data = apply_override(data, key, value)
        except KeyError as exc:
            raise ScenarioError("--set", exc.args[0], field=key) from None
        set_lines[tuple(key.split("."))] = ("--set", None)
    for key, (flag, value) in (flags or {}).items():
        if value is not None:
            data = apply_override(data, key, value)
            set_lines[(key,)] = (flag, None)
    lines.update(set_lines)
    scenario = validate(data, path, lines)
    if kind == "any":  # the largest experiment the file holds
        kind = "sweep" if scenario.sweep else "compare" if scenario.compare else "run"
    if kind is not None:
        cost = estimate_cost(scenario, kind)
        if problem := cost.problem():
            file, line = _locate(("replicates",), lines, path)
            raise ScenarioError(file, problem, line=line, field="replicates")
    return scenario


def validate(data: Mapping[str, Any], path: str | Path = "<scenario>", lines=None) -> Scenario:
    """Validate a raw mapping into a :class:`Scenario`, converting errors."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _convert(exc, Path(path), lines or {}) from None


MAX_FILE_BYTES = 1_000_000  # a scenario is a page of YAML; a megabyte is not a scenario
MAX_ALIASES = 1_000  # YAML aliases (*name) per file: plenty for shared defaults
MAX_NODES = 100_000  # values in a file once aliases are expanded (billion laughs stop here)
MAX_DEPTH = 50  # nested sections and lists; a scenario needs five or six


_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
MAX_DIGITS = 100


class _Loader(yaml.SafeLoader):
    """``SafeLoader`` that bounds alias expansion and rejects duplicate keys.

    An alias is cheap to parse but every later step (line collection, merging,
    validation) walks the expanded tree, so a few nested aliases ("billion
    laughs") would take minutes and gigabytes. Each alias adds the size of the
    node it repeats to a running count of expanded nodes; past ``MAX_NODES`` (or
    ``MAX_ALIASES`` aliases) the file is refused at the line of that alias.
    """

    def __init__(self, text: str, path: Path):
        super().__init__(text)
        self.path = path
        self.aliases = 0
        self.expanded = 0
        self.sizes: dict[int, int] = {}
        self.at: list[str] = []  # the key path being composed, for messages

    def compose_node(self, parent: Any, index: Any) -> Any:
        is_alias = self.check_event(yaml.AliasEvent)
        mark = self.peek_event().start_mark
        step = index.value if isinstance(index, yaml.ScalarNode) else index
        if len(self.at) >= MAX_DEPTH:
            raise ScenarioError(
                self.path,
                f"sections and lists nested more than {MAX_DEPTH} deep",
                line=mark.line + 1,
                field=".".join(self.at[:3]) + ".…",
            )
        if step is not None:
            self.at.append(str(step))
        try:
            node = super().compose_node(parent, index)
        finally:
            if step is not None:
                self.at.pop()
        if node is None:  # PyYAML's stubs allow it; the composer always returns a node
            return node
        field = ".".join(self.at + ([str(step)] if step is not None else [])) or None
        if node.tag == _INT_TAG and len(node.value) > MAX_DIGITS:  # Python reads 4,300 at most
            raise ScenarioError(
                self.path,
                f"expected a number, got {shown(node.value)}; no value here has more "
                f"than {MAX_DIGITS} digits",
                line=mark.line + 1,
                field=field,
            )
        if is_alias:
            if node.end_mark is None:  # still being composed: the alias is inside its anchor
                raise ScenarioError(
                    self.path, "a YAML alias refers to itself", line=mark.line + 1, field=field
                )
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise ScenarioError(
                    self.path,
                    f"too many YAML aliases (*name): the limit is {MAX_ALIASES:,}",
                    line=mark.line + 1,
                    field=field,
                )
            self.expanded += self._size(node, mark, set(), field)
        else:
            self.expanded += 1
        if self.expanded > MAX_NODES:
            raise ScenarioError(
                self.path,
                f"the file expands to more than {MAX_NODES:,} values (YAML aliases repeat "
                "whole sections); a scenario needs far fewer",
                line=mark.line + 1,
                field=field,
            )
        return node

    def _size(self, node: Any, mark: Any, seen: set[int], field: str | None = None) -> int:
        """Values in ``node`` with every alias expanded (memoised; refuses cycles)."""
        key = id(node)
        if key in self.sizes:
            return self.sizes[key]
        if key in seen:
            raise ScenarioError(
                self.path, "a YAML alias refers to itself", line=mark.line + 1, field=field
            )
        seen.add(key)
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._size(item, mark, seen, field) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                size += self._size(k, mark, seen, field) + self._size(v, mark, seen, field)
                if size > MAX_NODES:
                    break
        seen.discard(key)
        self.sizes[key] = size
        return size

    def compose_mapping_node(self, anchor: Any) -> Any:
        node = super().compose_mapping_node(anchor)
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ScenarioError(
                    self.path,
                    f"duplicate key '{excerpt(key_node.value)}' (first given on line "
                    f"{seen[key]}); give each key once",
                    line=line,
                    field=".".join([*self.at, str(key_node.value)]),
                )
            seen[key] = line
        return node


def _decode(path: Path, raw: bytes) -> str:
    """The file's text, or a ScenarioError at the line of the first undecodable byte."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(
            path,
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be read; save the file as UTF-8",
            line=line,
        ) from None
    for i, ch in enumerate(text):
        if ch in _FORBIDDEN:
            line = text.count("\n", 0, i) + 1
            shown = "a NUL byte" if ch == "\x00" else f"the control character {ch!r}"
            raise ScenarioError(
                path, f"{shown} is not allowed in a scenario file (is it a text file?)", line=line
            )
    return text


_FORBIDDEN = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r") | {"\x7f"}


def _read_yaml(path: Path) -> tuple[dict, dict[tuple, tuple[str, int | None]]]:
    """Load one YAML file with ``safe_load`` semantics, and the line of each key."""
    if not path.is_file():
        raise ScenarioError(path, "file not found" if not path.exists() else "not a file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            path, f"file too large for a scenario: {size:,} bytes; the limit is {MAX_FILE_BYTES:,}"
        )
    text = _decode(path, path.read_bytes())
    loader = _Loader(text, path)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else None
        raise ScenarioError(path, f"YAML syntax error: {problem}", line=line) from None
    finally:
        loader.dispose()
    if data is None:
        raise ScenarioError(path, "the file is empty; expected a mapping of sections", line=1)
    if not isinstance(data, dict):
        raise ScenarioError(path, "expected a mapping of sections at the top level", line=1)
    lines: dict[tuple, tuple[str, int | None]] = {}
    _collect_lines(node, (), str(path), lines)
    return data, lines


def _collect_lines(node: Any, prefix: tuple, file: str, out: dict) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, str(key_node.value))
            out[key] = (file, key_node.start_mark.line + 1)
            _collect_lines(value_node, key, file, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            key = (*prefix, str(i))
            out[key] = (file, item.start_mark.line + 1)
            _collect_lines(item, key, file, out)


def _read_with_extends(path: Path, chain: tuple[Path, ...]) -> tuple[dict, dict]:
    resolved = path.resolve()
    if resolved in chain:
        loop = " → ".join(p.name for p in (*chain, resolved))
        raise ScenarioError(chain[-1], f"circular extends: {loop}", field="extends")
    data, lines = _read_yaml(path)
    parent = data.pop("extends", None)
    line = lines.get(("extends",), (None, None))[1]
    if parent is None:
        _reject_removals(data, lines, path, why="this file extends nothing; delete the item")
        return data, lines
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError(path, "expected the name of a YAML file", line=line, field="extends")
    parent_path = (path.parent / parent).resolve()
    if not parent_path.exists():
        raise ScenarioError(path, f"file not found: {excerpt(parent)}", line=line, field="extends")
    if not parent_path.is_file():
        raise ScenarioError(
            path,
            f"expected the name of a YAML file, got the folder {excerpt(parent)}",
            line=line,
            field="extends",
        )
    base, base_lines = _read_with_extends(parent_path, (*chain, resolved))
    base.pop("name", None)
    merged_lines: dict[tuple, tuple[str, int | None]] = {}
    merged = _merge(base, data, base_lines, lines, (), (), (), merged_lines, path)
    return merged, merged_lines


REMOVE = "remove"  # ``{name: x, remove: true}`` in a child file drops the parent's item x


def _named_items(value: Any) -> bool:
    """Whether ``value`` is a non-empty list of mappings that each have a text ``name``."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(x, Mapping) and isinstance(x.get("name"), str) for x in value)
    )


def _move_lines(src: Mapping, src_at: tuple, out: dict, dest_at: tuple) -> None:
    """Copy the lines of everything under ``src_at`` to ``dest_at``."""
    n = len(src_at)
    for key, where in src.items():
        if key[:n] == src_at:
            out[dest_at + key[n:]] = where


def _merge(
    base: Any,
    top: Any,
    base_lines: Mapping,
    top_lines: Mapping,
    base_at: tuple,
    top_at: tuple,
    at: tuple,
    out_lines: dict,
    path: Path,
) -> Any:
    """Merge a child file's ``top`` over its parent's ``base`` and carry each key's line.

    Mappings merge key by key. Lists of named items (factions, excluded,
    sponsors: every item a mapping with a ``name``) merge by name: an item whose
    name the parent has merges into that item, a new name is appended, and
    ``{name: x, remove: true}`` drops the parent's item ``x``. Anything else
    (values, other lists, an empty list) replaces the parent's.
    """
    if isinstance(base, Mapping) and isinstance(top, Mapping):
        merged = {}
        if at:
            out_lines[at] = top_lines.get(top_at, base_lines.get(base_at))
        for key, value in base.items():
            if key not in top:
                merged[key] = value
                _move_lines(base_lines, (*base_at, str(key)), out_lines, (*at, str(key)))
        for key, value in top.items():
            k = str(key)
            if key in base:
                merged[key] = _merge(
                    base[key], value, base_lines, top_lines,
                    (*base_at, k), (*top_at, k), (*at, k), out_lines, path,
                )  # fmt: skip
            else:
                merged[key] = value
                _reject_removals(value, top_lines, path, (*top_at, k), (*at, k))
                _move_lines(top_lines, (*top_at, k), out_lines, (*at, k))
        return {k: merged[k] for k in [*base, *(k for k in top if k not in base)]}
    if _named_items(base) and _named_items(top):
        return _merge_named(base, top, base_lines, top_lines, base_at, top_at, at, out_lines, path)
    _reject_removals(top, top_lines, path, top_at, at)
    _move_lines(top_lines, top_at, out_lines, at)
    return top


def _merge_named(base, top, base_lines, top_lines, base_at, top_at, at, out_lines, path) -> list:
    """Merge two lists of named items by name (see :func:`_merge`)."""
    by_name = {item["name"]: i for i, item in enumerate(base)}
    updates: dict[str, tuple[int, Mapping]] = {}
    removed: set[str] = set()
    added: list[tuple[int, Mapping]] = []
    for j, item in enumerate(top):
        name = item["name"]
        where = (*top_at, str(j))
        if REMOVE in item:
            line = top_lines.get((*where, REMOVE), (None, None))[1]
            field = ".".join((*at, str(j), REMOVE))
            if item[REMOVE] is not True or set(item) != {"name", REMOVE}:
                raise ScenarioError(
                    path,
                    "expected exactly {name: ..., remove: true} to drop an inherited item",
                    line=line,
                    field=field,
                )
            if name not in by_name:
                raise ScenarioError(
                    path,
                    f"nothing to remove: the parent file has no item named '{excerpt(name)}' "
                    f"here (it has: {_listing(by_name)})",
                    line=line,
                    field=field,
                )
            removed.add(name)
        elif name in by_name:
            updates[name] = (j, item)
        else:
            added.append((j, item))
    merged: list = []
    for i, item in enumerate(base):
        if item["name"] in removed:
            continue
        dest = (*at, str(len(merged)))
        if item["name"] in updates:
            j, change = updates[item["name"]]
            merged.append(
                _merge(
                    item,
                    change,
                    base_lines,
                    top_lines,
                    (*base_at, str(i)),
                    (*top_at, str(j)),
                    dest,
                    out_lines,
                    path,
                )  # fmt: skip
            )
        else:
            merged.append(item)
            _move_lines(base_lines, (*base_at, str(i)), out_lines, dest)
    for j, item in added:
        _reject_removals(item, top_lines, path, (*top_at, str(j)), (*at, str(len(merged))))
        _move_lines(top_lines, (*top_at, str(j)), out_lines, (*at, str(len(merged))))
        merged.append(item)
    if at:
        out_lines[at] = top_lines.get(top_at, base_lines.get(base_at))
    return merged


def _reject_removals(
    data: Any,
    lines: Mapping,
    path: Path,
    at: tuple = (),
    dest: tuple | None = None,
    why: str = "the parent file has no list of named items here",
) -> None:
    """Refuse ``remove: true`` where no inherited list holds the item to drop."""
    dest = at if dest is None else dest
    if isinstance(data, Mapping):
        for key, value in data.items():
            _reject_removals(value, lines, path, (*at, str(key)), (*dest, str(key)), why)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            if isinstance(item, Mapping) and REMOVE in item:
                raise ScenarioError(
                    path,
                    "nothing to remove: remove: drops an item inherited through extends:, "
                    f"and {why}",
                    line=lines.get((*at, str(i), REMOVE), (None, None))[1],
                    field=".".join((*dest, str(i), REMOVE)),
                )


def _parse_overrides(overrides: Any) -> list[tuple[str, Any]]:
    if not overrides:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    pairs = []
    for item in overrides:
        key, sep, raw = str(item).partition("=")
        if not sep or not key.strip():
            raise ScenarioError("--set", f"expected key=value, got {shown(str(item))}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        pairs.append((key.strip(), value))
    return pairs


def apply_override(data: Mapping[str, Any], dotted: str, value: Any) -> dict:
    """Return a copy of ``data`` with ``dotted`` set to ``value``.

    List items are addressed by index (``factions.0.strength``) or by their
    ``name`` (``factions.faction_a.strength``).

    Raises:
        KeyError: with a readable message when the path does not exist.
    """
    parts = dotted.split(".")
    root = _copy(data)
    node: Any = root
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = excerpt(".".join(parts[:depth]), 120) or "the scenario"
        if isinstance(node, list):
            index = _list_index(node, part)
            if index is None:
                names = [str(x.get("name")) for x in node if isinstance(x, dict)]
                raise KeyError(
                    f"no item '{excerpt(part)}' in {here} (items: {', '.join(names) or 'none'})"
                )
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if node.get(part) is None:
                    node[part] = _default_section(parts[: depth + 1])
                node = node[part]
        else:
            raise KeyError(f"{here} is a value, not a section")
    return root


def _default_section(path: list[str]) -> Any:
    """An empty section to fill, or a list copied from the schema's default."""
    field = _field_for(tuple(path))
    default = getattr(field, "default", None) if field is not None else None
    if isinstance(default, tuple):
        return [d.model_dump() if isinstance(d, BaseModel) else d for d in default]
    return {}


def _list_index(items: list, part: str) -> int | None:
    if part.isdigit():
        return int(part) if int(part) < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == part:
            return i
    return None


def _copy(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {k: _copy(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_copy(v) for v in x]
    return x


def _convert(exc: ValidationError, path: Path, lines: Mapping[tuple, tuple]) -> ScenarioError:
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    if err["type"] == "reference":
        loc = tuple(ctx["path"].split("."))
        message = err["msg"]
    elif err["type"] == "bool_not_number":
        loc = (*loc, ctx["name"])
        word = "true" if ctx["value"] else "false"
        message = (
            f"expected {_expected(_field_for(loc))}, got {word} "
            "(YAML reads true/false, yes/no and on/off as booleans, not numbers)"
        )
    elif err["type"] == "extra_forbidden":
        holder = _model_at(loc[:-1])
        valid = list(holder.model_fields) if holder else []
        guess = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f"did you mean '{guess[0]}'? " if guess else ""
        message = f"unknown key; {hint}valid keys here: {', '.join(valid)}"
    elif err["type"] == "missing":
        message = f"required; expected {_expected(_field_for(loc))}"
    else:
        got = shown(err.get("input"))
        message = f"expected {_expected(_field_for(loc))}, got {got}"
        if err["type"] == "string_pattern_mismatch":
            message = f"expected a name in lower case letters, digits and _, got {got}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    file, line = _locate(loc, lines, path)
    return ScenarioError(file, message, line=line, field=".".join(map(str, loc)))


def _locate(loc: tuple, lines: Mapping[tuple, tuple], default: Path) -> tuple[str, int | None]:
    """The file and line of the deepest key of ``loc`` that the files give.

    Keys may themselves hold dots (``sweep.grid`` keys are dotted parameter
    paths), so ``loc`` is matched as a dotted string against the dotted keys.
    """
    dotted = {".".join(k): where for k, where in lines.items()}
    parts = [str(p) for p in loc]
    while parts:
        key = ".".join(parts)
        if key in dotted:
            return dotted[key]
        parts.pop()
    return str(default), None


def resolve_scenario(
    scenario: Scenario | str | Path | None, overrides: Mapping[str, Any]
) -> Scenario:
    """A validated scenario from an object or a file, with dotted overrides applied."""
    if scenario is None:
        scenario = Scenario()
    if isinstance(scenario, str | Path):
        return load_scenario(scenario, overrides)
    if not overrides:
        return scenario
    return override_scenario(scenario, overrides, f"scenario '{scenario.name}'")


def override_scenario(scenario: Scenario, overrides: Mapping[str, Any], source: str) -> Scenario:
    """A validated scenario with dotted overrides applied, refused as ``--set`` refuses them.

    Args:
        scenario: the scenario to start from.
        overrides: dotted parameter paths (list items by name or index) and values.
        source: where the overrides come from, named by the error (``"--set"``
            on the command line).

    Returns:
        The new scenario (``scenario`` itself is not changed).

    Raises:
        ScenarioError: naming ``source``, the parameter path and what was
            expected: a path that does not exist, or a value out of range or
            of the wrong type.
    """
    data = scenario.model_dump()
    lines: dict[tuple, tuple[str, int | None]] = {}
    for key, value in overrides.items():
        try:
            data = apply_override(data, key, value)
        except KeyError as exc:
            raise ScenarioError(source, exc.args[0], field=key) from None
        lines[tuple(key.split("."))] = (source, None)
    return validate(data, source, lines)
