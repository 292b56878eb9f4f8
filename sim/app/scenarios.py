"""The scenarios the page offers: the bundled files, and the one given to ``truce app``."""

from __future__ import annotations

from pathlib import Path

from sim.scenario.catalog import scenario_dir, scenario_files
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario
from sim.scenario.schema import Scenario

#: Environment variable through which ``truce app`` passes its scenario file to the page.
SCENARIO_ENV = "TRUCE_APP_SCENARIO"


def scenario_choices(extra: str | None = None) -> dict[str, str]:
    """Picker labels → scenario files: the bundled ones, and ``extra`` first if given.

    A bundled file keeps its short label (its path in the scenarios folder) even
    when it is the one given on the command line; another file is labelled by
    its name, or by its full path when a bundled file already has that label.
    """
    folder = scenario_dir()
    bundled = {str(path.relative_to(folder)): str(path) for path in scenario_files(folder)}
    if not extra:
        return bundled
    given = Path(extra).resolve()
    label = next((k for k, v in bundled.items() if Path(v).resolve() == given), None)
    if label is None:
        label = given.name if given.name not in bundled else extra
        return {label: extra, **bundled}
    return {label: bundled.pop(label), **bundled}


def load_choice(path: str) -> tuple[Scenario | None, str | None]:
    """A scenario file loaded for the page: (scenario, None) or (None, the validation message)."""
    try:
        return load_scenario(path), None
    except ScenarioError as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"{path}: cannot be read ({exc.strerror or exc})"
