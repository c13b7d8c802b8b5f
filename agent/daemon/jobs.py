"""What the daemon says and when: the nightly summary, the morning and after-run pain
check-ins and the low-battery alert (pure messages), and the timetable's jobs that store each
and hand it to the :class:`~agent.daemon.delivery.Dispatcher`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.advice.checks import check, load_history
from agent.daemon.delivery import AFTER_RUN, LOW_BATTERY, Dispatcher
from agent.errors import NotFoundError, StoreError
from agent.models import Alert, Run
from agent.rules.allowance import LIMIT_LABELS, Allowance, allowance
from agent.rules.load import day_start, local_date
from agent.sensors.base import BatteryLevel
from agent.units import budget_json, format_against, format_budget, format_km, km_json

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.store import Store

log = logging.getLogger("stridewatch.delivery")


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
        done, cap = format_against(week.distance_km, week.cap_km, settings.units)
        head = (
            f"This week: {done} of its {cap} cap{held}; "
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
        "distance_km": km_json(week.distance_km),
        "cap_km": budget_json(week.cap_km),
        "remaining_km": budget_json(week.remaining_km),
        "held": week.held,
        "phase": ahead.phase,
        "tomorrow_max_km": None if binding is None else budget_json(binding.km),
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
    return store.save_checkin(f"{AFTER_RUN}{run_id}", "after", at, message, run_id)


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
