"""The ``truce`` command: parse, call the library, print.

Heavy modules are imported inside the commands so that ``truce --help`` and
``truce validate`` start fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console

app = typer.Typer(
    name="truce",
    help="Simulate ceasefires: how likely is a truce to collapse, and what makes it hold?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
Replicates = Annotated[
    int | None,
    typer.Option(
        "--replicates",
        "-n",
        help="Simulated truces (default: the scenario's; the same limits as in the file).",
    ),
]
Seed = Annotated[
    int | None,
    typer.Option("--seed", help="Root random seed (default: the scenario's; 0 to 2**63 - 1)."),
]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Override a parameter: dotted.path=value (repeatable).", show_default=False
    ),
]
OutDir = Annotated[Path, typer.Option("--out", help="Results root folder.")]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print the summary as one JSON object on stdout.")
]
Engine = Annotated[
    str,
    typer.Option("--engine", help="Where chunks run: local (process pool), serial, or dask."),
]
Workers = Annotated[
    int | None,
    typer.Option("--workers", "-w", min=1, help="Worker processes (default: the number of cores)."),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Dask scheduler address (tcp://host:port); "
        "without it --engine dask starts a LocalCluster.",
        show_default=False,
    ),
]
Resume = Annotated[
    str | None,
    typer.Option(
        "--resume",
        metavar="[DIR]",
        help="Finish an interrupted run: DIR, or alone (after the scenario) for the "
        "latest unfinished run of this command.",
        show_default=False,
    ),
]
NoReport = Annotated[bool, typer.Option("--no-report", help="Do not write report.html.")]
ChunkSize = Annotated[
    int,
    typer.Option("--chunk-size", min=1, help="Replicates per chunk (part of a result's identity)."),
]

KeepRuns = Annotated[
    bool,
    typer.Option(
        "--keep-runs",
        help="Also store one row per simulated truce (runs/batch-*.parquet); by default a "
        "sweep stores per-point aggregates only (points/).",
    ),
]
DryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Time a few of the design's points, predict the whole sweep's time and disk, "
        "and stop (nothing is stored).",
    ),
]


#: Failed chunks listed one by one before the summary line.
SHOWN_FAILURES = 5


def fail(message: str, code: int = 2) -> None:
    """Print one error line on stderr and exit (no traceback).

    The message is printed as typed: brackets from a scenario are not rich
    markup and control characters are shown escaped (``display.printable``).
    """
    from rich.text import Text

    from sim.present.terminal import plain

    err.print(Text("error:", style="bold red"), plain(message), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handles_bad_input(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn scenario problems into one clear message and exit status 2."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sim.scenario.errors import ScenarioError

        try:
            return command(*args, **kwargs)
        except ScenarioError as exc:
            fail(str(exc))

    return wrapper


def load(path: Path, sets: list[str] | None = None, **options: Any):
    """Load and validate a scenario file with ``--set`` overrides.

    ``options`` go to :func:`sim.scenario.loading.load_scenario` (``flags`` given on the
    command line, the ``kind`` of experiment whose size to check).
    """
    from sim.scenario.loading import load_scenario

    return load_scenario(path, sets or [], **options)


_FREEZE = False
"""Set by :func:`main` (the console script): :func:`loading` then freezes what it loaded."""


@contextmanager
def loading() -> Iterator[None]:
    """Import a command's modules (and read its scenario) with the cyclic GC paused.

    Importing NumPy, pandas, Mesa and pydantic makes a few hundred thousand objects, none of
    them garbage, and the collector went over them again and again as they were made (about
    a tenth of the imports' CPU; issue 14). It runs as before afterwards. In the console
    script, what was loaded is also frozen (``gc.freeze``): later collections, in this
    process and in the workers forked from it, skip it, as the ``gc`` documentation
    advises before ``fork()``. Not in a library caller's process (a test's ``CliRunner``),
    whose objects would then never be collected.
    """
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _FREEZE:
            gc.freeze()
        if enabled:
            gc.enable()


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
    engine: Engine = "local",
    workers: Workers = None,
    scheduler: Scheduler = None,
    resume: Resume = None,
    no_report: NoReport = False,
    chunk_size: ChunkSize = 1000,
) -> None:
    """Run a scenario and summarise how often, how soon and why its truces collapse."""
    _experiment_command("run", **locals())


@app.command()
@handles_bad_input
def compare(
    scenario: ScenarioArg,
    replicates: Replicates = None,
    seed: Seed = None,
    set_: Sets = None,
    out_dir: OutDir = Path("results"),
    as_json: AsJson = False,
    engine: Engine = "local",
    workers: Workers = None,
    scheduler: Scheduler = None,
    resume: Resume = None,
    no_report: NoReport = False,
    chunk_size: ChunkSize = 1000,
) -> None:
    """Run the scenario's compare: arms on common random numbers and compare them."""
    _experiment_command("compare", **locals())


