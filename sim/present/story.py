"""Story mode: one seeded truce told day by day, in words and as an annotated chart.

A story is the single truce of a one-truce run with the given seed (what
``truce run SCENARIO --seed S -n 1`` simulates), so it is cheap to find one
that collapses or one that survives, and the same seed always tells the same
story. :func:`write_html` writes a self-contained page (plotly.js embedded,
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


def tell(scenario: Scenario, seed: int) -> Story:
    """Simulate the one truce of ``scenario`` with ``seed`` and tell it day by day."""
    tr = trace(_one_truce(scenario), seed=seed, replicate=0)
    tr.events = with_text(tr.events, tr.scenario)
    return Story(tr, story_lines(tr))


def _quiet(first: int, last: int) -> str:
    if first == last:
        return f"Day {first}: no violations."
    return f"Days {first}–{last}: no violations."


def story_lines(tr: Trace) -> list[str]:
    """The paragraphs of a story: a heading, one per eventful day, quiet stretches, the end.

    Args:
        tr: a traced truce (from :func:`sim.experiment.runner.trace`).

    Returns:
        Plain-text paragraphs.
    """
    s, out = tr.scenario, tr.outcome
    lines = [f"{s.name}: {s.description}".rstrip(": ") + f" (seed {tr.seed})"]
    events = tr.events
    by_day: dict[int, list[dict[str, Any]]] = {}
    for event in records(events):
        by_day.setdefault(int(event["day"]), []).append(event)
    last_day = int(out["collapse_day"]) if out["collapsed"] else int(out["horizon"])
    lead = [d for d in by_day if d <= 0]
    if lead:
        grabs = sum(len(by_day[d]) for d in lead)
        lines.append(
            f"Before the start ({s.truce.lead_time} days of lead time): "
            f"{grabs} land-grab attacks as every side takes ground while it still can."
        )
    quiet_from = None
    for day in range(1, last_day + 1):
        rows = by_day.get(day)
        if not rows:
            quiet_from = day if quiet_from is None else quiet_from
            continue
        if quiet_from is not None:
            lines.append(_quiet(quiet_from, day - 1))
            quiet_from = None
        lines.append(narrate_day(day, rows, s))
    if quiet_from is not None:
        lines.append(_quiet(quiet_from, last_day))
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
