"""The package as a user installs it: a plain ``pip install .`` in a fresh venv.

The editable install of ``make test`` reads the scenarios from the checkout; a
wheel has to carry them. The commands run from a folder outside the repository,
so nothing can be found through the working directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MACHINE_PATH = re.compile(r"(?<![\w.])/(work|tmp|root|home)/")


def _run(cmd, cwd, env, timeout=300):
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{cmd}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_wheel_install_runs_outside_the_checkout(tmp_path):
    # A copy of what a source distribution holds (no .venv, results or build
    # folders of the checkout), installed into a plain venv: no system site
    # packages, so only what pyproject.toml declares is there. pip's cache is
    # the user's own, so after the first run it only unpacks wheels (measured:
    # 38 s for the venv and the install, 53 s for the whole test, on 2 busy cores).
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("sim", "scenarios"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["COLUMNS"] = "200"  # rich wraps the listing to the terminal
    env.pop("TRUCE_SCENARIOS", None)
    venv = tmp_path / "venv"
    start = time.monotonic()
    base = getattr(sys, "_base_executable", sys.executable)
    # No pip of its own (ensurepip takes seconds): this venv's pip installs into it.
    # No bytecode compiled ahead (it is compiled on import): halves the time.
    _run([base, "-m", "venv", "--without-pip", venv], tmp_path, env)
    bin_ = venv / "bin"
    pip = [sys.executable, "-m", "pip", "--python", bin_ / "python", "install"]
    _run([*pip, "--quiet", "--no-compile", src], tmp_path, env, timeout=600)
    installed = time.monotonic() - start
    work = tmp_path / "elsewhere"
    work.mkdir()

    # The bundled scenarios and the type marker are inside the installed package.
    where = json.loads(
        _run(
            [
                bin_ / "python",
                "-c",
                "import json, sim, sim.scenario.catalog as c; from pathlib import Path; "
                "print(json.dumps([sim.__file__, str(c.bundled('monitoring.yaml')), "
                "str(c.history_dir()), (Path(sim.__file__).parent / 'py.typed').is_file()]))",
            ],
            work,
            env,
        )
    )
    package, monitoring, history, typed = where
    site = Path(package).parent
    assert venv in site.parents and not str(site).startswith(str(ROOT))
    assert Path(monitoring) == site / "scenarios" / "monitoring.yaml"
    assert Path(monitoring).is_file() and typed
    shipped = sorted(p.name for p in Path(history).glob("*.yaml"))
    assert shipped == sorted(p.name for p in (ROOT / "scenarios" / "history").glob("*.yaml"))

    listing = _run([bin_ / "truce", "list"], work, env)
    for path in (ROOT / "scenarios").glob("*.yaml"):
        assert path.name in listing

    facts = json.loads(
        _run(
            [bin_ / "truce", "hindcast", "--replicates", "50", "--json", "--out", "out"], work, env
        )
    )
    assert facts["n_truces"] == len(shipped)
    assert all(Path(f).parent == Path(history) for f in facts["files"])

    _run(
        [bin_ / "truce", "compare", monitoring, "-n", "200", "--no-report", "--out", "tmp"],
        work,
        env,
    )
    summaries = list((work / "tmp").rglob("summary.json"))
    assert len(summaries) == 1 and json.loads(summaries[0].read_text())
    print(f"fresh venv and pip install: {installed:.0f} s; total {time.monotonic() - start:.0f} s")


def test_docs_hold_no_machine_paths():
    # The README and docs/ are read on other machines: no absolute paths of this one.
    for doc in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            assert not MACHINE_PATH.search(line), f"{doc.name}:{number}: {line}"


def test_declared_dependencies_are_imported():
    # Every runtime dependency of pyproject.toml is imported by the package
    # (mesa's [rec] extra brings Solara-based visualisation, which sim.app uses).
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    modules = {"pyyaml": "yaml", "salib": "SALib", "dask": "dask"}
    # Needed by a library the package uses, which does not declare it itself.
    undeclared_by_their_users = {"anywidget"}  # plotly's FigureWidget (the page's charts)
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "sim").rglob("*.py"))
    for dep in deps:
        name = re.split(r"[\[<>=!~ ]", dep, maxsplit=1)[0].lower()
        if name in undeclared_by_their_users:
            continue
        module = modules.get(name, name)
        assert re.search(rf"^\s*(import|from) {module}\b", source, re.M), f"{dep} is not imported"
