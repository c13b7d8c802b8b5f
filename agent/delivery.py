"""What the daemon says, and making sure it gets said: store first, notify, mark delivered.

Every alert, nightly summary and pain check-in is written to the database before a
notification is attempted, and marked delivered only when the notification call succeeded
(:class:`~agent.notify.Notifier` reports an unreachable server and plyer's failures). What
did not go out stays undelivered and is retried by the next job. Quiet hours hold everything
but live alerts during a run; the next job after them sends what was held. Deduplication is
by key: the store keeps one alert per key and only escalations are said again; a day has one
summary and a check-in one key.

:class:`DaemonJobs` is the :class:`~agent.schedule.Jobs` the timetable calls. The message
builders are pure functions of allowances and runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from agent.checks import check, load_history
from agent.errors import NotFoundError, StoreError
from agent.live import HEADS_UP
from agent.load import day_start, local_date
from agent.models import Alert, Run
from agent.notify import Delivery, Notifier, in_quiet_hours
from agent.rules.allowance import LIMIT_LABELS, Allowance, allowance
from agent.rules.progression import SPIKE, WEEKLY
from agent.sensors.base import BatteryLevel
from agent.store import Outgoing
from agent.units import floor_to, format_budget, format_km

if TYPE_CHECKING:
    from agent.clock import Clock
    from agent.config import Settings
    from agent.store import Store

T = TypeVar("T")
log = logging.getLogger("stridewatch.delivery")

# Undelivered notifications older than this are not retried: a summary or a check-in two
# days late says nothing useful, and a first daemon start must not replay every alert that
# `stridewatch check` ever stored.
RETRY_WINDOW = timedelta(days=2)

LOW_BATTERY = "low-battery"

TITLES = {
    SPIKE: "Longer than your longest run",
    WEEKLY: "Over this week's cap",
    HEADS_UP: "Turn-around point",
    "pain-during": "Pain during the run",
    "pain-baseline": "Pain above your baseline",
    "acwr": "Training load rising",
    "monotony": "Training load too even",
    LOW_BATTERY: "Sensor battery low",
    "synced": "Run synced",
}


class StoreAccess(Protocol):
    """Runs a function on the thread that owns the store (``RecordingWriter``)."""

    async def call(self, func: Callable[[Store], T]) -> T: ...


class Sender(Protocol):
    """Shows one notification; never raises."""

    async def deliver(self, item: Outgoing, title: str) -> Delivery: ...


class DesktopSender:
    """The daemon's sender: a desktop notification through :class:`Notifier`."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    async def deliver(self, item: Outgoing, title: str) -> Delivery:
        return await self.notifier.send(title, item.message)


@dataclass(frozen=True, slots=True)
class Shown:
    """One notification attempt, for whoever watches the daemon (the demo prints these)."""

    item: Outgoing
    title: str
    delivery: Delivery
    live: bool


@dataclass(frozen=True, slots=True)
class RunRecorded:
    """A run the daemon closed and stored."""

    run_id: int
    started_at: datetime
    ended_at: datetime
    distance_m: float
    moving_s: float


Event = Shown | RunRecorded
Listener = Callable[[Event], None]


def title_of(item: Outgoing) -> str:
    if item.kind == "summary":
        return "Tonight's summary"
    if item.kind == "checkin":
        return "Pain check-in"
    if item.rule == WEEKLY and item.severity == "caution":
        return "Nearly at this week's cap"
    title = TITLES.get(item.rule or "")
    return title or f"{(item.severity or 'info').capitalize()}: {item.rule}"


