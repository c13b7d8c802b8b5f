"""A private desktop session bus and a mock notification server, for notification tests.

``session_bus`` starts one private ``dbus-daemon`` for the whole test session and points
``DBUS_SESSION_BUS_ADDRESS`` at it (dbus-python, which plyer uses, caches its session
connection per process, so one bus per process it must be). ``notification_server`` spawns
python-dbusmock's ``notification_daemon`` template on it for one test and yields a
:class:`NotificationServer` that reads back what arrived. Import both fixtures into a test
module to use them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dbus
import pytest
from dbusmock import BusType, PrivateDBus, SpawnedMock

MOCK_IFACE = "org.freedesktop.DBus.Mock"


@dataclass
class Notified:
    app_name: str
    summary: str
    body: str


@dataclass
class NotificationServer:
    mock: SpawnedMock

    def received(self) -> list[Notified]:
        calls: Any = self.mock.obj.GetMethodCalls("Notify", dbus_interface=MOCK_IFACE)
        return [Notified(str(args[0]), str(args[3]), str(args[4])) for _, args in calls]

    def clear(self) -> None:
        self.mock.obj.ClearCalls(dbus_interface=MOCK_IFACE)


@pytest.fixture(scope="session")
def session_bus() -> Iterator[str]:
    previous = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    with PrivateDBus(BusType.SESSION) as bus:
        yield bus.address
    if previous is None:
        os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
    else:
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = previous


def spawn_notification_server() -> SpawnedMock:
    return SpawnedMock.spawn_with_template("notification_daemon", bustype=BusType.SESSION)


@pytest.fixture
def notification_server(session_bus: str) -> Iterator[NotificationServer]:
    with spawn_notification_server() as mock:
        yield NotificationServer(mock)


__all__ = ["NotificationServer", "dbus", "notification_server", "session_bus"]
