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
RUNS = "create table runs (id integer primary key, started_at text)"


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
    half(db, MIGRATIONS, RUNS, "insert into runs (started_at) values ('x')")
    result = sw("runs")
    assert result.exit_code == 2
    assert "not a stridewatch database" in result.stderr
    other = db.with_name("other.db")
    half(other, "create table photos (id integer)")
    result = sw("--db", str(other), "runs", use_db=False)
    assert result.exit_code == 2
    assert "not a stridewatch database" in result.stderr
