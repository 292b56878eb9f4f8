"""Design blocks in YAML: validation with clear errors, and expansion into design tables."""

from __future__ import annotations

import itertools

import pytest

from sim.scenario.designs import expand, sweep_points
from sim.scenario.errors import ScenarioError
from sim.scenario.loading import load_scenario

BASE = "extends: {base}\nname: d\n"


@pytest.fixture
def scenario(write_yaml, baseline_path):
    def _load(text: str):
        return load_scenario(write_yaml(BASE.format(base=baseline_path) + text))

    return _load


def test_compare_arms_expand_to_one_row_each(scenario):
    s = scenario("compare:\n  without: {monitors: null}\n  with: {monitors.coverage: 0.8}\n")
    rows = expand(s, "compare")
    assert [(r.arm, r.point) for r in rows] == [("without", 0), ("with", 0)]
    assert rows[1].overrides == {"monitors.coverage": 0.8}


def test_grid_is_full_factorial_with_ranges(scenario):
    s = scenario(
        "sweep:\n  grid:\n    monitors.coverage: [0.2, 0.5, 0.8]\n"
        "    truce.loophole_width: {low: 0.1, high: 0.9, steps: 5}\n"
    )
    points = sweep_points(s)
    assert len(points) == 15
    widths = sorted({p["truce.loophole_width"] for p in points})
    assert widths == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9])
    combos = {(p["monitors.coverage"], round(p["truce.loophole_width"], 6)) for p in points}
    assert len(combos) == 15
    assert [r.point for r in expand(s, "sweep")] == list(range(15))


def test_grid_range_of_whole_numbers_is_rounded(scenario):
    s = scenario("sweep:\n  grid:\n    deconfliction.air_forces: {low: 4, high: 8, steps: 3}\n")
    assert [p["deconfliction.air_forces"] for p in sweep_points(s)] == [4, 6, 8]


def test_points_are_hand_picked_and_lists_expand_within_a_point(scenario):
    s = scenario(
        "sweep:\n  points:\n    - {monitors.coverage: 0.3}\n"
        "    - {monitors: null, truce.loophole_width: [0.1, 0.9]}\n"
    )
    assert sweep_points(s) == [
        {"monitors.coverage": 0.3},
        {"monitors": None, "truce.loophole_width": 0.1},
        {"monitors": None, "truce.loophole_width": 0.9},
    ]


def test_lhs_stratifies_each_parameter_and_rounds_integers(scenario):
    s = scenario(
        "sweep:\n  lhs:\n    n: 10\n    bounds:\n"
        "      monitors.coverage: {low: 0.0, high: 1.0}\n"
        "      monitors.risk_tolerance: {low: 1, high: 20}\n"
    )
    points = sweep_points(s)
    assert len(points) == 10
    strata = sorted(int(p["monitors.coverage"] * 10) for p in points)
    assert strata == list(range(10))  # one point per tenth: a Latin hypercube
    assert all(isinstance(p["monitors.risk_tolerance"], int) for p in points)
    assert sweep_points(s) == points  # seeded by the scenario: reproducible


def test_sobol_and_morris_sizes_follow_salib(scenario):
    bounds = (
        "    bounds:\n      monitors.coverage: {low: 0.1, high: 0.9}\n"
        "      truce.loophole_width: {low: 0.0, high: 1.0}\n"
    )
    sobol = sweep_points(scenario("sweep:\n  sobol:\n    n: 8\n" + bounds))
    assert len(sobol) == 8 * (2 + 2)  # Saltelli, first order: N (D + 2)
    morris = sweep_points(scenario("sweep:\n  morris:\n    trajectories: 3\n" + bounds))
    assert len(morris) == 3 * (2 + 1)  # r (D + 1)
    for p in itertools.chain(sobol, morris):
        assert 0.1 <= p["monitors.coverage"] <= 0.9


