"""Storing first, notifying, marking delivered, retrying; quiet hours; dedupe by key; the
nightly summary and check-ins; the simulated timetable. Real SQLite (through the daemon's
writer thread) and a real notification server on a private session bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from agent.clock import VirtualClock
from agent.config import Settings
from agent.config_load import validate_settings
from agent.daemon.delivery import DesktopSender, Dispatcher, Event, Shown
from agent.daemon.jobs import DaemonJobs, after_run, low_battery_alert, morning, nightly
from agent.daemon.notify import Notifier
from agent.daemon.timetable import SimulatedTimetable
from agent.models import Alert
from agent.sensors.base import BatteryLevel, LowBatteryPolicy
from agent.store import Store
from agent.store.writer import RecordingWriter

if TYPE_CHECKING:
    from tests.desktop_bus import NotificationServer

pytest_plugins = ["tests.desktop_bus"]  # one session bus for the run (see test_notify.py)

SETTINGS = Settings(timezone="UTC")
MONDAY = datetime(2026, 1, 12, 0, 0, tzinfo=UTC)


def spike(level: int, km: float) -> Alert:
    return Alert(
        rule="single-run-spike",
        severity="danger" if level == 3 else "warning",
        message=f"{km:.1f} km: longer than 1.1x your longest run this month (8.0 km).",
        key="single-run-spike:run:1",
        data={"level": level, "distance_km": km, "run_id": 1},
    )


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[RecordingWriter]:
    writer = RecordingWriter(tmp_path / "history.db", 5.0)
    await writer.open()
    await writer.call(lambda store: add_run(store, MONDAY - timedelta(days=1), 5.0))
    try:
        yield writer
    finally:
        await writer.close()


def add_run(store: Store, at: datetime, km: float) -> int:
    seconds = km * 360
    return store.add_run(
        started_at=at, distance_m=km * 1000, moving_s=seconds, elapsed_s=seconds, source="manual"
    )


def dispatcher(writer: RecordingWriter, at: datetime, shown: list[Event]) -> Dispatcher:
    clock = VirtualClock(wall_start=at, auto_advance=False)
    return Dispatcher(SETTINGS, writer, DesktopSender(Notifier()), clock, shown.append)


async def stored(writer: RecordingWriter, sql: str) -> list[tuple[object, ...]]:
    return await writer.call(lambda store: list(store.db.conn.execute(sql).fetchall()))


async def test_live_alert_is_stored_then_delivered_and_marked(
    writer: RecordingWriter, notification_server: NotificationServer
) -> None:
    at = MONDAY + timedelta(hours=7, minutes=40)
    shown: list[Event] = []
    result = await dispatcher(writer, at, shown).live(spike(1, 8.8), run_id=1, distance_m=8812)
    assert result is not None
    assert result.delivery.delivered
    [note] = notification_server.received()
    assert (note.summary, note.body) == (
        "Longer than your longest run",
        "8.8 km: longer than 1.1x your longest run this month (8.0 km).",
    )
    [row] = await stored(
        writer, "select run_id, at_distance_m, raised_at, delivered_at from alerts"
    )
    assert row == (1, 8812.0, "2026-01-12T07:40:00+00:00", "2026-01-12T07:40:00+00:00")
    assert shown == [result]


async def test_same_key_said_once_escalation_said_again(
    writer: RecordingWriter, notification_server: NotificationServer
) -> None:
    at = MONDAY + timedelta(hours=7)
    post = dispatcher(writer, at, [])
    assert await post.live(spike(1, 8.8), run_id=1, distance_m=8800) is not None
    assert await post.live(spike(1, 9.0), run_id=1, distance_m=9000) is None
    assert await post.live(spike(3, 16.1), run_id=1, distance_m=16100) is not None
    assert [n.body[:8] for n in notification_server.received()] == ["8.8 km: ", "16.1 km:"]
    [row] = await stored(writer, "select severity, at_distance_m from alerts")
    assert row == ("danger", 16100.0)


async def test_quiet_hours_hold_summaries_not_live_alerts(
    writer: RecordingWriter, notification_server: NotificationServer
) -> None:
    late = MONDAY + timedelta(hours=22, minutes=30)  # quiet from 22:00 to 07:00
    post = dispatcher(writer, late, [])
    await DaemonJobs(SETTINGS, post).nightly_summary()
    assert notification_server.received() == []
    [(delivered,)] = await stored(writer, "select delivered_at from summaries")
    assert delivered is None
    # A live alert during a late run is said at once all the same.
    await post.live(spike(1, 8.8), run_id=1, distance_m=8800)
    assert [n.summary for n in notification_server.received()] == ["Longer than your longest run"]
    assert isinstance(post.clock, VirtualClock)
    post.clock.advance(8 * 3600)  # 06:30: still quiet
    assert await post.pending() == []
    post.clock.advance(1800)  # 07:00: the next job sends what was held
    [shown] = await post.pending()
    assert shown.item.kind == "summary"
    assert notification_server.received()[-1].summary == "Tonight's summary"
    [(delivered,)] = await stored(writer, "select delivered_at from summaries")
    assert delivered == "2026-01-13T07:00:00+00:00"


async def test_low_battery_said_once_a_day_per_sensor_and_held_in_quiet_hours(
    writer: RecordingWriter, notification_server: NotificationServer
) -> None:
    policy = LowBatteryPolicy(threshold=15)
    pod = BatteryLevel(address="C0:FF:EE:00:00:01", kind="footpod", at=0.0, percent=12)
    strap = BatteryLevel(address="C0:FF:EE:00:00:02", kind="hrm", at=0.0, percent=9)
    at = MONDAY + timedelta(hours=7, minutes=5)
    post = dispatcher(writer, at, [])
    for event in (pod, pod, strap, BatteryLevel("C0:FF:EE:00:00:01", "footpod", 1.0, 11)):
        if policy.check(event, at.date()):
            await post.notice(low_battery_alert(event, at.date(), policy.threshold), at=at)
    assert [(n.summary, n.body) for n in notification_server.received()] == [
        (
            "Sensor battery low",
            "Footpod C0:FF:EE:00:00:01 battery at 12%: charge or replace it "
            "before your next run, or the run may go unrecorded.",
        ),
        (
            "Sensor battery low",
            "Heart-rate strap C0:FF:EE:00:00:02 battery at 9%: charge or "
            "replace it before your next run, or the run may go unrecorded.",
        ),
    ]
    # The same notice again (a restarted daemon forgets its policy) is not said twice.
    alert = low_battery_alert(pod, at.date(), 15)
    assert await post.notice(alert, at=at) is None
    # The next day, at 23:00, it is stored but held until quiet hours end.
    late = at + timedelta(days=1, hours=16)
    assert policy.check(pod, late.date())
    assert await post.notice(low_battery_alert(pod, late.date(), 15), at=late) is None
    assert len(notification_server.received()) == 2
    rows = await stored(writer, "select key, rule, severity, run_id, delivered_at from alerts")
    assert rows[-1] == (
        "low-battery:C0:FF:EE:00:00:01:2026-01-13",
        "low-battery",
        "info",
        None,
        None,
    )


async def test_without_a_server_kept_then_delivered_on_retry(
    writer: RecordingWriter, session_bus: str
) -> None:
    from tests import desktop_bus  # registered as a plugin first (see pytest_plugins)

    shown: list[Event] = []
    post = dispatcher(writer, MONDAY + timedelta(hours=8), shown)
    result = await post.live(spike(1, 8.8), run_id=1, distance_m=8800)
    assert result is not None
    assert not result.delivery.delivered
    assert result.delivery.detail == "no notification server is running on the desktop session bus"
    [(delivered,)] = await stored(writer, "select delivered_at from alerts")
    assert delivered is None
    with desktop_bus.spawn_notification_server() as mock:
        retried = await post.pending()
        received = desktop_bus.NotificationServer(mock).received()
    assert [s.delivery.delivered for s in retried] == [True]
    assert [n.body for n in received] == [spike(1, 8.8).message]
    [(delivered,)] = await stored(writer, "select delivered_at from alerts")
    assert delivered is not None
    assert await post.pending() == []
    assert all(isinstance(event, Shown) for event in shown)


def test_nightly_summary_numbers_once_a_day(tmp_path: Path) -> None:
    with Store.open(tmp_path / "h.db") as store:
        last_week = MONDAY - timedelta(days=7)
        # From a Monday: a week the history began in the middle of would be no baseline.
        for day, km in ((0, 5.0), (3, 5.0), (4, 2.0), (6, 8.0)):  # 20 km: cap 22 km
            add_run(store, last_week + timedelta(days=day, hours=7), km)
        for day, km in ((1, 6.0), (2, 5.0), (3, 4.0)):  # 15 km so far: 7 km left
            add_run(store, MONDAY + timedelta(days=day, hours=7), km)
        at = MONDAY + timedelta(days=3, hours=21)
        assert nightly(store, SETTINGS, at)
        assert not nightly(store, SETTINGS, at + timedelta(minutes=5))
        summary = store.summary_of(date(2026, 1, 15))
    assert summary is not None
    assert summary["message"] == (
        "This week: 15.0 km of its 22.0 km cap; 7.0 km left. "
        "Tomorrow: 7.0 km at most (what is left of the week's cap)."
    )
    assert summary["data"]["tomorrow_max_km"] == pytest.approx(7.0)


def test_checkins_after_a_run_and_on_the_morning_after_only(tmp_path: Path) -> None:
    with Store.open(tmp_path / "h.db") as store:
        run_id = add_run(store, MONDAY + timedelta(hours=7), 6.0)
        tuesday = MONDAY + timedelta(days=1, hours=8)
        assert not morning(store, SETTINGS, MONDAY + timedelta(hours=8))  # no run on Sunday
        assert morning(store, SETTINGS, tuesday)
        assert not morning(store, SETTINGS, tuesday + timedelta(minutes=1))  # one per day
        assert not morning(store, SETTINGS, tuesday + timedelta(days=1))  # no run on Tuesday
        assert after_run(store, SETTINGS, MONDAY + timedelta(hours=11), run_id)
        assert not after_run(store, SETTINGS, MONDAY + timedelta(hours=11), 999)
        rows = store.undelivered(since=MONDAY)
    assert [(row.kind, row.ref) for row in rows] == [
        ("checkin", f"after:run:{run_id}"),
        ("checkin", "morning:2026-01-13"),
    ]
    assert rows[0].message == (
        "Your 6.0 km run ended at 07:36. Any pain now? Log it (0-10): "
        f"stridewatch pain N --when after --run {run_id}"
    )
    assert "stridewatch pain N --when morning" in rows[1].message


class Jobs:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.calls: list[tuple[str, str]] = []

    def _log(self, name: str) -> None:
        self.calls.append((self.clock.wall().strftime("%a %H:%M"), name))

    async def nightly_summary(self) -> None:
        self._log("summary")

    async def morning_checkin(self) -> None:
        self._log("morning")

    async def after_run_checkin(self, run_id: int) -> None:
        self._log(f"after:{run_id}")

    async def retry_deliveries(self) -> None:
        self._log("retry")


async def run_clock(clock: VirtualClock, hours: float, step_s: float = 60.0) -> None:
    """Move a manual clock forward minute by minute, letting woken tasks run each time."""
    for _ in range(int(hours * 3600 / step_s)):
        clock.advance(step_s)
        for _ in range(3):
            await asyncio.sleep(0)


async def test_simulated_timetable_fires_at_local_times_on_the_clock() -> None:
    settings = validate_settings(
        {"timezone": "Europe/Berlin", "notifications": {"retry_interval_s": 6 * 3600}}
    )
    clock = VirtualClock(auto_advance=False)  # Monday 5 January 2026, 07:00 UTC
    jobs = Jobs(clock)
    timetable = SimulatedTimetable(settings, jobs, clock)
    timetable.start()
    await run_clock(clock, 1)
    when = timetable.after_run(7, clock.wall() - timedelta(minutes=30))  # ended 07:30 UTC
    assert when == datetime(2026, 1, 5, 11, 30, tzinfo=UTC)
    await run_clock(clock, 36)
    await timetable.stop()
    # In UTC: the summary at 21:00 Berlin is 20:00; the morning check-in 08:00 is 07:00.
    assert jobs.calls == [
        ("Mon 11:30", "after:7"),
        ("Mon 13:00", "retry"),
        ("Mon 19:00", "retry"),
        ("Mon 20:00", "summary"),
        ("Tue 01:00", "retry"),
        ("Tue 07:00", "morning"),
        ("Tue 07:00", "retry"),
        ("Tue 13:00", "retry"),
        ("Tue 19:00", "retry"),
        ("Tue 20:00", "summary"),
    ]


# -- on screen: urgency, icon, replacing, buttons (issue 17, item 2) ----------------------


def weekly(km: float) -> Alert:
    return Alert(
        rule="weekly-progression",
        severity="warning",
        message=f"{km:.1f} km: this run takes the week to 30.5 km, over its 28.0 km cap.",
        key="weekly-progression:2026-01-12",
        data={"level": 1, "run_id": 1},
    )


async def test_a_runs_escalations_replace_its_notification_instead_of_stacking(
    writer: RecordingWriter, notification_server: NotificationServer
) -> None:
    post = dispatcher(writer, MONDAY + timedelta(hours=7), [])
    first = await post.live(spike(1, 8.8), run_id=1, distance_m=8800)
    await post.live(weekly(9.5), run_id=1, distance_m=9500)
    await post.live(spike(3, 16.1), run_id=1, distance_m=16100)
    other_run = await writer.call(lambda store: add_run(store, MONDAY + timedelta(hours=9), 3.0))
    await post.live(
        replace(spike(1, 3.3), key=f"single-run-spike:run:{other_run}"),
        run_id=other_run,
        distance_m=3300,
    )
    assert first is not None
    assert first.delivery.id == 1
    # The server saw the run's first id again: the same notification, updated in place.
    assert [(n.replaces_id, n.summary, n.body[:8]) for n in notification_server.received()] == [
        (0, "Longer than your longest run", "8.8 km: "),
        (1, "Over this week's cap", "9.5 km: "),
        (1, "Longer than your longest run", "16.1 km:"),
        (0, "Longer than your longest run", "3.3 km: "),  # another run: its own
    ]


async def test_urgency_and_icon_by_severity(
    writer: RecordingWriter, notification_server: NotificationServer
) -> None:
    post = dispatcher(writer, MONDAY + timedelta(hours=8), [])
    for severity in ("danger", "warning", "caution", "info"):
        alert = Alert("acwr", severity, f"Load {severity}.", f"acwr:{severity}", {})
        assert await post.notice(alert) is not None
    received = notification_server.received()
    assert [(n.body, n.urgency, n.icon, n.timeout_ms) for n in received] == [
        ("Load danger.", 2, "dialog-error", 0),  # critical: on screen until dismissed
        ("Load warning.", 1, "dialog-warning", 15000),  # normal
        ("Load caution.", 0, "dialog-information", 15000),  # low
        ("Load info.", 0, "dialog-information", 15000),
    ]


def pain_level(severity: str, score: int) -> Alert:
    return Alert(
        rule="pain-during",
        severity=severity,
        message=f"Pain {score}/10 during the run.",
        key=f"pain-during:pain:{score}",
        data={"score": score},
    )


async def test_a_less_serious_alert_joins_a_danger_on_screen_never_hides_it(
    writer: RecordingWriter, notification_server: NotificationServer
) -> None:
    """The tester's run: 1.1x, 1.3x, then a danger (walk back), then the week's cap (a
    warning). The warning took the danger's place on screen; now it joins it, under it."""
    shown: list[Event] = []
    post = dispatcher(writer, MONDAY + timedelta(hours=7), shown)
    await post.live(spike(1, 8.8), run_id=1, distance_m=8800)
    await post.live(spike(2, 10.4), run_id=1, distance_m=10400)
    await post.live(spike(3, 16.1), run_id=1, distance_m=16100)
    await post.live(weekly(16.5), run_id=1, distance_m=16500)
    await post.live(pain_level("caution", 3), run_id=1, distance_m=16800)
    await post.live(pain_level("danger", 7), run_id=1, distance_m=17000)
    danger, caution = spike(3, 16.1).message, pain_level("caution", 3).message
    received = notification_server.received()
    assert [(n.replaces_id, n.summary, n.urgency, n.timeout_ms) for n in received] == [
        (0, "Longer than your longest run", 1, 15000),
        (1, "Longer than your longest run", 1, 15000),  # 1.3x: the escalation replaces it
        (1, "Longer than your longest run", 2, 0),  # danger: critical, until dismissed
        (1, "Longer than your longest run", 2, 0),  # the warning joins it: still critical
        (1, "Longer than your longest run", 2, 0),  # and so does a caution
        (1, "Pain during the run", 2, 0),  # as serious, another rule: leads, and joins
    ]
    assert [n.icon for n in received[2:]] == ["dialog-error"] * 4
    assert received[3].body == f"{danger}\n{weekly(16.5).message}"
    assert received[4].body == f"{danger}\n{weekly(16.5).message}\n{caution}"
    # Another rule's danger never hides the spike's: both stay, the newest first (the
    # warning and the caution, less serious than both, make room).
    assert received[5].body == f"{pain_level('danger', 7).message}\n{danger}"
    # Each alert was said once, under its own title, and is stored as delivered.
    assert [s.title for s in shown if isinstance(s, Shown)][3:] == [
        "Over this week's cap",
        "Pain during the run",
        "Pain during the run",
    ]
    rows = await stored(writer, "select count(*) from alerts where delivered_at is null")
    assert rows == [(0,)]


