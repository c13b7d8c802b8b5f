"""The schema: the sqlite-utils migrations (set ``stridewatch``) that create and upgrade it,
in order (:data:`STEPS`); README's "The database" documents every table. They are applied by
:mod:`agent.store.migrate`, each in one transaction with the record of it: a kill midway
leaves the file as it was before that migration.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from agent.store.packing import PER_ROW, VIEW, Stored, pack, stored

if TYPE_CHECKING:
    from sqlite_utils import Database

log = logging.getLogger("stridewatch.store")

MIGRATION_SET = "stridewatch"


def add_missing_columns(db: Database, table: str, columns: Mapping[str, type]) -> None:
    """Add the columns a table lacks (a migration may meet a file an older build touched)."""
    have = set(db.table(table).columns_dict)
    for name, kind in columns.items():
        if name not in have:
            db.table(table).add_column(name, kind)


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


def m004_recording(db: Database) -> None:
    """Recorded-run totals on ``runs``, and dated per-device calibration factors."""
    add_missing_columns(db, "runs", RECORDING_RUN_COLUMNS)
    db.table("calibrations").create(
        {"id": int, "address": str, "factor": float, "set_at": str, "note": str},
        pk="id",
        not_null={"address", "factor", "set_at"},
    )
    db.table("calibrations").create_index(["address", "set_at"])
    db.table("runs").create_index(["status"])


# -- import and export (agent/files/importer.py, agent/files/fit.py): migration -------------------


def m005_import_source(db: Database) -> None:
    """Where an imported run came from: the file's name and the file's own activity id."""
    add_missing_columns(db, "runs", {"import_file": str, "external_id": str})


# -- load and rules (agent/rules/load.py, agent/rules/, agent/advice/checks.py): migration ---------


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


def m009_distance_source(db: Database) -> None:
    """Which footpod source a recorded run's distance came from."""
    add_missing_columns(db, "runs", DISTANCE_SOURCE_COLUMNS)


# -- sync folders (agent/files/sync.py): the files seen, so that each is imported once ----------

SYNCED_COLUMNS = (
    "path", "folder", "size", "mtime_ns", "sha256", "status", "reason", "run_ids", "runs",
    "seen_at",
)  # fmt: skip


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


# -- samples as whole numbers (agent/store/samples.py; issue 18: 25 MB a year was the aim) ---

SAMPLES_INT = """create table samples_int (
    run_id integer not null references runs(id),
    t_us integer not null,  -- microseconds after runs.samples_t0 (unix seconds)
    distance_mm integer,  -- cumulative
    speed_mm_s integer,
    cadence integer,  -- steps/min
    hr integer,  -- beats/min
    primary key (run_id, t_us)
) without rowid"""
SAMPLES_VIEW = """create view samples as select
    s.run_id as run_id,
    (coalesce(r.samples_t0, 0) * 1000000 + s.t_us) / 1000000.0 as t,
    s.distance_mm / 1000.0 as distance_m,
    s.speed_mm_s / 1000.0 as speed,
    cast(s.cadence as real) as cadence,
    s.hr as hr
from samples_int as s join runs as r on r.id = s.run_id"""
# In key order (the old index's), the first written of two samples at one instant kept.
_COPY_SAMPLES = """insert into samples_int (run_id, t_us, distance_mm, speed_mm_s, cadence, hr)
select s.run_id, round((s.t - r.samples_t0) * 1000000), round(s.distance_m * 1000),
    round(s.speed * 1000), s.cadence, s.hr
from samples as s join runs as r on r.id = s.run_id
where true order by s.run_id, s.t, s.rowid
on conflict (run_id, t_us) do nothing"""


