"""Watching sync folders (agent/files/watch.py): which files count, which folders are polled,
when a file is complete, and the watcher on real folders (inotify, and polling where inotify
cannot start)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.files.folders import Mount, is_activity_file, parse_mountinfo, polling_reason, taken
from agent.files.watch import FolderWatcher, Settler


@pytest.mark.parametrize(
    ("name", "taken"),
    [
        ("2026-11-30-07-01-12.fit", True),
        ("MORNING.FIT", True),
        ("run.tcx", True),
        ("track.gpx.gz", True),
        ("export_12345.zip", True),
        (".syncthing.run.fit.tmp", False),
        (".run.fit", False),
        ("~run.fit", False),
        ("run.fit.part", False),
        ("run.fit.crdownload", False),
        ("notes.txt", False),
        ("activities.csv", False),
    ],
)
def test_only_activity_files_are_taken(name: str, taken: bool) -> None:
    assert is_activity_file(name) is taken


@given(st.text(min_size=1, max_size=40))
def test_a_name_being_written_by_a_sync_tool_is_never_taken(stem: str) -> None:
    assert not is_activity_file(f".syncthing.{stem}.tmp")
    assert not is_activity_file(f"{stem}.fit.part")


MOUNTINFO = r"""22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
40 27 0:50 / /home/ann/nas rw,relatime - nfs4 nas:/export rw
41 27 0:51 / /run/user/1000/gvfs rw,nosuid - fuse.gvfsd-fuse gvfsd-fuse rw
42 27 8:17 / /media/ann/GARMIN rw,nosuid shared:5 - vfat /dev/sdb1 rw
43 27 8:18 / /media/ann/My\040Drive rw - fuseblk /dev/sdc1 rw
"""


def test_mountinfo_is_read_with_its_escapes() -> None:
    mounts = parse_mountinfo(MOUNTINFO)
    assert Mount(Path("/media/ann/My Drive"), "fuseblk") in mounts
    assert Mount(Path("/media/ann/GARMIN"), "vfat") in mounts  # an optional field before "-"


@pytest.mark.parametrize(
    ("folder", "polled"),
    [
        ("/home/ann/nas/OpenTracks", True),  # NFS: written on the NAS, unseen by inotify
        ("/run/user/1000/gvfs/mtp:host=Garmin/Activity", True),  # a phone or watch over MTP
        ("/media/ann/GARMIN/GARMIN/Activity", False),  # a watch as a USB drive: local
        ("/media/ann/My Drive/exports", False),  # ntfs-3g: local
        ("/home/ann/Sync/Gadgetbridge", False),  # Syncthing writes locally
    ],
)
def test_network_and_fuse_folders_are_polled(folder: str, polled: bool) -> None:
    mounts = parse_mountinfo(MOUNTINFO)
    assert (polling_reason(Path(folder), [], mounts) is not None) is polled


def test_a_folder_listed_in_poll_folders_is_polled() -> None:
    reason = polling_reason(Path("/home/ann/Sync"), ["/home/ann/Sync"], [])
    assert reason == "listed in sync.poll_folders"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_file_is_due_only_once_it_has_stopped_changing(tmp_path: Path) -> None:
    clock = FakeClock()
    settler = Settler(3.0, clock)
    path = tmp_path / "run.fit"
    path.write_bytes(b"x" * 100)  # being copied: its mtime is now
    settler.seen(path)
    clock.now += 2.0
    assert settler.due() == []
    with path.open("ab") as out:  # more arrives
        out.write(b"y" * 100)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    clock.now += 2.0
    assert settler.due() == []  # changed: the wait starts again
    clock.now += 2.9
    assert settler.due() == []
    clock.now += 0.2
    assert settler.due() == [path]
    assert settler.due() == []  # handed out once


def test_a_file_already_old_when_first_seen_is_due_at_once(tmp_path: Path) -> None:
    settler = Settler(3.0, FakeClock())
    path = tmp_path / "old.fit"
    path.write_bytes(b"x")
    hour_ago = time.time() - 3600
    os.utime(path, (hour_ago, hour_ago))
    settler.seen(path)
    assert settler.due() == [path]


def test_links_and_pipes_are_due_at_once_for_the_importer_to_refuse(tmp_path: Path) -> None:
    """A link to a file being written, or a pipe, is never waited for: it is not a file
    written in place, and the importer says in one line why it skips it."""
    settler = Settler(3.0, FakeClock())
    target = tmp_path / "elsewhere.fit"
    target.write_bytes(b"x")  # fresh: a regular file this new would wait
    link = tmp_path / "link.fit"
    link.symlink_to(target)
    dangling = tmp_path / "gone.fit"
    dangling.symlink_to(tmp_path / "nothing.fit")
    pipe = tmp_path / "pipe.fit"
    os.mkfifo(pipe)
    for path in (link, dangling, pipe, target):
        settler.seen(path)
    assert sorted(settler.due()) == sorted([link, dangling, pipe])
    assert len(settler) == 1  # the fresh regular file still settles


def test_a_file_removed_before_it_settles_is_forgotten(tmp_path: Path) -> None:
    settler = Settler(3.0, FakeClock())
    path = tmp_path / "run.fit"
    path.write_bytes(b"x")
    settler.seen(path)
    path.unlink()
    assert settler.due() == []
    assert len(settler) == 0


async def watch_for(
    folder: Path, writes: int, *, expect: str
) -> tuple[list[Path], dict[Path, str]]:
    # The file is written in chunks 0.2 s apart: settling takes 10 times that, so a busy
    # machine's late wake-ups never make a chunk look like the end of the file.
    settler = Settler(2.0)
    (folder / "before.fit").write_bytes(b"old")
    missing = folder.parent / "not-plugged-in"
    watcher = FolderWatcher([folder, missing], settler, poll_interval_s=0.3)
    task = asyncio.create_task(watcher.run())
    try:
        for _ in range(100):
            if watcher.modes.get(folder, "").startswith(expect):
                break
            await asyncio.sleep(0.05)
        path = folder / "sub" / "today.fit"
        path.parent.mkdir()
        with path.open("wb") as out:  # copied in chunks
            for _ in range(writes):
                out.write(b"z" * 1000)
                out.flush()
                await asyncio.sleep(0.2)
        found: list[Path] = []
        for _ in range(400):
            found += settler.due()
            if path in found:
                break
            await asyncio.sleep(0.05)
        missing.mkdir()  # the watch plugged in: watched from now on
        for _ in range(100):
            if watcher.modes.get(missing, "") != "missing":
                break
            await asyncio.sleep(0.05)
        return found, dict(watcher.modes)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_watcher_takes_files_as_they_land_and_folders_as_they_appear(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "Activity"
    folder.mkdir()
    found, modes = await watch_for(folder, writes=5, expect="inotify")
    assert found == [folder / "before.fit", folder / "sub" / "today.fit"]
    assert modes[folder] == "inotify"
    assert modes[tmp_path / "not-plugged-in"] != "missing"


POLLING_CHILD = """
import asyncio, sys
from pathlib import Path
from tests.test_sync_watch import watch_for
found, modes = asyncio.run(watch_for(Path(sys.argv[1]), writes=5, expect="polling"))
print(modes[Path(sys.argv[1])])
print(len(set(found)))  # a busy machine may see inotify fail late, and scan twice
"""


def test_where_inotify_cannot_start_the_folder_is_polled(tmp_path: Path) -> None:
    """inotify's limits are per user namespace (/proc/sys/user/max_inotify_instances): at 0,
    inotify cannot start there, as when a desktop's other watchers used them all up."""
    folder = tmp_path / "Activity"
    folder.mkdir()
    shell = f'echo 0 > /proc/sys/user/max_inotify_instances && exec "{sys.executable}" -c "$0" "$1"'
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "sh", "-c", shell, POLLING_CHILD, str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr
    mode, count = done.stdout.splitlines()
    assert mode.startswith("polling: inotify cannot watch it")
    assert count == "2"


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("run.fit", True),
        ("2026/11/run.fit", True),
        (".stversions/run~20261130.fit", False),
        (".Trash-1000/files/run.fit", False),
        ("sub/.hidden/run.fit", False),
        ("sub/run.txt", False),
    ],
)
def test_files_in_hidden_folders_are_not_taken(relative: str, expected: bool) -> None:
    folder = Path("/home/ann/Sync")
    assert taken(folder, folder / relative) is expected
    assert not taken(folder, Path("/elsewhere") / relative)


