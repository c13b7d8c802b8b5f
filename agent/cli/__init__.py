"""The ``stridewatch`` command: parse, call the library, format. No rules and no SQL here.

Heavy imports (bleak, apscheduler, plyer, rich) happen inside the commands that need them,
so ``stridewatch --version`` and ``stridewatch check`` start fast.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from agent import __version__
from agent.cli import config_cmd, daemon_cmd, listing, manual, recording, sensors
from agent.cli.app import (
    App,
    F,
    at_option,
    config_option,
    db_option,
    echo_json,
    instant,
    json_option,
    parse_int,
    say,
    with_app,
)
from agent.cli.group import StridewatchGroup, UsageLine, missing_command
from agent.errors import ConfigError, InputError
from agent.models import PainReport, Run


@click.group(
    cls=StridewatchGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Example: stridewatch log-run --at 2026-11-20T07:30 --distance 6km --duration 36:00",
)
@click.version_option(__version__, "--version", prog_name="stridewatch")
@db_option
@config_option
def cli() -> None:
    """stridewatch watches your running load and warns before it jumps.

    It records runs from Bluetooth footpods and heart-rate straps (or what you log by
    hand), keeps them in a local SQLite file, and applies progression and pain rules.
    """


cli.add_command(manual.log_run)
cli.add_command(manual.pain)
cli.add_command(listing.runs)
cli.add_command(listing.pain_log)
cli.add_command(config_cmd.config_group)
cli.add_command(sensors.scan)
cli.add_command(sensors.pair)
cli.add_command(sensors.decode)
cli.add_command(recording.show)
cli.add_command(recording.rpe_cmd)
cli.add_command(recording.calibrate)
cli.add_command(daemon_cmd.run_cmd)
cli.add_command(daemon_cmd.replay_cmd)
cli.add_command(recording.export)
cli.add_command(recording.import_)


# -- load and rules: check, summary, alerts, what-if, plan (agent/rules/load.py, rules/) -----


@cli.command("check", epilog="Example: stridewatch check --at 2026-11-20T21:00 --json")
@at_option
@json_option
@with_app
def check_cmd(app: App, at_text: str | None, as_json: bool) -> None:
    """This week's distance, cap and what is left, load context and alerts; stores the
    alerts that are new or escalated."""
    from agent.advice import checks

    at = instant(app, at_text)
    with app.open_store() as store:
        assessment, _ = checks.check(store, app.settings, at)
    if as_json:
        echo_json(checks.check_json(assessment, app.settings))
    else:
        from agent.views import check as views_check

        views_check.print_check(assessment, app.settings)


@cli.command("summary", epilog="Example: stridewatch summary --week 2026-11-16")
@at_option
@click.option("--week", "week_text", metavar="DATE", help="Any day of the week to summarise.")
@json_option
@with_app
def summary_cmd(app: App, at_text: str | None, week_text: str | None, as_json: bool) -> None:
    """The week's runs and distance against last week and the cap, load, pain, alerts, and
    what remains for the rest of the week. Stores nothing."""
    from agent import units
    from agent.advice import checks

    week = units.parse_date(week_text, app.settings.date_window(), "--week") if week_text else None
    at = instant(app, at_text)
    with app.open_store() as store:
        result = checks.summary(store, app.settings, at, week)
    if as_json:
        echo_json(checks.summary_json(result, app.settings))
    else:
        from agent.views import check as views_check

        views_check.print_summary(result, app.settings)


@cli.command("alerts", epilog="Example: stridewatch alerts --since 2026-11-01 --json")
@click.option("--since", "since_text", metavar="DATETIME", help="Only alerts raised since.")
@json_option
@with_app
def alerts_cmd(app: App, since_text: str | None, as_json: bool) -> None:
    """Alerts raised so far: when, rule, severity, for which run, whether delivered."""
    from agent.advice import checks

    since = instant(app, since_text) if since_text else None
    with app.open_store() as store:
        stored = store.stored_alerts(since=since)
    if as_json:
        echo_json([checks.stored_alert_json(alert, app.settings) for alert in stored])
    else:
        from agent.views import check as views_check

        views_check.print_stored_alerts(stored, app.settings)


@cli.command(
    "what-if",
    epilog="Example: stridewatch what-if 18km --at 2026-11-22T08:00, or "
    'stridewatch what-if --week "tue 8km, thu 10km, sun 18km"',
)
@click.argument("distance_text", metavar="[DISTANCE]", required=False)
@click.option(
    "--week",
    "week_text",
    metavar="PLAN",
    help='Planned runs, e.g. "tue 8km, thu 10km, sun 18km": each on the next such day '
    "(or an ISO date), at the time of --at.",
)
@at_option
@json_option
@with_app
def what_if_cmd(
    app: App, distance_text: str | None, week_text: str | None, at_text: str | None, as_json: bool
) -> None:
    """The alerts planned runs would raise, by the same rules as check. Stores nothing."""
    from agent import units
    from agent.advice import checks

    settings = app.settings
    at = instant(app, at_text)
    if distance_text is None and week_text is None:
        raise InputError('give a DISTANCE (what-if 18km) or --week "tue 8km, sun 18km"')
    if distance_text is not None and week_text is not None:
        raise InputError('give a DISTANCE (what-if 18km) or --week "tue 8km, sun 18km", not both')
    if week_text is not None:
        plan = checks.parse_week(week_text, settings, at)
    else:
        plan = [(at, units.parse_distance(distance_text or "", settings.units))]
    result = checks.what_if_at(app.database(), settings, plan)
    if as_json:
        echo_json(checks.what_if_json(result, settings))
    else:
        from agent.views import check as views_check

        views_check.print_what_if(result, settings)


@cli.group("plan", cls=StridewatchGroup, epilog="Example: stridewatch plan return --usual 6-8mi")
def plan_group() -> None:
    """A graded return-to-run plan: build it, and see where you are in it."""


@plan_group.command(
    "return", epilog="Example: stridewatch plan return --usual 6-8mi --start 2-3mi --weeks 10"
)
@click.option("--usual", "usual_text", required=True, metavar="RANGE", help="Usual run, 6-8mi.")
@click.option("--start", "start_text", metavar="RANGE", help="First week's runs (2-3mi).")
@click.option("--weeks", "weeks_text", metavar="N", help="Weeks to reach the usual run.")
@click.option(
    "--at",
    "at_text",
    metavar="DATETIME",
    help="When the plan starts (its first week). Default: now.",
)
@json_option
@with_app
def plan_return(
    app: App,
    usual_text: str,
    start_text: str | None,
    weeks_text: str | None,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Build and store a week-by-week return plan: start low at RPE 3-4, add 10-15% a
    week while pain stays quiet, up to your usual run. Replaces any earlier plan."""
    from agent.advice import checks
    from agent.views import check as views_check

    settings = app.settings
    usual = checks.parse_range(usual_text, "--usual", settings.units)
    start = checks.parse_range(start_text, "--start", settings.units) if start_text else None
    weeks = parse_int(weeks_text, "--weeks", 1, 52) if weeks_text is not None else None
    at = instant(app, at_text)
    with app.open_store() as store:
        checks.start_plan(store, settings, at, usual_km=usual, start_km=start, weeks=weeks)
        status = checks.plan_status(store, settings, at)
    if as_json:
        echo_json(checks.plan_json(status, settings))
    else:
        views_check.print_plan(status, settings)


