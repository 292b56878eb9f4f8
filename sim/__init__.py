"""Ceasefire durability simulator."""

__version__ = "0.1.0"
