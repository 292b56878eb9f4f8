"""Where the compiled day's time goes: each kernel's share of the step loop.

The step loop of one chunk (``baseline.yaml``, 180 days, compiled day), with every
kernel call of the day (``CeasefireModel._calls``) and the model's own parts of it
(the draws, the daily sums, compaction, the arguments' preparation) wrapped in a
timer. Prints, per part, milliseconds a run, its share of the step, microseconds a
call and nanoseconds a truce-day (per truce the chunk started with), medians over
REPEATS runs after one warm-up run; "Python and the timers" is the step loop's time
that no wrapped part accounts for (Mesa's step, the phases left to Python, and the
wrappers themselves, ~0.3 µs a call). The draws are ``floor.py``'s floor: the step /
floor ratio is the total over the draws' line.

Not the figure of a target (``floor.py`` is): the map a change to the day starts
from. The wrappers add their own cost to every part, so the total is a few percent
above ``floor.py``'s step. Usage::

    python benchmarks/day_profile.py [REPEATS] [WIDTH ...]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from _common import BASELINE, machine

#: The model's own parts of the compiled day, timed beside its kernels.
MODEL_PARTS = ("_draw_compiled", "_add_daily_compiled", "_compact", "_prepare_compiled")
#: Kernel calls timed inside :data:`MODEL_PARTS` (not added again to the total).
INSIDE = {"daily": "_add_daily_compiled"}


def _timed(name: str, f: Callable, spent: dict[str, int], calls: dict[str, int]) -> Callable:
    clock = time.perf_counter_ns

    def timed(*args: Any) -> Any:
        start = clock()
        try:
            return f(*args)
        finally:
            spent[name] += clock() - start
            calls[name] += 1

    timed.wrapped = True  # type: ignore[attr-defined]
    return timed


def _wrap_calls(model: Any, spent: dict[str, int], calls: dict[str, int]) -> None:
    """Wrap the kernel calls of the model's day (built again after each compaction)."""
    for name, value in list(model._calls.items()):
        if isinstance(value, list):
            model._calls[name] = [
                f if getattr(f, "wrapped", False) else _timed(name, f, spent, calls) for f in value
            ]
        elif not getattr(value, "wrapped", False):
            model._calls[name] = _timed(name, value, spent, calls)


def profile(width: int, repeats: int) -> tuple[list[float], dict[str, list[float]], dict]:
    """Run ``repeats`` + 1 chunks of ``width`` truces; the first warms up.

    Returns:
        The step loop's seconds per run, each part's seconds per run, and each part's
        calls per run (of the last run).
    """
    from sim.model.model import CeasefireModel
    from sim.scenario.loading import load_scenario

    scenario = load_scenario(BASELINE, {"truce.horizon": 180})
    loops: list[float] = []
    parts: dict[str, list[float]] = defaultdict(list)
    per_run_calls: dict[str, int] = {}
    for run in range(repeats + 1):
        model = CeasefireModel(
            scenario, replicates=width, seed=scenario.seed + run, chunk=0, collect=False
        )
        if model.kernel_engine != "numba":
            raise SystemExit("day_profile.py: the compiled day is not in use (numba missing?)")
        spent: dict[str, int] = defaultdict(int)
        calls: dict[str, int] = defaultdict(int)
        for name in MODEL_PARTS:
            setattr(model, name, _timed(name, getattr(model, name), spent, calls))
        start = time.perf_counter_ns()
        while model.running:
            if model._args is None:
                model._prepare_compiled()
            _wrap_calls(model, spent, calls)
            model.step()
        if run:  # the first run loads the kernels and warms the caches
            loops.append((time.perf_counter_ns() - start) / 1e9)
            for name in spent:
                parts[name].append(spent[name] / 1e9)
            per_run_calls = dict(calls)
    return loops, parts, per_run_calls


def main(repeats: int = 5, widths: tuple[int, ...] = (1000, 10000)) -> None:
    os.environ["TRUCE_ENGINE"] = "numba"  # before the model is imported
    print(f"machine: {machine()}")
    print(f"scenario: baseline.yaml, horizon 180 days, {repeats} runs after a warm-up, medians")
    for width in widths:
        loops, parts, calls = profile(width, repeats)
        loop = statistics.median(loops)
        medians = {name: statistics.median(values) for name, values in parts.items()}
        truce_days = width * 180
        print(f"{width:,} truces: step loop {loop * 1e3:.1f} ms a run")
        rows = sorted(medians.items(), key=lambda item: -item[1])
        for name, seconds in rows:
            inside = f" (inside {INSIDE[name]})" if name in INSIDE else ""
            print(
                f"  {name:22s} {seconds * 1e3:8.2f} ms {seconds / loop:6.1%} "
                f"{seconds / max(calls.get(name, 1), 1) * 1e6:9.1f} us a call "
                f"{seconds / truce_days * 1e9:7.1f} ns a truce-day{inside}"
            )
        outside = loop - sum(s for n, s in medians.items() if n not in INSIDE)
        print(f"  {'Python and the timers':22s} {outside * 1e3:8.2f} ms {outside / loop:6.1%}")
        draws = medians.get("_draw_compiled", float("nan"))
        print(f"  step / draws {loop / draws:.2f}x (floor.py's step / floor, with the timers)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    numbers = [int(a) for a in sys.argv[1:]]
    if numbers:
        main(numbers[0], tuple(numbers[1:]) or (1000, 10000))
    else:
        main()
