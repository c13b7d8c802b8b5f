"""Sync folders through the real daemon (issue 16): a subprocess watching a temporary folder,
with the mock notification server on a private session bus. A FIT file copied in slowly is
stored once, soon after its last write, with one notification naming it and what comes next;
copied again or renamed it stores nothing; a damaged file is reported once and nothing else
stops; a zip export imports every run in it; a folder inotify cannot watch is polled."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.daemon_proc import DaemonProcess, daemon
from tests.files.fit_maker import Leg, make_fit

if TYPE_CHECKING:
    from tests.desktop_bus import NotificationServer

pytest_plugins = ["tests.desktop_bus"]

SYNCED_TITLE = "Run synced"
# Settle 2 s: a file unchanged that long is complete. The whole test budget from a file's
# last write to its run stored is the 10 s.
SETTLE_S = 2.0
STORED_WITHIN_S = 10.0


def env_for(*folders: Path, poll: bool = False) -> dict[str, str]:
    env = {
        "STRIDEWATCH_SYNC__FOLDERS": json.dumps([str(f) for f in folders]),
        "STRIDEWATCH_SYNC__SETTLE_S": str(SETTLE_S),
        "STRIDEWATCH_SYNC__POLL_INTERVAL_S": "1",
        "STRIDEWATCH_TIMEZONE": "UTC",
    }
    if poll:
        env["STRIDEWATCH_SYNC__POLL_FOLDERS"] = env["STRIDEWATCH_SYNC__FOLDERS"]
    return env


def fit_run(days_ago: float, km: float, minutes: int = 30) -> bytes:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)
    return make_fit(start, [Leg("RUNNING", minutes * 60, km * 1000, hr=150)])


def copy_slowly(data: bytes, path: Path, chunks: int = 5, pause_s: float = 0.8) -> float:
    """Write ``data`` to ``path`` in ``chunks`` over a few seconds, as a watch copying over
    USB; return the monotonic time of the last write."""
    size = -(-len(data) // chunks)
    with path.open("wb") as out:
        for start in range(0, len(data), size):
            out.write(data[start : start + size])
            out.flush()
            time.sleep(pause_s)
    return time.monotonic()


def runs(proc: DaemonProcess) -> list[Any]:
    return proc.rows("select id, distance_m, source, import_file from runs order by started_at")


def runs_when(proc: DaemonProcess, count: int) -> list[Any] | None:
    """The runs once there are ``count`` of them (for ``wait_for``)."""
    found = runs(proc)
    return found if len(found) == count else None


def seed(sw: Any, km: float, days_ago: int) -> None:
    at = (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M")
    result = sw("log-run", "--at", at, "--distance", f"{km}km", "--duration", "40:00")
    assert result.exit_code == 0, result.stderr


def titled(server: NotificationServer, title: str) -> list[str]:
    return [note.body for note in server.received() if note.summary == title]


def test_a_file_copied_in_slowly_is_stored_once_with_its_verdict(
    sw: Any, db: Path, tmp_path: Path, notification_server: NotificationServer
) -> None:
    seeded = (7, 9, 11, 14, 16, 18, 21, 23, 25)  # ~30 km weeks, the longest 10 km
    for days_ago in seeded:
        seed(sw, 10.0, days_ago)
    folder = tmp_path / "GARMIN" / "Activity"
    folder.mkdir(parents=True)
    with daemon(db, env=env_for(folder)) as proc:
        proc.logged(f"sync: watching {folder} (inotify)")
        last_write = copy_slowly(fit_run(0.1, 12.0, 60), folder / "2026-11-30-07-00-00.fit")
        synced = len(seeded) + 1
        stored = proc.wait_for(lambda: runs_when(proc, synced), STORED_WITHIN_S, "the synced run")
        assert time.monotonic() - last_write < STORED_WITHIN_S
        [body] = proc.wait_for(lambda: titled(notification_server, SYNCED_TITLE), 10, "verdict")
        assert body.startswith("Synced: ")
        assert "12.0 km run" in body
        assert "Next run at most" in body
        assert "left this week" in body
        assert "20% longer than your longest run" in body  # the spike rule, with numbers
        # Nothing else pops up for the same run: the verdict speaks for the rule's alert.
        time.sleep(1.5)
        assert [n.summary for n in notification_server.received()] == [SYNCED_TITLE]

        # The same file copied again, a copy renamed, and the file touched: nothing new.
        shutil.copy2(folder / "2026-11-30-07-00-00.fit", folder / "copy.fit")
        (folder / "2026-11-30-07-00-00.fit").rename(folder / "renamed.fit")
        proc.logged("sync: same file", timeout=10)
        time.sleep(SETTLE_S + 1.5)
        assert len(runs(proc)) == synced
        proc.stop()
    assert len(stored) == synced
    status = sw("sync", "status", "--json")
    assert status.exit_code == 0, status.stderr
    files = {Path(f["path"]).name: f for f in json.loads(status.stdout)["files"]}
    assert files["2026-11-30-07-00-00.fit"]["status"] == "imported"
    assert files["renamed.fit"]["status"] == "same file"
    assert files["copy.fit"]["status"] == "same file"


def test_a_damaged_file_is_reported_once_and_the_rest_goes_on(
    sw: Any, db: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "OpenTracks"
    folder.mkdir()
    with daemon(db, env=env_for(folder)) as proc:
        proc.logged(f"sync: watching {folder}")
        (folder / "broken.fit").write_bytes(fit_run(1, 5.0)[:200])  # cut off mid-file
        proc.logged("failed    ", timeout=10)
        good = fit_run(2, 6.0)
        (folder / "good.fit").write_bytes(good)
        proc.wait_for(lambda: runs_when(proc, 1), STORED_WITHIN_S, "the good file's run")
        with (folder / "broken.fit").open("ab"):  # touched, same content: not tried again
            pass
        time.sleep(SETTLE_S + 1.5)
        proc.stop()
    assert proc.stderr().count("broken.fit") == 1
    assert "Traceback" not in proc.stderr()
    status = sw("sync", "status", "--json")
    assert status.exit_code == 0
    broken = [f for f in status.json()["files"] if f["path"].endswith("broken.fit")]
    assert [f["status"] for f in broken] == ["failed"]


def test_a_zip_export_dropped_in_imports_every_run(sw: Any, db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "Downloads"
    folder.mkdir()
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as archive:
        for day in range(1, 6):
            archive.writestr(f"activities/{day}.fit", fit_run(day * 2, 5.0 + day))
    with daemon(db, env=env_for(folder)) as proc:
        proc.logged(f"sync: watching {folder}")
        shutil.copy(export, folder / ".export.zip.part")  # a browser's download...
        (folder / ".export.zip.part").rename(folder / "export_123.zip")  # ...completed
        found = proc.wait_for(lambda: runs_when(proc, 5), 20, "five runs")
        proc.stop()
    assert sorted(round(r["distance_m"] / 1000) for r in found) == [6, 7, 8, 9, 10]


# A user namespace of its own where inotify cannot start: its limits are per namespace.
NO_INOTIFY = (
    "unshare",
    "--user",
    "--map-root-user",
    "sh",
    "-c",
    'echo 0 > /proc/sys/user/max_inotify_instances && exec "$@"',
    "sh",
)


def test_a_folder_where_inotify_is_off_is_polled(sw: Any, db: Path, tmp_path: Path) -> None:
    """As when a desktop's other watchers have used up inotify (or a network share, whose
    changes inotify never sees): the daemon polls the folder instead."""
    folder = tmp_path / "nas"
    folder.mkdir()
    assert sw("runs").exit_code == 0  # the database, made outside the namespace
    with daemon(db, env=env_for(folder), wrap=NO_INOTIFY) as proc:
        proc.logged(f"sync: watching {folder} (polling: inotify cannot watch it", timeout=20)
        (folder / "run.fit").write_bytes(fit_run(1, 7.0))
        [run] = proc.wait_for(lambda: runs(proc), STORED_WITHIN_S, "the polled run")
        proc.stop()
    assert round(run["distance_m"]) == 7000


def test_commands_beside_a_syncing_daemon_never_cost_its_database(
    sw: Any, db: Path, tmp_path: Path
) -> None:
    """A sync pass opens a second connection in the daemon; checking that file's first bytes
    must not drop the writer's POSIX locks (closing any descriptor of a file does), or the
    next command beside the daemon deletes the WAL under it and the database is lost."""
    folder = tmp_path / "watch"
    folder.mkdir()
    assert sw("runs").exit_code == 0
    with daemon(db, env=env_for(folder)) as proc:
        proc.logged(f"sync: watching {folder}")
        for n, km in enumerate((5.0, 6.0, 7.0), start=1):
            (folder / f"{n}.fit").write_bytes(fit_run(n, km))
            proc.wait_for(lambda n=n: runs_when(proc, n), STORED_WITHIN_S, f"run {n}")
            for command in (("runs",), ("pain", "1", "--when", "morning"), ("check",)):
                assert sw(*command).exit_code == 0
        proc.stop()
    assert "Traceback" not in proc.stderr()
    assert "no such table" not in proc.stderr()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert conn.execute("select count(*) from runs").fetchone()[0] == 3
    finally:
        conn.close()
