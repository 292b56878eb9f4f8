"""The hindcast's page: simulated against observed durations of historical truces.

The page takes the hindcast's plain data (``Hindcast.to_dict()`` of
:mod:`sim.validation.hindcast`, which computes it): this layer does not import
the validation layer. :func:`render_html` fills ``templates/hindcast.html.j2``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.present import pages
from sim.present.charts.hindcast import hindcast_figure
from sim.present.pages import Table, table


def _sig(x: Any) -> str:
    """Three significant digits; missing (None or NaN) as a dash."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.3g}"


def target_text(target: Any) -> str:
    """A stylized fact's target: a range ("0.15–0.45"), a number or a sentence."""
    if isinstance(target, list | tuple) and len(target) == 2:
        return f"{_sig(target[0])}–{_sig(target[1])}"
    return _sig(target) if isinstance(target, int | float) else str(target)


def _yes(flag: Any) -> str:
    return "yes" if flag else "no"


def truces_table(truces: list[Mapping[str, Any]]) -> Table:
    """One row per historical truce: observed, simulated median, intervals, share outlived."""
    headers = ["truce", "observed", "median", "50% interval", "in 50%", "80% interval"]
    headers += ["in 80%", "outlived"]
    rows = [
        [
            r["truce"],
            r["observed"],
            f"{r['median']:.0f}",
            f"{r['p25']:.0f}–{r['p75']:.0f}",
            _yes(r["in_50"]),
            f"{r['p10']:.0f}–{r['p90']:.0f}",
            _yes(r["in_80"]),
            f"{r['outlived']:.0%}",
        ]
        for r in truces
    ]
    return table(headers, rows)


def facts_table(facts: Mapping[str, Mapping[str, Any]]) -> Table:
    """The stylized-fact checks that have a simulated value: target, value, interval, met."""
    rows = [
        [
            name,
            target_text(f["target"]),
            _sig(f.get("value")),
            f"{_sig(f.get('low'))}–{_sig(f.get('high'))}",
            _yes(f["met"]),
        ]
        for name, f in facts.items()
        if "value" in f
    ]
    return table(["check", "target", "simulated", "95% interval", "met"], rows, numeric_from=2)


def age_table(age: Mapping[str, Any]) -> Table:
    """The hazard of collapse in each band of the truce's age, with its interval."""
    rows = [
        [
            f"{b['from']}–{b['to']}",
            b["events"],
            _sig(b["rate"]),
            f"{_sig(b['low'])}–{_sig(b['high'])}",
        ]
        for b in age["bands"]
    ]
    return table(["days", "collapses", "rate", "95% interval"], rows)


def render_html(hindcast: Mapping[str, Any]) -> str:
    """The hindcast page: the chart (plotly.js embedded once) and the tables.

    Args:
        hindcast: the hindcast's plain data (``Hindcast.to_dict()``): ``truces``,
            ``stylized_facts``, ``replicates``, ``inside_50`` and ``inside_80``.

    Returns:
        A complete, self-contained HTML document.
    """
    truces = list(hindcast["truces"])
    facts = hindcast["stylized_facts"]
    age = facts["hazard_by_age"]
    return pages.render_page(
        "hindcast.html.j2",
        replicates=hindcast["replicates"],
        n_truces=len(truces),
        inside_50=hindcast["inside_50"],
        inside_80=hindcast["inside_80"],
        chart=pages.chart_div(hindcast_figure(truces), div_id="chart-hindcast"),
        truces_table=truces_table(truces),
        facts_table=facts_table(facts),
        age=age,
        age_table=age_table(age),
    )


def write_html(hindcast: Mapping[str, Any], path: str | Path) -> Path:
    """Write :func:`render_html` atomically to ``path`` (its folder created) and return it."""
    path = Path(path)
    pages.write_page(path, render_html(hindcast))
    return path
