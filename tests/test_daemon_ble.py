"""The daemon as a real process against the mock BlueZ: no Bluetooth at first (logged and
retried), then it connects to the allow-listed footpod when it appears, records the run
from its notifications through a drop and reconnect, and closes the run after the idle time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent.sensors.gatt import RSCMeasurement, encode_rsc_measurement
from tests.bluez.rig import RSC_MEASUREMENT, BluezMock, private_system_bus, spawn_bluez
from tests.daemon_proc import DaemonProcess, daemon

POD = "C0:FF:EE:00:00:01"
RATE_HZ = 4
STEP_M = 0.8  # 3.2 m/s at 4 Hz: whole decimetres, as the RSC total distance counts
# The recorder keeps a run only after 30 s of moving time (recorder.MIN_RUN_S), so the
# runner runs 18 s, loses the footpod, and runs 16 s more once it is back.
BEFORE_DROP = 18 * RATE_HZ
AFTER_DROP = 16 * RATE_HZ


def run_on(bluez: BluezMock, payloads: int) -> None:
    """Push ``payloads`` RSC notifications in real time; the counter restarts at 0 as a
    footpod's does after a reconnect."""
    for k in range(payloads):
        value = RSCMeasurement(3.2, 170, 1.13, round(k * STEP_M, 1), True)
        assert bluez.notify(POD, RSC_MEASUREMENT, encode_rsc_measurement(value))
        time.sleep(1 / RATE_HZ)


def subscribed(bluez: BluezMock) -> bool:
    state = bluez.state(POD)
    return state.connected and RSC_MEASUREMENT in state.notifying


def test_footpod_appears_is_recorded_through_a_drop_and_the_run_closes(db: Path) -> None:
    env = {
        # 6 s: longer than a reconnect takes on a loaded machine (back-off starts at 2 s),
        # or the drop would end the run before the footpod is back.
        "STRIDEWATCH_RECORDING__IDLE_TIMEOUT_MIN": "0.1",
        "STRIDEWATCH_RECORDING__FLUSH_INTERVAL_S": "0.5",
    }
    with private_system_bus() as address:
        env["DBUS_SYSTEM_BUS_ADDRESS"] = address
        with daemon(db, "--device", POD.lower(), env=env) as proc:
            # No bluetoothd on the bus yet: one clear line, and the daemon keeps going.
            proc.logged("sensors: bluetoothd is not running")
            with spawn_bluez(address) as bluez:
                proc.logged(f"sensors: watching for {POD.lower()}")
                bluez.add_sensor(POD, "Stryd", "footpod")
                proc.wait_for(lambda: subscribed(bluez), 15, "the footpod to be connected")
                record(proc, bluez)
                assert bluez.violations() == []
                assert proc.stop() < 5.0
    [run] = proc.rows("select * from runs")
    assert run["source"] == "ble"
    assert run["device"] == POD
    # Counter deltas on both sides of the drop; the gap itself is not guessed at. A footpod
    # may notify before the central's subscription is live again (a real device does too):
    # on a loaded machine the first notification after the reconnect can be missed, which
    # loses at most one step; never more, and never a doubled or invented step.
    expected = (BEFORE_DROP - 1 + AFTER_DROP - 1) * STEP_M
    assert expected - STEP_M - 0.05 < run["distance_m"] < expected + 0.05
    assert run["moving_s"] > 30
    samples = proc.rows("select t, distance_m from samples where run_id = ? order by t", run["id"])
    assert BEFORE_DROP + AFTER_DROP - 1 <= len(samples) <= BEFORE_DROP + AFTER_DROP
    # Samples keep distance to the millimetre (agent/store/samples.py), the run's total as is.
    assert samples[-1]["distance_m"] == pytest.approx(run["distance_m"], abs=0.0005)


def record(proc: DaemonProcess, bluez: BluezMock) -> None:
    run_on(bluez, BEFORE_DROP)
    bluez.drop(POD)
    proc.wait_for(lambda: not subscribed(bluez), 5, "the drop")
    proc.wait_for(lambda: subscribed(bluez), 15, "the reconnect")
    [during] = proc.rows("select status from runs")
    assert during["status"] == "open"
    run_on(bluez, AFTER_DROP)
    closed = "select * from runs where status = 'closed'"
    proc.wait_for(lambda: proc.rows(closed), 20, "the run to close after the idle time")
    assert proc.proc.poll() is None
    assert len(bluez.state(POD).connect_times) == 2