async def test_a_less_serious_alert_held_for_a_retry_joins_the_danger_shown(
    writer: RecordingWriter, notification_server: NotificationServer
) -> None:
    post = dispatcher(writer, MONDAY + timedelta(hours=7), [])
    await post.live(spike(3, 16.1), run_id=1, distance_m=16100)
    sender = post.sender
    assert isinstance(sender, DesktopSender)
    sender.notifier.enabled = False  # not delivered: the warning waits for the next retry
    [held] = await post.live_all([weekly(16.5)], run_id=1, distance_m=16500)
    assert not held.delivery.delivered
    sender.notifier.enabled = True
    notification_server.clear()
    [retried] = await post.pending()
    assert retried.delivery.delivered
    [note] = notification_server.received()
    assert (note.replaces_id, note.summary, note.urgency, note.timeout_ms) == (
        1,
        "Longer than your longest run",
        2,
        0,
    )
    assert note.body == f"{spike(3, 16.1).message}\n{weekly(16.5).message}"


async def test_alerts_passed_in_one_check_are_one_notification_most_severe_first(
    writer: RecordingWriter, notification_server: NotificationServer
) -> None:
    shown: list[Event] = []
    post = dispatcher(writer, MONDAY + timedelta(hours=7), shown)
    said = await post.live_all([weekly(16.1), spike(3, 16.1)], run_id=1, distance_m=16100)
    [note] = notification_server.received()
    assert (note.summary, note.urgency) == ("Longer than your longest run", 2)
    assert note.body == f"{spike(3, 16.1).message}\n{weekly(16.1).message}"
    assert [s.title for s in said] == ["Longer than your longest run", "Over this week's cap"]
    assert shown == said
    rows = await stored(writer, "select rule, delivered_at is not null from alerts order by rule")
    assert rows == [("single-run-spike", 1), ("weekly-progression", 1)]


