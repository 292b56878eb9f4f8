"""Timestamps of a slider release on its way through the page, for profiling.

With ``TRUCE_APP_TRACE=FILE`` set (``benchmarks/app_latency.py --trace`` sets it),
the server and its worker processes append one JSON line per step to ``FILE``:
``{"t": seconds since the epoch, "cpu": the process's CPU seconds, "pid": ...,
"event": ..., ...}``. The browser's
side (the chart's figure received, ``Plotly.react`` done) is kept in the page's
``window.__truceMarks`` (``plotly_chart.vue``) on the same clock
(``performance.timeOrigin + performance.now()``), so one release can be followed
from ``pointerup`` to the redrawn curve. Unset (the default), :func:`mark` does
nothing but read the environment.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

#: Environment variable: the file the timestamps are appended to (unset: none are kept).
TRACE_ENV = "TRUCE_APP_TRACE"


def mark(event: str, **fields: Any) -> None:
    """Append ``event`` with the time now and ``fields`` to the trace file, if one is set."""
    path = os.environ.get(TRACE_ENV)
    if not path:
        return
    now = {"t": time.time(), "cpu": round(time.process_time(), 4)}
    line = json.dumps({**now, "pid": os.getpid(), "event": event, **fields})
    # One short write in append mode: lines from the server and its workers do not mix.
    with open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")
