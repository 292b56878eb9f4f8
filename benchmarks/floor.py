"""The day against its random-number floor: how far the step is from only drawing its numbers.

In one process, for each chunk width (1,000 and 10,000 truces by default), interleaved
repeats of:

- **step**: a chunk of ``baseline.yaml`` built (not timed), then its step loop timed until
  every truce has ended or the horizon (180 days) is reached, as the runner does it;
- **floor**: the same streams (the same seed and chunk), drawing every day, for as many days
  as the step loop ran, exactly the numbers the model draws each day (its draw plan:
  ``model._draws``, stream by stream into a buffer of the full width), and nothing else;
- **fixed**: the step loop of a chunk of ``--narrow`` truces (16), interleaved with the
  others, whose day is almost all the cost a day has whatever its width (the kernels'
  calls and their arguments, the Python between them, the draws' calls). The step less
  that cost a day, against the floor, bounds what any rewrite of the same work could
  reach by removing the day's fixed cost (one compiled loop for the whole day): the bound
  is optimistic, as the narrow chunk's day also holds its 16 truces' own work.

The ratio step / floor is how many times the cost of the random numbers alone the day
costs; the issue's target is at most 2.5x at 1,000 truces and 2x at 10,000. Each
figure is the median of the repeats (and the minimum in brackets), in the process's CPU
time (``--clock wall`` for the wall clock); the load average is printed before and after,
since the machine may be shared. Usage::

    python benchmarks/floor.py [REPEATS] [WIDTH ...] [--scenario FILE] [--horizon DAYS]
        [--engines numpy,numba] [--clock cpu|wall] [--narrow TRUCES]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
from _common import BASELINE, machine

#: The clock both loops are timed with (``--clock``): the process's CPU time by default,
#: which other jobs on a shared machine disturb much less than the wall clock.
CLOCK = time.process_time


def build(scenario, width: int, seed: int):
    """A chunk of ``width`` truces, as the runner builds it (no Mesa data collection)."""
    from sim.model.model import CeasefireModel

    return CeasefireModel(scenario, replicates=width, seed=seed, chunk=0, collect=False)


def time_step(scenario, width: int, seed: int) -> tuple[float, int, int]:
    """Seconds of the step loop, days stepped, numbers drawn per day."""
    model = build(scenario, width, seed)
    per_day = sum(plan.buffer.size for plan in model._draws)
    days = 0
    start = CLOCK()
    while model.running:
        model.step()
        days += 1
    return CLOCK() - start, days, per_day


def time_floor(scenario, width: int, seed: int, days: int, full: bool = False) -> float:
    """Seconds to draw ``days`` days of the model's numbers from fresh copies of its streams.

    The model's draw plan exactly: its read rows drawn into a full-width buffer, the rows
    nobody reads jumped over. With ``full``, every row of the streams that are drawn (what
    they drew before unread rows were skipped; streams nobody reads stay undrawn).
    """
    from sim.model.streams import make_streams

    model = build(scenario, width, seed)
    fresh = make_streams(model.root_seed, model.chunk)
    ops: list = []
    for plan in model._draws:
        generator = fresh[plan.stream]
        if full:
            rows = sum(n for n, _ in plan.segments)
            ops.append((generator.random, np.empty((rows, width))))
            continue
        buffer, at = np.empty_like(plan.buffer), 0
        for rows, read in plan.segments:
            if read:
                ops.append((generator.random, buffer[at : at + rows]))
                at += rows
            else:
                ops.append((generator.bit_generator.advance, rows * width))
    start = CLOCK()
    for _ in range(days):
        for call, argument in ops:
            if isinstance(argument, int):
                call(argument)
            else:
                call(out=argument)
    return CLOCK() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repeats", nargs="?", type=int, default=5)
    parser.add_argument("widths", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--scenario", type=Path, default=BASELINE)
    parser.add_argument("--horizon", type=int, default=180)
    parser.add_argument(
        "--engines", default="", help="kernel engines to interleave (default: numpy, numba)"
    )
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument(
        "--narrow", type=int, default=16, help="truces of the chunk whose day is the fixed cost"
    )
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter

    from sim.model import kernels
    from sim.scenario.loading import load_scenario

    engines = args.engines.split(",") if args.engines else ["numpy"]
    if not args.engines and kernels.numba_available():
        engines.append("numba")
    scenario = load_scenario(args.scenario, {"truce.horizon": args.horizon})
    print(f"machine: {machine()}")
    print(
        f"scenario: {args.scenario.name}, horizon {args.horizon} days, {args.repeats} repeats, "
        f"{args.clock} time"
    )
    model = build(scenario, 8, scenario.seed)
    streams = ", ".join(
        f"{plan.stream} {plan.buffer.shape[0]} (+{sum(n for n, r in plan.segments if not r)} "
        "skipped)"
        for plan in model._draws
    )
    print(f"numbers drawn per replicate-day by stream: {streams}")
    for width in args.widths:
        for name in engines:  # warm up: compiled kernels loaded, caches filled
            os.environ["TRUCE_ENGINE"] = name
            time_step(scenario, min(width, 200), scenario.seed)
        steps: dict[str, list[float]] = {name: [] for name in engines}
        fixed: dict[str, list[float]] = {name: [] for name in engines}  # seconds a day
        floors, fulls = [], []
        days = per_day = 0
        for k in range(args.repeats):  # interleaved: a change of load hits all alike
            seed = scenario.seed + k
            for name in engines:
                os.environ["TRUCE_ENGINE"] = name
                step, days, per_day = time_step(scenario, width, seed)
                steps[name].append(step)
                narrow, narrow_days, _ = time_step(scenario, args.narrow, seed)
                fixed[name].append(narrow / narrow_days)
            floors.append(time_floor(scenario, width, seed, days))
            fulls.append(time_floor(scenario, width, seed, days, full=True))
        floor, full = statistics.median(floors), statistics.median(fulls)
        print(
            f"{width:>6,} truces, {days} days: floor {floor * 1e3:.1f} ms "
            f"({per_day // width} numbers a replicate-day; min {min(floors) * 1e3:.1f}), "
            f"every row of the streams drawn {full * 1e3:.1f} ms"
        )
        for name in engines:
            step = statistics.median(steps[name])
            ratios = sorted(s / f for s, f in zip(steps[name], floors, strict=True))
            print(
                f"    step ({name:5}) {step * 1e3:7.1f} ms (min {min(steps[name]) * 1e3:.1f}); "
                f"step / floor median {statistics.median(ratios):.2f}x "
                f"(range {ratios[0]:.2f}-{ratios[-1]:.2f}); step / every row drawn "
                f"{step / full:.2f}x; {width * days / step / 1e6:.2f} M replicate-days/s"
            )
            daily_fixed = statistics.median(fixed[name])
            bound = (step - daily_fixed * days) / floor
            print(
                f"    fixed cost ({name:5}) {daily_fixed * 1e6:.0f} us a day (the step of "
                f"{args.narrow} truces), {daily_fixed * days / step:.0%} of the step; "
                f"step without it / floor {bound:.2f}x"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
