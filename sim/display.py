"""Rich tables for the terminal, built from summary dictionaries (no model code)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sim.analysis import pct, pct_range


def summary_tables(summary: dict[str, Any], title: str) -> list[Table]:
    """One table of collapse shares per group, then causes, from ``summarize``'s output."""
    by = summary["by"]
    horizons = sorted({row["horizon"] for g in summary["groups"] for row in g["collapse"]})
    main = Table(title=title, title_justify="left")
    main.add_column(by.capitalize() if by != "arm" else "Truce")
    main.add_column("Replicates", justify="right")
    for h in horizons:
        main.add_column(f"Collapsed ≤ {h} d\n(95% CI)", justify="right")
    main.add_column("Median days held\n(Kaplan–Meier)", justify="right")
    main.add_column("Median collapse day\n(collapsed only)", justify="right")
    causes = Table(title="Causes of collapse (share of collapsed truces)", title_justify="left")
    causes.add_column(by.capitalize() if by != "arm" else "Truce")
    names = list(dict.fromkeys(c["cause"] for g in summary["groups"] for c in g["causes"]))
    for name in names:
        causes.add_column(name, justify="right")
    for g in summary["groups"]:
        label = str(g[by])
        by_horizon = {row["horizon"]: row for row in g["collapse"]}
        cells = []
        for h in horizons:
            row = by_horizon.get(h)
            cells.append(
                f"{pct(row['share'])} ({pct_range(row['low'], row['high'])})" if row else "—"
            )
        median = g["median_days_held"]
        median_text = f"{median:.0f}" if median is not None else f"> {g['horizon']}"
        mc = g.get("median_collapse_day")
        main.add_row(label, f"{g['replicates']:,}", *cells, median_text,
                     f"{mc:.0f}" if mc is not None else "—")
        shares = {c["cause"]: c["share"] for c in g["causes"]}
        causes.add_row(label, *(pct(shares[n]) if n in shares else "—" for n in names))
    return [main, causes] if names else [main]


@contextmanager
def progress_bar(description: str, total: int, enabled: bool = True) -> Iterator[Any]:
    """A progress bar on stderr with rate and ETA; yields ``update(done, total)``."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal and not console.is_jupyter:
        yield lambda done, total: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=total, rate="")

        def update(done: int, total_: int) -> None:
            elapsed = bar.tasks[0].elapsed or 1e-9
            bar.update(task, completed=done, total=total_, rate=f"{done / elapsed:,.0f} truces/s")

        yield update
