"""Where the bundled scenarios live and what each one is.

The scenarios are kept at the repository's root (``scenarios/``) and ship inside
the package as ``sim/scenarios`` (``pyproject.toml`` maps the one onto the other).
An installed wheel therefore has them beside this module; an editable install or a
plain checkout has them one folder up. Every module that needs a bundled scenario
(the page, ``truce list``, the hindcast, the calibration) finds it here.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

#: Environment variable naming another folder for :func:`scenario_dir` (lists and the page).
SCENARIOS_ENV = "TRUCE_SCENARIOS"


def bundled_dir() -> Path:
    """The scenarios that ship with the package, in a wheel or in a checkout.

    Raises:
        FileNotFoundError: if neither place holds them (a broken install).
    """
    package = Path(__file__).resolve().parents[1]  # sim/
    wheel, checkout = package / "scenarios", package.parent / "scenarios"
    for candidate in (wheel, checkout):
        if (candidate / "baseline.yaml").is_file():
            return candidate
    raise FileNotFoundError(
        f"the bundled scenarios are missing: neither {wheel} nor {checkout} holds "
        "baseline.yaml; reinstall truce-sim"
    )


def bundled(name: str) -> Path:
    """The path of one bundled scenario file, e.g. ``bundled("monitoring.yaml")``."""
    return bundled_dir() / name


def history_dir() -> Path:
    """The bundled scenarios of historical truces (``scenarios/history``)."""
    return bundled_dir() / "history"


def scenario_dir() -> Path:
    """The folder ``truce list`` and the page offer: the bundled one unless ``TRUCE_SCENARIOS``."""
    env = os.environ.get(SCENARIOS_ENV)
    return Path(env) if env else bundled_dir()


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