@app.command()
@handles_bad_input
def sweep(
    scenario: ScenarioArg,
    replicates: Replicates = None,
    seed: Seed = None,
    set_: Sets = None,
    out_dir: OutDir = Path("results"),
    as_json: AsJson = False,
    engine: Engine = "local",
    workers: Workers = None,
    scheduler: Scheduler = None,
    resume: Resume = None,
    no_report: NoReport = False,
    chunk_size: ChunkSize = 1000,
    keep_runs: KeepRuns = False,
    dry_run: DryRun = False,
) -> None:
    """Run the scenario's sweep: design and summarise each design point.

    Each design point is reduced to its aggregates where it runs (points/);
    --keep-runs also stores one row per truce. With a compare: block too,
    every point runs under every arm and the arms are compared at each point
    (a crossed design, which keeps its runs). --dry-run predicts the time and
    disk without running the sweep.
    """
    _experiment_command("sweep", **locals())


def _experiment_command(
    kind: str,
    *,
    scenario: Path,
    set_: list[str] | None,
    as_json: bool,
    out_dir: Path,
    resume: str | None,
    no_report: bool,
    engine: str,
    chunk_size: int = 1000,
    keep_runs: bool = False,
    dry_run: bool = False,
    **options: Any,
) -> None:
    """Shared body of ``run``, ``compare`` and ``sweep``: run, store, report, print."""
    flags = {
        "replicates": ("--replicates", options.get("replicates")),
        "seed": ("--seed", options.get("seed")),
    }
    with loading():
        from rich.text import Text

        from sim import api as experiment
        from sim.present import terminal as display
        from sim.present.terminal import plain, printable

        resolved = load(scenario, set_, flags=flags, kind=kind)
    if kind == "compare" and not resolved.compare:
        fail(f"{scenario}: compare: the scenario has no compare: block (named arms)")
    if kind == "sweep" and resolved.sweep is None:
        fail(f"{scenario}: sweep: the scenario has no sweep: block")
    if kind == "compare" and resolved.sweep is not None:
        err.print(
            "note: compare runs the arms at the scenario's own values; "
            "`truce sweep` runs them at every design point of its sweep: block",
            highlight=False,
        )
    if resume not in (None, "latest") and not Path(resume).is_dir():
        fail(f"--resume: no such results folder: {resume}")
    if dry_run:
        if resume is not None:
            fail("--dry-run: predicts a new sweep; it cannot be combined with --resume")
        _dry_run(kind, resolved, engine, chunk_size, keep_runs, as_json, options)
        return
    extra = {"store_runs": keep_runs} if kind == "sweep" else {}
    function = getattr(experiment, kind)
    label = {"run": "Simulating", "compare": "Comparing", "sweep": "Sweeping"}[kind]
    try:
        # the total is not known yet: the experiment reports it before the first chunk
        with display.progress_bar(f"{label} {resolved.name}", 0) as update:
            result = function(
                resolved,
                out=out_dir,
                progress=update,
                engine=engine,
                resume=True if resume == "latest" else resume,
                chunk_size=chunk_size,
                keep_runs=False,
                report=not no_report,
                **extra,
                **options,
            )
    except experiment.ExperimentFailed as exc:
        for f in exc.failures[:SHOWN_FAILURES]:
            err.print(
                Text("failed:", style="bold red"),
                plain(f"{f['where']}: {f['error']}"),
                highlight=False,
                soft_wrap=True,
            )
        if len(exc.failures) > SHOWN_FAILURES:
            err.print(f"… and {len(exc.failures) - SHOWN_FAILURES} more (see the manifest)")
        from sim.experiment.storage import finished_parts, point_batches

        path = exc.result.path
        if path is None:
            fail(f"{len(exc.failures)} chunk(s) failed; nothing was stored", code=1)
        stored = finished_parts(path) or point_batches(path)
        kept = "the rest is stored in" if stored else "none finished; the manifest is in"
        full = any("No space left" in f["error"] for f in exc.failures)
        fix = "Free some space" if full else "Fix the cause"
        fail(
            f"{len(exc.failures)} chunk(s) failed; {kept} {path}. "
            f"{fix} and re-run with --resume {path}",
            code=1,
        )
    except OSError as exc:  # the driver's own writes: a full disk, a folder gone
        where = f" {exc.filename}" if exc.filename else ""
        fail(
            f"cannot write the results{where}: {exc.strerror or exc}. Free some space (or fix "
            "the folder) and re-run the same command with --resume to complete it.",
            code=1,
        )
    except KeyboardInterrupt:
        import logging

        logging.disable(logging.CRITICAL)  # exiting: no library's log after the one message
        fail(
            "interrupted; finished chunks are stored. Re-run the same command with --resume "
            "to complete it.",
            code=130,
        )
    report = result.report
    if result.report_note:
        err.print(f"note: {printable(result.report_note)}", highlight=False, markup=False)
    summary = result.summary_dict
    if as_json:
        emit_json(
            {
                "scenario": resolved.name,
                "kind": kind,
                "seed": result.manifest["seed"],
                "engine": result.manifest["engine"],
                "results": str(result.path),
                "report": str(report) if report else None,
                **summary,
            }
        )
        return
    title = f"{resolved.name}: {resolved.description}".rstrip(": ")
    if kind == "sweep":
        tables = [display.sweep_table(summary, title, folder=result.path)]
        if summary.get("arms"):
            tables.append(display.crossed_comparison_table(summary))
    else:
        tables = [*display.summary_tables(summary, title), *display.comparison_tables(summary)]
    if summary.get("sensitivity"):
        tables.append(display.sensitivity_table(summary["sensitivity"]))
    for table in tables:
        out.print(table)
    out.print(
        f"Seed {result.manifest['seed']}; results in",
        plain(result.path, "bold"),
        highlight=False,
    )
    if report:
        out.print("Report:", plain(report, "bold"), highlight=False)


