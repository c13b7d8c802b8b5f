"""The timetable: jobs in the configured zone, and a missed job runs once on wake."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from agent.config import Settings
from agent.config_load import validate_settings
from agent.daemon.timetable import build_scheduler, schedule_after_run_checkin


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def nightly_summary(self) -> None:
        self.calls.append("summary")

    async def morning_checkin(self) -> None:
        self.calls.append("morning")

    async def after_run_checkin(self, run_id: int) -> None:
        self.calls.append(f"after:{run_id}")

    async def retry_deliveries(self) -> None:
        self.calls.append("retry")


def settings(**schedule: object) -> Settings:
    return validate_settings({"timezone": "Europe/Berlin", "schedule": schedule})


async def test_jobs_fire_at_the_configured_local_times() -> None:
    scheduler = build_scheduler(settings(summary="21:00", morning_checkin="08:00"), Recorder())
    scheduler.start(paused=True)
    try:
        summary = scheduler.get_job("nightly-summary").trigger
        now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
        first = summary.get_next_fire_time(None, now)
        assert first.isoformat() == "2026-07-01T21:00:00+02:00"
        winter = summary.get_next_fire_time(None, datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
        assert winter.isoformat() == "2026-12-01T21:00:00+01:00"
        morning = scheduler.get_job("morning-checkin").trigger
        assert morning.get_next_fire_time(None, now).isoformat() == "2026-07-02T08:00:00+02:00"
    finally:
        scheduler.shutdown(wait=False)


async def test_summary_at_its_time_runs_once() -> None:
    soon = datetime.now(UTC).astimezone(Settings(timezone="Europe/Berlin").zone) + timedelta(
        seconds=1.5
    )
    jobs = Recorder()
    scheduler = build_scheduler(
        settings(summary=time(soon.hour, soon.minute, soon.second).isoformat()), jobs
    )
    scheduler.start()
    try:
        await asyncio.sleep(2.5)
    finally:
        scheduler.shutdown(wait=False)
    assert jobs.calls.count("summary") == 1


async def test_jobs_missed_while_asleep_run_once_on_wake() -> None:
    jobs = Recorder()
    scheduler = build_scheduler(settings(), jobs)
    scheduler.start(paused=True)
    try:
        # As after a suspend: the summary was due 9 hours ago (several runs missed at most
        # once a day, the retry job many times); on wake each job runs once.
        past = datetime.now(UTC) - timedelta(hours=9)
        scheduler.get_job("nightly-summary").modify(next_run_time=past)
        scheduler.get_job("retry-deliveries").modify(next_run_time=past)
        scheduler.resume()
        await asyncio.sleep(0.3)
    finally:
        scheduler.shutdown(wait=False)
    assert jobs.calls.count("summary") == 1
    assert jobs.calls.count("retry") == 1


async def test_after_run_checkin_is_scheduled_hours_after_the_run() -> None:
    jobs = Recorder()
    config = settings(after_run_checkin_h=4)
    scheduler = build_scheduler(config, jobs)
    scheduler.start(paused=True)
    try:
        ended = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
        when = schedule_after_run_checkin(scheduler, config, 7, ended, jobs.after_run_checkin)
        assert when == ended + timedelta(hours=4)
        job = scheduler.get_job("after-run-checkin:7")
        assert job.args == (7,)
        # Scheduling the same run again replaces the job instead of adding a second one.
        schedule_after_run_checkin(scheduler, config, 7, ended, jobs.after_run_checkin)
        assert [j.id for j in scheduler.get_jobs()].count("after-run-checkin:7") == 1
    finally:
        scheduler.shutdown(wait=False)
