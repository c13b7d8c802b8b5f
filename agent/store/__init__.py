"""The local history: one SQLite file, through sqlite-utils, in WAL mode.

The schema is created and upgraded by sqlite-utils migrations (set ``stridewatch``); the
README documents every table. Instants are stored as UTC text (``2026-11-20T06:30:00+00:00``)
in runs, pain and alerts, and as UTC unix seconds in samples. A file that is not ours, or is
damaged, is refused and left exactly as it was; a file held by another process is waited on
for ``busy_timeout_s``, then refused with a clear message.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import sqlite3
import stat
import sys
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from agent.errors import DatabaseLockedError, NotFoundError, NotOurDatabaseError, StoreError
from agent.models import (
    Alert,
    DeclaredLevel,
    PainReport,
    PainWhen,
    PainWhere,
    Run,
    Severity,
    Source,
    severity_rank,
)
from agent.models import (
    SampleRow as SampleRow,  # re-exported: the recorder and importers make them
)
from agent.safe_write import kind_of
from agent.units import stored_day, stored_instant, utc_iso

# -- performance (benchmarks/, issue 7): sqlite-utils without numpy ------------------------
# sqlite-utils imports numpy whenever it is installed (matplotlib brings it, for the charts)
# only to map numpy scalar types to column types; stridewatch never stores numpy values.
# numpy was ~50 ms of every database command's start-up and ~20 MB of the daemon's memory
# (benchmarks/RESULTS.md), so it is hidden while sqlite-utils loads (sqlite-utils catches the
# ImportError), unless something has loaded it already; later imports of numpy work as usual.
_HIDE_NUMPY = "numpy" not in sys.modules
if _HIDE_NUMPY:
    sys.modules["numpy"] = None  # type: ignore[assignment]
try:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations
finally:
    if _HIDE_NUMPY:
        del sys.modules["numpy"]

log = logging.getLogger("stridewatch.store")
T = TypeVar("T")

MIGRATION_SET = "stridewatch"
SQLITE_HEADER = b"SQLite format 3\x00"

migrations = Migrations(MIGRATION_SET)


def _add_missing_columns(db: Database, table: str, columns: Mapping[str, type]) -> None:
    """Add the columns a table lacks (a migration may meet a file an older build touched)."""
    have = set(db.table(table).columns_dict)
    for name, kind in columns.items():
        if name not in have:
            db.table(table).add_column(name, kind)


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


# -- recording (agent/recording/recorder.py): migration --------------------------------------------

# Columns the recorder adds to ``runs``: totals a recorded run keeps beyond the manual ones,
# and the running sums that let a crashed run be resumed (hr_s, cadence_s, last_active_t).
# ``srpe`` (session-RPE load) is written by ``stridewatch rpe``, never by a flush.
RECORDING_RUN_COLUMNS: dict[str, type] = {
    "max_cadence": float,
    "avg_speed": float,
    "max_speed": float,
    "edwards_trimp": float,
    "srpe": float,
    "zone_s": str,
    "hr_only": int,
    "calibration": float,
    "hr_s": float,
    "cadence_s": float,
    "last_active_t": float,
    "flushed_at": str,
}


@migrations()
def m004_recording(db: Database) -> None:
    """Recorded-run totals on ``runs``, and dated per-device calibration factors."""
    _add_missing_columns(db, "runs", RECORDING_RUN_COLUMNS)
    db.table("calibrations").create(
        {"id": int, "address": str, "factor": float, "set_at": str, "note": str},
        pk="id",
        not_null={"address", "factor", "set_at"},
    )
    db.table("calibrations").create_index(["address", "set_at"])
    db.table("runs").create_index(["status"])


# -- import and export (agent/files/importer.py, agent/files/fit.py): migration -------------------


@migrations()
def m005_import_source(db: Database) -> None:
    """Where an imported run came from: the file's name and the file's own activity id."""
    _add_missing_columns(db, "runs", {"import_file": str, "external_id": str})


# -- load and rules (agent/rules/load.py, agent/rules/, agent/advice/checks.py): migration ---------


@migrations()
def m006_return_plans(db: Database) -> None:
    """Graded return-to-run plans (``stridewatch plan return``); one is active at a time."""
    db.table("plans").create(
        {"id": int, "created_at": str, "status": str, "data": str, "ended_at": str},
        pk="id",
        not_null={"created_at", "status", "data"},
    )
    db.table("plans").create_index(["status", "created_at"])
    db.table("alerts").create_index(["raised_at"])


# -- daemon (agent/daemon/supervisor.py, agent/daemon/delivery.py): migration ----------------------


@migrations()
def m007_daemon(db: Database) -> None:
    """Nightly summaries (one per local day) and pain check-ins (one per key), each with
    ``delivered_at`` like alerts; and an index for the delivery retries."""
    db.table("summaries").create(
        {"day": str, "created_at": str, "message": str, "data": str, "delivered_at": str},
        pk="day",
        not_null={"created_at", "message"},
    )
    db.table("checkins").create(
        {
            "key": str,
            "kind": str,
            "run_id": int,
            "created_at": str,
            "message": str,
            "delivered_at": str,
        },
        pk="key",
        foreign_keys=[("run_id", "runs", "id")],
        not_null={"kind", "created_at", "message"},
    )
    db.table("alerts").create_index(["delivered_at"])


@migrations()
def m008_declared_levels(db: Database) -> None:
    """Starting levels the runner declared (``stridewatch baseline set``); the latest one set
    by an instant applies then."""
    db.table("declared_levels").create(
        {"id": int, "set_at": str, "week_km": float, "long_km": float},
        pk="id",
        not_null={"set_at", "week_km", "long_km"},
    )


# -- recording (agent/recording/recorder.py): distance source --------------------------------------

# Where a recorded run's distance came from: ``counter`` (the footpod's total distance) or
# ``speed`` (speed over time: no counter, or a frozen one); NULL for runs not recorded.
DISTANCE_SOURCE_COLUMNS: dict[str, type] = {"distance_source": str}


@migrations()
def m009_distance_source(db: Database) -> None:
    """Which footpod source a recorded run's distance came from."""
    _add_missing_columns(db, "runs", DISTANCE_SOURCE_COLUMNS)