def _dry_run(
    kind: str,
    resolved: Any,
    engine: str,
    chunk_size: int,
    keep_runs: bool,
    as_json: bool,
    options: dict[str, Any],
) -> None:
    """``--dry-run``: print the predicted time and disk of an experiment (nothing stored)."""
    from sim import api as experiment
    from sim.present import terminal as display

    if options.get("scheduler"):
        fail("--dry-run: predicts a run on this machine; drop --scheduler")
    with display.progress_bar(f"Timing {resolved.name}", 0) as update:
        update(0, 1)
        found = experiment.forecast(
            kind,
            resolved,
            engine=engine,
            workers=options.get("workers"),
            chunk_size=chunk_size,
            keep_runs=keep_runs,
        )
        update(1, 1)
    if as_json:
        emit_json(
            {"scenario": resolved.name, "kind": kind, "keep_runs": keep_runs}
            | found.model_dump()
            | {"disk_bytes": found.disk_bytes}
        )
        return
    out.print(display.forecast_text(found, keep_runs), highlight=False)


@app.command()
@handles_bad_input
def validate(
    scenario: ScenarioArg,
    set_: Sets = None,
) -> None:
    """Check a scenario file and say what is wrong with it."""
    resolved = load(scenario, set_, kind="any")  # also refuses a design too large to run
    parties = len(resolved.principals)
    mission = "with monitors" if resolved.monitors else "without monitors"
    from rich.text import Text

    from sim.present.terminal import plain

    out.print(
        Text("ok", style="green"),
        plain(
            f"{scenario}: '{resolved.name}', {parties} parties, {len(resolved.sponsors)} "
            f"sponsors, {len(resolved.excluded)} excluded groups, {mission}"
        ),
        highlight=False,
    )


