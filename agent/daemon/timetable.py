"""The daemon's timetable: nightly summary, pain check-ins, delivery retries (apscheduler 3).

Cron triggers run in the configured zone. A laptop that slept through a job runs it once on
wake, never several times: every job coalesces missed runs and has a misfire grace time
(a summary at 21:00 is still worth reading the next morning; a morning check-in is not
worth sending in the evening).

The wall clock can be set while the daemon runs (by hand, by NTP after a long drift) and a
laptop can sleep: apscheduler's next run times are wall times but its wake-up timer is the event
loop's monotonic one, so a clock set back two days would leave every job waiting two days, and a
sleep would wake the scheduler late. :class:`RealTimetable` compares the clocks every
:data:`CLOCK_CHECK_S`: a wall clock set by more than :data:`CLOCK_JUMP_S` rebuilds the recurring
jobs from the new time (and moves pending after-run check-ins with the clock), and a sleep runs
what came due; each is logged.

Both timetables implement :class:`Timetable`: :class:`RealTimetable` is apscheduler on real
time; :class:`SimulatedTimetable` fires the same jobs at the same local times on a
:class:`~agent.clock.Clock`'s wall time, for simulations on a sped-up or virtual clock
(apscheduler reads the system clock, so it cannot follow simulated time).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time as systime
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Protocol

from agent.config import Settings

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from agent.clock import Clock

from agent.config import AFTER_RUN_GRACE_S

log = logging.getLogger("stridewatch.schedule")

# Missed-run grace times, in seconds (see the module docstring).
SUMMARY_GRACE_S = 12 * 3600
MORNING_GRACE_S = 4 * 3600
# Undelivered alerts (no notification server, quiet hours) are retried every
# ``notifications.retry_interval_s`` (default 15 min).
# The clocks are compared this often; a wall clock set by more than CLOCK_JUMP_S (NTP slews
# smaller errors, by at most 0.5 ms a second), or a sleep longer than it, is acted on.
CLOCK_CHECK_S = 5.0
CLOCK_JUMP_S = 60.0


class Jobs(Protocol):
    """What the scheduler calls; the daemon implements it."""

    async def nightly_summary(self) -> None: ...

    async def morning_checkin(self) -> None: ...

    async def after_run_checkin(self, run_id: int) -> None: ...

    async def retry_deliveries(self) -> None: ...


def build_scheduler(settings: Settings, jobs: Jobs) -> AsyncIOScheduler:
    """An AsyncIOScheduler (not yet started) with the recurring jobs in the configured zone."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    zone = settings.zone
    scheduler = AsyncIOScheduler(timezone=zone, job_defaults={"coalesce": True, "max_instances": 1})
    add_recurring(scheduler, settings, jobs)
    return scheduler


