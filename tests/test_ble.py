"""The BLE driver through bleak's real BlueZ backend, against a mock BlueZ on a private bus."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import TypeVar

import pytest

from agent.sensors.base import (
    BATTERY_LEVEL,
    HEART_RATE_MEASUREMENT,
    RSC_MEASUREMENT,
    BatteryLevel,
    Connected,
    DecodeFailed,
    DecodeStats,
    Disconnected,
    LowBatteryPolicy,
    Measurement,
    SensorEvent,
    decoded_events,
    low_battery_due,
)
from agent.sensors.ble import (
    BleDriver,
    BleTimings,
    BluetoothUnavailableError,
    backoff,
    scan,
)
from agent.sensors.gatt import (
    HeartRateMeasurement,
    RSCFeature,
    RSCMeasurement,
    encode_heart_rate,
    encode_rsc_measurement,
)
from tests.bluez.rig import BluezMock

pytest_plugins = ["tests.bluez.fixtures"]  # the bluez and system_bus fixtures

POD = "C0:FF:EE:00:00:01"
STRAP = "C0:FF:EE:00:00:02"
STRANGER = "D0:0D:00:00:00:09"
# Tests shrink back-off so a reconnect takes a fraction of a second.
FAST = BleTimings(backoff_base_s=0.05, backoff_cap_s=0.2, stable_session_s=60.0, max_attempts=1)
E = TypeVar("E", bound=SensorEvent)

STEADY = RSCMeasurement(3.25, 172, 1.13, 1234.5, True)
BEAT = HeartRateMeasurement(148, True, None, (0.40625,))


class Clock:
    """An injectable clock: every reading is one second later than the last."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@asynccontextmanager
async def running(driver: BleDriver) -> AsyncIterator[AsyncIterator[SensorEvent]]:
    await driver.start()
    try:
        yield decoded_events(driver.queue)
    finally:
        await driver.stop()


async def next_event(
    events: AsyncIterator[SensorEvent], kind: type[E], address: str, timeout: float = 5.0
) -> E:
    """The next ``kind`` event of ``address``; other events are skipped."""
    async with asyncio.timeout(timeout):
        async for event in events:
            if isinstance(event, kind) and event.address == address:
                return event
    raise AssertionError("the event stream ended")


async def until_notified(bluez: BluezMock, address: str, uuid: str, data: bytes) -> None:
    """Send once the driver has subscribed (the mock refuses unsubscribed notifications)."""
    async with asyncio.timeout(5):
        while not bluez.notify(address, uuid, data):
            await asyncio.sleep(0.01)


# -- pure policies ----------------------------------------------------------------------


def test_backoff_doubles_then_stays_at_the_cap() -> None:
    assert [backoff(n, 2.0, 60.0) for n in range(0, 8)] == [0, 2, 4, 8, 16, 32, 60, 60]
    assert backoff(10_000) == 60.0  # no overflow however long a sensor stays away


def test_low_battery_is_reported_once_per_device_per_day() -> None:
    monday = date(2026, 11, 23)
    assert low_battery_due(15, monday, None)
    assert not low_battery_due(16, monday, None)
    assert not low_battery_due(10, monday, monday)
    assert low_battery_due(10, monday + timedelta(days=1), monday)
    policy = LowBatteryPolicy(threshold=20)
    low = BatteryLevel(POD, "footpod", 0.0, percent=12)
    assert [policy.check(low, monday), policy.check(low, monday)] == [True, False]
    assert policy.check(BatteryLevel(STRAP, "hrm", 0.0, percent=20), monday)
    assert policy.check(low, monday + timedelta(days=1))


# -- discovery ----------------------------------------------------------------------------


async def test_scan_lists_footpods_and_straps_strongest_first(bluez: BluezMock) -> None:
    bluez.add_sensor(POD, "Stryd", "footpod", rssi=-70)
    bluez.add_sensor(STRAP, "Polar H10", "hrm", rssi=-50)
    bluez.add_sensor("C0:FF:EE:00:00:03", "Bike speed", "other", rssi=-40)
    bluez.add_sensor("C0:FF:EE:00:00:04", "Sleeping pod", "footpod", advertising=False)
    found = await scan(0.4)
    assert [(c.address, c.name, c.kind, c.rssi) for c in found] == [
        (STRAP, "Polar H10", "hrm", -50),
        (POD, "Stryd", "footpod", -70),
    ]


