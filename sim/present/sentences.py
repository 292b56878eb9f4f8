"""Sentences and numbers in words from a summary (``summary.json``).

Every number is formatted from the summary dictionary of
:func:`sim.analysis.summaries.summarize` itself, so that the text, the tables
and the JSON agree: shares as whole percentages (:func:`pct`), differences in
percentage points with a real minus sign (:func:`points`), p-values as
``p = 0.034`` or ``p < 0.001`` (:func:`p_value`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sim.present.text import CAUSE_PHRASES


def pct(share: float) -> str:
    """A share as a whole percentage, e.g. ``0.613 -> "61%"``."""
    return f"{share * 100:.0f}%"


def pct_range(low: float, high: float) -> str:
    """An interval of shares, e.g. ``"58–64%"``."""
    return f"{low * 100:.0f}–{high * 100:.0f}%"


def p_value(p: float) -> str:
    """A p-value in words, e.g. ``"p = 0.034"`` or ``"p < 0.001"``."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def share_text(share: float, low: float | None, high: float | None) -> str:
    """A share with its interval, e.g. ``"61% (58–64%)"``; the share alone without one."""
    if low is None or high is None:
        return pct(share)
    return f"{pct(share)} ({pct_range(low, high)})"


def _nearest(rows: Sequence[dict], horizon: int) -> dict:
    """The row at ``horizon``, or the nearest one available (the longer one on a tie)."""
    return min(rows, key=lambda r: (abs(r["horizon"] - horizon), -r["horizon"]))


