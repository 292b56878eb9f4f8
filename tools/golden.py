"""Digests of the runs tables of the bundled scenarios: write them, or check them.

    python tools/golden.py            # check against tests/golden/digests.json
    python tools/golden.py --write    # refresh the file (after a listed, deliberate change)

A digest covers the column names, dtypes and every value of the runs table that
``run_one`` returns for each bundled scenario (and each of its ``compare:`` arms)
at 300 replicates and the scenario's own seed. ``tests/test_golden.py`` runs the
check, so a refactoring that changes any number fails it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIGESTS = ROOT / "tests" / "golden" / "digests.json"
REPLICATES = 300


def table_digest(table) -> str:
    """SHA-256 of a table's columns, dtypes and values (index ignored)."""
    import pandas as pd

    h = hashlib.sha256()
    h.update(json.dumps([[c, str(t)] for c, t in table.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(table, index=False).values.tobytes())
    return h.hexdigest()


def digests() -> dict[str, str]:
    """Digest of every bundled scenario (and arm) by ``file[:arm]``."""
    sys.path.insert(0, str(ROOT))
    import sim

    run_one = _import("run_one")
    load_scenario = _import("load_scenario")
    resolve = _import("resolve_scenario")
    del sim
    out = {}
    folder = ROOT / "scenarios"
    for path in sorted(folder.rglob("*.yaml")):
        scenario = load_scenario(path)
        base = scenario.model_copy(update={"compare": {}, "sweep": None})
        key = str(path.relative_to(folder))
        out[key] = table_digest(run_one(base, scenario.seed, REPLICATES))
        for arm, overrides in scenario.compare.items():
            armed = resolve(base, overrides)
            out[f"{key}:{arm}"] = table_digest(run_one(armed, scenario.seed, REPLICATES))
    return out


def _import(name: str):
    """``name`` from wherever the package keeps it (the layout may move)."""
    import importlib

    for module in (
        "sim.experiment.runner",
        "sim.scenario.loading",
        "sim.scenario.schema",
        "sim.scenario",
        "sim.model.model",
        "sim.runner",
        "sim.model",
        "sim.config",
    ):
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if found is not None:
            return found
    raise ImportError(name)


def main(argv: list[str]) -> int:
    """Write or check the digests."""
    found = digests()
    if "--write" in argv:
        DIGESTS.parent.mkdir(parents=True, exist_ok=True)
        DIGESTS.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
        print(f"wrote {len(found)} digests to {DIGESTS.relative_to(ROOT)}")
        return 0
    expected = json.loads(DIGESTS.read_text())
    changed = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
    for key in changed:
        print(f"changed: {key}")
    return 1 if changed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