# -- sync folders (agent/files/sync.py): the files seen, so that each is imported once ----------

SYNCED_COLUMNS = (
    "path", "folder", "size", "mtime_ns", "sha256", "status", "reason", "run_ids", "runs",
    "seen_at",
)  # fmt: skip


@migrations()
def m010_synced_files(db: Database) -> None:
    """Every activity file found in a sync folder: its size, time and content hash when it
    was last decided, what came of it (``status``: imported, duplicate, skipped, failed, or
    same file as another path), and the runs it gave (``run_ids``, JSON)."""
    db.table("synced_files").create(
        {
            "path": str,
            "folder": str,
            "size": int,
            "mtime_ns": int,
            "sha256": str,
            "status": str,
            "reason": str,
            "run_ids": str,
            "runs": int,
            "seen_at": str,
        },
        pk="path",
        not_null={"size", "mtime_ns", "sha256", "status", "seen_at"},
    )
    db.table("synced_files").create_index(["sha256"])
    db.table("synced_files").create_index(["seen_at"])


class Store:
    """The stridewatch database. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path
        self._key: tuple[int, int] | None = None  # the file's (device, inode) while open
        # Rows found unusable (table, id), so that each is reported once.
        self._skipped: set[tuple[str, object]] = set()

    @classmethod
    def open(cls, path: Path, *, busy_timeout_s: float = 5.0) -> Store:
        """Open (creating if needed, 0600 in a 0700 folder) and upgrade the database at
        ``path``. Raises :class:`NotOurDatabaseError` (exit 2) for a file that is not ours, a
        folder, pipe, device or socket, or a symbolic link but to a stridewatch database
        (:func:`database_file`); :class:`DatabaseLockedError` if another program holds it."""
        path = path.expanduser()
        _create_private(path)
        real = database_file(path)
        store = cls(Database(_connect(real, path, busy_timeout_s)), path)
        conn = store.db.conn
        try:
            with store.guard("open"):
                store._refuse_empty_link(real)
                store._check_ours()
                store.db.enable_wal()
                store.db.execute("PRAGMA foreign_keys = ON")
                migrations.apply(store.db)
        except BaseException:
            conn.close()
            raise
        store._key = _opened(real)
        return store

    def close(self) -> None:
        self.db.close()
        _closed(self._key)
        self._key = None

    def wait_for_lock(self, seconds: float) -> None:
        """How long a statement waits for another program's lock before
        :class:`DatabaseLockedError` (the ``busy_timeout_s`` of :meth:`open`)."""
        self.db.conn.execute(f"pragma busy_timeout = {round(seconds * 1000)}")

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
        if real != self.path and not self.db.table_names():
            raise NotOurDatabaseError(
                f"{self.path}: is a symbolic link to {real}, an empty SQLite database, not a "
                "stridewatch one; stridewatch will not touch it. Choose another file with --db",
                path=self.path,
            )

    def _check_ours(self, *, repair: bool = True) -> None:
        """Refuse a file that is not ours or is newer; with ``repair``, finish a file whose
        first open was interrupted (:meth:`_half_created`)."""
        tables = set(self.db.table_names())
        if not tables:
            return
        applied = (
            [m.name for m in migrations.applied(self.db)]
            if (Migrations.migrations_table in tables)
            else []
        )
        if not applied and self._half_created(tables, repair=repair):
            return  # the first open was interrupted: start it again
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

    def _half_created(self, tables: set[str], *, repair: bool) -> bool:
        """A first open killed midway leaves some of our tables, all empty, and no migration
        recorded (SQLite commits each CREATE TABLE on its own): drop them, so the schema is
        created afresh. Tables of another program, or holding rows, are never touched."""
        if not tables <= _schema_tables() | {Migrations.migrations_table}:
            return False
        conn = self.db.conn
        ours = _schema_columns()
        for name in tables - {Migrations.migrations_table}:
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
            return list(self._usable("runs", rows, _run_from_row))

    def last_run_before(self, moment: datetime) -> Run | None:
        """The latest run that started before ``moment``, if any (unusable rows skipped)."""
        with self.guard("read runs"):
            rows = self.db.table("runs").rows_where(
                "started_at < ?", [utc_iso(moment)], order_by="started_at desc, id desc"
            )
            with closing(self._usable("runs", rows, _run_from_row)) as usable:
                return next(usable, None)

    def get_run(self, run_id: int) -> Run:
        with self.guard("read the run"):
            rows = list(self.db.table("runs").rows_where("id = ?", [run_id]))
        if not rows:
            raise NotFoundError(f"run {run_id}: no such run (see `stridewatch runs`)")
        try:
            return _run_from_row(rows[0])
        except ValueError as exc:
            raise NotFoundError(
                f"run {run_id}: cannot be used, its {exc} (fix or delete the row)"
            ) from None

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
            return list(self._usable("pain", rows, _pain_from_row))

    # -- recording (agent/recording/recorder.py): runs recorded from sensors, samples, devices -----

    def save_recording(
        self, run_id: int | None, row: dict[str, Any], samples: Sequence[SampleRow]
    ) -> int:
        """Insert (``run_id`` None) or update a recorded run and append its samples, in one
        transaction; return the run's id. The recorder's flush, and its hot path."""
        conn = self.db.conn
        with self.guard("save the recorded run"), conn:
            if run_id is None:
                cursor = conn.execute(_INSERT_RECORDED, [row[name] for name in RECORDED_COLUMNS])
                run_id = _last_pk(cursor.lastrowid)
            else:
                conn.execute(_UPDATE_RECORDED, [*(row[name] for name in RECORDED_COLUMNS), run_id])
            if samples:
                # (run_id,) + sample per row, looped in C: a flush's hot path (issue 7).
                conn.executemany(_INSERT_SAMPLE, map((run_id,).__add__, samples))
        return run_id

    def delete_recording(self, run_id: int) -> None:
        """Delete a recorded run that turned out to be a false start, with its samples."""
        with self.guard("delete the false start"), self.db.conn:
            self.db.conn.execute("delete from samples where run_id = ?", [run_id])
            # A live alert raised during the false start goes with it: it was about no run.
            self.db.conn.execute("delete from alerts where run_id = ?", [run_id])
            self.db.conn.execute("delete from runs where id = ? and status = 'open'", [run_id])

    def open_recordings(self) -> list[dict[str, Any]]:
        """Recorded runs still ``open``: left behind by a crash, to resume or close."""
        with self.guard("read open runs"):
            return list(self.db.table("runs").rows_where("status = 'open'", order_by="id"))

    def recorded_run_id(self, started_at: str, created_at: str) -> int | None:
        """The id of the recorded run with these ``started_at`` and ``created_at`` values
        (as the recorder wrote them), or None."""
        sql = (
            "select id from runs where started_at = ? and created_at = ?"
            " and source in ('ble', 'simulated')"
        )
        with self.guard("read the recorded runs"):
            row = self.db.conn.execute(sql, [started_at, created_at]).fetchone()
        return None if row is None else int(row[0])

    def last_sample_t(self, run_id: int) -> float | None:
        """Unix seconds of a run's last stored sample, or None if it has none."""
        with self.guard("read samples"):
            (last,) = self.db.conn.execute(
                "select max(t) from samples where run_id = ?", [run_id]
            ).fetchone()
        return None if last is None else float(last)

    # -- sync folders (agent/files/sync.py) ----------------------------------------------------

    def synced_file(self, path: str) -> dict[str, Any] | None:
        """The ``synced_files`` row of ``path``, or None if it was never seen."""
        with self.guard("read the synced files"):
            rows = list(self.db.table("synced_files").rows_where("path = ?", [path]))
        return rows[0] if rows else None

    def synced_content(self, sha256: str, *, besides: str) -> dict[str, Any] | None:
        """A file other than ``besides`` seen with this content that did not fail, or None."""
        where = "sha256 = ? and path != ? and status != 'failed'"
        with self.guard("read the synced files"):
            rows = self.db.table("synced_files").rows_where(
                where, [sha256, besides], order_by="seen_at", limit=1
            )
            return next(iter(rows), None)

    def latest_alert_id(self) -> int:
        """The id of the newest stored alert (0: none yet)."""
        with self.guard("read alerts"):
            (found,) = self.db.conn.execute("select max(id) from alerts").fetchone()
        return int(found or 0)

    def alert_ids_after(self, alert_id: int) -> tuple[int, ...]:
        """The ids of the alerts stored after alert ``alert_id``."""
        with self.guard("read alerts"):
            rows = self.db.conn.execute(
                "select id from alerts where id > ? order by id", [alert_id]
            )
            return tuple(int(found) for (found,) in rows)

    def save_synced_file(self, row: Mapping[str, Any]) -> None:
        """Insert or replace a ``synced_files`` row (columns :data:`SYNCED_COLUMNS`)."""
        with self.guard("store the synced file"), self.db.conn:
            self.db.conn.execute(_SAVE_SYNCED, [row[name] for name in SYNCED_COLUMNS])

    def synced_files(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """The files seen most recently first (``sync status``)."""
        with self.guard("read the synced files"):
            return list(
                self.db.table("synced_files").rows_where(order_by="seen_at desc, path", limit=limit)
            )

    def run_row(self, run_id: int) -> dict[str, Any]:
        """Every stored column of one run, for ``stridewatch show``."""
        with self.guard("read the run"):
            rows = list(self.db.table("runs").rows_where("id = ?", [run_id]))
        if not rows:
            raise NotFoundError(f"run {run_id}: no such run (see `stridewatch runs`)")
        return rows[0]

    def run_samples(self, run_id: int) -> list[SampleRow]:
        """A run's samples ``(t, distance_m, speed, cadence, hr)``, in time order."""
        sql = "select t, distance_m, speed, cadence, hr from samples where run_id = ? order by t"
        with self.guard("read samples"):
            return [tuple(row) for row in self.db.conn.execute(sql, [run_id])]

    def set_rpe(self, run_id: int, rpe: int, srpe: float) -> None:
        """Store a run's RPE and its session-RPE load."""
        self.get_run(run_id)
        with self.guard("store the RPE"), self.db.conn:
            self.db.conn.execute(
                "update runs set rpe = ?, srpe = ? where id = ?", [rpe, srpe, run_id]
            )

    def add_calibration(self, address: str, factor: float, at: datetime, note: str) -> None:
        """Date a new distance calibration factor for a footpod (old runs keep theirs)."""
        row = {"address": address, "factor": factor, "set_at": utc_iso(at), "note": note}
        with self.guard("store the calibration"), self.db.conn:
            self.db.table("calibrations").insert(row)

    def calibrations(self) -> dict[str, float]:
        """The current calibration factor of every calibrated footpod."""
        sql = "select address, factor from calibrations order by set_at, id"
        with self.guard("read calibrations"):
            return dict(self.db.conn.execute(sql))

    def per_foot_devices(self) -> set[str]:
        """Footpods known (configured earlier, or detected) to send cadence per foot."""
        with self.guard("read devices"):
            rows = self.db.conn.execute("select address from devices where per_foot = 1")
            return {address for (address,) in rows}

    def mark_per_foot(self, address: str) -> None:
        """Remember that a footpod sends cadence per foot (detected while recording)."""
        now = utc_iso(datetime.now(UTC))
        with self.guard("store the device"), self.db.conn:
            self.db.conn.execute(
                "insert into devices (address, kind, per_foot, added_at) "
                "values (?, 'footpod', 1, ?) on conflict(address) do update set per_foot = 1",
                [address, now],
            )

    def unmark_per_foot(self, address: str) -> None:
        """Forget that a footpod sends cadence per foot (its later runs said otherwise)."""
        with self.guard("store the device"), self.db.conn:
            self.db.conn.execute("update devices set per_foot = 0 where address = ?", [address])

    # -- import and export (agent/files/importer.py, agent/files/fit.py) ---------------------------

    def runs_overlapping(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Stored runs (any source, any status) whose time overlaps ``start``-``end``: the
        candidates for "the same run" (:mod:`agent.files.same_run`). Each row has ``id``,
        ``started_at`` (aware), ``moving_s``, ``elapsed_s``, ``source``, ``status``,
        ``import_file`` and ``distance_m``; an open recording overlaps whatever follows it."""
        with self.guard("look for the same run"):
            return self._runs_near(start, end)

    def _runs_near(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        args = [utc_iso(end), utc_iso(start)]
        rows = self.db.conn.execute(_RUNS_NEAR, args).fetchall()
        keys = (
            "id",
            "started_at",
            "moving_s",
            "elapsed_s",
            "source",
            "status",
            "import_file",
            "distance_m",
            "external_id",
        )
        found = (dict(zip(keys, row, strict=True)) for row in rows)
        return list(self._usable("runs", found, _with_start))

    def add_imported_run_once(
        self,
        run: Mapping[str, Any],
        samples: Sequence[SampleRow],
        decide: Callable[[list[dict[str, Any]]], tuple[ImportAction, int | None]],
    ) -> tuple[ImportAction, int]:
        """Store an imported run unless the same run is stored, in one immediate transaction
        (two imports at once never both add it). ``decide`` gets the stored runs overlapping
        it in time (rows as :meth:`runs_overlapping`) and answers ``("add", None)``,
        ``("replace", id)`` (this record is better: the stored run takes its data, keeping its
        id, RPE, note and pain reports) or ``("keep", id)``. Returns the action and the id."""
        started: datetime = run["started_at"]
        ended = started + timedelta(seconds=max(run["elapsed_s"], run["moving_s"]))
        conn = self.db.conn
        with self.guard("store the imported run"), conn:
            conn.execute("begin immediate")
            action, found = decide(self._runs_near(started, ended))
            if action == "add" or found is None:
                return "add", self._insert_imported(run, samples)
            if action == "replace":
                self._replace_run_data(found, run, samples)
            return action, found

    def add_imported_run(self, run: Mapping[str, Any], samples: Sequence[SampleRow]) -> int:
        """Store an imported run (``source`` import) and its samples in one transaction.

        ``run`` holds ``started_at`` (aware datetime), ``elapsed_s``, ``moving_s``,
        ``distance_m`` and any of :data:`IMPORTED_COLUMNS`. Returns the new run's id."""
        with self.guard("store the imported run"), self.db.conn:
            return self._insert_imported(run, samples)

    def _insert_imported(self, run: Mapping[str, Any], samples: Sequence[SampleRow]) -> int:
        started: datetime = run["started_at"]
        row = {name: run.get(name) for name in IMPORTED_COLUMNS}
        row |= {
            "started_at": utc_iso(started),
            "ended_at": utc_iso(started + timedelta(seconds=run["elapsed_s"])),
            "source": "import",
            "status": "closed",
            "created_at": utc_iso(datetime.now(UTC)),
        }
        conn = self.db.conn
        cursor = conn.execute(_INSERT_IMPORTED, [row[name] for name in _ALL_IMPORTED])
        run_id = _last_pk(cursor.lastrowid)
        conn.executemany(_INSERT_IMPORTED_SAMPLE, [(run_id, *sample) for sample in samples])
        return run_id

    def _replace_run_data(
        self, run_id: int, run: Mapping[str, Any], samples: Sequence[SampleRow]
    ) -> None:
        """Replace a stored run's measured data (totals, samples, ``source`` import) with a
        better record of the same run; its id, RPE, note, pain reports and alerts stay, and
        its session-RPE load follows the new moving time."""
        started: datetime = run["started_at"]
        row = {name: run.get(name) for name in IMPORTED_COLUMNS if name != "note"}
        row |= {
            "started_at": utc_iso(started),
            "ended_at": utc_iso(started + timedelta(seconds=run["elapsed_s"])),
            "source": "import",
        }
        sets = ", ".join(f"{name} = ?" for name in row)
        conn = self.db.conn
        conn.execute(f"update runs set {sets} where id = ?", [*row.values(), run_id])
        conn.execute(
            "update runs set note = ? where id = ? and note is null", [run.get("note"), run_id]
        )
        conn.execute(
            "update runs set srpe = rpe * moving_s / 60.0 where id = ? and srpe is not null",
            [run_id],
        )
        conn.execute("delete from samples where run_id = ?", [run_id])
        conn.executemany(_INSERT_IMPORTED_SAMPLE, [(run_id, *sample) for sample in samples])

    # -- load and rules (agent/advice/checks.py): alerts with escalation, plans, read-only open ---

    @classmethod
    def open_read_only(cls, path: Path, *, busy_timeout_s: float = 5.0) -> Store:
        """Open an existing database for reading only: no migration, no WAL switch, and
        ``query_only`` so that nothing can be written (``what-if`` leaves the file as it was)."""
        path = path.expanduser()
        real = database_file(path)
        if not real.is_file():
            raise NotFoundError(f"{path}: no such database (log a run first, or check --db)")
        store = cls(Database(_connect(real, path, busy_timeout_s)), path)
        conn = store.db.conn
        try:
            with store.guard("open"):
                store._refuse_empty_link(real)
                store._check_ours(repair=False)
                store.db.execute("PRAGMA query_only = ON")
        except BaseException:
            conn.close()
            raise
        store._key = _opened(real)
        return store

    def record_alerts(
        self, alerts: Sequence[Alert], *, raised_at: datetime
    ) -> list[tuple[Alert, bool]]:
        """Store alerts that are new, or escalate a stored one of the same key (a higher
        severity, or a higher ``data["level"]`` within it; the escalation is delivered again).
        Returns the stored ones, each with True if it was an escalation."""
        stored: list[tuple[Alert, bool]] = []
        with self.guard("store alerts"), self.db.conn:
            for alert in alerts:
                found = self.db.conn.execute(_ALERT_RANK, [alert.key]).fetchone()
                if found is not None and _stored_rank(found) >= _alert_rank(alert):
                    continue
                row = _alert_row(alert, raised_at)
                self.db.conn.execute(_UPSERT_ALERT, [row[name] for name in _ALERT_COLUMNS])
                stored.append((alert, found is not None))
        return stored

    def stored_alerts(self, *, since: datetime | None = None) -> list[StoredAlert]:
        """Alerts raised (or last escalated) at or after ``since``, oldest first."""
        where, args = _time_window("raised_at", since, None)
        with self.guard("read alerts"):
            rows = self.db.table("alerts").rows_where(where, args, order_by="raised_at, id")
            return list(self._usable("alerts", rows, _stored_alert))

    def add_plan(self, data: Mapping[str, Any], *, created_at: datetime) -> int:
        """Store a return-to-run plan (its JSON) as the active one; older ones end now."""
        stamp = utc_iso(created_at)
        with self.guard("store the plan"), self.db.conn:
            self.db.conn.execute(
                "update plans set status = 'replaced', ended_at = ? where status = 'active'",
                [stamp],
            )
            row = {"created_at": stamp, "status": "active", "data": dumps(dict(data))}
            return _last_pk(self.db.table("plans").insert(row).last_pk)

    def active_plan(self, *, at: datetime, parse: Callable[[int, dict[str, Any]], T]) -> T | None:
        """The plan active at ``at`` (created by then, not yet ended), made by ``parse`` from
        its id and JSON. A plan whose dates are unusable or that ``parse`` cannot make
        (``ValueError``, ``KeyError``, ``TypeError``, ``IndexError``) is skipped with a
        warning, and no plan is active."""
        if "plans" not in self.db.table_names():
            return None
        stamp = utc_iso(at)

        def make(row: dict[str, Any]) -> T:
            data = _plan_data(row)
            try:
                return parse(int(row["id"]), data)
            except (KeyError, TypeError, IndexError) as exc:
                raise ValueError(f"data that is not a plan ({type(exc).__name__})") from None

        with self.guard("read plans"):
            cursor = self.db.conn.execute(_ACTIVE_PLAN, [stamp, stamp])
            rows = [dict(zip(("id", "created_at", "data"), row, strict=True)) for row in cursor]
        return next(self._usable("plans", rows[:1], make), None)

    def declare_level(self, *, week_km: float, long_km: float, at: datetime) -> int:
        """Store a declared starting level (km): the baseline week and the longest run."""
        row = {"set_at": utc_iso(at), "week_km": week_km, "long_km": long_km}
        with self.guard("store the declared level"), self.db.conn:
            return _last_pk(self.db.table("declared_levels").insert(row).last_pk)

    def declared_level(self, *, at: datetime) -> DeclaredLevel | None:
        """The latest level declared at or before ``at``, if any."""
        if "declared_levels" not in self.db.table_names():
            return None
        with self.guard("read the declared level"):
            rows = self.db.table("declared_levels").rows_where(
                "set_at <= ?", [utc_iso(at)], order_by="set_at desc, id desc"
            )
            with closing(self._usable("declared_levels", rows, _level_from_row)) as usable:
                return next(usable, None)

    # -- sensors (agent/sensors, `stridewatch pair`): paired devices -------------------------

    def add_device(
        self, *, address: str, kind: str, name: str | None = None, at: datetime | None = None
    ) -> bool:
        """Record a paired sensor; True if it is new. A known one keeps its ``added_at`` and
        ``per_foot``, takes a given ``name``, and takes ``kind`` unless that is ``unknown``."""
        added_at = utc_iso(at or datetime.now(UTC))
        with self.guard("store the device"), self.db.conn:
            known = self.db.conn.execute("select 1 from devices where address = ?", [address])
            is_new = known.fetchone() is None
            self.db.conn.execute(_UPSERT_DEVICE, [address, name, kind, added_at])
        return is_new

    def devices(self) -> list[dict[str, Any]]:
        """Paired or seen sensors: address, name, kind, per_foot, added_at; oldest first."""
        with self.guard("read devices"):
            return list(self.db.table("devices").rows_where(order_by="added_at, address"))

    # -- performance (benchmarks/, issue 7): batched writes --------------------------------

    @contextmanager
    def batched_writes(self) -> Iterator[None]:
        """``PRAGMA synchronous = NORMAL`` for a replay or import, then back as it was.

        In WAL mode a commit is then not fsync'ed (checkpoints are): a power cut can lose the
        last commits, never corrupt the file (sqlite.org/pragma.html#pragma_synchronous), and
        a replay can be run again. A process crash loses nothing either way."""
        conn = self.db.conn
        (before,) = conn.execute("pragma synchronous").fetchone()
        conn.execute("pragma synchronous = normal")
        try:
            yield
        finally:
            conn.execute(f"pragma synchronous = {int(before)}")

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

    # -- daemon (agent/daemon/supervisor.py, delivery.py): live alerts, summaries, check-ins

    def record_live_alert(
        self,
        alert: Alert,
        *,
        raised_at: datetime,
        run_id: int | None,
        at_distance_m: float | None,
    ) -> int | None:
        """Store an alert raised by the daemon (during run ``run_id`` at ``at_distance_m``, or
        about a sensor with neither), unless its key is stored at the same or a higher rank
        (then None: already said). Returns its row id."""
        row = {**_alert_row(alert, raised_at), "run_id": run_id, "at_distance_m": at_distance_m}
        with self.guard("store the alert"), self.db.conn:
            found = self.db.conn.execute(_ALERT_RANK, [alert.key]).fetchone()
            if found is not None and _stored_rank(found) >= _alert_rank(alert):
                return None
            self.db.conn.execute(_UPSERT_LIVE_ALERT, [row[name] for name in _LIVE_COLUMNS])
            (alert_id,) = self.db.conn.execute(
                "select id from alerts where key = ?", [alert.key]
            ).fetchone()
        return int(alert_id)

    def save_summary(self, day: date, at: datetime, message: str, data: Mapping[str, Any]) -> bool:
        """Store the nightly summary of ``day``; False (and nothing changes) if it exists."""
        row = [day.isoformat(), utc_iso(at), message, dumps(dict(data))]
        with self.guard("store the summary"), self.db.conn:
            cursor = self.db.conn.execute(_INSERT_SUMMARY, row)
        return cursor.rowcount == 1

    def summary_of(self, day: date) -> dict[str, Any] | None:
        """The stored summary of ``day`` (its row, ``data`` parsed), if any."""
        with self.guard("read the summary"):
            rows = list(self.db.table("summaries").rows_where("day = ?", [day.isoformat()]))
        return {**rows[0], "data": json.loads(rows[0]["data"] or "{}")} if rows else None

    def save_checkin(
        self, key: str, kind: str, at: datetime, message: str, run_id: int | None = None
    ) -> bool:
        """Store a pain check-in under ``key``; False (and nothing changes) if it exists."""
        row = [key, kind, run_id, utc_iso(at), message]
        with self.guard("store the check-in"), self.db.conn:
            cursor = self.db.conn.execute(_INSERT_CHECKIN, row)
        return cursor.rowcount == 1

    def has_checkin(self, key: str) -> bool:
        with self.guard("read check-ins"):
            return self.db.conn.execute(_HAS_CHECKIN, [key]).fetchone() is not None

    def runs_awaiting_checkin(self, *, since: datetime) -> list[tuple[int, datetime]]:
        """Closed runs that ended at or after ``since`` with no after-run check-in yet:
        ``(run id, ended_at)``, for a restarted daemon to schedule."""
        with self.guard("read runs"):
            rows = self.db.conn.execute(_AWAITING_CHECKIN, [utc_iso(since)]).fetchall()
        found = ({"id": run_id, "ended_at": ended} for run_id, ended in rows)
        return list(self._usable("runs", found, lambda r: (int(r["id"]), _instant(r, "ended_at"))))

    def undelivered(self, *, since: datetime) -> list[Outgoing]:
        """Alerts, summaries and check-ins made since ``since`` that no notification has
        shown yet, oldest first."""
        with self.guard("read undelivered notifications"):
            rows = self.db.conn.execute(_UNDELIVERED, [utc_iso(since)] * 3).fetchall()
        found: list[Outgoing] = []
        for kind, ref, at, severity, rule, message in rows:
            table, _ = _OUTGOING_TABLES[kind]
            column = "raised_at" if kind == "alert" else "created_at"
            item = {"id": ref, column: at}
            made = self._usable(table, [item], functools.partial(_instant, column=column))
            found.extend(Outgoing(kind, str(ref), when, severity, rule, message) for when in made)
        return found

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

    def mark_alerts_delivered(self, alert_ids: Sequence[int], at: datetime) -> None:
        """Record alerts as shown at ``at`` (another notification spoke for them)."""
        with self.guard("mark alerts delivered"), self.db.conn:
            self.db.conn.executemany(
                "update alerts set delivered_at = ? where id = ? and delivered_at is null",
                [(utc_iso(at), alert_id) for alert_id in alert_ids],
            )

    def mark_delivered(self, kind: OutgoingKind, ref: str, at: datetime) -> None:
        """Record that the notification of an alert (``ref`` its id), a summary (its day)
        or a check-in (its key) was shown at ``at``."""
        table, column = _OUTGOING_TABLES[kind]
        with self.guard("mark the notification delivered"), self.db.conn:
            self.db.conn.execute(
                f"update {table} set delivered_at = ? where {column} = ?", [utc_iso(at), ref]
            )


# -- recording (agent/recording/recorder.py): SQL of the flush -------------------------------------

RECORDED_COLUMNS = (
    "started_at",
    "ended_at",
    "distance_m",
    "moving_s",
    "elapsed_s",
    "source",
    "status",
    "device",
    "avg_hr",
    "max_hr",
    "avg_cadence",
    "trimp",
    "created_at",
    *(name for name in RECORDING_RUN_COLUMNS if name != "srpe"),
    *DISTANCE_SOURCE_COLUMNS,
)
_INSERT_RECORDED = (
    f"insert into runs ({', '.join(RECORDED_COLUMNS)}) "
    f"values ({', '.join('?' for _ in RECORDED_COLUMNS)})"
)
_UPDATE_RECORDED = (
    f"update runs set {', '.join(f'{name} = ?' for name in RECORDED_COLUMNS)} where id = ?"
)
_SAVE_SYNCED = (
    f"insert or replace into synced_files ({', '.join(SYNCED_COLUMNS)}) "
    f"values ({', '.join('?' * len(SYNCED_COLUMNS))})"
)
_INSERT_SAMPLE = (
    "insert into samples (run_id, t, distance_m, speed, cadence, hr) values (?,?,?,?,?,?)"
)


# -- import and export (agent/files/importer.py, agent/files/fit.py): SQL ------------------------

# What an import does with a run: add it, replace a stored record of it, or keep the stored.
ImportAction = Literal["add", "replace", "keep"]

# Columns an importer may fill besides the ones add_imported_run sets itself.
IMPORTED_COLUMNS = (
    "started_at",
    "distance_m",
    "moving_s",
    "elapsed_s",
    "avg_hr",
    "max_hr",
    "avg_cadence",
    "trimp",
    "note",
    "import_file",
    "external_id",
)
_ALL_IMPORTED = (*IMPORTED_COLUMNS, "ended_at", "source", "status", "created_at")
_INSERT_IMPORTED = (
    f"insert into runs ({', '.join(_ALL_IMPORTED)}) "
    f"values ({', '.join('?' for _ in _ALL_IMPORTED)})"
)
_INSERT_IMPORTED_SAMPLE = (
    "insert into samples (run_id, t, distance_m, speed, cadence, hr) values (?,?,?,?,?,?)"
)
_RUNS_NEAR = (
    "select id, started_at, moving_s, elapsed_s, source, status, import_file, distance_m, "
    "external_id from runs where started_at <= ?1 and coalesce(ended_at, '9999') >= ?2 order by id"
)


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


def _instant(row: Mapping[str, Any], column: str) -> datetime:
    """``row[column]`` as aware UTC; ``ValueError`` naming the column when it is no date
    stridewatch can count with (:func:`agent.units.stored_instant`)."""
    try:
        return stored_instant(row[column])
    except ValueError as exc:
        raise ValueError(f"{column} {exc}") from None


def _with_start(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "started_at": _instant(row, "started_at")}


def _amount(row: Mapping[str, Any], column: str, *, required: bool = True) -> Any:
    """A stored number the rules count with: finite and not negative (None where it may be
    missing); else ``ValueError`` naming it, and the reader skips the row."""
    value = row[column]
    if value is None and not required:
        return None
    value = 0.0 if value is None else value
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{column} {value!r} is not a number stridewatch can count with")
    return value


def _run_from_row(row: dict[str, Any]) -> Run:
    return Run(
        id=row["id"],
        started_at=_instant(row, "started_at"),
        ended_at=_instant(row, "ended_at") if row["ended_at"] else None,
        distance_m=_amount(row, "distance_m"),
        moving_s=_amount(row, "moving_s"),
        elapsed_s=_amount(row, "elapsed_s"),
        source=row["source"],
        rpe=_amount(row, "rpe", required=False),
        avg_hr=_amount(row, "avg_hr", required=False),
        trimp=_amount(row, "trimp", required=False),
        note=row["note"],
        avg_cadence=_amount(row, "avg_cadence", required=False),
    )


def _pain_from_row(row: dict[str, Any]) -> PainReport:
    if row["timing"] not in get_args(PainWhen):
        known = ", ".join(get_args(PainWhen))
        raise ValueError(f"timing {row['timing']!r} is not one of {known}")
    if not (isinstance(row["score"], int) and 0 <= row["score"] <= 10):
        raise ValueError(f"score {row['score']!r} is not a score from 0 to 10")
    return PainReport(
        id=row["id"],
        at=_instant(row, "at"),
        score=row["score"],
        when=row["timing"],
        where=row["location"],
        run_id=row["run_id"],
        note=row["note"],
    )


def database_file(path: Path) -> Path:
    """The regular file SQLite may open for the database at ``path`` (``~`` expanded):
    ``path`` itself (also when nothing is there yet), or, for a symbolic link, the file it
    resolves to if that is a SQLite file with content (whether it is ours is checked once
    open). Raises :class:`NotOurDatabaseError` (exit 2, one line naming the path and what it
    is) for a folder, pipe, device or socket, a dangling or looping link, and a file that is
    not SQLite. Opens nothing but a regular file, never blocking (a named pipe would)."""
    path = path.expanduser()
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise StoreError(f"{path}: cannot be read: {exc.strerror}", path=path) from exc
    linked = stat.S_ISLNK(mode)
    if not (linked or stat.S_ISREG(mode)):
        raise _not_a_database(path, f"is {kind_of(mode)}, not a database file")
    real = _link_target(path) if linked else path
    if _in_use(real):  # checked when this process opened it; a read now would unlock it
        return real
    head = _read_head(path, real)
    if linked and head != SQLITE_HEADER:
        raise _not_a_database(
            path,
            f"is a symbolic link to {real}, which is not a stridewatch database (stridewatch "
            "will not touch it)",
        )
    if head and head != SQLITE_HEADER:
        raise NotOurDatabaseError(
            f"{path}: not a SQLite database (damaged, or another kind of file); stridewatch "
            "will not touch it. Choose another file with --db",
            path=path,
        )
    return real


def _link_target(path: Path) -> Path:
    """Where the link ``path`` leads, if that is a regular file; else refuse, saying why."""
    try:
        shown = os.readlink(path)
    except OSError as exc:  # replaced since the lstat
        raise StoreError(f"{path}: cannot be read: {exc.strerror}", path=path) from exc
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise _not_a_database(
            path,
            f"is a symbolic link to {shown}, which does not exist (stridewatch creates a "
            "database only as a new file, never through a link)",
        ) from None
    except OSError as exc:
        raise _not_a_database(
            path, f"is a symbolic link that cannot be followed ({exc.strerror})"
        ) from exc
    if not stat.S_ISREG(mode):
        raise _not_a_database(
            path, f"is a symbolic link to {shown}, {kind_of(mode)}, not a database file"
        )
    return Path(os.path.realpath(path))


# POSIX record locks belong to a process and a file: closing *any* descriptor of the database
# drops every lock SQLite holds on it through this process's other connections (fcntl(2)),
# and another program may then delete the WAL under them. SQLite keeps its own descriptors
# open while it holds locks; the header check above must not open the file while a Store of
# this process has it open (the daemon's sync pass opens a second one beside the writer's).
_OPEN_GUARD = threading.Lock()
_OPEN_FILES: Counter[tuple[int, int]] = Counter()


def _file_key(real: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(real)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _in_use(real: Path) -> bool:
    key = _file_key(real)
    with _OPEN_GUARD:
        return key is not None and _OPEN_FILES[key] > 0


def _opened(real: Path) -> tuple[int, int] | None:
    key = _file_key(real)
    if key is not None:
        with _OPEN_GUARD:
            _OPEN_FILES[key] += 1
    return key


def _closed(key: tuple[int, int] | None) -> None:
    if key is not None:
        with _OPEN_GUARD:
            _OPEN_FILES[key] -= 1
            if _OPEN_FILES[key] <= 0:
                del _OPEN_FILES[key]


def _read_head(path: Path, real: Path) -> bytes:
    """The first bytes of the regular file ``real``; non-blocking and without following a
    link, so a pipe or link swapped in since the check is refused, never waited on."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise StoreError(f"{path}: cannot be read: {exc.strerror}", path=path) from exc
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_a_database(path, f"is {kind_of(mode)}, not a database file")
        return handle.read(len(SQLITE_HEADER))


def _not_a_database(path: Path, what: str) -> NotOurDatabaseError:
    """``PATH: WHAT; choose another file with --db``, exit 2."""
    return NotOurDatabaseError(f"{path}: {what}; choose another file with --db", path=path)


def _connect(real: Path, path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """SQLite on the checked file ``real``. ``mode=rw``: SQLite never creates a file (it
    would, 0644 and through a link, were ``real`` removed since the check)."""
    uri = f"{real.absolute().as_uri()}?mode=rw"
    try:
        return sqlite3.connect(uri, uri=True, timeout=busy_timeout_s)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open: {exc}", path=path) from exc


@functools.cache
def _schema_columns() -> dict[str, tuple[str, ...]]:
    """Each table of the first migration's schema with its columns, in order: what an
    interrupted first open leaves (later migrations run only after it is recorded)."""
    fresh = Database(memory=True)
    m001_initial(fresh)
    return {
        name: tuple(row[1] for row in fresh.conn.execute(f'pragma table_info("{name}")'))
        for name in fresh.table_names()
    }


@functools.cache
def _schema_tables() -> frozenset[str]:
    """The tables a complete schema has (the migrations applied to an empty database)."""
    fresh = Database(memory=True)
    migrations.apply(fresh)
    return frozenset(fresh.table_names())


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
    if not os.path.lexists(path):  # a dangling link is something, never created through
        flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            os.close(os.open(path, flags, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"{path}: cannot create: {exc.strerror}", path=path) from exc


def _last_pk(value: object) -> int:
    assert isinstance(value, int), value
    return value


# -- sensors (agent/sensors, `stridewatch pair`) -------------------------------------------

_UPSERT_DEVICE = (
    "insert into devices (address, name, kind, added_at) values (?, ?, ?, ?) "
    "on conflict(address) do update set name = coalesce(excluded.name, devices.name), "
    "kind = case when excluded.kind = 'unknown' then devices.kind else excluded.kind end"
)


def dumps(data: Any) -> str:
    """JSON text for ``data`` columns."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


# -- load and rules (agent/advice/checks.py): alerts and plans SQL ---------------------------------


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert as stored: when it was raised (or last escalated), for which run, delivered."""

    id: int
    key: str
    rule: str
    severity: Severity
    message: str
    data: dict[str, Any]
    raised_at: datetime
    run_id: int | None
    delivered_at: datetime | None


_ALERT_COLUMNS = ("key", "rule", "severity", "message", "data", "raised_at", "run_id")
_ALERT_RANK = "select severity, json_extract(data, '$.level') from alerts where key = ?"
_UPSERT_ALERT = (
    f"insert into alerts ({', '.join(_ALERT_COLUMNS)}) values ({', '.join('?' * 7)}) "
    "on conflict(key) do update set rule = excluded.rule, severity = excluded.severity, "
    "message = excluded.message, data = excluded.data, raised_at = excluded.raised_at, "
    "run_id = excluded.run_id, delivered_at = null"
)
_ACTIVE_PLAN = (
    "select id, created_at, data from plans where created_at <= ? "
    "and (ended_at is null or ended_at > ?) order by created_at desc, id desc limit 1"
)


def _plan_data(row: dict[str, Any]) -> dict[str, Any]:
    """A plan row's JSON, its dates checked as the store's own (``ValueError``)."""
    _instant(row, "created_at")
    try:
        data = json.loads(row["data"])
    except (TypeError, ValueError):
        raise ValueError(f"data {str(row['data'])[:60]!r} that is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"data {str(row['data'])[:60]!r} that is not a plan")
    if "created_at" in data:
        _instant(data, "created_at")
    try:
        stored_day(data.get("start_week"))
    except ValueError as exc:
        raise ValueError(f"start_week {exc}") from None
    return data


def _level_from_row(row: dict[str, Any]) -> DeclaredLevel:
    try:
        week_km, long_km = float(row["week_km"]), float(row["long_km"])
    except (TypeError, ValueError):
        raise ValueError(f"week_km {row['week_km']!r}, long_km {row['long_km']!r}") from None
    return DeclaredLevel(_instant(row, "set_at"), week_km, long_km)


def _stored_rank(found: tuple[Any, ...]) -> tuple[int, int]:
    return severity_rank(found[0]), int(found[1] or 0)


def _alert_rank(alert: Alert) -> tuple[int, int]:
    return severity_rank(alert.severity), int(alert.data.get("level") or 0)


def _alert_row(alert: Alert, raised_at: datetime) -> dict[str, Any]:
    run_id = alert.data.get("run_id")
    return {
        "key": alert.key,
        "rule": alert.rule,
        "severity": alert.severity,
        "message": alert.message,
        "data": dumps(alert.data),
        "raised_at": utc_iso(raised_at),
        "run_id": run_id if isinstance(run_id, int) and run_id > 0 else None,
    }


# -- daemon (agent/daemon/supervisor.py, agent/daemon/delivery.py): SQL ----------------------------

OutgoingKind = Literal["alert", "summary", "checkin"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Something waiting to be shown as a notification: ``ref`` is the alert's id, the
    summary's day or the check-in's key; ``severity`` and ``rule`` are set for alerts."""

    kind: OutgoingKind
    ref: str
    at: datetime
    severity: str | None
    rule: str | None
    message: str


_OUTGOING_TABLES: dict[OutgoingKind, tuple[str, str]] = {
    "alert": ("alerts", "id"),
    "summary": ("summaries", "day"),
    "checkin": ("checkins", "key"),
}
_LIVE_COLUMNS = (*_ALERT_COLUMNS, "at_distance_m")
_UPSERT_LIVE_ALERT = (
    f"insert into alerts ({', '.join(_LIVE_COLUMNS)}) values ({', '.join('?' * 8)}) "
    "on conflict(key) do update set rule = excluded.rule, severity = excluded.severity, "
    "message = excluded.message, data = excluded.data, raised_at = excluded.raised_at, "
    "run_id = excluded.run_id, at_distance_m = excluded.at_distance_m, delivered_at = null"
)
_INSERT_SUMMARY = (
    "insert into summaries (day, created_at, message, data) values (?, ?, ?, ?) "
    "on conflict(day) do nothing"
)
_INSERT_CHECKIN = (
    "insert into checkins (key, kind, run_id, created_at, message) values (?, ?, ?, ?, ?) "
    "on conflict(key) do nothing"
)
_HAS_CHECKIN = "select 1 from checkins where key = ?"
_AWAITING_CHECKIN = (
    "select id, ended_at from runs where status = 'closed' and ended_at >= ? "
    "and 'after:run:' || id not in (select key from checkins) order by ended_at"
)
_UNDELIVERED = (
    "select 'alert', id, raised_at, severity, rule, message from alerts "
    "where delivered_at is null and raised_at >= ?1 "
    "union all select 'summary', day, created_at, null, null, message from summaries "
    "where delivered_at is null and created_at >= ?2 "
    "union all select 'checkin', key, created_at, null, kind, message from checkins "
    "where delivered_at is null and created_at >= ?3 "
    "order by 3"
)


def _stored_alert(row: dict[str, Any]) -> StoredAlert:
    return StoredAlert(
        id=row["id"],
        key=row["key"],
        rule=row["rule"],
        severity=row["severity"],
        message=row["message"],
        data=json.loads(row["data"]) if row["data"] else {},
        raised_at=_instant(row, "raised_at"),
        run_id=row["run_id"],
        delivered_at=_instant(row, "delivered_at") if row["delivered_at"] else None,
    )
