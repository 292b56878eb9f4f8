"""The ``truce`` command: parse, call the library, print.

Heavy modules are imported inside the commands so that ``truce --help`` and
``truce validate`` start fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(
    name="truce",
    help="Simulate ceasefires: how likely is a truce like this to collapse, and what makes it hold?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
Replicates = Annotated[
    int | None, typer.Option("--replicates", "-n", min=1, help="Simulated truces (default: the scenario's).")
]
Seed = Annotated[int | None, typer.Option("--seed", min=0, help="Root random seed (default: the scenario's).")]
Sets = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a parameter: dotted.path=value (repeatable).", show_default=False),
]
OutDir = Annotated[Path, typer.Option("--out", help="Results root folder.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object on stdout.")]


def fail(message: str, code: int = 2) -> None:
    """Print one error line on stderr and exit (no traceback)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handles_bad_input(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn scenario problems into one clear message and exit status 2."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sim.config import ScenarioError

        try:
            return command(*args, **kwargs)
        except ScenarioError as exc:
            fail(str(exc))

    return wrapper


def load(path: Path, sets: list[str] | None = None):
    """Load and validate a scenario file with ``--set`` overrides."""
    from sim.config import load_scenario

    return load_scenario(path, sets or [])


def emit_json(obj: dict[str, Any]) -> None:
    """Print one JSON object on stdout, nothing else."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


@app.command()
@handles_bad_input
def run(
    scenario: ScenarioArg,
    replicates: Replicates = None,
    seed: Seed = None,
    set_: Sets = None,
    out_dir: OutDir = Path("results"),
    as_json: AsJson = False,
) -> None:
    """Run a scenario and summarise how often, how soon and why its truces collapse."""
    from sim.display import progress_bar, summary_tables
    from sim.experiment import run as run_experiment

    resolved = load(scenario, set_)
    total = replicates or resolved.replicates
    with progress_bar(f"Simulating {resolved.name}", total) as update:
        result = run_experiment(resolved, replicates=replicates, seed=seed, out=out_dir, progress=update)
    summary = result.summary_dict
    if as_json:
        emit_json({"scenario": resolved.name, "seed": result.manifest["seed"],
                   "results": str(result.path), **summary})
        return
    for table in summary_tables(summary, f"{resolved.name}: {resolved.description}".rstrip(": ")):
        out.print(table)
    out.print(f"Seed {result.manifest['seed']}; results in [bold]{result.path}[/]")


@app.command()
@handles_bad_input
def validate(
    scenario: ScenarioArg,
    set_: Sets = None,
) -> None:
    """Check a scenario file and say what is wrong with it."""
    resolved = load(scenario, set_)
    parties = len(resolved.principals)
    mission = "with monitors" if resolved.monitors else "without monitors"
    out.print(
        f"[green]ok[/] {scenario}: '{resolved.name}', {parties} parties, "
        f"{len(resolved.sponsors)} sponsors, {len(resolved.excluded)} excluded groups, {mission}",
        highlight=False,
    )


@app.command("list")
def list_scenarios(
    directory: Annotated[
        Path | None, typer.Argument(help="Folder to list (default: the bundled scenarios).")
    ] = None,
) -> None:
    """Show the bundled scenarios with their one-line descriptions."""
    from rich.table import Table

    from sim.catalog import scenario_dir, scenario_files, summary_line

    folder = directory or scenario_dir()
    table = Table(title=f"Scenarios in {folder}", title_justify="left")
    table.add_column("file")
    table.add_column("name")
    table.add_column("description")
    for path in scenario_files(folder):
        name, description = summary_line(path)
        table.add_row(str(path.relative_to(folder)), name, description)
    out.print(table)


def main() -> None:
    """Entry point of the ``truce`` console script."""
    app()


if __name__ == "__main__":
    main()
