"""Notifications to a real D-Bus notification server (python-dbusmock): over dbus-fast with
urgency, icon, replacement and buttons, and through plyer when the server refuses."""

from __future__ import annotations

import asyncio
import shutil
from datetime import time
from typing import TYPE_CHECKING

import pytest

from agent.daemon import plainly
from agent.daemon.notify import Notifier, Urgency, in_quiet_hours, probe_server

# One plugin registration, so one session bus for the whole run: dbus-python (plyer's
# backend) keeps its first session connection, and a fixture imported into several modules
# would start one bus per module.
if TYPE_CHECKING:
    from tests.desktop_bus import NotificationServer

pytest_plugins = ["tests.desktop_bus"]


@pytest.mark.parametrize(
    ("now", "start", "end", "quiet"),
    [
        (time(23, 30), time(22), time(7), True),
        (time(3, 0), time(22), time(7), True),
        (time(7, 0), time(22), time(7), False),
        (time(21, 59), time(22), time(7), False),
        (time(22, 0), time(22), time(7), True),
        (time(13, 0), time(12), time(14), True),
        (time(14, 0), time(12), time(14), False),
        (time(13, 0), time(0), time(0), False),
    ],
)
def test_quiet_hours(now: time, start: time, end: time, quiet: bool) -> None:
    assert in_quiet_hours(now, start, end) is quiet


async def test_delivered_to_the_server_with_title_body_and_app_name(
    notification_server: NotificationServer,
) -> None:
    delivery = await Notifier().send("Weekly cap", "24.1 km of 26.4 km this week")
    assert delivery.delivered, delivery.detail
    assert "mock-notify" in delivery.detail
    [note] = notification_server.received()
    assert (note.app_name, note.summary, note.body) == (
        "stridewatch",
        "Weekly cap",
        "24.1 km of 26.4 km this week",
    )


async def test_no_server_on_the_bus_is_not_delivered(session_bus: str) -> None:
    delivery = await Notifier().send("title", "body")
    assert not delivery.delivered
    assert delivery.detail == "no notification server is running on the desktop session bus"


async def test_no_session_bus_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    delivery = await Notifier().send("title", "body")
    assert not delivery.delivered
    assert "no desktop session bus" in delivery.detail


async def test_dead_bus_address_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/gone")
    probe = await probe_server()
    assert not probe.reachable
    assert "cannot reach the desktop session bus" in probe.detail


async def test_disabled_notifications_are_not_sent(
    notification_server: NotificationServer,
) -> None:
    delivery = await Notifier(enabled=False).send("title", "body")
    assert not delivery.delivered
    assert "notifications.enabled = false" in delivery.detail
    assert notification_server.received() == []


async def test_server_that_appears_later_gets_the_retry(session_bus: str) -> None:
    from tests import desktop_bus  # registered as a plugin first (see pytest_plugins)

    notifier = Notifier()
    assert not (await notifier.send("Pain check-in", "How is the knee?")).delivered
    with desktop_bus.spawn_notification_server() as mock:
        assert (await notifier.send("Pain check-in", "How is the knee?")).delivered
        assert [n.summary for n in desktop_bus.NotificationServer(mock).received()] == [
            "Pain check-in"
        ]


def test_notify_test_command_reports_what_happened(sw, notification_server) -> None:
    result = sw("notify-test", use_db=False)
    assert result.exit_code == 0, result.stderr
    assert "delivered: shown by the notification server mock-notify" in result.stdout
    [note] = notification_server.received()
    assert note.summary == "stridewatch test notification"
    # Like every notification, it carries an icon: information.
    assert (note.icon, note.urgency, note.timeout_ms) == ("dialog-information", 1, 15000)


def test_notify_test_without_server_fails_with_the_reason(sw, session_bus) -> None:
    result = sw("notify-test", use_db=False)
    assert result.exit_code == 1
    assert "not delivered: no notification server is running" in result.stdout


async def test_urgency_icon_and_display_time_reach_the_server_which_gives_an_id(
    notification_server: NotificationServer,
) -> None:
    delivery = await Notifier().send(
        "Longer than your longest run",
        "16.1 km: walk back.",
        urgency=Urgency.CRITICAL,
        icon="dialog-error",
        display_s=0,
    )
    assert delivery.delivered, delivery.detail
    assert delivery.id == 1  # the template numbers its notifications from 1
    [note] = notification_server.received()
    assert (note.urgency, note.icon, note.replaces_id, note.timeout_ms) == (
        Urgency.CRITICAL,
        "dialog-error",
        0,
        0,
    )


async def test_a_critical_notification_stays_until_dismissed_whatever_its_display_time(
    notification_server: NotificationServer,
) -> None:
    notifier = Notifier()
    await notifier.send("Danger", "walk back.", urgency=Urgency.CRITICAL)
    await notifier.send("Danger", "walk back.", urgency=Urgency.CRITICAL, display_s=15)
    await notifier.send("Warning", "consider turning back.")
    await notifier.send("Caution", "nearly at the cap.", urgency=Urgency.LOW, display_s=5)
    # expire_timeout 0: never expires (Desktop Notifications Specification).
    assert [(n.urgency, n.timeout_ms) for n in notification_server.received()] == [
        (2, 0),
        (2, 0),
        (1, 15000),
        (0, 5000),
    ]


