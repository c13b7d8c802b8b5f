"""Ingest throughput: simulator notifications -> decode -> recorder -> SQLite, batched replay.

Baselines, measured in the same run on the same disk:

- **raw ceiling**: ``sqlite3`` ``executemany`` of the same samples as plain rows, one a
  sample, whole numbers prepared in memory beforehand, into a ``WITHOUT ROWID`` table keyed
  by (run, time) in a fresh store file (WAL, one transaction): the least work that puts
  these samples into SQLite as rows. Since issue 18 the store packs them 64 to a row
  (``samples_packed``); writing ready-packed blobs would be a ceiling of a few hundred
  rows, which says nothing about the pipeline, so the baseline stays one row a sample (as
  the store kept them before, ``samples_int``).
- **naive pipeline**: what a hand-written logger does: decode each payload by plain
  indexing and insert one row per notification, committing each one (sqlite3's defaults).
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.models import Flush
from agent.recording.recorder import Recorder, replay
from agent.sensors import sim
from agent.sensors.base import HEART_RATE_MEASUREMENT, RSC_MEASUREMENT, Notification, QueueItem
from agent.sensors.gatt import hr_essentials, rsc_essentials
from agent.store import Store
from agent.store.writer import FlushSink
from benchmarks.common import Figure, Section, median_time, profile_excerpt, scratch

EPOCH = 1_790_000_000.0  # a fixed wall-clock origin (2026-09-21), so runs are reproducible
TARGET_RAW = 0.35
TARGET_NAIVE = 20.0


def scenario(hours: float) -> sim.Scenario:
    """An easy run of ``hours`` with footpod and HR strap at 1 Hz each, interleaved."""
    return sim.Scenario(sim.easy_run(duration_s=hours * 3600.0))


def run(quick: bool) -> Section:
    section = Section("Ingest throughput (batched replay)")
    hours, repeat, naive_n = (0.25, 3, 200) if quick else (4.0, 9, 2000)
    items = list(sim.iter_items(scenario(hours)))
    notes = sum(1 for item in items if isinstance(item, Notification))
    with scratch("ingest") as folder:
        pipeline_s, rows = _pipeline(items, folder, repeat)
        raw_s = _raw(folder, rows, repeat)
        naive_s = _naive(items, folder, naive_n)
        pipe_rate = notes / pipeline_s
        section.add(
            Figure(
                "ingest",
                "pipeline / raw executemany (same samples, a row each)",
                raw_s / pipeline_s,
                TARGET_RAW,
                True,
                detail=f"{len(rows)} samples from {notes} notifications ({hours:g} h run): "
                f"pipeline {pipeline_s * 1e3:.1f} ms, raw {raw_s * 1e3:.1f} ms, "
                f"median of {repeat}",
            )
        )
        section.add(
            Figure(
                "ingest",
                "pipeline / naive per-row commit (notifications/s)",
                pipe_rate * naive_s,
                TARGET_NAIVE,
                True,
                detail=f"pipeline {pipe_rate:,.0f}/s, naive {1 / naive_s:,.0f}/s "
                f"({naive_n} notifications)",
            )
        )
        section.notes.append(_breakdown(items, folder))
    return section


def _pipeline(
    items: list[QueueItem], folder: Path, repeat: int
) -> tuple[float, list[tuple[Any, ...]]]:
    times = []
    for i in range(repeat):
        path = folder / f"pipeline-{i}.db"
        store = Store.open(path)
        try:
            recorder = Recorder(Settings(), epoch=EPOCH, source="simulated")
            sink = FlushSink(store)
            start = time.perf_counter()
            replay(items, recorder, sink)
            times.append(time.perf_counter() - start)
        finally:
            store.close()
    rows = _stored_rows(folder / "pipeline-0.db")
    return statistics.median(times), rows


# The samples as whole numbers, one row each (the store's layout before m012_samples_packed).
RAW_TABLE = """create table raw_samples (
    run_id integer not null references runs(id),
    t_us integer not null,
    distance_mm integer,
    speed_mm_s integer,
    cadence integer,
    hr integer,
    primary key (run_id, t_us)
) without rowid"""
RAW_ROWS = """select run_id, cast(round(t * 1000000) as integer) - 1000000 * (select
    cast(min(t) as integer) from samples), cast(round(distance_m * 1000) as integer),
    cast(round(speed * 1000) as integer), cadence, hr from samples order by run_id, t"""


def _stored_rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(RAW_ROWS).fetchall()


def _raw(folder: Path, rows: list[tuple[Any, ...]], repeat: int) -> float:
    """executemany of ``rows`` into a fresh store file, the same journal settings as replay."""
    times = []
    for i in range(repeat):
        path = folder / f"raw-{i}.db"
        Store.open(path).close()  # the same schema and indexes
        conn = sqlite3.connect(path)
        conn.execute("pragma synchronous = normal")
        conn.execute(
            "insert into runs (id, started_at, source, created_at) values (1, 'x', 'ble', 'x')"
        )
        conn.execute(RAW_TABLE)
        conn.commit()
        start = time.perf_counter()
        with conn:
            conn.executemany("insert into raw_samples values (?,?,?,?,?,?)", rows)
        times.append(time.perf_counter() - start)
        conn.close()
    return statistics.median(times)


def _naive(items: list[QueueItem], folder: Path, n: int) -> float:
    """Seconds per notification of a hand-written logger (plain indexing, commit per row)."""
    notes = [item for item in items if isinstance(item, Notification)][:n]
    conn = sqlite3.connect(folder / "naive.db")
    conn.execute(
        "create table samples (run_id integer, t float, distance_m float, speed float, "
        "cadence float, hr integer)"
    )
    conn.commit()
    start = time.perf_counter()
    for note in notes:
        conn.execute("insert into samples values (1, ?, ?, ?, ?, ?)", _naive_decode(note))
        conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed / len(notes)


def _naive_decode(
    note: Notification,
) -> tuple[float, float | None, float | None, float | None, int | None]:
    d = note.data
    if note.characteristic == RSC_MEASUREMENT:
        flags = d[0]
        speed = (d[1] | d[2] << 8) / 256
        i = 6 if flags & 1 else 4
        total = None
        if flags & 2:
            total = (d[i] | d[i + 1] << 8 | d[i + 2] << 16 | d[i + 3] << 24) / 10
        return note.received_at, total, speed, float(d[3]), None
    if note.characteristic == HEART_RATE_MEASUREMENT:
        bpm = d[1] | d[2] << 8 if d[0] & 1 else d[1]
        return note.received_at, None, None, None, bpm
    return note.received_at, None, None, None, None


class _TimedSink(FlushSink):
    """A flush sink that adds up the time spent writing (SQLite and the rows' tuples)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.seconds = 0.0

    def write(self, flushes: Iterable[Flush]) -> list[int | None]:
        start = time.perf_counter()
        try:
            return super().write(flushes)
        finally:
            self.seconds += time.perf_counter() - start


def _stages(items: list[QueueItem], folder: Path, repeat: int = 5) -> str:
    """Median ms of the pipeline's stages: decoding alone, the store's writes, the rest."""
    notes = [item for item in items if type(item) is Notification]
    decode_s = median_time(lambda: [_essentials(n) for n in notes], repeat)
    totals, writes = [], []
    for i in range(repeat):
        with Store.open(folder / f"stages-{i}.db") as store:
            sink = _TimedSink(store)
            start = time.perf_counter()
            replay(items, Recorder(Settings(), epoch=EPOCH, source="simulated"), sink)
            totals.append(time.perf_counter() - start)
            writes.append(sink.seconds)
    total, write = statistics.median(totals), statistics.median(writes)
    return (
        f"Stages of one replay (medians of {repeat}): {total * 1e3:.1f} ms in all; decoding "
        f"{decode_s * 1e3:.1f} ms, the store's writes (sample tuples, runs row, SQLite, "
        f"commits) {write * 1e3:.1f} ms, the recorder and the loop "
        f"{(total - decode_s - write) * 1e3:.1f} ms."
    )


def _essentials(note: Notification) -> object:
    if note.characteristic == RSC_MEASUREMENT:
        return rsc_essentials(note.data)
    return hr_essentials(note.data)


def _breakdown(items: list[QueueItem], folder: Path) -> str:
    """Where the pipeline's time goes: its stages, and cProfile of one replay by own time."""
    store = Store.open(folder / "profile.db")
    try:
        recorder = Recorder(Settings(), epoch=EPOCH, source="simulated")
        sink = FlushSink(store)
        text = profile_excerpt(lambda: replay(items, recorder, sink))
    finally:
        store.close()
    return (
        _stages(items, folder)
        + "\n\nProfile of one replay (cProfile, sorted by own time; the profiler inflates "
        "Python calls several-fold):\n\n```\n" + text + "\n```"
    )