async def test_stranger_footpod_is_never_connected(bluez: BluezMock) -> None:
    bluez.add_sensor(STRANGER, "Next lane", "footpod", rssi=-40)
    bluez.add_sensor(POD, "Stryd", "footpod", rssi=-80)
    async with running(BleDriver([POD], timings=FAST)) as events:
        await next_event(events, Connected, POD)
        await asyncio.sleep(0.3)  # the stranger keeps advertising, louder
    assert bluez.connect_calls(POD) == 1
    assert bluez.connect_calls(STRANGER) == 0


# -- connect, notify, decode ----------------------------------------------------------------


async def test_footpod_and_strap_stream_together(bluez: BluezMock) -> None:
    bluez.add_sensor(POD, "Stryd", "footpod", battery=80, rsc_feature=0b00111)
    bluez.add_sensor(STRAP, "Polar H10", "hrm", battery=55, battery_notifies=False)
    clock = Clock()
    driver = BleDriver([POD, STRAP.lower()], clock=clock, timings=FAST)
    async with running(driver) as events:
        connected = {(await next_event(events, Connected, a)).name for a in (POD, STRAP)}
        await until_notified(bluez, POD, RSC_MEASUREMENT, encode_rsc_measurement(STEADY))
        await until_notified(bluez, STRAP, HEART_RATE_MEASUREMENT, encode_heart_rate(BEAT))
        stride = await next_event(events, Measurement, POD)
        beat = await next_event(events, Measurement, STRAP)
        assert bluez.set_battery(POD, 14)  # the footpod notifies its battery
        battery = await next_event(events, BatteryLevel, POD)
        subscribed = {a: set(bluez.state(a).notifying) for a in (POD, STRAP)}
    assert connected == {"Stryd", "Polar H10"}
    assert (stride.kind, stride.value) == ("footpod", STEADY)
    assert (beat.kind, beat.value) == ("hrm", BEAT)
    assert 1000 < stride.at <= clock.now
    assert 1000 < beat.at <= clock.now
    assert battery.percent == 14
    assert driver.features[POD] == RSCFeature(True, True, True, False, False)
    assert subscribed == {POD: {RSC_MEASUREMENT, BATTERY_LEVEL}, STRAP: {HEART_RATE_MEASUREMENT}}
    assert bluez.violations() == []  # never connected while discovering


async def test_battery_is_read_on_connect(bluez: BluezMock) -> None:
    bluez.add_sensor(STRAP, "Polar H10", "hrm", battery=55, battery_notifies=False)
    async with running(BleDriver([STRAP], timings=FAST)) as events:
        battery = await next_event(events, BatteryLevel, STRAP)
    assert (battery.kind, battery.percent) == ("hrm", 55)


async def test_malformed_payloads_are_counted_and_skipped(bluez: BluezMock) -> None:
    bluez.add_sensor(POD, "Stryd", "footpod")
    stats = DecodeStats()
    driver = BleDriver([POD], timings=FAST)
    await driver.start()
    try:
        events = decoded_events(driver.queue, stats=stats)
        await next_event(events, Connected, POD)
        short = encode_rsc_measurement(STEADY)[:3]  # required cadence cut short
        for payload in (short, b"", b"\x03\x00"):
            await until_notified(bluez, POD, RSC_MEASUREMENT, payload)
        await until_notified(bluez, POD, RSC_MEASUREMENT, encode_rsc_measurement(STEADY))
        failed = [await next_event(events, DecodeFailed, POD) for _ in range(3)]
        good = await next_event(events, Measurement, POD)
    finally:
        await driver.stop()
    assert [f.data for f in failed] == [short, b"", b"\x03\x00"]
    assert stats.failed_by_address == {POD: 3}
    assert good.value == STEADY
    assert len(bluez.state(POD).connect_times) == 1  # no reconnect: it never crashed


# -- drops, reconnects, back-off ---------------------------------------------------------------


async def test_remote_drop_then_reconnect_and_resume(bluez: BluezMock) -> None:
    bluez.add_sensor(POD, "Stryd", "footpod")
    bluez.add_sensor(STRAP, "Polar H10", "hrm")
    async with running(BleDriver([POD, STRAP], timings=FAST)) as events:
        await next_event(events, Connected, STRAP)
        await until_notified(bluez, POD, RSC_MEASUREMENT, encode_rsc_measurement(STEADY))
        await next_event(events, Measurement, POD)
        bluez.drop(POD)
        dropped = await next_event(events, Disconnected, POD)
        await next_event(events, Connected, POD)
        later = RSCMeasurement(3.5, 176, None, 12.5, True)  # the counter restarted
        await until_notified(bluez, POD, RSC_MEASUREMENT, encode_rsc_measurement(later))
        resumed = await next_event(events, Measurement, POD)
        await until_notified(bluez, STRAP, HEART_RATE_MEASUREMENT, encode_heart_rate(BEAT))
        strap = await next_event(events, Measurement, STRAP)
    assert dropped.reason == "connection lost"
    assert resumed.value == later
    assert strap.value == BEAT  # the strap was not disturbed by the footpod's drop
    assert len(bluez.state(POD).connect_times) == 2
    assert len(bluez.state(STRAP).connect_times) == 1
    assert bluez.violations() == []