@pytest.mark.parametrize(
    ("block", "field", "words"),
    [
        ("compare:\n  a: {monitors.coverag: 0.8}\n  b: {}\n", "compare.a", "unknown parameter"),
        ("compare:\n  a: {factions.nope.strength: 0.1}\n  b: {}\n", "compare.a", "no item 'nope'"),
        ("compare:\n  only: {}\n", "compare", "at least two arms"),
        ("compare:\n  off: {}\n  x: {}\n", "compare", "quote them"),
        ("sweep:\n  grid:\n    monitors.coverage: []\n", "sweep.grid.monitors.coverage", "empty"),
        ("sweep:\n  grid:\n    monitors.nothing: [1]\n", "sweep.grid.monitors.nothing", "unknown"),
        ("sweep:\n  grid:\n    monitors.coverage: [0.5, 2]\n", "sweep.grid", "less than or equal"),
        (
            "sweep:\n  lhs:\n    n: 4\n    bounds:\n"
            "      monitors.coverage: {low: 0.9, high: 0.1}\n",
            "sweep.lhs.bounds.monitors.coverage",
            "reversed",
        ),
        ("sweep:\n  sobol:\n    n: 6\n    bounds: {}\n", "sweep.sobol.n", "power of two"),
        ("sweep:\n  grid: {a: [1]}\n  lhs: {n: 1}\n", "sweep", "exactly one design"),
        ("sweep:\n  grid: null\n", "sweep", "got none"),
        ("sweep:\n  factorial: {}\n", "sweep.factorial", "unknown key"),
    ],
)
def test_design_errors_name_file_line_and_field(scenario, block, field, words):
    with pytest.raises(ScenarioError) as info:
        scenario(block)
    err = info.value
    assert err.field.startswith(field)
    assert words in err.message
    assert err.line is not None and err.line >= 3  # points into the design block


def test_expand_without_a_design_says_so(baseline):
    with pytest.raises(ValueError, match="no compare"):
        expand(baseline, "compare")
    with pytest.raises(ValueError, match="no sweep"):
        expand(baseline, "sweep")


def test_a_scenario_with_a_design_takes_overrides(scenario):
    """Dumping and re-validating a scenario keeps its design (unused kinds dump as null)."""
    from sim.scenario.loading import resolve_scenario

    s = scenario("sweep:\n  grid:\n    monitors.coverage: [0.2, 0.8]\n")
    again = resolve_scenario(s, {"truce.horizon": 30})
    assert again.sweep == s.sweep and again.truce.horizon == 30


TWO_BOUNDS = (
    "    bounds:\n      monitors.coverage: {low: 0.1, high: 0.9}\n"
    "      truce.horizon: {low: 30, high: 90}\n"
)


@pytest.mark.parametrize(
    "design",
    [
        "grid:\n    monitors.coverage: [0.2, 0.8]\n"
        "    truce.horizon: {low: 30, high: 90, steps: 3}\n",
        "points:\n    - {monitors.coverage: [0.2, 0.4]}\n    - {truce.horizon: 60}\n",
        "lhs:\n    n: 7\n    bounds: {monitors.coverage: {low: 0.1, high: 0.9}}\n",
        "sobol:\n    n: 4\n    second_order: true\n" + TWO_BOUNDS,
        "morris:\n    trajectories: 3\n" + TWO_BOUNDS,
    ],
)
def test_design_size_counts_the_points_without_drawing_them(scenario, design):
    """The size check before a run counts points the way expansion draws them."""
    from sim.scenario.designs import design_size

    s = scenario("sweep:\n  " + design)
    assert design_size(s.sweep) == len(sweep_points(s))


def test_points_rows_carry_every_swept_parameter(scenario):
    s = scenario(
        "monitors: {coverage: 0.3}\nsweep:\n  points:\n"
        "    - {monitors.coverage: 0.6}\n    - {truce.horizon: 60}\n"
    )
    rows = expand(s, "sweep")
    assert [r.parameters for r in rows] == [
        {"monitors.coverage": 0.6, "truce.horizon": s.truce.horizon},
        {"monitors.coverage": 0.3, "truce.horizon": 60},
    ]
    assert [r.overrides for r in rows] == [{"monitors.coverage": 0.6}, {"truce.horizon": 60}]
