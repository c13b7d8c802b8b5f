"""Recorded runs: ``stridewatch show``, ``rpe``, ``calibrate``, ``export`` and ``import``
(agent/recording, agent/files)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from agent.cli.app import App, echo_json, json_option, parse_int, with_app
from agent.cli.group import command
from agent.errors import InputError


@command("show", epilog="Example: stridewatch show 12 --json")
@click.argument("run_text", metavar="RUN")
@json_option
@with_app
def show(app: App, run_text: str, as_json: bool) -> None:
    """One run's totals, splits per km (or mile), heart-rate zones and load."""
    from agent.views import run as run_report

    run_id = parse_int(run_text, "RUN", 1, 2**62)
    with app.open_store() as store:
        row = store.run_row(run_id)
        data = run_report.summary(row, store.run_samples(run_id), app.settings)
    if as_json:
        echo_json(data)
    else:
        run_report.print_summary(data, app.settings, row.get("note"))


@command("rpe", epilog="Example: stridewatch rpe 12 4")
@click.argument("run_text", metavar="RUN")
@click.argument("rpe_text", metavar="N")
@json_option
@with_app
def rpe_cmd(app: App, run_text: str, rpe_text: str, as_json: bool) -> None:
    """Set a run's effort (RPE 0-10); stores its session-RPE load (RPE x minutes)."""
    from agent.recording import recorder

    run_id = parse_int(run_text, "RUN", 1, 2**62)
    value = parse_int(rpe_text, "N", 0, 10)
    with app.open_store() as store:
        load = recorder.set_rpe(store, run_id, value)
    if as_json:
        echo_json({"run_id": run_id, "rpe": value, "session_rpe": round(load, 1)})
        return
    click.echo(f"run {run_id}: RPE {value}, session-RPE load {load:.0f}")


@command(
    "calibrate",
    epilog="Example: stridewatch calibrate C0:FF:EE:00:00:01 --actual-distance 5km --run 12",
)
@click.argument("address")
@click.option("--factor", "factor_text", metavar="F", help="The factor itself, e.g. 1.03.")
@click.option(
    "--actual-distance",
    "actual_text",
    metavar="D",
    help="The measured length of a known course (5km, 3.1mi) run in --run.",
)
@click.option("--run", "run_text", metavar="ID", help="The recorded run over that course.")
@json_option
@with_app
def calibrate(
    app: App,
    address: str,
    factor_text: str | None,
    actual_text: str | None,
    run_text: str | None,
    as_json: bool,
) -> None:
    """Set a footpod's distance calibration factor (dated; old runs keep their own)."""
    from agent import units
    from agent.recording import recorder

    if (factor_text is None) == (actual_text is None):
        raise InputError("give either --factor F, or --actual-distance D with --run ID")
    with app.open_store() as store:
        if factor_text is not None:
            factor = recorder.calibrate_factor(store, address, _parse_float(factor_text))
        else:
            if run_text is None:
                raise InputError("--actual-distance needs --run ID: the run over that course")
            actual = units.parse_distance(actual_text or "", app.settings.units)
            run_id = parse_int(run_text, "--run", 1, 2**62)
            factor = recorder.calibrate_from_run(store, address, actual, run_id)
    if as_json:
        echo_json({"address": address.upper(), "factor": round(factor, 4)})
        return
    click.echo(f"{address.upper()}: calibration factor {factor:.4f} from now on")


def _parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"--factor {text!r}: expected a number such as 1.03") from None


@command("export", epilog="Example: stridewatch export 12 --format fit -o long-run.fit")
@click.argument("run_text", metavar="RUN")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["fit"]),
    default="fit",
    show_default=True,
    help="File format (FIT: Garmin Connect, Strava and most training apps read it).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Where to write (default: stridewatch-run-ID-DATE.fit in the current folder).",
)
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@json_option
@with_app
def export(
    app: App, run_text: str, fmt: str, output: Path | None, force: bool, as_json: bool
) -> None:
    """Export a stored run as a FIT activity file; prints where it was written."""
    from agent.files import fit as fitfile
    from agent.views.text import run_distance

    run_id = parse_int(run_text, "RUN", 1, 2**62)
    with app.open_store() as store:
        run = store.get_run(run_id)
        path = output or Path(fitfile.default_file_name(run))
        # The samples are read in chunks as the file is written (a run can have millions).
        samples = store.iter_run_samples(run_id)
        result = fitfile.export_run(run, samples, path, zone=app.settings.zone, overwrite=force)
    if as_json:
        echo_json(
            {
                "path": str(result.path),
                "format": fmt,
                "run_id": run_id,
                "records": result.records,
                "distance_km": round(run.distance_km, 3),
            }
        )
        return
    distance = run_distance(run.distance_m, app.settings.units)
    click.echo(f"wrote {result.path} ({fmt.upper()}, {result.records} records, {distance})")


