"""``stridewatch notify-test``: the test notification looks like an alert (it carries an
icon, as every alert does)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.daemon.delivery import ICONS

if TYPE_CHECKING:
    from tests.desktop_bus import NotificationServer

pytest_plugins = ["tests.desktop_bus"]  # one session bus for the run (see test_notify.py)


def test_the_test_notification_carries_an_icon_as_alerts_do(
    sw: Any, notification_server: NotificationServer
) -> None:
    result = sw("notify-test", use_db=False)
    assert result.exit_code == 0, result.stderr
    [note] = notification_server.received()
    assert note.icon == ICONS["info"] == "dialog-information"
