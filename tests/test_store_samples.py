"""Samples as whole numbers (issue 18): ``samples_int`` keyed by (run, time), and the
``samples`` view that shows them in SI units as the table of that name did. An older file
is migrated in place, in one transaction: a kill midway leaves it as it was. Files are
migrated on to samples packed several to a row (``m012_samples_packed``,
tests/test_store_packed.py), read through the same view."""

from __future__ import annotations

import json
import logging
import math
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from agent.store import Store, migrations, schema
from agent.store.samples import add_samples

ROOT = Path(__file__).resolve().parent.parent
MIGRATION = "m011_samples_as_integers"
COLUMNS = "run_id, t, distance_m, speed, cadence, hr"
RUN = (
    "insert into runs (id, started_at, ended_at, distance_m, moving_s, elapsed_s, source, "
    "status, created_at) values (?, ?, ?, ?, 600, 600, 'ble', 'closed', ?)"
)
INSERT_OLD = f"insert into samples ({COLUMNS}) values (?,?,?,?,?,?)"
# Half the stored unit (and a hair for the float arithmetic): rounding's largest error.
US, MM = 0.5e-6 * 1.001, 0.5e-3 * 1.001
START = 1_790_000_000.0  # 2026-09-21, as the recorder stamps: unix seconds, fractional


def samples_of(run_id: int, n: int, t0: float) -> list[tuple[Any, ...]]:
    """Samples as the recorder writes them: BLE arrival times to the clock's resolution,
    calibrated counter metres, speeds in 1/256 m/s, whole cadences (one a FIT fraction), a
    strap that drops out."""
    rows = []
    for k in range(n):
        t = t0 + k * 1.0 + 0.000731 * (k % 7) + 1e-7 * k
        distance = k * 28 * 0.1 * 1.0312  # counter in 1/10 m, times a calibration factor
        speed = None if k % 11 == 3 else (700 + k % 90) / 256
        cadence = 171.5 if k == 5 else (None if k % 13 == 4 else float(160 + k % 21))
        hr = None if k % 17 == 2 else 120 + k % 50
        rows.append((run_id, t, distance, speed, cadence, hr))
    return rows


def old_layout(path: Path, runs: int = 2, n: int = 300) -> list[tuple[Any, ...]]:
    """A file as the build before the migration left it, with ``runs`` runs of ``n``
    samples; returns its samples as stored."""
    old = Database(path)
    migrations.apply(old, stop_before=MIGRATION)
    conn = old.conn
    for run_id in range(1, runs + 1):
        t0 = START + run_id * 86_400
        stamp = f"2026-09-{21 + run_id}T06:30:00+00:00"
        conn.execute(RUN, [run_id, stamp, stamp, n * 2.9, stamp])
        conn.executemany(
            f"insert into samples ({COLUMNS}) values (?,?,?,?,?,?)", samples_of(run_id, n, t0)
        )
    conn.commit()
    rows = conn.execute(f"select {COLUMNS} from samples order by run_id, t").fetchall()
    old.close()
    return rows


