"""The recorder on footpods that lie (issue 14): cadence that lags, per-foot cadence, a frozen
distance counter, speed that blips to 0, bytes past the announced fields.

Each kind of fault is fed as spec-exact RSC payloads (``gatt.encode_rsc_measurement``) along
both paths the daemon and replay take, and checked in a real SQLite file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from agent.config import Settings
from agent.config_load import validate_settings
from agent.recording.recorder import MAX_CADENCE, Recorder, replay
from agent.sensors.base import (
    RSC_MEASUREMENT,
    Measurement,
    Notification,
    QueueItem,
    decode_notification,
)
from agent.sensors.gatt import RSCMeasurement, encode_rsc_measurement
from agent.store import Store
from agent.store.writer import FlushSink, load_state

POD = "C0:FF:EE:00:00:01"
DAY = 86_400.0
EPOCH = 1_795_000_000.0  # 2026-11-18T...Z: any fixed wall time for clock 0

Sample = tuple[float, float, int, float | None]  # t, speed m/s, cadence, total distance m


def payload(
    t: float, speed: float, cadence: int, total: float | None, extra: bytes = b""
) -> Notification:
    """The footpod's notification; ``extra``: bytes past the fields its flags announce."""
    data = encode_rsc_measurement(RSCMeasurement(speed, cadence, None, total, speed > 2.0))
    return Notification(POD, "footpod", RSC_MEASUREMENT, t, data + extra)


def treadmill(
    seconds: int, speed: float = 3.0, cadence: int = 170, *, hz: int = 1, counter: bool = True
) -> list[Sample]:
    """A steady run, ``hz`` samples a second, the counter in whole decimetres."""
    out: list[Sample] = []
    for i in range(seconds * hz + 1):
        t = i / hz
        out.append((t, speed, cadence, round(speed * t, 1) if counter else None))
    return out


def live(items: Iterable[QueueItem], recorder: Recorder, sink: FlushSink) -> None:
    """As the daemon does: decode each notification into an event, flush every 5 s."""
    last_flush = 0.0
    for item in items:
        assert isinstance(item, Notification)
        recorder.handle(decode_notification(item))
        if item.received_at - last_flush >= 5.0:
            sink.write(recorder.take_flushes())
            last_flush = item.received_at
    recorder.stop()
    sink.write(recorder.take_flushes())


def batched(items: Iterable[QueueItem], recorder: Recorder, sink: FlushSink) -> None:
    replay(items, recorder, sink, batch=50)


PATHS = pytest.mark.parametrize("path", [live, batched], ids=["live", "replay"])
Path_ = Callable[[Iterable[QueueItem], Recorder, FlushSink], None]


def record_day(db: Path, samples: Sequence[Sample], day: int = 0, path: Path_ = live) -> Any:
    """Record ``samples`` on day ``day`` into ``db`` with what the database knows (per-foot
    footpods); return (the run's stored row, its stored samples, per-foot footpods after)."""
    with Store.open(db) as store:
        state = load_state(store)
        recorder = Recorder(
            Settings(),
            epoch=EPOCH + day * DAY,
            source="simulated",
            calibrations=state.calibrations,
            per_foot=state.per_foot,
        )
        path([payload(*s) for s in samples], recorder, FlushSink(store))
        run = store.runs()[-1]
        return store.run_row(run.id), store.run_samples(run.id), store.per_foot_devices()


def cadences(samples: Sequence[tuple[Any, ...]]) -> list[float | None]:
    return [s[3] for s in samples]


# -- 3. per-foot cadence is decided by a sustained pattern, never by one sample ------------


@PATHS
def test_lagging_first_cadence_marks_nothing(tmp_path: Path, path: Path_) -> None:
    db = tmp_path / "h.db"
    run = treadmill(600, 2.5)
    run[0] = (0.0, 2.5, 60, 0.0)  # the footpod's first estimate lags
    row, samples, per_foot = record_day(db, run, path=path)
    assert per_foot == set()
    assert row["avg_cadence"] == pytest.approx(170)
    assert row["max_cadence"] == 170
    assert cadences(samples) == [None] + [170] * 600
    # The next day's clean run is stored as it was run.
    row, samples, per_foot = record_day(db, treadmill(600, 2.5), day=1, path=path)
    assert row["avg_cadence"] == pytest.approx(170)
    assert set(cadences(samples)) == {170}
    assert per_foot == set()


