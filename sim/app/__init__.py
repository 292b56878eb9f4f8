"""The classroom page (``truce app``; ``solara run sim.app``)."""

from sim.app.page import Page, serve

__all__ = ["Page", "serve"]
