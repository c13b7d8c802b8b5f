"""The recording survives a database it cannot write to for a while (issue 15, item 2): another
program holding the write lock, a full disk, a file-size limit. Real daemon processes, a
second sqlite3 connection holding the lock, a small tmpfs (where the machine allows a mount)
or ``RLIMIT_FSIZE``, and real signals. The samples are held in memory meanwhile and written
when the database takes writes again; a stop while it still refuses saves them beside it
(``DATABASE.held``), and the next start writes them."""

from __future__ import annotations

import contextlib
import itertools
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.store.writer import held_path
from tests.daemon_proc import DaemonProcess, daemon
from tests.files.xml_maker import gpx, north

# Flushes every half simulated second: at 10x, twenty a second of real time.
ENV = {"STRIDEWATCH_RECORDING__FLUSH_INTERVAL_S": "0.5"}
SPEEDUP = "10"
LOCK_HELD_S = 8.0  # the case: another program holds the database for 8 s
UNIT_STOP_TIMEOUT_S = 10.0  # systemd/stridewatch.service: TimeoutStopSec
FAR_GAP_S = 3.0  # consecutive samples of a steady simulated run are about a second apart


def samples(proc: DaemonProcess) -> list[sqlite3.Row]:
    return proc.rows("select run_id, t, distance_m from samples order by t")


def assert_whole(proc: DaemonProcess) -> sqlite3.Row:
    """One closed run whose samples are in order, none twice, none missing, distance never
    going down; returns the run."""
    [run] = proc.rows("select * from runs")
    assert run["status"] == "closed"
    rows = samples(proc)
    times = [row["t"] for row in rows]
    assert len(times) == len(set(times))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) < FAR_GAP_S, f"a gap of {max(gaps):.1f} s in the samples"
    distances = [row["distance_m"] for row in rows]
    assert distances == sorted(distances)
    assert distances[-1] == pytest.approx(run["distance_m"], abs=0.001)  # samples: to the mm
    return run


