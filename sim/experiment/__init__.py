"""Experiments: plans of design points × chunks, executors, storage and provenance.

It runs models and stores their tables; it does not summarise them (that is
:mod:`sim.analysis`).
"""
