"""The classroom page (``truce app``; ``solara run sim.app``)."""

from sim.app.page import Page
from sim.app.server import serve

__all__ = ["Page", "serve"]
