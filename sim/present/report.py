"""The self-contained HTML report of a results folder.

:func:`build_report` reads ``manifest.json``, ``summary.json`` (if present)
and the ``runs`` Parquet parts of ``results/<scenario>/<timestamp>/`` and
writes ``report.html`` next to them. It never runs a model.

A crossed result (a sweep run under every arm of a comparison: the manifest
lists two or more ``arms`` and the summary has an ``arms`` key) shows each
arm's collapse against the swept parameters, the hazard ratio of each arm
against the reference at every design point (read from the summary's
``comparisons``), and survival, collapse and cause charts per arm, pooled
over the design.

The page opens offline: plotly.js is embedded once, styles are inline, fonts
are the system's, and nothing is fetched from the network. Every string that
comes from a scenario file is HTML-escaped.
"""

from __future__ import annotations

import html
import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import yaml

from sim.analysis import grouping, sensitivity, summaries, violations
from sim.experiment import storage
from sim.present import charts
from sim.present import sentences as english

REPORT = "report.html"
CHARTS_DIR = "charts"
PLOTLY_CONFIG = {"responsive": True, "displaylogo": False}
MAX_SURVIVAL_CURVES = 8
MAX_BAR_GROUPS = 12
MAX_CAUSE_GROUPS = 40
MAX_OPEN_TABLE_ROWS = 25
MAX_GROUP_COLUMNS = 4
_PARAMETER_KEYS = ("parameters", "params", "swept", "factors", "sweep")


class PngExportError(RuntimeError):
    """PNG export of the charts is not possible here (the message says what to install)."""


class PngExportWarning(UserWarning):
    """Issued by :func:`build_report` when ``png=True`` but PNGs could not be written."""


@dataclass(frozen=True)
class Design:
    """How the runs are grouped: by arm (single run, comparison) or by design point.

    A sweep run under two or more arms (a scenario with both ``compare:`` and
    ``sweep:``) is *crossed*: every design point under every arm.
    """

    by: str
    arms: list[Any] = field(default_factory=list)
    parameters: list[str] = field(default_factory=list)

    @property
    def is_sweep(self) -> bool:
        """Whether the runs come from a sweep over parameters."""
        return self.by == "point"

    @property
    def crossed(self) -> bool:
        """Whether the sweep ran every design point under two or more arms."""
        return self.is_sweep and len(self.arms) > 1


@dataclass
class Chart:
    """A report chart: anchor key, heading, one-sentence caption and the figure."""

    key: str
    heading: str
    caption: str
    figure: go.Figure


# --------------------------------------------------------------------------- reading


def _names(value: Any) -> list[Any]:
    """Names from a list of names, a list of ``{"name": ...}`` or a mapping."""
    if isinstance(value, Mapping):
        return list(value)
    if isinstance(value, list | tuple):
        out = []
        for item in value:
            if isinstance(item, Mapping):
                item = item.get("name", item.get("path"))
            if item is not None:
                out.append(item)
        return out
    return []


def design_of(manifest: Mapping[str, Any], runs: pd.DataFrame) -> Design:
    """Find the grouping from the manifest's design and the runs' columns.

    Swept parameters are those the manifest lists (``parameters``, ``swept``,
    … at the top level or under ``design``, or the ``overrides`` of a design
    given as one record per point) that are columns of the runs and take more
    than one value; failing that, the dotted-path columns of the runs. A
    manifest of ``kind: sweep`` groups by design point. Arms keep the order
    the manifest gives (``arms``), then any other arm in the runs in order of
    appearance; a sweep whose runs hold two or more arms is crossed
    (:attr:`Design.crossed`).

    Args:
        manifest: the parsed manifest.json.
        runs: the runs table.

    Returns:
        The :class:`Design`.
    """
    raw = manifest.get("design")
    design = raw if isinstance(raw, Mapping) else {}
    listed = [n for src in (manifest, design) for k in _PARAMETER_KEYS for n in _names(src.get(k))]
    if isinstance(raw, list):  # one record per design point: {"arm", "point", "overrides"}
        listed += [k for r in raw if isinstance(r, Mapping) for k in r.get("overrides") or {}]
    candidates = [str(c) for c in dict.fromkeys(listed) if str(c) in runs.columns]
    candidates = candidates or grouping.swept_columns(runs)
    params = [c for c in candidates if runs[c].nunique(dropna=False) > 1]
    present = list(dict.fromkeys(runs["arm"]))
    ordered = [a for a in _names(manifest.get("arms") or design.get("arms")) if a in present]
    arms = list(dict.fromkeys(ordered + present))
    is_sweep = manifest.get("kind") == "sweep" or (bool(params) and runs["point"].nunique() > 1)
    return Design(by="point" if is_sweep else "arm", arms=arms, parameters=params)