def m011_samples_as_integers(db: Database) -> None:
    """Samples as whole numbers in ``samples_int`` keyed by (run, time), each run's anchor in
    ``runs.samples_t0``, and the ``samples`` view in SI units where the table was. One
    transaction, as every migration: a kill midway leaves the old table as it was."""
    conn = db.conn
    conn.execute("alter table runs add column samples_t0 integer")
    conn.execute(SAMPLES_INT)
    conn.execute(
        "update runs set samples_t0 = "
        "(select cast(min(t) as integer) from samples where samples.run_id = runs.id)"
    )
    (before,) = conn.execute("select count(*) from samples").fetchone()
    conn.execute(_COPY_SAMPLES)
    (after,) = conn.execute("select count(*) from samples_int").fetchone()
    (orphans,) = conn.execute(
        "select count(*) from samples where run_id not in (select id from runs)"
    ).fetchone()
    conn.execute("drop table samples")
    conn.execute(SAMPLES_VIEW)
    if before - after - orphans:
        log.warning(
            "%d sample(s) at an instant already stored for their run (to the microsecond) "
            "were stored once",
            before - after - orphans,
        )
    if orphans:
        log.warning("%d sample(s) of no stored run were left out", orphans)


# -- samples packed several to a row (agent/store/packing.py; issue 18: 25 MB a year) --------

SAMPLES_PACKED = """create table samples_packed (
    run_id integer not null references runs(id),
    t_us integer not null,  -- its first sample's time: microseconds after runs.samples_t0
    distance_mm integer,  -- the distance its samples' distances count from
    data blob not null,  -- 12 bytes a sample, big-endian (agent/store/packing.py)
    primary key (run_id, t_us)
) without rowid"""
# The slots of a row, 0 to 63: the view makes one row of each slot a row's data fills.
SAMPLE_SLOTS = "create table sample_slots (slot integer primary key)"


def _stored_int_rows(rows: Iterator[tuple[int, ...]], refused: Counter[str]) -> Iterator[Stored]:
    """samples_int's rows of one run (whole numbers; a FIT cadence's fraction a real) as
    packed samples stores them: cadence in 1/100 step/min."""
    for _, t_us, mm, speed, cadence, hr in rows:
        sample = stored(t_us, mm, speed, None if cadence is None else cadence * 100, hr, refused)
        if sample is not None:
            yield sample


def m012_samples_packed(db: Database) -> None:
    """Samples packed up to 64 to a row in ``samples_packed`` keyed by (run, first sample's
    time), read through the ``samples`` view as before. One transaction, as every migration:
    a kill midway leaves ``samples_int`` as it was."""
    conn = db.conn
    conn.execute(SAMPLES_PACKED)
    conn.execute(SAMPLE_SLOTS)
    conn.executemany("insert into sample_slots (slot) values (?)", [(k,) for k in range(PER_ROW)])
    (before,) = conn.execute("select count(*) from samples").fetchone()
    rows = conn.execute(
        "select s.run_id, s.t_us, s.distance_mm, s.speed_mm_s, s.cadence, s.hr "
        "from samples_int as s join runs as r on r.id = s.run_id order by s.run_id, s.t_us"
    )
    refused: Counter[str] = Counter()
    for run_id, run in itertools.groupby(rows, key=lambda row: int(row[0])):
        conn.executemany(
            "insert into samples_packed (run_id, t_us, distance_mm, data) values (?, ?, ?, ?)",
            ((run_id, *block) for block in pack(_stored_int_rows(run, refused))),
        )
    conn.execute("drop view samples")
    conn.execute("drop table samples_int")
    conn.execute(VIEW)
    (after,) = conn.execute("select count(*) from samples").fetchone()
    if refused:
        log.warning(
            "values no packed sample field holds were stored as none (a time's sample left "
            "out): %s",
            ", ".join(f"{count} {name}" for name, count in sorted(refused.items())),
        )
    if before != after:
        log.warning("%d sample(s) of %d were not packed", before - after, before)


# Every migration, in the order it is applied (README: "The database").
STEPS = (
    m001_initial,
    m002_alerts_and_indexes,
    m004_recording,
    m005_import_source,
    m006_return_plans,
    m007_daemon,
    m008_declared_levels,
    m009_distance_source,
    m010_synced_files,
    m011_samples_as_integers,
    m012_samples_packed,
)
STEP_NAMES = tuple(step.__name__ for step in STEPS)
