"""Sensitivity in words: which lever matters most, and when the ranking could be noise.

On a stored sweep (the bundled ``scenarios/sensitivity.yaml`` with a small
design, run by ``truce sweep`` into a temporary folder) the sentence in the
terminal and in the report must name the lever with the largest total index
in summary.json and its numbers, and warn exactly when the rule says so; the
rule itself (:func:`sim.analysis.sensitivity.leading_levers`) is tested on
synthetic index tables.
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.analysis.sensitivity import leading_levers
from sim.cli import app
from sim.present.sentences import sensitivity_sentences

ROOT = Path(__file__).resolve().parent.parent


def _words(text: str) -> str:
    """Text with its line breaks and runs of spaces made single spaces (terminal wrapping)."""
    return " ".join(text.split())


def _sobol(*rows, output="collapse_share", arm=None, level=0.95):
    """Synthetic Sobol indices: rows of (parameter, ST, ST_conf)."""
    indices = []
    for parameter, st, conf in rows:
        row = {"output": output, "parameter": parameter, "S1": st, "S1_conf": conf}
        row |= {"ST": st, "ST_conf": conf}
        indices.append(row if arm is None else {"arm": arm, **row})
    return {"method": "sobol", "level": level, "points": 64, "replicates": 100, "indices": indices}


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """`truce sweep scenarios/sensitivity.yaml` with a small design, stored, as the user runs it."""
    out = tmp_path_factory.mktemp("sweeps")
    args = ["sweep", str(ROOT / "scenarios" / "sensitivity.yaml"), "-n", "30"]
    args += ["--set", "sweep.sobol.n=4", "--out", str(out), "--engine", "serial"]
    shown = CliRunner().invoke(app, args, env={"COLUMNS": "120"})
    assert shown.exit_code == 0, shown.output
    folder = next(out.glob("sensitivity/*"))
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return shown.stdout, folder, summary["sensitivity"]


def _expected(found, output):
    """The first two levers by ST and whether the rule warns, computed from the stored indices."""
    rows = [r for r in found["indices"] if r["output"] == output and r["ST"] is not None]
    rows.sort(key=lambda r: -r["ST"])
    first, second = rows[0], rows[1]
    gap = first["ST"] - second["ST"]
    warns = gap <= math.sqrt(first["ST_conf"] ** 2 + second["ST_conf"] ** 2)
    return first, second, warns


def test_stored_sweep_names_the_leading_lever_in_the_terminal_and_the_report(stored):
    terminal, folder, found = stored
    page = _words(html.unescape((folder / "report.html").read_text(encoding="utf-8")))
    terminal = _words(terminal)
    for output, phrase in [
        ("collapse_share", "the share of truces collapsed within the horizon"),
        ("mean_days_held", "the mean days held"),
    ]:
        first, second, warns = _expected(found, output)
        low, high = first["ST"] - first["ST_conf"], first["ST"] + first["ST_conf"]
        sentence = (
            f"The lever that matters most for {phrase} is {first['parameter']} "
            f"(total Sobol index ST = {first['ST']:.2f}, 95% CI {low:.2f} to {high:.2f}), "
            f"ahead of {second['parameter']} (ST = {second['ST']:.2f}"
        ).replace("-", "−")
        for where, text in (("terminal", terminal), ("report", page)):
            assert sentence in text, f"{where}: {sentence!r} not found"
            start = text.index(sentence)
            rest = text[start : start + len(sentence) + 400]
            rest = rest.split("The lever that matters most", 2)[1]  # this output's sentence
            assert ("Warning: this ranking could be noise" in rest) == warns, where
        # summary.json holds the same sentence, for readers of the stored JSON
        assert any(_words(stored_text).startswith(sentence) for stored_text in found["sentences"])


def test_the_report_puts_the_sentences_in_its_sensitivity_section(stored):
    _, folder, _ = stored
    page = (folder / "report.html").read_text(encoding="utf-8")
    section = page[page.index("<h3>Sensitivity indices</h3>") :]
    section = section[: section.index("</table>")]
    assert section.count('<p class="lever">') == 2


def test_a_clear_lead_has_no_warning():
    found = _sobol(("monitors.coverage", 0.62, 0.10), ("truce.loophole_width", 0.20, 0.08))
    (lead,) = leading_levers(found)
    assert lead["lever"] == "monitors.coverage" and lead["runner_up"] == "truce.loophole_width"
    assert lead["margin"] == pytest.approx(math.hypot(0.10, 0.08))
    assert not lead["unclear"]
    (sentence,) = sensitivity_sentences(found)
    assert sentence == (
        "The lever that matters most for the share of truces collapsed within the horizon is "
        "monitors.coverage (total Sobol index ST = 0.62, 95% CI 0.52 to 0.72), ahead of "
        "truce.loophole_width (ST = 0.20, 0.12 to 0.28)."
    )


def test_intervals_that_overlap_a_little_still_rank():
    # Gap 0.15, half-widths 0.1 each: the intervals overlap (0.45–0.65 and 0.30–0.50), but
    # the gap exceeds sqrt(0.1² + 0.1²) ≈ 0.14, the margin of the difference.
    found = _sobol(("a", 0.55, 0.10), ("b", 0.40, 0.10))
    assert not leading_levers(found)[0]["unclear"]
    assert "Warning" not in sensitivity_sentences(found)[0]


def test_intervals_that_overlap_too_much_warn():
    found = _sobol(("a", 0.35, 0.20), ("b", 0.30, 0.15), ("c", 0.01, 0.01))
    (lead,) = leading_levers(found)
    assert lead["unclear"] and lead["gap"] == pytest.approx(0.05)
    (sentence,) = sensitivity_sentences(found)
    assert sentence.endswith(
        "Warning: this ranking could be noise: the gap between the two (0.05) is no larger "
        "than their intervals' combined half-width (0.25); more design points and more "
        "replicates per point would tell them apart."
    )


def test_a_lever_without_an_interval_cannot_be_ranked_firmly():
    found = _sobol(("a", 0.9, None), ("b", 0.1, 0.05))
    (sentence,) = sensitivity_sentences(found)
    assert "ST = 0.90, no interval" in sentence
    assert "cannot be judged" in sentence


def test_ties_keep_the_design_order_and_negative_bounds_get_a_minus_sign():
    found = _sobol(("first", 0.05, 0.1), ("second", 0.05, 0.1))
    (lead,) = leading_levers(found)
    assert (lead["lever"], lead["runner_up"]) == ("first", "second")
    assert "95% CI −0.05 to 0.15" in sensitivity_sentences(found)[0]


def test_one_lever_and_an_output_without_indices():
    found = _sobol(("a", 0.7, 0.1))
    found["indices"] += _sobol(("a", None, None), output="mean_days_held")["indices"]
    one, none = sensitivity_sentences(found)
    assert one == (
        "The one lever swept, a, has a total Sobol index for the share of truces collapsed "
        "within the horizon of 0.70, 95% CI 0.60 to 0.80."
    )
    assert none == (
        "The mean days held took the same value at every design point, so no lever can be "
        "ranked for it."
    )


def test_crossed_design_gets_a_sentence_per_arm():
    found = _sobol(("a", 0.6, 0.05), ("b", 0.1, 0.05), arm="monitored")
    found["indices"] += _sobol(("a", 0.1, 0.05), ("b", 0.6, 0.05), arm="unmonitored")["indices"]
    found["arms"] = ["monitored", "unmonitored"]
    first, second = sensitivity_sentences(found)
    assert (
        first.startswith("In the “monitored” arm, the lever that matters most")
        and " is a (" in first
    )
    assert second.startswith("In the “unmonitored” arm,") and " is b (" in second


def test_morris_ranks_by_mu_star_with_the_tables_digits():
    rows = [
        ("mean_days_held", "a", 12.34, 3.0),
        ("mean_days_held", "b", 40.0, 5.0),
    ]
    found = {
        "method": "morris",
        "level": 0.95,
        "points": 12,
        "replicates": 40,
        "indices": [
            {"output": o, "parameter": p, "mu_star": m, "mu_star_conf": c, "sigma": 1.0}
            for o, p, m, c in rows
        ],
    }
    (sentence,) = sensitivity_sentences(found)
    assert sentence == (
        "The lever that matters most for the mean days held is b (Morris mean absolute effect "
        "μ* = 40.0, 95% CI 35.0 to 45.0), ahead of a (μ* = 12.3, 9.3 to 15.3)."
    )


def test_the_terminal_table_carries_the_sentences_as_its_caption():
    from sim.present.terminal import sensitivity_table

    found = _sobol(("a", 0.35, 0.20), ("b", 0.30, 0.15))
    table = sensitivity_table(found)
    assert table.caption == "\n".join(sensitivity_sentences(found))
    assert re.search(r"Warning: this ranking could be noise", str(table.caption))