@plan_group.command("show", epilog="Example: stridewatch plan show --json")
@at_option
@json_option
@with_app
def plan_show(app: App, at_text: str | None, as_json: bool) -> None:
    """The active plan, this week's target and whether it advances, holds or steps back."""
    from agent.advice import checks

    at = instant(app, at_text)
    with app.open_store() as store:
        status = checks.plan_status(store, app.settings, at)
    if as_json:
        echo_json(checks.plan_json(status, app.settings))
    else:
        from agent.views import check as views_check

        views_check.print_plan(status, app.settings)


@cli.group(
    "baseline",
    cls=StridewatchGroup,
    epilog="Example: stridewatch baseline set --week 25km --long 10km",
)
def baseline_group() -> None:
    """Declare your current level when stridewatch has no history of yours yet."""


@baseline_group.command("set", epilog="Example: stridewatch baseline set --week 25km --long 10km")
@click.option("--week", "week_text", required=True, metavar="DISTANCE", help="A usual week, 25km.")
@click.option(
    "--long", "long_text", required=True, metavar="DISTANCE", help="Your longest recent run."
)
@click.option("--at", "at_text", metavar="DATETIME", help="When it applies from. Default: now.")
@json_option
@with_app
def baseline_set(
    app: App, week_text: str, long_text: str, at_text: str | None, as_json: bool
) -> None:
    """Store your usual week and longest recent run. They stand in for the baseline week and
    the 30-day longest run until two weeks of your own runs are logged or imported."""
    from agent import units

    settings = app.settings
    week_km = units.parse_distance(week_text, settings.units) / 1000
    long_km = units.parse_distance(long_text, settings.units) / 1000
    # A week of 1-250 km and a long run of 0.5-100 km: outside them it is a typo.
    for option, text, km, low, high in (
        ("--week", week_text, week_km, 1.0, 250.0),
        ("--long", long_text, long_km, 0.5, 100.0),
    ):
        if not low <= km <= high:
            raise InputError(
                f"{option} {text}: expected {units.format_km(low, settings.units)} to "
                f"{units.format_km(high, settings.units, 0)}"
            )
    if long_km > week_km:
        raise InputError(f"--long {long_text}: longer than the --week {week_text} it belongs to")
    at = instant(app, at_text)
    with app.open_store() as store:
        store.declare_level(week_km=week_km, long_km=long_km, at=at)
    if as_json:
        echo_json(
            {
                "set_at": units.local_iso(at, settings.zone),
                "baseline_km": round(week_km, 3),
                "longest_run_30d_km": round(long_km, 3),
            }
        )
    else:
        click.echo(
            f"Declared: a usual week of {units.format_km(week_km, settings.units)} and a "
            f"longest run of {units.format_km(long_km, settings.units)},\nused until two "
            "weeks of your own runs exist."
        )


