"""Generate the parameter tables of ``docs/MODEL.md`` from the scenario schema.

The parameter, default, range and meaning columns come from
:func:`sim.scenario.schema.field_table`, so they cannot drift from the code; the source
column comes from :data:`SOURCES` below, one entry per leaf parameter.
``python -m sim.present.modeldoc`` rewrites the region of ``docs/MODEL.md`` between the
``<!-- BEGIN PARAMETERS -->`` and ``<!-- END PARAMETERS -->`` markers (atomic
write); ``python -m sim.present.modeldoc --check`` only reports whether it is up to date.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from sim.scenario.schema import field_table

BEGIN = "<!-- BEGIN PARAMETERS -->"
END = "<!-- END PARAMETERS -->"
MODEL_MD = Path(__file__).resolve().parents[2] / "docs" / "MODEL.md"

# --------------------------------------------------------------------------- sources
# Articles are cited by title and outlet; studies by author, title and outlet.
BI = (
    '"That proposed halt in fighting in Syria is now looking like a complete failure" '
    "(Business Insider, Feb 2016)"
)
UNZ = (
    '"US-Russian Ceasefire in Syria Has Broken Down, But Who Is at Fault?" '
    "(Patrick Cockburn, The Unz Review, Sep 2016)"
)
IC = '"Syria: Can Russia & US Broker a new Cease-Fire?" (Juan Cole, Informed Comment, Sep 2016)'
RD = '"The failure of the ceasefire in Syria …" (Russia Direct, Oct 2016)'
SW = "opinion blog post on the Southwest Syria ceasefire of July 2017 (opinion, not reporting)"
FORTNA_2003 = (
    'Fortna, "Scraps of Paper? Agreements and the Durability of Peace", '
    "International Organization 57 (2003)"
)
FORTNA_2008 = (
    "Fortna, *Does Peacekeeping Work?* (Princeton University Press, 2008), via the "
    "Kroc Institute's summary (second-hand)"
)
ETH_PRIO = (
    "ETH/PRIO Civil Conflict Ceasefire dataset, as reported by The Economist, "
    "1 Feb 2025 (second-hand)"
)
WU_AXELROD = (
    'Wu & Axelrod, "How to Cope with Noise in the Iterated Prisoner\'s Dilemma", '
    "Journal of Conflict Resolution 39 (1995)"
)
ZARTMAN = 'Zartman, "Ripeness" (Beyond Intractability essay)'
STEDMAN = 'Stedman, "Spoiler Problems in Peace Processes", International Security 22 (1997)'
UNSMIS = "UN Supervision Mission in Syria (UNSC Res. 2043, 2012; UN peacekeeping's mandate page)"
WIB = (
    "War is Boring, 31 Oct 2016: 84% of 105 failed ceasefires followed by an offensive, "
    "on average within 13 days"
)
ASSUMED = "Modelling assumption"
FITTED = "value: modelling assumption, fitted by `truce calibrate` (docs/VALIDATION.md)"
BOOKKEEPING = "Bookkeeping: no modelling content"

_PARTY: dict[str, str] = {
    "name": BOOKKEEPING,
    "label": BOOKKEEPING,
    "strength": (
        f"{RD} (Russian air support decides offensives); {SW} (the winning side); "
        "situational value per scenario"
    ),
    "resolve": (
        f"{SW} (both sides aim at total control); {RD} (expected military gains); "
        "situational value per scenario"
    ),
    "fatigue": f'{ZARTMAN}; {RD} ("not tired enough of war"); situational value',
    "cohesion": (
        f"{RD} (a sponsor cannot say which groups it controls); {STEDMAN} (spoilers inside "
        "the process); situational value"
    ),
    "trust": (
        f"{IC} (the last truce was used to gain ground); {UNZ} (chronic suspicion); "
        "situational value"
    ),
}

#: The source behind every leaf parameter of the schema, by its ``field_table`` path.
SOURCES: dict[str, str] = {
    # ---- top level
    "name": BOOKKEEPING,
    "description": BOOKKEEPING,
    "replicates": (
        f"{ASSUMED}: enough replicates for a Wilson interval of about ±3 points on a collapse share"
    ),
    "seed": "Bookkeeping: any integer (the default is the start date of the Feb 2016 truce)",
    "sources": "Bookkeeping: lets a scenario cite the source of its own situational values",
    "compare": "Bookkeeping: named arms of a comparison (e.g. monitored vs unmonitored)",
    "observed.days_held": (
        "Public record of the historical Syrian truces (validation table in "
        "docs/VALIDATION.md); each scenario cites its own in `observed.source`"
    ),
    "observed.low": "Public record, where accounts differ on the end date",
    "observed.high": "Public record, where accounts differ on the end date",
    "observed.source": "Bookkeeping: the citation for `observed.days_held`",
    # ---- truce terms
    "truce.horizon": f"{ETH_PRIO}: the stylized fact is stated at one year",
    "truce.lead_time": (
        f"{BI}: the Feb 2016 cessation was announced a week ahead and set off a last-minute "
        "grab for territory"
    ),
    "truce.exempted": (
        f'{BI} (strikes on ISIS and Nusra continued: a "licence to kill"); {IC} (strikes '
        "only on excluded groups)"
    ),
    "truce.loophole_width": (
        f"{BI} (the loopholes let Russia keep bombing); {IC}; {ASSUMED} for the value"
    ),
    "truce.collapse.threshold": (
        f"{ASSUMED}; the hindcast against the historical truces (docs/VALIDATION.md) checks it"
    ),
    "truce.collapse.window": f"{ASSUMED}: one week, the span over which a truce is read as over",
    "truce.collapse.days_above": (
        f"{ASSUMED}: sustained rather than isolated violence ends a truce; {UNZ} (a truce "
        "that never completely took hold)"
    ),
    # ---- excluded groups
    "excluded[].name": BOOKKEEPING,
    "excluded[].label": BOOKKEEPING,
    "excluded[].strength": f"{BI} (ISIS and Nusra left out of the truce); situational value",
    "excluded[].spoiler_intent": f"{STEDMAN} (limited, greedy or total spoilers); situational",
    # ---- sponsors
    "sponsors[].name": BOOKKEEPING,
    "sponsors[].label": BOOKKEEPING,
    "sponsors[].clients": f"{UNZ} (regional backers decide the level of violence); {RD}",
    "sponsors[].leverage": (
        f"{RD} (Russia can stop providing air support; the US cannot say which groups it "
        f"controls); {FORTNA_2003} (third-party guarantees)"
    ),
    "sponsors[].commitment": (
        f"{RD} (sponsors must make their clients stop); {BI} (sponsors postpone "
        "implementation talks)"
    ),
    "sponsors[].strike_tempo": f"{BI}; {IC} (strikes on Nusra and ISIS continue); situational",
    "sponsors[].dissent": f"{RD} (dissent inside a sponsor's own establishment)",
    "sponsors[].air_force": f"{UNZ} (many foreign air forces in the theatre)",
    # ---- monitors
    "monitors.coverage": (
        f'{UNZ} ("there needs to be monitors … or it will collapse"); {UNSMIS}; {FORTNA_2008}'
    ),
    "monitors.detection": f"{UNSMIS} (up to 300 unarmed observers); {ASSUMED} for the value",
    "monitors.attribution": (
        f'{UNZ} (blame "impossible to disentangle" without monitors); {ASSUMED} for the value'
    ),
    "monitors.risk_tolerance": (
        f"{UNSMIS}: patrols attacked, operations suspended 15–16 Jun 2012 (Reuters, VOA and "
        "Guardian reports, Apr–Jun 2012)"
    ),
    "monitors.verification_delay": f"{ASSUMED}: days for a verified report to be delivered",
    # ---- deconfliction
    "deconfliction.air_forces": (
        f"{UNZ} (so many foreign powers engaged that they are bound to collide; the "
        "Deir ez-Zor raid of 17 Sep 2016)"
    ),
    "deconfliction.level": (
        f"{UNZ} (the US notified Russia before the Deir ez-Zor strike; cooperation "
        '"not enough to prevent accidents")'
    ),
    # ---- constants
    "constants.base_propensity": f"Baseline rate of deliberate violation; {FITTED}",
    "constants.gain_sensitivity": f"{RD} (expected military gains); {FITTED}",
    "constants.fear_weight": (
        f"{IC} (the Pentagon distrusts Moscow, which it feels used the last ceasefire to hit "
        f"US-backed rebels: distrust as a reason to strike first); {FITTED}"
    ),
    "constants.reputation_cost": (
        f"{FORTNA_2003} (agreements with monitoring, guarantees and joint commissions last "
        f"longer); {FITTED}"
    ),
    "constants.restraint_weight": f"{RD} (sponsors must make their clients stop); {FITTED}",
    "constants.sanction_weight": (
        f"{RD} (a sponsor can withdraw the air support its client depends on); {FITTED}"
    ),
    "constants.sanction_strength": (
        f"{RD} (a sponsor can cut the support its client depends on); {FITTED}"
    ),
    "constants.indiscipline_rate": f"{RD} (commanders who do not control their units); {FITTED}",
    "constants.offscript_rate": f"{RD} (dissent inside a sponsor); {FITTED}",
    "constants.loophole_hit": (
        f"{IC} (the separation problem: rebels entangled with Nusra); {FITTED}"
    ),
    "constants.accident_rate": f"{UNZ} (the Deir ez-Zor raid, 17 Sep 2016); {FITTED}",
    "constants.spoiler_rate": f"{STEDMAN}; {FITTED}",
    "constants.spoiler_calm_boost": (
        f"{STEDMAN} (spoilers act when a peace process threatens them); {FITTED}"
    ),
    "constants.calm_days": f"{ASSUMED}: about a month for a lull to read as a lasting truce",
    "constants.blame_bias": f"{UNZ} (chronic suspicion; blame impossible to disentangle); {FITTED}",
    "constants.trust_loss": f"{WU_AXELROD} (responses to perceived defection); {FITTED}",
    "constants.forgiveness": (
        f"{WU_AXELROD} (generous tit-for-tat recovers from accidental defections); {FITTED}"
    ),
    "constants.retaliation_threshold": (
        f"{WU_AXELROD} (retaliation after perceived defection); {FITTED}"
    ),
    "constants.retaliation_rate": f"{WU_AXELROD}; {FITTED}",
    "constants.retaliation_restraint": (
        f'{RD} (Russia "can simply stop providing air support", which bears on any raid); {FITTED}'
    ),
    "constants.hostility_threshold": (
        f'{UNZ} ("a ceasefire which never completely took hold"); {IC} (distrust); {FITTED}'
    ),
    "constants.grudge_memory": (
        f"{WU_AXELROD} (a response answers a defection; an unanswered one is let go); "
        "SOHR via EVIDENCE.md, second-hand (violence fell about 80% in the first days of the "
        f"February 2016 cessation); {FITTED}"
    ),
    "constants.consolidation_rate": (
        f"{FORTNA_2008} (the risk of renewed war falls as peace lasts); {FORTNA_2003}; {FITTED}"
    ),
    "constants.withdrawal_trust": (
        f"Reuters and Newsweek, Apr 2016 (the opposition suspended talks on 18–19 Apr 2016, "
        f"ending the cessation of hostilities); {IC} (distrust); {FITTED}"
    ),
    "constants.fatigue_gain": f"{ZARTMAN} (a mutually hurting stalemate); {RD}; {FITTED}",
    "constants.fatigue_recovery": f"{ZARTMAN} (ripeness fades when the hurting stops); {FITTED}",
    "constants.regroup_rate": f"{SW} (a pause lets the losing side regroup); {FITTED}",
    "constants.regroup_weight": (
        f"{SW}; {IC} (distrust: the last truce was used to gain ground); {FITTED}"
    ),
    "constants.land_grab_rate": f"{BI} (a last-minute grab for territory); {FITTED}",
    "constants.monitor_exposure": f"{UNSMIS} (observers' patrols attacked); {FITTED}",
    "constants.access_threshold": (
        f"{IC} (aid access among the deal's terms); {SW} (safe zones and aid); {ASSUMED}"
    ),
    "constants.escalation_rate": f"{WIB}; {UNZ} (escalation after collapse in some regions)",
    "constants.initial_spread": f"{ASSUMED}: uncertainty in the situational values",
}
SOURCES |= {f"government.{k}": v for k, v in _PARTY.items()}
SOURCES |= {f"factions[].{k}": v for k, v in _PARTY.items()}
SOURCES["factions[].entanglement"] = (
    f"{IC} (the separation problem: opposition groups not separated from Nusra); situational value"
)

FORTNA_2003 = (
    'Fortna, "Scraps of Paper? Agreements and the Durability of Peace", International '
    "Organization 57 (2003): mechanisms that settle incidents lengthen peace"
)
ANNAN = (
    "Kofi Annan, UN–Arab League Joint Special Envoy for Syria, resigned on 2 Aug 2012 as the "
    "fighting went on (UN News, 2 Aug 2012)"
)
SOURCES |= {
    "mediator.label": BOOKKEEPING,
    "mediator.effort": f"{FORTNA_2003}; {ASSUMED} for the value",
    "mediator.settle_share": f"{FORTNA_2003}; {ASSUMED} for the value",
    "mediator.trust_gain": f"{FORTNA_2003}; {ASSUMED} for the value",
    "mediator.patience": f"{ANNAN}; {ASSUMED} for the value",
}

#: Sources for whole families of settings, by path prefix (used when SOURCES has no entry).
PREFIX_SOURCES: dict[str, str] = {
    "sweep.": "Bookkeeping: experiment design (sim/scenario/designs.py), not a model parameter",
}


def source_for(path: str, sources: Mapping[str, str] | None = None) -> str:
    """The source text of one parameter path ("" when there is none)."""
    sources = SOURCES if sources is None else sources
    if path in sources:
        return str(sources[path]).strip()
    for prefix, text in PREFIX_SOURCES.items():
        if path.startswith(prefix):
            return text
    return ""


# --------------------------------------------------------------------------- sections
Section = tuple[str, str, Callable[[str], bool]]

#: Table title, the note under it, and which parameter paths it holds (first match wins).
SECTIONS: list[Section] = [
    ("Truce terms (`truce`)", "", lambda p: p.startswith("truce.") and ".collapse." not in p),
    ("Collapse rule (`truce.collapse`)", "See E13–E14.", lambda p: p.startswith("truce.collapse.")),
    (
        "Principal parties (`government`, `factions[]`)",
        "Each faction is one item of the `factions` list (default: one faction named "
        "`faction_a`); address an item by index or name in `--set`, e.g. "
        "`factions.faction_a.strength=0.4`. Values marked *situational* describe one truce "
        "and are set in each scenario file.",
        lambda p: p.startswith(("government.", "factions[].")),
    ),
    (
        "Excluded groups (`excluded[]`)",
        "Default: none.",
        lambda p: p.startswith("excluded[]."),
    ),
    ("Sponsors (`sponsors[]`)", "Default: none.", lambda p: p.startswith("sponsors[].")),
    (
        "Monitoring mission (`monitors`)",
        "The section defaults to `null` (no mission); the defaults below apply once it is given.",
        lambda p: p.startswith("monitors."),
    ),
    (
        "Mediator (`mediator`)",
        "The section defaults to `null` (no envoy); the defaults below apply once it is given. "
        "See E17.",
        lambda p: p.startswith("mediator."),
    ),
    ("Deconfliction (`deconfliction`)", "", lambda p: p.startswith("deconfliction.")),
    (
        "Constants (`constants`)",
        "Shared by every scenario. Their defaults are fitted by `truce calibrate` against the "
        "historical truces and stylized facts (see docs/VALIDATION.md); the source column says "
        "what motivates each term, not where the number was read.",
        lambda p: p.startswith("constants."),
    ),
    (
        "Experiment design (`compare`, `sweep`)",
        "`sweep` defaults to `null` (a single run); with both, `truce sweep` runs every design "
        "point under every arm (a crossed design). These settings choose arms and design "
        "points; they are not model parameters.",
        lambda p: p == "compare" or p.startswith("sweep."),
    ),
    (
        "Top level and hindcast (`observed`)",
        "`observed` defaults to `null`; it is given only in scenarios of historical truces.",
        lambda p: True,
    ),
]

_NUMERIC = re.compile(r"^an? (number|whole number) (between|of at least|of at most) (.+)$")


def format_default(value: Any) -> str:
    """A default value as it would be written in YAML."""
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple | list):
        return "`[]`" if not value else f"`{list(value)}`"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return f"`{value}`"


def format_range(expected: str) -> str:
    """A compact range from :func:`sim.scenario.schema._expected`'s plain-language text."""
    nullable = expected.endswith(" (or null)")
    text = expected.removesuffix(" (or null)")
    match = _NUMERIC.match(text)
    if match:
        kind, how, bounds = match.groups()
        kind = "real" if kind == "number" else "integer"
        if how == "between":
            low, high = bounds.split(" and ")
            text = f"{kind} in [{low}, {high}]"
        else:
            text = f"{kind} {'≥' if how == 'of at least' else '≤'} {bounds}"
    elif text in ("a number", "a whole number"):
        text = "real" if text == "a number" else "integer"
    else:
        text = text.removeprefix("a ").removeprefix("an ")
    return text + (", or null" if nullable else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(
    rows: Iterable[Mapping[str, Any]] | None = None, sources: Mapping[str, str] | None = None
) -> str:
    """The Markdown parameter tables, one per config section.

    Args:
        rows: parameter rows as given by :func:`sim.scenario.schema.field_table`
            (default: the schema).
        sources: source text per parameter path (default: :data:`SOURCES`).

    Returns:
        The text that goes between the markers, starting and ending with a newline.

    Raises:
        KeyError: when a parameter has no source entry (add one to ``SOURCES``).
    """
    rows = list(field_table() if rows is None else rows)
    sources = SOURCES if sources is None else sources
    missing = [r["path"] for r in rows if not source_for(r["path"], sources)]
    if missing:
        raise KeyError(
            f"no source for {', '.join(missing)}: add it to SOURCES in sim/present/modeldoc.py"
        )
    placed: dict[int, list[Mapping[str, Any]]] = {i: [] for i in range(len(SECTIONS))}
    for row in rows:
        index = next(i for i, (_, _, holds) in enumerate(SECTIONS) if holds(row["path"]))
        placed[index].append(row)
    out = [
        "",
        "<!-- Generated by `python -m sim.present.modeldoc` from sim/scenario/schema.py",
        "     (parameter, default, range, meaning) and sim/present/modeldoc.py (source).",
        "     Do not edit by hand. -->",
        "",
    ]
    for i, (title, note, _) in enumerate(SECTIONS):
        if not placed[i]:
            continue
        out += [f"## {title}", ""]
        if note:
            out += [note, ""]
        out += ["| parameter | default | range | meaning | source |", "|---|---|---|---|---|"]
        for row in placed[i]:
            cells = (
                f"`{row['path']}`",
                format_default(row["default"]),
                format_range(row["expected"]),
                row["description"] or "—",
                source_for(row["path"], sources),
            )
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def splice(document: str, tables: str) -> str:
    """Replace the text between the markers of ``document`` with ``tables``.

    Raises:
        ValueError: when the markers are missing or out of order.
    """
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"expected the markers {BEGIN} … {END} in that order")
    return document[: start + len(BEGIN)] + tables + document[end:]