def test_cadence_lagging_for_twenty_seconds_marks_nothing(tmp_path: Path) -> None:
    # The estimate climbs from 60 to 170 over the first 20 s: no 20 s of it is per-foot.
    run = treadmill(600, 2.8)
    run[:21] = [(t, 2.8, 60 + round(5.5 * t), 2.8 * t) for t in range(21)]
    row, samples, per_foot = record_day(tmp_path / "h.db", run)
    assert per_foot == set()
    # The climb's plausible part (110-170) is stored as sent; nothing is doubled.
    assert 165 < row["avg_cadence"] < 170
    assert all(c is None or 110 <= c <= 170 for c in cadences(samples))
    assert cadences(samples)[:9] == [None] * 9  # 60-109: unknown, not doubled


@PATHS
def test_per_foot_footpod_is_marked_after_minutes_of_it(tmp_path: Path, path: Path_) -> None:
    db = tmp_path / "h.db"
    row, samples, per_foot = record_day(db, treadmill(300, 3.0, 85), path=path)
    assert per_foot == {POD}
    assert row["avg_cadence"] == pytest.approx(170)
    assert row["max_cadence"] == 170
    # Until 30 s of it have been seen, the cadence is unknown; never 85.
    assert cadences(samples) == [None] * 30 + [170] * 271
    # The next day the footpod is known: doubled from the first sample.
    row, samples, per_foot = record_day(db, treadmill(300, 3.0, 85), day=1, path=path)
    assert set(cadences(samples)) == {170}
    assert per_foot == {POD}


