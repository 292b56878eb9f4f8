"""Where the bundled scenarios live and what each one is."""

from __future__ import annotations

import os
from pathlib import Path

import yaml


def scenario_dir() -> Path:
    """The bundled ``scenarios/`` folder (``TRUCE_SCENARIOS`` overrides it)."""
    env = os.environ.get("TRUCE_SCENARIOS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[1]
    for candidate in (here.parent / "scenarios", here / "scenarios", Path.cwd() / "scenarios"):
        if candidate.is_dir():
            return candidate
    return Path.cwd() / "scenarios"


def scenario_files(folder: Path | None = None) -> list[Path]:
    """Every YAML scenario under ``folder``, sorted, sub-folders included."""
    folder = folder or scenario_dir()
    return sorted(p for p in folder.rglob("*.yaml") if p.is_file())


def summary_line(path: Path) -> tuple[str, str]:
    """A scenario's name and one-line description, read without running anything."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        return path.stem, f"(cannot be read: {type(exc).__name__})"
    if not isinstance(data, dict):
        return path.stem, "(not a scenario)"
    return str(data.get("name", path.stem)), str(data.get("description", ""))