@app.command()
def report(
    results_dir: Annotated[
        Path, typer.Argument(help="A results folder (results/<scenario>/<timestamp>).")
    ],
    png: Annotated[
        bool, typer.Option("--png", help="Also export each chart as a PNG image.")
    ] = False,
) -> None:
    """Build report.html from stored results, without re-running anything."""
    import warnings

    from sim.present.report import PngExportWarning, build_report

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PngExportWarning)
        try:
            path = build_report(results_dir, png=png)
        except FileNotFoundError as exc:
            fail(str(exc))
    for warning in caught:
        err.print(f"[yellow]note:[/] {warning.message}", highlight=False)
    out.print(f"Report: [bold]{path}[/]")


@app.command("list")
def list_scenarios(
    directory: Annotated[
        Path | None, typer.Argument(help="Folder to list (default: the bundled scenarios).")
    ] = None,
) -> None:
    """Show the bundled scenarios with their one-line descriptions."""
    from rich.table import Table

    from sim.present.terminal import plain
    from sim.scenario.catalog import scenario_dir, scenario_files, summary_line

    folder = directory or scenario_dir()
    table = Table(title=plain(f"Scenarios in {folder}"), title_justify="left")
    table.add_column("file")
    table.add_column("name")
    table.add_column("description")
    for path in scenario_files(folder):
        name, description = summary_line(path)
        table.add_row(*(plain(x) for x in (path.relative_to(folder), name, description)))
    out.print(table)


