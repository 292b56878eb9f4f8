"""``truce schema`` and ``truce export --csv``, end to end as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
import yaml

from sim.experiment.storage import MANIFEST, read_runs, write_json

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml")) + sorted(
    (ROOT / "scenarios" / "history").glob("*.yaml")
)


def truce(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def one_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2 with exactly one ``error:`` line naming ``words``, nothing on stdout."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert proc.stdout == ""


# --------------------------------------------------------------------------- schema


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    """The schema as ``truce schema --out`` writes it, read back from disk."""
    path = tmp_path_factory.mktemp("schema") / "truce.schema.json"
    proc = truce("schema", "--out", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"schema": str(path)}
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def validator(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_printed_is_the_schema_written(schema):
    proc = truce("schema")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == schema
    assert schema["$schema"].startswith("https://json-schema.org/draft/2020-12")


def test_schema_shows_the_file_keys(schema):
    top = schema["$defs"]["Scenario"]["properties"]
    child = schema["$defs"]["ScenarioPartial"]["properties"]
    assert {"extends", "compare", "sweep", "truce", "factions", "constants"} <= set(top)
    assert child["extends"]["type"] == "string"


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(ROOT / "scenarios")))
def test_every_bundled_scenario_validates(validator, path):
    data = yaml.safe_load(path.read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, errors


def test_bundled_scenarios_cover_extends_compare_and_sweep():
    texts = [p.read_text() for p in BUNDLED]
    for key in ("extends:", "compare:", "sweep:"):
        assert any(key in t for t in texts), key


GOOD = {
    "drop an inherited item": {
        "extends": "baseline.yaml",
        "factions": [{"name": "faction_b", "remove": True}],
    },
    "child gives only what it changes": {
        "extends": "baseline.yaml",
        "observed": {"days_held": 40},
        "sweep": {"lhs": {"n": 8}},
    },
    "arms with a null arm": {"compare": {"unmonitored": None, "monitored": {"monitors": None}}},
    "grid span and values": {
        "sweep": {
            "grid": {
                "monitors.coverage": [0.2, 0.8],
                "truce.loophole_width": {"low": 0.1, "high": 0.9, "steps": 3},
            }
        }
    },
    "sobol": {
        "sweep": {
            "sobol": {
                "n": 16,
                "bounds": {"a.b": {"low": 0, "high": 1}, "c.d": {"low": 0, "high": 1}},
            }
        }
    },
}

BAD = {
    "unknown key": {"truce": {"horizn": 90}},
    "unknown top-level key": {"monitor": {"coverage": 0.5}},
    "wrong type": {"replicates": "many"},
    "boolean for a number": {"monitors": {"coverage": True}},
    "out of range": {"monitors": {"coverage": 1.5}},
    "negative horizon": {"truce": {"horizon": -3}},
    "bad name": {"factions": [{"name": "Faction A"}]},
    "missing name": {"factions": [{"strength": 0.5}]},
    "remove without extends": {"factions": [{"name": "faction_a", "remove": True}]},
    "remove with other keys": {
        "extends": "baseline.yaml",
        "factions": [{"name": "faction_b", "remove": True, "strength": 0.3}],
    },
    "two designs": {"sweep": {"grid": {"a": [1]}, "points": [{"a": 1}]}},
    "one arm": {"compare": {"only": {"monitors": None}}},
    "sobol n not a power of two": {
        "sweep": {
            "sobol": {"n": 12, "bounds": {"a": {"low": 0, "high": 1}, "b": {"low": 0, "high": 1}}}
        }
    },
    "odd Morris levels": {
        "sweep": {"morris": {"levels": 3, "bounds": {"a": {"low": 0, "high": 1}}}}
    },
    "extends not a file name": {"extends": 3},
}


@pytest.mark.parametrize("name", GOOD)
def test_files_the_loader_accepts_validate(validator, name):
    errors = [e.message for e in validator.iter_errors(GOOD[name])]
    assert not errors, errors


@pytest.mark.parametrize("name", BAD)
def test_bad_files_do_not_validate(validator, name):
    assert list(validator.iter_errors(BAD[name])), name


def test_bad_files_are_also_refused_by_the_loader(tmp_path, validator):
    # The schema says no only where `truce validate` does too (parents resolved from scenarios/).
    for name, data in BAD.items():
        path = tmp_path / f"{name.replace(' ', '_')}.yaml"
        if "extends" in data and isinstance(data["extends"], str):
            data = {**data, "extends": str(ROOT / "scenarios" / data["extends"])}
        path.write_text(yaml.safe_dump(data))
        proc = truce("validate", str(path))
        assert proc.returncode == 2, (name, proc.stdout)


def test_schema_out_bad_folder(tmp_path):
    one_error(truce("schema", "--out", str(tmp_path / "missing" / "s.json")), "--out", "missing")
    one_error(truce("schema", "--out", str(tmp_path)), "--out", "folder")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- export


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """A real two-arm ``truce compare`` stored to disk, in several parts."""
    out = tmp_path_factory.mktemp("results")
    proc = truce(
        "compare",
        "scenarios/monitoring.yaml",
        "-n",
        "120",
        "--chunk-size",
        "50",
        "--engine",
        "serial",
        "--out",
        str(out),
        "--no-report",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    return Path(json.loads(proc.stdout)["results"])


def test_export_csv_reads_back(stored, tmp_path):
    folder = tmp_path / "sheets"
    proc = truce("export", str(stored), "--csv", "--out", str(folder), "--json")
    assert proc.returncode == 0, proc.stderr
    files = [Path(p) for p in json.loads(proc.stdout)["files"]]
    assert sorted(p.name for p in files) == sorted(p.name for p in folder.iterdir())
    names = {p.stem for p in files}
    assert {"runs", "groups", "collapse", "causes", "comparisons", "daily"} <= names

    runs = read_runs(stored)
    assert len(list((stored / "runs").glob("*.parquet"))) > 1  # every part is exported
    csv_runs = pd.read_csv(folder / "runs.csv")
    assert len(csv_runs) == len(runs)
    assert list(csv_runs.columns) == list(runs.columns)
    assert csv_runs["days_held"].tolist() == runs["days_held"].tolist()

    summary = json.loads((stored / "summary.json").read_text())
    groups = pd.read_csv(folder / "groups.csv")
    assert groups["arm"].tolist() == [g["arm"] for g in summary["groups"]]
    assert groups["replicates"].sum() == len(runs)
    collapse = pd.read_csv(folder / "collapse.csv")
    rows = [(g["arm"], r["horizon"], r["share"]) for g in summary["groups"] for r in g["collapse"]]
    assert list(zip(collapse["arm"], collapse["horizon"], strict=True)) == [r[:2] for r in rows]
    assert collapse["share"].tolist() == pytest.approx([r[2] for r in rows])
    causes = pd.read_csv(folder / "causes.csv")
    assert causes.groupby("arm")["count"].sum().to_dict() == {
        g["arm"]: sum(c["count"] for c in g["causes"]) for g in summary["groups"]
    }
    comparisons = pd.read_csv(folder / "comparisons.csv")
    c = summary["comparisons"][0]
    assert len(comparisons) == len(c["differences"])
    assert set(comparisons["b"]) == {c["b"]}
    assert comparisons["hazard_ratio"].iloc[0] == pytest.approx(c["hazard_ratio"])
    assert comparisons["difference"].tolist() == pytest.approx(
        [d["difference"] for d in c["differences"]]
    )


def test_export_default_folder_and_plain_output(stored):
    proc = truce("export", str(stored), "--csv")
    assert proc.returncode == 0, proc.stderr
    assert (stored / "csv" / "runs.csv").is_file()
    assert "runs.csv" in proc.stdout


def test_export_refuses_what_is_not_a_finished_run(stored, tmp_path):
    one_error(truce("export", str(tmp_path), "--csv"), str(tmp_path), "manifest.json")
    one_error(truce("export", str(tmp_path / "nope"), "--csv"), "no such folder")
    one_error(truce("export", str(stored)), "--csv")

    unfinished = tmp_path / "unfinished"
    (unfinished / "runs").mkdir(parents=True)
    manifest = json.loads((stored / MANIFEST).read_text())
    write_json(unfinished / MANIFEST, {**manifest, "status": "running"})
    for part in (stored / "runs").glob("*.parquet"):
        (unfinished / "runs" / part.name).write_bytes(part.read_bytes())
    one_error(truce("export", str(unfinished), "--csv"), "manifest.json", "running", "complete")
    assert not (unfinished / "csv").exists()

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    one_error(truce("export", str(stored), "--csv", "--out", str(a_file)), "not a folder")


def test_help():
    for command in ("schema", "export"):
        proc = truce(command, "--help")
        assert proc.returncode == 0 and "--json" in proc.stdout


def test_readme_shows_how_to_point_an_editor_at_the_schema():
    text = (ROOT / "README.md").read_text()
    assert "# yaml-language-server: $schema=" in text
    start = text.index("```json", text.index("### Scenario files in an editor")) + len("```json")
    settings = json.loads(text[start : text.index("```", start)])
    assert "yaml.schemas" in settings


def _sweep(tmp_path: Path, scenario: str) -> Path:
    proc = truce(
        "sweep", scenario, "--engine", "serial", "--out", str(tmp_path), "--no-report", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    return Path(json.loads(proc.stdout)["results"])


@pytest.mark.slow
def test_export_of_sweeps_keeps_points_parameters_and_indices(tmp_path):
    crossed = _sweep(tmp_path, "scenarios/monitoring_by_loophole.yaml")  # 5 widths x 2 arms
    proc = truce("export", str(crossed), "--csv", "--json")
    assert proc.returncode == 0, proc.stderr
    folder = crossed / "csv"
    summary = json.loads((crossed / "summary.json").read_text())
    groups = pd.read_csv(folder / "groups.csv")
    assert list(groups.columns[:3]) == ["arm", "point", "truce.loophole_width"]
    assert len(groups) == len(summary["groups"])
    assert groups["replicates"].sum() == len(pd.read_csv(folder / "runs.csv"))
    comparisons = pd.read_csv(folder / "comparisons.csv")
    assert set(comparisons["point"]) == set(groups["point"])
    assert "truce.loophole_width" in comparisons

    scenario = tmp_path / "tiny_sobol.yaml"
    scenario.write_text(
        f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\n"
        "name: tiny_sobol\nreplicates: 20\n"
        "sweep:\n  sobol:\n    n: 4\n    bounds:\n"
        "      truce.loophole_width: {low: 0.1, high: 0.9}\n"
        "      constants.trust_loss: {low: 0.01, high: 0.2}\n"
    )
    sobol = _sweep(tmp_path, str(scenario))
    proc = truce("export", str(sobol), "--csv", "--json")
    assert proc.returncode == 0, proc.stderr
    assert {Path(p).name for p in json.loads(proc.stdout)["files"]} >= {"sensitivity.csv"}
    indices = json.loads((sobol / "summary.json").read_text())["sensitivity"]["indices"]
    table = pd.read_csv(sobol / "csv" / "sensitivity.csv")
    assert len(table) == len(indices)
    assert table["parameter"].tolist() == [row["parameter"] for row in indices]
