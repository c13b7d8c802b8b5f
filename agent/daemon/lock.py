"""One recording daemon per database: an exclusive ``flock`` on a lock file beside it.

Two daemons on one database interleave their samples into one run, or one deletes the
other's run as a false start (issue 15). ``stridewatch run`` (and ``replay``) take the lock
for the process's life; a second is refused with one line naming the PID that holds it.
The lock is the kernel's: it goes with the process, however it ends (kill -9 included), so
a stale file never blocks a restart. The CLI's short writes do not take it. A database path
that is a pipe, a folder or a dangling link is refused before anything is created
(issue 15, item 9).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from agent.errors import StridewatchError
from agent.store import database_file


class AlreadyRecordingError(StridewatchError):
    """Another daemon records into this database."""

    exit_code = 2


def lock_path(db_path: Path) -> Path:
    """``history.db`` -> ``history.db.lock``, beside the database (beside the file a link
    leads to, so that two daemons given two links to one database share one lock)."""
    db_path = database_file(db_path)
    return db_path.with_name(db_path.name + ".lock")


@contextlib.contextmanager
def recording_lock(db_path: Path) -> Iterator[Path]:
    """Hold the database's recording lock while the block runs; raise
    :class:`AlreadyRecordingError` at once if another process holds it, and
    :class:`agent.errors.NotOurDatabaseError` (before creating anything) for a database
    path that is not a file or a link to one of ours (:func:`agent.store.database_file`)."""
    path = lock_path(db_path)
    _create_folders(path.parent)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise StridewatchError(
            f"{path}: cannot create the daemon's lock file: {exc.strerror}"
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            raise AlreadyRecordingError(
                f"{db_path}: another stridewatch daemon{holder} is already recording into it; "
                "stop it first (one recording daemon per database)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    """`` (PID 1234)`` from the lock file, or nothing if it says no number."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (PID {text})" if text.isdigit() else ""


def _create_folders(folder: Path) -> None:
    """The database's folder, private (0700) where this creates it, as the store does."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for part in reversed(missing):
        try:
            part.mkdir(mode=0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            raise StridewatchError(f"{part}: cannot create folder: {exc.strerror}") from exc