async def test_a_notification_replaces_the_one_whose_id_it_is_given(
    notification_server: NotificationServer,
) -> None:
    notifier = Notifier()
    first = await notifier.send("Spike", "8.8 km: consider turning back.")
    second = await notifier.send("Spike", "10.4 km: turn back now.", replaces_id=first.id or 0)
    assert first.id is not None
    assert second.id == first.id
    assert [(n.replaces_id, n.body) for n in notification_server.received()] == [
        (0, "8.8 km: consider turning back."),
        (first.id, "10.4 km: turn back now."),
    ]


BUTTONS = (("0", "No pain"), ("later", "Later"))


async def test_buttons_only_where_the_server_has_actions(
    notification_server: NotificationServer,
) -> None:
    delivery = await Notifier().send("Pain check-in", "Any pain now?", actions=BUTTONS)
    assert delivery.delivered, delivery.detail
    [note] = notification_server.received()
    assert note.actions == []  # the template's default capabilities have no "actions"


async def test_a_button_pressed_is_heard_on_the_kept_connection(
    action_server: NotificationServer,
) -> None:
    pressed: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    async with Notifier(on_action=lambda *press: pressed.put_nowait(press)) as notifier:
        delivery = await notifier.send("Pain check-in", "Any pain now?", actions=BUTTONS)
        assert delivery.id is not None
        [note] = action_server.received()
        assert note.actions == ["0", "No pain", "later", "Later"]
        action_server.press(delivery.id, "later")
        assert await asyncio.wait_for(pressed.get(), 10) == (delivery.id, "later")


# A server that refuses to replace a notification it does not know (one shown before it
# restarted, say): the notification still goes out, plainly, through plyer.
REFUSE_UNKNOWN_IDS = """if args[1] and args[1] >= self.next_id:
    raise dbus.exceptions.DBusException(
        'no such notification', name='org.freedesktop.Notifications.Error.InvalidId')
ret = self.next_id
self.next_id += 1
"""


async def test_refused_by_the_server_then_shown_plainly_through_plyer(
    notification_server: NotificationServer,
) -> None:
    notification_server.mock.obj.AddMethod(
        "org.freedesktop.Notifications",
        "Notify",
        "susssasa{sv}i",
        "u",
        REFUSE_UNKNOWN_IDS,
        dbus_interface="org.freedesktop.DBus.Mock",
    )
    delivery = await Notifier().send(
        "Spike", "20.4 km: walk back.", replaces_id=7, urgency=Urgency.CRITICAL, icon="dialog-error"
    )
    assert delivery.delivered, delivery.detail
    assert delivery.id is None  # plyer does not say which id the server gave
    assert "via plyer's D-Bus backend" in delivery.detail
    assert "InvalidId: no such notification" in delivery.detail
    # Shown plainly, it is as urgent as it was, with its icon, and stays until dismissed.
    plain = (2, "dialog-error", 0, "stridewatch")
    assert [
        (n.replaces_id, n.body, n.urgency, n.icon, n.timeout_ms, n.app_name)
        for n in notification_server.received()
    ] == [(7, "20.4 km: walk back.", *plain), (0, "20.4 km: walk back.", *plain)]


@pytest.mark.parametrize(
    ("urgency", "display_s", "expected"),
    [
        (Urgency.CRITICAL, None, (2, 0)),
        (Urgency.NORMAL, None, (1, 15000)),
        (Urgency.LOW, 5, (0, 5000)),
    ],
)
async def test_refused_then_shown_plainly_through_notify_send(
    notification_server: NotificationServer,
    monkeypatch: pytest.MonkeyPatch,
    urgency: Urgency,
    display_s: int | None,
    expected: tuple[int, int],
) -> None:
    """Without dbus-python, the fallback is notify-send (libnotify-bin, which plyer would
    run without urgency, icon or display time): run with them."""
    assert shutil.which("notify-send"), "needs notify-send (Debian: libnotify-bin)"
    monkeypatch.setattr(plainly, "PLAINLY", ("notify-send",))
    notification_server.mock.obj.AddMethod(
        "org.freedesktop.Notifications",
        "Notify",
        "susssasa{sv}i",
        "u",
        REFUSE_UNKNOWN_IDS,
        dbus_interface="org.freedesktop.DBus.Mock",
    )
    delivery = await Notifier().send(
        "Spike", "20.4 km: walk back.", replaces_id=7, urgency=urgency, display_s=display_s
    )
    assert delivery.delivered, delivery.detail
    assert "via notify-send (D-Bus: " in delivery.detail
    [_, shown] = notification_server.received()
    assert (shown.app_name, shown.summary, shown.body, shown.replaces_id) == (
        "stridewatch",
        "Spike",
        "20.4 km: walk back.",
        0,
    )
    assert (shown.urgency, shown.timeout_ms) == expected
    assert shown.icon == "dialog-information"
