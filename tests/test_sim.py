"""The simulated footpod and HR strap: realism, ground truth, faults, and the driver."""

from __future__ import annotations

import asyncio
import statistics
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.clock import MonotonicClock, VirtualClock
from agent.sensors.base import (
    BATTERY_LEVEL,
    END_OF_STREAM,
    HEART_RATE_MEASUREMENT,
    RSC_MEASUREMENT,
    BatteryLevel,
    Connected,
    DecodeFailed,
    DecodeStats,
    Disconnected,
    Measurement,
    Notification,
    QueueItem,
    SensorEvent,
    decode_notification,
    decoded_events,
)
from agent.sensors.gatt import HeartRateMeasurement, RSCMeasurement
from agent.sensors.scenario import (
    CounterReset,
    Disconnect,
    Dropout,
    FootpodSpec,
    HeartStrapSpec,
    Malformed,
    RunModel,
    Scenario,
    Segment,
    easy_run,
    intervals,
    steady,
)
from agent.sensors.sim import SimulatedDriver, Simulation, iter_items, iter_notifications

STEADY_30MIN = easy_run(duration_s=1800, speed_mps=3.0)


@cache
def events(scenario: Scenario) -> tuple[SensorEvent, ...]:
    """Every item of the scenario as the shared consumer would decode it."""
    decoded = (
        decode_notification(i) if isinstance(i, Notification) else i for i in iter_items(scenario)
    )
    return tuple(e for e in decoded if isinstance(e, SensorEvent))


def rsc(
    scenario: Scenario, start: float = 0.0, end: float = 1e9
) -> list[tuple[float, RSCMeasurement]]:
    return [
        (e.at, e.value)
        for e in events(scenario)
        if isinstance(e, Measurement)
        and isinstance(e.value, RSCMeasurement)
        and start <= e.at < end
    ]


def hrm(
    scenario: Scenario, start: float = 0.0, end: float = 1e9
) -> list[tuple[float, HeartRateMeasurement]]:
    return [
        (e.at, e.value)
        for e in events(scenario)
        if isinstance(e, Measurement)
        and isinstance(e.value, HeartRateMeasurement)
        and start <= e.at < end
    ]


def mean_bpm(scenario: Scenario, start: float, end: float) -> float:
    return statistics.fmean(m.bpm for _, m in hrm(scenario, start, end))


def counter(scenario: Scenario, start: float = 0.0, end: float = 1e9) -> list[tuple[float, float]]:
    return [
        (t, m.total_distance_m)
        for t, m in rsc(scenario, start, end)
        if m.total_distance_m is not None
    ]


# -- realism -------------------------------------------------------------------------------


def test_steady_run_pace_cadence_stride_and_heart_rate_are_realistic() -> None:
    scenario = Scenario(STEADY_30MIN, seed=3)
    steady_part = [m for _, m in rsc(scenario, 400, 1800)]
    speeds = [m.speed_mps for m in steady_part]
    assert statistics.fmean(speeds) == pytest.approx(3.0, rel=0.01)  # 5:33 /km
    assert all(2.85 < s < 3.15 for s in speeds)
    cadences = [m.cadence_spm for m in steady_part]
    assert all(140 <= c <= 200 for c in cadences)
    assert statistics.fmean(cadences) == pytest.approx(157, abs=2)
    assert statistics.pstdev(cadences) > 0.5  # noisy, like a real footpod
    # stride = two steps: 2 * 3.0 m/s * 60 / 157 steps/min
    assert statistics.fmean(m.stride_length_m or 0 for m in steady_part) == pytest.approx(
        2.29, abs=0.05
    )
    assert all(m.running for m in steady_part)
    bpms = [m.bpm for _, m in hrm(scenario)]
    assert all(55 <= b <= 190 for b in bpms)
    assert 115 < mean_bpm(scenario, 1200, 1800) < 150