@app.command("app")
def classroom_app(
    scenario: Annotated[
        Path | None,
        typer.Argument(help="Scenario YAML file to open first (default: the bundled ones)."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
    ] = 8765,
) -> None:
    """Start the classroom demo in the browser: sliders, step, moving plots."""
    from sim.app.server import serve

    out.print(f"Classroom demo at [bold]http://{host}:{port}/[/] (Ctrl+C to stop)", highlight=False)
    from sim.app.play_session import share_url

    shared = share_url(host, port)
    if shared:  # students play: the address their devices open
        out.print(f"Class session for students' devices: [bold]{shared}[/]", highlight=False)
    raise typer.Exit(serve(scenario, host, port))


@app.command()
@handles_bad_input
def story(
    scenario: ScenarioArg,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the truce to tell.")] = 0,
    find: Annotated[
        str | None,
        typer.Option(
            "--find",
            help="Start at --seed and pick the first truce that ends this way: collapse|survive.",
        ),
    ] = None,
    html_path: Annotated[
        Path | None,
        typer.Option("--html", help="Where to write the page (default: results/stories/)."),
    ] = None,
    set_: Sets = None,
    beats: Annotated[
        int | None,
        typer.Option(
            "--beats",
            min=1,
            help="Eventful days told in full, the most telling first; the days between are "
            "summed up in a line each (default 14).",
            show_default=False,
        ),
    ] = None,
    minutes: Annotated[
        float | None,
        typer.Option(
            "--minutes",
            min=0.5,
            help="Longest the story may take read aloud, at 150 words a minute: fewer days "
            "are told in full until it fits (default 5).",
            show_default=False,
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="Tell every eventful day (a year can take 20 minutes)."),
    ] = False,
) -> None:
    """Tell one seeded truce day by day, in words and as an annotated timeline page."""
    from sim.present import story as st

    if find is not None and find not in st.ENDINGS:
        fail(f"--find must be one of {', '.join(st.ENDINGS)}, not {find!r}")
    if full and (beats is not None or minutes is not None):
        fail("--full tells every day: give it without --beats and --minutes")
    if not full:
        beats = st.DEFAULT_BEATS if beats is None else beats
        minutes = st.DEFAULT_MINUTES if minutes is None else minutes
    resolved = load(scenario, set_)
    if find is not None:
        try:
            # find is one of st.ENDINGS: checked above
            seed = st.find_seed(resolved, cast("st.Ending", find), start=seed)
        except st.NoSuchStory as exc:
            fail(str(exc), code=1)
    told = st.tell(resolved, seed, beats=beats, minutes=minutes)
    from sim.present.terminal import printable

    for line in told.lines:
        out.print(printable(line), highlight=False, markup=False)
    path = st.write_html(told, html_path or st.default_html_path(scenario, seed))
    out.print(f"Page with the annotated timeline: [bold]{path}[/]", highlight=False)


@app.command()
@handles_bad_input
def hindcast(
    dirs: Annotated[
        list[Path] | None,
        typer.Argument(help="History folders (default: scenarios/history).", show_default=False),
    ] = None,
    replicates: Annotated[
        int, typer.Option("--replicates", "-n", min=1, help="Simulated truces per scenario.")
    ] = 1000,
    leave_one_out: Annotated[
        bool,
        typer.Option(
            "--leave-one-out",
            help="Also calibrate on all history files but one and score the one left out, "
            "for each (slow: one calibration per file).",
        ),
    ] = False,
    budget: Annotated[
        int, typer.Option("--budget", min=1, help="Leave-one-out: design points per fold.")
    ] = 40,
    calibration_replicates: Annotated[
        int,
        typer.Option(
            "--calibration-replicates",
            min=1,
            help="Leave-one-out: truces per scenario and design point.",
        ),
    ] = 100,
    refine: Annotated[
        int, typer.Option("--refine", min=1, help="Leave-one-out: best points re-run per fold.")
    ] = 3,
    refine_replicates: Annotated[
        int,
        typer.Option(
            "--refine-replicates", min=1, help="Leave-one-out: truces per scenario when refining."
        ),
    ] = 300,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Leave-one-out: seed of each fold's design.")
    ] = 20120412,
    from_calibration: Annotated[
        Path | None,
        typer.Option(
            "--from-calibration",
            help="Leave-one-out on this `truce calibrate` folder's design: no new design "
            "runs, each fold's best point unrefined (fast).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Leave-one-out: processes.")
    ] = 1,
    as_json: AsJson = False,
    out_dir: OutDir = Path("results"),
) -> None:
    """Hold the model against history: log scores, skill, rank correlation, stylized facts."""
    from sim.experiment.storage import new_run_dir
    from sim.present import hindcast_page
    from sim.present.terminal import hindcast_tables
    from sim.validation import hindcast as hc

    if from_calibration is not None and not leave_one_out:
        from sim.scenario.errors import ScenarioError

        raise ScenarioError("--from-calibration", "give it with --leave-one-out")
    if leave_one_out and from_calibration is None:  # the whole cost, checked before any work
        from sim.scenario.errors import ScenarioError
        from sim.validation import calibrate as cal

        problem = cal.leave_one_out_problem(
            hc.load_history(dirs),
            budget,
            calibration_replicates,
            refine,
            refine_replicates,
            replicates,
            hindcast_replicates=replicates,
        )
        if problem:
            raise ScenarioError("--budget", problem)
    result = hc.hindcast(dirs, replicates=replicates)
    if leave_one_out:
        from sim.present.terminal import progress_bar
        from sim.validation import calibrate as cal

        folds = len(result.files)
        if from_calibration is not None:
            with progress_bar("Leave-one-out", folds + 1) as update:
                result.leave_one_out = cal.leave_one_out_from_design(
                    from_calibration,
                    hc.load_history(dirs),
                    score_replicates=replicates,
                    workers=workers,
                    progress=update,
                )
        else:
            with progress_bar("Leave-one-out", folds * (budget + min(refine, budget))) as update:
                result.leave_one_out = cal.leave_one_out(
                    hc.load_history(dirs),
                    budget=budget,
                    replicates=calibration_replicates,
                    seed=seed,
                    refine=refine,
                    refine_replicates=refine_replicates,
                    score_replicates=replicates,
                    workers=workers,
                    progress=update,
                )
    data = result.to_dict()
    report = hindcast_page.write_html(data, new_run_dir(out_dir, "hindcast") / "report.html")
    if as_json:
        emit_json({**data, "report": str(report)})
        return
    for table in hindcast_tables(data):
        out.print(table)
    out.print(data["scores"]["meaning"], highlight=False, markup=False)
    out.print(f"Report with the chart: [bold]{report}[/]", highlight=False)