def is_crossed(summary: Mapping[str, Any]) -> bool:
    """Whether a summary is of a crossed design: it lists two or more ``arms``."""
    return summary.get("by") == "point" and len(summary.get("arms") or []) > 1


def load_summary(results_dir: Path, runs: pd.DataFrame, design: Design) -> dict[str, Any]:
    """``summary.json`` if it is there and fits the design, else computed from the runs."""
    path = Path(results_dir) / storage.SUMMARY
    if path.exists():
        try:
            summary = storage.read_json(path)
        except (OSError, json.JSONDecodeError):
            summary = None
        if (
            isinstance(summary, dict)
            and summary.get("summary_version") == summaries.SUMMARY_VERSION
            and summary.get("by") == design.by
            and summary.get("groups")
            and is_crossed(summary) == design.crossed
        ):
            return summary
    # ``arms`` makes a crossed summary only for a sweep with two or more arms.
    order = design.arms if design.by == "arm" else None
    return summaries.summarize(runs, by=design.by, order=order, arms=design.arms)


def in_arm_order(runs: pd.DataFrame, arms: Sequence[Any]) -> pd.DataFrame:
    """The runs with the arms in the order given (stable otherwise).

    Charts show groups in their order of appearance, so this puts the
    reference arm first everywhere.
    """
    rank = {a: i for i, a in enumerate(arms)}
    key = runs["arm"].map(lambda a: rank.get(a, len(rank)))
    if key.is_monotonic_increasing:
        return runs
    return runs.iloc[key.argsort(kind="stable")].reset_index(drop=True)


# --------------------------------------------------------------------------- charts


def report_charts(
    runs: pd.DataFrame,
    design: Design,
    indices: Mapping[str, Any] | None = None,
    comparisons: Sequence[Mapping[str, Any]] | None = None,
) -> list[Chart]:
    """The charts of the report, in the order shown.

    Comparisons and single runs: survival curves, collapse bars, causes.
    Sweeps: the sensitivity indices of a ``sobol`` or ``morris`` design, a
    line (one parameter) or heatmap and small multiples (two or more), then
    survival curves, bars and causes per design point while there are few
    enough points to read them. Crossed sweeps: the same sweep charts with
    one line (or heatmap) per arm, the hazard ratio of each arm against the
    reference at every design point (from ``comparisons``), then survival
    curves, bars and causes per arm, pooled over the design.

    Args:
        runs: the runs table.
        design: its grouping.
        indices: the sensitivity indices (:func:`sim.analysis.sensitivity.analyze`),
            if the design has them.
        comparisons: the summary's comparisons; a crossed design's give the
            hazard-ratio chart.

    Returns:
        The charts.
    """
    out = []
    if indices:
        out.append(_sensitivity_chart(indices))
    if design.crossed:
        out += _crossed_sweep_charts(runs, design, comparisons or [])
    elif design.is_sweep:
        out += _sweep_charts(runs, design.parameters)
    # A crossed design's points all ran under every arm: pool them per arm.
    by = "arm" if design.crossed else design.by
    capped = design.is_sweep and not design.crossed
    groups = runs[by].nunique()
    pooled = (
        f" Each arm pools the truces of all {runs['point'].nunique():,} design points."
        if design.crossed
        else ""
    )
    if not capped or groups <= MAX_SURVIVAL_CURVES:
        out.append(
            Chart(
                "survival",
                "How long the truces held",
                "Kaplan–Meier estimate of the share of truces still holding on each day, "
                "with 95% confidence bands; truces still holding at the end are censored there."
                + pooled,
                charts.survival_chart(runs, by=by),
            )
        )
    if not capped or groups <= MAX_BAR_GROUPS:
        out.append(
            Chart(
                "collapse",
                "Collapse within 30, 90 and 180 days",
                "Share of simulated truces that collapsed within each period; whiskers are 95% "
                "Wilson intervals." + pooled,
                charts.collapse_bars(runs, by=by),
            )
        )
    if runs["collapsed"].any() and (not capped or groups <= MAX_CAUSE_GROUPS):
        out.append(
            Chart(
                "causes",
                "What caused the collapses",
                "Among the truces that collapsed, the share by the dominant origin of violations "
                "in the days before the collapse." + pooled,
                charts.cause_chart(runs, by=by),
            )
        )
    return out


