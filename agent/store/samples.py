"""Samples: the sensor readings of a run (``(t, distance_m, speed, cadence, hr)`` rows, as
:data:`agent.models.SampleRow`), written with their run and read back in time order."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from agent.models import SampleRow

INSERT_SAMPLE = (
    "insert into samples (run_id, t, distance_m, speed, cadence, hr) values (?,?,?,?,?,?)"
)


def add_samples(conn: sqlite3.Connection, run_id: int, samples: Iterable[SampleRow]) -> None:
    """Append ``samples`` to run ``run_id`` (inside the caller's transaction)."""
    # (run_id,) + sample per row, looped in C: a flush's hot path (issue 7).
    conn.executemany(INSERT_SAMPLE, map((run_id,).__add__, samples))


def delete_samples(conn: sqlite3.Connection, run_id: int) -> None:
    conn.execute("delete from samples where run_id = ?", [run_id])


def read_samples(conn: sqlite3.Connection, run_id: int) -> list[SampleRow]:
    """A run's samples ``(t, distance_m, speed, cadence, hr)``, in time order."""
    sql = "select t, distance_m, speed, cadence, hr from samples where run_id = ? order by t"
    return [tuple(row) for row in conn.execute(sql, [run_id])]


def last_sample_t(conn: sqlite3.Connection, run_id: int) -> float | None:
    """Unix seconds of a run's last stored sample, or None if it has none."""
    (last,) = conn.execute("select max(t) from samples where run_id = ?", [run_id]).fetchone()
    return None if last is None else float(last)
