"""The daemon as a real process, talking to a mock notification server on a private
session bus: live alerts during a run (one notification per run, replaced as it escalates,
in the runner's units, spoken by a real espeak-ng), the nightly summary at its time
(simulated and real apscheduler time), systemd's notify protocol, delivery once a server
appears, and a pain check-in answered with a button."""

from __future__ import annotations

import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.daemon_proc import daemon

if TYPE_CHECKING:
    from tests.desktop_bus import NotificationServer, Notified

pytest_plugins = ["tests.desktop_bus"]  # one session bus for the run (see test_notify.py)

SPIKE_TITLE = "Longer than your longest run"
SUMMARY_TITLE = "Tonight's summary"


def seed_longest_run(sw: Any, km: float) -> None:
    """One run two days ago: the 30-day longest, so the next run's limit is 1.1 x ``km``."""
    at = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    result = sw("log-run", "--at", at, "--distance", f"{km}km", "--duration", "3:00")
    assert result.exit_code == 0, result.stderr


def clock_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M:%S")


def titled(server: NotificationServer, title: str) -> list[str]:
    return [note.body for note in server.received() if note.summary == title]


def said(server: NotificationServer, text: str) -> list[str]:
    """Each line holding ``text`` of every notification: live alerts passed in one check
    share a notification, one line each (which ones do depends on the week's cap, so on
    the day the test runs)."""
    lines = (line for note in server.received() for line in note.body.splitlines())
    return [line for line in lines if text in line]


# A single-run spike alert's line (its notification may be titled by a weekly alert).
SPIKE_TEXT = "your longest run this month"


def test_live_alert_reaches_the_desktop_during_the_run_and_the_summary_once(
    sw: Any, db: Path, notification_server: NotificationServer
) -> None:
    seed_longest_run(sw, 0.5)  # limit 0.55 km; the "short" run covers about 0.85 km
    # Simulated time runs 30x: the summary is due 150 simulated seconds after now, while
    # the 5-minute run is under way (about 5 s of real time).
    summary_at = datetime.now(UTC) + timedelta(seconds=150)
    env = {
        "STRIDEWATCH_TIMEZONE": "UTC",
        "STRIDEWATCH_SCHEDULE__SUMMARY": clock_text(summary_at),
    }
    args = ("--simulate", "--speedup", "30", "--scenario", "short")
    with daemon(db, *args, env=env) as proc:
        [body] = proc.wait_for(lambda: said(notification_server, SPIKE_TEXT), 20, "spike")
        # The moment it arrived, the run was still open and the runner still running.
        [open_run] = proc.rows("select status, distance_m from runs where source = 'simulated'")
        assert proc.proc.wait(20) == 0, proc.stderr()
    assert body == (
        "0.6 km: longer than 1.1x your longest run this month (0.5 km). Consider turning back."
    )
    [run] = proc.rows("select * from runs where source = 'simulated'")
    assert open_run["status"] == "open"
    assert run["status"] == "closed"
    assert run["distance_m"] > open_run["distance_m"] + 100
    # Past 1.3 x 0.5 km it escalated: said again, and the stored alert (one per key) is now
    # the escalation, with the distance and time it fired at, before the run ended.
    _, second = said(notification_server, SPIKE_TEXT)
    assert second.startswith("0.7 km: longer than 1.3x your longest run this month (0.5 km).")
    [alert] = proc.rows("select * from alerts where rule = 'single-run-spike'")
    assert alert["key"] == f"single-run-spike:run:{run['id']}"
    assert alert["run_id"] == run["id"]
    assert alert["message"] == second
    assert 650 < alert["at_distance_m"] < 700
    assert alert["raised_at"] <= alert["delivered_at"] < run["ended_at"]
    # No turn-around heads-up: the allowance (0.55 km) is not shorter than the runner's
    # usual run (0.5 km), so there is nothing unusual to turn back from (issue 11).
    assert said(notification_server, "turn around now") == []
    # The summary: exactly one, at its simulated time, stored as the day's summary.
    [summary] = titled(notification_server, SUMMARY_TITLE)
    assert summary.startswith("This week: ")
    [stored] = proc.rows("select * from summaries")
    assert stored["day"] == summary_at.date().isoformat()
    assert stored["message"] == summary
    fired = datetime.fromisoformat(stored["created_at"])
    assert abs((fired - summary_at).total_seconds()) < 15
    assert stored["delivered_at"] is not None