def _sweep_charts(runs: pd.DataFrame, params: Sequence[str]) -> list[Chart]:
    """The collapse-against-parameters charts of a sweep with one arm."""
    if not params:
        return []
    if len(params) == 1:
        return [
            Chart(
                "sweep",
                f"Collapse against {params[0]}",
                "Each point pools the truces simulated at that value; the band is the "
                "95% Wilson interval.",
                charts.sweep_line(runs, params[0]),
            )
        ]
    return [
        Chart(
            "sweep-heatmap",
            f"Collapse over {params[0]} and {params[1]}",
            "Each cell is the share of simulated truces that collapsed within 90 days at "
            "that pair of values (pooled over any other swept parameter).",
            charts.sweep_heatmap(runs, params[0], params[1]),
        ),
        Chart(
            "sweep-parameters",
            "Each swept parameter on its own",
            "Share collapsed within 90 days against each parameter, pooled over the "
            "others, with 95% Wilson bands.",
            charts.sweep_small_multiples(runs, params),
        ),
    ]


def _crossed_sweep_charts(
    runs: pd.DataFrame, design: Design, comparisons: Sequence[Mapping[str, Any]]
) -> list[Chart]:
    """A crossed sweep's charts: collapse per arm against the parameters, then the contrast."""
    params, arms = design.parameters, design.arms
    out = []
    if len(params) == 1:
        out.append(
            Chart(
                "sweep",
                f"Collapse against {params[0]}, by arm",
                "One line per arm: each point is the share of that arm's simulated truces that "
                "collapsed within 90 days at that value, with its 95% Wilson band. Every arm "
                "ran the same design points on the same random numbers.",
                charts.sweep_line(runs, params[0], by="arm"),
            )
        )
    elif params:
        out.append(
            Chart(
                "sweep-heatmap",
                f"Collapse over {params[0]} and {params[1]}, arm by arm",
                "One panel per arm, on the same colour scale: each cell is the share of that "
                "arm's simulated truces that collapsed within 90 days at that pair of values "
                "(pooled over any other swept parameter).",
                charts.sweep_heatmap_by(runs, params[0], params[1], by="arm"),
            )
        )
        out.append(
            Chart(
                "sweep-parameters",
                "Each swept parameter on its own, by arm",
                "Share collapsed within 90 days against each parameter, pooled over the "
                "others, one line per arm with 95% Wilson bands.",
                charts.sweep_small_multiples(runs, params, by="arm"),
            )
        )
    if comparisons:
        table = charts.contrast_table(comparisons)
        left_out = len(table) - len(charts.plottable_ratios(table))
        others = ", ".join(f"“{a}”" for a in arms[1:])
        level = f"{comparisons[0].get('level', 0.95) * 100:.0f}%"
        out.append(
            Chart(
                "arm-contrast",
                "Where the arms differ most",
                f"Hazard ratio of {others} against the reference arm “{arms[0]}” at each design "
                f"point, with {level} intervals (log-rank estimator, on a log scale): below the "
                "dashed line at 1, truces collapsed more slowly than under the reference; above "
                "it, faster."
                + (
                    f" {left_out:,} point{'s' if left_out != 1 else ''} without a ratio (no "
                    "collapse in an arm) left out."
                    if left_out
                    else ""
                ),
                charts.hazard_ratio_chart(comparisons, params),
            )
        )
    return out


