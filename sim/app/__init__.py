"""The classroom page (``truce app``; ``solara run sim.app``).

The page and the server are imported when first asked for, so that the page's
worker processes (:mod:`sim.app.workers`), which import this package to run
their tasks, do not import Solara.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Page", "serve"]


def __getattr__(name: str) -> Any:
    if name == "Page":
        from sim.app.page import Page

        return Page
    if name == "serve":
        from sim.app.server import serve

        return serve
    raise AttributeError(f"module 'sim.app' has no attribute {name!r}")
