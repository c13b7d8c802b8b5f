"""The store: creation, migrations, refusal of foreign or damaged files, locks, privacy."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from agent.errors import DatabaseLockedError, NotOurDatabaseError, StoreError
from agent.store import Store, migrations

LOG_RUN = ("log-run", "--at", "2026-11-20T07:30", "--distance", "6km", "--duration", "36:00")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_database_has_every_table_wal_and_private_permissions(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "history.db"
    with Store.open(path) as store:
        tables = {"devices", "runs", "samples_packed", "sample_slots", "pain", "alerts"}
        assert tables <= set(store.db.table_names())
        assert "samples" in store.db.view_names()
        assert store.db.journal_mode == "wal"
        assert "rule" in store.db.table("alerts").columns_dict
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


def test_existing_folder_permissions_are_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    with Store.open(tmp_path / "history.db"):
        pass
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_older_schema_is_upgraded_keeping_its_data(tmp_path: Path, sw) -> None:
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m002_alerts_and_indexes")
    old.table("runs").insert(
        {
            "started_at": "2026-11-01T07:00:00+00:00",
            "ended_at": "2026-11-01T07:30:00+00:00",
            "distance_m": 5000.0,
            "moving_s": 1800.0,
            "elapsed_s": 1800.0,
            "source": "manual",
            "status": "closed",
            "created_at": "2026-11-01T08:00:00+00:00",
        }
    )
    old.close()
    assert "alerts" not in Database(path).table_names()
    result = sw("--db", str(path), "runs", "--json", use_db=False)
    assert result.exit_code == 0, result.stderr
    assert [run["distance_km"] for run in result.json()] == [5.0]
    with Store.open(path) as store:
        assert "alerts" in store.db.table_names()
        latest = migrations.pending(Database(memory=True))[-1].name
        assert store.schema_version() == latest
        assert [m.name for m in migrations.pending(store.db)] == []


def test_foreign_sqlite_file_is_refused_and_untouched(tmp_path: Path, sw) -> None:
    path = tmp_path / "photos.db"
    conn = sqlite3.connect(path)
    conn.execute("create table photos (id integer primary key, name text)")
    conn.execute("insert into photos (name) values ('beach.jpg')")
    conn.commit()
    conn.close()
    before = digest(path)
    result = sw("--db", str(path), *LOG_RUN, use_db=False)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"stridewatch: {path}: not a stridewatch database (it holds tables photos); "
        "stridewatch will not touch it. Choose another file with --db"
    )
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "photos.db"]


def test_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path: Path, sw) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my running notes, not a database\n" * 50)
    before = digest(path)
    result = sw("--db", str(path), "runs", use_db=False)
    assert result.exit_code == 2
    assert "not a SQLite database" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert digest(path) == before


def test_damaged_database_is_refused_and_untouched(tmp_path: Path, sw) -> None:
    path = tmp_path / "history.db"
    for _ in range(3):
        assert (
            sw(
                "--db",
                str(path),
                *LOG_RUN[:2],
                f"2026-11-{20 + _}T07:30",
                *LOG_RUN[3:],
                use_db=False,
            ).exit_code
            == 0
        )
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xde\xad\xbe\xef" * ((4096 - 100) // 4)  # garble page 1's schema table
    path.write_bytes(bytes(data))
    before = digest(path)
    result = sw("--db", str(path), "runs", "--json", use_db=False)
    assert result.exit_code == 2
    assert "the database is damaged" in result.stderr
    assert "stridewatch has not changed it" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert digest(path) == before


def test_a_folder_given_as_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotOurDatabaseError, match="is a folder"):
        Store.open(tmp_path)


def test_locked_database_is_waited_on_then_refused(tmp_path: Path, sw) -> None:
    path = tmp_path / "history.db"
    assert sw("--db", str(path), *LOG_RUN, use_db=False).exit_code == 0
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = sw(
            "--db",
            str(path),
            *LOG_RUN[:2],
            "2026-11-21T07:30",
            *LOG_RUN[3:],
            use_db=False,
            env={"STRIDEWATCH_DATABASE__BUSY_TIMEOUT_S": "0.2"},
        )
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 1
    assert "in use by another program" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(sw("--db", str(path), "runs", "--json", use_db=False).json()) == 1


def test_lock_released_within_the_timeout_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    Store.open(path).close()
    holder = sqlite3.connect(path)
    holder.execute("BEGIN IMMEDIATE")
    with Store.open(path, busy_timeout_s=0.1) as store, pytest.raises(DatabaseLockedError):
        store.add_run(
            started_at=datetime(2026, 11, 20, tzinfo=UTC),
            distance_m=5000,
            moving_s=1800,
            elapsed_s=1800,
            source="manual",
        )
    holder.rollback()
    holder.close()
    with Store.open(path) as store:
        store.add_run(
            started_at=datetime(2026, 11, 20, tzinfo=UTC),
            distance_m=5000,
            moving_s=1800,
            elapsed_s=1800,
            source="manual",
        )
        assert len(store.runs()) == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    Store.open(path).close()
    db = Database(path)
    db.table("_sqlite_migrations").insert(
        {"migration_set": "stridewatch", "name": "m999_from_the_future", "applied_at": "2027-01-01"}
    )
    db.close()
    with pytest.raises(NotOurDatabaseError, match="newer stridewatch"):
        Store.open(path)


def test_times_are_stored_as_utc(tmp_path: Path, sw) -> None:
    path = tmp_path / "history.db"
    result = sw(
        "--db",
        str(path),
        "log-run",
        "--at",
        "2026-07-01T07:30",
        "--distance",
        "5km",
        "--duration",
        "30:00",
        use_db=False,
        env={"STRIDEWATCH_TIMEZONE": "Europe/Berlin"},
    )
    assert result.exit_code == 0, result.stderr
    row = next(Database(path).query("select started_at, ended_at from runs"))
    assert row == {
        "started_at": "2026-07-01T05:30:00+00:00",
        "ended_at": "2026-07-01T06:00:00+00:00",
    }


def test_false_start_with_a_live_alert_is_deleted_with_it(tmp_path: Path) -> None:
    with Store.open(tmp_path / "history.db") as store:
        run_id = store.add_run(
            started_at=datetime(2026, 11, 20, tzinfo=UTC),
            distance_m=40,
            moving_s=12,
            elapsed_s=12,
            source="ble",
        )
        store.db.execute("update runs set status = 'open' where id = ?", [run_id])
        store.db.table("alerts").insert(
            {
                "key": f"live:{run_id}",
                "rule": "single-run-spike",
                "severity": "warning",
                "message": "m",
                "raised_at": "2026-11-20T00:00:10+00:00",
                "run_id": run_id,
            }
        )
        store.db.conn.commit()
        store.delete_recording(run_id)
        assert store.runs() == []
        assert store.counts()["alerts"] == 0


def test_a_constraint_violation_is_not_called_damage(tmp_path: Path) -> None:
    with (
        Store.open(tmp_path / "history.db") as store,
        pytest.raises(StoreError) as caught,
        store.guard("store the pain report"),
    ):
        store.db.execute(
            "insert into pain (at, score, timing, created_at, run_id) "
            "values ('x', 1, 'after', 'x', 999)"
        )
    assert not isinstance(caught.value, NotOurDatabaseError)
    assert "FOREIGN KEY constraint failed" in str(caught.value)
