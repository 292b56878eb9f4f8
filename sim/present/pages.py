"""The HTML pages' machinery: one jinja2 environment, the table model and embedded charts.

Every page (the report, the story, the hindcast) is a template under
``sim/present/templates/`` that extends ``base.html.j2``: the shared head with
the one stylesheet (``truce.css``) inlined, so that a page opens offline.
Autoescaping is on, so every string from a scenario file is HTML-escaped; the
only markup passed in as safe is plotly's own chart HTML (:func:`chart_div`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from sim.experiment import storage

MAX_OPEN_TABLE_ROWS = 25
"""Tables with more rows than this are shown in a closed ``<details>``."""
PLOTLY_CONFIG = {"responsive": True, "displaylogo": False}
"""The plotly options of every embedded chart."""


@dataclass
class Table:
    """An HTML table as data, rendered by the ``table`` macro of ``macros.html.j2``.

    Attributes:
        headers: column heads (none: a table without a head row).
        rows: the cells, row by row (each shown as text, escaped).
        numeric_from: the first column aligned right as a number.
        fold: the title of the closed ``<details>`` a long table goes in
            (None: always open).
    """

    headers: Sequence[Any] | None
    rows: list[list[Any]] = field(default_factory=list)
    numeric_from: int = 1
    fold: str | None = None

    @property
    def folded(self) -> bool:
        """Whether the table is long enough to go in a closed ``<details>``."""
        return self.fold is not None and len(self.rows) > MAX_OPEN_TABLE_ROWS


def table(
    headers: Sequence[Any] | None,
    rows: Iterable[Sequence[Any]],
    numeric_from: int = 1,
    fold: str | None = None,
) -> Table:
    """A :class:`Table` from any iterable of rows."""
    return Table(headers, [list(r) for r in rows], numeric_from, fold)


@cache
def environment() -> Environment:
    """The jinja2 environment of the pages: the package's templates, autoescape on."""
    return Environment(
        loader=PackageLoader("sim.present", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_page(template: str, **context: Any) -> str:
    """Render one page template with ``context`` (pure: writes nothing)."""
    return environment().get_template(template).render(**context)


def chart_div(
    figure: go.Figure,
    div_id: str | None = None,
    include_plotlyjs: bool = True,
    height: str = "100%",
    config: Mapping[str, Any] | None = None,
) -> Markup:
    """A plotly figure as an HTML ``<div>`` (with plotly.js embedded when asked), marked safe.

    Plotly escapes the names in its figure JSON itself; the result goes into
    the page unescaped.
    """
    html = figure.to_html(
        full_html=False,
        include_plotlyjs=include_plotlyjs,
        config=dict(config or PLOTLY_CONFIG),
        div_id=div_id,
        default_width="100%",
        default_height=height,
    )
    return Markup(html)  # noqa: S704 - plotly's own markup, names inside are JSON-escaped


def write_page(path: Any, html: str) -> None:
    """Write a page atomically (UTF-8), creating its folder."""
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    storage.atomic_write_bytes(path, html.encode("utf-8"))