async def test_a_runs_alerts_held_without_a_server_go_out_together(
    writer: RecordingWriter, session_bus: str
) -> None:
    from tests import desktop_bus  # registered as a plugin first (see pytest_plugins)

    post = dispatcher(writer, MONDAY + timedelta(hours=7), [])
    await post.live(weekly(9.5), run_id=1, distance_m=9500)
    await post.live(spike(2, 10.4), run_id=1, distance_m=10400)
    with desktop_bus.spawn_notification_server() as mock:
        retried = await post.pending()
        received = desktop_bus.NotificationServer(mock).received()
    # One notification, not the weekly one at once replaced by the spike (both warnings:
    # oldest first).
    [note] = received
    assert note.body == f"{weekly(9.5).message}\n{spike(2, 10.4).message}"
    assert [s.delivery.delivered for s in retried] == [True, True]


@pytest.fixture
async def buttons() -> AsyncIterator[tuple[Notifier, asyncio.Queue[tuple[int, str]]]]:
    """A notifier keeping its connection, and the buttons pressed on its notifications."""
    pressed: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    async with Notifier(on_action=lambda *press: pressed.put_nowait(press)) as notifier:
        yield notifier, pressed


async def test_a_checkin_answered_with_a_button_goes_into_the_pain_log(
    writer: RecordingWriter,
    action_server: NotificationServer,
    buttons: tuple[Notifier, asyncio.Queue[tuple[int, str]]],
) -> None:
    notifier, pressed = buttons
    clock = VirtualClock(wall_start=MONDAY + timedelta(hours=11), auto_advance=False)
    post = Dispatcher(SETTINGS, writer, DesktopSender(notifier), clock)
    run_id = await writer.call(lambda store: add_run(store, MONDAY + timedelta(hours=7), 6.0))
    await DaemonJobs(SETTINGS, post).after_run_checkin(run_id)
    [asked] = action_server.received()
    assert (asked.summary, asked.urgency, asked.timeout_ms) == ("Pain check-in", 1, 0)
    labels = asked.actions[1::2]
    assert labels == ["No pain", *(str(score) for score in range(1, 11)), "Later"]
    assert asked.actions[0::2] == [str(score) for score in range(11)] + ["later"]
    action_server.press(1, "3")
    await post.answer(*await asyncio.wait_for(pressed.get(), 10))
    action_server.press(1, "5")  # a second press on the same check-in
    await post.answer(*await asyncio.wait_for(pressed.get(), 10))
    rows = await stored(writer, "select score, timing, run_id, at from pain")
    assert rows == [(3, "after", run_id, "2026-01-12T11:00:00+00:00")]
    # The answer replaces the check-in on screen, with what the rules now say.
    [_, logged] = action_server.received()
    assert (logged.summary, logged.replaces_id, logged.actions) == ("Pain logged", 1, [])
    # One Sunday run before it is part of a week, no baseline: the warm-up's guessed cap.
    assert logged.body == (
        "3/10 after your run, in your pain log. Next run at most 6.6 km (1.1 x your longest "
        "run of the past 30 days (6.0 km)); this week's cap at 18.0 km."
    )


