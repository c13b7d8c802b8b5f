"""Samples: the sensor readings of a run, ``(t, distance_m, speed, cadence, hr)`` rows as
:data:`agent.models.SampleRow`, written with their run and read back in time order.

They are stored as whole numbers in ``samples_int``, a ``WITHOUT ROWID`` table keyed by
(run, time): ``t_us`` microseconds after the run's ``runs.samples_t0`` (whole unix seconds,
set by the run's first sample), ``distance_mm``, ``speed_mm_s``, ``cadence`` (steps/min) and
``hr`` (beats/min). The ``samples`` view shows them in SI units, as the table of that name
did before (migration ``m011_samples_as_integers``), for every reader: the store's own, the
tests', ``sqlite-utils query`` and Datasette. About 30 bytes a sample instead of 65
(benchmarks/RESULTS.md, "dbsize").

What a sample holds is kept: times to the microsecond (the clock's readings are unix seconds
as floats, 0.24 us apart at today's dates, and mean something to the millisecond), distances
and speeds to the millimetre (a footpod counts 1/10 m and 1/256 m/s, a FIT file 1/100 m and
1/1000 m/s), cadence and heart rate as given (whole numbers, stored in 1-2 bytes; a FIT
file's fraction of a cadence is kept as a real). A sample at an instant already stored for
its run (to the microsecond) is stored once: a held flush written again after a crash.
"""

from __future__ import annotations

import itertools
import math
import sqlite3
from collections.abc import Iterable, Iterator

from agent.models import SampleRow

# ``{t0}``: the run's anchor, an integer of ours (bound as a literal: a subquery per row cost
# the flush ~15 %).
_INSERT_SAMPLE = (
    "insert into samples_int (run_id, t_us, distance_mm, speed_mm_s, cadence, hr) "
    "values (?1, round((?2 - {t0}) * 1000000), round(?3 * 1000), round(?4 * 1000), ?5, ?6) "
    "on conflict (run_id, t_us) do nothing"
)


# Samples are written and read this many at a time: a long track's millions never sit in
# memory as rows.
SAMPLE_CHUNK = 10_000


def add_samples(conn: sqlite3.Connection, run_id: int, samples: Iterable[SampleRow]) -> None:
    """Append ``samples`` to run ``run_id`` (inside the caller's transaction), taken
    :data:`SAMPLE_CHUNK` at a time as they come (an importer's stream is never a list)."""
    stream = iter(samples)
    chunk = list(itertools.islice(stream, SAMPLE_CHUNK))
    if not chunk:
        return
    first = chunk[0][0]
    anchor = math.floor(first) if math.isfinite(first) and abs(first) < 1e15 else 0
    conn.execute(
        "update runs set samples_t0 = ? where id = ? and samples_t0 is null", [anchor, run_id]
    )
    found = conn.execute("select samples_t0 from runs where id = ?", [run_id]).fetchone()
    t0 = found[0] if found is not None and isinstance(found[0], int) else 0  # as the view
    insert = _INSERT_SAMPLE.format(t0=t0)
    while chunk:
        # (run_id,) + sample per row, looped in C, scaled by SQLite: a flush's hot path.
        conn.executemany(insert, map((run_id,).__add__, chunk))
        chunk = list(itertools.islice(stream, SAMPLE_CHUNK))


def delete_samples(conn: sqlite3.Connection, run_id: int) -> None:
    """Delete a run's samples (and the anchor they counted from)."""
    conn.execute("delete from samples_int where run_id = ?", [run_id])
    conn.execute("update runs set samples_t0 = null where id = ?", [run_id])


def read_samples(conn: sqlite3.Connection, run_id: int) -> list[SampleRow]:
    """A run's samples ``(t, distance_m, speed, cadence, hr)``, in time order."""
    return list(iter_samples(conn, run_id))


def iter_samples(
    conn: sqlite3.Connection, run_id: int, chunk: int = SAMPLE_CHUNK
) -> Iterator[SampleRow]:
    """:func:`read_samples` read ``chunk`` rows at a time as they are used (a run of
    millions of samples is never a list), in one read statement."""
    sql = "select t, distance_m, speed, cadence, hr from samples where run_id = ? order by t"
    cursor = conn.execute(sql, [run_id])
    try:
        while rows := cursor.fetchmany(chunk):
            for row in rows:
                yield tuple(row)
    finally:
        cursor.close()


def last_sample_t(conn: sqlite3.Connection, run_id: int) -> float | None:
    """Unix seconds of a run's last stored sample, or None if it has none."""
    (last,) = conn.execute("select max(t) from samples where run_id = ?", [run_id]).fetchone()
    return None if last is None else float(last)
