"""The assessment: the history read from the store (run totals, never samples) and run
through the pure load model and rules, for ``check``, ``summary`` and the daemon."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from agent import units
from agent.errors import InputError
from agent.models import Alert, PainReport, Run
from agent.rules.allowance import Allowance, allowance
from agent.rules.evaluate import evaluate, rank
from agent.rules.load import History, acwr, day_start, monotony_strain, week_of
from agent.rules.pain import TREND
from agent.rules.plan import Plan, PlanStatus
from agent.rules.progression import WEEKLY

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.store import Store


# How far back the rules read. Every window is shorter (4 baseline weeks before last week,
# 30 days before a run of the past week), and the 28-day EWMA weight of a load 180 days old
# is (27/29)^180, about 3e-6, so older runs cannot change any number shown.
HISTORY_WINDOW = timedelta(days=180)


# The limits that bound one run (not the week) from history: a plan never starts above them.
RUN_LIMITS = ("single-run", "return", "pain")


# Before a break longer than that window: the baseline weeks and the 30-day longest run.
PRE_BREAK_WINDOW = timedelta(weeks=6)


@dataclass(frozen=True, slots=True)
class Assessment:
    """The state at one instant: the allowance, load context, plan status and alerts."""

    at: datetime
    allowance: Allowance
    acwr: float | None
    monotony: float | None
    strain: float | None
    plan: PlanStatus | None
    alerts: tuple[Alert, ...]


def load_history(store: Store, settings: Settings, at: datetime) -> History:
    """Runs and pain up to ``at`` (runs that started at or before it), and the active plan."""
    plan = store.active_plan(at=at, parse=lambda id_, data: Plan.from_json({**data, "id": id_}))
    declared = store.declared_level(at=at)
    # From the start of a week, so every instant of a week reads the same runs: the credit
    # chain (a run counts up to its limit) must not shift mid-week as the window slides.
    since = day_start(week_of(at - HISTORY_WINDOW, settings), settings.zone)
    if plan is not None:
        since = min(since, day_start(plan.start_week, settings.zone) - timedelta(weeks=5))
    since = _before_a_long_break(store, settings, since, at)
    runs = store.runs(since=since, until=at)
    pain = store.pain_reports(since=since, until=at)
    return History(runs=tuple(runs), pain=tuple(pain), plan=plan, declared=declared)


def _before_a_long_break(
    store: Store, settings: Settings, since: datetime, at: datetime
) -> datetime:
    """Where to start reading so the level before the latest break is always whole: the
    weeks before the last run (a break still going on) and before the last run ahead of
    this week (a restart this week). A longer break must never see less of that level."""
    week = day_start(week_of(at, settings), settings.zone)
    for moment in (at + timedelta(microseconds=1), week):
        last = store.last_run_before(moment)
        if last is not None:
            since = min(since, last.started_at - PRE_BREAK_WINDOW)
    return since


def assess(history: History, settings: Settings, at: datetime) -> Assessment:
    """Everything ``check`` shows, from the history up to ``at``. Pure."""
    history = history.upto(at)
    monotony, strain = monotony_strain(history, settings, at)
    found = allowance(history, settings, at)
    return Assessment(
        at=at,
        allowance=found,
        acwr=acwr(history, settings, at),
        monotony=monotony,
        strain=strain,
        plan=found.plan,
        alerts=tuple(evaluate(history, settings, at)),
    )


def check(store: Store, settings: Settings, at: datetime) -> tuple[Assessment, list[Alert]]:
    """Assess at ``at`` and store the alerts that are new or escalated; return both."""
    assessment = assess(load_history(store, settings, at), settings, at)
    stored = store.record_alerts(assessment.alerts, raised_at=at)
    return assessment, [alert for alert, _ in stored]


def alerts_about(
    store: Store,
    settings: Settings,
    at: datetime,
    *,
    pain_id: int | None = None,
    run_id: int | None = None,
) -> tuple[Assessment, list[Alert]]:
    """The assessment at ``at`` and the active alerts that a pain report or a run just
    stored caused or is part of, worst first: the alerts tagged with it (a run's spike and
    run limits, a report's pain alerts), its week's weekly-progression alert (a run is part
    of its week), a pain trend it is the latest report of, and any alert it raised or
    escalated (the same instant assessed without it). Older, unrelated alerts are left out."""
    history = load_history(store, settings, at)
    assessment = assess(history, settings, at)
    weeks: set[str] = set()
    at_of_report: str | None = None
    without = history
    if run_id is not None:
        run = next((run for run in history.runs if run.id == run_id), None)
        if run is not None:
            weeks.add(f"{WEEKLY}:{week_of(run.started_at, settings).isoformat()}")
            without = replace(without, runs=tuple(r for r in without.runs if r.id != run_id))
    if pain_id is not None:
        report = next((report for report in history.pain if report.id == pain_id), None)
        if report is not None:
            at_of_report = report.at.isoformat()
            without = replace(without, pain=tuple(p for p in without.pain if p.id != pain_id))
    before = {alert.key: rank(alert) for alert in assess(without, settings, at).alerts}
    about = [
        alert
        for alert in assessment.alerts
        if (pain_id is not None and alert.data.get("pain_id") == pain_id)
        or (run_id is not None and alert.data.get("run_id") == run_id)
        or alert.key in weeks
        or (alert.rule == TREND and alert.data.get("at") == at_of_report)
        or rank(alert) > before.get(alert.key, (-1, -1))
    ]
    return assessment, about


def verdict(
    store: Store,
    settings: Settings,
    at: datetime,
    *,
    pain_id: int | None = None,
    run_id: int | None = None,
) -> list[str]:
    """What the rules say right after a pain report or a run is stored, without waiting
    for the nightly summary: the alerts about it, then the next run and the week's cap.
    Stores nothing."""
    assessment, about = alerts_about(store, settings, at, pain_id=pain_id, run_id=run_id)
    lines = [alert.message for alert in about]
    found = assessment.allowance
    binding = found.binding
    if binding is not None:
        unit = settings.units
        if binding.km > 0:
            line = f"Next run at most {units.format_budget(binding.km, unit)} ({binding.reason})"
        else:
            line = f"Next run: {binding.reason}"
        if found.cap_km is not None:
            held = " held" if found.held else ""
            line += f"; this week's cap{held} at {units.format_budget(found.cap_km, unit)}"
        lines.append(line + ".")
    return lines


@dataclass(frozen=True, slots=True)
class Summary:
    """A week's summary: the load measure, the assessment, and the week's runs and pain."""

    load: str
    assessment: Assessment
    runs: tuple[Run, ...]
    pain: tuple[PainReport, ...]


def summary(store: Store, settings: Settings, at: datetime, week: date | None = None) -> Summary:
    """The week holding ``week`` (default: ``at``'s week), seen at its end or at ``at``."""
    if week is not None:
        start = units.week_start_of(week, settings.first_weekday)
        if day_start(start, settings.zone) > at:
            raise InputError(f"--week {week}: that week has not started yet")
        end = day_start(start + timedelta(weeks=1), settings.zone) - timedelta(seconds=1)
        at = min(at, end)
    history = load_history(store, settings, at)
    assessment = assess(history, settings, at)
    start_at = day_start(assessment.allowance.week_start, settings.zone)
    runs = tuple(run for run in history.runs if run.started_at >= start_at)
    pain = tuple(report for report in history.pain if report.at >= start_at)
    return Summary(settings.progression.load, assessment, runs, pain)
