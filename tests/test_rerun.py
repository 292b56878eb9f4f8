"""`truce rerun`: a stored run, compare or sweep re-created from its manifest alone.

Results are stored by the real command in a subprocess, read back from disk,
re-run from their manifest and compared; the bad-input cases go through
typer's CliRunner on the command itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent


def truce(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def stored(out: Path, kind: str, scenario: str, *args: str) -> Path:
    """Store a study with the real command; return its results folder."""
    proc = truce(kind, f"scenarios/{scenario}", "--json", "--out", str(out), "--no-report", *args)
    assert proc.returncode == 0, proc.stderr
    return Path(json.loads(proc.stdout)["results"])


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("stored")
    return {
        "run": stored(out, "run", "baseline.yaml", "-n", "60", "--chunk-size", "25"),
        "compare": stored(out, "compare", "monitoring.yaml", "-n", "40", "--chunk-size", "20"),
        # a Sobol design (drawn by SALib from the seed), 2 x (3 + 2) = 10 points
        "sweep": stored(
            out,
            "sweep",
            "sensitivity.yaml",
            "-n",
            "10",
            "--set",
            "sweep.sobol.n=2",
            "--engine",
            "serial",
        ),
    }


def copy(study: Path, tmp_path: Path) -> Path:
    """A copy of a stored study to edit, keeping the original intact for other tests."""
    return Path(shutil.copytree(study, tmp_path / "copy" / study.name))


def rerun(manifest: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return truce("rerun", str(manifest), "--out", str(out), "--no-report", *args)


def test_manifest_records_salib_and_dask_versions(studies):
    manifest = json.loads((studies["run"] / "manifest.json").read_text())
    for package in ("salib", "dask", "distributed", "mesa", "numpy"):
        version = manifest["versions"][package]
        assert version and version != "not installed", package


def test_run_takes_a_chunk_size(studies):
    manifest = json.loads((studies["run"] / "manifest.json").read_text())
    assert manifest["chunk_size"] == 25
    assert len(list((studies["run"] / "runs").glob("*.parquet"))) == 3  # 25 + 25 + 10


@pytest.mark.parametrize("kind", ["run", "compare", "sweep"])
def test_rerun_recreates_the_study_identically(studies, tmp_path, kind):
    old = studies[kind]
    extra = ("--engine", "serial") if kind == "compare" else ()  # results do not depend on it
    proc = rerun(old / "manifest.json", tmp_path / "again", "--json", *extra)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    outcome = json.loads(proc.stdout)
    assert outcome["identical"] is True and outcome["differences"] == []
    assert outcome["kind"] == kind and outcome["original"] == str(old)
    new = Path(outcome["results"])
    assert new.parent.parent == tmp_path / "again" and new != old
    # read both back from disk, independently of the command's own comparison
    if kind == "sweep":  # a sweep stores one row per design point (points/), not its runs
        assert not (old / "runs").exists() and not (new / "runs").exists()
        before = pd.concat(pd.read_parquet(p) for p in sorted((old / "points").glob("*")))
        after = pd.concat(pd.read_parquet(p) for p in sorted((new / "points").glob("*")))
        before, after = before.sort_values("point"), after.sort_values("point")
    else:
        before = pd.concat(pd.read_parquet(p) for p in sorted((old / "runs").glob("*.parquet")))
        after = pd.concat(pd.read_parquet(p) for p in sorted((new / "runs").glob("*.parquet")))
    assert outcome["rows"] == len(before) == len(after) > 0
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True))
    old_manifest = json.loads((old / "manifest.json").read_text())
    new_manifest = json.loads((new / "manifest.json").read_text())
    assert new_manifest["status"] == "complete" and new_manifest["kind"] == kind
    assert new_manifest["rerun_of"] == str(old) and new_manifest["rerun_identical"] is True
    for key in ("scenario", "seed", "replicates", "chunk_size", "design", "arms"):
        assert new_manifest[key] == old_manifest[key], key
    summary = json.loads((new / "summary.json").read_text())
    assert summary == json.loads((old / "summary.json").read_text())


def test_rerun_in_words(studies, tmp_path):
    proc = rerun(studies["compare"] / "manifest.json", tmp_path / "again")
    assert proc.returncode == 0, proc.stderr
    assert "Identical" in proc.stdout and "80 rows in 4 parts" in " ".join(proc.stdout.split())
    assert str(studies["compare"]) in "".join(proc.stdout.split())


def test_other_versions_or_commit_warn_but_do_not_fail(studies, tmp_path):
    folder = copy(studies["sweep"], tmp_path)
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["versions"]["numpy"] = "1.0.0"
    manifest["versions"]["salib"] = "0.9"
    manifest["git_commit"] = "0" * 40
    path.write_text(json.dumps(manifest))
    proc = rerun(path, tmp_path / "again", "--json")
    assert proc.returncode == 0, proc.stderr
    outcome = json.loads(proc.stdout)
    assert outcome["identical"] is True
    assert any("numpy 1.0.0 then" in w for w in outcome["warnings"])
    assert any("salib 0.9 then" in w for w in outcome["warnings"])
    assert any("0" * 40 in w for w in outcome["warnings"])
    warning = " ".join(proc.stderr.split())
    assert "warning:" in warning and "numpy 1.0.0 then" in warning and "0" * 40 in warning


def test_a_tampered_runs_part_fails(studies, tmp_path):
    folder = copy(studies["run"], tmp_path)
    part = sorted((folder / "runs").glob("*.parquet"))[1]
    table = pd.read_parquet(part)
    table.loc[3, "days_held"] = table.loc[3, "days_held"] + 1
    table.to_parquet(part, index=False)
    proc = rerun(folder / "manifest.json", tmp_path / "again")
    assert proc.returncode == 1
    text = " ".join(proc.stderr.split())
    assert f"part {part.stem}: column days_held: 1 of 25 rows differ (first at row 3" in text
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "differs from" in errors[0]
    proc = rerun(folder / "manifest.json", tmp_path / "again", "--json")
    assert proc.returncode == 1
    outcome = json.loads(proc.stdout)
    assert outcome["identical"] is False and len(outcome["differences"]) == 1


def test_a_tampered_daily_table_fails(studies, tmp_path):
    folder = copy(studies["run"], tmp_path)
    table = pd.read_parquet(folder / "daily.parquet")
    table.loc[2, "violence_sum"] += 1
    table.to_parquet(folder / "daily.parquet", index=False)
    proc = rerun(folder / "manifest.json", tmp_path / "again", "--json")
    assert proc.returncode == 1
    outcome = json.loads(proc.stdout)
    assert outcome["identical"] is False
    assert [d.split(" (first")[0] for d in outcome["differences"]] == [
        f"daily.parquet: column violence_sum: 1 of {len(table)} rows differ"
    ]


def test_a_missing_runs_part_fails(studies, tmp_path):
    folder = copy(studies["compare"], tmp_path)
    part = sorted((folder / "runs").glob("*.parquet"))[0]
    part.unlink()
    proc = rerun(folder / "manifest.json", tmp_path / "again", "--json")
    assert proc.returncode == 1
    outcome = json.loads(proc.stdout)
    assert outcome["differences"] == [f"part {part.stem} was re-created but is not stored"]


runner = CliRunner()


def one_error(result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    text = " ".join(result.output.split())
    for piece in expected:
        assert piece in text, (piece, text)


def bad_input(path: Path, tmp_path: Path, *expected: str) -> None:
    out = tmp_path / "again"
    one_error(runner.invoke(app, ["rerun", str(path), "--out", str(out)]), *expected)
    assert not out.exists()  # nothing written


def test_not_a_manifest(tmp_path):
    missing = tmp_path / "nothing" / "manifest.json"
    bad_input(missing, tmp_path, str(missing), "no such file")
    bad_input(ROOT / "scenarios" / "baseline.yaml", tmp_path, "baseline.yaml", "not JSON")
    bad_input(tmp_path, tmp_path, str(tmp_path), "not a results folder (no manifest.json)")
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    bad_input(listed, tmp_path, "list.json", "a JSON list, not an object")
    other = tmp_path / "other.json"
    other.write_text('{"kind": "run", "seed": 1}')
    bad_input(other, tmp_path, "other.json", "not the manifest of a truce", "no status")


def test_unreadable_manifest(studies, tmp_path):
    folder = copy(studies["run"], tmp_path)
    path = folder / "manifest.json"
    path.write_bytes(b"\xff\xfe not json")
    bad_input(path, tmp_path, str(path), "not a manifest")


def test_manifest_of_an_unfinished_run(studies, tmp_path):
    folder = copy(studies["sweep"], tmp_path)
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "status": "running"}))
    bad_input(path, tmp_path, "status: the sweep did not finish", f"--resume {folder}")


def test_manifest_with_a_bad_field(studies, tmp_path):
    folder = copy(studies["run"], tmp_path)
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "kind": "story"}))
    bad_input(path, tmp_path, "kind: expected one of run, compare, sweep, got 'story'")
    manifest["scenario"]["truce"]["loophole_width"] = 7
    path.write_text(json.dumps(manifest))
    bad_input(path, tmp_path, "scenario", "loophole_width")


def test_manifest_without_runs(studies, tmp_path):
    folder = copy(studies["run"], tmp_path)
    shutil.rmtree(folder / "runs")
    bad_input(folder / "manifest.json", tmp_path, "no runs stored beside it")


def test_unknown_engine(studies, tmp_path):
    out = tmp_path / "again"
    result = runner.invoke(
        app, ["rerun", str(studies["run"] / "manifest.json"), "--out", str(out), "--engine", "x"]
    )
    one_error(result, "--engine", "unknown engine 'x'")
    assert not out.exists()


def test_a_design_drawn_otherwise_today_is_not_rerun(studies, tmp_path):
    # As if another SALib had drawn the recorded Sobol points: nothing to compare like for like.
    folder = copy(studies["sweep"], tmp_path)
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    first = manifest["design"][0]["overrides"]
    key = next(iter(first))
    first[key] = first[key] / 2
    path.write_text(json.dumps(manifest))
    proc = rerun(path, tmp_path / "again", "--json")
    assert proc.returncode == 1
    outcome = json.loads(proc.stdout)
    assert outcome["identical"] is False and outcome["results"] is None
    assert (
        "the design drawn today differs from the recorded one (first at row 0"
        in (outcome["differences"][0])
    )
    assert not (tmp_path / "again").exists()