async def test_silent_sensor_is_waited_for_not_polled(bluez: BluezMock) -> None:
    bluez.add_sensor(POD, "Stryd", "footpod")
    async with running(BleDriver([POD], timings=FAST)) as events:
        await next_event(events, Connected, POD)
        bluez.set_advertising(POD, False)  # the runner walked off with it, or it slept
        bluez.drop(POD)
        await next_event(events, Disconnected, POD)
        await asyncio.sleep(0.6)
        attempts_while_silent = len(bluez.state(POD).connect_times)
        bluez.set_advertising(POD, True)
        await next_event(events, Connected, POD)
    assert attempts_while_silent == 1
    assert len(bluez.state(POD).connect_times) == 2


async def test_unreachable_sensor_gets_capped_backoff_not_a_busy_loop(bluez: BluezMock) -> None:
    bluez.add_sensor(POD, "Stryd", "footpod", connect_error="le-connection-abort-by-remote")
    timings = BleTimings(backoff_base_s=0.1, backoff_cap_s=0.4, max_attempts=1)
    driver = BleDriver([POD], timings=timings)
    async with running(driver):
        await asyncio.sleep(2.5)
    times = bluez.state(POD).connect_times
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Each round: one Connect, bleak_retry_connector's 0.25 s D-Bus back-off, then ours.
    assert 3 <= len(times) <= 8, times
    assert all(gap >= backoff(n, 0.1, 0.4) for n, gap in enumerate(gaps, start=1)), gaps
    assert max(gaps) < 0.4 + 0.25 + 0.5, gaps  # capped: it keeps trying, a round at a time
    assert len(times) - 1 <= driver.connect_failures[POD] <= len(times)  # one may be in flight
    assert bluez.violations() == []


async def test_stop_disconnects_and_ends_the_stream(bluez: BluezMock) -> None:
    bluez.add_sensor(POD, "Stryd", "footpod")
    driver = BleDriver([POD], timings=FAST)
    await driver.start()
    events = decoded_events(driver.queue)
    await next_event(events, Connected, POD)
    await driver.stop()
    await driver.stop()  # idempotent
    rest = [event async for event in events]
    assert [(type(e), getattr(e, "reason", None)) for e in rest] == [(Disconnected, "stopped")]
    assert not bluez.state(POD).connected


# -- errors a runner can act on -------------------------------------------------------------


async def test_missing_adapter_is_reported_with_advice(bluez: BluezMock) -> None:
    bluez.remove_adapter()
    with pytest.raises(BluetoothUnavailableError, match="adapter not found: is bluetoothd"):
        await BleDriver([POD]).start()


async def test_bluetoothd_not_running_is_reported_with_advice(system_bus: str) -> None:
    with pytest.raises(BluetoothUnavailableError, match="bluetoothd is not running"):
        await scan(0.1)


async def test_one_device_with_both_services_streams_both(bluez: BluezMock) -> None:
    # A Wahoo TICKR X or a treadmill bridge: Heart Rate and RSC on one connection.
    bluez.add_sensor(POD, "TICKR X", "footpod+hrm", battery=70)
    driver = BleDriver([POD], clock=Clock(), timings=FAST)
    async with running(driver) as events:
        kinds = {(await next_event(events, Connected, POD)).kind for _ in range(2)}
        await until_notified(bluez, POD, RSC_MEASUREMENT, encode_rsc_measurement(STEADY))
        await until_notified(bluez, POD, HEART_RATE_MEASUREMENT, encode_heart_rate(BEAT))
        values = {}
        while len(values) < 2:
            event = await next_event(events, Measurement, POD)
            values[event.kind] = event.value
        notifying = set(bluez.state(POD).notifying)
    assert kinds == {"footpod", "hrm"}
    assert values == {"footpod": STEADY, "hrm": BEAT}
    assert {RSC_MEASUREMENT, HEART_RATE_MEASUREMENT} <= notifying


async def test_scan_shows_both_services_of_one_device(bluez: BluezMock) -> None:
    bluez.add_sensor(POD, "TICKR X", "footpod+hrm")
    found = await scan(1.0)
    assert [(c.address, c.kind, c.kinds) for c in found] == [
        (POD, "footpod+hrm", ("footpod", "hrm"))
    ]
