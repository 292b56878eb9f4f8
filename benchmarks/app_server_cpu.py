"""The classroom page's server: CPU time per slider release, before and after issue 16's fix.

Before, the server built both charts as plotly figures (the timeline, then the survival
chart of 50 and of 300 truces) and Solara's ``FigurePlotly`` compared each with the last
and sent it to plotly's FigureWidget (layout, new traces, old traces deleted). Now the
server builds the timeline's JSON only; the workers draw the survival charts
(:func:`sim.app.figures.ensemble_json`), and the browser redraws with ``Plotly.react``.
CPU time (``time.process_time``), interleaved, so the figures hold on a busy machine.
Usage::

    python benchmarks/app_server_cpu.py
"""

from __future__ import annotations

import os
import statistics
import time
import warnings

from plotly.graph_objs._figurewidget import FigureWidget

from sim.app.figures import ensemble_figure, ensemble_json, timeline_figure, timeline_json
from sim.app.levers import apply_levers, lever_values
from sim.app.truces import LiveTruce, TruceSetup, ensemble_runs
from sim.scenario.loading import load_scenario

warnings.filterwarnings("ignore")
s = load_scenario("scenarios/baseline.yaml")
prev = ensemble_runs(s)
v = lever_values(s)
v["loophole_width"] = 0.2
sc = apply_levers(s, v)
runs = ensemble_runs(sc)
first = runs.iloc[:50]
widgets = {"t": FigureWidget(), "e": FigureWidget()}
last = {}


def update(w, fig):  # solara's FigurePlotly.update_data, after reacton compares the figures
    if last.get(w) is not None:
        _ = last[w] == fig
    last[w] = fig
    fw = widgets[w]
    fw.layout = fig.layout
    n = len(fw.data)
    fw.add_traces(fig.data)
    fw.data = list(fw.data)[n:]


def old():
    m = LiveTruce(TruceSetup(sc))
    update("t", timeline_figure(m, 536))
    update("e", ensemble_figure(first.reset_index(drop=True), prev, 417))
    update("e", ensemble_figure(runs, prev, 417))


def new():
    m = LiveTruce(TruceSetup(sc))
    timeline_json(m)


def worker_new():
    ensemble_json(first.reset_index(drop=True), prev)
    ensemble_json(runs, prev)


res = {"old server": [], "new server": [], "new, in the workers": []}
for _ in range(8):
    for name, f in (("old server", old), ("new server", new), ("new, in the workers", worker_new)):
        t = time.process_time()
        f()
        res[name].append(time.process_time() - t)
for k, v in res.items():
    print(f"{k:22s} median CPU {1000 * statistics.median(v[1:]):6.0f} ms per release")
print("load", os.getloadavg())
