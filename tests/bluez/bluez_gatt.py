"""python-dbusmock template: BlueZ with BLE footpods and heart-rate straps that speak GATT.

It extends the stock ``bluez5`` template (object manager at ``/``, ``/org/bluez``, adapters)
with what bleak's BlueZ backend needs from a peripheral: ``org.bluez.Device1`` objects whose
advertisement properties have the types BlueZ gives them (ManufacturerData and ServiceData
are dicts, not arrays), ``Connect`` that exports ``GattService1``/``GattCharacteristic1``
objects and ends with ``ServicesResolved=True``, notifications as ``PropertiesChanged`` of
``Value``, and a remote drop as ``Connected=False``.

Advertising is simulated the way bleak sees it: while the adapter is discovering, every
advertising, unconnected sensor whose UUIDs pass the discovery filter re-announces its RSSI
every ``announce_interval_ms`` (a template parameter, default 100). An announcement that
happened before ``StartDiscovery`` does not count for bleak, so a timer is the faithful model.

Control it through ``org.freedesktop.DBus.Mock`` on ``/`` (see ``tests/bluez/rig.py`` for a
typed wrapper): ``AddSensor``, ``SetAdvertising``, ``SetConnectError``, ``EmitNotification``,
``SetBattery``, ``DropConnection``, ``RemoveSensor``, ``RemoveAdapter``, ``SensorState``,
``Violations``.

This file runs inside the dbusmock process (``python -m dbusmock --template <this file>``).
"""

import ctypes
import time
from dataclasses import dataclass, field
from typing import Any

import dbus
import dbus.exceptions
from dbusmock import MOCK_IFACE, OBJECT_MANAGER_IFACE, mockobject
from dbusmock.templates import bluez5

BUS_NAME = bluez5.BUS_NAME
MAIN_OBJ = bluez5.MAIN_OBJ
SYSTEM_BUS = True
IS_OBJECT_MANAGER = True

ADAPTER = "hci0"
ADAPTER_PATH = "/org/bluez/" + ADAPTER
ADAPTER_IFACE = bluez5.ADAPTER_IFACE
DEVICE_IFACE = bluez5.DEVICE_IFACE
SERVICE_IFACE = "org.bluez.GattService1"
CHAR_IFACE = "org.bluez.GattCharacteristic1"
BASE_UUID = "0000{:04x}-0000-1000-8000-00805f9b34fb"

# (service, [(characteristic, flags)]) per sensor kind; handles follow BlueZ's path naming
# (serviceXXXX/charYYYY, hex attribute handles) because bleak parses handles from paths.
BATTERY = (0x180F, [(0x2A19, ["read", "notify"])])
PROFILES: dict[str, list[tuple[int, list[tuple[int, list[str]]]]]] = {
    "footpod": [
        (0x1814, [(0x2A53, ["notify"]), (0x2A54, ["read"]), (0x2A55, ["write", "indicate"])]),
        BATTERY,
    ],
    "hrm": [(0x180D, [(0x2A37, ["notify"]), (0x2A38, ["read"])]), BATTERY],
    # One peripheral with both services: a Wahoo TICKR X, a treadmill bridge.
    "footpod+hrm": [
        (0x1814, [(0x2A53, ["notify"]), (0x2A54, ["read"]), (0x2A55, ["write", "indicate"])]),
        (0x180D, [(0x2A37, ["notify"]), (0x2A38, ["read"])]),
        BATTERY,
    ],
    "other": [(0x1816, [(0x2A5B, ["notify"])])],
}
DEFAULT_VALUES = {0x2A54: b"\x07\x00", 0x2A38: b"\x01", 0x2A19: b"\x5a"}


