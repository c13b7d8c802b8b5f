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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("stridewatch.sync")

# What the importer reads (agent/files/importer.py): activity files, gzipped or not, and zips.
ACTIVITY_SUFFIXES = (".fit", ".tcx", ".gpx", ".fit.gz", ".tcx.gz", ".gpx.gz", ".zip")
# Filesystems whose changes inotify does not see (made on another machine, or by a FUSE
# daemon): polled. ``fuse.*`` covers sshfs, rclone, s3fs and gvfsd-fuse (MTP); ``fuseblk``
# (ntfs-3g, exfat-fuse on a USB drive) is local and is watched like any disk.
POLLED_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "davfs",
     "ncpfs", "lustre", "gpfs", "virtiofs", "fuse"}
)  # fmt: skip


def taken(folder: Path, path: str | Path) -> bool:
    """An activity file of ``folder``: no hidden folder on the way (Syncthing's
    ``.stversions``, a desktop's ``.Trash-1000``) and an activity file's name."""
    try:
        parts = Path(path).relative_to(folder).parts
    except ValueError:
        return False
    return not any(part.startswith(".") for part in parts[:-1]) and is_activity_file(path)


def is_activity_file(path: str | Path) -> bool:
    """True for a name the importer reads (``.fit``, ``.tcx``, ``.gpx``, gzipped, ``.zip``);
    False for hidden files, which is where sync tools (Syncthing's ``.syncthing.*.tmp``,
    Nextcloud's ``.~*``) and browsers keep what they are still writing."""
    name = Path(path).name
    if name.startswith((".", "~")):
        return False
    return name.lower().endswith(ACTIVITY_SUFFIXES)


# -- which folders to poll -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mount:
    point: Path
    fstype: str


def _unescape(field: str) -> str:
    """A mountinfo path field: spaces, tabs, newlines and backslashes are octal escapes."""
    return field.encode().decode("unicode_escape") if "\\" in field else field


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts in ``/proc/self/mountinfo`` text (proc(5)): mount point and filesystem."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields or len(fields) < 5:
            continue
        dash = fields.index("-")
        if dash + 1 < len(fields):
            mounts.append(Mount(Path(_unescape(fields[4])), fields[dash + 1]))
    return mounts


def mounts() -> list[Mount]:
    try:
        return parse_mountinfo(Path("/proc/self/mountinfo").read_text(encoding="utf-8"))
    except OSError:
        return []


def filesystem_of(path: Path, known: Iterable[Mount]) -> str | None:
    """The filesystem type of the mount holding ``path`` (the longest mount point above it)."""
    real = path.resolve()
    best: Mount | None = None
    for mount in known:
        if (real == mount.point or mount.point in real.parents) and (
            best is None or len(mount.point.parts) >= len(best.point.parts)
        ):
            best = mount
    return best.fstype if best is not None else None


def polling_reason(
    path: Path, poll_folders: Iterable[str | Path], known: Iterable[Mount]
) -> str | None:
    """Why ``path`` must be polled rather than watched with inotify, or None."""
    if any(path == Path(p).expanduser() for p in poll_folders):
        return "listed in sync.poll_folders"
    fstype = filesystem_of(path, known)
    if fstype is not None and (
        fstype in POLLED_FILESYSTEMS or (fstype.startswith("fuse.") and fstype != "fuseblk")
    ):
        return f"a {fstype} filesystem, whose changes inotify does not see"
    return None


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


def activity_files(folder: Path) -> Iterator[Path]:
    """Every activity file under ``folder`` (recursively), hidden folders skipped."""
    for root, dirs, names in os.walk(folder, onerror=lambda _exc: None):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if is_activity_file(name):
                yield Path(root) / name


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


# -- finding a watch plugged in ---------------------------------------------------------------

# Where desktops mount USB drives (udisks: /media/USER, /run/media/USER) and where people do.
REMOVABLE_ROOTS = (Path("/media"), Path("/run/media"), Path("/mnt"))
# Filesystems of USB drives and watches in mass-storage mode.
REMOVABLE_FILESYSTEMS = frozenset({"vfat", "msdos", "exfat", "fuseblk", "ntfs", "ntfs3"})
# Folder names that hold a device's activity files: GARMIN/Activity on Garmin watches and
# bike computers, Activities or Activity on others (Bryton, Coros in mass-storage mode).
ACTIVITY_FOLDERS = frozenset({"activity", "activities"})
DETECT_DEPTH = 3


@dataclass(frozen=True, slots=True)
class Found:
    """An activity folder on a mounted device: ``fit_files`` in it, and whose it looks."""

    path: Path
    fit_files: int
    device: str

    def as_json(self) -> dict[str, object]:
        return {"path": str(self.path), "fit_files": self.fit_files, "device": self.device}


def removable_mounts(known: Iterable[Mount]) -> list[Path]:
    """Mount points that look like a USB drive or watch: a removable filesystem, or mounted
    under /media, /run/media or /mnt."""
    found = []
    for mount in known:
        under = any(root in mount.point.parents for root in REMOVABLE_ROOTS)
        if under or mount.fstype in REMOVABLE_FILESYSTEMS:
            found.append(mount.point)
    return sorted(set(found))


def find_activity_folders(roots: Iterable[Path]) -> list[Found]:
    """Activity folders holding FIT files within :data:`DETECT_DEPTH` levels of each root."""
    found: dict[Path, Found] = {}
    for root in roots:
        for folder in _folders(root, DETECT_DEPTH):
            if folder.name.lower() not in ACTIVITY_FOLDERS:
                continue
            fits = sum(1 for p in _files(folder) if p.name.lower().endswith((".fit", ".fit.gz")))
            if fits:
                garmin = any(part.lower() == "garmin" for part in folder.parts)
                found[folder] = Found(folder, fits, "Garmin watch" if garmin else "device")
    return sorted(found.values(), key=lambda f: str(f.path))


def _folders(root: Path, depth: int) -> Iterator[Path]:
    if depth < 0:
        return
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return
    for child in children:
        yield child
        yield from _folders(child, depth - 1)


def _files(folder: Path) -> Iterator[Path]:
    try:
        yield from (p for p in folder.iterdir() if p.is_file())
    except OSError:
        return
