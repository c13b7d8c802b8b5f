"""Samples packed several to a row (issue 18, ``m012_samples_packed``): what is written reads
back in time order within the stated precision, through the store's reader and through the
``samples`` view alike (plain SQL, the ``sqlite3`` shell); out-of-order and repeated
samples, missing and impossible values, rows filled across flushes; an m011 file migrated
in place, and a kill midway leaving it as it was."""

from __future__ import annotations

import itertools
import json
import logging
import math
import random
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from agent.store import Store, migrations
from agent.store.packing import PER_ROW, WIDTH, nearest
from agent.store.samples import add_samples, delete_samples, last_sample_t, read_samples
from tests.test_store_samples import kill_migrating, old_layout

MIGRATION = "m012_samples_packed"
COLUMNS = "t, distance_m, speed, cadence, hr"
START = 1_790_000_000.25  # 2026-09-21, unix seconds
RUN = (
    "insert into runs (id, started_at, source, created_at) "
    "values (?, '2026-09-21T06:30:00+00:00', 'ble', '2026-09-21T06:30:00+00:00')"
)
# The stated precision (agent/store/samples.py): half a unit, and a hair for the doubles.
US, MM, CENTI = 0.5e-6 * 1.01, 0.5e-3 * 1.01, 0.5e-2 * 1.01


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("packed") / "template.db"
    Store.open(path).close()
    return path


def fresh(template: Path, runs: int = 1) -> sqlite3.Connection:
    """An empty store in memory (a copy of ``template``), with runs 1..``runs``."""
    conn = sqlite3.connect(":memory:")
    with sqlite3.connect(template) as source:
        source.backup(conn)
    conn.execute("pragma foreign_keys = on")
    with conn:
        conn.executemany(RUN, [(k,) for k in range(1, runs + 1)])
    return conn


def view(conn: sqlite3.Connection, run_id: int = 1) -> list[tuple[Any, ...]]:
    return conn.execute(
        f"select {COLUMNS} from samples where run_id = ? order by t", [run_id]
    ).fetchall()


