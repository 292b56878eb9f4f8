"""Statistics on result tables: intervals, survival, comparisons, summaries, sensitivity, discovery.

Every function is pure: it takes a ``runs`` table (one row per simulated
truce, columns as in ``docs/RESULTS.md``) or a summary built from one, and
returns a new table or a plain dictionary. Each module is named for what it
computes:

- :mod:`~sim.analysis.intervals`: Wilson's interval of a share, Newcombe's of a
  difference of shares (independent and paired);
- :mod:`~sim.analysis.shares`: collapse shares by horizon, shares of causes;
- :mod:`~sim.analysis.survival`: Kaplan–Meier step tables and medians;
- :mod:`~sim.analysis.logrank`: the log-rank test (with the paired variance)
  and the hazard ratio;
- :mod:`~sim.analysis.comparisons`: one group compared with another, and the
  pairing of their replicates;
- :mod:`~sim.analysis.violations`: violations by origin and party, attribution;
- :mod:`~sim.analysis.summaries`: the summary of a results set
  (``summary.json``);
- :mod:`~sim.analysis.grouping` and :mod:`~sim.analysis.jsonable`: groups of a
  runs table, plain JSON values;
- :mod:`~sim.analysis.sensitivity`: Sobol and Morris indices of a sweep;
- :mod:`~sim.analysis.discovery`: scenario discovery over a sweep (PRIM boxes
  and a CART tree, from the optional extra ``truce-sim[discover]``).

The names below are the layer's interface; inside ``sim`` import from the
module that computes. The Kaplan–Meier step table is
:func:`sim.analysis.survival.survival`: it is not re-exported here, where its
name would hide the module's. Importing this package does not import
:mod:`scipy.stats`.
"""

from sim.analysis.comparisons import Comparison, compare_arms, paired_rows
from sim.analysis.grouping import swept_columns
from sim.analysis.intervals import newcombe_difference, newcombe_paired_difference, wilson
from sim.analysis.jsonable import to_jsonable
from sim.analysis.logrank import (
    ObservedExpected,
    hazard_ratio,
    logrank_scores,
    logrank_test,
    observed_expected,
    paired_logrank_variance,
)
from sim.analysis.shares import DEFAULT_HORIZONS, cause_shares, collapse_by_horizon
from sim.analysis.summaries import (
    SUMMARY_COLUMNS,
    SUMMARY_VERSION,
    parameter_names,
    summarize,
    summary_horizons,
)
from sim.analysis.survival import kaplan_meier, median_collapse_day, median_days_held
from sim.analysis.violations import (
    attribution,
    origin_columns,
    party_columns,
    violations_by_origin,
    violations_by_party,
)

__all__ = [
    "DEFAULT_HORIZONS",
    "SUMMARY_COLUMNS",
    "SUMMARY_VERSION",
    "Comparison",
    "ObservedExpected",
    "attribution",
    "cause_shares",
    "collapse_by_horizon",
    "compare_arms",
    "hazard_ratio",
    "kaplan_meier",
    "logrank_scores",
    "logrank_test",
    "median_collapse_day",
    "median_days_held",
    "newcombe_difference",
    "newcombe_paired_difference",
    "observed_expected",
    "origin_columns",
    "paired_logrank_variance",
    "paired_rows",
    "party_columns",
    "parameter_names",
    "summarize",
    "summary_horizons",
    "swept_columns",
    "to_jsonable",
    "violations_by_origin",
    "violations_by_party",
    "wilson",
]
