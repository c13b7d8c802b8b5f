"""Runs imported from activity files (:mod:`agent.files.importer`): stored with their samples
once, or replacing a worse record of the same run, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.models import SampleRow
from agent.store.database import StoreBase
from agent.store.rows import ImportAction, last_pk, with_start
from agent.store.samples import add_samples, delete_samples
from agent.units import utc_iso

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
_RUNS_NEAR = (
    "select id, started_at, moving_s, elapsed_s, source, status, import_file, distance_m, "
    "external_id from runs where started_at <= ?1 and coalesce(ended_at, '9999') >= ?2 order by id"
)


class ImportedMixin(StoreBase):
    def runs_overlapping(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Stored runs (any source, any status) whose time overlaps ``start``-``end``: the
        candidates for "the same run" (:mod:`agent.files.same_run`). Each row has ``id``,
        ``started_at`` (aware), ``moving_s``, ``elapsed_s``, ``source``, ``status``,
        ``import_file`` and ``distance_m``; an open recording overlaps whatever follows it."""
        with self.guard("look for the same run"):
            return self._runs_near(start, end)

    def _runs_near(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        args = [utc_iso(end), utc_iso(start)]
        rows = self.conn.execute(_RUNS_NEAR, args).fetchall()
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
        return list(self._usable("runs", found, with_start))

    def add_imported_run_once(
        self,
        run: Mapping[str, Any],
        samples: Iterable[SampleRow],
        decide: Callable[[list[dict[str, Any]]], tuple[ImportAction, int | None]],
    ) -> tuple[ImportAction, int]:
        """Store an imported run unless the same run is stored, in one immediate transaction
        (two imports at once never both add it). ``decide`` gets the stored runs overlapping
        it in time (rows as :meth:`runs_overlapping`) and answers ``("add", None)``,
        ``("replace", id)`` (this record is better: the stored run takes its data, keeping its
        id, RPE, note and pain reports) or ``("keep", id)``. Returns the action and the id."""
        started: datetime = run["started_at"]
        ended = started + timedelta(seconds=max(run["elapsed_s"], run["moving_s"]))
        conn = self.conn
        with self.guard("store the imported run"), conn:
            conn.execute("begin immediate")
            action, found = decide(self._runs_near(started, ended))
            if action == "add" or found is None:
                return "add", self._insert_imported(run, samples)
            if action == "replace":
                self._replace_run_data(found, run, samples)
            return action, found

    def add_imported_run(self, run: Mapping[str, Any], samples: Iterable[SampleRow]) -> int:
        """Store an imported run (``source`` import) and its samples in one transaction.

        ``run`` holds ``started_at`` (aware datetime), ``elapsed_s``, ``moving_s``,
        ``distance_m`` and any of :data:`IMPORTED_COLUMNS`. Returns the new run's id."""
        with self.guard("store the imported run"), self.conn:
            return self._insert_imported(run, samples)

    def _insert_imported(self, run: Mapping[str, Any], samples: Iterable[SampleRow]) -> int:
        started: datetime = run["started_at"]
        row = {name: run.get(name) for name in IMPORTED_COLUMNS}
        row |= {
            "started_at": utc_iso(started),
            "ended_at": utc_iso(started + timedelta(seconds=run["elapsed_s"])),
            "source": "import",
            "status": "closed",
            "created_at": utc_iso(datetime.now(UTC)),
        }
        conn = self.conn
        cursor = conn.execute(_INSERT_IMPORTED, [row[name] for name in _ALL_IMPORTED])
        run_id = last_pk(cursor.lastrowid)
        add_samples(conn, run_id, samples)
        return run_id

    def _replace_run_data(
        self, run_id: int, run: Mapping[str, Any], samples: Iterable[SampleRow]
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
        conn = self.conn
        conn.execute(f"update runs set {sets} where id = ?", [*row.values(), run_id])
        conn.execute(
            "update runs set note = ? where id = ? and note is null", [run.get("note"), run_id]
        )
        conn.execute(
            "update runs set srpe = rpe * moving_s / 60.0 where id = ? and srpe is not null",
            [run_id],
        )
        delete_samples(conn, run_id)
        add_samples(conn, run_id, samples)