@dataclass
class NotifySocket:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET, read as systemd does:
    continuously (its queue holds only about ten datagrams)."""

    path: str
    sock: socket.socket
    messages: list[str] = field(default_factory=list)

    def read(self) -> None:
        while True:
            try:
                self.messages.append(self.sock.recv(256).decode())
            except TimeoutError:
                continue
            except OSError:  # closed
                return


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    folder = Path(tempfile.mkdtemp(prefix="swnotify-"))
    path = str(folder / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.05)
    listener = NotifySocket(path, sock)
    reader = threading.Thread(target=listener.read, daemon=True)
    reader.start()
    try:
        yield listener
    finally:
        sock.close()
        reader.join(5)
        Path(path).unlink(missing_ok=True)
        folder.rmdir()


def test_real_time_summary_from_apscheduler_once_with_systemd_notify(
    db: Path, notification_server: NotificationServer, notify_socket: NotifySocket
) -> None:
    summary_at = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    env = {
        "STRIDEWATCH_TIMEZONE": "UTC",
        "STRIDEWATCH_SCHEDULE__SUMMARY": clock_text(summary_at),
        "NOTIFY_SOCKET": notify_socket.path,
        "WATCHDOG_USEC": "400000",  # systemd's WatchdogSec=0.4: a ping every 0.2 s
    }
    args = ("--simulate", "--scenario", "standing")  # real time: apscheduler's timetable
    with daemon(db, *args, env=env) as proc:
        proc.wait_for(lambda: titled(notification_server, SUMMARY_TITLE), 15, "the summary")
        arrived = datetime.now(UTC)
        time.sleep(1.5)  # a second firing would come now
        assert len(titled(notification_server, SUMMARY_TITLE)) == 1
        took = proc.stop()
    assert took < 5.0
    assert summary_at <= arrived < summary_at + timedelta(seconds=3)
    [stored] = proc.rows("select * from summaries")
    assert datetime.fromisoformat(stored["created_at"]) >= summary_at
    time.sleep(0.1)
    messages = notify_socket.messages
    assert messages[0] == "READY=1"
    assert messages[-1] == "STOPPING=1"
    assert messages.count("WATCHDOG=1") >= 5


def test_undelivered_without_a_server_then_delivered_once_one_appears(
    sw: Any, db: Path, session_bus: str
) -> None:
    from tests import desktop_bus  # registered as a plugin first (see pytest_plugins)

    seed_longest_run(sw, 0.5)
    env = {"STRIDEWATCH_NOTIFICATIONS__RETRY_INTERVAL_S": "2"}  # simulated seconds
    args = ("--simulate", "--speedup", "60", "--scenario", "easy")
    with daemon(db, *args, env=env) as proc:
        undelivered = "select * from alerts where rule = 'single-run-spike'"
        [alert] = proc.wait_for(lambda: proc.rows(undelivered), 20, "the spike alert")
        assert alert["delivered_at"] is None
        assert alert["at_distance_m"] > 550
        proc.logged("not delivered (no notification server is running on the desktop session")
        time.sleep(0.5)  # retries go on, the daemon with them
        assert proc.proc.poll() is None
        with desktop_bus.spawn_notification_server() as mock:
            server = desktop_bus.NotificationServer(mock)
            delivered = "select * from alerts where key = ? and delivered_at is not null"
            proc.wait_for(lambda: proc.rows(delivered, alert["key"]), 10, "the retry")
            proc.stop()
            bodies = said(server, SPIKE_TEXT)
    # The held alert went out once the server was there: the first threshold, or its 1.3x
    # escalation if the run passed it first (one stored alert per key). The run goes on,
    # so the escalation may also be said live after the delivery: each level at most once.
    pattern = r"0\.\d km: longer than (1\.[13])x your longest run this month \(0\.5 km\)\."
    levels = [re.match(pattern, body) for body in bodies]
    assert bodies
    assert all(levels)
    assert len({level.group(1) for level in levels if level}) == len(bodies)
    # Said once per level: the retries stopped once it was delivered.
    assert stderr_count(proc.stderr(), "notified: Longer than your longest run") == len(bodies)


def stderr_count(text: str, needle: str) -> int:
    return sum(needle in line for line in text.splitlines())


def test_low_battery_said_once_while_the_sensor_keeps_reporting_it(
    db: Path, notification_server: NotificationServer
) -> None:
    args = ("--simulate", "--speedup", "inf", "--scenario", "low-battery")
    with daemon(db, *args) as proc:
        assert proc.proc.wait(30) == 0, proc.stderr()
    bodies = titled(notification_server, "Sensor battery low")
    assert bodies == [
        "Footpod C0:FF:EE:00:00:01 battery at 12%: charge or replace it before your next "
        "run, or the run may go unrecorded."
    ]
    [alert] = proc.rows("select * from alerts where rule = 'low-battery'")
    assert alert["severity"] == "info"
    assert alert["delivered_at"] is not None


# -- issue 17, item 2: replaced, in the runner's units, spoken, answered ------------------


def test_a_runs_live_alerts_replace_each_other_and_all_is_said_in_miles(
    sw: Any, db: Path, notification_server: NotificationServer
) -> None:
    seed_longest_run(sw, 0.5)  # limit 0.55 km; the "short" run covers about 0.85 km
    env = {"STRIDEWATCH_UNITS": "mi"}
    args = ("--simulate", "--speedup", "inf", "--scenario", "short")
    with daemon(db, *args, env=env) as proc:
        assert proc.proc.wait(30) == 0, proc.stderr()
    assert [line[:40] for line in said(notification_server, SPIKE_TEXT)] == [
        "0.3 mi: longer than 1.1x your longest ru",
        "0.4 mi: longer than 1.3x your longest ru",
    ]
    # One notification for the run, updated in place: each escalation names the first's id.
    received = notification_server.received()
    live = [i for i, n in enumerate(received) if n.summary != SUMMARY_TITLE]
    first = shown_ids(received)[live[0]]
    assert received[live[0]].replaces_id == 0
    assert [received[i].replaces_id for i in live[1:]] == [first] * (len(live) - 1)
    assert len(live) >= 2
    [run] = proc.rows("select id from runs where source = 'simulated'")
    assert re.search(rf"run {run['id']} closed: 0\.\d\d mi, \d+ s moving", proc.stderr())
    assert not re.search(r"\d km\b", proc.stderr())


def shown_ids(received: list[Notified]) -> list[int]:
    """The id the template's server gave each notification: the one it replaced, or the
    next of 1, 2, ..."""
    ids, fresh = [], 0
    for note in received:
        if not note.replaces_id:
            fresh += 1
        ids.append(note.replaces_id or fresh)
    return ids


ESPEAK = """#!/bin/sh
# The sound card, simulated: the real espeak-ng writes what it would say to a WAV file.
printf '%s\\n' "$*" >> "$SPOKEN/said.txt"
exec {espeak_ng} -w "$SPOKEN/alert-$$.wav" "$@"
"""


def speech_program(folder: Path, name: str) -> Path:
    """``name`` on a PATH of its own: a script running the real espeak-ng into files."""
    espeak_ng = shutil.which("espeak-ng")
    assert espeak_ng, "needs espeak-ng (Debian package espeak-ng; scripts/test installs it)"
    program = folder / "bin" / name
    program.parent.mkdir()
    program.write_text(ESPEAK.format(espeak_ng=espeak_ng))
    program.chmod(0o755)
    return program.parent


def spoken_wavs(folder: Path) -> list[float]:
    """Seconds of sound in each WAV file espeak-ng wrote."""
    found = []
    for path in folder.glob("alert-*.wav"):
        with wave.open(str(path)) as sound:
            found.append(sound.getnframes() / sound.getframerate())
    return found


SPOKEN_SPIKE = (
    "0.6 kilometres: longer than 1.1 times your longest run this month (0.5 kilometres). "
    "Consider turning back."
)


@pytest.mark.parametrize(
    ("program", "by"),
    [
        ("espeak", "plyer's espeak backend"),  # plyer's TTS facade runs `espeak TEXT`
        ("espeak-ng", "espeak-ng"),  # Debian's espeak-ng alone: plyer has no backend
    ],
)
def test_live_alert_spoken_with_notifications_speak(
    sw: Any,
    db: Path,
    tmp_path: Path,
    notification_server: NotificationServer,
    program: str,
    by: str,
) -> None:
    seed_longest_run(sw, 0.5)
    spoken = tmp_path / "spoken"
    spoken.mkdir()
    path = speech_program(tmp_path, program)
    env = {
        "STRIDEWATCH_NOTIFICATIONS__SPEAK": "true",
        "SPOKEN": str(spoken),
        # Only our program and Python: no espeak the machine may have installed.
        "PATH": f"{path}:{Path(sys.executable).parent}",
    }
    args = ("--simulate", "--speedup", "30", "--scenario", "short")
    with daemon(db, *args, env=env) as proc:
        proc.logged(f"spoken by {by}: {SPOKEN_SPIKE}")
        proc.stop(10)
    # What espeak-ng was given (the weekly cap's alerts too, on some days), each said into
    # a WAV file of a sentence's length, not a click.
    said = (spoken / "said.txt").read_text().splitlines()
    assert SPOKEN_SPIKE in said
    assert not [line for line in said if re.search(r"\d (km|mi)\b|\dx\b", line)]
    lengths = spoken_wavs(spoken)
    assert len(lengths) == len(said)
    assert min(lengths) > 3.0


def test_checkin_answered_with_a_button_in_the_running_daemon(
    sw: Any, db: Path, action_server: NotificationServer
) -> None:
    # A run that ended an hour ago: its check-in (half an hour after) is due at start.
    at = (datetime.now(UTC) - timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M")
    result = sw("log-run", "--at", at, "--distance", "5km", "--duration", "30:00")
    assert result.exit_code == 0, result.stderr
    run_id = int(result.stdout)
    env = {"STRIDEWATCH_TIMEZONE": "UTC", "STRIDEWATCH_SCHEDULE__AFTER_RUN_CHECKIN_H": "0.5"}
    with daemon(db, "--simulate", "--scenario", "standing", env=env) as proc:
        proc.wait_for(lambda: titled(action_server, "Pain check-in"), 15, "the check-in")
        received = action_server.received()
        shown_id = shown_ids(received)[-1]
        assert received[-1].actions[:2] == ["0", "No pain"]
        action_server.press(shown_id, "2")
        pain = "select score, timing, run_id from pain"
        [row] = proc.wait_for(lambda: proc.rows(pain), 15, "the pain report")
        [logged] = proc.wait_for(lambda: titled(action_server, "Pain logged"), 15, "the answer")
        proc.stop()
    assert tuple(row) == (2, "after", run_id)
    assert logged.startswith("2/10 after your run, in your pain log.")
    assert [n.replaces_id for n in action_server.received() if n.summary == "Pain logged"] == [
        shown_id
    ]
    proc.logged(f"check-in after:run:{run_id} answered: pain 2/10 stored")
