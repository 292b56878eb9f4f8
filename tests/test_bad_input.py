"""Every kind of bad scenario input gets one clear message from the real CLI.

Each case is a small file written in ``tmp_path`` and run through ``truce``
(``typer.testing.CliRunner`` on ``sim.cli.app``). The promise checked for each:
exit status 2, exactly one message on stderr, naming the file, the line and the
field, no traceback, and no results folder under ``--out``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def extends(text: str, parent: Path = BASELINE) -> str:
    return f"extends: {parent}\n{text}"


# (id, file text or bytes, extra CLI options, field named, line named)
CASES = [
    ("billion-laughs", billion_laughs(), [], "f.", 6),
    ("self-alias", "a: &a [1, *a]\n", [], "a.1", 1),
    ("replicates-true", "name: x\nreplicates: true\n", [], "replicates", 2),
    ("strength-yes", "government:\n  strength: yes\n", [], "government.strength", 2),
    ("constant-on", "constants:\n  base_propensity: on\n", [], "constants.base_propensity", 2),
    (
        "sweep-bound-bool",
        "sweep:\n  lhs:\n    n: 4\n    bounds:\n      monitors.coverage: {low: true, high: 1}\n",
        [],
        "sweep.lhs.bounds.monitors.coverage.low",
        5,
    ),
    (
        "grid-value-bool",
        "sweep:\n  grid:\n    truce.horizon:\n      - 30\n      - true\n",
        [],
        "sweep.grid.truce.horizon.1",
        5,
    ),
    (
        "arm-override-bool",
        "compare:\n  a: {}\n  b: {replicates: true}\n",
        ["compare"],
        "compare.b.replicates",
        3,
    ),
    ("set-bool", "name: x\n", ["--set", "truce.horizon=true"], "truce.horizon", None),
    ("duplicate-top", "name: x\nseed: 1\nname: y\n", [], "name", 3),
    (
        "duplicate-nested",
        "truce:\n  horizon: 30\n  lead_time: 2\n  horizon: 40\n",
        [],
        "truce.horizon",
        4,
    ),
    (
        "duplicate-in-list-item",
        "factions:\n  - name: a_b\n    strength: 0.2\n    strength: 0.3\n",
        [],
        "factions.0.strength",
        4,
    ),
    ("duplicate-arm", "compare:\n  a: {}\n  b: {}\n  a: {seed: 3}\n", [], "compare.a", 4),
    ("huge-integer", "name: x\nreplicates: " + "1" * 5000 + "\n", [], "replicates", 2),
    ("deep-nesting", "name: x\ntruce: " + "[" * 5000 + "]" * 5000 + "\n", [], "truce.0.0", 2),
    ("empty", "", [], "", 1),
    ("only-comments", "# nothing here\n\n# still nothing\n", [], "", 1),
    ("not-utf8", b"name: x\ndescription: caf\xe9\n", [], "", 2),
    ("nul-byte", b"name: x\nseed: 1\x00\n", [], "", 2),
    ("extends-folder", "name: x\nextends: .\n", [], "extends", 2),
    ("over-long-text", "name: x\ndescription: " + "a" * 5000 + "\n", [], "description", 2),
    ("over-long-key", "name: x\n" + "k" * 900 + ": 1\n", [], "kkkk", 2),
    ("replicates-absurd", "name: x\nreplicates: 100000000\n", [], "replicates", 2),
    ("n-absurd", "name: x\n", ["-n", "100000000"], "replicates", None),
    ("n-zero", "name: x\n", ["-n", "0"], "replicates", None),
    ("seed-too-big", "name: x\n", ["--seed", str(2**64)], "seed", None),
    ("seed-negative", "name: x\n", ["--seed", "-1"], "seed", None),
    (
        "grid-too-large",
        "replicates: 100000\nsweep:\n  grid:\n"
        "    monitors.coverage: {low: 0, high: 1, steps: 100}\n"
        "    truce.horizon: [3650]\n",
        ["sweep"],
        "replicates",
        1,
    ),
    (
        "sweep-point-key-line",
        "sweep:\n  points:\n    - monitors.coverage: 0.2\n"
        "      truce.horizon: 30\n    - monitors.coverage: 0.4\n      truce.horizon: 0\n",
        [],
        "sweep.points.1.truce.horizon",
        6,
    ),
    (
        "grid-key-line",
        "sweep:\n  grid:\n    monitors.nothing: [1]\n",
        [],
        "sweep.grid.monitors.nothing",
        3,
    ),
    ("remove-without-extends", "factions:\n  - name: a_b\n    remove: true\n", [], "remove", 3),
    (
        "remove-unknown",
        extends("factions:\n  - name: faction_q\n    remove: true\n"),
        [],
        "factions.0.remove",
        4,
    ),
]


@pytest.mark.parametrize(
    ("text", "options", "field", "line"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_one_clear_message(tmp_path, text, options, field, line):
    path = tmp_path / "bad.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    out = tmp_path / "results"
    start = time.perf_counter()
    command = options[0] if options[:1] in (["sweep"], ["compare"]) else "run"
    options = options[1:] if command != "run" else options
    result = invoke(command, path, "--out", out, "--no-report", "--engine", "serial", *options)
    elapsed = time.perf_counter() - start
    assert result.exit_code == 2, result.output
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    message = lines[0]
    if options and line is None:  # a value given on the command line names its option
        assert f"error: {options[0] if options[0] != '-n' else '--replicates'}:" in message
    else:
        assert str(path) in message
    if line is not None:
        assert f", line {line}:" in message
    assert f" {field}" in message or f"{field}:" in message
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.rglob("*"))
    assert len(message) < 600  # an excerpt of a long value, not the value
    # a bad file is refused before anything is simulated: well under a second
    # here, but the machine is shared with other jobs, hence the margin
    assert elapsed < 3, elapsed


def test_billion_laughs_is_refused_quickly(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(billion_laughs())
    start = time.perf_counter()
    result = invoke("validate", path)
    elapsed = time.perf_counter() - start
    assert result.exit_code == 2
    assert "expands to more than" in result.stderr
    # 9**9 expanded values would take minutes and gigabytes; the count stops at 100,000
    # nodes, milliseconds of work. One second is a generous bound on a busy 2-core machine.
    assert elapsed < 1, elapsed


def test_aliases_and_merge_keys_within_limits_still_load(write_yaml):
    from sim.scenario.loading import load_scenario

    path = write_yaml(
        "factions:\n  - &d {name: a_a, strength: 0.3, resolve: 0.4}\n"
        "  - {<<: *d, name: b_b, strength: 0.6}\n"
    )
    s = load_scenario(path)
    assert [(f.name, f.strength, f.resolve) for f in s.factions] == [
        ("a_a", 0.3, 0.4),
        ("b_b", 0.6, 0.4),
    ]


def test_overlong_value_is_quoted_as_an_excerpt(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text("name: x\ndescription: " + "a" * 5000 + "\n")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert "text of at most 400 characters" in result.stderr
    assert "'" + "a" * 60 + "'… (5,000 characters)" in result.stderr
    assert "a" * 61 not in result.stderr


def test_size_refusal_states_the_estimate(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("name: x\n")
    result = invoke("run", path, "-n", "100000000", "--out", tmp_path / "r")
    assert result.exit_code == 2
    for words in ("too large to run", "of CPU", "GB of memory", "the limits are"):
        assert words in result.stderr
    assert not (tmp_path / "r").exists()


def test_cost_estimate_scales_with_design(write_yaml):
    from sim.scenario.cost import estimate_cost
    from sim.scenario.loading import load_scenario

    s = load_scenario(
        write_yaml(
            "replicates: 100\ncompare:\n  a: {}\n  b: {truce.horizon: 700}\n"
            "sweep:\n  grid:\n    monitors.coverage: [0.1, 0.5, 0.9]\n"
        )
    )
    run, sweep = estimate_cost(s, "run"), estimate_cost(s, "sweep")
    assert run.truces == 100 and sweep.truces == 100 * 3 * 2
    assert sweep.days == 700 + s.truce.lead_time  # the longest arm counts
    assert sweep.cpu_seconds == pytest.approx(run.cpu_seconds * 6 * sweep.days / run.days)


# --------------------------------------------------------------------------- markup


def test_scenario_text_is_printed_literally(tmp_path):
    path = tmp_path / "markup.yaml"
    path.write_text(
        'name: "[bold]x[/] \\x1b[31mred"\n'
        'description: "[/] closes nothing \\r over"\nreplicates: 20\nseed: 1\n'
        "compare:\n  '[bold]arm': {}\n  'b[/]': {monitors: null}\n"
    )
    ok = invoke("validate", path)
    assert ok.exit_code == 0, ok.output
    assert "[bold]x[/]" in ok.stdout and "\\x1b[31mred" in ok.stdout
    ran = invoke("compare", path, "--out", tmp_path / "r", "--no-report", "--engine", "serial")
    assert ran.exit_code == 0, ran.output
    text = ran.stdout.replace("\n", "")
    for literal in ("[bold]x[/]", "[/] closes nothing", "[bold]arm", "b[/]", "\\x1b[31mred"):
        assert literal in text
    bad = tmp_path / "[bold]bad[red].yaml"
    bad.write_text('name: x\nfoo: "\\x1b[31m"\n')
    failed = invoke("validate", bad)
    assert failed.exit_code == 2
    assert "[bold]bad[red].yaml" in failed.stderr
    for result in (ok, ran, failed):
        assert "\x1b" not in result.stdout and "\x1b" not in result.stderr
        assert "\r" not in result.stdout and "\r" not in result.stderr


def test_markup_in_an_error_value_is_literal(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text('name: x\ngovernment:\n  strength: "[bold]strong[/] \\x1b[2J"\n')
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert "'[bold]strong[/] \\x1b[2J'" in result.stderr
    assert "\x1b" not in result.stderr


# --------------------------------------------------------------------------- extends


def test_extends_merges_named_items_and_keeps_lines(tmp_path):
    from sim.scenario.errors import ScenarioError
    from sim.scenario.loading import load_scenario

    parent = load_scenario(BASELINE)
    child = tmp_path / "child.yaml"
    child.write_text(
        extends(
            "factions:\n  - name: faction_b\n    entanglement: 0.9\n"
            "  - name: faction_z\n    strength: 0.2\n"
            "excluded:\n  - name: jihadists\n    spoiler_intent: 0.1\n"
        )
    )
    s = load_scenario(child)
    names = [f.name for f in s.factions]
    assert names == [*(f.name for f in parent.factions), "faction_z"]
    b = s.factions[names.index("faction_b")]
    parent_b = parent.factions[names.index("faction_b")]
    assert b.entanglement == 0.9 and b.strength == parent_b.strength  # merged, not replaced
    assert (
        s.excluded[0].spoiler_intent == 0.1
        and s.excluded[0].strength == parent.excluded[0].strength
    )
    assert s.sponsors == parent.sponsors

    # a later error in a merged item points at the child's line; in an inherited one, the parent's
    child.write_text(child.read_text().replace("strength: 0.2", "strength: 2"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert (info.value.file, info.value.line) == (str(child), 6)
    assert info.value.field == f"factions.{len(parent.factions)}.strength"


def test_extends_remove_drops_an_inherited_item(tmp_path):
    from sim.scenario.loading import load_scenario

    parent = load_scenario(BASELINE)
    child = tmp_path / "child.yaml"
    child.write_text(extends("sponsors:\n  - name: sponsor_g2\n    remove: true\n"))
    s = load_scenario(child)
    assert [sp.name for sp in s.sponsors] == [
        sp.name for sp in parent.sponsors if sp.name != "sponsor_g2"
    ]
    # dropping a faction a sponsor still backs is an error at the sponsor's line in the parent
    child.write_text(extends("factions:\n  - name: faction_b\n    remove: true\n"))
    result = invoke("validate", child)
    assert result.exit_code == 2
    assert str(BASELINE) in result.stderr and "'faction_b' is not a party" in result.stderr


# --------------------------------------------------------------------------- points


def test_points_design_fills_every_swept_column(tmp_path):
    from sim.scenario.loading import load_scenario

    path = tmp_path / "points.yaml"
    path.write_text(
        extends(
            "replicates: 30\nsweep:\n  points:\n"
            "    - {monitors.coverage: 0.2}\n"
            "    - {monitors.coverage: 0.4, truce.loophole_width: 0.9}\n",
            SCENARIOS / "monitored.yaml",
        )
    )
    own = load_scenario(path).truce.loophole_width
    out = tmp_path / "results"
    result = invoke("sweep", path, "--out", out, "--no-report", "--engine", "serial", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    run_dir = Path(summary["results"])
    stored = json.loads((run_dir / "summary.json").read_text())
    for groups in (summary["groups"], stored["groups"]):
        assert [g["parameters"] for g in groups] == [
            {"monitors.coverage": 0.2, "truce.loophole_width": own},
            {"monitors.coverage": 0.4, "truce.loophole_width": 0.9},
        ]
    runs = pd.concat(pd.read_parquet(p) for p in sorted((run_dir / "points").glob("*.parquet")))
    assert {"monitors.coverage", "truce.loophole_width"} <= set(runs.columns)
    by_point = runs.groupby("point")["truce.loophole_width"].agg(["min", "max"])
    assert by_point.loc[0].tolist() == [own, own]
    assert by_point.loc[1].tolist() == [0.9, 0.9]
    from rich.console import Console

    from sim.present.terminal import sweep_table

    console = Console(width=300, record=True)
    console.print(sweep_table(stored, "points"))  # the table `truce sweep` prints
    assert "loophole_width" in console.export_text()


def test_validate_refuses_a_design_too_large_to_run(write_yaml):
    path = write_yaml(
        "replicates: 100000\nsweep:\n  grid:\n"
        "    monitors.coverage: {low: 0, high: 1, steps: 100}\n"
        "    truce.horizon: [3650]\n"
    )
    result = invoke("validate", path)
    assert result.exit_code == 2 and "too large to run" in result.stderr
    assert f"{path}, line 1: replicates:" in result.stderr
    small = write_yaml(path.read_text().replace("100000", "10"), "small.yaml")
    assert invoke("validate", small).exit_code == 0


def test_the_python_api_obeys_the_same_limits(baseline_path, tmp_path):
    """``sim.run`` refuses what the command line refuses, before writing anything."""
    import sim
    from sim.scenario.errors import ScenarioError

    for replicates in (0, True, 10**9, 10**8):  # the last validates but is too large to run
        with pytest.raises(ScenarioError, match="replicates"):
            sim.run(baseline_path, replicates=replicates, out=tmp_path, engine="serial")
    with pytest.raises(ScenarioError, match="seed"):
        sim.run(baseline_path, seed=-1, replicates=10, out=tmp_path, engine="serial")
    with pytest.raises(ScenarioError, match="chunk-size"):
        sim.run(baseline_path, replicates=10, chunk_size=0, out=tmp_path, engine="serial")
    assert not any(tmp_path.iterdir())


def test_hindcast_refuses_a_size_that_cannot_fit(tmp_path):
    """``truce hindcast -n`` obeys the same cost limit as the experiments, before any work."""
    result = CliRunner().invoke(app, ["hindcast", "-n", "50000000", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "too large to run" in result.stderr and "Traceback" not in result.output
    assert not any(tmp_path.iterdir())
