"""The sync folders' files and places: which files count, which folders must be polled
rather than watched, and where a watch plugged in keeps its activity files.

:mod:`agent.files.watch` watches the folders; :mod:`agent.files.sync` imports what lands.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

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


def activity_files(folder: Path) -> Iterator[Path]:
    """Every activity file under ``folder`` (recursively), hidden folders skipped."""
    for root, dirs, names in os.walk(folder, onerror=lambda _exc: None):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if is_activity_file(name):
                yield Path(root) / name


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
