"""Database size: a year of daily one-hour runs at 1 Hz, as the daemon stores them (issue 18).

Two files get the same samples in the same run:

- **this layout**: :meth:`Store.open` (every migration), then each run written through the
  recorder's write path (:class:`agent.store.writer.FlushSink`, :meth:`Store.save_recording`),
  a flush per minute (the file's layout does not depend on how often: samples are appended in
  key order either way);
- **the old layout** (the baseline): the schema as migration ``m011_samples_as_integers``
  found it (sqlite-utils' ``stop_before``) and the same flushes written as the store wrote
  them then (``insert into samples (run_id, t, distance_m, speed, cadence, hr)``).

Then a copy of the old file is migrated in place (:meth:`Store.open`: ``m011`` to samples as
whole numbers, ``m012`` to samples packed up to 64 to a row), timed; and one one-hour run of
the new file is read back both ways there are (reported): through the ``samples`` view (pure
SQL, as ``sqlite3``, ``sqlite-utils query`` or Datasette read it) and through the store's own
reader (:func:`agent.store.samples.read_samples`, which decodes the rows in Python).

The samples are what the recorder stores from a footpod and a strap: BLE arrival times (unix
seconds to the clock's resolution, ~1 s apart with a few ms of jitter), the footpod's counter
(1/10 m) times a calibration factor, speeds in 1/256 m/s, whole cadences and heart rates.
"""

from __future__ import annotations

import math
import random
import shutil
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.models import Flush, SampleRow
from agent.store import RECORDED_COLUMNS, Store, migrations
from agent.store.samples import read_samples
from agent.store.writer import FlushSink
from benchmarks.common import Figure, Section, median_time, scratch

TARGET_MB_PER_YEAR = 25.0
MIGRATION = "m011_samples_as_integers"
FIRST = datetime(2026, 1, 5, 6, 30, tzinfo=UTC)  # a Monday; a run at 06:30 every day
FLUSH = 60  # samples per flush
OLD_RUN = (
    f"insert into runs ({', '.join(RECORDED_COLUMNS)}) "
    f"values ({', '.join('?' * len(RECORDED_COLUMNS))})"
)
OLD_SAMPLE = "insert into samples (run_id, t, distance_m, speed, cadence, hr) values (?,?,?,?,?,?)"


