"""Print every documented lever's measured direction: a table for docs/MODEL.md.

    python tools/directions.py                  # every lever, Markdown table
    python tools/directions.py -n 2000          # more replicates per arm
    python tools/directions.py --only monitors  # levers whose path contains a string
    python tools/directions.py --all            # also the parameters documented "depends"

For each parameter the schema documents as raising or lowering collapse, the lever is
set to the low and the high end of its valid range in its reference scenario (the
baseline with the monitors and the mediator on, or for the theatre levers a deal of two
theatres, 365 days), both arms on common random
numbers, and the table gives the paired change low→high of the mean days held and of the
collapse share, each with its 95% interval (mean ± 1.96 standard errors of the paired
differences), and whether the change agrees with the documented direction (paired z
beyond ±3; ``unclear`` when neither). The method is in ``tests/helpers_directions.py``,
which ``tests/test_directions.py`` uses to assert the same directions. No benchmark: it
takes about a minute of CPU.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import helpers_directions as hd  # noqa: E402

from sim.experiment import provenance  # noqa: E402


def _value(overrides: dict) -> str:
    values = {repr(v) for v in overrides.values()}
    return values.pop() if len(values) == 1 else "…"


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table; exit 1 when a documented direction is not confirmed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--replicates", type=int, default=hd.REPLICATES)
    parser.add_argument("--only", default="", help="levers whose path contains this string")
    parser.add_argument(
        "--all",
        action="store_true",
        help='also measure the parameters documented "depends" (their sign in the reference)',
    )
    args = parser.parse_args(argv)
    if args.replicates < 2:
        parser.error("--replicates must be at least 2")
    chosen = [
        lever
        for lever in hd.levers() + (hd.depending() if args.all else [])
        if args.only in lever.path
    ]
    if not chosen:
        parser.error(f"--only: no lever's path contains {args.only!r}")
    started = time.process_time()
    stamp = provenance.stamp()
    packages = ", ".join(f"{k} {stamp['versions'][k]}" for k in ("truce-sim", "mesa", "numpy"))
    for name, path in hd.REFERENCES.items():
        ref = hd.reference(name)
        table = hd.run_one(ref, ref.seed, args.replicates)
        print(
            f"Reference {name!r}: {path.relative_to(ROOT)} with every lever's section on, "
            f"{hd.HORIZON} days, {args.replicates} paired replicates per arm, seed {ref.seed}; "
            f"collapse share {table['collapsed'].mean():.3f}, mean days held "
            f"{table['days_held'].mean():.1f}."
        )
    print(
        f"Theatre levers (on 'theatres'): {', '.join(hd.THEATRE_PREFIXES)}* and "
        f"{', '.join(hd.THEATRE_CONSTANTS)}; commit {stamp['git_commit']}, {packages}, "
        f"{stamp['started']}.\n"
    )
    print(
        "| parameter | documented | low → high | Δ mean days held [95%] "
        "| Δ collapse share [95%] | z | measured | agrees? |"
    )
    print("|---|---|---|---|---|---|---|---|")
    failed = 0
    for lever in chosen:
        documented = lever.direction in hd.DOCUMENTED
        try:
            m = hd.measure(lever, args.replicates)
        except hd.NotExercised as exc:
            failed += documented
            verdict = "**no**" if documented else "n/a"
            print(
                f"| `{lever.path}` | {lever.direction} | – | – | – | – "
                f"| not exercised: {exc} | {verdict} |"
            )
            continue
        days = f"{m.days_diff:+.1f} [{m.days_diff - 1.96 * m.days_se:+.1f}, "
        days += f"{m.days_diff + 1.96 * m.days_se:+.1f}]"
        share = f"{m.share_diff:+.3f} [{m.share_diff - 1.96 * m.share_se:+.3f}, "
        share += f"{m.share_diff + 1.96 * m.share_se:+.3f}]"
        failed += documented and m.verdict != "agrees"
        verdict = {"agrees": "yes", "n/a": "n/a"}.get(m.verdict, f"**no ({m.verdict})**")
        print(
            f"| `{lever.path}` | {lever.direction} | {_value(m.low)} → {_value(m.high)} "
            f"| {days} | {share} | {m.z:+.1f} ({m.changed} differ) | {m.measured} | {verdict} |"
        )
    print(
        f"\n{failed} documented direction(s) not confirmed; "
        f"{time.process_time() - started:.0f} s of CPU."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
