"""Samples: the sensor readings of a run, ``(t, distance_m, speed, cadence, hr)`` rows as
:data:`agent.models.SampleRow`, written with their run and read back in time order.

They are stored packed, up to 64 to a row, in ``samples_packed``: a ``WITHOUT ROWID`` table
keyed by (run, the first sample's time), each row holding a base time and distance and 12
bytes a sample of whole numbers counted from them (:mod:`agent.store.packing` has the
layout). Times count in microseconds from the run's ``runs.samples_t0`` (whole unix
seconds, set by its first sample). The ``samples`` view shows them one row per sample in SI
units, in pure SQL (``hex``, ``substr``, ``instr`` and the slot numbers in ``sample_slots``),
for every reader that is not this module: the tests', the ``sqlite3`` shell, ``sqlite-utils
query`` and Datasette. This module decodes the rows itself, to the same values. About 13
bytes a sample, against 30 as one row each (migration ``m012_samples_packed``;
benchmarks/RESULTS.md, "dbsize").

What a sample holds is kept to a stated precision: times to the microsecond (the clock's
readings are unix seconds as floats, 0.24 us apart at today's dates, and mean something to
the millisecond), distances and speeds to the millimetre (a footpod counts 1/10 m and 1/256
m/s, a FIT file 1/100 m and 1/1000 m/s), cadence to 1/100 step/min (a FIT file's fraction of
a step), heart rate whole. Fields have ranges: speed 0-65.534 m/s, cadence 0-655.34
steps/min, heart rate 0-254, time within ~31,700 years of the run's first sample. Any finite
distance is kept, negative too (a row's base is any whole number; past 9e12 m, only a damaged
file's, it is kept as the nearest double, in a row of its own: to a double's precision). A
value outside its field's range, or no finite number (a damaged file), is stored as none,
and a sample whose time cannot be stored is left out; either is counted in one warning per
write (logger ``stridewatch.store``), never silent and never an error.

A sample at an instant already stored for its run (to the microsecond) is stored once, the
one stored first kept: a held flush written again after a crash. Samples later than a run's
last are appended to its last row while it has room (the daemon's flush every 5 s); earlier
ones (a clock that jumped back, a late flush) are merged into the rows they fall in, which
are decoded and written again: a slower path, one row at a time.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import cast

from agent.models import SampleRow
from agent.store.packing import (
    PER_ROW,
    Block,
    Stored,
    last_dt,
    pack,
    stored,
    unpack,
    unpack_si,
)

log = logging.getLogger("stridewatch.store")

_INSERT = "insert into samples_packed (run_id, t_us, distance_mm, data) values (?, ?, ?, ?)"
_UPDATE = "update samples_packed set distance_mm = ?, data = ? where run_id = ? and t_us = ?"
_BLOCKS = "select t_us, distance_mm, data from samples_packed where run_id = ?"

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
    t0 = _anchor(conn, run_id, chunk[0][0])
    refused: Counter[str] = Counter()
    while chunk:
        scaled = (
            stored((t - t0) * 1e6, _times(d, 1e3), _times(s, 1e3), _times(c, 1e2), hr, refused)
            for t, d, s, c, hr in chunk
        )
        _write(conn, run_id, [sample for sample in scaled if sample is not None])
        chunk = list(itertools.islice(stream, SAMPLE_CHUNK))
    if refused:
        _warn(run_id, refused)


def _times(value: float | None, scale: float) -> float | None:
    return None if value is None else value * scale


def _anchor(conn: sqlite3.Connection, run_id: int, first: float) -> float:
    """The run's ``samples_t0``, set from its first sample if it has none yet."""
    anchor = math.floor(first) if math.isfinite(first) and abs(first) < 1e12 else 0
    conn.execute(
        "update runs set samples_t0 = ? where id = ? and samples_t0 is null", [anchor, run_id]
    )
    found = _stored_anchor(conn, run_id)
    return 0 if found is None else found  # no such run: the insert fails on its foreign key


def _warn(run_id: int, refused: Counter[str]) -> None:
    """One warning for a write's values that no field could hold (a damaged file's)."""
    said = []
    if times := refused.pop("t", 0):
        said.append(f"{times} samples with no storable time left out")
    if refused:
        values = ", ".join(f"{count} {name}" for name, count in sorted(refused.items()))
        said.append(f"values stored as none: {values}")
    log.warning(
        "run %d: values no sample field can hold (not finite, negative or out of range): %s",
        run_id,
        "; ".join(said),
    )


def _write(conn: sqlite3.Connection, run_id: int, new: list[Stored]) -> None:
    """Store ``new`` (one chunk): appended after the run's last row, or merged."""
    if not new:
        return
    times = [sample[0] for sample in new]
    if any(a >= b for a, b in itertools.pairwise(times)):
        new = _in_order(new)
    last = conn.execute(f"{_BLOCKS} order by t_us desc limit 1", [run_id]).fetchone()
    if last is None:
        conn.executemany(_INSERT, [(run_id, *block) for block in pack(new)])
    elif new[0][0] > last[0] + last_dt(last[2]):
        _append(conn, run_id, tuple(last), new)  # the hot path: a flush after the last one
    else:
        _merge(conn, run_id, new)