def test_cadence_and_heart_rate_follow_intervals() -> None:
    scenario = Scenario(intervals(4, work_s=240, work_mps=4.5, recovery_s=120, recovery_mps=2.3))
    # the last rep: work 1320-1560 s, recovery 1560-1680 s (after a 600 s warm-up)
    work = [m for _, m in rsc(scenario, 1340, 1560)]
    rest = [m for _, m in rsc(scenario, 1580, 1680)]
    assert statistics.fmean(m.cadence_spm for m in work) == pytest.approx(178, abs=3)
    assert statistics.fmean(m.cadence_spm for m in rest) == pytest.approx(147, abs=3)
    assert all(140 <= m.cadence_spm <= 200 for m in work + rest)
    assert mean_bpm(scenario, 1500, 1560) > mean_bpm(scenario, 1650, 1680) + 10


def test_total_distance_counter_matches_integrated_speed_within_1_percent() -> None:
    scenario = Scenario(easy_run(duration_s=3600, speed_mps=3.2), seed=11)
    samples = rsc(scenario)
    integrated = sum(m.speed_mps * 1.0 for _, m in samples[1:])  # 1 Hz notifications
    final = samples[-1][1].total_distance_m
    assert final == pytest.approx(integrated, rel=0.01)
    truth = Simulation(scenario).truth
    assert final == pytest.approx(truth.distance_m, abs=0.1)
    assert truth.distance_m == pytest.approx(3.2 * 3300 + 0.85 * 3.2 * 300, rel=0.002)


def test_uncalibrated_footpod_reads_long_by_its_scale() -> None:
    scenario = Scenario(STEADY_30MIN, footpod=FootpodSpec(scale=1.03))
    truth = Simulation(scenario).truth
    assert counter(scenario)[-1][1] == pytest.approx(1.03 * truth.distance_m, rel=0.001)


def test_heart_rate_lags_a_step_change_in_pace() -> None:
    scenario = Scenario(RunModel((steady(900, 2.5), steady(900, 4.5))), seed=5)
    before = mean_bpm(scenario, 870, 900)
    after = mean_bpm(scenario, 1740, 1800)
    assert after > before + 30
    halfway = (before + after) / 2
    assert mean_bpm(scenario, 910, 920) < halfway  # 10-20 s after the step: still low
    assert mean_bpm(scenario, 960, 970) > mean_bpm(scenario, 910, 920) + 5
    assert mean_bpm(scenario, 1100, 1110) == pytest.approx(after, abs=4)  # settled after ~5 tau


def test_heart_rate_drifts_upward_over_a_long_steady_run() -> None:
    scenario = Scenario(RunModel((steady(7200, 3.0),)), seed=2)
    early = mean_bpm(scenario, 1500, 1800)
    late = mean_bpm(scenario, 6900, 7200)
    assert 5 < late - early < 12  # about 6 bpm per hour of running


def test_rr_intervals_are_consistent_with_heart_rate() -> None:
    scenario = Scenario(STEADY_30MIN, seed=4)
    window = hrm(scenario, 900, 1800)
    rr = [x for _, m in window for x in m.rr_intervals_s]
    assert 60 / statistics.fmean(rr) == pytest.approx(
        statistics.fmean(m.bpm for _, m in window), abs=1.5
    )
    assert all(1 <= len(m.rr_intervals_s) <= 4 for _, m in window)
    assert 0.01 < statistics.pstdev(rr) < 0.05  # some variability, not a metronome


def test_deterministic_from_seed() -> None:
    scenario = Scenario(easy_run(duration_s=600), seed=7, faults=(Malformed(rate=0.05),))
    assert list(iter_items(scenario)) == list(iter_items(scenario))
    other = Scenario(easy_run(duration_s=600), seed=8, faults=(Malformed(rate=0.05),))
    mine = [n.data for n in iter_notifications(scenario)]
    theirs = [n.data for n in iter_notifications(other)]
    assert len(mine) == len(theirs)
    assert mine != theirs


