"""Named random streams: one per mechanism, all derived from one root seed.

A chunk of replicates gets its streams from ``SeedSequence(root, spawn_key=(chunk,
stream))`` alone, so results do not depend on how chunks are spread over workers,
and switching one lever (say, the monitoring mission) leaves the draws of every
other mechanism unchanged: common random numbers across arms.
"""

from __future__ import annotations

import numpy as np

#: Stream identifiers are fixed forever: new streams are appended, never renumbered.
STREAMS: dict[str, int] = {
    "init": 0,
    "land_grab": 1,
    "decisions": 2,
    "loopholes": 3,
    "dissent": 4,
    "accidents": 5,
    "spoilers": 6,
    "monitoring": 7,
    "escalation": 8,
    "order": 9,
    # Seeds Mesa's own generators (``model.rng``, ``model.random``); the model never
    # draws from it for a mechanism.
    "mesa": 10,
    "mediation": 11,
    "signing": 12,
    "world": 13,
    "commission": 14,
    "reciprocity": 15,
}


def make_streams(root: int, chunk: int = 0) -> dict[str, np.random.Generator]:
    """One independent generator per mechanism for chunk ``chunk`` of seed ``root``."""
    return {
        name: np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(entropy=int(root), spawn_key=(int(chunk), sid)))
        )
        for name, sid in STREAMS.items()
    }