class Dispatcher:
    """Stores, sends and marks notifications; holds the non-live ones in quiet hours."""

    def __init__(
        self,
        settings: Settings,
        store: StoreAccess,
        sender: Sender,
        clock: Clock,
        listener: Listener | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.sender = sender
        self.clock = clock
        self.listener = listener
        self._failure: str | None = None
        # One notification at a time: a retry must not resend what a live alert is sending.
        self._lock = asyncio.Lock()

    def quiet(self, at: datetime) -> bool:
        n = self.settings.notifications
        return in_quiet_hours(at.astimezone(self.settings.zone).time(), n.quiet_start, n.quiet_end)

    async def live(
        self, alert: Alert, *, run_id: int, distance_m: float, at: datetime | None = None
    ) -> Shown | None:
        """Store a live alert (raised ``at``, default now) and show it at once, quiet hours
        or not. None when its key was already said at this level."""
        at = at or self.clock.wall()
        async with self._lock:
            return await self._live(alert, run_id, distance_m, at)

    async def _live(
        self, alert: Alert, run_id: int, distance_m: float, at: datetime
    ) -> Shown | None:
        alert_id = await self.store.call(
            lambda s: s.record_live_alert(
                alert, raised_at=at, run_id=run_id, at_distance_m=distance_m
            )
        )
        if alert_id is None:
            log.debug("%s: already said at this level", alert.key)
            return None
        item = Outgoing("alert", str(alert_id), at, alert.severity, alert.rule, alert.message)
        return await self._send(item, live=True)

    async def notice(
        self, alert: Alert, *, at: datetime | None = None, run_id: int | None = None
    ) -> Shown | None:
        """Store an alert that is not about a run in progress (a sensor's low battery, a
        synced run ``run_id``) and show it unless it is quiet hours; held ones go out with
        the next retry. None when its key was already said."""
        at = at or self.clock.wall()
        async with self._lock:
            alert_id = await self.store.call(
                lambda s: s.record_live_alert(
                    alert, raised_at=at, run_id=run_id, at_distance_m=None
                )
            )
            if alert_id is None or self.quiet(at):
                return None
            item = Outgoing("alert", str(alert_id), at, alert.severity, alert.rule, alert.message)
            return await self._send(item)

    async def _send(self, item: Outgoing, *, live: bool = False) -> Shown:
        """Show one stored item; mark it delivered if that worked."""
        title = title_of(item)
        delivery = await self.sender.deliver(item, title)
        if delivery.delivered:
            at = self.clock.wall()
            await self.store.call(lambda s: s.mark_delivered(item.kind, item.ref, at))
            log.info("notified: %s: %s", title, item.message)
            self._failure = None
        else:
            # One warning per cause, not one per retry: the retries go on quietly.
            level = logging.DEBUG if delivery.detail == self._failure else logging.WARNING
            log.log(
                level,
                "not delivered (%s): %s; kept, retrying every %g s",
                delivery.detail,
                title,
                self.settings.notifications.retry_interval_s,
            )
            self._failure = delivery.detail
        shown = Shown(item, title, delivery, live)
        if self.listener is not None:
            self.listener(shown)
        return shown

    async def pending(self) -> list[Shown]:
        """Send what is undelivered (oldest first) unless it is quiet hours; stop at the
        first failure, since the rest would fail the same way."""
        now = self.clock.wall()
        if self.quiet(now):
            return []
        async with self._lock:
            items = await self.store.call(lambda s: s.undelivered(since=now - RETRY_WINDOW))
            shown = []
            for item in items:
                shown.append(await self._send(item))
                if not shown[-1].delivery.delivered:
                    break
            return shown


# -- messages (pure) -----------------------------------------------------------------------


def low_battery_alert(event: BatteryLevel, day: date, threshold: int) -> Alert:
    """The once-a-day notice for a sensor whose battery is at or below ``threshold``."""
    sensor = "Footpod" if event.kind == "footpod" else "Heart-rate strap"
    return Alert(
        rule=LOW_BATTERY,
        severity="info",
        message=f"{sensor} {event.address} battery at {event.percent}%: charge or replace it "
        "before your next run, or the run may go unrecorded.",
        key=f"{LOW_BATTERY}:{event.address}:{day.isoformat()}",
        data={
            "address": event.address,
            "kind": event.kind,
            "percent": event.percent,
            "threshold": threshold,
        },
    )


def _dist(km: float, settings: Settings) -> str:
    return format_km(km, settings.units)


def summary_message(
    week: Allowance, ahead: Allowance, settings: Settings
) -> tuple[str, dict[str, Any]]:
    """The nightly summary: this week against its cap, what is left, and tomorrow's
    allowance with the limit that binds it (``ahead`` is the allowance at the start of
    tomorrow). Budgets are rounded down, as everywhere."""
    if week.cap_km is None:
        head = f"This week: {_dist(week.distance_km, settings)} so far; no cap yet (it needs a "
        head += "complete week of history)."
    else:
        held = ", held at the baseline while pain settles" if week.held else ""
        head = (
            f"This week: {format_budget(week.distance_km, settings.units)} of its "
            f"{format_budget(week.cap_km, settings.units)} cap{held}; "
            f"{format_budget(week.remaining_km, settings.units)} left."
        )
    binding = ahead.binding
    tomorrow = "Tomorrow, a new week" if ahead.week_start != week.week_start else "Tomorrow"
    if binding is None:
        tail = f"{tomorrow}: no limit known."
    elif binding.km <= 0:
        tail = f"{tomorrow}: {binding.reason}."
    else:
        tail = (
            f"{tomorrow}: {format_budget(binding.km, settings.units)} at most "
            f"({LIMIT_LABELS[binding.rule]})."
        )
    data = {
        "week_start": week.week_start.isoformat(),
        "distance_km": round(week.distance_km, 3),
        "cap_km": None if week.cap_km is None else round(week.cap_km, 3),
        "remaining_km": None if week.remaining_km is None else floor_to(week.remaining_km, 3),
        "held": week.held,
        "phase": ahead.phase,
        "tomorrow_max_km": None if binding is None else floor_to(binding.km, 3),
        "tomorrow_limit": None if binding is None else binding.rule,
    }
    return f"{head} {tail}", data


def after_run_message(run: Run, settings: Settings) -> str:
    ended = (run.ended_at or run.started_at).astimezone(settings.zone)
    return (
        f"Your {_dist(run.distance_km, settings)} run ended at {ended:%H:%M}. Any pain now? "
        f"Log it (0-10): stridewatch pain N --when after --run {run.id}"
    )


def morning_message(runs: list[Run], settings: Settings) -> str:
    km = sum(run.distance_km for run in runs)
    what = "run" if len(runs) == 1 else f"{len(runs)} runs"
    return (
        f"How does it feel this morning after yesterday's {_dist(km, settings)} {what}? "
        "Log it (0-10): stridewatch pain N --when morning"
    )


# -- the jobs ------------------------------------------------------------------------------


def nightly(store: Store, settings: Settings, at: datetime) -> bool:
    """Check the rules (storing new alerts) and store the summary of ``at``'s day;
    False if that day already has one."""
    assessment, _ = check(store, settings, at)
    tomorrow = day_start(local_date(at, settings.zone) + timedelta(days=1), settings.zone)
    ahead = allowance(load_history(store, settings, tomorrow), settings, tomorrow)
    message, data = summary_message(assessment.allowance, ahead, settings)
    return store.save_summary(local_date(at, settings.zone), at, message, data)


def morning(store: Store, settings: Settings, at: datetime) -> bool:
    """A morning check-in if there was a run yesterday (local); False if none or done."""
    today = local_date(at, settings.zone)
    since = day_start(today - timedelta(days=1), settings.zone)
    runs = store.runs(since=since, until=day_start(today, settings.zone) - timedelta(seconds=1))
    if not runs:
        return False
    key = f"morning:{today.isoformat()}"
    return store.save_checkin(key, "morning", at, morning_message(runs, settings))


def after_run(store: Store, settings: Settings, at: datetime, run_id: int) -> bool:
    """The check-in some hours after run ``run_id``; False if done (or the run is gone)."""
    try:
        run = store.get_run(run_id)
    except NotFoundError:
        return False
    message = after_run_message(run, settings)
    return store.save_checkin(f"after:run:{run_id}", "after", at, message, run_id)


class DaemonJobs:
    """What the timetable runs: each job stores first, then sends what is undelivered."""

    def __init__(self, settings: Settings, dispatcher: Dispatcher) -> None:
        self.settings = settings
        self.dispatcher = dispatcher

    async def nightly_summary(self) -> None:
        at = self.dispatcher.clock.wall()
        await self._job("nightly summary", lambda s: nightly(s, self.settings, at))

    async def morning_checkin(self) -> None:
        at = self.dispatcher.clock.wall()
        await self._job("morning check-in", lambda s: morning(s, self.settings, at))

    async def after_run_checkin(self, run_id: int) -> None:
        at = self.dispatcher.clock.wall()
        await self._job("after-run check-in", lambda s: after_run(s, self.settings, at, run_id))

    async def retry_deliveries(self) -> None:
        await self._job("delivery retry", None)

    async def _job(self, name: str, store_it: Callable[[Store], bool] | None) -> None:
        """Store the job's message (if any), then send what is undelivered. A database that
        refuses (locked by another program, a full disk) costs one log line, not the daemon:
        undelivered messages go at the next retry, a summary or check-in at its next time."""
        try:
            if store_it is not None:
                await self.dispatcher.store.call(store_it)
            await self.dispatcher.pending()
        except StoreError as exc:
            log.warning("%s skipped: %s", name, exc)
