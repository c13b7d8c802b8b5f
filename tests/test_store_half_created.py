"""A first open killed midway (issue 15, item 4) leaves a file with some of our tables, all
empty, and no migration recorded: the next command finishes it, never "not a stridewatch
database" forever. A file of another program, or holding rows, is still refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest


def half(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


MIGRATIONS = "create table _sqlite_migrations (migration_set text, name text, applied_at text)"


def our_table(name: str) -> str:
    """The CREATE TABLE statement our first migration runs for ``name``."""
    from sqlite_utils import Database

    from agent.store.schema import m001_initial

    fresh = Database(memory=True)
    m001_initial(fresh)
    (sql,) = fresh.conn.execute("select sql from sqlite_master where name = ?", [name]).fetchone()
    return str(sql)


RUNS = our_table("runs")


@pytest.mark.parametrize(
    "statements",
    [(MIGRATIONS,), (MIGRATIONS, RUNS), (RUNS,)],
    ids=["migrations-table-only", "one-table-of-ours", "no-migrations-table"],
)
def test_an_interrupted_first_open_is_finished(
    sw: Any, db: Path, statements: tuple[str, ...]
) -> None:
    half(db, *statements)
    assert sw("what-if", "5km").exit_code in (0, 2)  # read-only: touches nothing
    result = sw("log-run", "--at", "2026-11-20T07:30", "--distance", "5km", "--duration", "30:00")
    assert result.exit_code == 0, result.stderr
    assert len(sw("runs", "--json").json()) == 1


def test_tables_of_another_program_or_with_rows_are_refused(sw: Any, db: Path) -> None:
    half(
        db,
        MIGRATIONS,
        RUNS,
        "insert into runs (started_at, distance_m, source, status, created_at) "
        "values ('x', 1, 'manual', 'closed', 'x')",
    )
    result = sw("runs")
    assert result.exit_code == 2
    assert "not a stridewatch database" in result.stderr
    other = db.with_name("other.db")
    half(other, "create table photos (id integer)")
    result = sw("--db", str(other), "runs", use_db=False)
    assert result.exit_code == 2
    assert "not a stridewatch database" in result.stderr


def test_tables_named_like_ours_but_not_ours_are_left_alone(sw: Any, db: Path) -> None:
    """Another program's empty `alerts` and `devices` tables: same names, other columns."""
    half(
        db,
        "create table alerts (id integer primary key, host text, message text, level int)",
        "create table devices (mac text primary key, label text)",
    )
    before = db.read_bytes()
    result = sw("runs")
    assert result.exit_code == 2
    assert "not a stridewatch database" in result.stderr
    assert db.read_bytes() == before