def blocks(conn: sqlite3.Connection, run_id: int = 1) -> list[int]:
    """Samples in each of a run's rows, in key order."""
    sql = "select length(data) from samples_packed where run_id = ? order by t_us"
    return [n // WIDTH for (n,) in conn.execute(sql, [run_id])]


def expected(written: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """What the store should keep of ``written`` (in the order written): one sample per
    microsecond (the first), in time order."""
    t0 = math.floor(written[0][0])
    kept: dict[int, tuple[Any, ...]] = {}
    for sample in written:
        kept.setdefault(nearest((sample[0] - t0) * 1e6), sample)
    return [kept[key] for key in sorted(kept)]


def within(value: Any, want: Any, tolerance: float) -> bool:
    if want is None:
        return value is None
    # and the doubles' own rounding, a few units in the last place at large values
    return isinstance(value, float) and abs(value - want) <= tolerance + abs(want) * 2**-50


def assert_kept(got: list[tuple[Any, ...]], written: list[tuple[Any, ...]]) -> None:
    want = expected(written) if written else []
    assert len(got) == len(want)
    for (t, distance, speed, cadence, hr), old in zip(got, want, strict=True):
        assert within(t, old[0], US), (t, old)
        assert within(distance, old[1], MM), (distance, old)
        assert within(speed, old[2], MM), (speed, old)
        assert within(cadence, old[3], CENTI), (cadence, old)
        assert hr == old[4]


def samples(n: int, *, seed: int = 0, start: float = START) -> list[tuple[Any, ...]]:
    """A footpod and a strap at ~1 Hz: arrival jitter, 1/10 m counter, 1/256 m/s speeds."""
    rng = random.Random(seed)
    rows = []
    for k in range(n):
        speed = None if k % 11 == 3 else round(rng.uniform(2.5, 4) * 256) / 256
        cadence = None if k % 13 == 4 else float(rng.randint(150, 190)) + (0.5 if k == 5 else 0)
        hr = None if k % 17 == 2 else rng.randint(100, 190)
        rows.append((start + k + rng.uniform(0, 0.03), k * 2.9 * 1.0312, speed, cadence, hr))
    return rows


VALUES = st.one_of(st.none(), st.floats(0, 60), st.floats(allow_nan=True, allow_infinity=True))
SAMPLE = st.tuples(
    # anywhere in a few hours, or on a coarse grid (repeated instants, 64-sample rows filled)
    st.one_of(st.floats(START - 5e3, START + 5e3), st.integers(0, 300).map(START.__add__)),
    st.one_of(st.floats(0, 1e5), st.floats(-1e6, 1e13), st.floats(1e13, 1e300), st.just(math.nan)),
    VALUES,
    st.one_of(st.none(), st.floats(0, 250), st.floats(-10, 1e4)),
    st.one_of(st.none(), st.integers(0, 254), st.integers(-5, 400)),
)


def storable(sample: tuple[Any, ...]) -> tuple[Any, ...]:
    """What the store keeps of ``sample``: a value outside its field's range as none."""
    t, distance, speed, cadence, hr = sample

    def field(value: Any, scale: float, low: float, high: float) -> Any:
        if value is None or not math.isfinite(value * scale):
            return None
        if not low <= nearest(value * scale) <= high:
            return None
        return value

    return (
        t,
        field(distance, 1000, -math.inf, math.inf),  # past 2**53 mm: as a double
        field(speed, 1000, 0, 65534),
        field(cadence, 100, 0, 65534),
        field(hr, 1, 0, 254),
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(SAMPLE, max_size=150), min_size=1, max_size=4))
def test_any_samples_read_back_the_same_through_the_reader_and_the_view(
    template: Path, flushes: list[list[tuple[Any, ...]]]
) -> None:
    conn = fresh(template)
    with conn:
        for flush in flushes:
            add_samples(conn, 1, flush)
    written = [sample for flush in flushes for sample in flush]
    got = read_samples(conn, 1)
    assert got == view(conn)
    assert_kept(got, [storable(sample) for sample in written])
    assert last_sample_t(conn, 1) == (got[-1][0] if got else None)


def test_view_needs_nothing_registered_and_the_sqlite3_shell_reads_it(
    template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "history.db"
    shutil.copy(template, path)
    written = samples(500)
    with Store.open(path) as store, store.conn:
        store.conn.execute(RUN, [1])
        add_samples(store.conn, 1, written)
    plain = sqlite3.connect(path)  # a fresh connection: no function registered
    try:
        got = read_samples(plain, 1)
        assert view(plain) == got
    finally:
        plain.close()
    assert_kept(got, written)
    if shutil.which("sqlite3") is None:
        pytest.skip("no sqlite3 shell")
    shell = subprocess.run(
        ["sqlite3", "-json", str(path), f"select run_id, {COLUMNS} from samples order by t"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(shell.stdout)
    assert list(rows[0]) == ["run_id", "t", "distance_m", "speed", "cadence", "hr"]
    for row, want in zip(rows, got, strict=True):
        for value, exact in zip(list(row.values())[1:], want, strict=True):
            assert value == exact or value == pytest.approx(exact, rel=1e-14)


def test_samples_out_of_order_and_repeated_read_back_in_order_once(template: Path) -> None:
    """A clock that jumps back, a late flush, a held flush written again after a crash:
    every sample is kept, once, in time order; the first stored wins at its instant."""
    written = samples(1000, seed=1)
    rng = random.Random(2)
    order = written[:600] + written[300:400] + written[900:] + written[600:900]
    late = [(t, 1.0, 1.0, 100.0, 99) for (t, *_) in written[::7]]  # same instants, other values
    cuts = sorted({0, len(order), *(rng.randrange(len(order)) for _ in range(40))})
    flushes = [order[a:b] for a, b in itertools.pairwise(cuts)]
    conn = fresh(template)
    with conn:
        for flush in flushes:
            add_samples(conn, 1, flush)
        add_samples(conn, 1, late)
        add_samples(conn, 1, list(reversed(written[:50])))
    got = read_samples(conn, 1)
    assert got == view(conn)
    assert_kept(got, written)
    assert all(n <= PER_ROW for n in blocks(conn))
    assert [t for t, *_ in got] == sorted({t for t, *_ in got})


def test_samples_before_the_first_and_inside_a_run_are_merged(template: Path) -> None:
    written = samples(300, seed=3)
    conn = fresh(template)
    with conn:
        add_samples(conn, 1, written[100:200])
        add_samples(conn, 1, written[:100:2])  # before the first row: rows of their own
        add_samples(conn, 1, written[200:])
        add_samples(conn, 1, written[1:100:2])  # between the earlier ones
    got = read_samples(conn, 1)
    assert got == view(conn)
    assert_kept(got, written)


def test_a_row_fills_across_flushes_and_the_next_one_starts(template: Path) -> None:
    """The daemon's flush every 5 s appends to the run's last row; a row that fills midway
    through a flush is closed and the rest starts the next."""
    written = samples(200, seed=4)
    conn = fresh(template)
    for k in range(0, 200, 5):
        with conn:
            add_samples(conn, 1, written[k : k + 5])
    assert blocks(conn) == [64, 64, 64, 8]
    got = read_samples(conn, 1)
    assert got == view(conn)
    assert_kept(got, written)


def test_missing_values_read_back_as_none(template: Path) -> None:
    written = [(START + k, k * 3.0 if k % 3 else None, None, None, None) for k in range(100)]
    written += [(START + 100 + k, None, 3.0, 170.25, 140) for k in range(100)]
    conn = fresh(template)
    with conn:
        add_samples(conn, 1, written)
    got = read_samples(conn, 1)
    assert got == view(conn)
    assert_kept(got, written)


def test_halves_round_away_from_zero_as_sqlite_scaled_them_before(template: Path) -> None:
    """46.8125 m is 46.813 m, as m011 stored it with SQL's round() (not 46.812, to even)."""
    written = [(START, 46.8125, 2.0005, 170.125, 150), (START + 1, 47.0625, 2.0015, 85.375, 151)]
    conn = fresh(template)
    with conn:
        add_samples(conn, 1, written)
    got = read_samples(conn, 1)
    assert got == view(conn)
    assert [sample[1:4] for sample in got] == [(46.813, 2.001, 170.13), (47.063, 2.002, 85.38)]
    assert (nearest(2.5), nearest(-2.5), nearest(0.49999)) == (3, -3, 0)


def test_values_no_field_holds_are_stored_as_none_with_a_warning(
    template: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A damaged file's values no field holds: never an error, never silent."""
    written = [
        (START, -12.5, 3.0, 170.0, 150),  # a negative distance is kept (a row's base)
        (START + 1, math.nan, -1.0, 1e4, 300),
        (START + 2, math.inf, 70.0, -3.0, -1),
        (START + 3, 1e13, math.inf, math.nan, 254),  # 1e13 m: kept as a double
        (math.nan, 1.0, 1.0, 1.0, 1),  # no time: left out
        (math.inf, 1.0, 1.0, 1.0, 1),
        (START + 4, 16_777.3, 65.534, 655.34, 0),  # each field's largest
    ]
    conn = fresh(template)
    with caplog.at_level(logging.WARNING, logger="stridewatch.store"), conn:
        add_samples(conn, 1, written)
    got = read_samples(conn, 1)
    assert got == view(conn)
    assert got == [
        (START, -12.5, 3.0, 170.0, 150),
        (START + 1, None, None, None, None),
        (START + 2, None, None, None, None),
        (START + 3, 1e13, None, None, 254),
        (START + 4, 16_777.3, 65.534, 655.34, 0),
    ]
    (said,) = [r.getMessage() for r in caplog.records if r.name == "stridewatch.store"]
    for part in ("2 samples with no storable time left out", "2 distance", "3 speed"):
        assert part in said
    for part in ("3 cadence", "2 hr"):
        assert part in said


def test_a_distance_a_row_cannot_count_to_starts_the_next_row(template: Path) -> None:
    """16,777.214 m past a row's base is its largest; one more millimetre (or any distance
    below the base: a counter reset) starts a row of its own, never reads as none."""
    written = [
        (START, 0.0, None, None, None),
        (START + 1, 16_777.214, None, None, None),
        (START + 2, 16_777.215, None, None, None),
        (START + 3, 16_777.2, None, None, None),
        (START + 4, 5.0, None, None, None),
    ]
    conn = fresh(template)
    with conn:
        add_samples(conn, 1, written)
    assert read_samples(conn, 1) == view(conn) == written
    assert blocks(conn) == [2, 1, 1, 1]


def test_a_100k_sample_run(template: Path) -> None:
    written = samples(100_000, seed=5)
    conn = fresh(template, runs=2)
    with conn:
        add_samples(conn, 1, iter(written))
        add_samples(conn, 2, written[:10])
    got = read_samples(conn, 1)
    assert got == view(conn)
    assert_kept(got, written)
    assert blocks(conn) == [PER_ROW] * (100_000 // PER_ROW) + [100_000 % PER_ROW]
    with conn:
        delete_samples(conn, 1)
    assert read_samples(conn, 1) == view(conn) == []
    assert len(view(conn, 2)) == 10


# -- migration from samples as one row each (m011) -----------------------------------------


def m011_file(path: Path, runs: int = 2, n: int = 300) -> list[tuple[Any, ...]]:
    """A file as the build before ``m012`` left it; its samples through the view."""
    old_layout(path, runs=runs, n=n)
    db = Database(path)
    migrations.apply(db, stop_before=MIGRATION)
    db.close()
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"select run_id, {COLUMNS} from samples order by run_id, t").fetchall()
    finally:
        conn.close()


def read(path: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(f"select run_id, {COLUMNS} from samples order by run_id, t").fetchall()
    finally:
        conn.close()


def tables(path: Path) -> Iterator[tuple[str, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield from conn.execute("select type, name from sqlite_master where name like 'sample%'")
    finally:
        conn.close()


def test_an_m011_file_is_migrated_in_place_with_the_same_samples(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    before = m011_file(path)
    assert ("table", "samples_int") in set(tables(path))
    with Store.open(path) as store:
        assert store.schema_version() == MIGRATION
        through_reader = [(r.id, *s) for r in store.runs() for s in store.run_samples(r.id)]
    assert read(path) == before  # exactly: whole cadences and a FIT half step kept
    assert through_reader == before
    assert set(tables(path)) == {
        ("table", "samples_packed"),
        ("table", "sample_slots"),
        ("view", "samples"),
    }


@pytest.mark.parametrize("when", ["copying", "committing"])
def test_a_kill_during_the_packing_leaves_the_m011_file(tmp_path: Path, when: str) -> None:
    path = tmp_path / "history.db"
    before = m011_file(path, runs=3, n=3000)
    layout = sorted(tables(path))
    kill_migrating(path, MIGRATION, when, "insert into samples_packed")
    assert sorted(tables(path)) == layout
    assert read(path) == before
    with Store.open(path) as store:  # and the next start migrates it
        assert store.schema_version() == MIGRATION
    assert read(path) == before


def test_values_an_m011_file_held_beyond_the_fields_are_kept_or_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A FIT cadence's fraction is kept to 1/100 step/min; a speed no field holds (a damaged
    file's) becomes none, with a warning, and the migration goes on."""
    path = tmp_path / "history.db"
    m011_file(path, runs=1, n=10)
    conn = sqlite3.connect(path)
    with conn:
        first, last = conn.execute("select min(t_us), max(t_us) from samples_int").fetchone()
        conn.execute("update samples_int set cadence = 85.333 where t_us = ?", [first])
        conn.execute("update samples_int set speed_mm_s = 70000 where t_us = ?", [last])
    conn.close()
    before = read(path)
    with caplog.at_level(logging.WARNING, logger="stridewatch.store"):
        Store.open(path).close()
    after = read(path)
    assert after[0][4] == 85.33
    assert after[-1][3] is None
    assert [row[:3] for row in after] == [row[:3] for row in before]
    assert "1 speed" in caplog.text
