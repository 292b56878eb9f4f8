"""The report's tables as data (:class:`sim.present.pages.Table`), drawn by the template macros.

Each function reads the summary dictionary, the runs or the manifest and
returns the cells as text; the headings and notes around the tables are in
``templates/report.html.j2``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import yaml

from sim.analysis import summaries, violations
from sim.present import sentences
from sim.present.pages import Table, table
from sim.present.report.design import is_crossed
from sim.present.report.figures import index_arms
from sim.present.text import origin_label

MAX_GROUP_COLUMNS = 4
"""Measures per group show the groups as columns up to this many, as rows beyond."""

RUN_FIELDS = (
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
"""The manifest's fields shown in "How it was run", with their labels, in order."""


def share_ci(share: float | None, low: float | None, high: float | None) -> str:
    """A share with its interval ("34% (31–37%)"), or a dash when unknown."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return sentences.share_text(share, low, high)


def summary_table(summary: Mapping[str, Any]) -> Table:
    """Collapse within each horizon, median days held and collapse day, per group."""
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
            share_ci(at[h]["share"], at[h]["low"], at[h]["high"]) if h in at else "–"
            for h in horizons
        ]
        median = (
            f"{g['median_days_held']:.0f}"
            if g["median_days_held_reached"]
            else f"more than {g['horizon']}"
        )
        collapse_day = g.get("median_collapse_day")
        settings = [sentences.value_text((g.get("parameters") or {}).get(p, "–")) for p in params]
        rows.append(
            [*(g.get(k, "–") for k in keys), *settings, f"{g['replicates']:,}", *shares, median]
            + ["–" if collapse_day is None else f"{collapse_day:g}"]
        )
    what = "design point and arm" if crossed else "design point"
    return table(headers, rows, numeric_from=len(keys), fold=f"Collapse and survival per {what}")


def sensitivity_table(found: Mapping[str, Any]) -> Table:
    """The sensitivity indices, one row per output and parameter (and arm when crossed)."""
    level = f"{found['level'] * 100:.0f}% CI"

    def cell(value: float | None, conf: float | None = None, digits: int = 2) -> str:
        if value is None:
            return "–"
        return f"{value:.{digits}f}" + ("" if conf is None else f" ± {conf:.{digits}f}")

    arms = index_arms(found)
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
    return table(headers, rows, numeric_from=len(keys))


def hazard_ratio_text(c: Mapping[str, Any]) -> str:
    """A comparison's hazard ratio with its interval ("0.42 (0.35–0.51)"), or a dash."""
    if c["hazard_ratio"] is None:
        return "–"
    text = f"{c['hazard_ratio']:.2f}"
    if c["hazard_ratio_low"] is not None:
        text += f" ({c['hazard_ratio_low']:.2f}–{c['hazard_ratio_high']:.2f})"
    return text


def pairing_note(comparisons: Sequence[Mapping[str, Any]]) -> str:
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


def comparison_table(comparisons: Sequence[Mapping[str, Any]]) -> Table:
    """Each arm against the first: hazard ratio, log-rank test, differences per horizon."""
    horizons = sorted({d["horizon"] for c in comparisons for d in c["differences"]})
    rows = []
    for c in comparisons:
        p = "–" if c["logrank_p"] is None else sentences.p_value(c["logrank_p"])
        at = {d["horizon"]: d for d in c["differences"]}
        diffs = [sentences.difference_text(at[h]) if h in at else "–" for h in horizons]
        rows.append([f"{c['b']} vs {c['a']}", hazard_ratio_text(c), p, *diffs])
    headers = ["comparison", "hazard ratio (95% CI)", "log-rank test"]
    headers += [f"difference within {h} days" for h in horizons]
    return table(headers, rows)


def crossed_comparison_table(comparisons: Sequence[Mapping[str, Any]]) -> Table:
    """The arms compared at each design point of a crossed design, one row per point and arm."""
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
        p = "–" if c["logrank_p"] is None else sentences.p_value(c["logrank_p"])
        if d is None:
            diff = "–"
        else:
            diff = sentences.difference_text(d) + ("" if same else f" within {d['horizon']} days")
        settings = [sentences.value_text((c.get("parameters") or {}).get(k, "–")) for k in params]
        rows.append(
            [c.get("point", "–"), f"{c['b']} vs {c['a']}", *settings, diff]
            + [hazard_ratio_text(c), p]
        )
    horizon = f"within {next(iter(common))} days" if same else "at the end of the simulation"
    headers = ["point", "comparison", *params, f"difference {horizon} (95% CI)"]
    headers += ["hazard ratio (95% CI)", "log-rank test"]
    return table(headers, rows, numeric_from=2, fold="Comparison of arms per design point")