def run(quick: bool) -> Section:
    section = Section("Database size")
    days, seconds = (7, 600) if quick else (365, 3600)
    runs = [list(_samples(day, seconds)) for day in range(days)]
    count = days * seconds
    with scratch("dbsize") as folder:
        new_db, old_db, migrated = folder / "new.db", folder / "old.db", folder / "migrated.db"
        new_s = _timed(lambda: _write_new(new_db, runs))
        old_s = _timed(lambda: _write_old(old_db, runs))
        shutil.copy(old_db, migrated)
        migrate_s = _timed(lambda: Store.open(migrated).close())
        new, old, after = (p.stat().st_size for p in (new_db, old_db, migrated))
        view_s, reader_s = _read_times(new_db, run_id=days // 2 + 1)
    per_year = 365 * 3600 / count  # one-hour runs a year / runs written (quick: shorter)
    section.add(
        Figure(
            "dbsize",
            "database size per year of daily one-hour runs at 1 Hz",
            new * per_year / 1e6,
            TARGET_MB_PER_YEAR,
            False,
            unit=" MB",
            detail=f"{days} runs of {seconds} s, {count:,} samples through FlushSink "
            f"(Store.save_recording): {new / 1e6:.1f} MB, {new / count:.1f} bytes per sample, "
            f"written in {new_s:.1f} s",
        )
    )
    section.add(
        Figure(
            "dbsize",
            "this layout / the old layout (same samples)",
            new / old,
            None,
            False,
            detail=f"old layout (samples as floats, rowid table, index on run_id, t): "
            f"{old / 1e6:.1f} MB, {old / count:.1f} bytes per sample, written in {old_s:.1f} s",
        )
    )
    section.add(
        Figure(
            "dbsize",
            "the old file migrated in place / written in this layout",
            after / new,
            None,
            False,
            detail=f"{MIGRATION}, m012_samples_packed and the VACUUM after them, on a copy "
            "of the old file: "
            f"{migrate_s:.1f} s for {count:,} samples, {after / 1e6:.1f} MB after (appended "
            "or compacted, five rows of 64 samples fill a 4 KiB page)",
        )
    )
    section.add(
        Figure(
            "dbsize",
            "reading one run: the samples view / the store's reader",
            view_s / reader_s,
            None,
            False,
            detail=f"one {seconds} s run ({seconds:,} samples) in time order: the view "
            f"(pure SQL, a plain sqlite3 connection) {view_s * 1e3:.1f} ms, read_samples "
            f"{reader_s * 1e3:.1f} ms, median of 9",
        )
    )
    section.notes.append(_note(new, old, count))
    return section


def _read_times(path: Path, run_id: int) -> tuple[float, float]:
    """Median seconds to read run ``run_id``'s samples through the view and the reader."""
    sql = "select t, distance_m, speed, cadence, hr from samples where run_id = ? order by t"
    conn = sqlite3.connect(path)  # nothing registered: any client's connection
    try:
        view = conn.execute(sql, [run_id]).fetchall()
        assert view == read_samples(conn, run_id), "the view and the reader differ"
        view_s = median_time(lambda: conn.execute(sql, [run_id]).fetchall(), 9)
        reader_s = median_time(lambda: read_samples(conn, run_id), 9)
    finally:
        conn.close()
    return view_s, reader_s


def _timed(func: Any) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _samples(day: int, seconds: int) -> Iterator[SampleRow]:
    rng = random.Random(day)
    start = (FIRST + timedelta(days=day)).timestamp() + rng.random()  # boot clock's fraction
    pace = rng.uniform(2.6, 3.4)
    counter_dm = 0
    for k in range(seconds):
        raw = round((pace + 0.15 * math.sin(k / 40) + rng.gauss(0, 0.03)) * 256)  # 1/256 m/s
        counter_dm += round(raw / 256 * 10 + rng.uniform(-0.5, 0.5))
        t = start + k + rng.uniform(0.0, 0.03)  # notification arrival, ~1 Hz
        cadence = float(166 + round(4 * math.sin(k / 50)) + rng.randint(-2, 2))
        hr = 130 + min(40, k // 30) + rng.randint(-3, 3)
        yield t, counter_dm * 0.1 * 1.012, raw / 256, cadence, hr


def _row(samples: list[SampleRow], upto: int, *, closed: bool) -> dict[str, Any]:
    """The run's row as the recorder's flush gives it (agent.recording.recorder._row)."""
    start, last = samples[0][0], samples[upto - 1]
    elapsed = last[0] - start
    stamp = datetime.fromtimestamp(start, UTC).isoformat(timespec="seconds")
    ended = datetime.fromtimestamp(last[0], UTC).isoformat(timespec="seconds")
    totals = {"distance_m": last[1], "moving_s": elapsed, "elapsed_s": elapsed}
    return {
        **dict.fromkeys(RECORDED_COLUMNS),
        **totals,
        "started_at": stamp,
        "ended_at": ended,
        "source": "ble",
        "status": "closed" if closed else "open",
        "device": "C0:FF:EE:00:00:01",
        "avg_hr": 150.0,
        "max_hr": 172.0,
        "avg_cadence": 166.0,
        "trimp": 60.0,
        "created_at": stamp,
        "avg_speed": last[1] / elapsed if elapsed else None,
        "zone_s": "[0,0,0,0,0,0]",
        "hr_only": 0,
        "calibration": 1.012,
        "last_active_t": last[0],
        "flushed_at": ended,
        "distance_source": "counter",
    }


def _flushes(key: int, samples: list[SampleRow]) -> Iterator[Flush]:
    for start in range(0, len(samples), FLUSH):
        upto = min(start + FLUSH, len(samples))
        closed = upto == len(samples)
        yield Flush(key, None, _row(samples, upto, closed=closed), samples[start:upto], closed)


def _write_new(path: Path, runs: list[list[SampleRow]]) -> None:
    with Store.open(path) as store, store.batched_writes():
        sink = FlushSink(store)
        for key, samples in enumerate(runs, 1):
            sink.write(_flushes(key, samples))


def _write_old(path: Path, runs: list[list[SampleRow]]) -> None:
    from sqlite_utils import Database

    old = Database(path)
    migrations.apply(old, stop_before=MIGRATION)
    old.enable_wal()
    old.close()
    conn = sqlite3.connect(path)
    conn.execute("pragma foreign_keys = on")
    conn.execute("pragma synchronous = normal")
    for key, samples in enumerate(runs, 1):
        run_id = None
        for flush in _flushes(key, samples):
            values = [flush.row[name] for name in RECORDED_COLUMNS]
            with conn:
                if run_id is None:
                    run_id = conn.execute(OLD_RUN, values).lastrowid
                else:
                    sets = ", ".join(f"{name} = ?" for name in RECORDED_COLUMNS)
                    conn.execute(f"update runs set {sets} where id = ?", [*values, run_id])
                conn.executemany(OLD_SAMPLE, [(run_id, *s) for s in flush.samples])
    conn.close()


def _note(new: int, old: int, count: int) -> str:
    per = new / count
    return (
        f"Bytes per sample: {per:.1f} in this layout, {old / count:.1f} in the old one. A year "
        "of daily one-hour runs at 1 Hz is 1,314,000 samples, so 25 MB a year leaves 19 bytes "
        "for each. One SQLite row per sample cannot get there: a row costs about 10 bytes "
        "before its values (cell pointer, record and header lengths, a type byte per column) "
        "and the values 15-18 more, ~30 bytes a sample as migration m011 stored them. So "
        "samples are packed up to 64 to a row of `samples_packed` (agent/store/packing.py): "
        "the row's key and base (run, first sample's time in microseconds, distance in mm) "
        "and a blob of 12 bytes a sample (time offset 4, distance offset 3, mm/s 2, cadence in "
        "1/100 step/min 2, heart rate 1; all-ones where a value is missing). A row of 64 is "
        "~790 bytes: under the ~1,000 bytes a WITHOUT ROWID row keeps on its 4 KiB page, so "
        "nothing overflows, and five fill a page. The row's own costs come to ~0.3 bytes a "
        "sample; the rest over 12 is the pages' free space and the runs table. The `samples` "
        "view decodes the blobs in pure SQL (hex, substr, instr; one row per slot number of "
        "`sample_slots`), so `sqlite3`, `sqlite-utils query` and Datasette still read one row "
        "per sample; the store decodes them in Python, to the same values."
    )