def _headline(group: dict, horizon: int) -> dict:
    """The group's collapse row at ``horizon``, or the nearest one available."""
    return _nearest(group["collapse"], horizon)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def value_text(value: Any) -> str:
    """A parameter value for display: floats to four significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _describe_point(group: dict, by: str) -> str:
    params = group.get("parameters") or {}
    settings = ", ".join(f"{k} = {value_text(v)}" for k, v in params.items())
    return f"{by} {group[by]}" + (f": {settings}" if settings else "")


def _collapse_sentence(summary: dict, horizon: int, label: Any) -> str:
    groups, by = summary["groups"], summary["by"]
    level = f"{summary['level'] * 100:.0f}% CI"
    if by == "point" and len(groups) > 1:
        rows = [(g, _headline(g, horizon)) for g in groups]
        lo = min(rows, key=lambda gr: gr[1]["share"])
        hi = max(rows, key=lambda gr: gr[1]["share"])
        h = hi[1]["horizon"]
        return (
            f"Across {len(groups):,} design points, the share of simulated truces that "
            f"collapsed within {h} days ranged from {pct(lo[1]['share'])} "
            f"({_describe_point(lo[0], by)}; {level} {pct_range(lo[1]['low'], lo[1]['high'])}) "
            f"to {pct(hi[1]['share'])} ({_describe_point(hi[0], by)}; "
            f"{level} {pct_range(hi[1]['low'], hi[1]['high'])})."
        )
    parts = []
    for i, g in enumerate(groups):
        r = _headline(g, horizon)
        ci = f"({level} {pct_range(r['low'], r['high'])})"
        if len(groups) == 1:
            parts.append(
                f"Of {r['n']:,} simulated truces, {pct(r['share'])} collapsed within "
                f"{r['horizon']} days {ci}"
            )
        elif i == 0:
            parts.append(
                f"{_cap(label(g))}, {pct(r['share'])} of {r['n']:,} simulated truces collapsed "
                f"within {r['horizon']} days {ci}"
            )
        else:
            parts.append(f"{label(g)}, {pct(r['share'])} of {r['n']:,} {ci}")
    return "; ".join(parts) + "."


def _median_sentence(summary: dict, label: Any) -> str:
    groups = summary["groups"]
    if len(groups) == 1:
        g = groups[0]
        if g["median_days_held_reached"]:
            return (
                f"Half of the simulated truces had collapsed by day "
                f"{g['median_days_held']:.0f} (Kaplan–Meier median)."
            )
        return f"More than half of the simulated truces still held at day {g['horizon']}."

    def phrase(g: dict) -> str:
        if g["median_days_held_reached"]:
            return f"{g['median_days_held']:.0f} days {label(g)}"
        return f"more than {g['horizon']} days (the end of the simulation) {label(g)}"

    return "Median time a truce held (Kaplan–Meier): " + "; ".join(map(phrase, groups)) + "."


def _cause_sentence(summary: dict, label: Any) -> str:
    groups = summary["groups"]

    def phrase(g: dict) -> str:
        where = "" if len(groups) == 1 else f" {label(g)}"
        if not g["causes"]:
            return f"none{where} (no truce collapsed)"
        top = g["causes"][0]
        name = CAUSE_PHRASES.get(top["cause"], top["cause"])
        return f"{name}{where} ({pct(top['share'])} of {g['collapsed']:,} collapses)"

    return "The most common cause of collapse was " + "; ".join(map(phrase, groups)) + "."


def points(x: float) -> str:
    """Percentage points with a real minus sign, e.g. ``-0.28 -> "−28"``."""
    return f"{x * 100:+.0f}".replace("-", "−")


def difference_text(d: Mapping[str, Any]) -> str:
    """A difference of shares and its interval in points, e.g. ``"−28 (−35 to −21)"``.

    Args:
        d: a row of a comparison's ``differences`` (``difference``, ``low``,
            ``high``); a missing (None) value shows as ``—``.
    """

    def text(x: float | None) -> str:
        return "—" if x is None else points(x)

    return f"{text(d['difference'])} ({text(d['low'])} to {text(d['high'])})"


def _comparison_sentence(c: dict, label: Any, horizon: int) -> str:
    level = f"{c['level'] * 100:.0f}% CI"
    text = ""
    if c["hazard_ratio"] is not None and c["hazard_ratio_low"] is not None:
        text = (
            f"Truces {label(c['b'])} collapsed at {c['hazard_ratio']:.2f} times the "
            f"rate of truces {label(c['a'])} (hazard ratio "
            f"{c['hazard_ratio']:.2f}, {level} {c['hazard_ratio_low']:.2f}–"
            f"{c['hazard_ratio_high']:.2f}"
            + (f"; log-rank {p_value(c['logrank_p'])}" if c["logrank_p"] is not None else "")
            + "). "
        )
    diffs = c["differences"]
    if diffs:
        d = _nearest(diffs, horizon)
        text += (
            f"Within {d['horizon']} days, the share collapsed differed by "
            f"{points(d['difference'])} percentage points ({level} "
            f"{points(d['low'])} to {points(d['high'])})."
        )
    return text.strip()


def plain_summary(
    summary: dict[str, Any],
    horizon: int = 90,
    labels: Mapping[Any, str] | None = None,
) -> list[str]:
    """Plain-language sentences from a :func:`~sim.analysis.summaries.summarize` dictionary.

    Every number is formatted from ``summary`` itself, so the text and the
    JSON agree (shares as whole percentages, see :func:`pct`).

    Args:
        summary: the output of :func:`~sim.analysis.summaries.summarize` (or a
            loaded summary.json).
        horizon: the headline horizon in days (the nearest available is used).
        labels: optional phrases for arms, e.g. ``{"unmonitored": "without
            monitors"}``; by default an arm reads as ``in the “name” arm``.

    Returns:
        A few sentences: collapse share at the headline horizon per group,
        the Kaplan–Meier medians, the most common cause of collapse, and for
        each comparison the hazard ratio and the difference of shares.
    """
    by = summary["by"]
    labels = dict(labels or {})

    def label(group_or_value: Any) -> str:
        value = group_or_value[by] if isinstance(group_or_value, dict) else group_or_value
        if value in labels:
            return labels[value]
        if by == "arm":
            return f"in the “{value}” arm"
        return f"at {by} {value}"

    if summary.get("arms"):
        return _crossed_sentences(summary, horizon, labels)
    sentences = [_collapse_sentence(summary, horizon, label)]
    if by != "point" or len(summary["groups"]) == 1:
        sentences += [_median_sentence(summary, label), _cause_sentence(summary, label)]
    sentences += [_comparison_sentence(c, label, horizon) for c in summary.get("comparisons", [])]
    return [s for s in sentences if s]


def _crossed_sentences(summary: dict, horizon: int, labels: Mapping[Any, str]) -> list[str]:
    """Sentences for a crossed design: each arm's range over the points, then the contrasts."""

    def arm_label(arm: str) -> str:
        return labels.get(arm, f"in the “{arm}” arm")

    level = f"{summary['level'] * 100:.0f}% CI"
    points_n = len({g["point"] for g in summary["groups"]})
    sentences = []
    for arm in summary["arms"]:
        rows = [(g, _headline(g, horizon)) for g in summary["groups"] if g["arm"] == arm]
        if not rows:
            continue
        lo = min(rows, key=lambda gr: gr[1]["share"])
        hi = max(rows, key=lambda gr: gr[1]["share"])
        sentences.append(
            f"{_cap(arm_label(arm))}, the share of simulated truces that collapsed within "
            f"{hi[1]['horizon']} days ranged across {points_n:,} design points from "
            f"{pct(lo[1]['share'])} ({_describe_point(lo[0], 'point')}; {level} "
            f"{pct_range(lo[1]['low'], lo[1]['high'])}) to {pct(hi[1]['share'])} "
            f"({_describe_point(hi[0], 'point')}; {level} "
            f"{pct_range(hi[1]['low'], hi[1]['high'])})."
        )
    ref = summary["arms"][0]
    for arm in summary["arms"][1:]:
        found = [
            c
            for c in summary["comparisons"]
            if c["b"] == arm and c["hazard_ratio"] is not None and c["hazard_ratio_low"] is not None
        ]
        if not found:
            continue
        lo = min(found, key=lambda c: c["hazard_ratio"])
        hi = max(found, key=lambda c: c["hazard_ratio"])

        def where(c: dict) -> str:
            return _describe_point({"point": c["point"], **c}, "point")

        def ratio(c: dict) -> str:
            return (
                f"{c['hazard_ratio']:.2f}, {level} {c['hazard_ratio_low']:.2f}–"
                f"{c['hazard_ratio_high']:.2f}, at {where(c)}"
            )

        if lo is hi:
            span, detail = f"{lo['hazard_ratio']:.2f} times", f"hazard ratio {ratio(lo)}"
        else:
            span = f"between {lo['hazard_ratio']:.2f} and {hi['hazard_ratio']:.2f} times"
            detail = f"hazard ratios; lowest {ratio(lo)}; highest {ratio(hi)}"
        sentences.append(
            f"Truces {arm_label(arm)} collapsed at {span} the rate of truces "
            f"{arm_label(ref)} across the design ({detail})."
        )
    return sentences


# ---------------------------------------------------------------- sensitivity in words

OUTPUT_PHRASES: dict[str, str] = {
    "collapse_share": "the share of truces collapsed within the horizon",
    "mean_days_held": "the mean days held",
}
"""The outputs of the sensitivity indices (:data:`sim.analysis.sensitivity.OUTPUTS`) in words."""


def _signed(x: float, digits: int) -> str:
    """A number with a real minus sign, e.g. ``-0.05 -> "−0.05"``."""
    return f"{x:.{digits}f}".replace("-", "−")


def _index_digits(method: str, output: str) -> int:
    """Decimals of an index, as the tables show it (Sobol 2; Morris 3 for shares, 1 for days)."""
    if method == "sobol":
        return 2
    return 3 if output == "collapse_share" else 1


def _index_text(symbol: str, value: float, conf: float | None, digits: int, level: str) -> str:
    """An index with its interval, e.g. ``"ST = 0.62, 95% CI 0.47 to 0.77"``."""
    text = f"{symbol} = {_signed(value, digits)}"
    if conf is None:
        return text + ", no interval"
    low, high = value - conf, value + conf
    return text + f", {level} {_signed(low, digits)} to {_signed(high, digits)}"


def sensitivity_sentences(sensitivity: Mapping[str, Any]) -> list[str]:
    """Which lever matters most, in words, for each output (and arm) of a sensitivity analysis.

    The levers are ranked by :func:`sim.analysis.sensitivity.leading_levers`
    (Sobol's total index ``ST``, Morris's ``μ*``), which also says when the
    first two are too close for their intervals to rank them: the sentence
    then warns that the ranking could be noise.

    Args:
        sensitivity: the indices of :func:`sim.analysis.sensitivity.analyze`
            (summary.json's ``sensitivity``).

    Returns:
        One sentence (with its warning, if any) per output, per arm in a
        crossed design; numbers rounded as the tables round them.
    """
    from sim.analysis.sensitivity import leading_levers

    method = sensitivity["method"]
    level = f"{sensitivity['level'] * 100:.0f}% CI"
    symbol = "ST" if method == "sobol" else "μ*"
    name = "total Sobol index" if method == "sobol" else "Morris mean absolute effect"
    out = []
    for lead in leading_levers(sensitivity):
        output = OUTPUT_PHRASES.get(lead["output"], lead["output"])
        where = f"in the “{lead['arm']}” arm, " if "arm" in lead else ""
        digits = _index_digits(method, lead["output"])
        if lead["lever"] is None:
            out.append(
                _cap(
                    f"{where}{output} took the same value at every design point, "
                    "so no lever can be ranked for it."
                )
            )
            continue
        first = _index_text(symbol, lead["value"], lead["conf"], digits, level)
        if lead["runner_up"] is None:
            out.append(
                _cap(
                    f"{where}the one lever swept, {lead['lever']}, has a {name} for "
                    f"{output} of {first.removeprefix(symbol + ' = ')}."
                )
            )
            continue
        second = _index_text(
            symbol, lead["runner_up_value"], lead["runner_up_conf"], digits, level
        ).replace(f", {level} ", ", ")
        sentence = (
            f"{where}the lever that matters most for {output} is {lead['lever']} "
            f"({name} {first}), ahead of {lead['runner_up']} ({second})."
        )
        if lead["unclear"]:
            if lead["margin"] is None:
                why = "without intervals for both, the gap between them cannot be judged"
            else:
                why = (
                    f"the gap between the two ({_signed(lead['gap'], digits)}) is no larger "
                    f"than their intervals' combined half-width ({_signed(lead['margin'], digits)})"
                )
            sentence += (
                f" Warning: this ranking could be noise: {why}; more design points and "
                "more replicates per point would tell them apart."
            )
        out.append(_cap(sentence))
    return out


# ---------------------------------------------------------------- scenario discovery in words

_COMPARED: dict[str, str] = {"<=": "at most", ">=": "at least", "<": "fewer than", ">": "more than"}
"""A target's comparison in words (:mod:`sim.analysis.discovery`)."""


def lever_words(path: str) -> str:
    """A swept parameter in words, from the schema's description of its field.

    ``truce.loophole_width`` → "the share of sponsors' strike tempo that continues
    under the exemptions"; an item of a list names its item:
    ``factions.faction_b.entanglement`` → "… (faction_b)", and a description that
    says "its" or "them" names its section: ``deconfliction.level`` → "the
    coordination between them (…) (deconfliction)". A path the schema does not
    know stays as it is.
    """
    import re

    for row in _parameter_rows():
        pattern = re.escape(row["path"]).replace(r"\[\]\.", r"\.([^.]+)\.")
        match = re.fullmatch(pattern, path)
        if match and row["description"]:
            words = row["description"]
            if not words.startswith(("the ", "a ", "an ")):
                words = "the " + words
            items = [g for g in match.groups() if g]
            if not items and _PRONOUNS & set(re.findall(r"[a-z]+", words)):
                items = [path.split(".")[0]]  # "its", "them": whose, e.g. the government's
            return words + (f" ({', '.join(items)})" if items else "")
    return path


_PRONOUNS = frozenset({"it", "its", "them", "they", "their"})
"""Words of a description that need their owner named (:func:`lever_words`)."""


@functools.cache
def _parameter_rows() -> list[dict[str, Any]]:
    """The schema's parameters (read once)."""
    from sim.scenario.schema import parameters

    return parameters()


def bound_text(value: Any) -> str:
    """A box limit for a sentence: two decimals up to 1 in size, else three significant digits."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.2f}" if abs(value) <= 1 else f"{value:.3g}"


def target_words(target: Mapping[str, Any], horizon: int) -> str:
    """A discovery target in words, e.g. "at most 30% of the truces collapsed within 90 days"."""
    compared, column, t = _COMPARED[target["op"]], target["column"], target["threshold"]
    if column == "collapse_share":
        return f"{compared} {pct(t)} of the truces collapsed within {horizon} days"
    if column == "held_share":
        return f"{compared} {pct(t)} of the truces still held at day {horizon}"
    return f"the truces held {compared} {t:g} days on average (counting up to day {horizon})"


def restriction_words(restriction: Mapping[str, Any]) -> str:
    """One restriction of a box in words, e.g. "the … was at most 0.34"."""
    lever = lever_words(restriction["lever"])
    if restriction.get("values") is not None:
        return f"{lever} was one of {', '.join(map(str, restriction['values']))}"
    low, high = restriction["low"], restriction["high"]
    if low is not None and high is not None:
        return f"{lever} was between {bound_text(low)} and {bound_text(high)}"
    if high is not None:
        return f"{lever} was at most {bound_text(high)}"
    return f"{lever} was at least {bound_text(low)}"


def _and(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def discovery_sentence(found: Mapping[str, Any], analysis: Mapping[str, Any]) -> str:
    """The quotable sentence of one analysis of :func:`sim.analysis.discovery.discover`.

    E.g. "At most 30% of the truces collapsed within 90 days in 88% of the 17 simulated
    settings where the share of the front the mission observes was at least 0.13 and
    the share of sponsors' strike tempo … was at most 0.63 (against 50% of all 30
    settings); that box holds 100% of the settings where at most 30% … ." A
    restriction whose quasi-p-value is not below the significance level is named in
    a second sentence.
    """
    target = target_words(found["target"], found["horizon"])
    box = analysis["box"]
    where = f"in the “{analysis['arm']}” arm, " if analysis.get("arm") is not None else ""
    n = analysis["points"]
    restrictions = box["restrictions"]
    if not restrictions:
        return _cap(
            f"{where}no box of levers does better than the whole design: {target} in "
            f"{pct(analysis['base_rate'])} of the {n:,} simulated settings."
        )
    sentence = _cap(
        f"{where}{target} in {pct(box['density'])} of the {box['points']:,} simulated "
        f"setting{'s' if box['points'] != 1 else ''} where "
        f"{_and([restriction_words(r) for r in restrictions])} (against "
        f"{pct(analysis['base_rate'])} of all {n:,} settings); that box holds "
        f"{pct(box['coverage'])} of the settings where {target}."
    )
    weak = [r for r in restrictions if not r["significant"]]
    if weak:
        level = found.get("significance", 0.05)
        named = _and(
            [
                f"{lever_words(r['lever'])} (quasi-p "
                + ("not computed" if r["qp"] is None else f"= {r['qp']:.2f}")
                + ")"
                for r in weak
            ]
        )
        sentence += (
            f" The restriction on {named} is not significant at {level:g}: "
            "it may be noise of the design."
        )
    return sentence


def rule_words(rule: Mapping[str, Any]) -> str:
    """A CART rule's conditions in words, e.g. "loophole ≤ 0.54 and coverage > 0.11"."""
    parts = []
    for c in rule["conditions"]:
        name = c["lever"]
        if c["above"] is not None and c["at_most"] is not None:
            parts.append(f"{bound_text(c['above'])} < {name} ≤ {bound_text(c['at_most'])}")
        elif c["at_most"] is not None:
            parts.append(f"{name} ≤ {bound_text(c['at_most'])}")
        else:
            parts.append(f"{name} > {bound_text(c['above'])}")
    return " and ".join(parts) if parts else "every point"
