"""The model: Mesa agents, their decision rules, random streams and the day-by-day trace.

Imports only :mod:`sim.scenario` from the package.
"""