async def until_due(settler: Settler, path: Path, seconds: float = 15.0) -> list[Path]:
    found: list[Path] = []
    for _ in range(round(seconds / 0.05)):
        found += settler.due()
        if path in found:
            return found
        await asyncio.sleep(0.05)
    return found


async def test_a_replaced_folder_and_a_folder_moved_in_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "Activity"
    folder.mkdir()
    settler = Settler(0.3)
    watcher = FolderWatcher([folder], settler, poll_interval_s=0.5)
    task = asyncio.create_task(watcher.run())
    try:
        for _ in range(100):
            if watcher.modes.get(folder) == "inotify":
                break
            await asyncio.sleep(0.05)
        # A folder of runs moved in whole (an unpacked export): its files raise no event.
        export = tmp_path / "export"
        (export / "activities").mkdir(parents=True)
        (export / "activities" / "1.fit").write_bytes(b"one")
        (export / "activities" / "2.gpx").write_bytes(b"two")
        export.rename(folder / "export")
        moved = await until_due(settler, folder / "export" / "activities" / "2.gpx")
        assert {p.name for p in moved} == {"1.fit", "2.gpx"}
        # Hidden folders stay unread.
        (folder / ".stversions").mkdir()
        (folder / ".stversions" / "old.fit").write_bytes(b"old")
        # The folder deleted and made again (a watch plugged in again): watched again.
        shutil.rmtree(folder)
        folder.mkdir()
        await asyncio.sleep(0.1)
        (folder / "after.fit").write_bytes(b"after")
        again = await until_due(settler, folder / "after.fit")
        assert folder / "after.fit" in again
        assert not any(".stversions" in str(p) for p in moved + again)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
