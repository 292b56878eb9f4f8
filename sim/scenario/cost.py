"""What a design would cost to run: CPU time and memory, estimated before any work."""

from __future__ import annotations

import math

from pydantic import (
    BaseModel,
)

from sim.scenario.schema import Scenario

# --------------------------------------------------------------------------- size


# Measured on the development machine (2 cores, Dec 2026): `sim.run("scenarios/baseline.yaml",
# replicates=4000, engine="serial")` simulated 4,000 truces x 372 days (lead time + horizon)
# in 6.7 s, start-up included: 4.5 microseconds per truce-day on one core. Scenarios with
# more actors cost somewhat more; the estimate is meant to catch orders of magnitude.
SECONDS_PER_REPLICATE_DAY = 4.5e-6
# The same run's table of results in pandas: 39 columns, 340 bytes per simulated truce
# (`DataFrame.memory_usage(deep=True)`); on disk (Parquet) about 63 bytes.
BYTES_PER_ROW = 340
#: What the driver holds per design point of a sweep stored as per-point aggregates (its
#: record and its summary group, as Python objects; issue 14): the runs never reach it.
BYTES_PER_POINT = 8 * 1024
MAX_CPU_SECONDS = 24 * 3600  # one day of CPU: beyond it, a cluster and a deliberate choice
MEMORY_SHARE = 0.5  # the results table may take at most half the machine's memory


def _physical_memory() -> int:
    """Bytes of physical memory (16 GB if the system does not say)."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


class Cost(BaseModel):
    """What an experiment would take, estimated before any work (see :func:`estimate_cost`)."""

    replicates: int
    points: int
    arms: int
    days: int
    truces: int
    cpu_seconds: float
    memory_bytes: float
    memory_limit: float

    def problem(self) -> str | None:
        """Why the experiment cannot run on this machine (None if it can)."""
        if self.cpu_seconds <= MAX_CPU_SECONDS and self.memory_bytes <= self.memory_limit:
            return None
        parts = [f"{self.replicates:,} replicates"]
        if self.points > 1:
            parts.append(f"{self.points:,} design points")
        if self.arms > 1:
            parts.append(f"{self.arms:,} arms")
        return (
            f"too large to run: {' × '.join(parts)} = {self.truces:,} simulated truces of up "
            f"to {self.days:,} days, about {_duration(self.cpu_seconds)} of CPU and "
            f"{_gigabytes(self.memory_bytes)} of memory on this machine; the limits are "
            f"{_duration(MAX_CPU_SECONDS)} of CPU and {_gigabytes(self.memory_limit)} "
            "(half its memory). Lower replicates or the size of the design"
        )


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.1f} {unit}" if value != 1 else f"1 {unit[:-1]}"
    return f"{seconds:.0f} seconds"


def _gigabytes(n: float) -> str:
    return f"{n / 2**30:,.1f} GB"


def _max_days(scenario: Scenario) -> int:
    """The longest lead time + horizon any arm or design point can set."""
    from sim.scenario.designs import design_values

    longest = {"truce.horizon": scenario.truce.horizon, "truce.lead_time": scenario.truce.lead_time}
    for key in longest:
        for value in design_values(scenario, key):
            if isinstance(value, int | float) and not isinstance(value, bool):
                longest[key] = max(longest[key], int(math.ceil(value)))
    return sum(longest.values())


def estimate_cost(scenario: Scenario, kind: str) -> Cost:
    """Estimate the CPU time and memory of an experiment before running it.

    Truce-days (replicates × design points × arms × (lead time + horizon))
    times :data:`SECONDS_PER_REPLICATE_DAY`, and rows (simulated truces) times
    :data:`BYTES_PER_ROW`; for a sweep with one arm, whose workers reduce each
    point to its aggregates, design points times :data:`BYTES_PER_POINT`.

    Args:
        scenario: the validated scenario (with the replicates to run).
        kind: ``"run"``, ``"compare"`` or ``"sweep"``.
    """
    from sim.scenario.designs import design_size

    arms = len(scenario.compare) if kind != "run" and scenario.compare else 1
    points = design_size(scenario.sweep) if kind == "sweep" and scenario.sweep else 1
    truces = scenario.replicates * points * arms
    days = _max_days(scenario)
    # a sweep with one arm reduces each point in the workers: memory grows with the points
    per_point = kind == "sweep" and scenario.sweep is not None and arms == 1
    memory = points * BYTES_PER_POINT if per_point else truces * BYTES_PER_ROW
    return Cost(
        replicates=scenario.replicates,
        points=points,
        arms=arms,
        days=days,
        truces=truces,
        cpu_seconds=truces * days * SECONDS_PER_REPLICATE_DAY,
        memory_bytes=memory,
        memory_limit=_physical_memory() * MEMORY_SHARE,
    )


def combined_problem(scenarios: list[Scenario], replicates: int, what: str) -> str | None:
    """Why running ``replicates`` truces of each of ``scenarios`` cannot fit (None if it can).

    Args:
        scenarios: the scenarios to run once each (e.g. every history file).
        replicates: truces per scenario.
        what: what the scenarios are, for the message ("history scenarios").
    """
    costs = [
        estimate_cost(s.model_copy(update={"replicates": replicates}), "run") for s in scenarios
    ]
    cpu = sum(c.cpu_seconds for c in costs)
    memory = max((c.memory_bytes for c in costs), default=0.0)
    limit = costs[0].memory_limit if costs else _physical_memory() * MEMORY_SHARE
    if cpu <= MAX_CPU_SECONDS and memory <= limit:
        return None
    return (
        f"too large to run: {replicates:,} replicates of each of {len(costs)} {what}, "
        f"about {_duration(cpu)} of CPU and {_gigabytes(memory)} of memory for the largest; "
        f"the limits are {_duration(MAX_CPU_SECONDS)} of CPU and {_gigabytes(limit)}. "
        "Lower --replicates"
    )


# --------------------------------------------------------------------------- forecasts

#: Disk per design point of a sweep's points table (``points/batch-*.parquet``), measured on
#: a 10,000-point LHS sweep of three parameters (benchmarks/sweep_scale.py, Dec 2026).
POINT_BYTES_ON_DISK = 600
#: Disk per simulated truce of a runs table in Parquet (see BYTES_PER_ROW), a few swept columns.
ROW_BYTES_ON_DISK = 70
#: Seconds to start the workers of an engine before the first task runs (spawned processes
#: import NumPy, pandas and Mesa, about a second each, two at a time on two cores; a Dask
#: LocalCluster also starts a scheduler).
STARTUP_SECONDS = {"serial": 0.0, "local": 2.0, "dask": 4.0}


class Forecast(BaseModel):
    """The time and disk a study will take, from a timed calibration of its own points.

    The wall time is ``startup + tasks × seconds_per_task / workers + tasks ×
    overhead_seconds_per_task``: the design's tasks (design points × arms, or
    chunks) run on ``workers`` cores at the speed one task ran at in the
    calibration, with perfect sharing (``benchmarks/scaling.py`` measures how
    close two workers come to it), plus what each task costs beyond its own
    work (on Dask: the scheduler's round trip and the serialisation both ways,
    measured on the cluster itself; 0 where it was not measured). The
    overhead is added, not overlapped with the work: right when the workers
    fill the machine's cores (a LocalCluster), an upper bound when the
    scheduler and the driver have cores of their own.
    """

    tasks: int
    truces: int
    days: int
    workers: int
    engine: str
    calibrated_tasks: int
    seconds_per_task: float
    startup_seconds: float
    seconds: float
    points_bytes: int
    runs_bytes: int
    runs_bytes_if_kept: int
    method: str
    overhead_seconds_per_task: float = 0.0
    startup_measured: bool = False

    @property
    def parts(self) -> dict[str, float]:
        """The predicted seconds by part: start-up, the tasks' work, the per-task overhead."""
        work = self.tasks * self.seconds_per_task / self.workers
        return {
            "startup": self.startup_seconds,
            "work": work,
            "overhead": self.tasks * self.overhead_seconds_per_task,
        }

    @property
    def disk_bytes(self) -> int:
        """What the results folder will take on disk (points and, when kept, runs)."""
        return self.points_bytes + self.runs_bytes