@dataclass
class Sensor:
    """Mock-side state of one peripheral."""

    address: str
    kind: str
    path: str
    advertising: bool = True
    connected: bool = False
    battery_notifies: bool = True
    battery: bytes | None = b"\x5a"
    connect_error: str = ""
    connect_times: list[float] = field(default_factory=list)
    chars: dict[str, str] = field(default_factory=dict)  # full UUID -> object path
    values: dict[str, bytes] = field(default_factory=dict)

    def uuids(self) -> list[str]:
        return [BASE_UUID.format(service) for service, _ in self._profile()]

    def _profile(self) -> list[tuple[int, list[tuple[int, list[str]]]]]:
        profile = PROFILES[self.kind]
        return [entry for entry in profile if entry[0] != 0x180F or self.battery is not None]


SENSORS: dict[str, Sensor] = {}
VIOLATIONS: list[str] = []
_TIMERS: list[Any] = []  # keeps the ctypes callbacks alive


def load(mock: Any, parameters: dict[str, Any]) -> None:
    bluez5.load(mock, parameters)
    mockobject.objects[MAIN_OBJ] = mock  # dbusmock registers it only after load()
    bluez5.AddAdapter(mock, ADAPTER, "stridewatch-test")
    interval = int(parameters.get("announce_interval_ms", 100))
    libglib = ctypes.cdll.LoadLibrary("libglib-2.0.so.0")
    callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)(_announce)
    _TIMERS.append(callback)
    libglib.g_timeout_add(interval, callback, None)


def _announce(_data: object) -> int:
    """GLib timer: advertising sensors re-announce their RSSI while the adapter discovers."""
    try:
        adapter = mockobject.objects[ADAPTER_PATH].props[ADAPTER_IFACE]
        if adapter["Discovering"]:
            wanted = {
                str(u).lower() for u in (adapter.get("DiscoveryFilter") or {}).get("UUIDs", [])
            }
            for sensor in SENSORS.values():
                if sensor.advertising and not sensor.connected and _passes(sensor, wanted):
                    device = mockobject.objects[sensor.path]
                    rssi = device.props[DEVICE_IFACE]["RSSI"]
                    device.UpdateProperties(DEVICE_IFACE, {"RSSI": dbus.Int16(rssi)})
    except Exception as exc:  # a GLib callback must not raise; note it for the tests
        VIOLATIONS.append(f"announce failed: {exc!r}")
    return 1  # keep the timer


def _passes(sensor: Sensor, wanted: set[str]) -> bool:
    return not wanted or bool(wanted & set(sensor.uuids()))


def _sensor(address: str) -> Sensor:
    try:
        return SENSORS[str(address).upper()]
    except KeyError:
        raise dbus.exceptions.DBusException(
            f"no sensor {address}", name="org.freedesktop.DBus.Mock.NameError"
        ) from None


def _changed(obj: Any, iface: str, values: dict[str, Any]) -> None:
    for name, value in values.items():
        obj.props[iface][name] = value
    obj.EmitSignal(
        dbus.PROPERTIES_IFACE,
        "PropertiesChanged",
        "sa{sv}as",
        [iface, dbus.Dictionary(values, signature="sv"), dbus.Array([], signature="s")],
    )


def _bytes(data: bytes) -> dbus.Array:
    return dbus.Array([dbus.Byte(b) for b in data], signature="y")


# -- control interface ------------------------------------------------------------------