def _until_stopped(job: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """``job`` as apscheduler runs it, in a task of its own: cancelled by the daemon's stop,
    it ends with one log line (what it stored stays; the rest goes at the next retry)
    instead of apscheduler's traceback of the cancellation."""

    async def run(*args: object) -> None:
        try:
            await job(*args)
        except asyncio.CancelledError:
            log.info("%s: interrupted by the stop", getattr(job, "__name__", "a job"))

    run.__name__ = getattr(job, "__name__", "job")
    return run


def add_recurring(scheduler: AsyncIOScheduler, settings: Settings, jobs: Jobs) -> None:
    """Add (or replace) the nightly summary, the morning check-in and the delivery retries,
    their triggers starting from the current wall time."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    zone = settings.zone
    summary, morning = settings.schedule.summary, settings.schedule.morning_checkin
    scheduler.add_job(
        _until_stopped(jobs.nightly_summary),
        CronTrigger(hour=summary.hour, minute=summary.minute, second=summary.second, timezone=zone),
        id="nightly-summary",
        misfire_grace_time=SUMMARY_GRACE_S,
        replace_existing=True,
    )
    scheduler.add_job(
        _until_stopped(jobs.morning_checkin),
        CronTrigger(hour=morning.hour, minute=morning.minute, second=morning.second, timezone=zone),
        id="morning-checkin",
        misfire_grace_time=MORNING_GRACE_S,
        replace_existing=True,
    )
    retry_s = settings.notifications.retry_interval_s
    scheduler.add_job(
        _until_stopped(jobs.retry_deliveries),
        IntervalTrigger(seconds=retry_s, timezone=zone),
        id="retry-deliveries",
        misfire_grace_time=max(1, int(retry_s)),
        replace_existing=True,
    )


def schedule_after_run_checkin(
    scheduler: AsyncIOScheduler,
    settings: Settings,
    run_id: int,
    ended_at: datetime,
    job: Callable[[int], Awaitable[None]],
) -> datetime:
    """A one-off pain check-in ``after_run_checkin_h`` after the run ended; returns when."""

    when = ended_at + timedelta(hours=settings.schedule.after_run_checkin_h)
    _add_checkin(scheduler, settings, run_id, when, job)
    return when


def _add_checkin(
    scheduler: AsyncIOScheduler,
    settings: Settings,
    run_id: int,
    when: datetime,
    job: Callable[[int], Awaitable[None]],
) -> None:
    from apscheduler.triggers.date import DateTrigger

    scheduler.add_job(
        _until_stopped(job),
        DateTrigger(run_date=when, timezone=settings.zone),
        args=[run_id],
        id=f"after-run-checkin:{run_id}",
        replace_existing=True,
        misfire_grace_time=AFTER_RUN_GRACE_S,
    )


@dataclass(frozen=True, slots=True)
class ClockReading:
    """The system's clocks at one instant, in seconds: ``wall`` (``CLOCK_REALTIME``, what
    apscheduler's run times are in), ``boot`` (``CLOCK_BOOTTIME``: counts a suspend, never
    set) and ``mono`` (``CLOCK_MONOTONIC``, the event loop's timers: stops in a suspend)."""

    wall: float
    boot: float
    mono: float


def read_clocks() -> ClockReading:
    return ClockReading(
        systime.time(), systime.clock_gettime(systime.CLOCK_BOOTTIME), systime.monotonic()
    )


def clock_change(before: ClockReading, after: ClockReading) -> tuple[float, float]:
    """``(set_s, slept_s)`` between two readings: how far the wall clock was set (negative:
    back), and how long the machine was suspended."""
    set_s = (after.wall - after.boot) - (before.wall - before.boot)
    slept_s = (after.boot - after.mono) - (before.boot - before.mono)
    return set_s, slept_s


def _span(seconds: float) -> str:
    """``2.0 days``, ``5.0 h``, ``90 s``: a clock set back two days reads as two days,
    though the readings around the change are milliseconds apart."""
    seconds = abs(seconds)
    if seconds >= 1.5 * 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 1.5 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds:.0f} s"


# -- one interface, two timetables -----------------------------------------------------------


class Timetable(Protocol):
    """Runs :class:`Jobs` at their times; the daemon starts it, adds check-ins, stops it."""

    def start(self) -> None: ...

    def after_run(self, run_id: int, ended_at: datetime) -> datetime:
        """Schedule the pain check-in ``after_run_checkin_h`` after a run; return when."""
        ...

    async def stop(self) -> None: ...


class RealTimetable:
    """apscheduler's AsyncIOScheduler on the system clock (the daemon in real time)."""

    def __init__(self, settings: Settings, jobs: Jobs) -> None:
        self.settings = settings
        self.jobs = jobs
        self.scheduler = build_scheduler(settings, jobs)

    def start(self) -> None:
        self.scheduler.start()
        self._watch = asyncio.create_task(self._watch_clocks(), name="clock-watch")

    def after_run(self, run_id: int, ended_at: datetime) -> datetime:
        job = self.jobs.after_run_checkin
        return schedule_after_run_checkin(self.scheduler, self.settings, run_id, ended_at, job)

    async def stop(self) -> None:
        watch = getattr(self, "_watch", None)
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def _watch_clocks(self) -> None:
        last = read_clocks()
        while True:
            await asyncio.sleep(CLOCK_CHECK_S)
            now = read_clocks()
            set_s, slept_s = clock_change(last, now)
            last = now
            if abs(set_s) >= CLOCK_JUMP_S:
                self.clock_set(set_s)
            elif slept_s >= CLOCK_JUMP_S:
                log.info("the machine slept %s: running what came due", _span(slept_s))
                self.scheduler.wakeup()

    def clock_set(self, set_s: float) -> None:
        """The wall clock was set by ``set_s`` seconds: the recurring jobs start again from
        the new time, and each pending after-run check-in moves with the clock (it is due a
        few hours after a run whose end the old clock measured)."""
        way = "forward" if set_s > 0 else "back"
        log.warning(
            "the wall clock was set %s by %s: rescheduling the summary, check-ins and retries",
            way,
            _span(set_s),
        )
        add_recurring(self.scheduler, self.settings, self.jobs)
        for job in self.scheduler.get_jobs():
            if job.id.startswith("after-run-checkin:"):
                when = job.trigger.run_date + timedelta(seconds=set_s)
                _add_checkin(self.scheduler, self.settings, job.args[0], when, job.func)


