"""What the interactive commands import: nothing they do not use (issue 14).

Start-up is most of an interactive ``truce compare`` (benchmarks/interactive.py),
so the modules it imports are checked here, without timing anything: the
command runs in a fresh interpreter and lists ``sys.modules`` as it exits.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Heavy packages that a run, compare and its report do not need (scipy.stats
#: is ~0.5 s; the report's survival bands are computed with NumPy).
NOT_FOR_A_COMPARE = ("scipy.stats", "SALib", "dask", "distributed", "solara", "matplotlib")

LIST_MODULES = (
    "import atexit, json, sys\n"
    "listing = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(listing, 'w').write(json.dumps(sorted(sys.modules))))\n"
    "{body}\n"
)


def _modules_after(tmp_path: Path, body: str, *args: str) -> set[str]:
    listing = tmp_path / "modules.json"
    code = LIST_MODULES.format(body=body)
    done = subprocess.run(
        [sys.executable, "-c", code, str(listing), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(listing.read_text()))


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_importing_the_command_line_loads_no_heavy_package(tmp_path):
    # `truce --help`, `truce validate`: the commands import what they need inside.
    modules = _modules_after(tmp_path, "import sim.cli")
    heavy = ("numpy", "pandas", "pyarrow", "mesa", "plotly", "scipy", "pydantic", "jinja2")
    assert _loaded(modules, heavy + NOT_FOR_A_COMPARE) == []


def test_a_compare_with_its_report_loads_only_what_it_uses(tmp_path):
    body = "sys.argv[0] = 'truce'\nfrom sim.cli import main\nmain()"
    args = ["compare", "scenarios/monitoring.yaml", "-n", "40", "--set", "truce.horizon=30"]
    args += ["--engine", "serial", "--out", str(tmp_path / "out"), "--json"]
    modules = _modules_after(tmp_path, body, *args)
    assert list((tmp_path / "out").glob("monitoring/*/report.html"))  # the report was written
    assert {"mesa", "plotly.graph_objects", "jinja2"} <= modules  # the test can see imports
    assert _loaded(modules, NOT_FOR_A_COMPARE) == []
