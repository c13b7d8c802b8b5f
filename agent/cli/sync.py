"""``stridewatch sync``: the folders of activity files from a watch or a phone, imported as
they land (agent/files/sync.py, agent/files/watch.py, agent/files/folders.py)."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from agent.cli.app import (
    App,
    config_option,
    db_option,
    echo_json,
    json_option,
    parse_int,
    say,
    with_app,
)
from agent.cli.group import StridewatchGroup, UsageLine, missing_command
from agent.errors import InputError


@click.group(
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
