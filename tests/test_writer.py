"""The writer's backlog and held file (agent/store/writer.py): bounded, newest kept, in order, and a
held file written twice stores nothing twice."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from agent.models import Flush
from agent.store import Store
from agent.store.writer import Backlog, FlushSink, held_path, save_held, write_held_file


def flush(key: int, samples: list[tuple[float, ...]], *, closed: bool = False) -> Flush:
    last = samples[-1] if samples else (1_800_000_000.0, 0.0)
    row = {
        "started_at": "2027-01-15T07:00:00Z",
        "ended_at": "2027-01-15T07:30:00Z",
        "distance_m": last[1],
        "moving_s": 1800.0,
        "elapsed_s": 1800.0,
        "source": "ble",
        "status": "closed" if closed else "open",
        "device": None,
        "avg_hr": None,
        "max_hr": None,
        "avg_cadence": None,
        "trimp": None,
        "created_at": f"2027-01-15T07:00:0{key}Z",
        "max_cadence": None,
        "avg_speed": 2.8,
        "max_speed": 3.1,
        "edwards_trimp": None,
        "zone_s": "[0, 0, 0, 0, 0]",
        "hr_only": 0,
        "calibration": 1.0,
        "hr_s": 0.0,
        "cadence_s": 0.0,
        "last_active_t": last[0],
        "flushed_at": "2027-01-15T07:30:00Z",
        "distance_source": "counter",
    }
    return Flush(key, None, row, list(samples), closed)


def sample(i: int) -> tuple[float, float, float, float, None]:
    return (1_800_000_000.0 + i, 2.8 * i, 2.8, 170.0, None)


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=8),
    bound=st.integers(min_value=1, max_value=60),
)
def test_the_backlog_keeps_the_newest_samples_in_order_within_its_bound(
    sizes: list[int], bound: int
) -> None:
    backlog = Backlog(max_samples=bound)
    everything, start = [], 0
    for size in sizes:
        chunk = [sample(i) for i in range(start, start + size)]
        start += size
        everything += chunk
        backlog.add([flush(1, chunk)])
    kept = [s for f in backlog.items for s in f.samples]
    assert len(kept) == min(bound, len(everything)) == backlog.samples
    assert kept == everything[len(everything) - len(kept) :]  # the newest, in order
    assert backlog.dropped == len(everything) - len(kept)
    assert len(backlog) == len(sizes)  # every row (the run's totals) is kept


def stored(db: Path) -> tuple[list[tuple[object, ...]], list[float]]:
    conn = sqlite3.connect(db)
    try:
        runs = conn.execute("select id, status, distance_m from runs").fetchall()
        times = [t for (t,) in conn.execute("select t from samples order by t")]
    finally:
        conn.close()
    return runs, times


def test_a_held_file_written_twice_stores_each_run_and_sample_once(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    held = held_path(db)
    with Store.open(db) as store:
        sink = FlushSink(store)
        first = sink.write_one(flush(1, [sample(i) for i in range(10)]))
        assert first is not None
        # The rest of run 1 and all of a run 2 could not be written: saved beside the db.
        rest = [
            flush(1, [sample(i) for i in range(10, 20)]),
            flush(1, [sample(i) for i in range(20, 25)], closed=True),
            flush(2, [sample(i) for i in range(100, 110)], closed=True),
        ]
        assert save_held(held, rest, sink.ids) == 25
    assert held.stat().st_mode & 0o777 == 0o600
    copy = held.read_bytes()
    with Store.open(db) as store:
        assert write_held_file(store, held) == 3
    assert not held.exists()
    once = stored(db)
    # A crash after the writes and before the file's removal: the file is written again.
    held.write_bytes(copy)
    with Store.open(db) as store:
        write_held_file(store, held)
    assert stored(db) == once
    runs, times = once
    assert [(status, distance) for _, status, distance in runs] == [
        ("closed", sample(24)[1]),
        ("closed", sample(109)[1]),
    ]
    assert times == sorted(set(times))
    assert len(times) == 35


def test_an_earlier_held_file_is_kept_first_when_a_stop_saves_again(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    held = held_path(db)
    save_held(held, [flush(1, [sample(i) for i in range(5)], closed=True)], {})
    later = flush(1, [sample(i) for i in range(50, 55)], closed=True)
    later.row.update(started_at="2027-01-16T07:00:00Z", created_at="2027-01-16T07:00:00Z")
    save_held(held, [later], {})
    with Store.open(db) as store:
        write_held_file(store, held)
    runs, times = stored(db)
    assert len(runs) == 2  # two daemons' run 1 are two runs
    assert len(times) == 10


def test_an_unreadable_held_file_is_moved_aside_not_fatal(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    held = held_path(db)
    held.write_text(json.dumps({"format": "something else"}))
    with Store.open(db) as store:
        assert write_held_file(store, held) == 0
    assert not held.exists()
    assert held.with_name(held.name + ".unreadable").exists()
