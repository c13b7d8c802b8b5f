"""A private desktop session bus and a mock notification server, for notification tests.

``session_bus`` starts one private ``dbus-daemon`` for the whole test session and points
``DBUS_SESSION_BUS_ADDRESS`` at it (dbus-python, which plyer uses, caches its session
connection per process, so one bus per process it must be). ``notification_server`` spawns
python-dbusmock's ``notification_daemon`` template on it for one test and yields a
:class:`NotificationServer` that reads back what arrived; ``action_server`` is one whose
capabilities include ``actions`` (buttons), on which :meth:`NotificationServer.press`
emits ``ActionInvoked`` as a runner's click would (the template has no buttons to click).
Import the fixtures into a test module to use them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dbus
import pytest
from dbusmock import BusType, PrivateDBus, SpawnedMock

MOCK_IFACE = "org.freedesktop.DBus.Mock"
NOTIFICATIONS = "org.freedesktop.Notifications"
# What a server with buttons says it can do (the template's default has no "actions").
WITH_ACTIONS = "actions body body-markup icon-static persistence"


@dataclass
class Notified:
    """One Notify call as the server received it (``urgency`` None: no hint)."""

    app_name: str
    summary: str
    body: str
    replaces_id: int = 0
    icon: str = ""
    actions: list[str] = field(default_factory=list)
    urgency: int | None = None
    timeout_ms: int = -1


@dataclass
class NotificationServer:
    mock: SpawnedMock

    def received(self) -> list[Notified]:
        calls: Any = self.mock.obj.GetMethodCalls("Notify", dbus_interface=MOCK_IFACE)
        return [
            Notified(
                app_name=str(args[0]),
                summary=str(args[3]),
                body=str(args[4]),
                replaces_id=int(args[1]),
                icon=str(args[2]),
                actions=[str(part) for part in args[5]],
                urgency=int(args[6]["urgency"]) if "urgency" in args[6] else None,
                timeout_ms=int(args[7]),
            )
            for _, args in calls
        ]

    def clear(self) -> None:
        self.mock.obj.ClearCalls(dbus_interface=MOCK_IFACE)

    def press(self, notification_id: int, action: str) -> None:
        """The runner clicks button ``action`` of notification ``notification_id``."""
        self.mock.obj.EmitSignal(
            NOTIFICATIONS,
            "ActionInvoked",
            "us",
            [dbus.UInt32(notification_id), action],
            dbus_interface=MOCK_IFACE,
        )


@pytest.fixture(scope="session")
def session_bus() -> Iterator[str]:
    previous = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    with PrivateDBus(BusType.SESSION) as bus:
        yield bus.address
    if previous is None:
        os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
    else:
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = previous


def spawn_notification_server(capabilities: str | None = None) -> SpawnedMock:
    """The template's server; ``capabilities`` (space-separated) replace its defaults."""
    parameters = None if capabilities is None else {"capabilities": capabilities}
    return SpawnedMock.spawn_with_template(
        "notification_daemon", parameters, bustype=BusType.SESSION
    )


@pytest.fixture
def notification_server(session_bus: str) -> Iterator[NotificationServer]:
    with spawn_notification_server() as mock:
        yield NotificationServer(mock)


@pytest.fixture
def action_server(session_bus: str) -> Iterator[NotificationServer]:
    with spawn_notification_server(WITH_ACTIONS) as mock:
        yield NotificationServer(mock)


__all__ = ["NotificationServer", "action_server", "dbus", "notification_server", "session_bus"]
