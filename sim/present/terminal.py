r"""Rich tables for the terminal, built from summary dictionaries (no model code).

Text that comes from a scenario (names, descriptions, labels, arm names,
swept values) is never read as rich markup (``[bold]`` prints as typed) and
never sends control characters to the terminal (``\x1b`` prints as ``\x1b``):
it goes through :func:`plain`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sim.present.text import origin_label


def printable(text: Any) -> str:
    r"""``text`` with control and other unprintable characters escaped repr-style.

    A terminal would act on them (``\x1b[31m`` turns the text red, ``\r``
    overwrites the line); escaped, they are shown as typed: ``\x1b[31m``.
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def plain(text: Any, style: str = "") -> Text:
    """Scenario text as a rich ``Text``: printed literally, brackets and all."""
    return Text(printable(text), style=style)


def _head(text: str) -> Text:
    """A column head that wraps between words: numbers in the cells fold, words do not."""
    return Text(text, overflow="ellipsis")


def summary_tables(summary: dict[str, Any], title: str) -> list[Table]:
    """One table of collapse shares per group, then causes, from ``summarize``'s output."""
    from sim.analysis.summaries import summary_horizons
    from sim.present.sentences import pct, share_text

    by = summary["by"]
    horizons = summary_horizons(summary["groups"])
    main = Table(title=plain(title), title_justify="left")
    # The arm or point names stay whole; the other columns wrap when the terminal is narrow.
    main.add_column(by.capitalize() if by != "arm" else "Truce", no_wrap=True)
    main.add_column("Replicates", justify="right")
    for h in horizons:
        main.add_column(_head(f"Collapsed ≤ {h} d\n(95% CI)"), justify="right", overflow="fold")
    main.add_column(_head("Median days held\n(Kaplan–Meier)"), justify="right", overflow="fold")
    main.add_column(
        _head("Median collapse day\n(collapsed only)"), justify="right", overflow="fold"
    )
    causes = Table(title="Causes of collapse (share of collapsed truces)", title_justify="left")
    causes.add_column(by.capitalize() if by != "arm" else "Truce", no_wrap=True)
    names = list(dict.fromkeys(c["cause"] for g in summary["groups"] for c in g["causes"]))
    for name in names:
        causes.add_column(plain(origin_label(name)), justify="right")
    for g in summary["groups"]:
        label = plain(g[by])
        by_horizon = {row["horizon"]: row for row in g["collapse"]}
        cells = []
        for h in horizons:
            row = by_horizon.get(h)
            cells.append(share_text(row["share"], row["low"], row["high"]) if row else "—")
        median = g["median_days_held"]
        median_text = f"{median:.0f}" if median is not None else f"> {g['horizon']}"
        mc = g.get("median_collapse_day")
        main.add_row(
            label,
            f"{g['replicates']:,}",
            *cells,
            median_text,
            f"{mc:.0f}" if mc is not None else "—",
        )
        shares = {c["cause"]: c["share"] for c in g["causes"]}
        causes.add_row(label, *(pct(shares[n]) if n in shares else "—" for n in names))
    return [main, causes] if names else [main]


@contextmanager
def progress_bar(description: str, total: int, enabled: bool = True) -> Iterator[Any]:
    """A progress bar on stderr with rate and ETA; yields ``update(done, total)``."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal and not console.is_jupyter:
        yield lambda done, total: None
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        auto_refresh=False,  # no refresh thread: safe to fork workers, redrawn on each update
    )
    tasks: list[Any] = []  # the bar appears on the first update: bad input leaves no empty bar

    def update(done: int, total_: int) -> None:
        if not tasks:
            bar.start()
            name = escape(printable(description))  # the column reads it as markup
            tasks.append(bar.add_task(name, total=total_ or total, rate=""))
        elapsed = bar.tasks[0].elapsed or 1e-9
        bar.update(
            tasks[0],
            completed=done,
            total=total_,
            rate=f"{done / elapsed:,.0f} truces/s",
            refresh=True,
        )

    try:
        yield update
    finally:
        if tasks:
            bar.stop()


def comparison_tables(summary: dict[str, Any]) -> list[Table]:
    """Each arm against the first: difference of collapse shares, log-rank p, hazard ratio."""
    from sim.present.sentences import p_value

    tables = []
    for c in summary.get("comparisons", []):
        t = Table(
            title=plain(f"{c['b']} vs {c['a']} (common random numbers)"), title_justify="left"
        )
        t.add_column("Measure")
        t.add_column(plain(f"{c['b']} − {c['a']}"), justify="right")
        t.add_column(f"{c['level']:.0%} CI", justify="right", overflow="fold")
        for d in c["differences"]:
            t.add_row(
                f"Collapsed ≤ {d['horizon']} d (difference)",
                _points(d["difference"]),
                f"{_points(d['low'])} to {_points(d['high'])}",
            )
        hr, low, high = c["hazard_ratio"], c["hazard_ratio_low"], c["hazard_ratio_high"]
        t.add_row(
            "Hazard ratio (log-rank)",
            _num(hr),
            f"{_num(low)} to {_num(high)}",
        )
        p = c["logrank_p"]
        t.add_row("Log-rank p-value", p_value(p) if p is not None else "—", "")
        tables.append(t)
    return tables


#: A sweep's terminal table lists every point up to this many; beyond, only the extremes.
SWEEP_ROWS = 20


def sweep_extremes(groups: list[dict[str, Any]], shown: int = SWEEP_ROWS) -> list[dict[str, Any]]:
    """The groups a long sweep's table shows, most collapsed first.

    The ``shown // 2`` with most truces collapsed, then the ``shown - shown // 2``
    with fewest (by the share at each group's own horizon). All groups, in design
    order, when there are at most ``shown``. Ties keep design order.
    """
    if len(groups) <= shown:
        return list(groups)

    def share(g: dict[str, Any]) -> float:
        at = {row["horizon"]: row for row in g["collapse"]}.get(g["horizon"])
        value = at["share"] if at else None
        return float(value) if value is not None else math.nan

    ordered = sorted(groups, key=lambda g: -share(g) if not math.isnan(share(g)) else math.inf)
    top = ordered[: shown // 2]
    rest = [g for g in reversed(ordered) if not math.isnan(share(g))][: shown - shown // 2]
    return top + [g for g in reversed(rest) if all(g is not k for k in top)]


def sweep_table(
    summary: dict[str, Any], title: str, shown: int = SWEEP_ROWS, folder: Any = None
) -> Table:
    """One row per design point (per point and arm when crossed): swept values, shares, median.

    A sweep of more than ``shown`` groups lists only the ``shown // 2`` where the most
    truces collapsed and as many where the fewest did, most first, with a caption
    saying so and where the full table is (``points.csv``, or ``groups.csv`` for a
    crossed design, from ``truce export FOLDER --csv``; ``folder`` names the results
    folder).
    """
    from sim.analysis.summaries import parameter_names, summary_horizons
    from sim.present.sentences import share_text

    groups, crossed = summary["groups"], bool(summary.get("arms"))
    params = parameter_names(groups)
    horizons = summary_horizons(groups)
    listed = sweep_extremes(groups, shown)
    t = Table(title=plain(title), title_justify="left")
    t.add_column("Point", justify="right")
    for p in params:
        t.add_column(
            Text(printable(p).replace(".", ".\n")), justify="right"
        )  # dotted paths wrap at dots
    if crossed:
        t.add_column("Arm")
    t.add_column("Replicates", justify="right")
    for h in horizons:
        t.add_column(_head(f"Collapsed ≤ {h} d\n(95% CI)"), justify="right", overflow="fold")
    t.add_column("Median days held", justify="right")
    for i, g in enumerate(listed):
        by_h = {row["horizon"]: row for row in g["collapse"]}
        cells = [
            share_text(r["share"], r["low"], r["high"]) if (r := by_h.get(h)) else "—"
            for h in horizons
        ]
        values = g.get("parameters", {})
        median = g["median_days_held"]
        t.add_row(
            str(g["point"]),
            *(_value(values.get(p)) for p in params),
            *([plain(g["arm"])] if crossed else []),
            f"{g['replicates']:,}",
            *cells,
            f"{median:.0f}" if median is not None else f"> {g['horizon']}",
            end_section=len(listed) < len(groups) and i == shown // 2 - 1,
        )
    if len(listed) < len(groups):
        what = "points and arms" if crossed else "points"
        where = f"truce export {printable(folder)} --csv" if folder else "truce export --csv"
        t.caption = Text(
            f"{len(listed)} of {len(groups):,} {what} shown: the {shown // 2} where the most "
            f"truces collapsed by the end of the horizon, then the {len(listed) - shown // 2} "
            f"where the fewest did. Every one is in {'groups' if crossed else 'points'}.csv: "
            f"{where}",
        )
        t.caption_justify = "left"
    return t


def crossed_comparison_table(summary: dict[str, Any]) -> Table:
    """A crossed design's arms compared at each point: difference, hazard ratio, log-rank p."""
    from sim.analysis.summaries import parameter_names
    from sim.present.sentences import difference_text, p_value

    comparisons = summary["comparisons"]
    params = parameter_names(comparisons)
    t = Table(
        title=plain(
            f"Arms compared at each design point, against “{summary['arms'][0]}” "
            "(common random numbers)"
        ),
        title_justify="left",
    )
    t.add_column("Point", justify="right")
    for p in params:
        t.add_column(Text(printable(p).replace(".", ".\n")), justify="right")
    horizons = {c["differences"][-1]["horizon"] for c in comparisons if c["differences"]}
    within = f" ≤ {horizons.pop()} d" if len(horizons) == 1 else ""
    t.add_column("Arm")
    t.add_column(
        _head(f"Collapsed{within}:\ndifference, pts\n(95% CI)"), justify="right", overflow="fold"
    )
    t.add_column(_head("Hazard ratio\n(95% CI)"), justify="right", overflow="fold")
    t.add_column("Log-rank p", justify="right")
    for c in comparisons:
        last = c["differences"][-1] if c["differences"] else None
        diff = "—"
        if last:
            diff = difference_text(last) + ("" if within else f" ≤ {last['horizon']} d")
        hr = c["hazard_ratio"]
        t.add_row(
            str(c["point"]),
            *(_value(c.get("parameters", {}).get(p)) for p in params),
            plain(c["b"]),
            diff,
            f"{_num(hr)} ({_num(c['hazard_ratio_low'])}–{_num(c['hazard_ratio_high'])})"
            if hr is not None
            else "—",
            p_value(c["logrank_p"]) if c["logrank_p"] is not None else "—",
        )
    return t


def sensitivity_table(sensitivity: Mapping[str, Any]) -> Table:
    """A table of a sweep's sensitivity indices, one row per output and parameter (per arm).

    Its caption says which lever matters most for each output, and warns when
    the intervals say the ranking could be noise
    (:func:`sim.present.sentences.sensitivity_sentences`).

    Args:
        sensitivity: the indices of :func:`sim.analysis.sensitivity.analyze`.

    Returns:
        The table.
    """
    method, level = sensitivity["method"], sensitivity["level"]
    ci = f"± {level:.0%} CI"
    if method == "sobol":
        title = (
            f"Sobol sensitivity indices ({sensitivity['points']:,} points × "
            f"{sensitivity['replicates']:,} truces): share of each output's variance due to "
            "a parameter alone (S1) and with its interactions (ST)"
        )
        headers = [f"S1 ({ci})", f"ST ({ci})"]
    else:
        title = (
            f"Morris elementary effects ({sensitivity['points']:,} points × "
            f"{sensitivity['replicates']:,} truces): mean absolute change of each output "
            "across a parameter's bounds (μ*) and its spread (σ)"
        )
        headers = [f"μ* ({ci})", "σ"]
    crossed = bool(sensitivity.get("arms"))
    from sim.present.sentences import sensitivity_sentences

    caption = "\n".join(sensitivity_sentences(sensitivity))
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    if crossed:
        table.add_column("Arm")
    table.add_column("Output")
    table.add_column("Parameter")
    for header in headers:
        table.add_column(header, justify="right")
    for row in sensitivity["indices"]:
        if method == "sobol":
            cells = [
                _with_conf(row["S1"], row["S1_conf"], 2),
                _with_conf(row["ST"], row["ST_conf"], 2),
            ]
        else:
            digits = 3 if row["output"] == "collapse_share" else 1
            cells = [
                _with_conf(row["mu_star"], row["mu_star_conf"], digits),
                _with_conf(row["sigma"], None, digits),
            ]
        names = [plain(row["output"]), plain(row["parameter"])]
        table.add_row(*([plain(row["arm"])] if crossed else []), *names, *cells)
    return table


def hindcast_tables(hindcast: Mapping[str, Any]) -> list[Table]:
    """The hindcast's scored truces, its leave-one-out scores and its stylized facts.

    Args:
        hindcast: the hindcast's plain data (``Hindcast.to_dict()``): ``truces``,
            ``scores``, ``leave_one_out`` (or None), ``stylized_facts``, ``replicates``.

    Returns:
        The table of truces, the leave-one-out table when there is one, then the
        table of stylized facts.
    """
    truces = hindcast["truces"]
    t = Table(
        title=f"Hindcast ({hindcast['replicates']} simulated truces per scenario)",
        title_justify="left",
    )
    for col in HINDCAST_COLUMNS:
        t.add_column(col, justify="left" if col == "truce" else "right")
    for r in truces:
        t.add_row(
            plain(r["truce"]),
            observed_text(r),
            window_text(r),
            f"{r['km_median']:.0f}" + ("+" if r["km_median"] >= r["horizon"] else ""),
            f"{r['p10']:.0f}–{r['p90']:.0f}" + ("+" if r["censored"] else ""),
            f"{r['share']:.1%}",
            _num(r["log_score"]),
            _num(r["pooled_log_score"]),
            f"{r['skill']:+.2f}",
        )
    t.caption = scores_caption(hindcast["scores"])
    tables = [t]
    loo = hindcast.get("leave_one_out")
    if loo:
        tables.append(leave_one_out_table(loo))
    f = Table(title="Stylized facts (baseline scenario)", title_justify="left")
    for col in ("check", "role", "target", "simulated", "95% interval", "met"):
        f.add_column(col)
    facts = hindcast["stylized_facts"]
    for name, fact in facts.items():
        if "value" not in fact:
            continue
        target = fact["target"]
        if isinstance(target, list):
            shown = f"{target[0]}–{target[1]}"
        else:
            shown = _sig(target) if isinstance(target, int | float) else str(target)
        f.add_row(
            name,
            fact.get("role", ""),
            plain(shown),
            _sig(fact["value"]),
            f"{_sig(fact['low'])}–{_sig(fact['high'])}",
            _yes(fact["met"]),
        )
    age = facts["hazard_by_age"]
    bands = ", ".join(f"{b['from']}–{b['to']} d: {_sig(b['rate'])}" for b in age["bands"])
    f.add_row(
        "hazard_by_age", age.get("role", ""), "falls with age", bands, age["unit"], _yes(age["met"])
    )
    f.caption = "fit: a calibration target; check: not a target"
    return [*tables, f]


def observed_text(row: Mapping[str, Any]) -> str:
    """The observed days held: a range as ``low–high``, a censored record as ``days+``."""
    low, high = row["observed_low"], row["observed_high"]
    text = f"{low}–{high}" if low != high else str(row["observed"])
    return text + ("+" if row.get("observed_censored") else "")


def window_text(row: Mapping[str, Any]) -> str:
    """The scored window (observed, widened by the tolerance), or ``> days`` when censored."""
    if row.get("observed_censored") or row.get("window_low") is None:
        return f"> {row['observed']}"
    return f"{row['window_low']:.0f}–{row['window_high']:.0f}"


def scores_caption(scores: Mapping[str, Any]) -> str:
    """The overall scores in one line: mean log scores, skill, rank correlation."""
    o = scores["overall"]
    rank = o.get("rank_correlation") or {}
    rho = rank.get("rho")
    ranks = (
        f"Spearman rho of medians vs observed {_num(rho)} "
        f"(n = {rank.get('n')}, p = {_sig(rank.get('p'))})"
        if rho is not None
        else ""
    )
    return (
        f"mean log score {_num(o['mean_log_score'])}, average truce "
        f"{_num(o['mean_pooled_log_score'])}, skill {o['skill']:+.2f}; {ranks}"
    )


def leave_one_out_table(loo: Mapping[str, Any]) -> Table:
    """The out-of-sample scores: each truce under the constants fitted without it."""
    st = loo["settings"]
    t = Table(
        title=f"Leave-one-out ({st['description']})",
        title_justify="left",
    )
    headers = ("left out", "sim. median", "P(observed)", "log score", "average truce", "skill")
    for col in (*headers, "fold fit"):
        t.add_column(col, justify="left" if col == "left out" else "right")
    for r in loo["truces"]:
        t.add_row(
            plain(r["truce"]),
            f"{r['simulated_median']:.0f}",
            f"{r['share']:.1%}",
            _num(r["log_score"]),
            _num(r["pooled_log_score"]),
            f"{r['skill']:+.2f}",
            _num(r["distance"]),
        )
    rank = loo.get("rank_correlation") or {}
    t.caption = (
        f"out-of-sample: mean log score {_num(loo['mean_log_score'])}, average truce "
        f"{_num(loo['mean_pooled_log_score'])}, skill {loo['skill']:+.2f}; Spearman rho "
        f"{_num(rank.get('rho'))}"
    )
    inside = loo.get("in_sample")
    if inside:
        t.caption += (
            f"; the same rule in sample: mean log score {_num(inside['mean_log_score'])}, "
            f"skill {inside['skill']:+.2f}, Spearman rho "
            f"{_num((inside.get('rank_correlation') or {}).get('rho'))}"
        )
    return t


HINDCAST_COLUMNS = (
    "truce",
    "observed",
    "scored window",
    "sim. median",
    "80% interval",
    "P(observed)",
    "log score",
    "average truce",
    "skill",
)
"""The columns of the hindcast's table of truces."""


def _yes(flag: Any) -> str:
    return "yes" if flag else "no"


def _sig(x: Any) -> str:
    """Three significant digits; missing (None or NaN) as a dash."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.3g}"


def _with_conf(value: float | None, conf: float | None, digits: int) -> str:
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    return text if conf is None else f"{text} ± {conf:.{digits}f}"


def _points(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:+.1f} pts"


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def _value(x: Any) -> Text:
    if isinstance(x, float):
        return Text(f"{x:.3g}")
    return Text("—") if x is None else plain(x)


def discovery_tables(found: Mapping[str, Any]) -> list[Table]:
    """Scenario discovery (:func:`sim.analysis.discovery.discover`) as tables, per arm.

    For each analysis: the peeling trajectory (coverage, density, mass, restricted
    levers; the chosen box marked), the chosen box (each restricted lever with its
    design range, the box's bounds and its quasi-p-value), with the quotable sentence
    as its caption, and the CART tree's rules.
    """
    from sim.present.sentences import bound_text, discovery_sentence, pct, rule_words

    tables = []
    target, horizon = found["target"]["text"], found["horizon"]
    for a in found["analyses"]:
        arm = f" (arm {printable(a['arm'])})" if a["arm"] is not None else ""
        head = (
            f"Scenario discovery{arm}: {target} at {horizon} days; {a['meeting']} of "
            f"{a['points']} design points meet it (base rate {pct(a['base_rate'])})"
        )
        steps = Table(title=Text(head + "\nPRIM peeling trajectory"), title_justify="left")
        for col in ("Step", "Coverage", "Density", "Mass", "Restricted levers", "Points"):
            steps.add_column(col, justify="right")
        for s in a["trajectory"]:
            chosen = s["step"] == a["box"]["step"]
            steps.add_row(
                f"{s['step']}{' ◀ chosen' if chosen else ''}",
                pct(s["coverage"]),
                pct(s["density"]),
                pct(s["mass"]),
                str(s["restricted"]),
                f"{s['meeting']} of {s['points']}",
                style="bold" if chosen else None,
            )
        box = a["box"]
        caption = discovery_sentence(found, a)
        boxes = Table(
            title=Text(
                f"The chosen box (step {box['step']}): coverage {pct(box['coverage'])}, "
                f"density {pct(box['density'])}, {box['meeting']} of {box['points']} points"
            ),
            title_justify="left",
            caption=Text(printable(caption)),
            caption_justify="left",
        )
        for col in ("Lever", "Range sampled", "Box", "Quasi-p", "Significant"):
            boxes.add_column(col, justify="left" if col == "Lever" else "right")
        for r in box["restrictions"]:
            if r["values"] is not None:
                kept = ", ".join(map(str, r["values"]))
                span, design = f"one of {kept}", "—"
            else:
                low, high = r["low"], r["high"]
                if low is not None and high is not None:
                    span = f"{bound_text(low)} to {bound_text(high)}"
                else:
                    span = f"≥ {bound_text(low)}" if high is None else f"≤ {bound_text(high)}"
                design = f"{bound_text(r['design_low'])} to {bound_text(r['design_high'])}"
            qp = "—" if r["qp"] is None else ("< 0.001" if r["qp"] < 0.001 else f"{r['qp']:.3f}")
            boxes.add_row(plain(r["lever"]), design, span, qp, "yes" if r["significant"] else "no")
        if not box["restrictions"]:
            boxes.add_row("(none: the whole design)", "", "", "", "")
        tree = a["tree"]
        rules = Table(
            title=Text(
                f"CART tree (depth {tree['depth']}, {pct(tree['accuracy'])} of points "
                "classified right): its leaves as rules"
            ),
            title_justify="left",
        )
        rules.add_column("Rule")
        rules.add_column("Points", justify="right")
        rules.add_column("Meeting the target", justify="right")
        for rule in tree["rules"]:
            rules.add_row(
                plain(rule_words(rule)),
                str(rule["points"]),
                f"{rule['meeting']} ({pct(rule['share'])})",
            )
        tables += [steps, boxes, rules]
    return tables


def forecast_text(found: Any, keep_runs: bool) -> str:
    """What ``truce sweep --dry-run`` prints: predicted time, disk, and how they were found."""
    megabytes = 2**20

    def size(n: float) -> str:
        if n < megabytes:
            return f"{n / 1024:,.1f} kB"
        return f"{n / megabytes:,.1f} MB" if n < 2**30 else f"{n / 2**30:,.2f} GB"

    minutes, seconds = divmod(round(found.seconds), 60)
    hours, minutes = divmod(minutes, 60)
    took = f"{hours}h {minutes:02d}m {seconds:02d}s" if hours else f"{minutes}m {seconds:02d}s"
    lines = [
        f"Predicted time: {took} ({found.seconds:,.1f} s) for {found.truces:,} truces of up to "
        f"{found.days:,} days on {found.workers} {found.engine} worker(s)",
        f"  method: {found.method}",
    ]
    parts = getattr(found, "parts", None)
    if parts:
        lines.append(
            f"  parts: start-up {parts['startup']:,.1f} s, work {parts['work']:,.1f} s, "
            f"overhead {parts['overhead']:,.1f} s"
        )
    if found.points_bytes:
        lines.append(f"Disk: per-point aggregates {size(found.points_bytes)}")
    if found.runs_bytes:
        why = "--keep-runs" if keep_runs and found.points_bytes else "one row per truce"
        lines.append(f"Disk: runs ({why}) {size(found.runs_bytes)}")
    elif found.points_bytes:
        lines.append(
            f"Disk: runs not stored (with --keep-runs about {size(found.runs_bytes_if_kept)} more)"
        )
    return "\n".join(lines)