async def test_later_asks_again_then_the_morning_answer_is_stored(
    writer: RecordingWriter,
    action_server: NotificationServer,
    buttons: tuple[Notifier, asyncio.Queue[tuple[int, str]]],
) -> None:
    notifier, pressed = buttons
    clock = VirtualClock(wall_start=MONDAY + timedelta(hours=8), auto_advance=False)
    post = Dispatcher(SETTINGS, writer, DesktopSender(notifier), clock)
    await writer.call(lambda store: morning(store, SETTINGS, clock.wall()))  # Sunday's run
    [shown] = await post.pending()
    action_server.press(1, "later")
    await post.answer(*await asyncio.wait_for(pressed.get(), 10))
    clock.advance(59 * 60)
    assert await post.pending() == []
    clock.advance(60)  # notifications.later_min = 60
    [again] = await post.pending()
    assert again.item == shown.item
    action_server.press(1, "0")  # "No pain"
    await post.answer(*await asyncio.wait_for(pressed.get(), 10))
    rows = await stored(writer, "select score, timing, run_id, at from pain")
    assert rows == [(0, "morning", None, "2026-01-12T09:00:00+00:00")]
    assert [(n.summary, n.replaces_id) for n in action_server.received()] == [
        ("Pain check-in", 0),
        ("Pain check-in", 1),
        ("Pain logged", 1),
    ]
    assert await post.pending() == []