def _sensitivity_chart(indices: Mapping[str, Any]) -> Chart:
    level = f"{indices['level'] * 100:.0f}%"
    what = (
        "Sobol indices: the share of the variance of each output over the design that is due "
        "to a parameter alone (S1) and together with its interactions (ST)"
        if indices["method"] == "sobol"
        else "Morris elementary effects: the mean absolute change of each output across a "
        "parameter's bounds (μ*) and the spread of those changes (σ)"
    )
    table = sensitivity.indices_table(indices)
    arms = _index_arms(indices)
    if arms and "arm" not in table.columns:
        table.insert(0, "arm", [r.get("arm") for r in indices["indices"]])
    return Chart(
        "sensitivity",
        "Which swept parameter matters most",
        f"{what}; whiskers are {level} bootstrap intervals over the design's "
        f"{indices['points']:,} points, each simulating {indices['replicates']:,} truces "
        "(the intervals leave out the simulation noise of each point)."
        + (" The indices are computed for each arm on its own." if arms else ""),
        charts.sensitivity_chart(table),
    )


def _index_arms(indices: Mapping[str, Any]) -> list[Any]:
    """The arms of sensitivity indices computed per arm (crossed design), else []."""
    arms = list(dict.fromkeys(r.get("arm") for r in indices.get("indices") or []))
    if None in arms or not (len(arms) > 1 or indices.get("arms")):
        return []
    return arms


# --------------------------------------------------------------------------- HTML pieces


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _share_ci(share: float | None, low: float | None, high: float | None) -> str:
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return english.share_text(share, low, high)


def _table(
    headers: Sequence[str] | None, rows: Iterable[Sequence[Any]], numeric_from: int = 1
) -> str:
    """An HTML table; every cell escaped; columns from ``numeric_from`` right-aligned."""

    def cell(tag: str, i: int, value: Any) -> str:
        classes = ["num"] if i >= numeric_from else []
        classes += ["pre"] if "\n" in str(value) else []
        cls = f' class="{" ".join(classes)}"' if classes else ""
        return f"<{tag}{cls}>{_e(value)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers or []))
    body = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows
    )
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    table = f"<table>{thead}<tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _fold(title: str, inner: str, rows: int) -> str:
    """Long tables go in a closed ``<details>``."""
    if rows <= MAX_OPEN_TABLE_ROWS:
        return inner
    return f"<details><summary>{_e(title)} ({rows:,} rows)</summary>{inner}</details>"


def _summary_table(summary: Mapping[str, Any]) -> str:
    by, groups = summary["by"], summary["groups"]
    crossed = is_crossed(summary)
    keys = [by, "arm"] if crossed else [by]
    params = summaries.parameter_names(groups)
    horizons = summaries.summary_horizons(groups)
    headers = [*keys, *params, "truces"] + [f"collapsed within {h} days" for h in horizons]
    headers += ["median days held", "median collapse day (collapsed only)"]
    rows = []
    for g in groups:
        at = {c["horizon"]: c for c in g["collapse"]}
        shares = [
            _share_ci(at[h]["share"], at[h]["low"], at[h]["high"]) if h in at else "–"
            for h in horizons
        ]
        median = (
            f"{g['median_days_held']:.0f}"
            if g["median_days_held_reached"]
            else f"more than {g['horizon']}"
        )
        collapse_day = g.get("median_collapse_day")
        settings = [english.value_text((g.get("parameters") or {}).get(p, "–")) for p in params]
        rows.append(
            [*(g.get(k, "–") for k in keys), *settings, f"{g['replicates']:,}", *shares, median]
            + ["–" if collapse_day is None else f"{collapse_day:g}"]
        )
    what = "design point and arm" if crossed else "design point"
    return _fold(
        f"Collapse and survival per {what}",
        _table(headers, rows, numeric_from=len(keys)),
        len(rows),
    )


