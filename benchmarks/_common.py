"""Shared helpers for the benchmark scripts (not a test: they print figures)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def machine() -> str:
    """One line describing the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.1f}"
    )


#: The levers of the benchmarks' LHS sweeps, with their bounds (a line of YAML each).
LEVERS = {
    "monitors.coverage": "{low: 0.1, high: 0.9}",
    "truce.loophole_width": "{low: 0.1, high: 0.9}",
    "deconfliction.level": "{low: 0.0, high: 0.9}",
}


def lhs_sweep(name: str, points: int, truces: int, horizon: int, levers: int = 3) -> str:
    """The YAML of an LHS sweep of ``baseline.yaml`` over the first ``levers`` of :data:`LEVERS`."""
    bounds = "".join(f"      {k}: {v}\n" for k, v in list(LEVERS.items())[:levers])
    return (
        f"extends: {BASELINE}\nname: {name}\ntruce: {{horizon: {horizon}}}\n"
        f"replicates: {truces}\nsweep:\n  lhs:\n    n: {points}\n    bounds:\n{bounds}"
    )