@contextlib.contextmanager
def write_lock(db: Path) -> Iterator[sqlite3.Connection]:
    """Another program's write lock on the database (``BEGIN EXCLUSIVE``), until the end."""
    holder = sqlite3.connect(db, timeout=10, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield holder
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def wait_samples(proc: DaemonProcess, count: int) -> None:
    proc.wait_for(lambda: len(samples(proc)) >= count, 60, f"{count} samples")


def test_a_long_write_lock_holds_the_samples_and_catches_up(db: Path) -> None:
    with daemon(db, "--simulate", "--scenario", "long", "--speedup", SPEEDUP, env=ENV) as proc:
        wait_samples(proc, 30)
        with write_lock(db):
            proc.logged("cannot write to")
            time.sleep(LOCK_HELD_S)
            assert proc.proc.poll() is None, proc.stderr()
        proc.logged("the database takes writes again")
        wait_samples(proc, len(samples(proc)) + 20)  # and records on
        proc.stop(UNIT_STOP_TIMEOUT_S)
    log = proc.stderr()
    assert "Traceback" not in log
    assert log.count("cannot write to") == 1  # said once, not on every retry
    assert "the database is in use by another program" in log
    assert_whole(proc)  # the locked period's samples too: no gap anywhere


def test_sigterm_while_the_lock_is_held_saves_the_run_beside_the_database(db: Path) -> None:
    with daemon(db, "--simulate", "--scenario", "long", "--speedup", SPEEDUP, env=ENV) as proc:
        wait_samples(proc, 30)
        with write_lock(db):
            proc.logged("cannot write to")
            time.sleep(1.0)
            stored = len(samples(proc))
            took = proc.stop(UNIT_STOP_TIMEOUT_S)  # exit 0 within the unit's stop timeout
            assert took < UNIT_STOP_TIMEOUT_S
    log = proc.stderr()
    assert "Traceback" not in log
    assert "samples saved to" in log
    held = held_path(db)
    assert held.stat().st_mode & 0o777 == 0o600
    [open_run] = proc.rows("select * from runs")
    assert open_run["status"] == "open"  # the database could not be told yet

    # The next start writes what was held, before anything else: the run is closed, whole.
    with daemon(db, "--simulate", "--scenario", "standing", "--speedup", "300", env=ENV) as again:
        again.logged("samples held in")
        again.proc.wait(60)
    assert again.proc.returncode == 0, again.stderr()
    assert not held.exists()
    run = assert_whole(again)
    assert len(samples(again)) > stored
    assert run["id"] == open_run["id"]


def can_mount_tmpfs(where: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def fill(folder: Path) -> Path:
    """Fill the disk holding ``folder`` to the last byte."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (65536, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * size)
    return filler


def test_a_full_disk_is_said_once_and_the_run_is_written_when_space_returns(
    tmp_path: Path,
) -> None:
    """A 4 MB tmpfs filled to the last byte mid-run, then freed. Where the machine allows no
    mount (not root, a locked-down container), the file-size limit below is the full disk."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not can_mount_tmpfs(disk):
        a_file_size_limit_is_a_full_disk(tmp_path / "history.db")
        return
    try:
        db = disk / "history.db"
        with daemon(db, "--simulate", "--scenario", "long", "--speedup", SPEEDUP, env=ENV) as proc:
            wait_samples(proc, 30)
            filler = fill(disk)
            proc.logged("database or disk is full")
            time.sleep(3.0)
            assert proc.proc.poll() is None, proc.stderr()
            filler.unlink()
            proc.logged("the database takes writes again")
            wait_samples(proc, len(samples(proc)) + 20)
            proc.stop(UNIT_STOP_TIMEOUT_S)
        log = proc.stderr()
        assert "Traceback" not in log
        assert log.count("cannot write to") == 1
        assert_whole(proc)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


FILE_SIZE_LIMIT = 64 * 1024


def test_a_file_size_limit_is_a_full_disk_and_loses_nothing(db: Path) -> None:
    a_file_size_limit_is_a_full_disk(db)


def a_file_size_limit_is_a_full_disk(db: Path) -> None:
    """``ulimit -f``: writes past the limit fail (EFBIG) and must not kill the daemon
    (SIGXFSZ); the stop saves what was held, and the next start, without the limit, writes it."""
    done = subprocess.run(  # the database exists before the limit: it is just below it
        [sys.executable, "-m", "agent", "--db", str(db), "runs"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    args = ("--simulate", "--scenario", "long", "--speedup", SPEEDUP)
    with daemon(db, *args, env=ENV, preexec_fn=limit_file_size) as proc:
        proc.logged("cannot write to", timeout=120)
        time.sleep(5.0)  # 50 simulated seconds: a run, not a few strides
        assert proc.proc.poll() is None, proc.stderr()
        stored = len(samples(proc))
        proc.stop(UNIT_STOP_TIMEOUT_S)
    log = proc.stderr()
    assert "Traceback" not in log
    assert log.count("cannot write to") == 1
    assert "samples saved to" in log
    with daemon(db, "--simulate", "--scenario", "standing", "--speedup", "300", env=ENV) as again:
        again.logged("samples held in")
        again.proc.wait(60)
    assert again.proc.returncode == 0, again.stderr()
    assert not held_path(db).exists()
    assert_whole(again)
    assert len(samples(again)) > stored


def test_a_large_import_lets_other_writers_in_between_runs(tmp_path: Path, db: Path) -> None:
    """`import` commits run by run, so the recorder (here: a second connection taking the
    write lock) gets in while it goes on, instead of waiting for the whole batch."""
    folder = tmp_path / "export"
    folder.mkdir()
    start = datetime(2026, 1, 1, 7, 0, tzinfo=UTC)
    count = 300
    for day in range(count):
        points = north(start + timedelta(days=day), 600, 3.0)
        (folder / f"run-{day:03}.gpx").write_text(gpx([points], sport="running"))
    made = subprocess.run(  # the database first: its creation is not what this is about
        [sys.executable, "-m", "agent", "--db", str(db), "runs"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    argv = [sys.executable, "-m", "agent", "--db", str(db), "import", str(folder)]
    importer = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen_between: list[int] = []
    try:
        while importer.poll() is None and not seen_between:
            with contextlib.suppress(sqlite3.OperationalError):  # waited over 30 s: fails below
                conn = sqlite3.connect(db, timeout=30, isolation_level=None)
                try:
                    conn.execute("BEGIN IMMEDIATE")  # the recorder's write lock
                    (stored,) = conn.execute("select count(*) from runs").fetchone()
                    conn.execute("ROLLBACK")
                finally:
                    conn.close()
                if 0 < stored < count:
                    seen_between.append(stored)
            time.sleep(0.01)
    finally:
        _, err = importer.communicate(timeout=300)
    assert importer.returncode == 0, err
    assert seen_between, "the import held the write lock from its first run to its last"


def test_a_second_stop_signal_while_the_run_is_saved_changes_nothing(db: Path) -> None:
    """SIGTERM twice (systemd and an impatient runner), the database locked meanwhile: the
    second is said and ignored, the held samples are saved, the exit is clean."""
    with daemon(db, "--simulate", "--scenario", "long", "--speedup", SPEEDUP, env=ENV) as proc:
        wait_samples(proc, 30)
        with write_lock(db):
            proc.logged("cannot write to")
            proc.proc.send_signal(signal.SIGTERM)
            proc.logged("SIGTERM: finishing the run")
            proc.proc.send_signal(signal.SIGTERM)
            assert proc.proc.wait(UNIT_STOP_TIMEOUT_S) == 0, proc.stderr()
    assert "SIGTERM: already stopping" in proc.stderr()
    assert "samples saved to" in proc.stderr()
    assert held_path(db).exists()


def test_a_capture_on_a_full_disk_stops_alone(tmp_path: Path, db: Path) -> None:
    """`run --capture` on a disk that fills: the capture stops with one line, the recording
    goes on and the daemon stops cleanly."""
    disk = tmp_path / "disk"
    disk.mkdir()
    assert can_mount_tmpfs(disk), "this test mounts a small tmpfs: run it as root"
    try:
        capture = disk / "run.jsonl"
        args = ("--simulate", "--scenario", "long", "--speedup", SPEEDUP)
        with daemon(db, *args, "--capture", str(capture), env=ENV) as proc:
            wait_samples(proc, 20)
            fill(disk)
            proc.logged("cannot write the capture", timeout=30)
            stored = len(samples(proc))
            wait_samples(proc, stored + 40)  # records on
            proc.stop(UNIT_STOP_TIMEOUT_S)
        log = proc.stderr()
        assert "Traceback" not in log
        assert log.count("cannot write the capture") == 1
        assert_whole(proc)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
