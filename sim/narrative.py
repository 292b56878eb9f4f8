"""Plain-language sentences for the events of one simulated truce."""

from __future__ import annotations

from typing import Any

from sim.config import Scenario

_ORIGIN_WORDS = {
    "deliberate": "a deliberate attack",
    "loophole": "a strike under the truce's exemptions",
    "accident": "an accident among foreign forces",
    "spoiler": "a spoiler attack",
    "indiscipline": "an unauthorised attack",
}


def origin_phrase(origin: str) -> str:
    """How an origin reads in a sentence ("a spoiler attack")."""
    return _ORIGIN_WORDS.get(origin, origin or "violence")


def describe(event: dict[str, Any], scenario: Scenario) -> str:
    """One sentence for one event of a traced truce."""
    name = scenario.label
    actor = name(event["actor"]) if event.get("actor") else ""
    target = name(event["target"]) if event.get("target") else ""
    blamed = name(event["blamed"]) if event.get("blamed") else ""
    kind, origin = event["kind"], event.get("origin", "")
    if kind == "monitor_attack":
        return f"Monitors' patrol is attacked{' by ' + actor if actor else ''}."
    if kind == "monitor_withdrawal":
        return "The monitoring mission suspends operations and withdraws."
    if kind == "sanction":
        return f"{actor}'s sponsors cut support after monitors verified its violation."
    if kind == "collapse":
        trigger = event.get("trigger", "violence")
        how = "a party walks out" if trigger == "withdrawal" else "violence stays high"
        return f"The truce collapses ({how}); cause: {origin_phrase(origin)}."
    if event.get("land_grab"):
        return f"Before the start, {actor} grabs ground from {target}."
    if kind == "retaliation":
        wrong = " — answering a violation it did not commit" if event.get("wrong") else ""
        return f"{actor} retaliates against {target}{wrong}."
    what = origin_phrase(origin)
    if origin == "loophole":
        text = f"{actor}'s strike on an exempted group hits {target}"
    elif origin in ("spoiler", "accident"):
        text = f"{what.capitalize()} by {actor} hits {target}"
    else:
        text = f"{what.capitalize()} by {actor} on {target}"
    if event.get("admitted"):
        text += f"; {actor} owns up through the deconfliction channel"
    elif event.get("correct"):
        text += f"; monitors attribute it correctly to {actor}"
    elif event.get("detected"):
        text += "; monitors see it but misattribute it"
    if blamed and not event.get("admitted") and blamed != event.get("culprit"):
        text += f"; {target} blames {blamed}"
    elif blamed and origin in ("spoiler", "accident"):
        text += f"; {target} blames {blamed}"
    return text + "."