def read(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def assert_same_samples(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> None:
    """The same samples at the stored resolution: times to the microsecond, distances and
    speeds to the millimetre (finer than the footpod's 1/10 m and 1/256 m/s), cadence and
    heart rate as they were; SI units and Python types as the old table gave them."""
    assert len(got) == len(want)
    for (run_id, t, distance, speed, cadence, hr), old in zip(got, want, strict=True):
        assert run_id == old[0]
        assert isinstance(t, float)
        assert t == pytest.approx(old[1], abs=US)
        assert distance == pytest.approx(old[2], abs=MM)
        assert isinstance(distance, float)
        if old[3] is None:
            assert speed is None
        else:
            assert isinstance(speed, float)
            assert speed == pytest.approx(old[3], abs=MM)
            assert round(speed * 256) == round(old[3] * 256)  # the footpod's value, exactly
        assert cadence == old[4]
        assert cadence is None or isinstance(cadence, float)
        assert hr == old[5]
        assert hr is None or isinstance(hr, int)


def test_older_file_is_migrated_in_place_and_reads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    before = old_layout(path)
    with Store.open(path) as store:
        applied = [name for (name,) in store.conn.execute("select name from _sqlite_migrations")]
        assert applied[-2:] == [MIGRATION, "m012_samples_packed"]
        assert store.schema_version() == schema.STEP_NAMES[-1]
        got = [(r.id, *s) for r in store.runs() for s in store.run_samples(r.id)]
        assert store.counts()["samples"] == len(before)
        assert store.last_sample_t(2) == pytest.approx(before[-1][1], abs=US)
    assert_same_samples(got, before)
    assert_same_samples(read(path, f"select {COLUMNS} from samples order by run_id, t"), before)
    kinds = dict(read(path, "select name, type from sqlite_master where name like 'samples%'"))
    assert kinds == {"samples": "view", "samples_packed": "table"}
    (sql,) = read(path, "select sql from sqlite_master where name = 'samples_packed'")[0]
    assert "without rowid" in sql.lower()


def imported(seconds: float) -> dict[str, Any]:
    started = datetime(2026, 9, 22, 6, 30, tzinfo=UTC)
    return {"started_at": started, "elapsed_s": seconds, "moving_s": seconds, "distance_m": 1e3}


def test_samples_written_by_the_store_read_back_the_same(tmp_path: Path) -> None:
    samples = [s[1:] for s in samples_of(0, 200, START)]
    with Store.open(tmp_path / "history.db") as store:
        run_id = store.add_imported_run(imported(200.0), samples)
        got = [(run_id, *s) for s in store.run_samples(run_id)]
    assert_same_samples(got, [(run_id, *s) for s in samples])


def test_one_sample_per_run_and_instant(tmp_path: Path) -> None:
    """A sample written again (a held file replayed after a crash) is stored once."""
    samples = [s[1:] for s in samples_of(0, 30, START)]
    with Store.open(tmp_path / "history.db") as store:
        run_id = store.add_imported_run(imported(30.0), samples[:20])
        with store.conn:
            add_samples(store.conn, run_id, samples[10:])
        assert len(store.run_samples(run_id)) == 30


def test_migration_keeps_one_of_two_samples_at_one_instant(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "history.db"
    before = old_layout(path, runs=1, n=50)
    conn = sqlite3.connect(path)
    conn.execute(INSERT_OLD, before[7])
    conn.commit()
    conn.close()
    with caplog.at_level(logging.WARNING, logger="stridewatch.store"), Store.open(path) as store:
        assert len(store.run_samples(1)) == 50
    assert "1 sample" in caplog.text


def test_sqlite_utils_query_shows_samples_in_si_units(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    before = old_layout(path, runs=1, n=20)
    Store.open(path).close()
    cli = Path(sys.executable).with_name("sqlite-utils")
    result = subprocess.run(
        [str(cli), "query", str(path), "select * from samples"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(result.stdout)
    assert list(rows[0]) == ["run_id", "t", "distance_m", "speed", "cadence", "hr"]
    assert_same_samples([tuple(row.values()) for row in rows], before)
    assert rows[1]["distance_m"] == pytest.approx(2.887, abs=0.0005)  # metres
    assert rows[1]["speed"] == pytest.approx(701 / 256, abs=0.0005)  # metres per second


KILL = """
import os, signal, sys
from pathlib import Path
from agent.store import Store, schema

index = [step.__name__ for step in schema.STEPS].index(sys.argv[2])
real = schema.STEPS[index]


def kill(when):
    sys.stderr.write(f"killed {when}\\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def killed(db):
    def trace(sql):
        if sys.argv[3] == "copying" and sql.lstrip().startswith(sys.argv[4]):
            db.conn.set_progress_handler(lambda: kill("copying"), 20000)

    db.conn.set_trace_callback(trace)
    real(db)
    kill("committing")  # all done but the commit


killed.__name__ = real.__name__
schema.STEPS = (*schema.STEPS[:index], killed, *schema.STEPS[index + 1 :])
Store.open(Path(sys.argv[1]))
"""


def kill_migrating(path: Path, migration: str, when: str, statement: str) -> None:
    """Open ``path`` in a process killed (SIGKILL) during ``migration``: ``when`` is
    ``copying`` (at ``statement``) or ``committing``."""
    proc = subprocess.run(
        [sys.executable, "-c", KILL, str(path), migration, when, statement],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stderr == f"killed {when}\n"


@pytest.mark.parametrize("when", ["copying", "committing"])
def test_a_kill_during_the_migration_leaves_the_old_layout(tmp_path: Path, when: str) -> None:
    path = tmp_path / "history.db"
    before = old_layout(path, runs=3, n=3000)
    schema_before = read(path, "select type, name, sql from sqlite_master order by name")
    kill_migrating(path, MIGRATION, when, "insert into samples_int")
    assert read(path, "select type, name, sql from sqlite_master order by name") == schema_before
    assert read(path, f"select {COLUMNS} from samples order by run_id, t") == before
    assert MIGRATION not in {name for (name,) in read(path, "select name from _sqlite_migrations")}
    size = path.stat().st_size
    with Store.open(path) as store:  # and the next start migrates it, and compacts the file
        got = [(r.id, *s) for r in store.runs() for s in store.run_samples(r.id)]
    assert_same_samples(got, before)
    assert path.stat().st_size < 0.6 * size
    assert all(math.isfinite(row[1]) for row in got)
