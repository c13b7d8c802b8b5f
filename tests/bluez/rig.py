"""The mock-BlueZ test rig: a private system bus, the ``bluez_gatt`` template, and a handle.

bleak's real BlueZ backend talks to whatever answers as ``org.bluez`` on the system bus named
by ``DBUS_SYSTEM_BUS_ADDRESS``. This module starts a private ``dbus-daemon``, spawns
``python -m dbusmock --template tests/bluez/bluez_gatt.py`` on it, and hands back a
:class:`BluezMock` to add sensors and drive them. No hardware, no bluetoothd, no mock of bleak.

In pytest, name ``tests.bluez.fixtures`` as a plugin of the test module; its ``bluez``
fixture sets ``DBUS_SYSTEM_BUS_ADDRESS`` for the test through monkeypatch and kills the mock
and the bus afterwards::

    from tests.bluez.rig import BluezMock

    pytest_plugins = ["tests.bluez.fixtures"]  # the bluez and system_bus fixtures

    async def test_x(bluez: BluezMock) -> None:
        bluez.add_sensor("C0:FF:EE:00:00:01", "Stryd", "footpod")
        ...

Across processes (``stridewatch run`` as a subprocess) share the bus address only: pass
``{"DBUS_SYSTEM_BUS_ADDRESS": bluez.bus_address}`` in the child's environment and keep
driving the mock from the test through the same :class:`BluezMock`.

Outside pytest: ``with private_system_bus() as address, spawn_bluez(address) as mock: ...``.

Control methods (``org.freedesktop.DBus.Mock`` on ``/``; see ``bluez_gatt.py``): ``AddSensor``,
``SetAdvertising``, ``SetConnectError``, ``EmitNotification``, ``SetBattery``,
``DropConnection``, ``RemoveSensor``, ``RemoveAdapter``, ``SensorState``,
``Violations``; and on each device object dbusmock's own call log (``GetMethodCalls("Connect")``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dbus
import pytest

TEMPLATE = Path(__file__).with_name("bluez_gatt.py")
MOCK_IFACE = "org.freedesktop.DBus.Mock"
BASE_UUID = "0000{:04x}-0000-1000-8000-00805f9b34fb"
RSC_MEASUREMENT = BASE_UUID.format(0x2A53)
HEART_RATE_MEASUREMENT = BASE_UUID.format(0x2A37)
BATTERY_LEVEL = BASE_UUID.format(0x2A19)
# Sensors re-announce this often while the adapter discovers; small so tests stay fast.
ANNOUNCE_INTERVAL_MS = 50
START_TIMEOUT_S = 10.0

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <keep_umask/>
  <listen>unix:path={socket}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass(frozen=True)
class SensorState:
    """What the mock knows about one sensor."""

    connected: bool
    advertising: bool
    notifying: tuple[str, ...]
    connect_times: tuple[float, ...]


class BluezMock:
    """A handle on a running ``bluez_gatt`` mock: add sensors, notify, drop, inspect."""

    def __init__(self, bus_address: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.bus_address = bus_address
        self.process = process
        self.log = log
        self._conn = dbus.bus.BusConnection(bus_address)
        self._mock = dbus.Interface(self._conn.get_object("org.bluez", "/"), MOCK_IFACE)

    def close(self) -> None:
        self._conn.close()

    def add_sensor(self, address: str, name: str, kind: str, **options: Any) -> str:
        """Add a ``footpod``, ``hrm`` or ``other`` peripheral; see ``AddSensor`` for options."""
        typed = {key: _variant(key, value) for key, value in options.items()}
        return str(
            self._mock.AddSensor(address, name, kind, dbus.Dictionary(typed, signature="sv"))
        )

    def set_advertising(self, address: str, advertising: bool) -> None:
        self._mock.SetAdvertising(address, advertising)

    def set_connect_error(self, address: str, message: str) -> None:
        self._mock.SetConnectError(address, message)

    def notify(self, address: str, uuid: str, data: bytes) -> bool:
        """Send a notification; False when the characteristic is not subscribed."""
        payload = dbus.Array([dbus.Byte(b) for b in data], signature="y")
        return bool(self._mock.EmitNotification(address, uuid, payload))

    def set_battery(self, address: str, percent: int) -> bool:
        return bool(self._mock.SetBattery(address, dbus.Byte(percent)))

    def drop(self, address: str) -> None:
        """A remote drop: ``Connected=False`` while the client still holds the connection."""
        self._mock.DropConnection(address)

    def remove(self, address: str) -> None:
        self._mock.RemoveSensor(address)

    def state(self, address: str) -> SensorState:
        raw = self._mock.SensorState(address)
        return SensorState(
            connected=bool(raw["connected"]),
            advertising=bool(raw["advertising"]),
            notifying=tuple(str(u) for u in raw["notifying"]),
            connect_times=tuple(float(t) for t in raw["connect_times"]),
        )

    def connect_calls(self, address: str) -> int:
        """How often ``Device1.Connect`` was called, from dbusmock's own call log."""
        path = f"/org/bluez/hci0/dev_{address.upper().replace(':', '_')}"
        device = dbus.Interface(self._conn.get_object("org.bluez", path), MOCK_IFACE)
        return len(device.GetMethodCalls("Connect"))

    def remove_adapter(self) -> None:
        """Unplug hci0."""
        self._mock.RemoveAdapter()

    def violations(self) -> list[str]:
        """Protocol rules the client broke (e.g. Connect while discovering)."""
        return [str(v) for v in self._mock.Violations()]