def test_an_hour_long_run_is_generated_in_one_go() -> None:
    notes = list(iter_notifications(Scenario(easy_run(duration_s=3600))))
    by_char = {
        c: sum(n.characteristic == c for n in notes)
        for c in (RSC_MEASUREMENT, HEART_RATE_MEASUREMENT, BATTERY_LEVEL)
    }
    assert by_char == {RSC_MEASUREMENT: 3601, HEART_RATE_MEASUREMENT: 3600, BATTERY_LEVEL: 24}
    times = [n.received_at for n in notes]
    assert times == sorted(times)


def test_start_at_shifts_every_time() -> None:
    scenario = Scenario(easy_run(duration_s=60))
    plain = list(iter_notifications(scenario))
    shifted = list(iter_notifications(scenario, start_at=5000.0))
    assert [n.received_at + 5000.0 for n in plain] == [n.received_at for n in shifted]
    assert [n.data for n in plain] == [n.data for n in shifted]


# -- ground truth, pauses, builders --------------------------------------------------------


def test_pause_at_a_traffic_light_is_in_the_truth_and_the_payloads() -> None:
    run = easy_run(duration_s=1800, speed_mps=2.9).with_standing(30, 30).with_pause(930, 60)
    scenario = Scenario(run)
    truth = Simulation(scenario).truth
    assert truth.moving_from_s == 30.0
    assert len(truth.pauses) == 1
    start, end = truth.pauses[0]
    assert 930 < start < 934  # decelerating from 2.9 m/s takes about 3 s
    assert end == 990.0
    paused = [m for _, m in rsc(scenario, start + 1, end)]
    assert paused
    assert all((m.speed_mps, m.cadence_spm, m.running) == (0.0, 0, False) for m in paused)
    assert truth.moving_until_s is not None
    standing = sum(b - a for a, b in truth.pauses)
    span = truth.moving_until_s - truth.moving_from_s
    assert truth.moving_time_s == pytest.approx(span - standing)
    assert truth.duration_s == 1920.0
    assert 1800 < truth.moving_time_s < 1810
    assert counter(scenario)[-1][1] == pytest.approx(truth.distance_m, abs=0.1)


def test_easy_run_builders() -> None:
    by_distance = Simulation(Scenario(easy_run(distance_m=5000, speed_mps=3.0))).truth
    assert by_distance.distance_m == pytest.approx(5000, rel=0.01)
    short = easy_run(distance_m=400)
    assert [s.label for s in short.segments] == ["warm-up"]
    assert easy_run(duration_s=120).duration_s == 120
    with pytest.raises(ValueError, match="exactly one"):
        easy_run()
    with pytest.raises(ValueError, match="exactly one"):
        easy_run(distance_m=1000, duration_s=300)
    model = intervals(3, work_s=60, recovery_s=30, warm_up_s=300, cool_down_s=120)
    assert [s.label for s in model.segments] == ["warm-up"] + ["work", "rest"] * 3 + ["cool-down"]
    assert model.duration_s == 300 + 3 * 90 + 120
    with pytest.raises(ValueError, match="outside the run"):
        model.with_pause(5000, 30)


@pytest.mark.parametrize(("duration", "speed"), [(0, 3.0), (-5, 3.0), (60, -1.0), (60, 11.0)])
def test_segment_validation(duration: float, speed: float) -> None:
    with pytest.raises(ValueError, match="segment"):
        Segment(duration, speed)


# -- faults --------------------------------------------------------------------------------


def test_dropout_silences_both_devices_but_keeps_the_link() -> None:
    scenario = Scenario(STEADY_30MIN, faults=(Dropout(600, 30),))
    times = [n.received_at for n in iter_notifications(scenario)]
    assert not [t for t in times if 600 <= t < 630]
    assert 599.5 in times
    assert 630.0 in times
    links = [e for e in events(scenario) if isinstance(e, Connected | Disconnected)]
    assert [(type(e).__name__, e.at) for e in links] == [
        ("Connected", 0.0),
        ("Connected", 0.0),
        ("Disconnected", 1800.0),
        ("Disconnected", 1800.0),
    ]