@app.command()
@handles_bad_input
def calibrate(
    budget: Annotated[
        int, typer.Option("--budget", min=1, help="Latin-hypercube points.")
    ] = 120,  # sim.validation.calibrate.BUDGET (a test checks they agree)
    replicates: Annotated[
        int, typer.Option("--replicates", "-n", min=1, help="Truces per scenario and point.")
    ] = 100,  # .REPLICATES
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the design.")] = 20120412,
    accept: Annotated[
        float, typer.Option("--accept", min=0.0, max=1.0, help="Share of points accepted.")
    ] = 0.1,
    refine: Annotated[
        int, typer.Option("--refine", min=1, help="Best points re-run.")
    ] = 5,  # .REFINE
    refine_replicates: Annotated[
        int, typer.Option("--refine-replicates", min=1, help="Truces per scenario when refining.")
    ] = 300,  # .REFINE_REPLICATES
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Processes evaluating design points.")
    ] = 1,
    as_json: AsJson = False,
    out_dir: OutDir = Path("results"),
) -> None:
    """Fit the global constants to the historical truces and stylized facts (ABC rejection)."""
    from sim.present.terminal import progress_bar
    from sim.validation import calibrate as cal

    if accept <= 0:
        fail("--accept must be above 0")
    problem = cal.calibration_problem(
        cal.load_history(), budget, replicates, refine, refine_replicates
    )
    if problem:  # before any work: nothing run, nothing written
        fail(f"--budget: {problem}")
    with progress_bar("Calibrating", budget + min(refine, budget)) as update:
        result = cal.calibrate(
            budget,
            replicates,
            seed,
            accept,
            refine,
            refine_replicates,
            out=out_dir,
            progress=update,
            workers=workers,
        )
    if as_json:
        emit_json(
            {
                "results": str(result.path),
                "constants": result.best,
                "fit": result.best_fit,
                "seed": seed,
                "budget": budget,
                "accepted": len(result.accepted),
            }
        )
        return
    table = result.posterior().to_string(float_format=lambda x: f"{x:.4g}")
    out.print(table, highlight=False, soft_wrap=True)
    out.print(
        f"Fit of the estimate: distance {result.best_fit['distance']:.3f}; "
        f"results in [bold]{result.path}[/]",
        highlight=False,
    )


@app.command("schema")
def schema_command(
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the schema to this file instead of printing it.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --out: print the file written as JSON.")
    ] = False,
) -> None:
    """Print the JSON Schema of scenario files (for editors and other tools)."""
    from sim.experiment.storage import atomic_write_bytes
    from sim.scenario.file_schema import file_schema

    text = json.dumps(file_schema(), indent=2) + "\n"
    if out_file is None:
        sys.stdout.write(text)
        return
    if out_file.is_dir():
        fail(f"--out {out_file}: a folder; expected a file name for the schema")
    if not out_file.parent.is_dir():
        fail(
            f"--out {out_file}: no folder {out_file.parent}; expected a file in an existing folder"
        )
    try:
        atomic_write_bytes(out_file, text.encode())
    except OSError as exc:
        fail(f"--out {out_file}: cannot write ({exc.strerror or exc})")
    if as_json:
        emit_json({"schema": str(out_file)})
    else:
        out.print(f"Schema: [bold]{out_file}[/]", highlight=False)


