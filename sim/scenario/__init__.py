"""Scenarios: the schema of every parameter, loading YAML files, and experiment designs.

The bottom layer: it imports nothing else from ``sim``.
"""