def _sensitivity_table(summary: Mapping[str, Any]) -> str:
    found = summary.get("sensitivity")
    if not found:
        return ""
    level = f"{found['level'] * 100:.0f}% CI"

    def cell(value: float | None, conf: float | None = None, digits: int = 2) -> str:
        if value is None:
            return "–"
        return f"{value:.{digits}f}" + ("" if conf is None else f" ± {conf:.{digits}f}")

    arms = _index_arms(found)
    records = found["indices"]
    if arms:  # output, then arm (in the design's order), then parameter
        rank = {a: i for i, a in enumerate(arms)}
        outputs = {o: i for i, o in enumerate(dict.fromkeys(r["output"] for r in records))}
        records = sorted(records, key=lambda r: (outputs[r["output"]], rank[r["arm"]]))
    rows = []
    for r in records:
        output = found["outputs"].get(r["output"], r["output"])
        names = [output, r["arm"], r["parameter"]] if arms else [output, r["parameter"]]
        if found["method"] == "sobol":
            rows.append([*names, cell(r["S1"], r["S1_conf"]), cell(r["ST"], r["ST_conf"])])
        else:
            digits = 3 if r["output"] == "collapse_share" else 1
            rows.append(
                [
                    *names,
                    cell(r["mu_star"], r["mu_star_conf"], digits),
                    cell(r["sigma"], None, digits),
                ]
            )
    keys = ["output", "arm", "parameter"] if arms else ["output", "parameter"]
    headers = (
        [*keys, f"S1 (± {level})", f"ST (± {level})"]
        if found["method"] == "sobol"
        else [*keys, f"μ* (± {level})", "σ"]
    )
    each = "each arm at each design point" if arms else "each design point"
    return (
        "<h3>Sensitivity indices</h3>"
        + _table(headers, rows, numeric_from=len(keys))
        + '<p class="note">Computed with SALib from the collapse share and the mean days held '
        f"of {each}; a parameter the model does not read in this scenario gets 0.</p>"
    )


def _hazard_ratio_text(c: Mapping[str, Any]) -> str:
    if c["hazard_ratio"] is None:
        return "–"
    text = f"{c['hazard_ratio']:.2f}"
    if c["hazard_ratio_low"] is not None:
        text += f" ({c['hazard_ratio_low']:.2f}–{c['hazard_ratio_high']:.2f})"
    return text


def _pairing_note(comparisons: Sequence[Mapping[str, Any]]) -> str:
    """What the comparisons' own ``paired`` flags say about the test and intervals."""
    flags = [bool(c.get("paired")) for c in comparisons]
    if flags and all(flags):
        return (
            "The arms share their random numbers, so replicate by replicate they form pairs, "
            "and the test and both intervals use the pairing."
        )
    if any(flags):
        return (
            "Where the arms hold the same replicates they form pairs and the test and "
            "intervals use the pairing; elsewhere they treat the arms as independent samples."
        )
    return (
        "These results do not pair the arms' replicates, so the test and both intervals "
        "treat the arms as independent samples."
    )


def _comparison_table(summary: Mapping[str, Any]) -> str:
    comparisons = summary.get("comparisons") or []
    if not comparisons:
        return ""
    if is_crossed(summary):
        return _crossed_comparison_table(summary)
    horizons = sorted({d["horizon"] for c in comparisons for d in c["differences"]})
    rows = []
    for c in comparisons:
        p = "–" if c["logrank_p"] is None else english.p_value(c["logrank_p"])
        at = {d["horizon"]: d for d in c["differences"]}
        diffs = [english.difference_text(at[h]) if h in at else "–" for h in horizons]
        rows.append([f"{c['b']} vs {c['a']}", _hazard_ratio_text(c), p, *diffs])
    headers = ["comparison", "hazard ratio (95% CI)", "log-rank test"]
    headers += [f"difference within {h} days" for h in horizons]
    return (
        "<h3>Comparison of arms</h3>"
        + _table(headers, rows)
        + '<p class="note">Hazard ratio: how fast truces in the second arm collapsed relative '
        "to the first (below 1: more durable), by the log-rank estimator. Differences are in "
        "percentage points of truces collapsed (second arm minus first), with Newcombe's 95% "
        "interval. " + _pairing_note(comparisons) + "</p>"
    )


