"""The model: Mesa agents, their decision rules, random streams and the day-by-day trace.

Imports only :mod:`sim.scenario` from the package.
"""

from sim.model import mesa_parts

mesa_parts.defer()  # before any module of the model imports Mesa
mesa_parts.frames_only_logging()