@dbus.service.method(MOCK_IFACE, in_signature="sssa{sv}", out_signature="o")
def AddSensor(self: Any, address: str, name: str, kind: str, options: dict[str, Any]) -> str:
    """Add a peripheral: kind ``footpod``, ``hrm``, ``footpod+hrm`` or ``other``; returns its
    object path.

    Options: ``rssi`` (n, default -60), ``advertising`` (b, default true), ``battery``
    (y percent; ``-1`` for no Battery service; default 90), ``battery_notifies`` (b),
    ``rsc_feature`` (q, default 7), ``connect_error`` (s: every Connect fails with it).
    """
    address = str(address).upper()
    if kind not in PROFILES:
        raise dbus.exceptions.DBusException(f"unknown kind {kind}", name=MOCK_IFACE + ".BadKind")
    path = f"{ADAPTER_PATH}/dev_{address.replace(':', '_')}"
    battery = int(options.get("battery", 90))
    sensor = Sensor(
        address,
        str(kind),
        path,
        advertising=bool(options.get("advertising", True)),
        battery_notifies=bool(options.get("battery_notifies", True)),
        battery=None if battery < 0 else bytes([battery]),
        connect_error=str(options.get("connect_error", "")),
    )
    sensor.values = {BASE_UUID.format(k): v for k, v in DEFAULT_VALUES.items()}
    sensor.values[BASE_UUID.format(0x2A54)] = int(options.get("rsc_feature", 7)).to_bytes(
        2, "little"
    )
    if sensor.battery is not None:
        sensor.values[BASE_UUID.format(0x2A19)] = sensor.battery
    props = {
        "Address": dbus.String(address),
        "AddressType": dbus.String("random"),
        "Name": dbus.String(name),
        "Alias": dbus.String(name),
        "Adapter": dbus.ObjectPath(ADAPTER_PATH),
        "Paired": dbus.Boolean(False),
        "Trusted": dbus.Boolean(False),
        "Blocked": dbus.Boolean(False),
        "Connected": dbus.Boolean(False),
        "ServicesResolved": dbus.Boolean(False),
        "LegacyPairing": dbus.Boolean(False),
        "UUIDs": dbus.Array(sensor.uuids(), signature="s"),
        "RSSI": dbus.Int16(int(options.get("rssi", -60))),
        "ManufacturerData": dbus.Dictionary({}, signature="qv"),
        "ServiceData": dbus.Dictionary({}, signature="sv"),
    }
    methods = [
        ("Connect", "", "", Connect),
        ("Disconnect", "", "", Disconnect),
        ("Pair", "", "", ""),
        ("CancelPairing", "", "", ""),
    ]
    self.AddObject(path, DEVICE_IFACE, props, methods)
    SENSORS[address] = sensor
    mockobject.objects["/"].EmitSignal(
        OBJECT_MANAGER_IFACE,
        "InterfacesAdded",
        "oa{sa{sv}}",
        [dbus.ObjectPath(path), {DEVICE_IFACE: props}],
    )
    return path


@dbus.service.method(MOCK_IFACE, in_signature="sb", out_signature="")
def SetAdvertising(_self: Any, address: str, advertising: bool) -> None:
    """Start or stop a sensor's advertisements (a vanished sensor stops)."""
    _sensor(address).advertising = bool(advertising)


@dbus.service.method(MOCK_IFACE, in_signature="ss", out_signature="")
def SetConnectError(_self: Any, address: str, message: str) -> None:
    """Make every Connect fail with org.bluez.Error.Failed(message); '' to succeed again."""
    _sensor(address).connect_error = str(message)


@dbus.service.method(MOCK_IFACE, in_signature="ssay", out_signature="b")
def EmitNotification(_self: Any, address: str, uuid: str, data: bytes) -> bool:
    """Notify ``data`` on a characteristic; False (nothing sent) unless it is subscribed."""
    sensor = _sensor(address)
    path = sensor.chars.get(str(uuid).lower())
    if not sensor.connected or path is None:
        return False
    char = mockobject.objects[path]
    if not char.props[CHAR_IFACE].get("Notifying", False):
        return False
    sensor.values[str(uuid).lower()] = bytes(data)
    _changed(char, CHAR_IFACE, {"Value": _bytes(bytes(data))})
    return True


@dbus.service.method(MOCK_IFACE, in_signature="sy", out_signature="b")
def SetBattery(self: Any, address: str, percent: int) -> bool:
    """Change the battery level; notifies it when subscribed (returns whether it did)."""
    sensor = _sensor(address)
    uuid = BASE_UUID.format(0x2A19)
    sensor.values[uuid] = bytes([int(percent)])
    return bool(EmitNotification(self, address, uuid, bytes([int(percent)])))


@dbus.service.method(MOCK_IFACE, in_signature="s", out_signature="")
def DropConnection(_self: Any, address: str) -> None:
    """A remote drop (out of range, sensor asleep): Connected=False, GATT objects removed."""
    _disconnect(_sensor(address))


