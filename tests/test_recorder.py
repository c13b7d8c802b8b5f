"""The recorder on small, hand-built event sequences: states, distance, cadence, intensity."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path

import pytest

from agent.config import Settings
from agent.config_load import validate_settings
from agent.models import Flush
from agent.recording.intensity import HeartProfile
from agent.recording.recorder import Recorder
from agent.sensors.base import Connected, Disconnected, Measurement, SensorEvent
from agent.sensors.gatt import HeartRateMeasurement, RSCMeasurement
from agent.store import Store
from agent.store.writer import FlushSink, load_state

POD = "C0:FF:EE:00:00:01"
STRAP = "C0:FF:EE:00:00:02"
EPOCH = 1_795_000_000.0  # 2026-11-18T...Z: any fixed wall time for clock 0


def rsc(
    t: float, speed: float, total: float | None = None, cadence: int = 170, running: bool = False
) -> Measurement:
    value = RSCMeasurement(speed, cadence, None, total, running)
    return Measurement(POD, "footpod", t, value=value)


def hr(t: float, bpm: int, contact: bool | None = True) -> Measurement:
    return Measurement(STRAP, "hrm", t, value=HeartRateMeasurement(bpm, contact, None, ()))


def steady(t0: float, t1: float, speed: float, total0: float | None = 0.0) -> list[Measurement]:
    """One footpod sample a second from t0 to t1 (inclusive) at a constant speed."""
    out = []
    for i in range(int(t1 - t0) + 1):
        total = None if total0 is None else round(total0 + speed * i, 1)
        out.append(rsc(t0 + i, speed, total))
    return out


def record(events: Iterable[SensorEvent], settings: Settings | None = None) -> list[Flush]:
    """Feed every event, flushing after each; return each stored run's last flush with all
    its samples (as a database would hold them)."""
    recorder = Recorder(settings or Settings(), epoch=EPOCH, source="simulated")
    runs: dict[int, Flush] = {}
    for event in [*events, None]:
        if event is None:
            recorder.stop()
        else:
            recorder.handle(event)
        for flush in recorder.take_flushes():
            held = runs[flush.key].samples if flush.key in runs else []
            runs[flush.key] = Flush(flush.key, None, flush.row, held + flush.samples, flush.closed)
            if flush.discard:
                del runs[flush.key]
    return list(runs.values())


def only_run(events: Iterable[SensorEvent], settings: Settings | None = None) -> Flush:
    flushes = record(events, settings)
    assert len(flushes) == 1
    assert flushes[0].closed
    return flushes[0]


def test_steady_run_with_counter() -> None:
    run = only_run(steady(0, 600, 3.0)).row
    assert run["distance_m"] == pytest.approx(1800, abs=0.5)
    assert run["moving_s"] == pytest.approx(600)
    assert run["elapsed_s"] == pytest.approx(600)
    assert run["status"] == "closed"
    assert run["avg_speed"] == pytest.approx(3.0)
    assert run["avg_cadence"] == pytest.approx(170)


def test_standing_still_records_nothing() -> None:
    assert record(steady(0, 300, 0.3)) == []


def test_a_few_strides_are_no_run(tmp_path: Path) -> None:
    # Three seconds at running speed, then standing until the run times out: discarded,
    # also from the database if a flush had already stored it.
    settings = validate_settings({"recording": {"idle_timeout_min": 1}})
    recorder = Recorder(settings, epoch=EPOCH)
    with Store.open(tmp_path / "r.db") as store:
        sink = FlushSink(store)
        for event in [*steady(0, 3, 3.0), *steady(4, 200, 0.0, 9.0)]:
            recorder.handle(event)
            sink.write(recorder.take_flushes())
        assert store.runs() == []
        assert store.counts()["samples"] == 0


def test_running_flag_starts_a_run_below_start_speed() -> None:
    events = [rsc(t, 0.95, running=t >= 10) for t in range(100)]
    run = only_run(events).row
    assert run["started_at"] == only_run(steady(10, 100, 3.0)).row["started_at"]


def test_pause_is_excluded_from_moving_time() -> None:
    events = [*steady(0, 300, 3.0), *steady(301, 360, 0.0, 900.0), *steady(361, 660, 3.0, 900.0)]
    run = only_run(events).row
    assert run["elapsed_s"] == pytest.approx(660)
    # 600 s of running; the debounce keeps ~1 s either side of the stop.
    assert run["moving_s"] == pytest.approx(600, abs=2)
    assert run["distance_m"] == pytest.approx(1800, abs=4)


def test_short_slowdown_does_not_pause() -> None:
    events = steady(0, 100, 3.0, None)
    events[50] = rsc(50, 0.2)
    events[51] = rsc(51, 0.2)
    run = only_run(events).row
    assert run["moving_s"] == pytest.approx(100)


def test_walking_between_thresholds_does_not_resume() -> None:
    # A pause, then walking at 0.7 m/s (between pause_below 0.5 and resume_above 0.9),
    # then the run times out: the walk is not part of the run.
    events = [*steady(0, 300, 3.0), *steady(301, 310, 0.0, 900.0), *steady(311, 400, 0.7, 900.0)]
    settings = validate_settings({"recording": {"idle_timeout_min": 1}})
    run = only_run(events, settings).row
    assert run["distance_m"] == pytest.approx(900, abs=5)
    assert run["elapsed_s"] == pytest.approx(300)


def test_counter_reset_is_a_new_baseline() -> None:
    events = [*steady(0, 300, 3.0, 5000.0), *steady(301, 600, 3.0, 0.0)]
    run = only_run(events).row
    # Only the one-second step across the reset is lost.
    assert run["distance_m"] == pytest.approx(1797, abs=0.5)


def test_implausible_counter_jump_is_rejected() -> None:
    events = steady(0, 600, 3.0)
    events[300:] = [rsc(e.at, 3.0, e.value.total_distance_m + 5000) for e in events[300:]]  # type: ignore[attr-defined]
    run = only_run(events).row
    assert run["distance_m"] == pytest.approx(1797, abs=0.5)


def test_counter_bridges_a_dropout() -> None:
    events = [e for e in steady(0, 600, 3.0) if not 200 < e.at < 220]
    run = only_run(events).row
    assert run["distance_m"] == pytest.approx(1800, abs=0.5)
    assert run["moving_s"] == pytest.approx(600)


def test_speed_integration_does_not_bridge_a_dropout() -> None:
    events = [e for e in steady(0, 600, 3.0, None) if not 200 < e.at < 220]
    run = only_run(events).row
    assert run["distance_m"] == pytest.approx(1800 - 60, abs=0.5)
    assert run["moving_s"] == pytest.approx(580)


def test_reconnect_is_a_new_baseline_never_doubled() -> None:
    events: list[SensorEvent] = [*steady(0, 300, 3.0, 1000.0)]
    events += [Disconnected(POD, "footpod", 300.5), Connected(POD, "footpod", 305)]
    # After the reconnect the counter starts again from where it was (it does on some pods).
    events += steady(306, 600, 3.0, 1900.0 + 18.0)
    run = only_run(events).row
    assert run["distance_m"] == pytest.approx(900 + 294 * 3, abs=0.5)


def test_calibration_factor_scales_distance_and_is_stored() -> None:
    recorder = Recorder(Settings(), epoch=EPOCH, calibrations={POD: 1.02})
    for event in steady(0, 100, 3.0):
        recorder.handle(event)
    recorder.stop()
    (flush,) = recorder.take_flushes()
    assert flush.row["distance_m"] == pytest.approx(306)
    assert flush.row["calibration"] == 1.02


def per_foot_events() -> list[Measurement]:
    return [rsc(t, 3.0, cadence=86) for t in range(120)]


def test_per_foot_cadence_is_detected_and_doubled() -> None:
    flush = only_run(per_foot_events())
    assert flush.row["avg_cadence"] == pytest.approx(172)
    assert flush.row["max_cadence"] == 172
    # Decided after 30 s of it: the samples before that have no cadence, none is 86.
    assert [s[3] for s in flush.samples] == [None] * 30 + [172] * 90


def test_per_foot_cadence_from_settings() -> None:
    settings = validate_settings({"sensors": {"per_foot": [POD.lower()]}})
    events = [rsc(t, 1.8, cadence=80) for t in range(60)]  # too slow to detect
    assert only_run(events, settings).row["avg_cadence"] == pytest.approx(160)
    assert only_run(events).row["avg_cadence"] == pytest.approx(80)


def test_idle_timeout_ends_the_run_at_its_last_movement() -> None:
    settings = validate_settings({"recording": {"idle_timeout_min": 2}})
    events: list[SensorEvent] = [*steady(0, 300, 3.0)]
    # The runner stands with the strap on for five minutes: the run ends at t = 300.
    events += [hr(t, 100) for t in range(301, 600)]
    flushes = record(events, settings)
    assert len(flushes) == 1
    assert flushes[0].row["elapsed_s"] == pytest.approx(300)
    assert flushes[0].row["hr_s"] == 0


def test_footpod_gone_ends_the_run() -> None:
    settings = validate_settings({"recording": {"idle_timeout_min": 1}})
    recorder = Recorder(settings, epoch=EPOCH)
    for event in steady(0, 100, 3.0):
        recorder.handle(event)
    recorder.tick(130)
    assert recorder.state == "running"
    recorder.tick(160)
    assert recorder.state == "idle"
    (flush,) = recorder.take_flushes()
    assert flush.closed
    assert flush.row["elapsed_s"] == pytest.approx(100)


def test_heart_rate_alone_never_keeps_a_run_moving() -> None:
    events: list[SensorEvent] = []
    for t in range(0, 400):
        if t <= 200:
            events.append(rsc(t, 3.0))
        elif t <= 260:
            events.append(rsc(t, 0.0))  # stopped, heart still racing
        events.append(hr(t, 170))
    run = only_run(events).row
    assert run["moving_s"] == pytest.approx(200, abs=1)
    assert run["elapsed_s"] == pytest.approx(200)


def test_trimp_and_zones_by_hand() -> None:
    # 300 s of running: HR 138 (zone 2, 60 % HRR) for the first 100 s of HR, 164 (zone 4,
    # 80 % HRR) for the next 200 s. Each interval counts at the sample that ends it.
    events: list[SensorEvent] = []
    for t in range(0, 301):
        events.append(rsc(t, 3.0))
        events.append(hr(t + 0.5, 138 if t < 101 else 164))
    run = only_run(events).row
    a, b = 0.86, 1.67  # female (Banister 1991)
    by_hand = 100 / 60 * 0.6 * a * math.exp(b * 0.6) + 199 / 60 * 0.8 * a * math.exp(b * 0.8)
    # The last heart-rate sample (t = 300.5) comes after the last movement: not counted.
    assert run["trimp"] == pytest.approx(by_hand)
    assert json.loads(run["zone_s"]) == [0, 0, 100, 0, 199, 0]
    assert run["edwards_trimp"] == pytest.approx(100 / 60 * 2 + 199 / 60 * 4)
    assert run["avg_hr"] == pytest.approx((100 * 138 + 199 * 164) / 299)
    assert run["max_hr"] == 164


def test_heart_rate_without_skin_contact_is_ignored() -> None:
    events: list[SensorEvent] = []
    for t in range(0, 101):
        events.append(rsc(t, 3.0))
        events.append(hr(t + 0.5, 200, contact=False))
    assert only_run(events).row["hr_s"] == 0


def test_hr_only_session() -> None:
    # No footpod: 60 s at 130 (above 40 % HRR) start the session, 10 min at 150 follow.
    events = [hr(t, 130 if t < 60 else 150) for t in range(0, 661)]
    flush = only_run(events)
    run = flush.row
    assert run["hr_only"] == 1
    assert run["distance_m"] == 0
    assert run["elapsed_s"] == pytest.approx(660)
    assert run["moving_s"] == pytest.approx(660)
    heart = HeartProfile(190, 60, "female")
    by_hand = heart.banister(130, 59) + heart.banister(150, 601)
    assert run["trimp"] == pytest.approx(by_hand)
    assert all(s[2] is None and s[4] in (130, 150) for s in flush.samples)


def test_hr_with_a_footpod_around_is_no_session() -> None:
    events: list[SensorEvent] = [Connected(POD, "footpod", 0)]
    events += [hr(t, 150) for t in range(1, 400)]
    assert record(events) == []


def test_samples_have_strictly_increasing_times() -> None:
    events = steady(0, 50, 3.0)
    events.insert(10, rsc(9, 3.0, 27.0))  # a duplicate delivery
    flush = only_run(events)
    times = [s[0] for s in flush.samples]
    assert times == sorted(set(times))
    assert times[0] == EPOCH


def test_flushes_are_stored_in_one_row_per_run(tmp_path: Path) -> None:
    settings = validate_settings({"recording": {"idle_timeout_min": 1}})
    recorder = Recorder(settings, epoch=EPOCH)
    events = [*steady(0, 100, 3.0), *steady(400, 500, 3.0)]  # two runs
    with Store.open(tmp_path / "r.db") as store:
        sink = FlushSink(store)
        for i, event in enumerate(events):
            recorder.handle(event)
            if i % 7 == 0:
                sink.write(recorder.take_flushes())
        recorder.stop()
        sink.write(recorder.take_flushes())
        runs = store.runs()
        assert [round(r.distance_m) for r in runs] == [300, 300]
        assert [len(store.run_samples(r.id)) for r in runs] == [101, 101]
        assert store.open_recordings() == []


def test_resume_continues_the_stored_run(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    with Store.open(path) as store:
        first = Recorder(Settings(), epoch=EPOCH)
        for event in steady(0, 300, 3.0):
            first.handle(event)
        FlushSink(store).write(first.take_flushes())  # then the process dies
    with Store.open(path) as store:
        state = load_state(store)
        assert len(state.open_runs) == 1
        # The new process's clock starts at 0 some 30 s later.
        second = Recorder(Settings(), epoch=EPOCH + 330)
        second.resume(*state.open_runs[0])
        for event in steady(0, 300, 3.0, 0.0):
            second.handle(event)
        second.stop()
        FlushSink(store).write(second.take_flushes())
        (run,) = store.runs()
        assert run.distance_m == pytest.approx(1800, abs=1)
        assert run.elapsed_s == pytest.approx(630)
        assert run.moving_s == pytest.approx(600, abs=3)
        times = [s[0] for s in store.run_samples(run.id)]
        assert times == sorted(set(times))


def test_resume_past_the_idle_limit_closes_what_was_stored(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    with Store.open(path) as store:
        first = Recorder(Settings(), epoch=EPOCH)
        for event in steady(0, 300, 3.0):
            first.handle(event)
        FlushSink(store).write(first.take_flushes())
    with Store.open(path) as store:
        second = Recorder(Settings(), epoch=EPOCH + 3600)
        second.resume(*load_state(store).open_runs[0])
        second.tick(0)
        FlushSink(store).write(second.take_flushes())
        (run,) = store.runs()
        assert run.distance_m == pytest.approx(900)
        assert store.open_recordings() == []
