"""Showing a notification plainly, without dbus-fast: when the server refused it over D-Bus,
through plyer's backend or notify-send (libnotify-bin), with the same urgency, icon and
display time (no id back, so no replacing, and no buttons)."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import warnings
from dataclasses import dataclass

# How a notification the server refused over dbus-fast is shown plainly, in order of
# preference: plyer's backend over dbus-python (the `desktop` extra), then notify-send (Debian:
# libnotify-bin); plyer's other backends (a desktop portal in a Flatpak) after those.
PLAINLY: tuple[str, ...] = ("dbus-python", "notify-send")
# How long notify-send may take (it returns once the server has the notification).
NOTIFY_SEND_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class PlainNote:
    """What a plain notification shows (display time in seconds, 0: until dismissed)."""

    app_name: str
    title: str
    message: str
    urgency_name: str  # low, normal, critical
    urgency: int  # 0, 1, 2: the freedesktop urgency hint
    icon: str
    display_s: int


def show_plainly(note: PlainNote) -> str:
    """Show ``note`` without dbus-fast, the first of :data:`PLAINLY` that is here; say
    how. plyer's own notify-send backend passes neither urgency nor icon nor display
    time (and shows everything until dismissed), so notify-send is run here."""
    backend = backend_name()
    for way in PLAINLY:
        if way == "dbus-python" and backend == "D-Bus":
            break
        if way == "notify-send" and shutil.which("notify-send"):
            _notify_send(note)
            return "notify-send"
    _plyer(note, backend)  # NotImplementedError if plyer has no backend here
    return f"plyer's {backend} backend"


def _plyer(note: PlainNote, backend: str) -> None:
    from plyer import notification

    hints: dict[str, object] = {}
    if backend == "D-Bus":  # dbus-python, which needs the hint's type spelt out (a byte)
        hints["urgency"] = importlib.import_module("dbus").Byte(note.urgency)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # plyer warns while choosing a backend
        notification.notify(
            title=note.title,
            message=note.message,
            app_name=note.app_name,
            app_icon=note.icon,
            timeout=note.display_s,
            hints=hints,
        )


def _notify_send(note: PlainNote) -> None:
    """``notify-send`` (libnotify-bin) with the note's urgency, icon and display time
    (``-t 0``: until dismissed); raises if it fails."""
    program = shutil.which("notify-send")
    if program is None:
        raise NotImplementedError("notify-send is not installed")
    command = [
        program,
        f"--app-name={note.app_name}",
        f"--urgency={note.urgency_name}",
        f"--expire-time={note.display_s * 1000}",
        f"--icon={note.icon}",
        "--",
        note.title,
        note.message,
    ]
    subprocess.run(
        command, check=True, capture_output=True, text=True, timeout=NOTIFY_SEND_TIMEOUT_S
    )


def backend_name() -> str:
    """The backend plyer chose for notifications here, in words."""
    from plyer import notification

    implementation = getattr(notification.notify, "__self__", None)  # plyer's chosen backend
    return {
        "NotifyDbus": "D-Bus",
        "NotifySendNotification": "notify-send",
        "NotifyDesktopPortals": "desktop portal",
    }.get(type(implementation).__name__, "default")
