"""Runs recorded from sensors (:mod:`agent.recording.recorder`): the flush that inserts or
updates a run with its new samples in one transaction (the recorder's hot path), false
starts deleted, open runs a crash left, and the samples read back."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from agent.models import SampleRow
from agent.store.database import StoreBase
from agent.store.rows import last_pk, select_rows
from agent.store.samples import (
    add_samples,
    delete_samples,
    iter_samples,
    last_sample_t,
    read_samples,
)
from agent.store.schema import DISTANCE_SOURCE_COLUMNS, RECORDING_RUN_COLUMNS

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


class RecordingsMixin(StoreBase):
    def save_recording(
        self, run_id: int | None, row: dict[str, Any], samples: Sequence[SampleRow]
    ) -> int:
        """Insert (``run_id`` None) or update a recorded run and append its samples, in one
        transaction; return the run's id. The recorder's flush, and its hot path."""
        conn = self.conn
        with self.guard("save the recorded run"), conn:
            if run_id is None:
                cursor = conn.execute(_INSERT_RECORDED, [row[name] for name in RECORDED_COLUMNS])
                run_id = last_pk(cursor.lastrowid)
            else:
                conn.execute(_UPDATE_RECORDED, [*(row[name] for name in RECORDED_COLUMNS), run_id])
            if samples:
                add_samples(conn, run_id, samples)
        return run_id

    def delete_recording(self, run_id: int) -> None:
        """Delete a recorded run that turned out to be a false start, with its samples."""
        with self.guard("delete the false start"), self.conn:
            delete_samples(self.conn, run_id)
            # A live alert raised during the false start goes with it: it was about no run.
            self.conn.execute("delete from alerts where run_id = ?", [run_id])
            self.conn.execute("delete from runs where id = ? and status = 'open'", [run_id])

    def open_recordings(self) -> list[dict[str, Any]]:
        """Recorded runs still ``open``: left behind by a crash, to resume or close."""
        with self.guard("read open runs"):
            return list(select_rows(self.conn, "runs", "status = 'open'", order_by="id"))

    def recorded_run_id(self, started_at: str, created_at: str) -> int | None:
        """The id of the recorded run with these ``started_at`` and ``created_at`` values
        (as the recorder wrote them), or None."""
        sql = (
            "select id from runs where started_at = ? and created_at = ?"
            " and source in ('ble', 'simulated')"
        )
        with self.guard("read the recorded runs"):
            row = self.conn.execute(sql, [started_at, created_at]).fetchone()
        return None if row is None else int(row[0])

    def last_sample_t(self, run_id: int) -> float | None:
        """Unix seconds of a run's last stored sample, or None if it has none."""
        with self.guard("read samples"):
            return last_sample_t(self.conn, run_id)

    def run_samples(self, run_id: int) -> list[SampleRow]:
        """A run's samples ``(t, distance_m, speed, cadence, hr)``, in time order."""
        with self.guard("read samples"):
            return read_samples(self.conn, run_id)

    def iter_run_samples(self, run_id: int) -> Iterator[SampleRow]:
        """:meth:`run_samples` read a chunk at a time as they are used (an export of
        millions of samples never holds them all)."""
        with self.guard("read samples"):
            yield from iter_samples(self.conn, run_id)