def generated_region(document: str) -> str:
    """The text between the markers of ``document`` (what :func:`render` produced)."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"expected the markers {BEGIN} … {END} in that order")
    return document[start + len(BEGIN) : end]


def update(path: Path = MODEL_MD, check: bool = False) -> bool:
    """Regenerate the parameter tables of ``path``.

    Args:
        path: the Markdown file with the markers.
        check: only report whether the file is up to date; do not write.

    Returns:
        True when the file was already up to date.
    """
    document = path.read_text(encoding="utf-8")
    new = splice(document, render())
    if new == document:
        return True
    if not check:
        from sim.experiment.storage import atomic_write_bytes  # imported here: it loads pandas

        atomic_write_bytes(path, new.encode("utf-8"))
    return False


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``python -m sim.present.modeldoc [--check] [PATH]``."""
    parser = argparse.ArgumentParser(prog="python -m sim.present.modeldoc", description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=MODEL_MD)
    parser.add_argument("--check", action="store_true", help="fail if the tables are stale")
    args = parser.parse_args(argv)
    current = update(args.path, check=args.check)
    if args.check and not current:
        print(f"{args.path}: parameter tables are stale; run `python -m sim.present.modeldoc`")
        return 1
    print(f"{args.path}: parameter tables {'up to date' if current else 'regenerated'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
