"""`stridewatch sync`: add, remove, list, status, detect and one pass with --once (issue 16);
and a run recorded live that arrives again from the watch is one run."""

from __future__ import annotations

import json
import os
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.files.fit_maker import Leg, make_fit


def config_file() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "stridewatch" / "config.toml"


def synced_folders() -> list[str]:
    return list(tomllib.loads(config_file().read_text())["sync"]["folders"])


def aged(path: Path, seconds: float = 60) -> Path:
    """As if written a minute ago: complete (older than sync.settle_s)."""
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def fit_run(start: datetime, km: float, minutes: int = 30) -> bytes:
    return make_fit(start, [Leg("RUNNING", minutes * 60, km * 1000, hr=150)])


def test_add_list_and_remove_keep_the_rest_of_the_config(sw: Any, tmp_path: Path) -> None:
    config_file().parent.mkdir(parents=True)
    config_file().write_text('# my settings\nunits = "mi"\n')
    folder = tmp_path / "Gadgetbridge"
    folder.mkdir()
    added = sw("sync", "add", str(folder))
    assert added.exit_code == 0, added.stderr
    assert "added to [sync] folders" in added.stdout
    again = sw("sync", "add", str(folder) + "/")
    assert "already a sync folder" in again.stdout
    later = sw("sync", "add", str(tmp_path / "watch-not-plugged-in"))
    assert "not there now" in later.stdout
    assert synced_folders() == [str(folder), str(tmp_path / "watch-not-plugged-in")]
    assert config_file().read_text().startswith('# my settings\nunits = "mi"\n')
    listed = sw("sync", "list", "--json").json()
    assert [f["present"] for f in listed["folders"]] == [True, False]
    assert listed["folders"][0]["watch"] == "inotify"
    removed = sw("sync", "remove", str(folder))
    assert removed.exit_code == 0
    assert synced_folders() == [str(tmp_path / "watch-not-plugged-in")]
    missing = sw("sync", "remove", str(folder))
    assert missing.exit_code == 2
    assert missing.stderr.splitlines() == [
        f"stridewatch: {folder}: not a sync folder (see `stridewatch sync list`)"
    ]


def test_a_file_is_refused_as_a_folder(sw: Any, tmp_path: Path) -> None:
    afile = tmp_path / "run.fit"
    afile.write_bytes(b"x")
    result = sw("sync", "add", str(afile))
    assert result.exit_code == 2
    assert "not a folder" in result.stderr


def test_a_relative_folder_in_the_config_is_refused_in_one_line(sw: Any) -> None:
    result = sw("sync", "list", env={"STRIDEWATCH_SYNC__FOLDERS": '["Sync/watch"]'})
    assert result.exit_code == 2
    assert "sync.folders" in result.stderr
    assert "must be a full path" in result.stderr


def test_once_imports_what_is_complete_and_each_file_once(sw: Any, tmp_path: Path) -> None:
    folder = tmp_path / "Activity"
    folder.mkdir()
    env = {"STRIDEWATCH_SYNC__FOLDERS": json.dumps([str(folder)])}
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    (folder / "a.fit").write_bytes(fit_run(start, 6.0))
    aged(folder / "a.fit")
    (folder / "b.fit").write_bytes(b"not a fit file at all")
    aged(folder / "b.fit")
    (folder / "copying.fit").write_bytes(fit_run(start - timedelta(days=2), 5.0)[:300])
    first = sw("sync", "--once", env=env)
    assert first.exit_code == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == f"imported  {folder / 'a.fit'}"
    assert lines[1].startswith(f"failed    {folder / 'b.fit'}: ")
    assert lines[2].startswith("Synced: ")
    assert "Next run" in lines[2]
    assert lines[3] == "1 file(s) still being written: the next pass takes them"
    assert first.stderr == ""
    # Again: nothing new (the damaged file is not tried again until it changes).
    again = sw("sync", "--once", "--json", env=env).json()
    assert again["files"] == []
    assert again["still_being_written"] == 1
    status = sw("sync", "status", "--json").json()["files"]
    assert {Path(f["path"]).name: f["status"] for f in status} == {
        "a.fit": "imported",
        "b.fit": "failed",
    }
    # The verdict waits for the daemon's next retry, and shows in `alerts`.
    alerts = sw("alerts", "--json").json()
    assert [a["rule"] for a in alerts if not a["delivered_at"]] == ["synced"]