cli.add_command(daemon_cmd.notify_test)
cli.add_command(daemon_cmd.service_group)


# -- reports: history, report (agent/views/report.py) --


def weeks_option(func: F) -> F:
    return click.option(
        "--weeks",
        "weeks_text",
        metavar="N",
        help="How many weeks up to --at, 1-104 (default 12).",
    )(func)


def _overview(app: App, weeks_text: str | None, at_text: str | None) -> Any:
    from agent.views import report

    settings = app.settings
    weeks = report.DEFAULT_WEEKS
    if weeks_text is not None:
        weeks = parse_int(weeks_text, "--weeks", 1, report.MAX_WEEKS)
    return report.load_overview(app.database(), settings, instant(app, at_text), weeks)


@cli.command("history", epilog="Example: stridewatch history --weeks 16")
@weeks_option
@at_option
@json_option
@with_app
def history_cmd(app: App, weeks_text: str | None, at_text: str | None, as_json: bool) -> None:
    """Weekly distance as a bar chart with each week's cap marked, the weeks over it
    highlighted, and the pain reported each day. Stores nothing."""
    from agent.views import history as history_view

    view = _overview(app, weeks_text, at_text)
    if as_json:
        echo_json(history_view.history_json(view, app.settings))
    else:
        history_view.print_history(view, app.settings)


