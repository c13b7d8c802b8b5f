"""The database file on disk: which file SQLite may open, created private, and which files
this process holds open.

A file that is not ours is refused before SQLite opens it: a folder, pipe, device or socket,
a dangling or looping link, a link to anything but a stridewatch database, and a file that
is not SQLite are each refused with one line naming the path (:class:`NotOurDatabaseError`,
exit 2). Nothing here blocks: a named pipe is never opened for reading.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections import Counter
from pathlib import Path

from agent.errors import NotOurDatabaseError, StoreError
from agent.safe_write import kind_of

SQLITE_HEADER = b"SQLite format 3\x00"


def database_file(path: Path) -> Path:
    """The regular file SQLite may open for the database at ``path`` (``~`` expanded):
    ``path`` itself (also when nothing is there yet), or, for a symbolic link, the file it
    resolves to if that is a SQLite file with content (whether it is ours is checked once
    open). Raises :class:`NotOurDatabaseError` (exit 2, one line naming the path and what it
    is) for a folder, pipe, device or socket, a dangling or looping link, and a file that is
    not SQLite. Opens nothing but a regular file, never blocking (a named pipe would)."""
    path = path.expanduser()
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise StoreError(f"{path}: cannot be read: {exc.strerror}", path=path) from exc
    linked = stat.S_ISLNK(mode)
    if not (linked or stat.S_ISREG(mode)):
        raise not_a_database(path, f"is {kind_of(mode)}, not a database file")
    real = _link_target(path) if linked else path
    if in_use(real):  # checked when this process opened it; a read now would unlock it
        return real
    head = _read_head(path, real)
    if linked and head != SQLITE_HEADER:
        raise not_a_database(
            path,
            f"is a symbolic link to {real}, which is not a stridewatch database (stridewatch "
            "will not touch it)",
        )
    if head and head != SQLITE_HEADER:
        raise NotOurDatabaseError(
            f"{path}: not a SQLite database (damaged, or another kind of file); stridewatch "
            "will not touch it. Choose another file with --db",
            path=path,
        )
    return real


def _link_target(path: Path) -> Path:
    """Where the link ``path`` leads, if that is a regular file; else refuse, saying why."""
    try:
        shown = os.readlink(path)
    except OSError as exc:  # replaced since the lstat
        raise StoreError(f"{path}: cannot be read: {exc.strerror}", path=path) from exc
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise not_a_database(
            path,
            f"is a symbolic link to {shown}, which does not exist (stridewatch creates a "
            "database only as a new file, never through a link)",
        ) from None
    except OSError as exc:
        raise not_a_database(
            path, f"is a symbolic link that cannot be followed ({exc.strerror})"
        ) from exc
    if not stat.S_ISREG(mode):
        raise not_a_database(
            path, f"is a symbolic link to {shown}, {kind_of(mode)}, not a database file"
        )
    return Path(os.path.realpath(path))


# POSIX record locks belong to a process and a file: closing *any* descriptor of the database
# drops every lock SQLite holds on it through this process's other connections (fcntl(2)),
# and another program may then delete the WAL under them. SQLite keeps its own descriptors
# open while it holds locks; the header check above must not open the file while a Store of
# this process has it open (the daemon's sync pass opens a second one beside the writer's).
_OPEN_GUARD = threading.Lock()
_OPEN_FILES: Counter[tuple[int, int]] = Counter()


def _file_key(real: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(real)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def in_use(real: Path) -> bool:
    key = _file_key(real)
    with _OPEN_GUARD:
        return key is not None and _OPEN_FILES[key] > 0


def opened(real: Path) -> tuple[int, int] | None:
    key = _file_key(real)
    if key is not None:
        with _OPEN_GUARD:
            _OPEN_FILES[key] += 1
    return key


def closed(key: tuple[int, int] | None) -> None:
    if key is not None:
        with _OPEN_GUARD:
            _OPEN_FILES[key] -= 1
            if _OPEN_FILES[key] <= 0:
                del _OPEN_FILES[key]


def _read_head(path: Path, real: Path) -> bytes:
    """The first bytes of the regular file ``real``; non-blocking and without following a
    link, so a pipe or link swapped in since the check is refused, never waited on."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise StoreError(f"{path}: cannot be read: {exc.strerror}", path=path) from exc
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise not_a_database(path, f"is {kind_of(mode)}, not a database file")
        return handle.read(len(SQLITE_HEADER))


def not_a_database(path: Path, what: str) -> NotOurDatabaseError:
    """``PATH: WHAT; choose another file with --db``, exit 2."""
    return NotOurDatabaseError(f"{path}: {what}; choose another file with --db", path=path)


def connect(real: Path, path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """SQLite on the checked file ``real``. ``mode=rw``: SQLite never creates a file (it
    would, 0644 and through a link, were ``real`` removed since the check)."""
    uri = f"{real.absolute().as_uri()}?mode=rw"
    try:
        return sqlite3.connect(uri, uri=True, timeout=busy_timeout_s)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open: {exc}", path=path) from exc


def create_private(path: Path) -> None:
    """Create the database's folder (0700) and file (0600) if they do not exist yet."""
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    for folder in reversed(missing):  # only folders we create are made private
        try:
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"{folder}: cannot create folder: {exc.strerror}", path=path) from exc
    if not os.path.lexists(path):  # a dangling link is something, never created through
        flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            os.close(os.open(path, flags, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"{path}: cannot create: {exc.strerror}", path=path) from exc