def _in_order(samples: list[Stored]) -> list[Stored]:
    """``samples`` in time order, the first of two at one instant kept."""
    kept: list[Stored] = []
    for sample in sorted(samples, key=lambda sample: sample[0]):  # stable: first stays first
        if not kept or kept[-1][0] != sample[0]:
            kept.append(sample)
    return kept


def _append(conn: sqlite3.Connection, run_id: int, head: Block, new: list[Stored]) -> None:
    """``new`` (all later than ``head``'s samples) after ``head``: into it while it has room,
    then in new rows."""
    blocks = pack(new, head)
    first = next(blocks)
    if first != head:
        conn.execute(_UPDATE, [first[1], first[2], run_id, first[0]])
    conn.executemany(_INSERT, [(run_id, *block) for block in blocks])


def _merge(conn: sqlite3.Connection, run_id: int, new: list[Stored]) -> None:
    """The slow path: ``new`` (in time order) among stored samples. Each row that holds
    some of their time is decoded, merged (a stored sample wins at its instant) and written
    again; samples before the run's first row get rows of their own."""
    low, high = new[0][0], new[-1][0]
    starts = [
        t
        for (t,) in conn.execute(
            "select t_us from samples_packed where run_id = ?1 and t_us <= ?3 and t_us >= "
            "coalesce((select max(t_us) from samples_packed where run_id = ?1 and t_us <= ?2),"
            " ?2) order by t_us",
            [run_id, low, high],
        )
    ]
    groups = itertools.groupby(new, key=lambda sample: bisect.bisect_right(starts, sample[0]))
    for index, group in groups:
        if index == 0:  # before the run's first row
            conn.executemany(_INSERT, [(run_id, *block) for block in pack(group)])
            continue
        row = conn.execute(f"{_BLOCKS} and t_us = ?", [run_id, starts[index - 1]]).fetchone()
        head: Block = tuple(row)
        arrived = list(group)
        if arrived[0][0] > head[0] + last_dt(head[2]):
            _append(conn, run_id, head, arrived)
            continue
        had = list(unpack(head))
        merged = _in_order([*had, *arrived])  # stored first: kept at its instant
        if len(merged) == len(had):
            continue  # nothing new: a held flush written again
        conn.execute("delete from samples_packed where run_id = ? and t_us = ?", [run_id, head[0]])
        conn.executemany(_INSERT, [(run_id, *block) for block in pack(merged)])


def delete_samples(conn: sqlite3.Connection, run_id: int) -> None:
    """Delete a run's samples (and the anchor they counted from)."""
    conn.execute("delete from samples_packed where run_id = ?", [run_id])
    conn.execute("update runs set samples_t0 = null where id = ?", [run_id])


def read_samples(conn: sqlite3.Connection, run_id: int) -> list[SampleRow]:
    """A run's samples ``(t, distance_m, speed, cadence, hr)``, in time order."""
    return list(iter_samples(conn, run_id))


def iter_samples(
    conn: sqlite3.Connection, run_id: int, chunk: int = SAMPLE_CHUNK
) -> Iterator[SampleRow]:
    """:func:`read_samples` read about ``chunk`` samples at a time as they are used (a run
    of millions of samples is never a list), in one read statement."""
    t0 = _stored_anchor(conn, run_id)
    if t0 is None:
        return
    cursor = conn.execute(f"{_BLOCKS} order by t_us", [run_id])
    try:
        while rows := cursor.fetchmany(max(1, chunk // PER_ROW)):
            for row in rows:
                # A distance is None only where none was given (a SampleRow's type says float).
                yield from cast(Iterator[SampleRow], unpack_si(t0, row))
    finally:
        cursor.close()


def _stored_anchor(conn: sqlite3.Connection, run_id: int) -> float | None:
    """The run's ``samples_t0`` as the view reads it; None if there is no such run (the view
    joins runs: a sample of no run is none of its rows)."""
    found = conn.execute("select samples_t0 from runs where id = ?", [run_id]).fetchone()
    if found is None:
        return None
    value = found[0]
    return value if isinstance(value, int | float) else 0  # None (no samples yet): 0


def last_sample_t(conn: sqlite3.Connection, run_id: int) -> float | None:
    """Unix seconds of a run's last stored sample, or None if it has none."""
    t0 = _stored_anchor(conn, run_id)
    last = conn.execute(f"{_BLOCKS} order by t_us desc limit 1", [run_id]).fetchone()
    if last is None or t0 is None:
        return None
    start: int = last[0]
    return (t0 * 1000000 + start + last_dt(last[2])) / 1000000.0