@app.command("export")
def export_command(
    results_dir: Annotated[
        Path, typer.Argument(help="A results folder (results/<scenario>/<timestamp>).")
    ],
    csv: Annotated[
        bool, typer.Option("--csv", help="Write the runs, summary and daily tables as CSV files.")
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for the files (default: RESULTS_DIR/csv).", show_default=False
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the list of files written as JSON.")
    ] = False,
) -> None:
    """Export stored results for spreadsheets: runs, collapse shares, causes, comparisons."""
    from sim.experiment.export import ExportError, export_csv

    if not csv:
        fail("choose a format: --csv (the only one so far)")
    try:
        written = export_csv(results_dir, out_dir)
    except ExportError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or out_dir}: cannot write ({exc.strerror or exc})")
    if as_json:
        emit_json({"files": [str(p) for p in written]})
        return
    for path in written:
        out.print(str(path), highlight=False, markup=False)


@app.command()
@handles_bad_input
def rerun(
    manifest: Annotated[
        Path,
        typer.Argument(
            help="A results folder's manifest.json (or the folder): a finished run, compare "
            "or sweep.",
            show_default=False,
        ),
    ],
    out_dir: OutDir = Path("results"),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the outcome as one JSON object on stdout.")
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Run on this engine instead of the recorded one: local, serial or dask "
            "(results do not depend on it).",
            show_default=False,
        ),
    ] = None,
    workers: Workers = None,
    no_report: NoReport = False,
) -> None:
    """Re-create a stored run from its manifest alone and check its runs are identical.

    Exit status 1 when the re-created runs table differs from the stored one;
    a warning (not a failure) when the package versions or git commit recorded
    differ from today's.
    """
    from sim import api
    from sim.present import terminal as display
    from sim.present.terminal import plain

    try:
        with display.progress_bar("Re-running", 0) as update:
            done = api.rerun(
                manifest,
                out=out_dir,
                engine=engine,
                workers=workers,
                progress=update,
                report=not no_report,
            )
    except api.ExperimentFailed as exc:
        where = exc.result.path or "nowhere"
        fail(f"the re-run failed: {exc}; what finished is in {where}", code=1)
    result = done.result
    if done.changes:
        err.print(
            plain("warning: made with other versions than today's (results may differ): ", "yellow")
            + plain("; ".join(done.changes)),
            highlight=False,
            soft_wrap=True,
        )
    if as_json:
        emit_json(
            {
                "original": str(done.original),
                "kind": done.kind,
                "results": str(result.path) if result else None,
                "report": str(result.report) if result and result.report else None,
                "identical": done.identical,
                "parts": done.parts,
                "rows": done.rows,
                "differences": done.differences,
                "warnings": done.changes,
            }
        )
        if not done.identical:
            raise typer.Exit(1)
        return
    if result is not None:
        out.print("Re-run in", plain(result.path, "bold"), highlight=False, soft_wrap=True)
    if not done.identical:
        for line in done.differences[:SHOWN_FAILURES]:
            err.print(plain(f"differs: {line}", "red"), highlight=False, soft_wrap=True)
        more = len(done.differences) - SHOWN_FAILURES
        if more > 0:
            err.print(f"… and {more} more", highlight=False)
        what = "was not re-run" if result is None else f"differs from {done.original}"
        fail(f"the {done.kind} {what}: {len(done.differences)} difference(s)", code=1)
    out.print(
        plain(
            f"Identical: the re-created {done.kind} has the same {done.rows:,} rows "
            f"in {done.parts} parts, value for value, as {done.original}",
            "green",
        ),
        highlight=False,
        soft_wrap=True,
    )
    if result is not None and result.report:
        out.print("Report:", plain(result.report, "bold"), highlight=False)