async def test_checkin_in_plain_text_where_the_server_has_no_buttons(
    writer: RecordingWriter, notification_server: NotificationServer
) -> None:
    post = dispatcher(writer, MONDAY + timedelta(hours=11), [])
    run_id = await writer.call(lambda store: add_run(store, MONDAY + timedelta(hours=7), 6.0))
    await DaemonJobs(SETTINGS, post).after_run_checkin(run_id)
    [asked] = notification_server.received()
    assert asked.actions == []
    assert asked.body.endswith(f"Log it (0-10): stridewatch pain N --when after --run {run_id}")


async def test_a_danger_of_another_rule_never_hides_the_danger_shown(
    writer: RecordingWriter, notification_server: NotificationServer
) -> None:
    """The spike's danger, then the week's cap passed at a danger too: both stay on the
    run's one notification, the newest first; the spike's own escalation still replaces."""
    post = dispatcher(writer, MONDAY + timedelta(hours=7), [])
    await post.live(spike(3, 16.1), run_id=1, distance_m=16100)
    week_danger = replace(weekly(16.5), severity="danger")
    await post.live(week_danger, run_id=1, distance_m=16500)
    received = notification_server.received()
    assert received[-1].replaces_id == 1
    assert received[-1].body == f"{week_danger.message}\n{spike(3, 16.1).message}"


def test_every_rule_has_a_title_in_words() -> None:
    """A notification's title names what happened, never a rule's id ("Danger: pain-limit")."""
    from agent.daemon.delivery import TITLES
    from agent.rules import context, pain, progression

    rules = [
        progression.WEEKLY, progression.SPIKE, progression.RETURN, progression.PLAN,
        progression.PAIN_LIMIT, progression.NO_HISTORY, context.ACWR, context.MONOTONY,
        pain.DURING, pain.LEVEL, pain.BASELINE, pain.TREND,
    ]  # fmt: skip
    assert [rule for rule in rules if rule not in TITLES] == []
