"""The local history: one SQLite file, through sqlite-utils, in WAL mode.

The schema is created and upgraded by sqlite-utils migrations (set ``stridewatch``); the
README documents every table. Instants are stored as UTC text (``2026-11-20T06:30:00+00:00``)
in runs, pain and alerts, and as UTC unix seconds in samples. A file that is not ours, or is
damaged, is refused and left exactly as it was; a file held by another process is waited on
for ``busy_timeout_s``, then refused with a clear message.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from agent.errors import DatabaseLockedError, NotFoundError, NotOurDatabaseError, StoreError
from agent.models import PainReport, PainWhen, PainWhere, Run, Source
from agent.units import from_utc_iso, utc_iso

MIGRATION_SET = "stridewatch"
SQLITE_HEADER = b"SQLite format 3\x00"

migrations = Migrations(MIGRATION_SET)


@migrations()
def m001_initial(db: Database) -> None:
    """Devices, runs, their samples, and pain reports."""
    db.table("devices").create(
        {"address": str, "name": str, "kind": str, "per_foot": int, "added_at": str},
        pk="address",
        not_null={"kind", "added_at"},
        defaults={"per_foot": 0},
    )
    db.table("runs").create(
        {
            "id": int,
            "started_at": str,
            "ended_at": str,
            "distance_m": float,
            "moving_s": float,
            "elapsed_s": float,
            "source": str,
            "status": str,
            "device": str,
            "rpe": int,
            "avg_hr": float,
            "max_hr": float,
            "avg_cadence": float,
            "trimp": float,
            "note": str,
            "created_at": str,
        },
        pk="id",
        not_null={"started_at", "distance_m", "source", "status", "created_at"},
        defaults={"distance_m": 0.0, "status": "closed"},
    )
    db.table("samples").create(
        {
            "run_id": int,
            "t": float,
            "distance_m": float,
            "speed": float,
            "cadence": float,
            "hr": int,
        },
        foreign_keys=[("run_id", "runs", "id")],
        not_null={"run_id", "t"},
    )
    db.table("pain").create(
        {
            "id": int,
            "at": str,
            "score": int,
            "timing": str,
            "location": str,
            "run_id": int,
            "note": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
        not_null={"at", "score", "timing", "created_at"},
    )


@migrations()
def m002_alerts_and_indexes(db: Database) -> None:
    """Alerts (one row per raised condition, keyed), and indexes for the rules' queries."""
    db.table("alerts").create(
        {
            "id": int,
            "key": str,
            "rule": str,
            "severity": str,
            "message": str,
            "data": str,
            "raised_at": str,
            "run_id": int,
            "at_distance_m": float,
            "delivered_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
        not_null={"key", "rule", "severity", "message", "raised_at"},
    )
    db.table("alerts").create_index(["key"], unique=True)
    db.table("runs").create_index(["started_at"])
    db.table("pain").create_index(["at"])
    db.table("samples").create_index(["run_id", "t"])


class Store:
    """The stridewatch database. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: Path, *, busy_timeout_s: float = 5.0) -> Store:
        """Open (creating if needed) and upgrade the database at ``path``."""
        path = path.expanduser()
        _refuse_foreign_bytes(path)
        _create_private(path)
        conn = sqlite3.connect(path, timeout=busy_timeout_s)
        store = cls(Database(conn), path)
        try:
            with store.guard("open"):
                store._check_ours()
                store.db.enable_wal()
                store.db.execute("PRAGMA foreign_keys = ON")
                migrations.apply(store.db)
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
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
        except sqlite3.DatabaseError as exc:
            raise NotOurDatabaseError(
                f"{self.path}: the database is damaged ({exc}); stridewatch has not changed "
                "it. Keep a copy, and point --db at a new file or restore a backup",
                path=self.path,
            ) from exc

    def _check_ours(self) -> None:
        tables = set(self.db.table_names())
        if not tables:
            return
        applied = (
            [m.name for m in migrations.applied(self.db)]
            if (Migrations.migrations_table in tables)
            else []
        )
        if not applied:
            listed = ", ".join(sorted(tables)[:5])
            raise NotOurDatabaseError(
                f"{self.path}: not a stridewatch database (it holds tables {listed}); "
                "stridewatch will not touch it. Choose another file with --db",
                path=self.path,
            )
        known = {m.name for m in migrations.pending(Database(memory=True))}
        unknown = [name for name in applied if name not in known]
        if unknown:
            raise NotOurDatabaseError(
                f"{self.path}: written by a newer stridewatch (schema {unknown[-1]}); "
                "upgrade stridewatch to use it",
                path=self.path,
            )

    # -- runs ---------------------------------------------------------------------------

    def add_run(
        self,
        *,
        started_at: datetime,
        distance_m: float,
        moving_s: float,
        elapsed_s: float,
        source: Source,
        rpe: int | None = None,
        avg_hr: float | None = None,
        note: str | None = None,
        device: str | None = None,
    ) -> int:
        """Store a finished run; return its id."""
        row = {
            "started_at": utc_iso(started_at),
            "ended_at": utc_iso(started_at + timedelta(seconds=elapsed_s)),
            "distance_m": distance_m,
            "moving_s": moving_s,
            "elapsed_s": elapsed_s,
            "source": source,
            "status": "closed",
            "device": device,
            "rpe": rpe,
            "avg_hr": avg_hr,
            "note": note,
            "created_at": utc_iso(datetime.now(UTC)),
        }
        with self.guard("store the run"), self.db.conn:
            return _last_pk(self.db.table("runs").insert(row).last_pk)

    def runs(self, *, until: datetime | None = None, since: datetime | None = None) -> list[Run]:
        """Closed and open runs that started in ``[since, until]``, oldest first."""
        where, args = _time_window("started_at", since, until)
        with self.guard("read runs"):
            rows = self.db.table("runs").rows_where(where, args, order_by="started_at, id")
            return [_run_from_row(row) for row in rows]

    def get_run(self, run_id: int) -> Run:
        with self.guard("read the run"):
            rows = list(self.db.table("runs").rows_where("id = ?", [run_id]))
        if not rows:
            raise NotFoundError(f"run {run_id}: no such run (see `stridewatch runs`)")
        return _run_from_row(rows[0])

    # -- pain ---------------------------------------------------------------------------

    def add_pain(
        self,
        *,
        at: datetime,
        score: int,
        when: PainWhen,
        where: PainWhere | None = None,
        run_id: int | None = None,
        note: str | None = None,
    ) -> int:
        """Store a pain report; return its id."""
        if run_id is not None:
            self.get_run(run_id)
        row = {
            "at": utc_iso(at),
            "score": score,
            "timing": when,
            "location": where,
            "run_id": run_id,
            "note": note,
            "created_at": utc_iso(datetime.now(UTC)),
        }
        with self.guard("store the pain report"), self.db.conn:
            return _last_pk(self.db.table("pain").insert(row).last_pk)

    def pain_reports(
        self, *, until: datetime | None = None, since: datetime | None = None
    ) -> list[PainReport]:
        where, args = _time_window("at", since, until)
        with self.guard("read pain reports"):
            rows = self.db.table("pain").rows_where(where, args, order_by="at, id")
            return [_pain_from_row(row) for row in rows]

    # -- status -------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Rows per table, for ``stridewatch demo`` and status output."""
        with self.guard("count rows"):
            return {
                name: self.db.table(name).count
                for name in ("devices", "runs", "samples", "pain", "alerts")
            }

    def schema_version(self) -> str:
        with self.guard("read the schema"):
            applied = migrations.applied(self.db)
        return applied[-1].name if applied else "none"


def _time_window(
    column: str, since: datetime | None, until: datetime | None
) -> tuple[str | None, list[Any]]:
    clauses, args = [], []
    if since is not None:
        clauses.append(f"{column} >= ?")
        args.append(utc_iso(since))
    if until is not None:
        clauses.append(f"{column} <= ?")
        args.append(utc_iso(until))
    return (" and ".join(clauses) or None), args


def _run_from_row(row: dict[str, Any]) -> Run:
    return Run(
        id=row["id"],
        started_at=from_utc_iso(row["started_at"]),
        ended_at=from_utc_iso(row["ended_at"]) if row["ended_at"] else None,
        distance_m=row["distance_m"] or 0.0,
        moving_s=row["moving_s"] or 0.0,
        elapsed_s=row["elapsed_s"] or 0.0,
        source=row["source"],
        rpe=row["rpe"],
        avg_hr=row["avg_hr"],
        trimp=row["trimp"],
        note=row["note"],
    )


def _pain_from_row(row: dict[str, Any]) -> PainReport:
    return PainReport(
        id=row["id"],
        at=from_utc_iso(row["at"]),
        score=row["score"],
        when=row["timing"],
        where=row["location"],
        run_id=row["run_id"],
        note=row["note"],
    )


def _refuse_foreign_bytes(path: Path) -> None:
    """A non-empty file that does not start with SQLite's header is not ours: refuse it."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise NotOurDatabaseError(f"{path}: is a folder, not a database file", path=path) from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot be read: {exc.strerror}", path=path) from exc
    if head and head != SQLITE_HEADER:
        raise NotOurDatabaseError(
            f"{path}: not a SQLite database (damaged, or another kind of file); stridewatch "
            "will not touch it. Choose another file with --db",
            path=path,
        )


def _create_private(path: Path) -> None:
    """Create the database's folder (0700) and file (0600) if they do not exist yet."""
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    for folder in reversed(missing):  # only folders we create are made private
        try:
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"{folder}: cannot create folder: {exc.strerror}", path=path) from exc
    if not path.exists():
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"{path}: cannot create: {exc.strerror}", path=path) from exc


def _last_pk(value: object) -> int:
    assert isinstance(value, int), value
    return value


def dumps(data: Any) -> str:
    """JSON text for ``data`` columns."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
