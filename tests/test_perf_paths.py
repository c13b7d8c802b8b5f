"""The fast paths of issue 7 give exactly what the general paths give.

Batched replay decodes footpod and strap payloads with ``rsc_essentials``/``hr_essentials``
and hands plain values to the recorder; the live path decodes into events. Both must agree
on every payload, including malformed ones, and on what ends up in the database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from agent.config import Settings
from agent.recording.recorder import Recorder, replay
from agent.sensors import sim
from agent.sensors.base import Notification, SensorEvent, decode_notification
from agent.sensors.gatt import (
    GattDecodeError,
    hr_essentials,
    parse_heart_rate,
    parse_rsc_measurement,
    rsc_essentials,
)
from agent.store import Store
from agent.store.writer import FlushSink

EPOCH = 1_790_000_000.0
payloads = st.binary(max_size=24)
wraps = st.sampled_from([bytes, bytearray, memoryview])


@given(payloads, wraps)
def test_rsc_essentials_match_the_decoder(data: bytes, wrap: Any) -> None:
    try:
        m = parse_rsc_measurement(data)
    except GattDecodeError:
        assert rsc_essentials(wrap(data)) is None
        return
    expected = (m.speed_mps, m.cadence_spm, m.total_distance_m, m.running)
    assert rsc_essentials(wrap(data)) == expected


@given(payloads, wraps)
def test_hr_essentials_match_the_decoder(data: bytes, wrap: Any) -> None:
    try:
        m = parse_heart_rate(data)
    except GattDecodeError:
        assert hr_essentials(wrap(data)) is None
        return
    assert hr_essentials(wrap(data)) == (m.bpm, m.sensor_contact)


def test_rsc_essentials_on_spec_bytes() -> None:
    # flags 0x07 (stride, distance, running), 3.0 m/s, 170/min, 1.05 m, 1234.5 m
    data = bytes.fromhex("07 00 03 aa 69 00 39 30 00 00")
    assert rsc_essentials(data) == (3.0, 170, 1234.5, True)
    assert rsc_essentials(bytes.fromhex("00 80 02 9b")) == (2.5, 155, None, False)
    # Distance announced but cut short: the complete fields stand, the distance is dropped.
    assert rsc_essentials(bytes.fromhex("02 80 02 9b 10")) == (2.5, 155, None, False)
    assert rsc_essentials(bytes.fromhex("02 80 02")) is None  # cadence missing: refused


def _general_replay(items: list[Any], recorder: Recorder, sink: FlushSink) -> None:
    """What replay did before issue 7: every notification decoded into an event."""
    for item in items:
        if isinstance(item, Notification):
            recorder.handle(decode_notification(item))
        elif isinstance(item, SensorEvent):
            recorder.handle(item)
        if recorder.active is not None and len(recorder.active.samples) >= 500:
            sink.write(recorder.take_flushes())
    recorder.stop()
    sink.write(recorder.take_flushes())


def _stored(path: Path) -> tuple[list[Any], list[Any]]:
    with sqlite3.connect(path) as conn:
        runs = conn.execute(
            "select started_at, ended_at, distance_m, moving_s, avg_hr, max_hr, avg_cadence, "
            "trimp, max_speed, zone_s, hr_only, status from runs order by id"
        ).fetchall()
        samples = conn.execute("select * from samples order by run_id, t").fetchall()
    return runs, samples


def _record(path: Path, items: list[Any], fast: bool) -> tuple[list[Any], list[Any]]:
    with Store.open(path) as store:
        recorder = Recorder(Settings(), epoch=EPOCH, source="simulated")
        sink = FlushSink(store)
        if fast:
            replay(items, recorder, sink, batch=500)
        else:
            _general_replay(items, recorder, sink)
    return _stored(path)


def test_fast_replay_stores_what_the_general_path_stores(tmp_path: Path) -> None:
    faults = (
        sim.Malformed(None, rate=0.03),
        sim.Disconnect(900.0, 20.0, "footpod"),
        sim.CounterReset(1500.0),
        sim.Dropout(600.0, 30.0, "hrm"),
    )
    run = sim.easy_run(duration_s=2400.0).with_pause(1200.0, 90.0)
    items = list(sim.iter_items(sim.Scenario(run, seed=3, faults=faults)))
    fast = _record(tmp_path / "fast.db", items, fast=True)
    general = _record(tmp_path / "general.db", items, fast=False)
    assert fast[1], "the run stored samples"
    assert fast == general


def test_fast_replay_counts_the_same_decode_failures(tmp_path: Path) -> None:
    scenario = sim.Scenario(sim.easy_run(duration_s=900.0), faults=(sim.Malformed(rate=0.05),))
    items = list(sim.iter_items(scenario))
    counts = []
    for name, fast in (("fast", True), ("general", False)):
        with Store.open(tmp_path / f"{name}.db") as store:
            recorder = Recorder(Settings(), epoch=EPOCH, source="simulated")
            sink = FlushSink(store)
            (replay if fast else _general_replay)(items, recorder, sink)
            counts.append(recorder.decode_failures)
    assert counts[0] == counts[1] > 0
