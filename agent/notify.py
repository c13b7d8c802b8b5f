"""Desktop notifications through plyer, with honest delivery results.

plyer picks a backend on Linux: D-Bus through dbus-python (it raises when no notification
server is reachable), or the ``notify-send`` program (which fails silently: plyer ignores
its exit status), or nothing at all (it raises ``NotImplementedError``). So before handing a
notification to plyer we ask the session bus, through dbus-fast (already a dependency of
bleak on Linux), whether anything serves ``org.freedesktop.Notifications``; and we treat
any exception from plyer as "not delivered". The caller keeps the alert as undelivered and
retries later.
"""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from dataclasses import dataclass
from datetime import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbus_fast.aio import MessageBus

log = logging.getLogger(__name__)

APP_NAME = "stridewatch"
NOTIFICATIONS = "org.freedesktop.Notifications"
# How long a probe of the session bus may take before we call the server unreachable: a
# healthy bus answers in milliseconds; a hung one must not stall the daemon.
PROBE_TIMEOUT_S = 3.0
# Seconds a notification stays on screen (the server may ignore it).
DISPLAY_S = 15


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to one notification: ``detail`` is one line for a runner."""

    delivered: bool
    detail: str


@dataclass(frozen=True, slots=True)
class ServerProbe:
    reachable: bool
    detail: str


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """Whether ``local`` falls in the quiet window ``[start, end)``, which may span midnight."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


async def probe_server(timeout_s: float = PROBE_TIMEOUT_S) -> ServerProbe:
    """Ask the session bus whether a notification server is running or activatable."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not os.environ.get("XDG_RUNTIME_DIR"):
        return ServerProbe(False, "no desktop session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
    try:
        async with asyncio.timeout(timeout_s):
            return await _probe()
    except TimeoutError:
        return ServerProbe(False, "the session bus did not answer in time")
    except Exception as exc:  # dbus-fast raises several unrelated types on a missing bus
        return ServerProbe(False, f"cannot reach the desktop session bus ({exc})")


async def _probe() -> ServerProbe:
    from dbus_fast import BusType, Message, MessageType
    from dbus_fast.aio import MessageBus

    bus = await MessageBus(bus_type=BusType.SESSION).connect()
    try:

        async def ask(member: str, signature: str = "", body: list[object] | None = None) -> object:
            reply = await bus.call(
                Message(
                    destination="org.freedesktop.DBus",
                    path="/org/freedesktop/DBus",
                    interface="org.freedesktop.DBus",
                    member=member,
                    signature=signature,
                    body=body or [],
                )
            )
            assert reply is not None
            return reply.body[0] if reply.message_type == MessageType.METHOD_RETURN else None

        if await ask("NameHasOwner", "s", [NOTIFICATIONS]):
            return ServerProbe(True, await _server_name(bus))
        activatable = await ask("ListActivatableNames")
        if isinstance(activatable, list) and NOTIFICATIONS in activatable:
            return ServerProbe(True, "a notification server that starts on demand")
        return ServerProbe(False, "no notification server is running on the desktop session bus")
    finally:
        bus.disconnect()


async def _server_name(bus: MessageBus) -> str:
    from dbus_fast import Message, MessageType

    reply = await bus.call(
        Message(
            destination=NOTIFICATIONS,
            path="/org/freedesktop/Notifications",
            interface=NOTIFICATIONS,
            member="GetServerInformation",
        )
    )
    if reply is None or reply.message_type != MessageType.METHOD_RETURN:
        return "notification server"
    name, vendor, version = (str(part) for part in reply.body[:3])
    return f"notification server {name} {version} ({vendor})"


class Notifier:
    """Sends desktop notifications; never raises, always says what happened."""

    def __init__(self, *, app_name: str = APP_NAME, enabled: bool = True) -> None:
        self.app_name = app_name
        self.enabled = enabled

    async def send(self, title: str, message: str) -> Delivery:
        if not self.enabled:
            return Delivery(False, "notifications are off (notifications.enabled = false)")
        probe = await probe_server()
        if not probe.reachable:
            return Delivery(False, probe.detail)
        try:
            backend = await asyncio.to_thread(self._notify, title, message)
        except NotImplementedError:
            return Delivery(
                False,
                "plyer has no notification backend here (install "
                "dbus-python, or notify-send from libnotify-bin)",
            )
        except Exception as exc:
            return Delivery(False, f"the notification server refused it ({_one_line(exc)})")
        return Delivery(True, f"shown by the {probe.detail} via plyer's {backend} backend")

    def _notify(self, title: str, message: str) -> str:
        from plyer import notification

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # plyer warns while choosing a backend
            notification.notify(
                title=title, message=message, app_name=self.app_name, timeout=DISPLAY_S
            )
        return _backend_name()


def _backend_name() -> str:
    from plyer import notification

    implementation = getattr(notification.notify, "__self__", None)  # plyer's chosen backend
    return {
        "NotifyDbus": "D-Bus",
        "NotifySendNotification": "notify-send",
        "NotifyDesktopPortals": "desktop portal",
    }.get(type(implementation).__name__, "default")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