@dbus.service.method(MOCK_IFACE, in_signature="s", out_signature="")
def RemoveSensor(self: Any, address: str) -> None:
    """Drop the sensor and remove its Device1 object, as BlueZ does for a stale device."""
    sensor = _sensor(address)
    _disconnect(sensor)
    self.RemoveObject(sensor.path)
    del SENSORS[sensor.address]
    mockobject.objects["/"].EmitSignal(
        OBJECT_MANAGER_IFACE,
        "InterfacesRemoved",
        "oas",
        [dbus.ObjectPath(sensor.path), dbus.Array([DEVICE_IFACE], signature="s")],
    )


@dbus.service.method(MOCK_IFACE, in_signature="s", out_signature="a{sv}")
def SensorState(_self: Any, address: str) -> dict[str, Any]:
    """connected, advertising, notifying (UUIDs) and connect_times (unix seconds)."""
    sensor = _sensor(address)
    notifying = [
        uuid
        for uuid, path in sensor.chars.items()
        if mockobject.objects[path].props[CHAR_IFACE].get("Notifying", False)
    ]
    return dbus.Dictionary(
        {
            "connected": dbus.Boolean(sensor.connected),
            "advertising": dbus.Boolean(sensor.advertising),
            "notifying": dbus.Array(notifying, signature="s"),
            "connect_times": dbus.Array(sensor.connect_times, signature="d"),
        },
        signature="sv",
    )


@dbus.service.method(MOCK_IFACE, in_signature="", out_signature="as")
def Violations(_self: Any) -> list[str]:
    """Protocol rules broken by the client, e.g. Connect while discovering."""
    return dbus.Array(VIOLATIONS, signature="s")


# -- org.bluez.Device1 --------------------------------------------------------------------


def Connect(device: Any) -> None:
    sensor = SENSORS[str(device.props[DEVICE_IFACE]["Address"])]
    sensor.connect_times.append(time.time())
    if mockobject.objects[ADAPTER_PATH].props[ADAPTER_IFACE]["Discovering"]:
        VIOLATIONS.append(f"Connect({sensor.address}) while discovering")
    if sensor.connected:
        raise dbus.exceptions.DBusException(
            "Already Connected", name="org.bluez.Error.AlreadyConnected"
        )
    if sensor.connect_error:
        raise dbus.exceptions.DBusException(sensor.connect_error, name="org.bluez.Error.Failed")
    sensor.connected = True
    _changed(device, DEVICE_IFACE, {"Connected": dbus.Boolean(True)})
    _export_gatt(device, sensor)
    _changed(device, DEVICE_IFACE, {"ServicesResolved": dbus.Boolean(True)})


def Disconnect(device: Any) -> None:
    sensor = SENSORS[str(device.props[DEVICE_IFACE]["Address"])]
    if not sensor.connected:
        raise dbus.exceptions.DBusException("Not Connected", name="org.bluez.Error.NotConnected")
    _disconnect(sensor)


def _disconnect(sensor: Sensor) -> None:
    if not sensor.connected:
        return
    sensor.connected = False
    device = mockobject.objects[sensor.path]
    _changed(device, DEVICE_IFACE, {"ServicesResolved": dbus.Boolean(False)})
    _changed(device, DEVICE_IFACE, {"Connected": dbus.Boolean(False)})
    _unexport_gatt(device, sensor)


def _export_gatt(device: Any, sensor: Sensor) -> None:
    """Services and characteristics appear once connected, as for an unbonded BLE device."""
    manager = mockobject.objects["/"]
    handle = 0x000C
    for service, chars in sensor._profile():
        service_path = f"{sensor.path}/service{handle:04x}"
        props = {
            "UUID": dbus.String(BASE_UUID.format(service)),
            "Device": dbus.ObjectPath(sensor.path),
            "Primary": dbus.Boolean(True),
        }
        device.AddObject(service_path, SERVICE_IFACE, props, [])
        _emit_added(manager, service_path, SERVICE_IFACE, props)
        for offset, (uuid16, flags) in enumerate(chars):
            _export_char(device, sensor, service_path, handle + 1 + 2 * offset, uuid16, flags)
        handle += 0x10


