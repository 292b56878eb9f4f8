"""Re-create a stored study from its manifest alone, and check it came out the same.

A finished study's ``manifest.json`` records everything its runs depend on:
the resolved scenario, the root seed, the replicates, the chunk size, the
design and the engine. :func:`read_manifest` reads and checks one (a finished
``run``, ``compare`` or ``sweep``), :func:`study_options` turns it into the
arguments of :func:`sim.experiment.study.run_study`, :func:`compare_runs`
compares the old and the new runs tables part by part (same part names,
columns, types, rows and values), and :func:`provenance_changes` lists what
differs between the recorded package versions and git commit and the current
ones (a reason to expect differences, not one itself). The re-run itself,
with its summary and report, is :func:`sim.api.rerun`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiment import storage
from sim.experiment.provenance import git_commit, versions
from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario

KINDS = ("run", "compare", "sweep")
#: What a manifest must hold to be re-run.
REQUIRED = ("kind", "status", "scenario", "seed", "replicates", "chunk_size", "design")
#: Differences listed one by one; the rest are counted.
SHOWN = 10


@dataclass
class Stored:
    """A finished study as its manifest records it.

    Attributes:
        path: the manifest file.
        folder: the results folder holding it (and ``runs/``).
        manifest: the manifest's contents.
        scenario: the resolved scenario it records.
    """

    path: Path
    folder: Path
    manifest: dict[str, Any]
    scenario: Scenario

    @property
    def kind(self) -> str:
        """``"run"``, ``"compare"`` or ``"sweep"``."""
        return str(self.manifest["kind"])


@dataclass
class Comparison:
    """How two runs tables compare.

    Attributes:
        parts: the parts compared (those both tables have).
        rows: the rows compared (of the parts both have).
        differences: one sentence per difference found (empty: identical).
    """

    parts: int = 0
    rows: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """Whether the tables are the same: same parts, columns, types, rows and values."""
        return not self.differences


def _bad(path: Path, message: str, key: str | None = None) -> ScenarioError:
    return ScenarioError(path, message, field=key)


def read_manifest(path: str | Path) -> Stored:
    """Read and check the manifest of a finished study.

    Args:
        path: a ``manifest.json``, or the results folder holding one.

    Raises:
        ScenarioError: if the file cannot be read, is not a study's manifest,
            records a study that did not finish, has no runs stored beside it,
            or records a scenario that is not valid today.
    """
    from sim.scenario.loading import validate

    path = Path(path).expanduser()
    if path.is_dir():
        if not (path / storage.MANIFEST).is_file():
            raise _bad(path, f"not a results folder (no {storage.MANIFEST})")
        path = path / storage.MANIFEST
    try:
        manifest = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise _bad(path, "no such file (expected a results folder's manifest.json)") from None
    except IsADirectoryError:
        raise _bad(path, "a folder, not a manifest.json") from None
    except OSError as exc:
        raise _bad(path, f"cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:  # not JSON, or not UTF-8
        raise _bad(path, f"not a manifest (not JSON: {exc})") from None
    if not isinstance(manifest, dict):
        raise _bad(path, f"not a manifest (a JSON {type(manifest).__name__}, not an object)")
    missing = [k for k in REQUIRED if k not in manifest]
    if missing:
        raise _bad(
            path,
            f"not the manifest of a truce run, compare or sweep (no {', '.join(missing)})",
        )
    kind = manifest["kind"]
    if kind not in KINDS:
        raise _bad(path, f"expected one of {', '.join(KINDS)}, got {kind!r}", "kind")
    status = manifest["status"]
    if status != "complete":
        raise _bad(
            path,
            f"the {kind} did not finish (status {status!r}); complete it with "
            f"`truce {kind} SCENARIO --resume {path.parent}` first",
            "status",
        )
    for key in ("seed", "replicates", "chunk_size"):
        value = manifest[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _bad(path, f"expected a whole number, got {value!r}", key)
    if not isinstance(manifest["scenario"], dict):
        raise _bad(path, "expected the resolved scenario (an object)", "scenario")
    if not isinstance(manifest["design"], list) or not manifest["design"]:
        raise _bad(path, "expected the design (a list of arms or points)", "design")
    scenario = validate(manifest["scenario"], f"{path}: scenario")
    folder = path.parent
    if not storage.finished_parts(folder) and not storage.point_batches(folder):
        raise _bad(path, f"no runs stored beside it (no Parquet parts in {folder / storage.RUNS})")
    return Stored(path, folder, manifest, scenario)


def study_options(stored: Stored, engine: str | None = None) -> dict[str, Any]:
    """The arguments of :func:`~sim.experiment.study.run_study` that re-create a study.

    Args:
        stored: the study's manifest.
        engine: run on this engine instead of the recorded one (results do not
            depend on the engine; a recorded Dask scheduler is used only when
            the engine is the recorded one).

    Returns:
        ``kind``, ``scenario``, ``seed``, ``replicates``, ``chunk_size``,
        ``engine`` and, when the study used one, ``scheduler``.
    """
    manifest = stored.manifest
    recorded = str(manifest.get("engine") or "local")
    options: dict[str, Any] = {
        "kind": stored.kind,
        "scenario": stored.scenario,
        "seed": manifest["seed"],
        "replicates": manifest["replicates"],
        "chunk_size": manifest["chunk_size"],
        "engine": engine or recorded,
    }
    if options["engine"] == recorded == "dask" and manifest.get("scheduler"):
        options["scheduler"] = manifest["scheduler"]
    return options


def design_changes(stored: Stored, new_manifest: Mapping[str, Any]) -> list[str]:
    """How the re-run's experiment differs from the recorded one (design, seed, sizes)."""
    changes = []
    for key in ("kind", "seed", "replicates", "chunk_size", "scenario", "design"):
        old, new = stored.manifest.get(key), _as_json(new_manifest.get(key))
        if old != new:
            changes.append(f"the {key.replace('_', ' ')} differs from the recorded one")
    return changes


