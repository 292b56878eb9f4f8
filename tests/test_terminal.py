"""Terminal tables of sim.present.terminal built from plain summary data."""

from __future__ import annotations

from sim.present.terminal import sensitivity_table


def _cells(table, i):
    return [str(c) for c in table.columns[i].cells]


def test_sobol_table_has_indices_with_their_intervals():
    found = {
        "method": "sobol",
        "level": 0.95,
        "points": 64,
        "replicates": 100,
        "indices": [
            {
                "output": "collapse_share",
                "parameter": "monitors.coverage",
                "S1": 0.5,
                "S1_conf": 0.125,
                "ST": 0.75,
                "ST_conf": None,
            }
        ],
    }
    table = sensitivity_table(found)
    assert [str(c.header) for c in table.columns] == [
        "Output",
        "Parameter",
        "S1 (± 95% CI)",
        "ST (± 95% CI)",
    ]
    assert _cells(table, 2) == ["0.50 ± 0.12"] and _cells(table, 3) == ["0.75"]
    assert "64 points × 100 truces" in str(table.title)


def test_crossed_morris_table_names_the_arm_literally():
    row = {"output": "mean_days_held", "parameter": "x", "mu_star": 12.34, "sigma": None}
    found = {
        "method": "morris",
        "level": 0.95,
        "points": 10,
        "replicates": 5,
        "arms": ["[bold]a[/bold]"],
        "indices": [{**row, "arm": "[bold]a[/bold]", "mu_star_conf": 1.0}],
    }
    table = sensitivity_table(found)
    assert str(table.columns[0].header) == "Arm"
    assert _cells(table, 0) == ["[bold]a[/bold]"]  # scenario text is not read as markup
    assert _cells(table, 3) == ["12.3 ± 1.0"] and _cells(table, 4) == ["—"]