def _export_char(
    device: Any, sensor: Sensor, service: str, handle: int, uuid16: int, flags: list[str]
) -> None:
    uuid = BASE_UUID.format(uuid16)
    if uuid16 == 0x2A19 and not sensor.battery_notifies:
        flags = ["read"]
    path = f"{service}/char{handle:04x}"
    props: dict[str, Any] = {
        "UUID": dbus.String(uuid),
        "Service": dbus.ObjectPath(service),
        "Value": _bytes(sensor.values.get(uuid, b"")),
        "Flags": dbus.Array(flags, signature="s"),
    }
    if "notify" in flags or "indicate" in flags:
        props["Notifying"] = dbus.Boolean(False)
    device.AddObject(
        path,
        CHAR_IFACE,
        props,
        [
            ("ReadValue", "a{sv}", "ay", ReadValue),
            ("WriteValue", "aya{sv}", "", WriteValue),
            ("StartNotify", "", "", StartNotify),
            ("StopNotify", "", "", StopNotify),
        ],
    )
    sensor.chars[uuid] = path
    _emit_added(mockobject.objects["/"], path, CHAR_IFACE, props)


def _unexport_gatt(device: Any, sensor: Sensor) -> None:
    manager = mockobject.objects["/"]
    paths = sorted(
        (p for p in list(mockobject.objects) if p.startswith(sensor.path + "/")), reverse=True
    )
    for path in paths:
        iface = CHAR_IFACE if "/char" in path else SERVICE_IFACE
        device.RemoveObject(path)
        manager.EmitSignal(
            OBJECT_MANAGER_IFACE,
            "InterfacesRemoved",
            "oas",
            [dbus.ObjectPath(path), dbus.Array([iface], signature="s")],
        )
    sensor.chars.clear()


def _emit_added(manager: Any, path: str, iface: str, props: dict[str, Any]) -> None:
    manager.EmitSignal(
        OBJECT_MANAGER_IFACE,
        "InterfacesAdded",
        "oa{sa{sv}}",
        [dbus.ObjectPath(path), {iface: dbus.Dictionary(props, signature="sv")}],
    )


# -- org.bluez.GattCharacteristic1 ---------------------------------------------------------


def _char_sensor(char: Any) -> tuple[Sensor, str]:
    uuid = str(char.props[CHAR_IFACE]["UUID"])
    for sensor in SENSORS.values():
        if sensor.chars.get(uuid) == char.path:
            return sensor, uuid
    raise dbus.exceptions.DBusException("Not connected", name="org.bluez.Error.NotConnected")


def ReadValue(char: Any, _options: dict[str, Any]) -> dbus.Array:
    sensor, uuid = _char_sensor(char)
    if "read" not in char.props[CHAR_IFACE]["Flags"]:
        raise dbus.exceptions.DBusException(
            "Read not permitted", name="org.bluez.Error.NotPermitted"
        )
    value = sensor.values.get(uuid, b"")
    _changed(char, CHAR_IFACE, {"Value": _bytes(value)})  # BlueZ updates Value on reads too
    return _bytes(value)


def WriteValue(char: Any, value: bytes, _options: dict[str, Any]) -> None:
    sensor, uuid = _char_sensor(char)
    sensor.values[uuid] = bytes(value)


def StartNotify(char: Any) -> None:
    _char_sensor(char)
    if "Notifying" not in char.props[CHAR_IFACE]:
        raise dbus.exceptions.DBusException(
            "Notify not supported", name="org.bluez.Error.NotSupported"
        )
    _changed(char, CHAR_IFACE, {"Notifying": dbus.Boolean(True)})


def StopNotify(char: Any) -> None:
    _char_sensor(char)
    _changed(char, CHAR_IFACE, {"Notifying": dbus.Boolean(False)})


@dbus.service.method(MOCK_IFACE, in_signature="", out_signature="")
def RemoveAdapter(self: Any) -> None:
    """Unplug hci0 (its devices stay behind, as when bluetoothd loses an adapter)."""
    bluez5.RemoveAdapter(self, ADAPTER)