def test_dropout_of_one_device_only() -> None:
    scenario = Scenario(STEADY_30MIN, faults=(Dropout(600, 30, kind="hrm"),))
    assert not hrm(scenario, 600, 630)
    assert len(rsc(scenario, 600, 630)) == 30


def test_disconnect_then_reconnect_restarts_the_footpod_counter() -> None:
    scenario = Scenario(STEADY_30MIN, faults=(Disconnect(600, 20, kind="footpod"),))
    sim = Simulation(scenario)
    footpod_links = [
        (type(e).__name__, e.at)
        for e in events(scenario)
        if e.kind == "footpod" and isinstance(e, Connected | Disconnected)
    ]
    assert footpod_links == [
        ("Connected", 0.0),
        ("Disconnected", 600.0),
        ("Connected", 620.0),
        ("Disconnected", 1800.0),
    ]
    battery = [
        e.at for e in events(scenario) if isinstance(e, BatteryLevel) and e.kind == "footpod"
    ]
    assert 620.0 in battery  # read again after reconnecting
    assert 600.0 not in battery  # no notification while disconnected
    assert not rsc(scenario, 600, 620)
    assert len(hrm(scenario, 600, 620)) == 20  # the strap stays connected
    before = counter(scenario, 0, 600)[-1][1]
    after = counter(scenario, 620)
    assert before == pytest.approx(sim.timeline.sample(599).distance_m, abs=0.1)
    assert after[0][1] == 0.0
    assert after[-1][1] == pytest.approx(
        sim.truth.distance_m - sim.timeline.sample(620).distance_m, abs=0.1
    )
    assert sim.truth.counter_restarts_s == (620.0,)


def test_counter_reset_without_disconnect() -> None:
    scenario = Scenario(STEADY_30MIN, faults=(CounterReset(900),))
    values = dict(counter(scenario))
    assert values[899.0] > 2400
    assert values[900.0] == 0.0
    assert 2.5 < values[901.0] < 3.5
    assert Simulation(scenario).truth.counter_restarts_s == (900.0,)
    assert sum(isinstance(e, Disconnected) for e in events(scenario)) == 2  # only at the end


def test_per_foot_cadence_is_half_and_stride_unchanged() -> None:
    normal = rsc(Scenario(STEADY_30MIN, seed=9), 400)
    per_foot = rsc(Scenario(STEADY_30MIN, seed=9, footpod=FootpodSpec(per_foot=True)), 400)
    assert all(70 <= m.cadence_spm <= 100 for _, m in per_foot)
    assert all(
        abs(2 * b.cadence_spm - a.cadence_spm) <= 1
        for (_, a), (_, b) in zip(normal, per_foot, strict=True)
    )
    assert [a.stride_length_m for _, a in normal] == [b.stride_length_m for _, b in per_foot]


def test_devices_without_optional_fields() -> None:
    scenario = Scenario(
        STEADY_30MIN,
        footpod=FootpodSpec(stride=False, total_distance=False),
        hrm=HeartStrapSpec(contact=False, rr=False),
    )
    assert all(m.stride_length_m is None and m.total_distance_m is None for _, m in rsc(scenario))
    assert all(m.sensor_contact is None and m.rr_intervals_s == () for _, m in hrm(scenario))
    sizes = {n.characteristic: len(n.data) for n in iter_notifications(scenario)}
    assert sizes == {RSC_MEASUREMENT: 4, HEART_RATE_MEASUREMENT: 2, BATTERY_LEVEL: 1}