def next_daily(after: datetime, at: time, zone: tzinfo) -> datetime:
    """The first local ``at`` strictly after ``after`` (UTC), DST-aware."""
    local = after.astimezone(zone)
    for days in (0, 1, 2):
        day = local.date() + timedelta(days=days)
        candidate = datetime.combine(day, at, zone).astimezone(UTC)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a local time recurs within two days")


class SimulatedTimetable:
    """The same jobs at the same local times, on ``clock``'s wall time.

    One task sleeps on the clock until the earliest due job, runs it, and computes that
    job's next time from the current wall time, so a job that came due several times while
    another ran runs once (as apscheduler's coalescing does). A new after-run check-in
    interrupts the sleep to recompute. The task sleeps on the clock itself (no helper
    tasks), so a virtual clock knows of the sleep at once and cannot jump past it.
    """

    def __init__(self, settings: Settings, jobs: Jobs, clock: Clock) -> None:
        self.settings = settings
        self.jobs = jobs
        self.clock = clock
        self.fired: list[tuple[datetime, str]] = []
        self._due: dict[str, datetime] = {}
        self._once: list[tuple[datetime, int, int]] = []  # (when, seq, run_id)
        self._seq = itertools.count()
        self._sleeping = False
        self._interrupted = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        now = self.clock.wall()
        schedule = self.settings.schedule
        self._due = {
            "nightly-summary": next_daily(now, schedule.summary, self.settings.zone),
            "morning-checkin": next_daily(now, schedule.morning_checkin, self.settings.zone),
            "retry-deliveries": now + self._retry,
        }
        self._task = asyncio.create_task(self._loop(), name="timetable")

    @property
    def _retry(self) -> timedelta:
        return timedelta(seconds=self.settings.notifications.retry_interval_s)

    def after_run(self, run_id: int, ended_at: datetime) -> datetime:
        when = ended_at + timedelta(hours=self.settings.schedule.after_run_checkin_h)
        self._once = [entry for entry in self._once if entry[2] != run_id]
        heapq.heapify(self._once)
        heapq.heappush(self._once, (when, next(self._seq), run_id))
        if self._sleeping and self._task is not None:
            self._interrupted = True
            self._task.cancel()  # caught in _loop: recompute the next job
        return when

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            when, name = self._next()
            delay = (when - self.clock.wall()).total_seconds()
            if delay > 0 and not await self._slept(delay):
                continue
            await self._fire(name)

    async def _slept(self, delay: float) -> bool:
        """Sleep ``delay``; False if an after-run check-in interrupted it."""
        self._sleeping = True
        try:
            await self.clock.sleep(delay)
        except asyncio.CancelledError:
            if not self._interrupted:
                raise
            self._interrupted = False
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            return False
        finally:
            self._sleeping = False
        return True

    def _next(self) -> tuple[datetime, str]:
        name = min(self._due, key=lambda key: self._due[key])
        if self._once and self._once[0][0] <= self._due[name]:
            return self._once[0][0], "after-run-checkin"
        return self._due[name], name

    async def _fire(self, name: str) -> None:
        now = self.clock.wall()
        self.fired.append((now, name))
        try:
            if name == "after-run-checkin":
                _, _, run_id = heapq.heappop(self._once)
                await self.jobs.after_run_checkin(run_id)
            elif name == "retry-deliveries":
                self._due[name] = now + self._retry
                await self.jobs.retry_deliveries()
            else:
                await self._fire_daily(name, now)
        except Exception:  # a failing job is logged, as apscheduler does; the rest go on
            log.exception("job %s failed", name)

    async def _fire_daily(self, name: str, now: datetime) -> None:
        schedule, zone = self.settings.schedule, self.settings.zone
        if name == "nightly-summary":
            self._due[name] = next_daily(now, schedule.summary, zone)
            await self.jobs.nightly_summary()
        else:
            self._due[name] = next_daily(now, schedule.morning_checkin, zone)
            await self.jobs.morning_checkin()