@app.command()
@handles_bad_input
def discover(
    results_dir: Annotated[
        Path,
        typer.Argument(
            help="A finished sweep's results folder (results/<scenario>/<timestamp>).",
            show_default=False,
        ),
    ],
    target: Annotated[
        str,
        typer.Option(
            "--target",
            help="What counts as a truce holding up, per design point: OUTPUT<=VALUE (or >=, "
            "<, >) on collapse_share, held_share or mean_days_held, e.g. collapse_share<=0.3.",
            show_default=False,
        ),
    ],
    horizon: Annotated[
        int | None,
        typer.Option(
            "--horizon",
            help="Day the outputs are taken at (default: the days simulated).",
            show_default=False,
        ),
    ] = None,
    arm: Annotated[
        str | None,
        typer.Option(
            "--arm",
            help="In a crossed design, this arm only (default: each arm on its own).",
            show_default=False,
        ),
    ] = None,
    min_coverage: Annotated[
        float,
        typer.Option(
            "--min-coverage",
            help="The chosen box keeps at least this share of the points meeting the target.",
        ),
    ] = 0.5,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON object on stdout.")
    ] = False,
    no_report: Annotated[
        bool,
        typer.Option("--no-report", help="Do not rebuild the folder's report.html."),
    ] = False,
) -> None:
    """Where in a sweep's design do truces hold? PRIM boxes and a CART tree for a target.

    Writes RESULTS_DIR/discover.json and, when the folder has a report.html,
    rebuilds it with a scenario-discovery section. Needs the extra
    truce-sim[discover] (EMA Workbench and scikit-learn).
    """
    import contextlib

    from sim import api
    from sim.analysis.discovery import DiscoveryError, MissingExtra
    from sim.present import terminal as display
    from sim.present.terminal import plain

    result = api.load(results_dir)
    try:
        # a few seconds, most of them importing EMA Workbench: a spinner, on a terminal only
        with (
            err.status("Discovering: PRIM boxes and a CART tree…")
            if err.is_terminal
            else (contextlib.nullcontext())
        ):
            found = result.discover(
                target, horizon=horizon, arm=arm, min_coverage=min_coverage, save=True
            )
    except DiscoveryError as exc:
        fail(str(exc))
    except MissingExtra as exc:
        fail(str(exc), code=1)
    except OSError as exc:
        fail(f"{exc.filename or results_dir}: cannot write ({exc.strerror or exc})", code=1)
    report = None
    if result.report is not None and not no_report:
        report, _ = api.write_report(result)
    if as_json:
        emit_json(found)
        return
    for table in display.discovery_tables(found):
        out.print(table)
    out.print("Written:", plain(Path(results_dir) / api.DISCOVER, "bold"), highlight=False)
    if report:
        out.print("Report:", plain(report, "bold"), highlight=False)


def resume_flag(argv: list[str]) -> list[str]:
    """Let ``--resume`` stand alone: with no folder after it, it means the latest unfinished run."""
    out_ = list(argv)
    for i, arg in enumerate(out_):
        if arg == "--resume" and (i + 1 == len(out_) or out_[i + 1].startswith("-")):
            out_[i] = "--resume=latest"
    return out_


def main() -> None:
    """Entry point of the ``truce`` console script.

    On the way out everything still alive is frozen (``gc.freeze``): the interpreter's
    last collections at exit then skip it. They went over every object of every loaded
    module and took about as long as the report (0.3 s of CPU on a busy machine, 35 ms
    frozen; issue 14). Objects are finalised as before; only cyclic garbage left at
    exit is no longer collected, and the process is ending.
    """
    global _FREEZE
    _FREEZE = True  # a process of its own: what start-up loads stays (see loading)
    try:
        app(args=resume_flag(sys.argv[1:]))
    finally:
        import gc

        gc.freeze()


if __name__ == "__main__":
    main()
