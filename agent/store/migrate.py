"""Applying the schema (:mod:`agent.store.schema`): which migrations a file has, and running
the ones it lacks through sqlite-utils, imported only then.
"""

from __future__ import annotations

import functools
import sqlite3
import sys
from typing import TYPE_CHECKING

import agent.store.schema as schema  # read at call time: tests replace schema.STEPS

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

# sqlite-utils' record of applied migrations (``Migrations.migrations_table``).
MIGRATIONS_TABLE = "_sqlite_migrations"


# -- performance (benchmarks/, issues 7 and 18): sqlite-utils only to migrate ---------------
# Importing sqlite-utils is ~35 ms of a command's start-up and ~4.5 MB (benchmarks/RESULTS.md).
# The store itself works on plain sqlite3; sqlite-utils is imported when a file needs a
# migration (a new or older file), or when something asks for it (``Store.db``).
#
# sqlite-utils imports numpy whenever it is installed (matplotlib brings it, for the charts)
# only to map numpy scalar types to column types; stridewatch never stores numpy values.
# numpy was ~50 ms of every database command's start-up and ~20 MB of the daemon's memory,
# so it is hidden while sqlite-utils loads (sqlite-utils catches the ImportError), unless
# something has loaded it already; later imports of numpy work as usual.


def _load_sqlite_utils() -> None:
    if "sqlite_utils" in sys.modules:
        return
    hide_numpy = "numpy" not in sys.modules
    if hide_numpy:
        sys.modules["numpy"] = None  # type: ignore[assignment]
    try:
        import sqlite_utils  # noqa: F401
    finally:
        if hide_numpy:
            del sys.modules["numpy"]


def sqlite_utils_database(conn: sqlite3.Connection | None = None) -> Database:
    """sqlite-utils' ``Database`` over ``conn`` (None: a new in-memory database)."""
    _load_sqlite_utils()
    from sqlite_utils import Database

    return Database(memory=True) if conn is None else Database(conn)


@functools.cache
def migration_set() -> Migrations:
    """sqlite-utils' migrations of set ``stridewatch``: :data:`agent.store.STEPS`."""
    _load_sqlite_utils()
    from sqlite_utils.migrations import Migrations

    found = Migrations(schema.MIGRATION_SET)
    for step in schema.STEPS:
        found()(step)
    return found


def applied_names(conn: sqlite3.Connection) -> list[str]:
    """The migrations of our set recorded in the file, in the order they were applied."""
    if not conn.execute(
        "select 1 from sqlite_master where type = 'table' and name = ?", [MIGRATIONS_TABLE]
    ).fetchone():
        return []
    sql = f"select name from {MIGRATIONS_TABLE} where migration_set = ? order by rowid"
    return [name for (name,) in conn.execute(sql, [schema.MIGRATION_SET])]


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations the file lacks, each in one transaction with its record."""
    migration_set().apply(sqlite_utils_database(conn))


# -- what a complete schema holds (agent/store/database.py: a first open cut short) ----------


@functools.cache
def schema_columns() -> dict[str, tuple[str, ...]]:
    """Each table of the first migration's schema with its columns, in order: what an
    interrupted first open leaves (later migrations run only after it is recorded)."""
    fresh = sqlite_utils_database()
    schema.m001_initial(fresh)
    return {
        name: tuple(row[1] for row in fresh.conn.execute(f'pragma table_info("{name}")'))
        for name in fresh.table_names()
    }


@functools.cache
def schema_tables() -> frozenset[str]:
    """The tables a complete schema has (the migrations applied to an empty database)."""
    fresh = sqlite_utils_database()
    migration_set().apply(fresh)
    return frozenset(fresh.table_names())