def _crossed_comparison_table(summary: Mapping[str, Any]) -> str:
    """The arms compared at each design point of a crossed design, one row per point and arm."""
    comparisons = summary["comparisons"]
    params = summaries.parameter_names(comparisons)
    # The longest horizon both arms simulated: the last of each comparison's differences.
    last = [
        max(c["differences"], key=lambda d: d["horizon"]) if c["differences"] else None
        for c in comparisons
    ]
    common = {d["horizon"] for d in last if d is not None}
    same = len(common) == 1
    rows = []
    for c, d in zip(comparisons, last, strict=True):
        p = "–" if c["logrank_p"] is None else english.p_value(c["logrank_p"])
        if d is None:
            diff = "–"
        else:
            diff = english.difference_text(d) + ("" if same else f" within {d['horizon']} days")
        settings = [english.value_text((c.get("parameters") or {}).get(k, "–")) for k in params]
        rows.append(
            [c.get("point", "–"), f"{c['b']} vs {c['a']}", *settings, diff]
            + [_hazard_ratio_text(c), p]
        )
    horizon = f"within {next(iter(common))} days" if same else "at the end of the simulation"
    headers = ["point", "comparison", *params, f"difference {horizon} (95% CI)"]
    headers += ["hazard ratio (95% CI)", "log-rank test"]
    table = _table(headers, rows, numeric_from=2)
    return (
        "<h3>Comparison of arms at each design point</h3>"
        + _fold("Comparison of arms per design point", table, len(rows))
        + '<p class="note">At each design point, the second arm against the first (the '
        "reference), both run on the same random numbers. Difference: percentage points of "
        "truces collapsed (second arm minus first) within the longest period both arms "
        "simulated, with Newcombe's 95% interval. Hazard ratio: how fast truces in the second "
        "arm collapsed relative to the first (below 1: more durable), by the log-rank "
        "estimator. " + _pairing_note(comparisons) + " With many design points, some "
        "intervals miss the true value by chance alone.</p>"
    )


def _grid(
    title: str, by: str, groups: Sequence[Any], measures: Sequence[tuple[str, Sequence[str]]]
) -> str:
    """A table of measures per group: groups as columns when few, else as rows."""
    names = [str(g) if by == "arm" else f"point {g}" for g in groups]
    if len(groups) <= MAX_GROUP_COLUMNS:
        rows = [[label, *values] for label, values in measures]
        return _table(["", *names], rows)
    rows = [[name, *(values[i] for _, values in measures)] for i, name in enumerate(names)]
    return _fold(title, _table([by, *(m for m, _ in measures)], rows), len(rows))


def _violations_tables(runs: pd.DataFrame, by: str) -> str:
    att = violations.attribution(runs, by=by)
    groups = list(att[by])
    origins = violations.violations_by_origin(runs, by=by).pivot(
        index=by, columns="origin", values="mean"
    )
    measures = [("violations per truce", [f"{v:.1f}" for v in att["violations"] / att["truces"]])]
    measures += [
        (f"… {charts.ORIGIN_LABELS.get(o, o)}", [f"{origins.loc[g, o]:.2f}" for g in groups])
        for o in violations.origin_columns(runs)
    ]
    records = att.to_dict("records")
    for what, label in (("detected", "detected"), ("attributed", "correctly attributed")):
        measures.append(
            (
                f"share {label}",
                [
                    _share_ci(r[f"{what}_share"], r[f"{what}_low"], r[f"{what}_high"])
                    for r in records
                ],
            )
        )
    if "retaliations" in runs:
        measures.append(
            (
                "retaliations against the wrong party",
                [f"{r['wrong_retaliations']:,} of {r['retaliations']:,}" for r in records],
            )
        )
    out = _grid("Violations and attribution per design point", by, groups, measures)
    parties = violations.violations_by_party(runs, by=by)
    if len(parties):
        wide = parties.pivot(index=by, columns="party", values="mean")
        party_measures = [
            (p, [f"{wide.loc[g, p]:.2f}" for g in groups]) for p in violations.party_columns(runs)
        ]
        out += "<h3>Violations per truce, by party</h3>" + _grid(
            "Violations by party per design point", by, groups, party_measures
        )
    return out + (
        '<p class="note">Violations per truce by origin are means over all simulated truces '
        "(retaliations count under the origin they answer). Detection and attribution are "
        "pooled over all violations, with 95% Wilson intervals that treat violations as "
        "independent, so they understate the uncertainty.</p>"
    )


def _duration(start: Any, end: Any) -> str | None:
    try:
        seconds = datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))
    except (TypeError, ValueError):
        return None
    total = int(seconds.total_seconds())
    return f"{total // 3600}h {total % 3600 // 60:02d}m {total % 60:02d}s"


