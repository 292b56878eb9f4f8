"""PNG export of a report's charts with kaleido (optional: needs Chrome or Chromium)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.experiment import storage
from sim.present.report.figures import Chart


class PngExportError(RuntimeError):
    """PNG export of the charts is not possible here (the message says what to install)."""


class PngExportWarning(UserWarning):
    """Issued by :func:`build_report` when ``png=True`` but PNGs could not be written."""


def png_support() -> str | None:
    """Why PNG export would fail here, or None if kaleido is importable."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return (
            "PNG export needs the kaleido package: install it with "
            "`pip install 'kaleido>=1'`; it also needs Chrome or Chromium "
            "(`apt-get install -y chromium`)."
        )
    return None


def export_pngs(chart_list: Sequence[Chart], out_dir: Path) -> list[Path]:
    """Write each chart to ``out_dir/<key>.png`` (1280 px wide) with kaleido.

    Args:
        chart_list: the charts.
        out_dir: the folder (created if missing).

    Returns:
        The files written.

    Raises:
        PngExportError: kaleido is missing or could not start a browser; the
            message says what to install.
    """
    problem = png_support()
    if problem:
        raise PngExportError(problem)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for chart in chart_list:
        path = out_dir / f"{chart.key}.png"
        figure = chart.plotly_figure()
        try:
            data = figure.to_image(
                format="png", width=1280, height=figure.layout.height or 540, scale=2
            )
        except Exception as err:  # kaleido raises several kinds when no browser is found
            raise PngExportError(
                f"PNG export failed: {err}. kaleido needs Chrome or Chromium: "
                "`apt-get install -y chromium` (or `plotly_get_chrome`)."
            ) from err
        storage.atomic_write_bytes(path, data)
        written.append(path)
    return written
