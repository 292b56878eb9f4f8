"""Are the comparison's intervals the right width under common random numbers?

Runs ``scenarios/monitoring.yaml`` (horizon 180 days) with SEEDS different root
seeds and compares, for the hazard ratio and for the difference of shares
collapsed within 180 days, the spread of the estimates across seeds (the
truth about their sampling error) with the standard error each run reports
(its 95% half-width divided by 1.96). A ratio near 1 means honest intervals;
above 1, conservative (too wide); below 1, too narrow. Usage::

    python benchmarks/crn_intervals.py [SEEDS] [REPLICATES]
"""

from __future__ import annotations

import math
import statistics
import sys

from _common import ROOT, machine


def main(seeds: int = 60, replicates: int = 1000) -> None:
    import sim
    from sim.analysis.comparisons import compare_arms

    z = 1.959964
    log_hr, se_hr, diff, se_diff = [], [], [], []
    for seed in range(seeds):
        result = sim.compare(
            ROOT / "scenarios" / "monitoring.yaml",
            replicates=replicates,
            seed=seed,
            overrides={"truce.horizon": 180},
            out=None,
            engine="serial",
        )
        c = compare_arms(result.runs, "unmonitored", "monitored")
        log_hr.append(math.log(c.hazard_ratio))
        se_hr.append((math.log(c.hazard_ratio_high) - math.log(c.hazard_ratio_low)) / (2 * z))
        last = c.differences[-1]
        diff.append(last["difference"])
        se_diff.append((last["high"] - last["low"]) / (2 * z))
    print(f"machine: {machine()}")
    print(f"monitoring.yaml, horizon 180 days, {seeds} seeds x {replicates:,} truces per arm")
    print(f"paired difference intervals: {c.paired}")
    for name, values, reported in (
        ("log hazard ratio", log_hr, se_hr),
        ("difference collapsed <= 180 d", diff, se_diff),
    ):
        sd, se = statistics.stdev(values), statistics.fmean(reported)
        # The sample SD of SEEDS estimates has a relative standard error of about
        # 1/sqrt(2 (SEEDS - 1)): 9% with 60 seeds.
        print(
            f"{name}: SD across seeds {sd:.4f}, mean reported SE {se:.4f}, "
            f"ratio {se / sd:.2f} (+/- {se / sd / math.sqrt(2 * (seeds - 1)):.2f})"
        )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
