"""The open database: opening (checked, private, WAL, upgraded) and closing, the errors a
runner can act on, and what every table's methods build on (:class:`StoreBase`).

A file that is not ours, or is damaged, is refused and left exactly as it was; a file held by
another process is waited on for ``busy_timeout_s``, then refused with a clear message.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

from agent.errors import DatabaseLockedError, NotFoundError, NotOurDatabaseError, StoreError
from agent.store.migrate import (
    MIGRATIONS_TABLE,
    applied_names,
    migrate,
    schema_columns,
    schema_tables,
    sqlite_utils_database,
)
from agent.store.paths import closed, connect, create_private, database_file, opened
from agent.store.rows import table_names
from agent.store.schema import STEP_NAMES

if TYPE_CHECKING:
    from sqlite_utils import Database

log = logging.getLogger("stridewatch.store")
T = TypeVar("T")


class StoreBase:
    """The stridewatch database. Open with :meth:`open`; close with :meth:`close`.

    ``conn`` is a plain :mod:`sqlite3` connection: an up-to-date file is opened and used
    without importing sqlite-utils (issue 18: start-up of the read commands)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._db: Database | None = None
        self._key: tuple[int, int] | None = None  # the file's (device, inode) while open
        # Rows found unusable (table, id), so that each is reported once.
        self._skipped: set[tuple[str, object]] = set()

    @classmethod
    def open(cls, path: Path, *, busy_timeout_s: float = 5.0) -> Self:
        """Open (creating if needed, 0600 in a 0700 folder) and upgrade the database at
        ``path``. Raises :class:`NotOurDatabaseError` (exit 2) for a file that is not ours, a
        folder, pipe, device or socket, or a symbolic link but to a stridewatch database
        (:func:`database_file`); :class:`DatabaseLockedError` if another program holds it."""
        path = path.expanduser()
        create_private(path)
        real = database_file(path)
        conn = connect(real, path, busy_timeout_s)
        store = cls(conn, path)
        try:
            with store.guard("open"):
                store._refuse_empty_link(real)
                pending = store._check_ours()
                store._enable_wal()
                conn.execute("PRAGMA foreign_keys = ON")
                if pending:
                    migrate(conn)
                    store._compact()
        except BaseException:
            conn.close()
            raise
        store._key = opened(real)
        return store

    @classmethod
    def open_read_only(cls, path: Path, *, busy_timeout_s: float = 5.0) -> Self:
        """Open an existing database for reading only: no migration, no WAL switch, and
        ``query_only`` so that nothing can be written (``what-if`` leaves the file as it was)."""
        path = path.expanduser()
        real = database_file(path)
        if not real.is_file():
            raise NotFoundError(f"{path}: no such database (log a run first, or check --db)")
        conn = connect(real, path, busy_timeout_s)
        store = cls(conn, path)
        try:
            with store.guard("open"):
                store._refuse_empty_link(real)
                store._check_ours(repair=False)
                conn.execute("PRAGMA query_only = ON")
        except BaseException:
            conn.close()
            raise
        store._key = opened(real)
        return store

    @property
    def db(self) -> Database:
        """The connection through sqlite-utils (imported on first use): for code that wants
        its API (tests, a one-off script); the store itself never needs it."""
        if self._db is None:
            self._db = sqlite_utils_database(self.conn)
        return self._db

    def close(self) -> None:
        self.conn.close()
        closed(self._key)
        self._key = None

    def wait_for_lock(self, seconds: float) -> None:
        """How long a statement waits for another program's lock before
        :class:`DatabaseLockedError` (the ``busy_timeout_s`` of :meth:`open`)."""
        self.conn.execute(f"pragma busy_timeout = {round(seconds * 1000)}")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def guard(self, doing: str) -> Iterator[None]:
        """Turn sqlite3's errors into ones a runner can act on."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise DatabaseLockedError(
                    f"{self.path}: the database is in use by another program (waited, then "
                    f"gave up while trying to {doing}); try again once it has finished",
                    path=self.path,
                ) from exc
            raise StoreError(f"{self.path}: cannot {doing}: {text}", path=self.path) from exc
        except sqlite3.IntegrityError as exc:  # our bug, not a damaged file: say so plainly
            raise StoreError(f"{self.path}: cannot {doing}: {exc}", path=self.path) from exc
        except sqlite3.DatabaseError as exc:
            raise NotOurDatabaseError(
                f"{self.path}: the database is damaged ({exc}); stridewatch has not changed "
                "it. Keep a copy, and point --db at a new file or restore a backup",
                path=self.path,
            ) from exc

    def _refuse_empty_link(self, real: Path) -> None:
        """A link is followed only to a database that is ours already: a SQLite file with no
        tables (``sqlite3 x.db vacuum``) is some other program's, however empty."""
        if real != self.path and not table_names(self.conn):
            raise NotOurDatabaseError(
                f"{self.path}: is a symbolic link to {real}, an empty SQLite database, not a "
                "stridewatch one; stridewatch will not touch it. Choose another file with --db",
                path=self.path,
            )

    def _check_ours(self, *, repair: bool = True) -> list[str]:
        """Refuse a file that is not ours or is newer; with ``repair``, finish a file whose
        first open was interrupted (:meth:`_half_created`). Returns the migrations the file
        still needs (all of them for a new file; none: it is up to date)."""
        tables = set(table_names(self.conn))
        if not tables:
            return list(STEP_NAMES)
        applied = applied_names(self.conn) if MIGRATIONS_TABLE in tables else []
        if not applied and self._half_created(tables, repair=repair):
            return list(STEP_NAMES)  # the first open was interrupted: start it again
        if not applied:
            listed = ", ".join(sorted(tables)[:5])
            raise NotOurDatabaseError(
                f"{self.path}: not a stridewatch database (it holds tables {listed}); "
                "stridewatch will not touch it. Choose another file with --db",
                path=self.path,
            )
        unknown = [name for name in applied if name not in STEP_NAMES]
        if unknown:
            raise NotOurDatabaseError(
                f"{self.path}: written by a newer stridewatch (schema {unknown[-1]}); "
                "upgrade stridewatch to use it",
                path=self.path,
            )
        return [name for name in STEP_NAMES if name not in applied]

    def _compact(self) -> None:
        """Give back the pages migrations freed when more than a quarter of the file is free
        (m011 rewrote every sample: the old table's pages stay in the file until then).
        VACUUM is atomic: a kill leaves the file as it was. A file it cannot compact (a full
        disk: it needs the file's size again) works as it is."""
        (free,) = self.conn.execute("pragma freelist_count").fetchone()
        (pages,) = self.conn.execute("pragma page_count").fetchone()
        if free * 4 <= pages:
            return
        try:
            self.conn.execute("vacuum")
        except sqlite3.OperationalError as exc:
            log.warning(
                "%s: not compacted after the upgrade (%s); it works as it is", self.path, exc
            )

    def _enable_wal(self) -> None:
        """WAL mode (readers never wait for the writer), switched once, when a file is new."""
        (mode,) = self.conn.execute("pragma journal_mode").fetchone()
        if mode != "wal":
            with self.conn:
                self.conn.execute("pragma journal_mode = wal")

    def _half_created(self, tables: set[str], *, repair: bool) -> bool:
        """A first open killed midway leaves some of our tables, all empty, and no migration
        recorded (SQLite commits each CREATE TABLE on its own): drop them, so the schema is
        created afresh. Tables of another program, or holding rows, are never touched."""
        ours = schema_columns()
        if not tables <= schema_tables() | set(ours) | {MIGRATIONS_TABLE}:
            return False
        conn = self.conn
        for name in tables - {MIGRATIONS_TABLE}:
            columns = [row[1] for row in conn.execute(f'pragma table_info("{name}")')]
            if tuple(columns) != ours.get(name):
                return False  # a table of that name, but not ours: another program's file
        if any(conn.execute(f'select 1 from "{name}" limit 1').fetchone() for name in tables):
            return False
        if not repair:
            raise NotFoundError(f"{self.path}: no runs yet (log a run first, or check --db)")
        with conn:
            for name in tables:
                conn.execute(f'drop table "{name}"')
        return True

    def _usable(
        self, table: str, rows: Iterable[dict[str, Any]], make: Callable[[dict[str, Any]], T]
    ) -> Generator[T]:
        """``make`` of each row, in order. A row it cannot make (``ValueError``: a date that
        is none, or outside the years stridewatch stores, as only a hand-edited or damaged
        row has) is skipped with one warning naming the table and the row's id, once per row
        and store: no reader stops, and nothing counts with a date it cannot handle."""
        for row in rows:
            try:
                yield make(row)
            except ValueError as exc:
                key = (table, row.get("id"))
                if key not in self._skipped:
                    self._skipped.add(key)
                    log.warning("%s row %s: %s; skipped (fix or delete the row)", *key, exc)

    @contextmanager
    def batched_writes(self) -> Iterator[None]:
        """``PRAGMA synchronous = NORMAL`` for a replay or import, then back as it was.

        In WAL mode a commit is then not fsync'ed (checkpoints are): a power cut can lose the
        last commits, never corrupt the file (sqlite.org/pragma.html#pragma_synchronous), and
        a replay can be run again. A process crash loses nothing either way."""
        conn = self.conn
        (before,) = conn.execute("pragma synchronous").fetchone()
        conn.execute("pragma synchronous = normal")
        try:
            yield
        finally:
            conn.execute(f"pragma synchronous = {int(before)}")

    def counts(self) -> dict[str, int]:
        """Rows per table, for ``stridewatch demo`` and status output."""
        with self.guard("count rows"):
            return {
                name: int(self.conn.execute(f"select count(*) from [{name}]").fetchone()[0])
                for name in ("devices", "runs", "samples", "pain", "alerts")
            }

    def schema_version(self) -> str:
        with self.guard("read the schema"):
            applied = applied_names(self.conn)
        return applied[-1] if applied else "none"