# A batch longer than this gets a progress bar (on a terminal, and not with --json).
PROGRESS_MIN_FILES = 20


@command(
    "import",
    epilog=(
        "Example: stridewatch import ~/Downloads/export_12345.zip\n\n"
        "A file from a watch whose clock was never set: "
        "stridewatch import old-fr70.fit --at '2014-05-03 07:30'"
    ),
)
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="FILE..."
)
@click.option(
    "--sport",
    type=click.Choice(["run"]),
    help="Take each single-activity file as a run, whatever sport it names or its speed "
    "suggests (a run your app labelled as a ride).",
)
@click.option(
    "--at",
    "at_text",
    metavar="DATETIME",
    help="When the run started, for a file whose device clock was never set (no date in "
    "it); local time in the configured zone unless it has an offset.",
)
@json_option
@with_app
def import_(
    app: App, paths: tuple[Path, ...], sport: str | None, at_text: str | None, as_json: bool
) -> None:
    """Import runs from FIT, TCX and GPX files (maybe .gz), folders of them, and zip exports
    (Strava's with its activities.csv, Garmin Connect's).

    Runs only: rides, walks, other sports and a triathlon's other legs are skipped, each
    with its reason; every run leg of a multisport file is a run of its own. The same run
    from two sources (overlapping in time) is stored once, keeping the better record (FIT
    over TCX over GPX, any file over a run logged by hand). A file that cannot be read gets
    one line and the rest goes on. Exit status 0 when at least one run was imported or
    already stored, 2 when none was.
    """
    from agent import units
    from agent.files import importer
    from agent.recording.intensity import HeartProfile

    window = app.settings.date_window()
    at = units.parse_datetime(at_text, app.settings.zone, window) if at_text else None
    runner = app.settings.runner
    heart = HeartProfile(runner.max_hr, runner.resting_hr, runner.sex)
    options = importer.ImportOptions(
        sport="run" if sport else None, at=at, heart=heart, window=window
    )
    with importer.Batch(paths) as batch:
        if not batch.inputs and all(note.status == "skipped" for note in batch.notes):
            raise InputError("no FIT, TCX or GPX files found in " + ", ".join(map(str, paths)))
        if sport and len(batch.inputs) > 1:
            raise InputError(
                f"--sport run is for one file at a time ({len(batch.inputs)} files given): "
                "a folder or an export holds walks and rides too"
            )
        with app.open_store() as store:
            outcomes = _import_with_progress(store, batch, options, as_json, app.settings.units)
    counts = importer.summary(outcomes)
    if as_json:
        files = [_outcome_json(o.as_json(), app.settings.zone) for o in outcomes]
        echo_json({"files": files, **counts})
    else:
        click.echo(", ".join(f"{n} {status}" for status, n in counts.items()))
    importer.check_batch(outcomes)


def _outcome_json(data: dict[str, Any], zone: Any) -> dict[str, Any]:
    """An imported activity's JSON with its start in the runner's zone, as every time."""
    from agent import units

    if data.get("started_at"):
        data["started_at"] = units.local_iso(datetime.fromisoformat(data["started_at"]), zone)
    return data


def _import_with_progress(
    store: Any, batch: Any, options: Any, quiet: bool, unit: Any
) -> list[Any]:
    """Import the batch, a line per outcome as each is known; a bar over the files for long
    batches on a terminal."""
    from agent.files import importer

    notes: list[importer.Outcome] = list(batch.notes)
    if quiet:
        return notes + importer.import_inputs(store, batch.inputs, options)
    if len(batch.inputs) <= PROGRESS_MIN_FILES or not sys.stdout.isatty():
        for note in notes:
            click.echo(note.line(unit))
        echo = lambda o: click.echo(o.line(unit))  # noqa: E731
        return notes + importer.import_inputs(store, batch.inputs, options, echo)
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("importing", total=len(batch.inputs))

        def said(outcome: importer.Outcome) -> None:
            progress.console.print(outcome.line(unit), markup=False, highlight=False)

        for note in notes:
            said(note)
        return notes + importer.import_inputs(
            store, batch.inputs, options, said, lambda _: progress.advance(task)
        )