def test_one_step_cadence_sample_does_not_undo_per_foot(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    record_day(db, treadmill(300, 3.0, 85))
    run = treadmill(300, 3.0, 85)
    run[100] = (100.0, 3.0, 170, 300.0)  # one sample per step
    row, samples, per_foot = record_day(db, run, day=1)
    assert per_foot == {POD}
    assert row["avg_cadence"] == pytest.approx(170)
    assert max(c for c in cadences(samples) if c is not None) == 170


@PATHS
def test_sustained_step_cadence_undoes_per_foot(tmp_path: Path, path: Path_) -> None:
    db = tmp_path / "h.db"
    record_day(db, treadmill(300, 3.0, 85), path=path)
    # The runner fixed the footpod's setting: it now sends steps/min.
    row, samples, per_foot = record_day(db, treadmill(600, 3.0, 170), day=1, path=path)
    assert per_foot == set()
    with Store.open(db) as store:
        assert [d["per_foot"] for d in store.devices()] == [0]
    assert row["avg_cadence"] == pytest.approx(170)
    assert row["max_cadence"] == 170
    assert cadences(samples) == [None] * 30 + [170] * 571
    row, samples, _ = record_day(db, treadmill(600, 3.0, 170), day=2, path=path)
    assert set(cadences(samples)) == {170}


# -- 4. a counter that never moves ---------------------------------------------------------


@PATHS
def test_frozen_counter_gives_way_to_speed(tmp_path: Path, path: Path_) -> None:
    # A treadmill emulator for Zwift: total distance announced, stuck at 10 dm; cadence 1.
    run = [(float(t), 2.2, 1, 1.0) for t in range(601)]
    row, samples, _ = record_day(tmp_path / "h.db", run, path=path)
    assert row["distance_m"] == pytest.approx(2.2 * 600, rel=0.005)
    assert row["distance_source"] == "speed"
    assert row["moving_s"] == pytest.approx(600)
    assert row["avg_speed"] == pytest.approx(2.2, rel=0.005)
    assert set(cadences(samples)) == {None}
    assert row["avg_cadence"] is None
    assert row["max_cadence"] is None
    assert samples[-1][1] == pytest.approx(1320, rel=0.005)


@pytest.mark.parametrize(
    ("counter", "source"), [(True, "counter"), (False, "speed")], ids=["counter", "no-counter"]
)
def test_distance_source_is_recorded(tmp_path: Path, counter: bool, source: str) -> None:
    row, _, _ = record_day(tmp_path / "h.db", treadmill(600, counter=counter))
    assert row["distance_m"] == pytest.approx(1800, abs=0.5)
    assert row["distance_source"] == source


def test_counter_that_stalls_and_catches_up_is_never_doubled(tmp_path: Path) -> None:
    # Still for 8 s (speed takes over after 5), then one jump of 27 m (refused as impossible
    # in a second: a new baseline); a 3-s stall catches up in one plausible 12 m step.
    run = treadmill(600)
    run[101:109] = [(float(t), 3.0, 170, 300.0) for t in range(101, 109)]
    run[301:304] = [(float(t), 3.0, 170, 900.0) for t in range(301, 304)]
    row, _, _ = record_day(tmp_path / "h.db", run)
    assert row["distance_m"] == pytest.approx(1800, abs=10)
    assert row["distance_m"] <= 1800
    assert row["distance_source"] == "counter"
    assert row["moving_s"] == pytest.approx(600)


def test_counter_still_while_standing_is_a_pause(tmp_path: Path) -> None:
    run = treadmill(300)
    run += [(float(t), 0.0, 0, 900.0) for t in range(301, 361)]
    run += [(t + 360.0, 3.0, 170, 900.0 + 3.0 * t) for t in range(1, 301)]
    row, _, _ = record_day(tmp_path / "h.db", run)
    assert row["distance_m"] == pytest.approx(1800, abs=4)
    assert row["moving_s"] == pytest.approx(600, abs=2)
    assert row["distance_source"] == "counter"


# -- 5. moving time with speed blips -------------------------------------------------------


@PATHS
@pytest.mark.parametrize(("hz", "blip_s"), [(1, 1), (4, 1), (1, 3), (1, 20)])
def test_speed_blips_while_the_counter_advances_are_moving_time(
    tmp_path: Path, path: Path_, hz: int, blip_s: int
) -> None:
    run = treadmill(600, hz=hz)
    start = 300 * hz
    for i in range(start, start + blip_s * hz):
        t, _, cadence, total = run[i]
        run[i] = (t, 0.0, cadence, total)
    row, samples, _ = record_day(tmp_path / "h.db", run, path=path)
    assert row["distance_m"] == pytest.approx(1800, abs=0.5)
    assert row["moving_s"] == pytest.approx(600)
    assert row["elapsed_s"] == pytest.approx(600)
    assert len(samples) == 600 * hz + 1


# -- GATT leftover bytes -------------------------------------------------------------------


def test_leftover_bytes_are_counted_and_logged_once_per_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Every payload carries one byte its flags do not announce; two runs 10 minutes apart.
    settings_ = validate_settings({"recording": {"idle_timeout_min": 1}})
    recorder = Recorder(settings_, epoch=EPOCH)
    counts = []
    caplog.set_level(logging.INFO, logger="stridewatch.recorder")
    with Store.open(tmp_path / "h.db") as store:
        for start in (0.0, 720.0):
            for t, speed, cadence, total in treadmill(120):
                recorder.handle(
                    decode_notification(payload(start + t, speed, cadence, total, b"\0"))
                )
            counts.append(dict(recorder.leftover_bytes))
            recorder.tick(start + 180.0)
            FlushSink(store).write(recorder.take_flushes())
        assert len(store.runs()) == 2
    assert counts == [{POD: 121}, {POD: 121}]
    logged = [r.getMessage() for r in caplog.records if "past the fields" in r.getMessage()]
    assert len(logged) == 2
    assert logged[0] == f"{POD} sends 1 byte(s) past the fields its flags announce: " + (
        "ignored, counted per run"
    )


# -- cadence is never stored above 240, nor where no human could step at that speed ------

streams = st.lists(
    st.tuples(
        st.floats(0.05, 8.0, allow_nan=False),  # seconds since the previous sample
        st.floats(0.0, 8.0, allow_nan=False),  # speed m/s
        st.integers(0, 255),  # cadence as sent
        st.one_of(st.none(), st.floats(0.0, 20.0, allow_nan=False)),  # counter step m
    ),
    max_size=150,
)


@settings(max_examples=150)
@given(streams, st.booleans())
# A mean of one 240 steps/min span that floating point made 240.00000000000003.
@example([(1.4715528064329364, 1.0, 0, None), (2.881089965700513, 1.0, 240, None)], False)
def test_stored_cadence_is_always_human(
    stream: list[tuple[float, float, int, float | None]], per_foot: bool
) -> None:
    recorder = Recorder(Settings(), epoch=EPOCH, per_foot=[POD] if per_foot else [])
    t = total = 0.0
    flushes = []
    for dt, speed, cadence, step in stream:
        t += dt
        total = total + step if step is not None else total
        value = RSCMeasurement(speed, cadence, None, None if step is None else total, False)
        recorder.handle(Measurement(POD, "footpod", t, value))
        flushes += recorder.take_flushes()
    recorder.stop()
    flushes += recorder.take_flushes()
    for flush in flushes:
        for _, _, speed, cadence, _ in flush.samples:
            if cadence is not None:
                assert 40 <= cadence <= MAX_CADENCE
                assert speed is None or speed <= 2.0 or cadence >= 100
        for name in ("avg_cadence", "max_cadence"):
            assert flush.row[name] is None or 40 <= flush.row[name] <= MAX_CADENCE
