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

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Heavy packages that a run, compare and its report do not need (scipy.stats
#: is ~0.5 s; the report's survival bands are computed with NumPy).
NOT_FOR_A_COMPARE = ("scipy.stats", "SALib", "dask", "distributed", "solara", "matplotlib")

#: What Mesa's own ``__init__`` imports for the parts the model does not use:
#: mesa.experimental's continuous space (scipy.spatial) and mesa.space (networkx);
#: sim.model defers them until something uses them (sim.model.mesa_parts).
NOT_FROM_MESA = ("scipy", "networkx")

#: plotly's trace classes and their validators: a run's or comparison's report builds
#: its charts as figure dictionaries and never validates them (sim.present.charts.style).
NOT_FOR_ITS_REPORT = (
    "plotly.graph_objs._scatter",
    "plotly.graph_objs._bar",
    "plotly.graph_objs.scatter",
    "plotly.graph_objs.bar",
    "plotly.validators",
)

LIST_MODULES = (
    "import atexit, gc, json, sys\n"
    "listing = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(listing, 'w').write(json.dumps(sorted(sys.modules))))\n"
    "atexit.register(lambda: open(listing + '.gc', 'w').write(json.dumps(\n"
    "    [gc.isenabled(), gc.get_freeze_count()])))\n"
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
    assert _loaded(modules, NOT_FOR_ITS_REPORT) == []
    assert _loaded(modules, NOT_FROM_MESA) == []
    # the console script loads with the GC paused, then freezes what it loaded (and, on
    # the way out, the rest): the collector is back on, with a frozen heap to skip
    enabled, frozen = json.loads((tmp_path / "modules.json.gc").read_text())
    assert enabled and frozen > 100_000


def test_a_sweep_report_still_validates_its_go_figures(tmp_path):
    # the sweep charts are go.Figures: the same check would see their trace classes
    body = "sys.argv[0] = 'truce'\nfrom sim.cli import main\nmain()"
    args = ["sweep", "scenarios/sweep_monitoring.yaml", "-n", "10", "--set", "truce.horizon=20"]
    args += ["--engine", "serial", "--out", str(tmp_path / "out"), "--json"]
    modules = _modules_after(tmp_path, body, *args)
    assert list((tmp_path / "out").glob("*/*/report.html"))
    assert "plotly.graph_objs._scatter" in modules


def test_the_command_line_in_a_caller_leaves_its_collector_alone(tmp_path, monkeypatch):
    # typer's CliRunner runs the command in this process: the GC is paused while the
    # command loads and switched back on, and nothing of the caller's is frozen. (Not
    # a count of frozen objects: objects another test froze may be freed meanwhile.)
    import gc

    from typer.testing import CliRunner

    from sim.cli import app

    freezes: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1))
    args = ["compare", str(ROOT / "scenarios/monitoring.yaml"), "-n", "10"]
    args += ["--set", "truce.horizon=10", "--engine", "serial", "--no-report"]
    done = CliRunner().invoke(app, [*args, "--out", str(tmp_path), "--json"])
    assert done.exit_code == 0, done.output
    assert gc.isenabled() and freezes == []


def test_the_deferred_parts_of_mesa_load_when_used(tmp_path):
    # in a fresh interpreter: the model and Mesa are loaded without them, and every
    # way of reaching them still works (attribute, from-import, submodule import)
    body = (
        "import sim.api, mesa, types\n"
        "assert type(mesa.space) is not types.ModuleType  # still deferred\n"
        "assert 'networkx' not in sys.modules and 'scipy' not in sys.modules\n"
        "from mesa.experimental.devs import ABMSimulator  # a submodule, parent not run\n"
        "assert 'scipy' not in sys.modules\n"
        "grid = mesa.space.MultiGrid(3, 3, torus=False)  # an attribute: the code runs\n"
        "assert type(mesa.space) is types.ModuleType and 'networkx' in sys.modules\n"
        "from mesa.experimental.continuous_space import ContinuousSpace\n"
        "assert mesa.experimental.continuous_space.ContinuousSpace is ContinuousSpace\n"
        "assert mesa.experimental.devs.ABMSimulator is ABMSimulator\n"
        "assert mesa.batch_run and 'scipy.spatial' in sys.modules\n"
    )
    modules = _modules_after(tmp_path, body)
    assert {"mesa.space", "mesa.experimental.continuous_space", "networkx"} <= modules


def _package(root: Path, name: str, heavy: str) -> None:
    (root / name).mkdir()
    (root / name / "__init__.py").write_text(f"import {name}.heavy as heavy\n")
    (root / name / "heavy.py").write_text(heavy)


