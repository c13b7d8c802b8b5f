"""The daemon as a real process against the mock BlueZ, with one device offering both the
Running Speed and Cadence and the Heart Rate service (a Wahoo TICKR X, a treadmill bridge):
both are subscribed, and the run it records has its distance and its heart rate."""

from __future__ import annotations

import time
from pathlib import Path

from agent.sensors.gatt import (
    HeartRateMeasurement,
    RSCMeasurement,
    encode_heart_rate,
    encode_rsc_measurement,
)
from tests.bluez.rig import (
    HEART_RATE_MEASUREMENT,
    RSC_MEASUREMENT,
    BluezMock,
    private_system_bus,
    spawn_bluez,
)
from tests.daemon_proc import daemon

DEVICE = "C0:FF:EE:00:00:07"
RATE_HZ = 4
STEP_M = 0.8  # 3.2 m/s at 4 Hz
SECONDS = 34  # past the recorder's 30 s minimum run


def both_subscribed(bluez: BluezMock) -> bool:
    state = bluez.state(DEVICE)
    wanted = {RSC_MEASUREMENT, HEART_RATE_MEASUREMENT}
    return state.connected and wanted <= set(state.notifying)


def test_one_device_gives_the_run_its_distance_and_heart_rate(db: Path) -> None:
    env = {
        "STRIDEWATCH_RECORDING__IDLE_TIMEOUT_MIN": "0.1",
        "STRIDEWATCH_RECORDING__FLUSH_INTERVAL_S": "0.5",
    }
    with private_system_bus() as address:
        env["DBUS_SYSTEM_BUS_ADDRESS"] = address
        with spawn_bluez(address) as bluez:
            bluez.add_sensor(DEVICE, "TICKR X", "footpod+hrm")
            with daemon(db, "--device", DEVICE, env=env) as proc:
                proc.wait_for(lambda: both_subscribed(bluez), 20, "both services subscribed")
                for k in range(SECONDS * RATE_HZ):
                    stride = RSCMeasurement(3.2, 170, 1.13, round(k * STEP_M, 1), True)
                    assert bluez.notify(DEVICE, RSC_MEASUREMENT, encode_rsc_measurement(stride))
                    if k % RATE_HZ == 0:
                        beat = HeartRateMeasurement(150, None, None, ())
                        assert bluez.notify(DEVICE, HEART_RATE_MEASUREMENT, encode_heart_rate(beat))
                    time.sleep(1 / RATE_HZ)
                closed = "select * from runs where status = 'closed'"
                proc.wait_for(lambda: proc.rows(closed), 20, "the run to close")
                assert proc.stop() < 5.0
    [run] = proc.rows("select * from runs")
    assert run["device"] == DEVICE
    assert run["distance_m"] > 100
    assert run["avg_hr"] == 150
    beats = proc.rows("select count(*) as n from samples where hr = 150")
    assert beats[0]["n"] > 0
