"""What ``--db`` may name (issue 15, item 9): a new file (created 0600), a database of ours,
or a symbolic link to one. A dangling link, a link to anything else, a named pipe, a folder,
a device or a socket is refused in one line naming the path and what it is, exit 2, at once
(a named pipe is never opened), and nothing is created or changed anywhere."""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_proc import daemon

LOG_RUN = ("log-run", "--at", "2026-03-04T18:00", "--distance", "5km", "--duration", "30:00")
ENV = {"STRIDEWATCH_RECORDING__FLUSH_INTERVAL_S": "0.5"}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stridewatch(db: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real command in its own process: a hang is a failed test, never a stuck suite."""
    argv = [sys.executable, "-m", "agent", "--db", str(db), *args]
    env = {**os.environ, "TZ": "UTC", **ENV}
    return subprocess.run(
        argv, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def refusal(stderr: str, db: Path) -> str:
    """The one line of a refusal, which names the path."""
    [line] = stderr.splitlines()
    assert line.startswith(f"stridewatch: {db}: "), line
    assert line.endswith("; choose another file with --db"), line
    return line


def test_a_dangling_link_is_refused_and_nothing_is_created(sw: Any, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "history.db"
    link = tmp_path / "history.db"
    link.symlink_to(target)
    result = sw("--db", str(link), *LOG_RUN, use_db=False)
    assert result.exit_code == 2
    line = refusal(result.stderr, link)
    assert f"is a symbolic link to {target}, which does not exist" in line
    assert not target.parent.exists()
    assert not (tmp_path / "history.db.lock").exists()
    assert link.is_symlink()


def test_the_daemon_refuses_a_dangling_link_before_creating_anything(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "history.db"
    link = tmp_path / "history.db"
    link.symlink_to(target)
    result = stridewatch(link, "run", "--simulate", "--scenario", "short", "--speedup", "50")
    assert result.returncode == 2
    assert "which does not exist" in refusal(result.stderr, link)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["history.db"]


def test_a_link_to_a_stridewatch_database_works(sw: Any, tmp_path: Path) -> None:
    real = tmp_path / "data" / "history.db"
    assert sw("--db", str(real), *LOG_RUN, use_db=False).exit_code == 0
    link = tmp_path / "link.db"
    link.symlink_to(real)
    later = ("log-run", "--at", "2026-03-06T18:00", "--distance", "6km", "--duration", "36:00")
    result = sw("--db", str(link), *later, use_db=False)
    assert result.exit_code == 0, result.stderr
    conn = sqlite3.connect(real)
    assert conn.execute("select distance_m from runs order by id").fetchall() == [
        (5000.0,),
        (6000.0,),
    ]
    conn.close()
    assert link.is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert not (tmp_path / "link.db-wal").exists()  # SQLite's files stay beside the real one


def test_two_links_to_one_database_share_its_recording_lock(sw: Any, tmp_path: Path) -> None:
    real = tmp_path / "history.db"
    assert sw("--db", str(real), *LOG_RUN, use_db=False).exit_code == 0
    (tmp_path / "a").mkdir()
    first_link, second_link = tmp_path / "a" / "one.db", tmp_path / "two.db"
    first_link.symlink_to(real)
    second_link.symlink_to(real)
    with daemon(first_link, "--simulate", "--scenario", "short", "--speedup", "10", env=ENV) as on:
        on.logged("ready: recording to")
        second = stridewatch(second_link, "run", "--simulate", "--scenario", "short")
        assert second.returncode == 2
        assert "is already recording into it" in second.stderr
        on.proc.kill()
    assert (tmp_path / "history.db.lock").is_file()
    assert not (tmp_path / "a" / "one.db.lock").exists()


def foreign_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("create table notes (body text)")
        conn.execute("insert into notes values ('mine')")
    conn.close()


def empty_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("pragma user_version = 7")
    conn.execute("vacuum")
    conn.close()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: p.write_text("my notes\n"), "which is not a stridewatch database"),
        (lambda p: p.write_bytes(b""), "which is not a stridewatch database"),
        (empty_sqlite, "an empty SQLite database, not a stridewatch one"),
        (foreign_sqlite, "not a stridewatch database (it holds tables notes)"),
    ],
    ids=["text", "empty", "empty-sqlite", "other-program-sqlite"],
)
def test_a_link_to_another_file_is_refused_and_the_file_untouched(
    sw: Any, tmp_path: Path, make: Any, says: str
) -> None:
    target = tmp_path / "other.file"
    make(target)
    before = digest(target)
    link = tmp_path / "history.db"
    link.symlink_to(target)
    result = sw("--db", str(link), *LOG_RUN, use_db=False)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"stridewatch: {link}: "), line
    assert says in line, line
    assert digest(target) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == [
        "history.db",
        "other.file",
    ]


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.db"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    "args",
    [("check",), LOG_RUN, ("run", "--simulate", "--scenario", "short"), ("export", "1")],
    ids=["check", "log-run", "run", "export"],
)
def test_a_named_pipe_is_refused_at_once(fifo: Path, args: tuple[str, ...]) -> None:
    started = time.monotonic()
    result = stridewatch(fifo, *args, timeout=30)
    assert result.returncode == 2
    assert refusal(result.stderr, fifo).endswith(
        ": is a named pipe (FIFO), not a database file; choose another file with --db"
    )
    assert time.monotonic() - started < 30
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_link_to_a_named_pipe_is_refused_at_once(fifo: Path, tmp_path: Path) -> None:
    link = tmp_path / "history.db"
    link.symlink_to(fifo)
    result = stridewatch(link, *LOG_RUN, timeout=30)
    assert result.returncode == 2
    line = refusal(result.stderr, link)
    assert f"is a symbolic link to {fifo}, a named pipe (FIFO), not a database file" in line


def test_a_folder_is_refused_in_one_line(sw: Any, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    result = sw("--db", str(folder), *LOG_RUN, use_db=False)
    assert result.exit_code == 2
    assert refusal(result.stderr, folder).endswith(
        ": is a folder, not a database file; choose another file with --db"
    )
    assert list(folder.iterdir()) == []


def test_a_device_is_refused(sw: Any) -> None:
    result = sw("--db", "/dev/null", "check", use_db=False)
    assert result.exit_code == 2
    assert "is a character device, not a database file" in refusal(result.stderr, Path("/dev/null"))


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sock.db"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        yield path


def test_a_socket_is_refused(sw: Any, unix_socket: Path) -> None:
    result = sw("--db", str(unix_socket), *LOG_RUN, use_db=False)
    assert result.exit_code == 2
    assert "is a socket, not a database file" in refusal(result.stderr, unix_socket)


def test_a_link_loop_is_refused(sw: Any, tmp_path: Path) -> None:
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    one.symlink_to(two)
    two.symlink_to(one)
    result = sw("--db", str(one), "check", use_db=False)
    assert result.exit_code == 2
    assert "is a symbolic link that cannot be followed" in refusal(result.stderr, one)