def test_a_deferred_module_runs_its_code_once_on_first_use(tmp_path, monkeypatch):
    from sim.model import mesa_parts

    _package(tmp_path, "pkg_deferred", "import sys\nsys.ran = getattr(sys, 'ran', 0) + 1\nX = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("pkg_deferred", "pkg_deferred.heavy"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(sys, "ran", 0, raising=False)
    assert mesa_parts.defer(("pkg_deferred.heavy",)) == ["pkg_deferred.heavy"]
    import pkg_deferred

    assert sys.ran == 0  # type: ignore[attr-defined]  # the package imported it, unrun
    assert pkg_deferred.heavy.X == 1 and sys.ran == 1  # type: ignore[attr-defined]
    assert pkg_deferred.heavy.X == 1 and sys.ran == 1  # type: ignore[attr-defined]  # once
    assert mesa_parts.defer(("pkg_deferred.heavy",)) == []  # the parent is imported now


def test_a_deferred_module_that_fails_is_not_left_half_loaded(tmp_path, monkeypatch):
    from sim.model import mesa_parts

    _package(tmp_path, "pkg_failing", "raise ImportError('no such dependency')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("pkg_failing", "pkg_failing.heavy"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert mesa_parts.defer(("pkg_failing.heavy",)) == ["pkg_failing.heavy"]
    import pkg_failing

    with pytest.raises(ImportError, match="no such dependency"):
        pkg_failing.heavy.anything  # noqa: B018
    assert "pkg_failing.heavy" not in sys.modules  # as after a failed import


# What a fresh process finds of Mesa's loggers: their names, and the line a logged method
# writes (Model.__init__ is logged), with Mesa imported after sim.model or alone.
MESA_LOGGERS = """
import io, json, logging, sys
{first}
import mesa
import mesa.mesa_logging as ml
stream = io.StringIO()
handler = logging.StreamHandler(stream)
handler.setFormatter(logging.Formatter("%(name)s %(funcName)s %(message)s"))
logger = logging.getLogger(ml.LOGGER_NAME)
logger.addHandler(handler)
logger.setLevel(logging.DEBUG)
mesa.Model(rng=1)
print(json.dumps({{
    "loggers": {{name: log.name for name, log in ml._module_loggers.items()}},
    "model": mesa.model._mesa_logger.name,
    "logged": stream.getvalue(),
    "attribute": mesa.mesa_logging is ml,
    "loader": type(ml.__loader__).__name__,
    "spec_loader": type(ml.__spec__.loader).__name__,
    "inspect": type(ml.inspect).__name__,
}}))
"""


def test_mesas_loggers_are_named_as_mesa_names_them_without_reading_the_stack(tmp_path):
    """Mesa's logging helpers, imported after sim.model, ask FramesOnly instead of inspect
    (no source read, no scan of sys.modules: ~80 ms of a compare's imports), and name the
    same loggers and methods as when Mesa is imported alone."""

    def found(first: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", MESA_LOGGERS.format(first=first)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    alone, after = found(""), found("import sim.model")
    assert alone["inspect"] == "module" and after["inspect"] == "FramesOnly"
    assert after["loggers"] == alone["loggers"]
    assert after["loggers"]["mesa.model"] == after["model"] == "MESA.mesa.model"
    assert after["logged"] == alone["logged"]
    assert after["logged"].startswith("MESA.mesa.model wrapper calling Model.__init__ with ()")
    for found_ in (alone, after):  # the package's attribute and Mesa's own loader, as usual
        assert found_["attribute"] is True
        assert found_["loader"] == found_["spec_loader"] == "SourceFileLoader"


def test_frames_only_gives_the_frames_and_modules_inspect_gives():
    import inspect

    from sim.model.mesa_parts import FramesOnly

    frames_only = FramesOnly()

    def called():
        return frames_only.stack(), inspect.stack(), frames_only.currentframe()

    def caller():
        return called()

    quick, full, here = called(), None, None
    quick, full, here = caller()
    assert [f.frame for f in quick] == [f.frame for f in full]
    assert [(f.function, f.lineno, f.filename) for f in quick] == [
        (f.function, f.lineno, f.filename) for f in full
    ]
    assert quick[1].function == "caller" and quick[0].frame is here
    outer = frames_only.getouterframes(here)
    assert [f.function for f in outer] == [f.function for f in inspect.getouterframes(here)]
    for info in full:
        assert frames_only.getmodule(info.frame) is inspect.getmodule(info.frame)
    assert frames_only.getmodule(inspect) is inspect  # not a frame: inspect's own answer
    assert frames_only.signature is inspect.signature  # anything else: inspect's


def test_frames_only_logging_does_nothing_once_mesa_is_imported():
    import mesa  # noqa: F401

    from sim.model import mesa_parts

    before = list(sys.meta_path)
    assert mesa_parts.frames_only_logging() is False
    assert sys.meta_path == before
