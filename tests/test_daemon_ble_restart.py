"""After kill -9, BlueZ still holds the footpod's connection and the footpod does not
advertise (issue 15, item 3): the restarted daemon takes the connection over at once, without
waiting for an advertisement, subscribes again and goes on with the same run. A real daemon
process, the real bleak backend, the mock BlueZ on a private bus."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from agent.sensors.gatt import RSCMeasurement, encode_rsc_measurement
from tests.bluez.rig import RSC_MEASUREMENT, BluezMock, private_system_bus, spawn_bluez
from tests.daemon_proc import DaemonProcess, daemon

POD = "C0:FF:EE:00:00:01"
RATE_HZ = 4
STEP_M = 0.8  # 3.2 m/s at 4 Hz
ENV = {"STRIDEWATCH_RECORDING__FLUSH_INTERVAL_S": "0.5"}


class Runner:
    """A footpod on a runner: its total-distance counter goes on whatever the daemon does."""

    def __init__(self, bluez: BluezMock) -> None:
        self.bluez = bluez
        self.steps = 0

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds * RATE_HZ)):
            self.step()
            time.sleep(1 / RATE_HZ)

    def step(self) -> bool:
        value = RSCMeasurement(3.2, 170, 1.13, round(self.steps * STEP_M, 1), True)
        self.steps += 1
        return self.bluez.notify(POD, RSC_MEASUREMENT, encode_rsc_measurement(value))


def samples(proc: DaemonProcess) -> int:
    return len(proc.rows("select t from samples"))


def test_a_killed_daemon_takes_the_still_connected_footpod_over(db: Path) -> None:
    env = dict(ENV)
    with private_system_bus() as address:
        env["DBUS_SYSTEM_BUS_ADDRESS"] = address
        with spawn_bluez(address) as bluez:
            bluez.add_sensor(POD, "Stryd", "footpod")
            runner = Runner(bluez)
            with daemon(db, "--device", POD, env=env) as first:
                first.wait_for(
                    lambda: RSC_MEASUREMENT in bluez.state(POD).notifying, 15, "the subscription"
                )
                runner.run(12)
                first.wait_for(lambda: samples(first) > 30, 10, "the first samples")
                first.proc.send_signal(signal.SIGKILL)
                first.proc.wait(10)
            state = bluez.state(POD)
            assert state.connected  # BlueZ keeps the connection of a killed client
            [before] = first.rows("select * from runs")
            assert before["status"] == "open"
            stored = samples(first)

            with daemon(db, "--device", POD, env=env) as second:
                second.logged(f"{POD}: already connected in BlueZ; taking the connection over")
                # The runner never stopped: steps until the new subscription carries them.
                second.wait_for(
                    lambda: runner.step() and samples(second) > stored, 15, "new samples"
                )
                runner.run(25)
                second.wait_for(lambda: samples(second) > stored + 80, 10, "the run going on")
                assert bluez.connect_calls(POD) == 1  # taken over, never connected again
                assert bluez.violations() == []
                second.stop()
    assert "was left open: resuming it" in second.stderr()
    [run] = second.rows("select * from runs")
    assert run["id"] == before["id"]
    assert run["status"] == "closed"
    assert run["moving_s"] > 30
    rows = second.rows("select t, distance_m from samples order by t")
    distances = [row["distance_m"] for row in rows]
    assert distances == sorted(distances)
    assert distances[-1] == pytest.approx(run["distance_m"], abs=0.001)  # samples: to the mm
    assert run["distance_m"] > before["distance_m"]