_RUN_FIELDS = (
    ("kind", "kind of run"),
    ("status", "status"),
    ("seed", "root seed"),
    ("root_seed", "root seed"),
    ("replicates", "replicates per arm or design point"),
    ("chunk_size", "chunk size (replicates per chunk)"),
    ("chunk_seeds", "chunk seeds"),
    ("seeds", "seeds"),
    ("engine", "engine"),
    ("executor", "executor"),
    ("workers", "workers"),
    ("command", "command line"),
    ("git_commit", "git commit"),
    ("started", "started"),
    ("finished", "finished"),
    ("timings", "timings"),
)


def _plain_value(value: Any) -> str:
    if isinstance(value, Mapping | list | tuple):
        return yaml.safe_dump(value, sort_keys=False, allow_unicode=True).strip()
    return str(value)


def _provenance(manifest: Mapping[str, Any], scenario: Any) -> str:
    rows = [
        [label, _plain_value(manifest[key])]
        for key, label in _RUN_FIELDS
        if manifest.get(key) not in (None, "", [], {})
    ]
    took = _duration(manifest.get("started"), manifest.get("finished"))
    if took:
        rows.append(["time taken", took])
    out = "<h3>How it was run</h3>" + _table(None, rows, numeric_from=99)
    versions = manifest.get("versions") or manifest.get("packages") or {}
    if isinstance(versions, Mapping) and versions:
        out += "<h3>Package versions</h3>" + _table(
            ["package", "version"], versions.items(), numeric_from=99
        )
    shown = {k for k, _ in _RUN_FIELDS} | {"scenario", "versions", "packages"}
    rest = {k: v for k, v in manifest.items() if k not in shown}
    if rest:
        out += (
            "<details><summary>Everything else in the manifest</summary><pre>"
            + _e(
                yaml.safe_dump(rest, sort_keys=False, allow_unicode=True, default_flow_style=False)
            )
            + "</pre></details>"
        )
    if scenario:
        out = (
            "<h3>Resolved scenario</h3><pre>"
            + _e(yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True))
            + "</pre>"
            + out
        )
    return out


def _chart_html(chart: Chart, first: bool) -> str:
    # The section heading replaces the figure's own title (kept for PNG export).
    figure = go.Figure(chart.figure).update_layout(title=None, margin_t=50)
    height = (figure.layout.height or 540) - 30
    div = figure.to_html(
        full_html=False,
        include_plotlyjs=first,
        config=PLOTLY_CONFIG,
        div_id=f"chart-{chart.key}",
        default_width="100%",
        default_height=f"{height}px",
    )
    return (
        f'<section id="{_e(chart.key)}"><h2>{_e(chart.heading)}</h2>'
        f'<p class="caption">{_e(chart.caption)}</p><div class="chart">{div}</div></section>'
    )


def render(
    manifest: Mapping[str, Any],
    summary: Mapping[str, Any],
    runs: pd.DataFrame,
    design: Design,
    chart_list: Sequence[Chart],
) -> str:
    """The report page as one HTML string (pure: writes nothing).

    Args:
        manifest: the parsed manifest.json.
        summary: the summary dictionary (:func:`sim.analysis.summaries.summarize`).
        runs: the runs table.
        design: its grouping.
        chart_list: the charts, in order.

    Returns:
        A complete, self-contained HTML document.
    """
    scenario = manifest.get("scenario") if isinstance(manifest.get("scenario"), Mapping) else {}
    name = scenario.get("name") or manifest.get("scenario_name") or manifest.get("name") or ""
    description = scenario.get("description") or ""
    css = resources.files("sim").joinpath("assets/report.css").read_text(encoding="utf-8")
    sentences = english.plain_summary(dict(summary))
    groups = len(summary["groups"])
    if design.crossed:
        points = runs["point"].nunique()
        what = (
            f"{points:,} design point{'s' if points != 1 else ''} under each of "
            f"{len(design.arms)} arms ({', '.join(map(str, design.arms))})"
        )
    else:
        what = (
            f"{groups:,} design points"
            if design.is_sweep
            else (f"{groups} arms" if groups > 1 else "one arm")
        )
    violations_by = "arm" if design.crossed else design.by
    violations_note = (
        '<p class="note">Pooled over the design, per arm.</p>' if design.crossed else ""
    )
    status = manifest.get("status")
    warning = (
        f'<p class="note"><strong>Status: {_e(status)}.</strong> The run had not completed when '
        "this report was made; the numbers cover the truces simulated so far.</p>"
        if status not in (None, "complete")
        else ""
    )
    blocks = [_chart_html(c, first=(i == 0)) for i, c in enumerate(chart_list)]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Truce simulation report: {_e(name)}</title>
