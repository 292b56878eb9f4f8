"""The command line end to end, in a subprocess as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def truce(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_run_json(tmp_path):
    out = tmp_path / "results"
    proc = truce(
        "run",
        "scenarios/baseline.yaml",
        "--json",
        "-n",
        "300",
        "--seed",
        "5",
        "--out",
        str(out),
        "--no-report",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)  # nothing else on stdout
    assert summary["scenario"] == "baseline" and summary["seed"] == 5
    group = summary["groups"][0]
    assert group["replicates"] == 300
    horizons = {row["horizon"] for row in group["collapse"]}
    assert {30, 90, 180} <= horizons
    for row in group["collapse"]:
        assert 0 <= row["low"] <= row["share"] <= row["high"] <= 1
    assert "median_days_held" in group
    assert abs(sum(c["share"] for c in group["causes"]) - 1) < 1e-9
    run_dir = Path(summary["results"])
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == 5
    assert manifest["scenario"]["name"] == "baseline" and "mesa" in manifest["versions"]
    assert "git_commit" in manifest
    assert list((run_dir / "runs").glob("*.parquet"))


def test_same_seed_same_summary(tmp_path):
    a = truce(
        "run",
        "scenarios/baseline.yaml",
        "--json",
        "-n",
        "200",
        "--out",
        str(tmp_path / "a"),
        "--no-report",
    )
    b = truce(
        "run",
        "scenarios/baseline.yaml",
        "--json",
        "-n",
        "200",
        "--out",
        str(tmp_path / "b"),
        "--no-report",
    )
    ja, jb = json.loads(a.stdout), json.loads(b.stdout)
    ja.pop("results"), jb.pop("results")
    assert ja == jb


def test_bad_scenario_exits_2_with_one_message_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "extends: " + str(ROOT / "scenarios/baseline.yaml") + "\nmonitoring:\n  coverage: 2\n"
    )
    out = tmp_path / "results"
    proc = truce("run", str(bad), "--out", str(out))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    message = " ".join(lines)
    assert str(bad) in message.replace("\n", "") or "bad.yaml" in message
    assert "line 2" in message and "monitoring" in message and "did you mean 'monitors'" in message
    assert not out.exists() or not any(out.rglob("*"))


def test_bad_override_exits_2(tmp_path):
    proc = truce(
        "run", "scenarios/baseline.yaml", "--set", "monitors.coverage=lots", "--out", str(tmp_path)
    )
    assert (
        proc.returncode == 2
        and "monitors.coverage" in proc.stderr
        and "Traceback" not in proc.stderr
    )
    assert not any(tmp_path.rglob("*.parquet"))


def test_validate_and_list():
    ok = truce("validate", "scenarios/monitored.yaml")
    assert ok.returncode == 0 and "ok" in ok.stdout
    missing = truce("validate", "scenarios/does-not-exist.yaml")
    assert missing.returncode == 2 and "file not found" in missing.stderr
    listing = truce("list")
    assert listing.returncode == 0
    for name in ("baseline", "monitored", "unmonitored"):
        assert name in listing.stdout