@cli.command("report", epilog="Example: stridewatch report --weeks 16 -o report.html")
@weeks_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Where to write (default: stridewatch-report-DATE.html in the current folder).",
)
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@at_option
@json_option
@with_app
def report_cmd(
    app: App,
    weeks_text: str | None,
    output: Path | None,
    force: bool,
    at_text: str | None,
    as_json: bool,
) -> None:
    """One self-contained HTML file for a physiotherapist: weekly distance against the caps,
    longest runs against the 30-day rule, load ratio as context, pain, alerts with their
    reasons, the return-to-run plan, and each threshold's source. Works offline, prints on
    A4. Stores nothing."""
    from agent.views import report

    view = _overview(app, weeks_text, at_text)
    path = output or Path(report.default_file_name(view, app.settings))
    written = report.write_report(view, app.settings, path, force=force)
    if as_json:
        echo_json({"path": str(written), "week_count": len(view.weeks)})
        return
    weeks = len(view.weeks)
    click.echo(f"wrote {written} ({weeks} week{'s' * (weeks != 1)})")


# -- sync folders (agent/files/sync.py, agent/files/watch.py) -----------------------------------


@cli.group(
    "sync",
    cls=StridewatchGroup,
    invoke_without_command=True,
    epilog="Example: stridewatch sync add ~/Sync/Gadgetbridge; stridewatch sync --once",
)
@click.option("--once", is_flag=True, help="One pass over the folders now, without the daemon.")
@json_option
@db_option
@config_option
@click.pass_context
def sync_group(ctx: click.Context, once: bool, as_json: bool) -> None:
    """Folders of activity files from a watch or a phone, imported as they land.

    The daemon (stridewatch run) watches the folders in sync.folders: each new FIT, TCX or
    GPX file (gzipped or not) or zip export is imported once, as `stridewatch import` would,
    and a synced run gets its verdict at once. `sync --once` does one pass (for cron).
    """
    if ctx.invoked_subcommand is not None:
        if once:
            raise InputError("--once is a pass of its own: give it without a subcommand")
        return
    if not once:
        raise UsageLine(missing_command(ctx, " (or --once for one pass now)"), ctx)
    _sync_once(ctx.ensure_object(App), as_json)


def _sync_once(app: App, as_json: bool) -> None:
    from datetime import UTC, datetime

    from agent.files import sync
    from agent.files.folders import activity_files
    from agent.files.watch import Settler

    settings = app.settings
    if not settings.sync.folders:
        raise InputError("no sync folders: add one with `stridewatch sync add PATH`")
    folders = [Path(f).expanduser() for f in settings.sync.folders]
    settler = Settler(settings.sync.settle_s)
    missing = [folder for folder in folders if not folder.is_dir()]
    for folder in folders:
        for path in activity_files(folder):
            settler.seen(path)
    due = settler.due()
    waiting = len(settler)  # still being written: the next pass takes them
    found = [(path, sync.folder_of(path, folders)) for path in due]
    now = datetime.now(UTC)
    said = (lambda _result: None) if as_json else (lambda result: click.echo(result.line()))
    results, verdict = sync.sync_pass(
        app.database(), settings, found, now, keep_verdict=True, say=said
    )
    if as_json:
        message = verdict.alert.message if verdict is not None else None
        files = [r.as_json() for r in results]
        echo_json({"files": files, "verdict": message, "still_being_written": waiting})
        return
    if verdict is not None:
        click.echo(verdict.alert.message)
    if not results:
        click.echo("nothing new in " + ", ".join(map(str, folders)))
    for folder in missing:
        click.echo(f"{folder}: not there now (a watch not plugged in?)")
    if waiting:
        click.echo(f"{waiting} file(s) still being written: the next pass takes them")


# System folders no activity file lands in: watching them would read the whole machine.
NOT_SYNC_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))


def _sync_folder_arg(text: str) -> Path:
    """A folder as the config keeps it: absolute and normalised (``..`` resolved, links
    kept), ``~`` kept for the home folder. The root and system folders are refused."""
    if not text.strip():
        raise InputError("PATH: give the folder the activity files land in", option="PATH")
    path = Path(os.path.normpath(Path(text).expanduser().absolute()))
    if path == Path("/") or any(path == p or p in path.parents for p in NOT_SYNC_FOLDERS):
        raise InputError(
            f"{path}: a system folder, not where activity files land; give the folder of "
            "the watch's or the phone's files",
            option="PATH",
        )
    home = Path.home()
    return Path("~") / path.relative_to(home) if home in path.parents else path


