"""Watching the sync folders for activity files, and telling when a file is complete.

Each configured folder is watched with watchfiles (inotify through the Rust ``notify``
crate). inotify only sees changes made through this machine's kernel, so a folder on a
network or FUSE filesystem (NFS, SMB, sshfs, rclone, gvfs's MTP mounts of phones and
watches: :data:`POLLED_FILESYSTEMS`) is polled instead, as is a folder where inotify cannot
start (its per-user limits reached), and any folder listed in ``sync.poll_folders``. A
folder that is not there (a watch unplugged) is waited for, and watched once it appears.

A file is taken only once it is complete: its size and modification time unchanged for
``sync.settle_s`` (:class:`Settler`), so a watch or a sync tool still copying is never read
half-written. Only activity files are considered (:func:`is_activity_file`); hidden files
and the temporary names of sync tools and browsers never are. Nothing outside the
configured folders is read.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from agent.files.folders import activity_files, mounts, polling_reason, taken

log = logging.getLogger("stridewatch.sync")


# -- when is a file complete -----------------------------------------------------------------


@dataclass(slots=True)
class _Watched:
    size: int
    mtime_ns: int
    still_since: float  # monotonic seconds since which size and mtime have not changed


class Settler:
    """Files seen in the sync folders, each due once its size and modification time have not
    changed for ``settle_s`` seconds. A file already old when first seen (there before the
    daemon started) is due at once; a file seen while being written waits. A path that is not
    a regular file (a symbolic link, a pipe) is never written in place: it is due at once, and
    the importer refuses it in one line."""

    def __init__(
        self,
        settle_s: float,
        clock: Callable[[], float] = time.monotonic,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.settle_s = settle_s
        self._clock = clock
        self._wake = wake  # called when a file is noted: whoever waits for one wakes up
        self._files: dict[Path, _Watched] = {}

    def __len__(self) -> int:
        return len(self._files)

    def seen(self, path: Path) -> None:
        """Note ``path`` (again): it was created or changed."""
        try:
            st = path.lstat()  # a link is judged as a link: its target may be anywhere
        except OSError:
            self._files.pop(path, None)  # gone again, or never readable
            return
        now = self._clock()
        known = self._files.get(path)
        if known is not None and (known.size, known.mtime_ns) == (st.st_size, st.st_mtime_ns):
            return
        regular = stat.S_ISREG(st.st_mode)
        age = max(0.0, time.time() - st.st_mtime_ns / 1e9) if regular else self.settle_s
        still_since = now - min(age, self.settle_s) if known is None else now
        self._files[path] = _Watched(st.st_size, st.st_mtime_ns, still_since)
        if self._wake is not None:
            self._wake()

    def due(self) -> list[Path]:
        """Files complete by now, oldest first; they are forgotten (see them again when
        they change)."""
        now = self._clock()
        ready = []
        for path, known in list(self._files.items()):
            try:
                st = path.lstat()
            except OSError:
                del self._files[path]
                continue
            if (st.st_size, st.st_mtime_ns) != (known.size, known.mtime_ns):
                self._files[path] = _Watched(st.st_size, st.st_mtime_ns, now)
            elif now - known.still_since >= self.settle_s:
                ready.append((known.mtime_ns, path))
                del self._files[path]
        return [path for _, path in sorted(ready)]


# How often a watched folder is checked for having gone or been replaced (seconds).
FOLDER_CHECK_S = 5.0
# watchfiles' Rust watcher wakes every ``step`` ms to look for changes and a stop (50 ms by
# default: 20 wake-ups a second per folder, 14 s of CPU an hour for three idle folders,
# benchmarks/sync_idle.py). A second is soon enough for a file that then settles for
# seconds anyway.
WATCH_STEP_MS = 1000


# -- the watcher -----------------------------------------------------------------------------


class FolderWatcher:
    """Watch ``folders`` and feed every activity file created or changed there, and every
    one there when watching starts, to ``settler``. Run :meth:`run` as a task; cancel it to
    stop."""

    def __init__(
        self,
        folders: Iterable[str | Path],
        settler: Settler,
        *,
        poll_folders: Iterable[str | Path] = (),
        poll_interval_s: float = 5.0,
    ) -> None:
        self.folders = [Path(f).expanduser() for f in folders]
        self.settler = settler
        self.poll_folders = [Path(p).expanduser() for p in poll_folders]
        self.poll_interval_s = poll_interval_s
        self.modes: dict[Path, str] = {}  # folder -> "inotify", "polling: why" or "missing"
        # watchfiles logs every batch of changes at INFO: the daemon's log says what matters.
        logging.getLogger("watchfiles").setLevel(logging.WARNING)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for folder in self.folders:
                group.create_task(self._keep_watching(folder), name=f"sync {folder}")

    async def _keep_watching(self, folder: Path) -> None:
        said_missing = False
        no_inotify: str | None = None
        while True:
            if not folder.is_dir():
                if not said_missing:
                    log.info("sync: %s is not there (yet): watching for it", folder)
                    said_missing = True
                self.modes[folder] = "missing"
                await asyncio.sleep(self.poll_interval_s)
                continue
            said_missing = False
            # Chosen again each time: what is mounted there may have changed (a watch
            # plugged in over MTP, a share mounted after the daemon started).
            polling = no_inotify or polling_reason(folder, self.poll_folders, mounts())
            try:
                await self._watch(folder, polling)
            except Exception as exc:  # watchfiles' own error type lives in a private module
                if polling is None and "RustInternalError" in type(exc).__name__:
                    no_inotify = f"inotify cannot watch it: {exc}"
                    log.warning("sync: %s: %s; polling it every %g s", folder, no_inotify,
                                self.poll_interval_s)  # fmt: skip
                    continue
                if folder.is_dir():
                    log.warning("sync: watching %s failed (%s); again in %g s", folder, exc,
                                self.poll_interval_s)  # fmt: skip
                await asyncio.sleep(self.poll_interval_s)

    async def _watch(self, folder: Path, polling: str | None) -> None:
        from watchfiles import Change, awatch

        stop = asyncio.Event()
        gone = asyncio.create_task(self._until_gone(folder, stop))
        try:
            changes = awatch(
                folder,
                watch_filter=lambda _change, path: _dir_or_taken(folder, path),
                force_polling=polling is not None,
                poll_delay_ms=round(self.poll_interval_s * 1000),
                debounce=WATCH_STEP_MS,
                step=WATCH_STEP_MS,
                stop_event=stop,
                recursive=True,
                ignore_permission_denied=True,
            )
            # Its first step sets the watches up (or fails: inotify's limits), then waits:
            # what is in the folder is read after that, so nothing slips in between.
            first = asyncio.ensure_future(anext(changes, None))
            for _ in range(3):
                await asyncio.sleep(0)
            if first.done():
                first.result()  # raises what setting up raised
            self.modes[folder] = "inotify" if polling is None else f"polling: {polling}"
            log.info("sync: watching %s (%s)", folder, self.modes[folder])
            for path in activity_files(folder):
                self.settler.seen(path)
            batch = await first
            while batch is not None:
                for change, name in batch:
                    path = Path(name)
                    if path == folder and change == Change.deleted:
                        return  # the folder itself went (maybe made again since): anew
                    if change == Change.deleted:
                        continue
                    if path.is_dir():  # a folder moved in: what it holds raised no event
                        for inside in activity_files(path):
                            self.settler.seen(inside)
                    else:
                        self.settler.seen(path)
                batch = await anext(changes, None)
        finally:
            stop.set()
            gone.cancel()

    async def _until_gone(self, folder: Path, stop: asyncio.Event) -> None:
        """Stop watching a folder that went away or was replaced (a watch unplugged and
        plugged in again, a folder deleted and made again, a drive mounted over it): the
        watch on the old one sees nothing more. Watched again, and read again, at once."""
        first = _identity(folder)
        while first is not None and _identity(folder) == first:
            await asyncio.sleep(min(self.poll_interval_s, FOLDER_CHECK_S))
        stop.set()


def _identity(folder: Path) -> tuple[int, int] | None:
    try:
        st = folder.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


def _dir_or_taken(folder: Path, path: str) -> bool:
    if taken(folder, path) or Path(path) == folder:
        return True
    try:
        parts = Path(path).relative_to(folder).parts
    except ValueError:
        return False
    return not any(part.startswith(".") for part in parts) and os.path.isdir(path)
