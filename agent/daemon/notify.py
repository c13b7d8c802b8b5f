"""Desktop notifications over D-Bus, with honest delivery results.

Each notification goes to the server of ``org.freedesktop.Notifications`` on the session
bus through dbus-fast (already a dependency of bleak on Linux): first we ask the bus whether
anything serves that name (running or activatable), then call ``Notify`` with an urgency, an
icon, the id of a notification to replace and, where the server offers them, buttons. If
the server answers with an error, it is shown plainly (no replacing, no buttons, but the same
urgency, icon and display time): through plyer's dbus-python backend, or ``notify-send``.
Anything that fails is "not delivered", with one line saying why; the caller keeps the alert
as undelivered and retries later.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import time
from enum import IntEnum
from typing import TYPE_CHECKING, Self

from agent.daemon.plainly import PlainNote, show_plainly

if TYPE_CHECKING:
    from dbus_fast import Message
    from dbus_fast.aio import MessageBus

log = logging.getLogger(__name__)

APP_NAME = "stridewatch"
NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
# The signals a kept connection listens for (the server's button presses).
SIGNAL_MATCH = f"type='signal',interface='{NOTIFICATIONS}',path='{NOTIFICATIONS_PATH}'"
# How long a probe of the session bus may take before we call the server unreachable: a
# healthy bus answers in milliseconds; a hung one must not stall the daemon.
PROBE_TIMEOUT_S = 3.0
# How long one notification may take, probe included: a server started on demand (D-Bus
# activation) needs a moment before its first answer.
SEND_TIMEOUT_S = 10.0
# Seconds a notification stays on screen (the server may ignore it); a critical one stays
# until dismissed (0).
DISPLAY_S = 15
# The icon of a notification that names none: information (freedesktop Icon Naming Spec).
INFO_ICON = "dialog-information"
NO_SESSION_BUS = "no desktop session bus (DBUS_SESSION_BUS_ADDRESS is not set)"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to one notification: ``detail`` is one line for a runner; ``id`` is
    the notification server's id for it (to replace it later), None if unknown."""

    delivered: bool
    detail: str
    id: int | None = None


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


def _session_bus_configured() -> bool:
    return bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS") or os.environ.get("XDG_RUNTIME_DIR"))


async def probe_server(timeout_s: float = PROBE_TIMEOUT_S) -> ServerProbe:
    """Ask the session bus whether a notification server is running or activatable."""
    if not _session_bus_configured():
        return ServerProbe(False, NO_SESSION_BUS)
    try:
        async with asyncio.timeout(timeout_s):
            from dbus_fast import BusType
            from dbus_fast.aio import MessageBus

            bus = await MessageBus(bus_type=BusType.SESSION).connect()
            try:
                return await _probe(bus)
            finally:
                bus.disconnect()
    except TimeoutError:
        return ServerProbe(False, "the session bus did not answer in time")
    except Exception as exc:  # dbus-fast raises several unrelated types on a missing bus
        return ServerProbe(False, f"cannot reach the desktop session bus ({exc})")


async def _call_bus(
    bus: MessageBus, member: str, signature: str = "", body: list[object] | None = None
) -> object:
    """One call to the bus itself; its first return value, or None (an error, or none)."""
    from dbus_fast import Message, MessageType

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
    if reply.message_type != MessageType.METHOD_RETURN or not reply.body:
        return None
    return reply.body[0]


async def _probe(bus: MessageBus) -> ServerProbe:
    if await _call_bus(bus, "NameHasOwner", "s", [NOTIFICATIONS]):
        return ServerProbe(True, await _server_name(bus))
    activatable = await _call_bus(bus, "ListActivatableNames")
    if isinstance(activatable, list) and NOTIFICATIONS in activatable:
        return ServerProbe(True, "a notification server that starts on demand")
    return ServerProbe(False, "no notification server is running on the desktop session bus")


async def _server_name(bus: MessageBus) -> str:
    from dbus_fast import Message, MessageType

    reply = await bus.call(
        Message(
            destination=NOTIFICATIONS,
            path=NOTIFICATIONS_PATH,
            interface=NOTIFICATIONS,
            member="GetServerInformation",
        )
    )
    if reply is None or reply.message_type != MessageType.METHOD_RETURN:
        return "notification server"
    name, vendor, version = (str(part) for part in reply.body[:3])
    return f"notification server {name} {version} ({vendor})"