def _edit_sync_folders(add: Path | None, remove: Path | None) -> tuple[bool, Path]:
    from agent.config import user_config_path
    from agent.config_edit import edit_list

    path = user_config_path()

    def change(folders: Any) -> bool:
        known = [Path(str(f)).expanduser() for f in folders]
        if add is not None:
            if add.expanduser() in known:
                return False
            folders.append(str(add))
            return True
        assert remove is not None
        if remove.expanduser() not in known:
            return False
        del folders[known.index(remove.expanduser())]
        return True

    again = "run sync add again" if add is not None else "run sync remove again"
    return edit_list(path, "sync", "folders", change, again=again), path


RESTART_HINT = "restart the daemon to watch it (`systemctl --user restart stridewatch`)"


@sync_group.command("add", epilog="Example: stridewatch sync add /media/ann/GARMIN/GARMIN/Activity")
@click.argument("folder_text", metavar="PATH")
def sync_add(folder_text: str) -> None:
    """Watch a folder: adds PATH to [sync] folders in the user config file."""
    folder = _sync_folder_arg(folder_text)
    real = folder.expanduser()
    if real.exists() and not real.is_dir():
        raise InputError(f"{real}: not a folder; give the folder the files land in")
    added, path = _edit_sync_folders(folder, None)
    if not added:
        click.echo(f"{folder} is already a sync folder (in {path})")
        return
    there = "" if real.is_dir() else " (not there now: it is watched once it appears)"
    say(f"{folder} added to [sync] folders in {path}{there}; {RESTART_HINT}")


@sync_group.command("remove", epilog="Example: stridewatch sync remove ~/Sync/Gadgetbridge")
@click.argument("folder_text", metavar="PATH")
def sync_remove(folder_text: str) -> None:
    """Stop watching a folder: removes PATH from [sync] folders (its runs stay)."""
    folder = _sync_folder_arg(folder_text)
    removed, path = _edit_sync_folders(None, folder)
    if not removed:
        raise InputError(f"{folder}: not a sync folder (see `stridewatch sync list`)")
    say(f"{folder} removed from [sync] folders in {path}; the runs from it stay")


@sync_group.command("list", epilog="Example: stridewatch sync list --json")
@json_option
@with_app
def sync_list(app: App, as_json: bool) -> None:
    """The sync folders, whether each is there, and how it is watched."""
    from agent.files.folders import mounts, polling_reason

    conf = app.settings.sync
    known = mounts()
    rows = []
    for text in conf.folders:
        folder = Path(text).expanduser()
        reason = polling_reason(folder, conf.poll_folders, known)
        how = f"polled every {conf.poll_interval_s:g} s: {reason}" if reason else "inotify"
        if folder.exists() and not folder.is_dir():
            how = "not a folder: nothing is watched there"
        rows.append({"path": str(folder), "present": folder.is_dir(), "watch": how})
    if as_json:
        echo_json({"folders": rows})
        return
    from agent.views import text as views

    out = views.console()
    if not rows:
        views.say(out, "no sync folders: add one with `stridewatch sync add PATH`")
    for row in rows:
        state = "" if row["present"] or "not a folder" in str(row["watch"]) else " (not there now)"
        views.say(out, f"{row['path']}{state}: {row['watch']}")


@sync_group.command("status", epilog="Example: stridewatch sync status --json")
@click.option("--limit", "limit_text", metavar="N", help="How many files, newest first (50).")
@json_option
@with_app
def sync_status(app: App, limit_text: str | None, as_json: bool) -> None:
    """What became of the files found in the sync folders, newest first."""
    limit = parse_int(limit_text, "--limit", 1, 100_000) if limit_text is not None else 50
    with app.open_store() as store:
        rows = store.synced_files(limit=limit)
    files = [_synced_json(row, app.settings.zone) for row in rows]
    if as_json:
        echo_json({"files": files})
        return
    from agent.views import text as views

    views.print_synced(files, app.settings)