def test_a_live_run_arriving_again_from_the_watch_is_one_run(sw: Any, tmp_path: Path) -> None:
    recorded = sw("run", "--simulate", "--speedup", "inf", "--scenario", "short")
    assert recorded.exit_code == 0, recorded.stderr
    [live] = sw("runs", "--json").json()
    start = datetime.fromisoformat(live["started_at"])
    folder = tmp_path / "Activity"
    folder.mkdir()
    watch = folder / "same-run.fit"
    watch.write_bytes(fit_run(start, live["distance_km"], minutes=5))
    aged(watch)
    result = sw("sync", "--once", env={"STRIDEWATCH_SYNC__FOLDERS": json.dumps([str(folder)])})
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"duplicate {watch}: same run as run {live['id']}; kept")
    assert len(sw("runs", "--json").json()) == 1


@pytest.mark.parametrize(
    ("drive", "layout", "device"),
    [
        ("GARMIN", "GARMIN/Activity", "Garmin watch"),
        ("FR255", "GARMIN/ACTIVITY", "Garmin watch"),
        ("BRYTON", "Activities", "device"),
    ],
)
def test_detect_finds_a_watch_folder_and_adds_it(
    sw: Any, tmp_path: Path, drive: str, layout: str, device: str
) -> None:
    mount = tmp_path / "media" / drive
    activity = mount / layout
    activity.mkdir(parents=True)
    for n in range(3):
        (activity / f"{n}.FIT").write_bytes(b"x")
    (mount / "GARMIN" / "Courses").mkdir(parents=True, exist_ok=True)
    found = sw("sync", "detect", str(mount), "--json").json()["found"]
    assert found == [
        {
            "path": str(activity),
            "fit_files": 3,
            "device": device,
            "synced": False,
        }
    ]
    added = sw("sync", "detect", str(mount), "--yes")
    assert added.exit_code == 0, added.stderr
    assert "added to [sync] folders" in added.stdout
    assert synced_folders() == [str(activity)]
    again = sw("sync", "detect", str(mount))
    assert "already a sync folder" in again.stdout