def _as_json(value: Any) -> Any:
    """``value`` as it reads back from a JSON file (tuples become lists, and so on)."""
    return json.loads(json.dumps(value, default=str))


def provenance_changes(manifest: Mapping[str, Any]) -> list[str]:
    """What differs between the recorded package versions and git commit and today's.

    Packages recorded on one side only are not compared (older manifests
    record fewer).
    """
    changes = []
    recorded = manifest.get("versions")
    if isinstance(recorded, Mapping):
        current = versions()
        for name, then in recorded.items():
            now = current.get(name)
            if now is not None and str(then) != now:
                changes.append(f"{name} {then} then, {now} now")
    if "git_commit" in manifest:
        then, now = manifest.get("git_commit"), git_commit()
        if then != now:
            changes.append(f"git commit {then or 'unknown'} then, {now or 'unknown'} now")
    return changes


def compare_runs(old: Path, new: Path) -> Comparison:
    """Compare two results folders' runs tables, part by part, and their daily tables.

    Each part is read alone, so memory stays flat however large the study.

    Args:
        old: the recorded results folder.
        new: the re-run's results folder.

    Returns:
        The parts and rows compared and the differences found.
    """
    result = Comparison()
    before, after = storage.finished_parts(old), storage.finished_parts(new)
    for name in sorted(before - after):
        result.differences.append(f"part {name} is stored but was not re-created")
    for name in sorted(after - before):
        result.differences.append(f"part {name} was re-created but is not stored")
    for name in sorted(before & after):
        try:
            a = pd.read_parquet(storage.part_path(old, name))
        except (OSError, ValueError) as exc:
            result.differences.append(f"part {name}: cannot read the stored part ({exc})")
            continue
        b = pd.read_parquet(storage.part_path(new, name))
        result.parts += 1
        result.rows += min(len(a), len(b))
        result.differences += [f"part {name}: {d}" for d in _table_differences(a, b)]
    # The daily table too, when the stored folder has one (older folders do not).
    from sim.experiment.daily import DAILY

    if (old / DAILY).is_file() and (new / DAILY).is_file():
        daily = _table_differences(pd.read_parquet(old / DAILY), pd.read_parquet(new / DAILY))
        result.differences += [f"{DAILY}: {d}" for d in daily]
    return result