class Urgency(IntEnum):
    """The urgency hint of the Desktop Notifications Specification (a byte): servers may
    show critical notifications until dismissed and let them through do-not-disturb."""

    LOW = 0
    NORMAL = 1
    CRITICAL = 2


# notify-send's names for the urgencies (its --urgency).
URGENCY_NAMES = {Urgency.LOW: "low", Urgency.NORMAL: "normal", Urgency.CRITICAL: "critical"}


def display_time(urgency: Urgency, display_s: int | None) -> int:
    """Seconds on screen: ``display_s`` (default :data:`DISPLAY_S`), and 0 (until dismissed)
    for a critical notification whatever it says, as the specification expects of one."""
    if urgency == Urgency.CRITICAL:
        return 0
    return DISPLAY_S if display_s is None else display_s


# A check-in's buttons: ``(action key, label)``. ActionInvoked reports the key.
Actions = Sequence[tuple[str, str]]
# (notification id, action key) of an ActionInvoked signal from the notification server.
ActionHandler = Callable[[int, str], None]


class Notifier:
    """Sends desktop notifications; never raises, always says what happened.

    Over D-Bus directly (dbus-fast): plyer's D-Bus backend drops the id the server returns
    for a notification, so it cannot replace one (``replaces_id``), and it keeps no
    connection on which to hear which button was pressed (``ActionInvoked``). The
    notification carries an urgency, an icon (a freedesktop icon name), a display time and,
    where the server's capabilities include ``actions``, buttons. When that call fails, it
    is shown plainly (no replacement, no buttons): by plyer over dbus-python, or else by
    ``notify-send``, with the same urgency, icon and display time.

    Used as ``async with``, it keeps one connection to the session bus open and calls
    ``on_action`` for each button pressed on one of its notifications; otherwise each
    :meth:`send` connects and disconnects.
    """

    def __init__(
        self,
        *,
        app_name: str = APP_NAME,
        enabled: bool = True,
        on_action: ActionHandler | None = None,
    ) -> None:
        self.app_name = app_name
        self.enabled = enabled
        self.on_action = on_action
        self._keep = False
        self._bus: MessageBus | None = None
        self._server: str | None = None  # unique bus name of the server that answered

    async def __aenter__(self) -> Self:
        self._keep = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._keep = False
        self._drop()

    async def send(
        self,
        title: str,
        message: str,
        *,
        urgency: Urgency = Urgency.NORMAL,
        icon: str = INFO_ICON,
        replaces_id: int = 0,
        actions: Actions = (),
        display_s: int | None = None,
    ) -> Delivery:
        """Show ``title`` and ``message``; ``replaces_id`` is an id an earlier
        :class:`Delivery` gave (0: a new notification); ``display_s`` seconds on screen
        (:func:`display_time`: 0 stays until dismissed, as a critical one always does). The
        delivery's ``id`` is the server's id for it (None when shown plainly)."""
        if not self.enabled:
            return Delivery(False, "notifications are off (notifications.enabled = false)")
        if not _session_bus_configured():
            return Delivery(False, NO_SESSION_BUS)
        shown_s = display_time(urgency, display_s)
        note = _Note(title, message, urgency, icon, replaces_id, tuple(actions), shown_s)
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                bus = await self._connect()
                probe = await _probe(bus)
                if not probe.reachable:
                    return Delivery(False, probe.detail)
                shown = await self._notify(bus, note)
        except TimeoutError:
            self._drop()
            return Delivery(False, "the session bus did not answer in time")
        except _Refused as exc:
            return await self._plainly(note, probe.detail, exc.detail)
        except Exception as exc:  # dbus-fast raises several unrelated types on a missing bus
            self._drop()
            return Delivery(False, f"cannot reach the desktop session bus ({_one_line(exc)})")
        finally:
            if not self._keep:
                self._drop()
        return Delivery(True, f"shown by the {probe.detail}, id {shown}", shown)

    async def _connect(self) -> MessageBus:
        from dbus_fast import BusType
        from dbus_fast.aio import MessageBus

        if self._bus is not None and self._bus.connected:
            return self._bus
        self._drop()
        bus = await MessageBus(bus_type=BusType.SESSION).connect()
        self._bus = bus
        if self._keep and self.on_action is not None:
            bus.add_message_handler(self._on_message)
            await _call_bus(bus, "AddMatch", "s", [SIGNAL_MATCH])
        return bus

    def _drop(self) -> None:
        if self._bus is not None:
            self._bus.disconnect()
        self._bus = None
        self._server = None

    async def _notify(self, bus: MessageBus, note: _Note) -> int:
        """The server's id for ``note``; :class:`_Refused` if it answers with an error."""
        from dbus_fast import Message, MessageType, Variant

        # Asked each time buttons are wanted: a restarted server may be another program.
        actions = [part for pair in note.actions for part in pair]
        if actions and "actions" not in await _capabilities(bus):
            actions = []
        hints = {"urgency": Variant("y", int(note.urgency))}
        reply = await bus.call(
            Message(
                destination=NOTIFICATIONS,
                path=NOTIFICATIONS_PATH,
                interface=NOTIFICATIONS,
                member="Notify",
                signature="susssasa{sv}i",
                body=[
                    self.app_name,
                    note.replaces_id,
                    note.icon,
                    note.title,
                    note.message,
                    actions,
                    hints,
                    note.display_s * 1000,
                ],
            )
        )
        if reply is None or reply.message_type != MessageType.METHOD_RETURN:
            raise _Refused(_error_text(reply))
        self._server = reply.sender
        return int(reply.body[0])

    async def _plainly(self, note: _Note, server: str, refused: str) -> Delivery:
        """The fallback: plyer or notify-send (no id back, so no replacing, and no
        buttons; the same urgency, icon and display time)."""
        try:
            how = await asyncio.to_thread(
                show_plainly,
                PlainNote(
                    self.app_name,
                    note.title,
                    note.message,
                    URGENCY_NAMES[note.urgency],
                    int(note.urgency),
                    note.icon,
                    note.display_s,
                ),
            )
        except NotImplementedError:
            return Delivery(
                False,
                f"the notification server refused it ({refused}), and plyer has no "
                "notification backend here (install dbus-python, or notify-send from "
                "libnotify-bin)",
            )
        except Exception as exc:
            return Delivery(
                False,
                f"the notification server refused it ({refused}; plainly: {_one_line(exc)})",
            )
        return Delivery(True, f"shown by the {server} via {how} (D-Bus: {refused})")

    def _on_message(self, message: Message) -> None:
        """ActionInvoked from the server our notifications went to: ``on_action``."""
        from dbus_fast import MessageType

        if (
            message.message_type == MessageType.SIGNAL
            and message.interface == NOTIFICATIONS
            and message.member == "ActionInvoked"
            and message.sender == self._server
            and self.on_action is not None
        ):
            notification_id, action = message.body
            self.on_action(int(notification_id), str(action))


@dataclass(frozen=True, slots=True)
class _Note:
    title: str
    message: str
    urgency: Urgency
    icon: str
    replaces_id: int
    actions: tuple[tuple[str, str], ...]
    display_s: int


class _Refused(Exception):
    """The notification server answered Notify with an error."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


async def _capabilities(bus: MessageBus) -> frozenset[str]:
    """What the server says it can do (``actions``, ``body``, ...); none if it will not say."""
    from dbus_fast import Message, MessageType

    reply = await bus.call(
        Message(
            destination=NOTIFICATIONS,
            path=NOTIFICATIONS_PATH,
            interface=NOTIFICATIONS,
            member="GetCapabilities",
        )
    )
    if reply is None or reply.message_type != MessageType.METHOD_RETURN:
        return frozenset()
    return frozenset(str(name) for name in reply.body[0])


def _error_text(reply: Message | None) -> str:
    if reply is None:
        return "no answer"
    text = str(reply.body[0]) if reply.body else ""
    return f"{reply.error_name}: {text}" if text else str(reply.error_name)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