def test_detect_says_what_to_do_when_nothing_is_plugged_in(sw: Any, tmp_path: Path) -> None:
    result = sw("sync", "detect", str(tmp_path), env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert result.stdout.startswith("no watch found")
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80  # wrapped, not one line of 118
    assert any("stridewatch sync detect /media/YOU/GARMIN" in line for line in lines)


def test_add_and_remove_say_so_in_lines_that_fit(sw: Any, tmp_path: Path) -> None:
    folder = tmp_path / "Gadgetbridge"
    folder.mkdir()
    for args in (("add",), ("remove",)):
        result = sw("sync", *args, str(folder), env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.stderr
        lines = result.stdout.splitlines()
        assert all(len(line) <= 80 or len(line.split()) == 1 for line in lines), lines
    said = sw("sync", "add", str(folder), env={"COLUMNS": "80"})
    assert any(
        "`systemctl --user restart stridewatch`" in line for line in said.stdout.splitlines()
    )


def once(sw: Any, folder: Path, *args: str) -> Any:
    return sw("sync", "--once", *args, env={"STRIDEWATCH_SYNC__FOLDERS": json.dumps([str(folder)])})


def test_links_pipes_and_odd_names_are_handled_in_one_line_each(sw: Any, tmp_path: Path) -> None:
    folder = tmp_path / "Activity"
    folder.mkdir()
    outside = tmp_path / "outside.fit"
    outside.write_bytes(fit_run(datetime.now(UTC) - timedelta(days=3), 5.0))
    (folder / "link.fit").symlink_to(outside)  # never read: it is outside the folder
    os.mkfifo(folder / "pipe.fit")  # never opened: it would wait forever
    odd = Path(os.fsdecode(bytes(folder) + b"/run\xff.fit"))  # a name that is not UTF-8
    odd.write_bytes(fit_run(datetime.now(UTC) - timedelta(days=2), 6.0))
    (folder / "downloading.zip").write_bytes(b"")  # a browser's empty placeholder
    for path in (odd, folder / "downloading.zip"):
        aged(path)
    result = once(sw, folder)
    assert result.exit_code == 0, result.stderr
    lines = sorted(result.stdout.splitlines()[:3])
    assert lines == [
        f"imported  {folder}/run\\xff.fit",
        f"skipped   {folder / 'link.fit'}: a symbolic link, not a file: only files in the "
        "sync folders are read",
        f"skipped   {folder / 'pipe.fit'}: a named pipe (FIFO), not a file: only files in the "
        "sync folders are read",
    ]
    assert len(sw("runs", "--json").json()) == 1
    names = {Path(f["path"]).name for f in sw("sync", "status", "--json").json()["files"]}
    assert "downloading.zip" not in names  # not decided yet: seen again when written


def test_a_list_above_the_folder_is_not_read(sw: Any, tmp_path: Path) -> None:
    folder = tmp_path / "activities"
    folder.mkdir()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    (tmp_path / "activities.csv").write_text(
        "Activity ID,Activity Date,Activity Name,Activity Type,Filename\n"
        f'101,"{start:%b %d, %Y, %I:%M:%S %p}",Commute,Ride,activities/101.fit\n'
    )
    aged_file = folder / "101.fit"
    aged_file.write_bytes(fit_run(start, 7.0))
    aged(aged_file)
    result = once(sw, folder)
    assert result.stdout.startswith(f"imported  {aged_file}")  # a run, whatever the list says


def test_a_file_that_changes_after_its_import_replaces_its_run(sw: Any, tmp_path: Path) -> None:
    folder = tmp_path / "Activity"
    folder.mkdir()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
    path = folder / "run.fit"
    path.write_bytes(fit_run(start, 9.0, minutes=54))  # the copy that stalled
    aged(path, 120)
    assert once(sw, folder).exit_code == 0
    [first] = sw("runs", "--json").json()
    path.write_bytes(fit_run(start, 10.0, minutes=60))  # the whole file, later
    aged(path, 60)
    result = once(sw, folder)
    assert result.stdout.startswith(f"duplicate {path}: same run as run {first['id']}; the file")
    [run] = sw("runs", "--json").json()
    assert run["id"] == first["id"]
    assert run["distance_km"] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "PATH: give the folder the activity files land in"),
        ("/", "/: a system folder"),
        ("/proc/self", "/proc/self: a system folder"),
    ],
)
def test_add_refuses_what_is_no_sync_folder(sw: Any, given: str, message: str) -> None:
    result = sw("sync", "add", given)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"stridewatch: {message}")
    assert len(result.stderr.splitlines()) == 1


def test_add_normalises_the_folder(sw: Any, tmp_path: Path) -> None:
    (tmp_path / "watch").mkdir()
    assert sw("sync", "add", f"{tmp_path}/watch/../watch/").exit_code == 0
    again = sw("sync", "add", str(tmp_path / "watch"))
    assert "already a sync folder" in again.stdout
    assert synced_folders() == [str(tmp_path / "watch")]


def test_detect_refuses_a_missing_place_and_asks_no_one_without_a_terminal(
    sw: Any, tmp_path: Path
) -> None:
    missing = sw("sync", "detect", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2
    assert "not a folder" in missing.stderr
    activity = tmp_path / "GARMIN" / "GARMIN" / "Activity"
    activity.mkdir(parents=True)
    (activity / "a.fit").write_bytes(b"x")
    said = sw("sync", "detect", str(tmp_path / "GARMIN"))  # CliRunner: stdin is no terminal
    assert said.exit_code == 0
    assert f"  to sync it: stridewatch sync add {activity}" in said.stdout
