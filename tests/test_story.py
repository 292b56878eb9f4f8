"""Story mode: seeded determinism, seed search, the HTML page and the narrative."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sim.cli import app as cli
from sim.present import story as st
from sim.present.text import held_fire, narrate_day
from sim.scenario.loading import load_scenario

SCENARIO = "scenarios/monitored.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


def test_same_seed_same_story(scenario):
    a, b = st.tell(scenario, 3), st.tell(scenario, 3)
    assert a.lines == b.lines
    assert a.trace.events["text"].tolist() == b.trace.events["text"].tolist()


def test_find_collapse_and_survive(scenario):
    seed = st.find_seed(scenario, "collapse")
    told = st.tell(scenario, seed)
    assert told.collapsed and told.trace.outcome["collapse_day"] > 0
    assert "collapse" in told.trace.events["kind"].tolist()
    assert told.lines[-1].startswith(
        f"The truce collapsed on day {told.trace.outcome['collapse_day']}"
    )
    kept = st.find_seed(scenario, "survive")
    assert not st.tell(scenario, kept).collapsed
    # First such seed: every earlier seed ends the other way.
    assert all(not st.ends_in_collapse(scenario, s) for s in range(seed))
    assert all(st.ends_in_collapse(scenario, s) for s in range(kept))


def test_find_gives_up_clearly(scenario):
    never = scenario.model_copy(update={"truce": scenario.truce.model_copy(update={"horizon": 1})})
    with pytest.raises(st.NoSuchStory, match="no truce that collapses"):
        st.find_seed(never, "collapse", limit=3)
    with pytest.raises(ValueError):
        st.find_seed(scenario, "maybe")  # type: ignore[arg-type]


def test_story_text_tells_each_eventful_day(scenario):
    told = st.tell(scenario, st.find_seed(scenario, "collapse"), beats=None, minutes=None)
    events = told.trace.events
    truce_days = sorted({int(d) for d in events["day"] if d > 0})
    for day in truce_days:
        assert any(line.startswith(f"Day {day}:") for line in told.lines), day
    # A party hit without answering back that day "holds fire".
    for day in truce_days:
        rows = events[events["day"] == day].to_dict("records")
        quiet = held_fire(rows, [p.name for p in scenario.principals])
        text = narrate_day(day, rows, scenario)
        for name in quiet:
            if "collapse" not in {r["kind"] for r in rows}:
                assert scenario.label(name) in text.split(". ")[-1] and "fire" in text


def test_html_page_escapes_and_embeds_plotly(scenario, tmp_path):
    nasty = scenario.model_copy(
        update={"name": "<script>alert(1)</script>", "description": "a & b"}
    )
    factions = tuple(f.model_copy(update={"label": "<b>Rebels</b>"}) for f in nasty.factions)
    nasty = nasty.model_copy(update={"factions": factions})
    told = st.tell(nasty, 1)
    path = st.write_html(told, tmp_path / "deep" / "story.html")
    page = path.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Rebels</b>" not in page
    assert "a &amp; b" in page
    assert "<script src=" not in page and "Plotly.newPlot" in page
    # plotly.js once, packed (the gzipped cartesian bundle: the page stays small)
    assert page.count("* plotly.js v") == 1 and 'id="plotly-js-gzip"' in page
    assert 400_000 < len(page) < 1_500_000
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_cli_story_find(tmp_path):
    out = tmp_path / "s.html"
    result = CliRunner().invoke(cli, ["story", SCENARIO, "--find", "collapse", "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert "The truce collapsed on day" in result.output
    assert out.exists()
    bad = CliRunner().invoke(cli, ["story", SCENARIO, "--find", "maybe"])
    assert bad.exit_code == 2


def test_cli_story_bad_scenario(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("monitors:\n  coverage: 2\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["story", str(bad)])
    assert result.exit_code == 2
    assert "monitors.coverage" in result.output and "Traceback" not in result.output


def test_a_day_before_the_start_says_so_once(scenario):
    """A land grab in the lead time reads "Day 0 (before the start): <Actor> grabs ground …",
    not "… (before the start): Before the start, …"; later days keep the event's own words."""
    actor, target = scenario.principals[0].name, scenario.principals[1].name
    grab = {"kind": "violation", "actor": actor, "target": target, "land_grab": True}
    text = narrate_day(0, [{**grab, "day": 0}], scenario)
    assert text.startswith("Day 0 (before the start): ")
    assert text.lower().count("before the start") == 1
    assert f"{scenario.label(actor)} grabs ground from {scenario.label(target)}." in text
