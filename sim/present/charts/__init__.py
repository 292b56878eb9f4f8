"""Charts as pure functions of result tables (plotly figures; never runs a model).

Every function takes tables described in ``docs/RESULTS.md`` (``runs``, or the
``days`` and ``events`` of one truce) and returns a
``plotly.graph_objects.Figure``. Titles, axis labels and hover texts are
plain language with units, the origins named as :mod:`sim.present.text` names
them. Each module draws one kind of chart; :mod:`.style` holds what they share
(colours, escaping, layout). This package exports the charts' public names.

The charts of a run or comparison also exist as plain figure dictionaries
(``survival_figure``, ``collapse_figure``, ``cause_figure``, ``daily_figure`` in
their modules), which the report draws without plotly's validation; the functions
here wrap the same dictionaries in a ``go.Figure``.
"""

from sim.present.charts.causes import cause_chart
from sim.present.charts.comparisons import contrast_table, hazard_ratio_chart, plottable_ratios
from sim.present.charts.daily import daily_chart
from sim.present.charts.horizons import collapse_bars
from sim.present.charts.sensitivity import SENSITIVITY_OUTPUTS, sensitivity_chart
from sim.present.charts.style import (
    DAY_AXIS,
    FIXED_COLORS,
    OKABE_ITO,
    PALETTE,
    color_for,
    colors_for,
)
from sim.present.charts.survival import survival_chart
from sim.present.charts.sweeps import (
    sweep_heatmap,
    sweep_heatmap_by,
    sweep_line,
    sweep_small_multiples,
)
from sim.present.charts.timeline import timeline_chart

__all__ = [
    "DAY_AXIS",
    "FIXED_COLORS",
    "OKABE_ITO",
    "PALETTE",
    "SENSITIVITY_OUTPUTS",
    "cause_chart",
    "collapse_bars",
    "color_for",
    "colors_for",
    "contrast_table",
    "daily_chart",
    "hazard_ratio_chart",
    "plottable_ratios",
    "sensitivity_chart",
    "survival_chart",
    "sweep_heatmap",
    "sweep_heatmap_by",
    "sweep_line",
    "sweep_small_multiples",
    "timeline_chart",
]