def grid(
    title: str, by: str, groups: Sequence[Any], measures: Sequence[tuple[str, Sequence[str]]]
) -> Table:
    """A table of measures per group: groups as columns when few, else as rows (folded)."""
    names = [str(g) if by == "arm" else f"point {g}" for g in groups]
    if len(groups) <= MAX_GROUP_COLUMNS:
        return table(["", *names], [[label, *values] for label, values in measures])
    rows = [[name, *(values[i] for _, values in measures)] for i, name in enumerate(names)]
    return table([by, *(m for m, _ in measures)], rows, fold=title)


def violations_table(runs: pd.DataFrame, by: str) -> Table:
    """Violations per truce by origin, the shares detected and attributed, wrong retaliations."""
    att = violations.attribution(runs, by=by)
    groups = list(att[by])
    origins = violations.violations_by_origin(runs, by=by).pivot(
        index=by, columns="origin", values="mean"
    )
    measures = [("violations per truce", [f"{v:.1f}" for v in att["violations"] / att["truces"]])]
    measures += [
        (f"… {origin_label(o)}", [f"{origins.loc[g, o]:.2f}" for g in groups])
        for o in violations.origin_columns(runs)
    ]
    records = att.to_dict("records")
    for what, label in (("detected", "detected"), ("attributed", "correctly attributed")):
        measures.append(
            (
                f"share {label}",
                [
                    share_ci(r[f"{what}_share"], r[f"{what}_low"], r[f"{what}_high"])
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
    return grid("Violations and attribution per design point", by, groups, measures)


def party_table(runs: pd.DataFrame, by: str) -> Table | None:
    """Violations per truce by party, per group (None when the runs have no party columns)."""
    parties = violations.violations_by_party(runs, by=by)
    if not len(parties):
        return None
    groups = list(dict.fromkeys(violations.attribution(runs, by=by)[by]))
    wide = parties.pivot(index=by, columns="party", values="mean")
    measures = [
        (p, [f"{wide.loc[g, p]:.2f}" for g in groups]) for p in violations.party_columns(runs)
    ]
    return grid("Violations by party per design point", by, groups, measures)


def duration(start: Any, end: Any) -> str | None:
    """The time between two ISO timestamps as "1h 02m 03s" (None if either is unreadable)."""
    try:
        seconds = datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))
    except (TypeError, ValueError):
        return None
    total = int(seconds.total_seconds())
    return f"{total // 3600}h {total % 3600 // 60:02d}m {total % 60:02d}s"


def plain_value(value: Any) -> str:
    """A manifest value as text: mappings and lists as YAML."""
    if isinstance(value, Mapping | list | tuple):
        return yaml.safe_dump(value, sort_keys=False, allow_unicode=True).strip()
    return str(value)


def run_table(manifest: Mapping[str, Any]) -> Table:
    """How the results were run: the manifest's known fields and the time taken."""
    rows = [
        [label, plain_value(manifest[key])]
        for key, label in RUN_FIELDS
        if manifest.get(key) not in (None, "", [], {})
    ]
    took = duration(manifest.get("started"), manifest.get("finished"))
    if took:
        rows.append(["time taken", took])
    return table(None, rows, numeric_from=99)


def versions_table(manifest: Mapping[str, Any]) -> Table | None:
    """The package versions the manifest records, if any."""
    versions = manifest.get("versions") or manifest.get("packages") or {}
    if not isinstance(versions, Mapping) or not versions:
        return None
    return table(["package", "version"], versions.items(), numeric_from=99)


def other_manifest_yaml(manifest: Mapping[str, Any]) -> str | None:
    """Everything else in the manifest, as YAML (None when nothing is left)."""
    shown = {k for k, _ in RUN_FIELDS} | {"scenario", "versions", "packages"}
    rest = {k: v for k, v in manifest.items() if k not in shown}
    if not rest:
        return None
    return yaml.safe_dump(rest, sort_keys=False, allow_unicode=True, default_flow_style=False)