def forecast(
    cost: Cost,
    *,
    tasks: int,
    seconds_per_task: float,
    calibrated_tasks: int,
    workers: int,
    engine: str,
    per_point: bool,
    keep_runs: bool,
    overhead_seconds_per_task: float = 0.0,
    startup_seconds: float | None = None,
) -> Forecast:
    """How long a study will take and what it will store (see :class:`Forecast`).

    Args:
        cost: the study's size (:func:`estimate_cost`).
        tasks: tasks in the study (design points × arms per point, or chunks).
        seconds_per_task: mean seconds one task took in the calibration.
        calibrated_tasks: how many tasks were timed.
        workers: workers that will run the tasks.
        engine: ``"serial"``, ``"local"`` or ``"dask"``.
        per_point: whether the study stores per-point aggregates.
        keep_runs: whether it also stores one row per truce.
        overhead_seconds_per_task: what each task costs beyond its work (measured
            on the engine: the scheduler's round trip, serialisation), added.
        startup_seconds: the start-up measured on the engine (default: the
            engine's usual, :data:`STARTUP_SECONDS`).
    """
    workers = 1 if engine == "serial" else max(1, min(workers, tasks))
    measured = startup_seconds is not None
    startup = startup_seconds if startup_seconds is not None else STARTUP_SECONDS.get(engine, 0.0)
    overhead = tasks * overhead_seconds_per_task
    seconds = startup + tasks * seconds_per_task / workers + overhead
    where = "on the cluster" if measured else "in this process"
    points = cost.points * cost.arms if per_point else 0
    rows = cost.truces if (keep_runs or not per_point) else 0
    return Forecast(
        tasks=tasks,
        truces=cost.truces,
        days=cost.days,
        workers=workers,
        engine=engine,
        calibrated_tasks=calibrated_tasks,
        seconds_per_task=seconds_per_task,
        startup_seconds=startup,
        seconds=seconds,
        points_bytes=points * POINT_BYTES_ON_DISK,
        runs_bytes=rows * ROW_BYTES_ON_DISK,
        runs_bytes_if_kept=cost.truces * ROW_BYTES_ON_DISK,
        method=(
            f"{calibrated_tasks} of the {tasks:,} tasks timed {where} "
            f"({seconds_per_task:.3g} s each), × {tasks:,} tasks / {workers} worker(s) "
            + (
                f"+ {tasks:,} × {overhead_seconds_per_task * 1000:.3g} ms of overhead a task "
                "(tiny tasks timed through the scheduler) "
                if overhead_seconds_per_task
                else ""
            )
            + f"+ {startup:.0f} s to start the {engine} engine"
            + (" (measured)" if measured else "")
        ),
        overhead_seconds_per_task=overhead_seconds_per_task,
        startup_measured=measured,
    )
