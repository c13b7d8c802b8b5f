"""The daemon's timetable: nightly summary, pain check-ins, delivery retries (apscheduler 3).

Cron triggers run in the configured zone. A laptop that slept through a job runs it once on
wake, never several times: every job coalesces missed runs and has a misfire grace time
(a summary at 21:00 is still worth reading the next morning; a morning check-in is not
worth sending in the evening).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from agent.config import Settings

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

# Missed-run grace times, in seconds (see the module docstring).
SUMMARY_GRACE_S = 12 * 3600
MORNING_GRACE_S = 4 * 3600
AFTER_RUN_GRACE_S = 8 * 3600
# Undelivered alerts (no notification server, quiet hours) are retried this often.
RETRY_INTERVAL_S = 15 * 60


class Jobs(Protocol):
    """What the scheduler calls; the daemon implements it."""

    async def nightly_summary(self) -> None: ...

    async def morning_checkin(self) -> None: ...

    async def after_run_checkin(self, run_id: int) -> None: ...

    async def retry_deliveries(self) -> None: ...


def build_scheduler(settings: Settings, jobs: Jobs) -> AsyncIOScheduler:
    """An AsyncIOScheduler (not yet started) with the recurring jobs in the configured zone."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    zone = settings.zone
    scheduler = AsyncIOScheduler(timezone=zone, job_defaults={"coalesce": True, "max_instances": 1})
    summary, morning = settings.schedule.summary, settings.schedule.morning_checkin
    scheduler.add_job(
        jobs.nightly_summary,
        CronTrigger(hour=summary.hour, minute=summary.minute, second=summary.second, timezone=zone),
        id="nightly-summary",
        misfire_grace_time=SUMMARY_GRACE_S,
    )
    scheduler.add_job(
        jobs.morning_checkin,
        CronTrigger(hour=morning.hour, minute=morning.minute, second=morning.second, timezone=zone),
        id="morning-checkin",
        misfire_grace_time=MORNING_GRACE_S,
    )
    scheduler.add_job(
        jobs.retry_deliveries,
        IntervalTrigger(seconds=RETRY_INTERVAL_S, timezone=zone),
        id="retry-deliveries",
        misfire_grace_time=RETRY_INTERVAL_S,
    )
    return scheduler


def schedule_after_run_checkin(
    scheduler: AsyncIOScheduler,
    settings: Settings,
    run_id: int,
    ended_at: datetime,
    job: Callable[[int], Awaitable[None]],
) -> datetime:
    """A one-off pain check-in ``after_run_checkin_h`` after the run ended; returns when."""
    from apscheduler.triggers.date import DateTrigger

    when = ended_at + timedelta(hours=settings.schedule.after_run_checkin_h)
    scheduler.add_job(
        job,
        DateTrigger(run_date=when, timezone=settings.zone),
        args=[run_id],
        id=f"after-run-checkin:{run_id}",
        replace_existing=True,
        misfire_grace_time=AFTER_RUN_GRACE_S,
    )
    return when