def test_strap_with_16_bit_heart_rate_and_energy() -> None:
    scenario = Scenario(STEADY_30MIN, hrm=HeartStrapSpec(hr_u16=True, energy=True))
    notes = [n for n in iter_notifications(scenario) if n.characteristic == HEART_RATE_MEASUREMENT]
    assert all(n.data[0] & 0x01 for n in notes)
    energy = [m.energy_expended_kj for _, m in hrm(scenario)]
    present = [e for e in energy if e is not None]
    assert len(present) == len(energy) // 10
    assert present == sorted(present)
    assert present[-1] == pytest.approx(4.184 * 70 * 5.3, rel=0.05)  # ~1 kcal/kg/km


def test_malformed_payloads_at_given_times() -> None:
    scenario = Scenario(STEADY_30MIN, faults=(Malformed(kind="footpod", at_s=(100.2, 200.0)),))
    failed = [e for e in events(scenario) if isinstance(e, DecodeFailed)]
    assert [(e.kind, e.at) for e in failed] == [("footpod", 101.0), ("footpod", 200.0)]
    assert all(e.characteristic == RSC_MEASUREMENT and e.error for e in failed)
    assert Simulation(scenario).truth.malformed == (("footpod", 101.0), ("footpod", 200.0))


def test_malformed_payloads_at_a_rate_are_all_counted() -> None:
    scenario = Scenario(STEADY_30MIN, seed=1, faults=(Malformed(rate=0.05),))
    failed = [(e.kind, e.at) for e in events(scenario) if isinstance(e, DecodeFailed)]
    truth = Simulation(scenario).truth
    assert failed == list(truth.malformed)
    measurements = len(rsc(scenario)) + len(hrm(scenario)) + len(failed)
    assert 0.03 < len(failed) / measurements < 0.07
    assert {kind for kind, _ in failed} == {"footpod", "hrm"}


def test_battery_read_on_connect_and_notified_periodically() -> None:
    spec = FootpodSpec(battery_percent=16, battery_drain_per_h=4.0)
    scenario = Scenario(easy_run(duration_s=3600), footpod=spec, hrm=None)
    levels = [(e.at, e.percent) for e in events(scenario) if isinstance(e, BatteryLevel)]
    assert levels[0] == (0.0, 16)
    assert [t for t, _ in levels[1:]] == [300.0 * k for k in range(1, 13)]
    assert [p for _, p in levels] == sorted((p for _, p in levels), reverse=True)
    assert levels[-1] == (3600.0, 12)
    assert not hrm(scenario)


# -- the shared consumer and the driver ----------------------------------------------------


async def test_driver_delivers_the_scenario_through_queue_and_decoded_events() -> None:
    scenario = Scenario(
        easy_run(duration_s=600),
        seed=5,
        faults=(Disconnect(200, 10, kind="hrm"), Malformed(rate=0.02)),
    )
    clock = VirtualClock(start=1000.0)
    stats = DecodeStats()
    async with SimulatedDriver(scenario, clock=clock) as driver:
        got = [e async for e in decoded_events(driver.queue, stats=stats)]
    assert driver.started_at == 1000.0
    assert clock.now() == 1600.0
    expected = [
        decode_notification(i) if isinstance(i, Notification) else i
        for i in driver.simulation.items(start_at=1000.0)
    ]
    assert got == expected
    assert stats.failed == len(driver.truth.malformed) > 0
    assert (
        stats.decoded
        == sum(isinstance(i, Notification) for i in driver.simulation.items()) - stats.failed
    )
    assert sum(stats.failed_by_address.values()) == stats.failed


async def test_driver_paces_items_by_a_sped_up_real_clock() -> None:
    clock = MonotonicClock(speedup=2000)
    arrivals: list[tuple[float, float]] = []
    async with SimulatedDriver(Scenario(easy_run(duration_s=30)), clock=clock) as driver:
        async for event in decoded_events(driver.queue):
            arrivals.append((clock.now(), event.at))
    assert len(arrivals) == len(list(driver.simulation.items()))
    assert all(now >= at - 0.01 for now, at in arrivals)  # nothing arrives before its time