def _synced_json(row: dict[str, Any], zone: Any) -> dict[str, Any]:
    from agent import units

    try:
        seen_at = units.local_iso(units.stored_instant(row["seen_at"]), zone)
    except ValueError:
        seen_at = row["seen_at"]
    return {
        "path": row["path"],
        "folder": row["folder"],
        "status": row["status"],
        "reason": row["reason"],
        "run_ids": json.loads(row["run_ids"] or "[]"),
        "seen_at": seen_at,
        "size_bytes": row["size"],
    }


@sync_group.command("detect", epilog="Example: stridewatch sync detect --yes")
@click.argument("where", nargs=-1, type=click.Path(path_type=Path), metavar="[WHERE]...")
@click.option("--yes", is_flag=True, help="Add what is found without asking.")
@json_option
@with_app
def sync_detect(app: App, where: tuple[Path, ...], yes: bool, as_json: bool) -> None:
    """Find a watch plugged in over USB (GARMIN/Activity, or an Activities folder) and
    offer to add its activity folder. Looks in mounted USB drives, or in each WHERE."""
    from agent.files.folders import find_activity_folders, mounts, removable_mounts

    roots = [p.expanduser() for p in where] or removable_mounts(mounts())
    for root in where:
        if not root.expanduser().is_dir():
            raise InputError(f"{root}: not a folder; give where the watch is mounted")
    found = find_activity_folders(roots)
    known = {Path(f).expanduser() for f in app.settings.sync.folders}
    if as_json:
        echo_json({"found": [{**f.as_json(), "synced": f.path in known} for f in found]})
        return
    if not found:
        say(
            "no watch found: plug it in (it shows up as a USB drive), or give its folder: "
            "stridewatch sync detect /media/YOU/GARMIN"
        )
        return
    for item in found:
        click.echo(f"{item.device}: {item.path} ({item.fit_files} FIT files)")
        if item.path in known:
            click.echo("  already a sync folder")
        elif not yes and not sys.stdin.isatty():  # nobody to ask: say how
            click.echo(f"  to sync it: stridewatch sync add {shlex.quote(str(item.path))}")
        elif yes or click.confirm("  Add it to the sync folders?", default=True):
            _, path = _edit_sync_folders(_sync_folder_arg(str(item.path)), None)
            click.echo(f"  added to [sync] folders in {path}; {RESTART_HINT}")


# -- demo -------------------------------------------------------------------------------


@cli.command("demo", epilog="Example: stridewatch demo --db /tmp/demo.db")
@click.option(
    "--force", is_flag=True, help="Play into a --db that already holds runs or pain reports."
)
@with_app
def demo(app: App, force: bool) -> None:
    """Show stridewatch at work on simulated data, in a temporary database (or --db, which
    must hold no runs or pain reports unless --force: the demo's runs are simulated)."""
    from agent.cli.demo import run_demo

    run_demo(app, force=force)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    # A path is passed on as given, UTF-8 or not (text is refused when not: see
    # _refuse_undecodable in agent/cli/group.py). Printed, it goes out as the bytes it came
    # in as, as `ls` prints it, where a UTF-8 locale's strict stdout would stop with a
    # UnicodeEncodeError.
    if isinstance(sys.stdout, io.TextIOWrapper) and sys.stdout.errors == "strict":
        sys.stdout.reconfigure(errors="surrogateescape")
    try:
        cli.main(args=argv, prog_name="stridewatch")
    except ConfigError as exc:  # raised outside a group's invoke, e.g. while parsing
        for line in exc.problems:
            click.echo(f"stridewatch: {line}", err=True)
        sys.exit(exc.exit_code)


__all__ = ["App", "PainReport", "Run", "cli", "main"]
