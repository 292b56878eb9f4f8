"""Story mode: one seeded truce told day by day, in words and as an annotated chart.

A story is the single truce of a one-truce run with the given seed (what
``truce run SCENARIO --seed S -n 1`` simulates), so it is cheap to find one
that collapses or one that survives, and the same seed always tells the same
story. By default it is short enough to read aloud in a five-minute slot
(:data:`DEFAULT_MINUTES` at :data:`WORDS_PER_MINUTE`): the most telling
eventful days (:func:`beat_days`, at most :data:`DEFAULT_BEATS`) are told in
full and the days between them summed up in one line per stretch; ``beats=None,
minutes=None`` tells every day. :func:`write_html` writes a self-contained page (plotly.js embedded,
so it opens offline) from ``templates/story.html.j2``, with every scenario
string HTML-escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sim.experiment.runner import Trace, forget, trace
from sim.model.model import CeasefireModel
from sim.present import pages
from sim.present.text import cause_phrase, narrate_day, records, with_text
from sim.scenario.schema import Scenario

Ending = Literal["collapse", "survive"]
ENDINGS: tuple[str, ...] = ("collapse", "survive")


class NoSuchStory(LookupError):
    """No seed in the searched range gives a truce that ends the way asked."""


@dataclass
class Story:
    """One truce told day by day."""

    trace: Trace
    lines: list[str]

    @property
    def collapsed(self) -> bool:
        """Whether this truce collapsed within the horizon."""
        return bool(self.trace.outcome["collapsed"])

    @property
    def text(self) -> str:
        """The whole story as plain text, one paragraph a line."""
        return "\n".join(self.lines)


def _one_truce(scenario: Scenario) -> Scenario:
    return scenario.model_copy(update={"replicates": 1})


def ends_in_collapse(scenario: Scenario, seed: int) -> bool:
    """Whether the one truce of ``scenario`` with ``seed`` collapses (fast, nothing recorded)."""
    model = CeasefireModel(_one_truce(scenario), replicates=1, seed=seed).run()
    collapsed = bool(model.collapse_day[0] > 0)
    forget(model)  # Mesa keeps every model alive otherwise (see sim.experiment.runner.forget)
    return collapsed


def find_seed(scenario: Scenario, ending: Ending | str, start: int = 0, limit: int = 1000) -> int:
    """The first seed from ``start`` whose truce ends in ``ending``.

    Args:
        scenario: the validated scenario.
        ending: ``"collapse"`` or ``"survive"`` (held to the horizon).
        start: first seed tried.
        limit: how many seeds to try.

    Returns:
        The seed.

    Raises:
        ValueError: for an unknown ``ending``.
        NoSuchStory: if none of the ``limit`` seeds ends that way.
    """
    if ending not in ENDINGS:
        raise ValueError(f"ending must be one of {', '.join(ENDINGS)}, not {ending!r}")
    want = ending == "collapse"
    for seed in range(start, start + limit):
        if ends_in_collapse(scenario, seed) == want:
            return seed
    verb = "collapses" if want else "survives"
    raise NoSuchStory(f"no truce that {verb} among seeds {start}–{start + limit - 1}")


#: Words read aloud per minute (a calm reading pace for a class).
WORDS_PER_MINUTE = 150
#: The default story fits a five-minute slot read aloud.
DEFAULT_MINUTES = 5.0
#: Eventful days told in full by default; the others are summed up in a line per stretch.
DEFAULT_BEATS = 14


def tell(
    scenario: Scenario,
    seed: int,
    beats: int | None = DEFAULT_BEATS,
    minutes: float | None = DEFAULT_MINUTES,
) -> Story:
    """Simulate the one truce of ``scenario`` with ``seed`` and tell it day by day.

    Args:
        scenario: the validated scenario.
        seed: the truce's seed.
        beats: how many eventful days to tell in full (the most telling ones, see
            :func:`beat_days`); None tells every day.
        minutes: the longest the story may take read aloud at :data:`WORDS_PER_MINUTE`
            (fewer beats are told until it fits); None for no limit.
    """
    tr = trace(_one_truce(scenario), seed=seed, replicate=0)
    tr.events = with_text(tr.events, tr.scenario)
    return Story(tr, story_lines(tr, beats, minutes))


def _quiet(first: int, last: int) -> str:
    if first == last:
        return f"Day {first}: no violations."
    return f"Days {first}–{last}: no violations."


def _by_day(tr: Trace) -> dict[int, list[dict[str, Any]]]:
    by_day: dict[int, list[dict[str, Any]]] = {}
    for event in records(tr.events):
        by_day.setdefault(int(event["day"]), []).append(event)
    return by_day


def _last_day(tr: Trace) -> int:
    out = tr.outcome
    return int(out["collapse_day"]) if out["collapsed"] else int(out["horizon"])


def _intensity(event: dict[str, Any]) -> int:
    value = event.get("intensity")
    return int(value) if isinstance(value, int | float) and value == value else 1


#: Kinds of events that turn a story (besides collapse): each makes its day a likely beat.
TURNS = ("offensive", "monitor_withdrawal", "rejection", "conditional", "shift", "sanction")


def _weight(day: int, rows: list[dict[str, Any]], first: int, last: int, end: int) -> float:
    """How telling one eventful day is (the higher, the sooner it is told in full)."""
    kinds = [str(r["kind"]) for r in rows]
    score = float(len(rows))
    if "collapse" in kinds or "theatre_collapse" in kinds:
        score += 1000  # the ending, and a zone's fall
    if day == first:
        score += 200  # how it began
    score += 40 * sum(k in TURNS for k in kinds)
    for r in rows:
        if r.get("kind") == "retaliation":
            score += 60 if r.get("wrong") is True else 20  # a retaliation on the wrong party
        blamed, culprit = r.get("blamed") or "", r.get("culprit") or r.get("actor") or ""
        if blamed and blamed != culprit and r.get("admitted") is not True:
            score += 30  # blamed on a party that did not do it
    if day >= last:  # the spiral: the last eventful days before a collapse
        score += 50
    return score - day / (10 * end)  # ties: the earlier day


def beat_days(tr: Trace) -> list[int]:
    """The truce's eventful days, most telling first.

    The collapse day (and any zone's fall) first, then how it began (the first
    violation), then the days with turns (offensives, the mission's withdrawal,
    shifts, sanctions), retaliations (most of all against the wrong party), blame
    on a party that did not do it, the last days before a collapse, and the
    busiest days; ties go to the earlier day.
    """
    end = _last_day(tr)
    by_day = {d: rows for d, rows in _by_day(tr).items() if 0 < d <= end}
    days = sorted(by_day)
    if not days:
        return []
    spiral = days[-3] if tr.outcome["collapsed"] and len(days) >= 3 else days[-1]
    if not tr.outcome["collapsed"]:
        spiral = end + 1
    weight = {d: _weight(d, by_day[d], days[0], spiral, end) for d in days}
    return sorted(days, key=lambda d: -weight[d])


def _stretch(first: int, last: int, by_day: dict[int, list[dict[str, Any]]]) -> str:
    """One line for days not told in full: how much happened, or that nothing did."""
    days = [d for d in range(first, last + 1) if d in by_day]
    acts = [r for d in days for r in by_day[d] if r["kind"] in ("violation", "retaliation")]
    if not acts:
        return _quiet(first, last)
    span = f"Day {first}" if first == last else f"Days {first}–{last}"
    n = sum(_intensity(r) for r in acts)
    answers = sum(r["kind"] == "retaliation" for r in acts)
    text = f"{span}: {n} violation{'s' * (n != 1)}"
    if first != last:
        text += f" on {len(days)} day{'s' * (len(days) != 1)}"
    if answers:
        text += f", {answers} of them retaliation{'s' * (answers != 1)}"
    return text + "."


def story_lines(tr: Trace, beats: int | None = None, minutes: float | None = None) -> list[str]:
    """The paragraphs of a story: a heading, the eventful days, quiet stretches, the end.

    Args:
        tr: a traced truce (from :func:`sim.experiment.runner.trace`).
        beats: how many eventful days to tell in full, the most telling first
            (:func:`beat_days`); the days between are summed up in one line per
            stretch. None tells every eventful day.
        minutes: the longest the story may take read aloud at
            :data:`WORDS_PER_MINUTE`: the least telling beats are dropped until it
            fits (the collapse day is always told). None for no limit.

    Returns:
        Plain-text paragraphs.
    """
    ranked = beat_days(tr)
    told = ranked if beats is None else ranked[: max(beats, 0)]
    lines = _lines(tr, set(told))
    if minutes is not None:
        budget = minutes * WORDS_PER_MINUTE
        keep = 1 if tr.outcome["collapsed"] else 0  # the collapse day ranks first
        while len(told) > keep and _words(lines) > budget:
            told = told[:-1]
            lines = _lines(tr, set(told))
    return lines


def _words(lines: list[str]) -> int:
    return sum(len(line.split()) for line in lines)


def _lines(tr: Trace, told: set[int]) -> list[str]:
    """The story telling the days in ``told`` in full and summing up the rest."""
    s = tr.scenario
    lines = [f"{s.name}: {s.description}".rstrip(": ") + f" (seed {tr.seed})"]
    by_day = _by_day(tr)
    last_day = _last_day(tr)
    lead = [d for d in by_day if d <= 0]
    if lead:
        grabs = sum(len(by_day[d]) for d in lead)
        lines.append(
            f"Before the start ({s.truce.lead_time} days of lead time): "
            f"{grabs} land-grab attacks as every side takes ground while it still can."
        )
    every = told >= {d for d in by_day if 0 < d <= last_day}
    since = 1  # the first day not yet in the story
    for day in range(1, last_day + 1):
        rows = by_day.get(day)
        if not rows or (day not in told and not every):
            continue
        if since < day:
            lines.append(_stretch(since, day - 1, by_day))
        lines.append(narrate_day(day, rows, s))
        since = day + 1
    if since <= last_day:
        lines.append(_stretch(since, last_day, by_day))
    lines.append(ending_line(tr))
    return lines


def ending_line(tr: Trace) -> str:
    """The last line: how the truce ended and what the violations were."""
    out = tr.outcome
    total = int(out["violations"])
    if out["collapsed"]:
        head = (
            f"The truce collapsed on day {int(out['collapse_day'])} — "
            f"cause: {cause_phrase(str(out['cause']))}"
        )
        if int(out["wrong_retaliations"]):
            head += (
                f", with {int(out['wrong_retaliations'])} retaliation(s) against the wrong party"
            )
        return head + f". {total} violations in all."
    return f"The truce held for all {int(out['horizon'])} days, despite {total} violations."


# --------------------------------------------------------------------------- HTML page


def render_html(story: Story) -> str:
    """The story page: heading, outcome, annotated timeline and the day-by-day text."""
    from sim.present.charts import timeline_chart

    tr = story.trace
    s = tr.scenario
    figure = timeline_chart(tr.days, tr.events)
    days = [{"text": line, "quiet": line.endswith("no violations.")} for line in story.lines[1:-1]]
    return pages.render_page(
        "story.html.j2",
        name=s.name,
        description=s.description,
        seed=tr.seed,
        state="collapsed" if story.collapsed else "held",
        ending=story.lines[-1],
        chart=pages.chart_div(figure, config={"responsive": True}, height="720px"),
        days=days,
    )


def write_html(story: Story, path: Path) -> Path:
    """Write the story page atomically and return its path."""
    path = Path(path)
    pages.write_page(path, render_html(story))
    return path


def default_html_path(scenario_file: Path, seed: int, out: Path = Path("results")) -> Path:
    """Where ``truce story`` writes its page by default."""
    return out / "stories" / f"{Path(scenario_file).stem}-seed{seed}.html"