async def test_driver_stop_mid_run_disconnects_and_ends_the_stream() -> None:
    clock = VirtualClock(auto_advance=False)
    driver = SimulatedDriver(Scenario(easy_run(duration_s=600)), clock=clock)
    await driver.start()
    await asyncio.sleep(0)
    clock.advance(5.0)
    await asyncio.sleep(0)
    await driver.stop()
    await driver.stop()
    got = [e async for e in decoded_events(driver.queue)]
    assert max(e.at for e in got[:-2]) == 5.0
    assert [(type(e).__name__, e.at) for e in got[-2:]] == [("Disconnected", 5.0)] * 2
    assert all(isinstance(e, Disconnected) and e.reason == "driver stopped" for e in got[-2:])
    assert driver.queue.empty()


async def test_driver_without_sentinel_leaves_only_items() -> None:
    scenario = Scenario(easy_run(duration_s=20))
    driver = SimulatedDriver(scenario, clock=VirtualClock(), end_with_sentinel=False)
    await driver.start()
    await driver.wait()
    await driver.stop()
    items: list[QueueItem] = []
    while not driver.queue.empty():
        items.append(driver.queue.get_nowait())
    assert items == list(driver.simulation.items(start_at=0.0))


async def test_decoded_events_passes_events_through_and_never_raises() -> None:
    queue: asyncio.Queue[QueueItem] = asyncio.Queue()
    link = Connected("AA", "hrm", 1.0, "Strap")
    queue.put_nowait(link)
    queue.put_nowait(Notification("AA", "hrm", "2A37", 2.0, b"\x16\x3c\x11\x04"))
    queue.put_nowait(Notification("AA", "hrm", HEART_RATE_MEASUREMENT.upper(), 3.0, b"\x01\x3c"))
    queue.put_nowait(
        Notification("AA", "hrm", "00002a5b-0000-1000-8000-00805f9b34fb", 4.0, b"\x01")
    )
    queue.put_nowait(Notification("AA", "hrm", "0x2a19", 5.0, bytearray(b"\x57")))
    queue.put_nowait(END_OF_STREAM)
    stats = DecodeStats()
    got = [e async for e in decoded_events(queue, stats=stats)]
    assert got[0] is link
    assert got[1] == Measurement(
        "AA", "hrm", 2.0, HeartRateMeasurement(60, True, None, (1041 / 1024,))
    )
    assert isinstance(got[2], DecodeFailed)
    assert "announce" in got[2].error  # a u16 heart rate announced, one byte present
    assert got[2].data == b"\x01\x3c"
    assert isinstance(got[3], DecodeFailed)
    assert got[3].error == "no decoder for characteristic 00002a5b-0000-1000-8000-00805f9b34fb"
    assert got[4] == BatteryLevel("AA", "hrm", 5.0, 87)
    assert (stats.decoded, stats.failed, stats.failed_by_address) == (2, 2, {"AA": 2})
    assert queue.empty()


async def test_decoded_events_is_cancellable_while_waiting() -> None:
    queue: asyncio.Queue[QueueItem] = asyncio.Queue()

    async def consume() -> list[SensorEvent]:
        return [e async for e in decoded_events(queue)]

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@given(
    data=st.binary(max_size=30),
    characteristic=st.sampled_from(
        [RSC_MEASUREMENT, HEART_RATE_MEASUREMENT, BATTERY_LEVEL, "2a53", "x"]
    ),
)
def test_decode_notification_never_raises(data: bytes, characteristic: str) -> None:
    event = decode_notification(Notification("AA", "footpod", characteristic, 1.0, data))
    assert isinstance(event, Measurement | BatteryLevel | DecodeFailed)
    assert event.at == 1.0
