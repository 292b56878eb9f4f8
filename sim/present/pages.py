"""The HTML pages' machinery: one jinja2 environment, the table model and embedded charts.

Every page (the report, the story, the hindcast) is a template under
``sim/present/templates/`` that extends ``base.html.j2``: the shared head with
the one stylesheet (``truce.css``) inlined, so that a page opens offline.
Autoescaping is on, so every string from a scenario file is HTML-escaped; the
only markup passed in as safe is plotly's own chart HTML (:func:`chart_div`).

plotly.js goes into a page with its first chart: the cartesian partial bundle
vendored in ``vendor/`` (every trace type the pages draw; see
``tools/vendor_plotly.py``), gzipped and base64-encoded, with a small script
that unpacks it in the browser (:func:`plotly_bundle`, :func:`plotly_script`).
A page is then about 0.6 MB, not 4.9 MB with plotly's full bundle inlined, and
still opens offline. Where the vendored bundle is not the version the installed
plotly writes figures for, the full bundle is inlined as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
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
    figure: go.Figure | dict[str, Any],
    div_id: str | None = None,
    include_plotlyjs: bool = True,
    height: str = "100%",
    config: Mapping[str, Any] | None = None,
) -> Markup:
    """A plotly figure as an HTML ``<div>`` (with plotly.js embedded when asked), marked safe.

    Plotly escapes the names in its figure JSON itself; the result goes into
    the page unescaped. plotly.js is the vendored partial bundle, packed
    (:func:`plotly_script`), or plotly's full bundle where that cannot be used.
    A figure given as a dictionary (``Figure.to_dict()``) is not validated again.
    """
    import plotly.io as pio

    packed = include_plotlyjs and plotly_bundle() is not None
    html = pio.to_html(
        figure,
        validate=not isinstance(figure, dict),
        full_html=False,
        include_plotlyjs=include_plotlyjs and not packed,
        config=dict(config or PLOTLY_CONFIG),
        div_id=div_id,
        default_width="100%",
        default_height=height,
    )
    if packed:
        html = plotly_script() + html
    return Markup(html)  # noqa: S704 - plotly's own markup, names inside are JSON-escaped


BUNDLE_TRACES = (
    "bar, box, contour, heatmap, histogram, histogram2d, histogram2dcontour, image, pie, "
    "scatter, scatterternary, violin"
)
"""The trace types of the vendored cartesian bundle (``tests/test_report_embedding.py`` checks)."""


@cache
def plotly_bundle() -> tuple[str, bytes] | None:
    """The vendored plotly.js bundle, gzipped: ``(version, bytes)``, or None.

    None when the vendored version is not the one the installed plotly
    writes figures for (refresh it with ``tools/vendor_plotly.py``).
    """
    from plotly.offline import get_plotlyjs_version

    version = get_plotlyjs_version()
    bundle = resources.files("sim.present") / "vendor" / f"plotly-cartesian-{version}.min.js.gz"
    if not bundle.is_file():
        return None
    return version, bundle.read_bytes()


@cache
def plotly_script() -> str:
    """The vendored bundle as page markup: its gzip in base64, and the script that runs it.

    The charts' own scripts call ``Plotly.newPlot`` as the page is read; the
    loader (``templates/plotly_loader.js``) defines a ``Plotly`` whose
    ``newPlot`` waits until the bundle is unpacked (``DecompressionStream``)
    and run, then draws. Raises ``RuntimeError`` without a vendored bundle.
    """
    import base64

    found = plotly_bundle()
    if found is None:
        raise RuntimeError("no vendored plotly.js bundle for the installed plotly")
    version, packed = found
    loader = (resources.files("sim.present") / "templates" / "plotly_loader.js").read_text()
    loader = loader.replace("{version}", version).replace("{traces}", BUNDLE_TRACES)
    data = base64.b64encode(packed).decode("ascii")
    return (
        f'<script id="plotly-js-gzip" type="application/octet-stream">{data}</script>\n'
        f"<script>\n{loader}</script>\n"
    )


def write_page(path: Any, html: str) -> None:
    """Write a page atomically (UTF-8), creating its folder."""
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    storage.atomic_write_bytes(path, html.encode("utf-8"))
