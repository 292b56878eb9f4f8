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


def _observed(r: Mapping[str, Any]) -> str:
    low, high = r.get("observed_low", r["observed"]), r.get("observed_high", r["observed"])
    text = f"{low}–{high}" if low != high else str(r["observed"])
    return text + ("+" if r.get("observed_censored") else "")


def _window(r: Mapping[str, Any]) -> str:
    if r.get("observed_censored") or r.get("window_low") is None:
        return f"> {r['observed']}"
    return f"{r['window_low']:.0f}–{r['window_high']:.0f}"


def truces_table(truces: list[Mapping[str, Any]]) -> Table:
    """One row per historical truce: observed, scored window, median, 80% interval, scores."""
    headers = ["truce", "observed", "scored window", "median", "80% interval", "P(observed)"]
    headers += ["log score", "average truce", "skill"]
    rows = [
        [
            r["truce"],
            _observed(r),
            _window(r),
            f"{r['km_median']:.0f}" + ("+" if r["km_median"] >= r.get("horizon", math.inf) else ""),
            f"{r['p10']:.0f}–{r['p90']:.0f}" + ("+" if r.get("censored") else ""),
            f"{r['share']:.1%}",
            f"{r['log_score']:.2f}",
            f"{r['pooled_log_score']:.2f}",
            f"{r['skill']:+.2f}",
        ]
        for r in truces
    ]
    return table(headers, rows)


def loo_table(loo: Mapping[str, Any]) -> Table:
    """One row per left-out truce: its scores under the constants fitted without it."""
    headers = ["left out", "sim. median", "P(observed)", "log score", "average truce", "skill"]
    headers += ["fold fit"]
    rows = [
        [
            r["truce"],
            f"{r['simulated_median']:.0f}",
            f"{r['share']:.1%}",
            f"{r['log_score']:.2f}",
            f"{r['pooled_log_score']:.2f}",
            f"{r['skill']:+.2f}",
            f"{r['distance']:.2f}",
        ]
        for r in loo["truces"]
    ]
    return table(headers, rows)


def facts_table(facts: Mapping[str, Mapping[str, Any]]) -> Table:
    """The stylized-fact checks that have a simulated value: role, target, value, interval, met."""
    rows = [
        [
            name,
            str(f.get("role", "")),
            target_text(f["target"]),
            _sig(f.get("value")),
            f"{_sig(f.get('low'))}–{_sig(f.get('high'))}",
            _yes(f["met"]),
        ]
        for name, f in facts.items()
        if "value" in f
    ]
    headers = ["check", "role", "target", "simulated", "95% interval", "met"]
    return table(headers, rows, numeric_from=3)


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
            ``scores``, ``leave_one_out`` (or None), ``stylized_facts``,
            ``replicates``, ``inside_50`` and ``inside_80``.

    Returns:
        A complete, self-contained HTML document.
    """
    truces = list(hindcast["truces"])
    facts = hindcast["stylized_facts"]
    age = facts["hazard_by_age"]
    scores = hindcast["scores"]
    loo = hindcast.get("leave_one_out")
    return pages.render_page(
        "hindcast.html.j2",
        replicates=hindcast["replicates"],
        n_truces=len(truces),
        inside_50=hindcast["inside_50"],
        inside_80=hindcast["inside_80"],
        overall=scores["overall"],
        rank=scores["overall"].get("rank_correlation") or {},
        meaning=scores["meaning"],
        settings=scores["settings"],
        num=_sig,
        loo=loo,
        loo_table=loo_table(loo) if loo else None,
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
