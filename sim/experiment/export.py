"""Stored results as CSV files, for spreadsheet users (``truce export --csv``).

A finished results folder (``manifest.json`` with status ``complete``, the
Parquet parts of the runs table and ``summary.json``) becomes flat tables,
in the spirit of NetLogo's BehaviorSpace "table" output:

- ``runs.csv``: every part of the runs table, one row per simulated truce
  (a sweep stored without ``--keep-runs`` has none);
- ``points.csv``: a sweep's per-point aggregates, one row per design point
  (``docs/RESULTS.md``), when it stored them;
- ``groups.csv``: one row per arm or design point (per arm and point in a
  crossed design): its swept parameters, replicates, collapses and medians;
- ``collapse.csv``: collapse shares per group and horizon, with intervals;
- ``causes.csv``: causes of collapse per group, with intervals;
- ``comparisons.csv``: each arm against the first, per horizon (log-rank test,
  hazard ratio and the difference of collapse shares), when there are arms;
- ``sensitivity.csv``: the Sobol or Morris indices of a sweep, when present.
- ``daily.csv``: ``daily.parquet`` as it is stored, one row per arm, design
  point and day: truces still holding and the sums of the day's violence and
  trust (a mean is its sum divided by ``in_force``, or by ``holding`` for trust).

It reads what the run stored (``summary.json`` already holds the statistics),
so it computes nothing: it only flattens.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiment.daily import DAILY, read_daily
from sim.experiment.storage import (
    MANIFEST,
    RUNS,
    SUMMARY,
    atomic_write_bytes,
    has_runs,
    point_batches,
    read_json,
    read_points,
    read_runs,
)

#: The columns of ``causes.csv`` besides the group's (a header even when nothing collapsed).
CAUSE_FIELDS = ("cause", "count", "share", "low", "high")
EXPORT_FOLDER = "csv"
"""Where the CSV files go by default: ``RESULTS_DIR/csv``."""


class ExportError(ValueError):
    """The folder cannot be exported (not a results folder, an unfinished run)."""


def check_results(results_dir: Path | str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest and summary of a finished results folder.

    Raises:
        ExportError: naming the folder or file and what was expected.
    """
    folder = Path(results_dir)
    if not folder.is_dir():
        what = "no such folder" if not folder.exists() else "not a folder"
        raise ExportError(f"{folder}: {what}; expected a results folder (results/<name>/<time>)")
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ExportError(
            f"{folder}: not a results folder (no {MANIFEST}); expected results/<name>/<time>"
        )
    try:
        manifest = read_json(manifest_path)
    except (OSError, ValueError) as exc:
        raise ExportError(f"{manifest_path}: not readable JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise ExportError(f"{manifest_path}: expected a JSON object")
    status = manifest.get("status")
    if status != "complete":
        raise ExportError(
            f"{manifest_path}: status is {status!r}, expected 'complete': the run did not "
            "finish (finish it with --resume, then export)"
        )
    if not has_runs(folder) and not point_batches(folder):
        raise ExportError(f"{folder / RUNS}: no result parts; expected the runs table")
    summary_path = folder / SUMMARY
    if not summary_path.is_file():
        raise ExportError(f"{folder}: no {SUMMARY}; expected the summary of a finished run")
    try:
        summary = read_json(summary_path)
    except (OSError, ValueError) as exc:
        raise ExportError(f"{summary_path}: not readable JSON ({exc})") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("groups"), list):
        raise ExportError(f"{summary_path}: expected a summary with a list of groups")
    return manifest, summary


def _keys(group: Mapping[str, Any]) -> dict[str, Any]:
    """A group's key columns: arm and/or point, then its swept parameters by dotted path."""
    out = {k: group[k] for k in ("arm", "point") if k in group}
    return out | dict(group.get("parameters") or {})


def summary_tables(summary: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The summary's tables (groups, collapse, causes, comparisons, sensitivity), flattened."""
    groups: list[dict] = []
    collapse: list[dict] = []
    causes: list[dict] = []
    for group in summary["groups"]:
        keys = _keys(group)
        nested = ("arm", "point", "parameters", "collapse", "causes")
        groups.append(keys | {k: v for k, v in group.items() if k not in nested})
        collapse += [keys | row for row in group.get("collapse", [])]
        causes += [keys | row for row in group.get("causes", [])]
    tables = {
        "groups": pd.DataFrame(groups),
        "collapse": pd.DataFrame(collapse),
        "causes": pd.DataFrame(causes) if causes else pd.DataFrame(columns=list(CAUSE_FIELDS)),
    }
    comparisons: list[dict] = []
    for c in summary.get("comparisons") or []:
        keys = {"point": c["point"]} if "point" in c else {}
        keys |= dict(c.get("parameters") or {})
        flat = {k: v for k, v in c.items() if k not in ("point", "parameters", "differences")}
        for diff in c.get("differences") or [{}]:
            renamed = {
                k if k in ("horizon", "difference") else f"difference_{k}": v
                for k, v in diff.items()
            }
            comparisons.append(keys | flat | renamed)
    if comparisons:
        tables["comparisons"] = pd.DataFrame(comparisons)
    sensitivity = summary.get("sensitivity")
    if sensitivity and sensitivity.get("indices"):
        tables["sensitivity"] = pd.DataFrame(
            [{"method": sensitivity["method"], **row} for row in sensitivity["indices"]]
        )
    return tables


def _csv_bytes(table: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def export_csv(results_dir: Path | str, out: Path | str | None = None) -> list[Path]:
    """Write a finished results folder's runs and summary tables as CSV files.

    Args:
        results_dir: the results folder (``results/<scenario>/<timestamp>``).
        out: the folder to write into (created if needed; default
            ``results_dir/csv``). Existing files of the same names are replaced.

    Returns:
        The files written: runs (when stored), points (a sweep's), then the summary's.

    Raises:
        ExportError: for a folder that is not a finished results folder, or an
            ``out`` that is a file; nothing is written then.
    """
    folder = Path(results_dir)
    _, summary = check_results(folder)
    target = Path(out) if out is not None else folder / EXPORT_FOLDER
    if target.exists() and not target.is_dir():
        raise ExportError(f"{target}: not a folder; expected a folder for the CSV files")
    tables = {"runs": read_runs(folder)} if has_runs(folder) else {}
    if point_batches(folder):  # a sweep's per-point aggregates, without the summary record
        tables["points"] = read_points(folder).drop(columns=["group"])
    tables |= summary_tables(summary)
    if (folder / DAILY).is_file():  # folders stored before daily tables were kept have none
        tables["daily"] = read_daily(folder)
    written = []
    for name, table in tables.items():
        path = target / f"{name}.csv"
        atomic_write_bytes(path, _csv_bytes(table))
        written.append(path)
    return written
