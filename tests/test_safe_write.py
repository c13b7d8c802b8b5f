"""Files the commands write, ``export`` and ``report -o`` (issue 15, item 9): private (0600),
never through a link (neither at the name asked for nor at a guessable ``OUT.part``), never
over an existing file without ``--force``; with ``--force`` a link at the name is replaced by
the file, and what it pointed to is left alone. Nothing is left behind but the file."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.report_history import AT

LOG_RUN = ("log-run", "--at", "2026-11-04T18:00", "--distance", "5km", "--duration", "30:00")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for the written files."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file a planted link points to: it must never change."""
    path = tmp_path / "victim.txt"
    path.write_text("the runner's own notes\n")
    return path


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that lets everyone read: the files must be private anyway."""
    old = os.umask(0o022)
    yield
    os.umask(old)


# Each writer: the command line that writes FILE (after its run is logged), and its output.
WRITERS = {
    "export": lambda path, *more: ("export", "1", "-o", str(path), *more),
    "report": lambda path, *more: ("report", "--at", AT, "-o", str(path), *more),
}


@pytest.fixture(params=sorted(WRITERS))
def write(request: pytest.FixtureRequest, sw: Any) -> Any:
    """Run one writer onto a path (with extra options); the history holds one run."""
    assert sw(*LOG_RUN).exit_code == 0
    command = WRITERS[request.param]
    return lambda path, *more: sw(*command(path, *more))


def test_the_written_file_is_private(write: Any, out: Path, open_umask: None) -> None:
    result = write(out / "file")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out / 'file'} ")
    assert mode(out / "file") == 0o600
    assert [p.name for p in out.iterdir()] == ["file"]  # no temporary file left behind


def test_a_planted_part_link_is_never_written_through(write: Any, out: Path, victim: Path) -> None:
    before = digest(victim)
    (out / "file.part").symlink_to(victim)
    result = write(out / "file")
    assert result.exit_code == 0, result.stderr
    assert digest(victim) == before
    assert (out / "file.part").is_symlink()
    assert stat.S_ISREG((out / "file").lstat().st_mode)
    assert sorted(p.name for p in out.iterdir()) == ["file", "file.part"]


def test_an_existing_file_is_refused_without_force(write: Any, out: Path) -> None:
    existing = out / "file"
    existing.write_text("keep me\n")
    result = write(existing)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"stridewatch: {existing}: already exists; choose another name with -o, or add --force"
    ]
    assert existing.read_text() == "keep me\n"
    assert [p.name for p in out.iterdir()] == ["file"]


def test_force_replaces_an_existing_file_with_a_private_one(
    write: Any, out: Path, open_umask: None
) -> None:
    existing = out / "file"
    existing.write_text("old\n")
    existing.chmod(0o644)
    result = write(existing, "--force")
    assert result.exit_code == 0, result.stderr
    assert existing.read_bytes() != b"old\n"
    assert mode(existing) == 0o600
    assert [p.name for p in out.iterdir()] == ["file"]


def test_a_link_at_the_name_is_refused_then_replaced_never_followed(
    write: Any, out: Path, victim: Path
) -> None:
    before = digest(victim)
    link = out / "file"
    link.symlink_to(victim)
    refused = write(link)
    assert refused.exit_code == 2
    assert "already exists; choose another name with -o, or add --force" in refused.stderr
    assert link.is_symlink()
    forced = write(link, "--force")
    assert forced.exit_code == 0, forced.stderr
    assert not link.is_symlink()
    assert mode(link) == 0o600
    assert digest(victim) == before


def test_a_dangling_link_at_the_name_is_refused(write: Any, out: Path, tmp_path: Path) -> None:
    target = tmp_path / "created-through-the-link"
    (out / "file").symlink_to(target)
    result = write(out / "file")
    assert result.exit_code == 2
    assert not target.exists()


def test_a_named_pipe_at_the_name_is_refused_even_with_force(out: Path, sw: Any, db: Path) -> None:
    assert sw(*LOG_RUN).exit_code == 0
    pipe = out / "file"
    os.mkfifo(pipe)
    for command in WRITERS.values():
        argv = [sys.executable, "-m", "agent", "--db", str(db), *command(pipe, "--force")]
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, check=False, env=os.environ
        )
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            f"stridewatch: {pipe}: is a named pipe (FIFO); stridewatch only ever replaces a file"
        ]
        assert stat.S_ISFIFO(pipe.lstat().st_mode)


def test_a_missing_folder_is_one_line(sw: Any, out: Path) -> None:
    assert sw(*LOG_RUN).exit_code == 0
    result = sw("export", "1", "-o", str(out / "nope" / "run.fit"))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"stridewatch: {out / 'nope' / 'run.fit'}: cannot write in {out / 'nope'}: "
        "No such file or directory"
    ]


def test_report_help_offers_force(sw: Any) -> None:
    result = sw("report", "-h")
    assert "--force" in result.stdout
    assert "Replace FILE if it exists." in result.stdout
