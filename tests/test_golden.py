"""Outputs unchanged: the runs tables of every bundled scenario match their recorded digests.

The digests (``tests/golden/digests.json``) were recorded before the package was
reorganised into layers; a change of any number fails here. A deliberate change
of the model's draws or rules refreshes them with ``python tools/golden.py --write``
and says so in the commit.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _golden():
    spec = importlib.util.spec_from_file_location("golden", ROOT / "tools" / "golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_bundled_scenario_has_a_digest():
    golden = _golden()
    recorded = json.loads(golden.DIGESTS.read_text())
    files = {str(p.relative_to(ROOT / "scenarios")) for p in (ROOT / "scenarios").rglob("*.yaml")}
    assert files <= {k.split(":")[0] for k in recorded}


def test_runs_tables_match_their_digests():
    golden = _golden()
    recorded = json.loads(golden.DIGESTS.read_text())
    found = golden.digests()
    changed = sorted(k for k in recorded.keys() | found.keys() if recorded.get(k) != found.get(k))
    assert not changed, f"runs tables changed: {changed}"