<style>
{css}
</style>
</head>
<body>
<main>
<header>
<h1>Truce simulation report: {_e(name)}</h1>
{f"<p>{_e(description)}</p>" if description else ""}
<p>{len(runs):,} simulated truces, {_e(what)}.</p>
{warning}
</header>
<section class="summary" id="summary">
<ul>
{"".join(f"<li>{_e(s)}</li>" for s in sentences)}
</ul>
</section>
<p class="note">Shares are of simulated truces, with 95% confidence intervals (CI). They describe
the model under this scenario's assumptions, not a forecast for a real truce.</p>
{"".join(blocks)}
<section id="tables">
<h2>The numbers</h2>
<h3>Collapse and survival</h3>
{_summary_table(summary)}
{_sensitivity_table(summary)}
{_comparison_table(summary)}
<h3>Violations and attribution</h3>
{violations_note}
{_violations_tables(runs, violations_by)}
</section>
<section id="scenario">
<h2>The scenario as run</h2>
{_provenance(manifest, scenario)}
</section>
</main>
</body>
</html>
"""


# --------------------------------------------------------------------------- writing


def png_support() -> str | None:
    """Why PNG export would fail here, or None if kaleido is importable."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return (
            "PNG export needs the kaleido package: install it with "
            "`pip install 'kaleido>=1'`; it also needs Chrome or Chromium "
            "(`apt-get install -y chromium`)."
        )
    return None


def export_pngs(chart_list: Sequence[Chart], out_dir: Path) -> list[Path]:
    """Write each chart to ``out_dir/<key>.png`` (1280 px wide) with kaleido.

    Args:
        chart_list: the charts.
        out_dir: the folder (created if missing).

    Returns:
        The files written.

    Raises:
        PngExportError: kaleido is missing or could not start a browser; the
            message says what to install.
    """
    problem = png_support()
    if problem:
        raise PngExportError(problem)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for chart in chart_list:
        path = out_dir / f"{chart.key}.png"
        try:
            data = chart.figure.to_image(
                format="png", width=1280, height=chart.figure.layout.height or 540, scale=2
            )
        except Exception as err:  # kaleido raises several kinds when no browser is found
            raise PngExportError(
                f"PNG export failed: {err}. kaleido needs Chrome or Chromium: "
                "`apt-get install -y chromium` (or `plotly_get_chrome`)."
            ) from err
        storage.atomic_write_bytes(path, data)
        written.append(path)
    return written


def build_report(results_dir: Path, png: bool = False) -> Path:
    """Write ``results_dir/report.html`` from the tables in the folder.

    Args:
        results_dir: ``results/<scenario>/<timestamp>/`` with manifest.json
            and runs/*.parquet (summary.json is used when present).
        png: also write each chart to ``results_dir/charts/<key>.png``. When
            that is not possible a :class:`PngExportWarning` says what to
            install; the HTML report is written all the same.

    Returns:
        The path of report.html.

    Raises:
        FileNotFoundError: if manifest.json or the runs parts are missing.
    """
    results_dir = Path(results_dir)
    manifest_path = results_dir / storage.MANIFEST
    if not manifest_path.exists():
        raise FileNotFoundError(f"no {storage.MANIFEST} in {results_dir}")
    manifest = storage.read_json(manifest_path)
    runs = storage.read_runs(results_dir)
    design = design_of(manifest, runs)
    if design.crossed:
        runs = in_arm_order(runs, design.arms)
    summary = load_summary(results_dir, runs, design)
    if design.is_sweep and "sensitivity" not in summary:
        indices = sensitivity.from_manifest(manifest, runs)  # per arm when crossed
        summary = {**summary, "sensitivity": indices} if indices else summary
    chart_list = report_charts(runs, design, summary.get("sensitivity"), summary.get("comparisons"))
    out = results_dir / REPORT
    storage.atomic_write_bytes(
        out, render(manifest, summary, runs, design, chart_list).encode("utf-8")
    )
    if png:
        try:
            export_pngs(chart_list, results_dir / CHARTS_DIR)
        except PngExportError as err:
            warnings.warn(str(err), PngExportWarning, stacklevel=2)
    return out
