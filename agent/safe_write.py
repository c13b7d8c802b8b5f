"""Writing a file where the runner asked, safely: every file a command writes goes here.

``export``, ``report`` and ``service install`` write through :func:`write_file`. The bytes go
to a new temporary file beside the target (a random name, created with ``O_EXCL`` and
``O_NOFOLLOW``, so a link or file planted at a predictable ``OUT.part`` is never written
through), private (0600, as the database is), synced, then renamed onto the target. An
existing target is refused unless ``force``; with ``force`` a file or a symbolic link there is
replaced (the link itself, never what it points to), and a folder, pipe, device or socket
never is. A half-written file is never left under the target's name (issue 15, item 9).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from agent.errors import StridewatchError

# Written files get the database's privacy: a run or a report says where and when one runs.
FILE_MODE = 0o600
# Random temporary names collide with odds of 2**-32 per try; a few tries is plenty.
TEMP_TRIES = 8
T = TypeVar("T")
OVERWRITE_ADVICE = "choose another name with -o, or add --force"

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISREG, "a file"),
)


class OutputError(StridewatchError):
    """A file cannot be written at ``path``: it exists (and ``force`` was not given), it is
    something stridewatch never replaces, or its folder is missing or not writable."""

    exit_code = 2

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


def kind_of(mode: int) -> str:
    """What an ``st_mode`` is, for messages: ``a folder``, ``a named pipe (FIFO)``, ..."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def write_file(
    path: Path, data: bytes, *, force: bool = False, advice: str = OVERWRITE_ADVICE
) -> Path:
    """Write ``data`` to ``path`` (``~`` expanded) as a new 0600 file, atomically; return the
    path written. Raises :class:`OutputError` (exit 2) if something is at ``path`` and
    ``force`` is false (the message ends with ``advice``), if ``path`` is a folder, pipe,
    device or socket, or if the folder is missing or cannot be written."""
    return write_with(path, lambda handle: handle.write(data), force=force, advice=advice)[0]


def write_with(
    path: Path,
    fill: Callable[[BinaryIO], T],
    *,
    force: bool = False,
    advice: str = OVERWRITE_ADVICE,
) -> tuple[Path, T]:
    """:func:`write_file` of what ``fill`` writes to the new file as it goes (a file too
    long to hold in memory first); ``fill`` may also seek back and read what it wrote. Return
    the path written and what ``fill`` returned. Whatever ``fill`` raises leaves no file."""
    target = path.expanduser()
    check_target(target, force=force, advice=advice)
    temp, result = _write_temp(target, fill)
    try:
        _move(temp, target, force=force, advice=advice)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write: {exc.strerror}", path=target) from exc
    finally:
        temp.unlink(missing_ok=True)  # gone already unless the move failed or hard-linked
    return target, result


def check_target(path: Path, *, force: bool = False, advice: str = OVERWRITE_ADVICE) -> None:
    """Raise the :class:`OutputError` :func:`write_file` would raise for what is at ``path``
    now: a caller checks before long work, so the runner hears it at once."""
    target = path.expanduser()
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:  # a file used as a folder in the path, a folder we may not read
        raise OutputError(f"{target}: cannot write: {exc.strerror}", path=target) from exc
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise OutputError(
            f"{target}: is {kind_of(mode)}; stridewatch only ever replaces a file", path=target
        )
    if not force:
        raise _exists(target, advice)


def _write_temp(target: Path, fill: Callable[[BinaryIO], T]) -> tuple[Path, T]:
    """A new private file filled by ``fill``, beside ``target``, with a name nobody guessed."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(TEMP_TRIES):
        temp = target.with_name(f"{target.name}.{os.urandom(4).hex()}.part")
        try:
            fd = os.open(temp, flags, FILE_MODE)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(
                f"{target}: cannot write in {target.parent}: {exc.strerror}", path=target
            ) from exc
        try:
            result = _fill(fd, fill)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise OutputError(f"{target}: cannot write: {exc.strerror}", path=target) from exc
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return temp, result
    raise OutputError(f"{target}: cannot create a temporary file beside it", path=target)


def _fill(fd: int, fill: Callable[[BinaryIO], T]) -> T:
    """Fill the new file ``fd`` (closed after), 0600 whatever the umask, and synced so that
    the rename never exposes an empty file after a crash."""
    with os.fdopen(fd, "w+b") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)
        result = fill(handle)
        handle.flush()
        os.fsync(handle.fileno())
    return result


def _move(temp: Path, target: Path, *, force: bool, advice: str) -> None:
    """Put ``temp`` at ``target``: replacing what is there with ``force``, else only if
    nothing is (a hard link fails if the name is taken, so a file that appeared meanwhile is
    not lost; a filesystem without hard links gets a check, then the rename)."""
    if force:
        os.replace(temp, target)
        return
    try:
        os.link(temp, target, follow_symlinks=False)
    except FileExistsError:
        raise _exists(target, advice) from None
    except OSError:  # no hard links here (FAT, some network filesystems)
        if os.path.lexists(target):
            raise _exists(target, advice) from None
        os.replace(temp, target)


def _exists(target: Path, advice: str) -> OutputError:
    return OutputError(f"{target}: already exists; {advice}", path=target)