def _variant(key: str, value: Any) -> Any:
    if isinstance(value, bool):
        return dbus.Boolean(value)
    if key == "rssi":
        return dbus.Int16(value)
    if key == "rsc_feature":
        return dbus.UInt16(value)
    if isinstance(value, int):
        return dbus.Int32(value)
    return dbus.String(value)


@contextmanager
def private_system_bus() -> Iterator[str]:
    """Run a private ``dbus-daemon`` of type system; yield its address."""
    folder = Path(tempfile.mkdtemp(prefix="swbus-"))  # short: socket paths max 108 bytes
    config = folder / "bus.conf"
    config.write_text(BUS_CONFIG.format(socket=folder / "system_bus_socket"))
    daemon = subprocess.Popen(
        ["dbus-daemon", "--nofork", f"--config-file={config}", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # its only output here: "failed to set fd limit" noise
    )
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().decode().strip()
        daemon.stdout.close()
        assert address.startswith("unix:"), f"dbus-daemon printed {address!r}"
        yield address
    finally:
        _stop(daemon)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def spawn_bluez(bus_address: str, log: Path | None = None) -> Iterator[BluezMock]:
    """Spawn the ``bluez_gatt`` template on ``bus_address``; yield a :class:`BluezMock`."""
    log = log or Path(tempfile.mkstemp(prefix="bluez-mock-", suffix=".log")[1])
    params = json.dumps({"announce_interval_ms": ANNOUNCE_INTERVAL_MS})
    argv = [sys.executable, "-m", "dbusmock", "--system", "--template", str(TEMPLATE)]
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus_address}
    process = subprocess.Popen(
        [*argv, "-p", params, "-l", str(log)], env=env, stdout=subprocess.DEVNULL
    )
    try:
        _wait_for_name(bus_address, "org.bluez", process)
        mock = BluezMock(bus_address, process, log)
        try:
            yield mock
        finally:
            mock.close()
    finally:
        _stop(process)


def _wait_for_name(bus_address: str, name: str, process: subprocess.Popen[bytes]) -> None:
    conn = dbus.bus.BusConnection(bus_address)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not conn.name_has_owner(name):
            assert process.poll() is None, f"the mock exited with {process.returncode}"
            assert time.monotonic() < deadline, f"{name} did not appear on the bus"
            time.sleep(0.02)
    finally:
        conn.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Poll ``predicate`` (blocking) until true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.01)