def compare_points(old: Path, new: Path) -> Comparison:
    """Compare two sweeps stored as per-point aggregates: their points tables, then any runs.

    Batches hold points in the order they finished, which depends on the
    workers; the tables are compared in design order (arm, point; then
    replicate for the runs), whole.
    """
    result = Comparison()
    tables = [("points", storage.read_points)]
    if storage.has_runs(old) or storage.has_runs(new):
        tables.append(("runs", storage.read_runs))
    for name, read in tables:
        try:
            a = read(old)
        except (OSError, ValueError) as exc:
            result.differences.append(f"{name}: cannot read the stored table ({exc})")
            continue
        try:
            b = read(new)
        except (OSError, ValueError) as exc:
            result.differences.append(f"{name}: stored but not re-created ({exc})")
            continue
        result.parts += 1
        result.rows += min(len(a), len(b))
        result.differences += [f"{name}: {d}" for d in _table_differences(a, b)]
    return result


def _shown(value: Any) -> str:
    """A cell as a difference quotes it (a NumPy scalar as the Python value it holds)."""
    return repr(value.item() if hasattr(value, "item") else value)


def _table_differences(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """How table ``b`` (re-run) differs from ``a`` (stored), one sentence each."""
    out = []
    if len(a) != len(b):
        out.append(f"{len(a)} rows stored, {len(b)} re-created")
    gone = [c for c in a.columns if c not in b.columns]
    extra = [c for c in b.columns if c not in a.columns]
    if gone:
        out.append(f"columns stored but not re-created: {', '.join(gone)}")
    if extra:
        out.append(f"columns re-created but not stored: {', '.join(extra)}")
    common = [c for c in a.columns if c in b.columns]
    if not gone and not extra and list(a.columns) != list(b.columns):
        out.append("the columns are in another order")
    n = min(len(a), len(b))
    for column in common:
        x, y = a[column].iloc[:n].reset_index(drop=True), b[column].iloc[:n].reset_index(drop=True)
        if x.dtype != y.dtype:
            out.append(f"column {column}: type {x.dtype} stored, {y.dtype} re-created")
            continue
        if x.equals(y):
            continue
        same = x.eq(y).fillna(False).astype(bool) | (x.isna() & y.isna())
        rows = [int(i) for i in same[~same].index]
        if not rows:
            continue
        first = rows[0]
        out.append(
            f"column {column}: {len(rows)} of {n} rows differ "
            f"(first at row {first}: {_shown(x.iloc[first])} stored, "
            f"{_shown(y.iloc[first])} re-created)"
        )
    return out


def planned_design_changes(stored: Stored) -> list[str]:
    """How the design drawn from the recorded scenario today differs from the recorded design.

    A sampled design (``lhs``, ``sobol``, ``morris``) is drawn again from the
    scenario's seed; another SALib or NumPy could draw other points.
    """
    from sim.scenario.designs import design_table, expand

    try:
        rows = expand(stored.scenario, stored.kind)
    except ValueError as exc:
        return [f"the recorded scenario gives no {stored.kind} design today ({exc})"]
    drawn, recorded = _as_json(design_table(rows)), stored.manifest["design"]
    if drawn == recorded:
        return []
    if len(drawn) != len(recorded):
        return [f"the design drawn today has {len(drawn)} rows, the recorded one {len(recorded)}"]
    first = next(i for i, (d, r) in enumerate(zip(drawn, recorded, strict=True)) if d != r)
    return [
        f"the design drawn today differs from the recorded one "
        f"(first at row {first}: {drawn[first]} now, {recorded[first]} recorded)"
    ]
