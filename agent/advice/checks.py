"""The library behind ``check``, ``summary``, ``alerts``, ``what-if`` and ``plan``.

It assembles the history from the store (run totals, never samples), runs the pure load model
and rules, stores what ``check`` raises, and builds the JSON the commands print. The CLI only
parses and formats; the daemon calls :func:`check` the same way.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import units
from agent.errors import InputError
from agent.models import Alert, PainReport, Run
from agent.rules.allowance import Allowance, Limit, allowance
from agent.rules.evaluate import evaluate, rank
from agent.rules.load import History, acwr, day_start, monotony_strain, week_of
from agent.rules.plan import DEFAULT_START_KM, Plan, PlanStatus, build_plan, progress

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.store import Store, StoredAlert

# How far back the rules read. Every window is shorter (4 baseline weeks before last week,
# 30 days before a run of the past week), and the 28-day EWMA weight of a load 180 days old
# is (27/29)^180, about 3e-6, so older runs cannot change any number shown.
HISTORY_WINDOW = timedelta(days=180)
# A usual run above this is a typo, not a run to return to (a 100 km ultra is the far end).
MAX_USUAL_RUN_KM = 100.0
# The limits that bound one run (not the week) from history: a plan never starts above them.
RUN_LIMITS = ("single-run", "return", "pain")
# Before a break longer than that window: the baseline weeks and the 30-day longest run.
PRE_BREAK_WINDOW = timedelta(weeks=6)
# A planned run's duration, when the runner has no recent runs to take a pace from: an easy
# 6:00/km, only used by the session-RPE load (planned runs carry no RPE, so it adds 0).
DEFAULT_PACE_S_PER_KM = 360.0
WEEKDAY_NAMES = {
    **dict.fromkeys(("mon", "monday"), 0),
    **dict.fromkeys(("tue", "tues", "tuesday"), 1),
    **dict.fromkeys(("wed", "weds", "wednesday"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), 3),
    **dict.fromkeys(("fri", "friday"), 4),
    **dict.fromkeys(("sat", "saturday"), 5),
    **dict.fromkeys(("sun", "sunday"), 6),
}


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


# -- history and assessment ----------------------------------------------------------------


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


def _km(value: float) -> float:
    """A distance done: km to the metre, to the nearest (:func:`agent.units.km_json`)."""
    return round(value, units.KM_DIGITS)


def _maybe(value: float | None) -> float | None:
    return units.km_json(value)


def _budget(value: float | None) -> float | None:
    """A budget the runner reads: rounded down to the metre, None when unknown."""
    return units.budget_json(value)


def _ratio(value: float | None) -> float | None:
    """ACWR, monotony or strain: :func:`agent.units.ratio`, as ``check`` shows it."""
    return None if value is None else units.ratio(value)


def week_json(week: Allowance) -> dict[str, Any]:
    """The ``week`` object of ``check``, ``summary`` and ``what-if --json`` (and each week of
    ``history --json``). Without a baseline, baseline and change are null (unknown), as is
    the change of a week with nothing run in it yet and last week's distance when the
    history begins after it; cap and remaining (null without any run) are budgets: never
    negative and rounded down."""
    return {
        "start": week.week_start.isoformat(),
        "end": (week.week_start + timedelta(days=6)).isoformat(),
        "distance_km": _km(week.distance_km),
        "baseline_km": _maybe(week.baseline_km),
        "cap_km": _budget(week.cap_km),
        "remaining_km": _budget(week.remaining_km),
        "change_pct": None if week.change is None else units.pct(week.change),
        "held": week.held,
        "last_week_km": _maybe(week.last_week_km),
    }


def limit_json(limit: Limit) -> dict[str, Any]:
    """One of the limits that make the allowance: ``max_km`` rounded down."""
    return {
        "rule": limit.rule,
        "max_km": units.floor_to(limit.km, 3),
        "reason": limit.reason,
        "source": limit.source,
    }


def allowance_json(found: Allowance) -> dict[str, Any]:
    """The allowance fields shared by check, summary and what-if: ``next_run_max_km`` is
    the smallest ``limits`` ``max_km`` (rounded down), ``binding`` that limit's rule."""
    binding = found.binding
    return {
        "phase": found.phase,
        "week": week_json(found),
        "longest_run_30d_km": _maybe(found.longest_30d_km),
        "next_run_max_km": _budget(found.next_run_max_km),
        "binding": None if binding is None else binding.rule,
        "limits": [limit_json(limit) for limit in found.limits],
    }


def alert_json(alert: Alert, settings: Settings) -> dict[str, Any]:
    """An alert as the rules raise it; ``data`` holds the numbers behind it, per rule, its
    instants with the runner's offset (:func:`data_json`)."""
    return {
        "rule": alert.rule,
        "severity": alert.severity,
        "message": alert.message,
        "key": alert.key,
        "data": data_json(alert.data, settings.zone),
    }


def data_json(data: Mapping[str, Any], zone: tzinfo) -> dict[str, Any]:
    """An alert's ``data`` for ``--json``: its instants (``at``, ``*_at``), kept in UTC by
    the rules and the store, with the runner's UTC offset as every other instant in
    ``--json``; everything else as it is."""
    return {key: _instant(key, value, zone) for key, value in data.items()}


def _instant(key: str, value: Any, zone: tzinfo) -> Any:
    if not (key == "at" or key.endswith("_at")) or not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return value if moment.tzinfo is None else units.local_iso(moment, zone)


def check_json(assessment: Assessment, settings: Settings) -> dict[str, Any]:
    """The ``check --json`` contract (distances in km whatever the display unit). ``summary``
    and ``what-if`` share its names."""
    return {
        "at": units.local_iso(assessment.at, settings.zone),
        **allowance_json(assessment.allowance),
        "load_kind": settings.progression.load,
        "acwr": _ratio(assessment.acwr),
        "monotony": _ratio(assessment.monotony),
        "strain": _ratio(assessment.strain),
        "plan": plan_status_json(assessment.plan),
        "alerts": [alert_json(alert, settings) for alert in assessment.alerts],
    }


def _about(assessment: Assessment, pain_id: int | None, run_id: int | None) -> list[Alert]:
    """The active alerts about a pain report or a run just stored."""
    return [
        alert
        for alert in assessment.alerts
        if (pain_id is not None and alert.data.get("pain_id") == pain_id)
        or (run_id is not None and alert.data.get("run_id") == run_id)
    ]


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
    assessment = assess(load_history(store, settings, at), settings, at)
    lines = [alert.message for alert in _about(assessment, pain_id, run_id)]
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


def verdict_json(
    store: Store,
    settings: Settings,
    at: datetime,
    *,
    pain_id: int | None = None,
    run_id: int | None = None,
) -> dict[str, Any]:
    """:func:`verdict` for ``log-run --json`` and ``pain --json``: the allowance now, and
    the alerts about what was stored."""
    assessment = assess(load_history(store, settings, at), settings, at)
    about = _about(assessment, pain_id, run_id)
    alerts = [alert_json(alert, settings) for alert in about]
    return {**allowance_json(assessment.allowance), "alerts": alerts}


# -- summary -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
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


def summary_json(result: Summary, settings: Settings) -> dict[str, Any]:
    """``check --json`` for the week, with the week's runs and pain reports."""
    from agent.views.text import pain_json, run_json

    zone = settings.zone
    return {
        **check_json(result.assessment, settings),
        "load_kind": result.load,
        "runs": [run_json(run, zone) for run in result.runs],
        "pain": [pain_json(report, zone) for report in result.pain],
    }


# -- alerts --------------------------------------------------------------------------------


def stored_alert_json(alert: StoredAlert, settings: Settings) -> dict[str, Any]:
    zone = settings.zone
    return {
        "id": alert.id,
        "raised_at": units.local_iso(alert.raised_at, zone),
        "rule": alert.rule,
        "severity": alert.severity,
        "message": alert.message,
        "key": alert.key,
        "run_id": alert.run_id,
        "delivered": alert.delivered_at is not None,
        "delivered_at": units.local_iso(alert.delivered_at, zone) if alert.delivered_at else None,
        "data": data_json(alert.data, zone),
    }


# -- what-if -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WhatIf:
    """What planned runs would raise: the alerts already active before them, the alerts new
    or escalated against the history alone, and the assessment after them."""

    planned: tuple[Run, ...]
    after: Assessment
    alerts: tuple[Alert, ...]
    active: tuple[Alert, ...] = ()


def planned_runs(history: History, plan: Sequence[tuple[datetime, float]]) -> tuple[Run, ...]:
    """Hypothetical runs (ids 0, -1, ...) at the runner's recent median pace."""
    pace = _recent_pace(history)
    runs = []
    for n, (start, metres) in enumerate(sorted(plan)):
        seconds = metres / 1000 * pace
        runs.append(
            Run(
                id=-n,
                started_at=start,
                distance_m=metres,
                moving_s=seconds,
                elapsed_s=seconds,
                source="manual",
                ended_at=start + timedelta(seconds=seconds),
            )
        )
    return tuple(runs)


def _recent_pace(history: History) -> float:
    paces = [run.moving_s / run.distance_km for run in history.runs[-20:] if run.distance_m > 0]
    return statistics.median(paces) if paces else DEFAULT_PACE_S_PER_KM


def what_if(history: History, settings: Settings, planned: Sequence[Run]) -> WhatIf:
    """Evaluate the history plus ``planned`` at each planned run's start, with the same
    rules as ``check``; keep the alerts the plan raises or escalates. Pure, stores nothing."""
    with_plan = history.plus(planned)
    raised: dict[str, Alert] = {}
    for moment in sorted({run.started_at for run in planned}):
        before = {alert.key: alert for alert in evaluate(history, settings, moment)}
        for alert in evaluate(with_plan, settings, moment):
            base, kept = before.get(alert.key), raised.get(alert.key)
            if base is not None and rank(base) >= rank(alert):
                continue
            if kept is None or rank(alert) >= rank(kept):
                raised[alert.key] = alert
    last = max(run.started_at for run in planned)
    alerts = sorted(raised.values(), key=lambda alert: (-rank(alert)[0], alert.rule, alert.key))
    first = min(run.started_at for run in planned)
    active = evaluate(history, settings, first)
    return WhatIf(tuple(planned), assess(with_plan, settings, last), tuple(alerts), tuple(active))


def what_if_from_store(
    store: Store, settings: Settings, plan: Sequence[tuple[datetime, float]]
) -> WhatIf:
    """:func:`what_if` on the stored history up to the last planned run."""
    history = load_history(store, settings, max(start for start, _ in plan))
    return what_if(history, settings, planned_runs(history, plan))


def what_if_at(path: Path, settings: Settings, plan: Sequence[tuple[datetime, float]]) -> WhatIf:
    """:func:`what_if` on the database at ``path``, opened read-only (a missing file is an
    empty history and is not created): the file is left exactly as it was."""
    from agent.store import Store

    if not path.expanduser().exists():
        return what_if(History(), settings, planned_runs(History(), plan))
    with Store.open_read_only(path, busy_timeout_s=settings.database.busy_timeout_s) as store:
        return what_if_from_store(store, settings, plan)


def what_if_json(result: WhatIf, settings: Settings) -> dict[str, Any]:
    after, zone = result.after, settings.zone
    found = allowance_json(after.allowance)
    return {
        "at": units.local_iso(after.at, zone),
        "phase": found.pop("phase"),
        "planned": [
            {
                "started_at": units.local_iso(run.started_at, zone),
                "distance_km": _km(run.distance_km),
            }
            for run in result.planned
        ],
        **found,
        "active_alerts": [alert_json(alert, settings) for alert in result.active],
        "alerts": [alert_json(alert, settings) for alert in result.alerts],
    }


_WEEK_ITEM = re.compile(r"^\s*(\S+)\s+(\S.*?)\s*$")


def parse_week(text: str, settings: Settings, at: datetime) -> list[tuple[datetime, float]]:
    """``"tue 8km, thu 10km, sun 18km"``: each day is the next such day on or after ``at``'s
    local date (or an ISO date), at ``at``'s local time of day. Returns (start, metres)."""
    items = [item for item in text.split(",") if item.strip()]
    if not items:
        raise InputError(f'--week {text!r}: expected runs such as "tue 8km, thu 10km, sun 18km"')
    local = at.astimezone(settings.zone)
    window = settings.date_window()
    plan = []
    for item in items:
        match = _WEEK_ITEM.match(item)
        if match is None:
            raise InputError(
                f"--week {item.strip()!r}: expected a day and a distance, e.g. tue 8km"
            )
        day = _plan_day(match.group(1), local.date(), window)
        metres = units.parse_distance(match.group(2), settings.units)
        start = datetime.combine(day, local.time(), settings.zone)
        plan.append((start.astimezone(at.tzinfo), metres))
    return plan


def _plan_day(token: str, today: date, window: units.DateWindow) -> date:
    name = token.lower()
    if name == "today":
        return today
    if name == "tomorrow":
        return today + timedelta(days=1)
    if name in WEEKDAY_NAMES:
        return today + timedelta(days=(WEEKDAY_NAMES[name] - today.weekday()) % 7)
    day = units.parse_date(token, window)
    if day < today:
        raise InputError(f"--week {token}: that day has passed; plan today or later")
    return day


# -- return-to-run plan --------------------------------------------------------------------

_RANGE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([a-z]*)\s*(?:-\s*(\d+(?:\.\d*)?)\s*([a-z]*))?\s*$")


def parse_range(text: str, option: str, default_unit: units.Unit) -> tuple[float, float]:
    """``6-8mi``, ``6mi-8mi``, ``10-13km`` or ``7mi``: a distance range in km."""
    match = _RANGE.match(text.lower())
    if match is None:
        raise InputError(f"{option} {text!r}: expected a range such as 6-8mi or 10-13km")
    low, low_unit, high, high_unit = match.groups()
    unit = high_unit or low_unit or default_unit
    first = units.parse_distance(f"{low}{low_unit or unit}", default_unit) / 1000
    second = units.parse_distance(f"{high}{unit}", default_unit) / 1000 if high else first
    if second < first:
        raise InputError(f"{option} {text!r}: the range must go from low to high")
    return round(first, 6), round(second, 6)


def start_plan(
    store: Store,
    settings: Settings,
    at: datetime,
    *,
    usual_km: tuple[float, float],
    start_km: tuple[float, float] | None,
    weeks: int | None,
) -> Plan:
    """Build a plan starting in ``at``'s week, store it as the active plan, return it.

    The first week never allows more than the history does now: a given ``--start`` above
    the runner's current run limit is refused, and the default 2-3 mile start is lowered to
    it (after a long break the return limit may be below 3 miles)."""
    if weeks is not None and not 1 <= weeks <= 52:
        raise InputError(f"--weeks {weeks}: must be from 1 to 52")
    if usual_km[1] > MAX_USUAL_RUN_KM:
        raise InputError(
            f"--usual {units.format_km(usual_km[1], settings.units)}: longer than any usual "
            f"run ({units.format_km(MAX_USUAL_RUN_KM, settings.units)} at most)"
        )
    limit = _run_limit_now(store, settings, at)
    if start_km is not None and limit is not None and start_km[1] > limit + 1e-6:
        shown = units.format_budget(limit, settings.units)
        raise InputError(
            f"--start: the first week's runs would be longer than your next run may be now "
            f"({shown}); start at {shown} or less"
        )
    if start_km is None and limit is not None and limit < DEFAULT_START_KM[1]:
        # Keep the 2-3 mile shape (low at two thirds of high) below the current limit.
        low, high = DEFAULT_START_KM
        top = min(limit, usual_km[1])
        start_km = (min(low * top / high, usual_km[0]), top)
    plan = build_plan(
        usual_km, start_km=start_km, weeks=weeks, start_week=week_of(at, settings), created_at=at
    )
    plan_id = store.add_plan(plan.as_json(), created_at=at)
    return Plan.from_json({**plan.as_json(), "id": plan_id})


def _run_limit_now(store: Store, settings: Settings, at: datetime) -> float | None:
    """The smallest run limit at ``at`` without any plan (single-run, return, pain, start)."""
    history = replace(load_history(store, settings, at), plan=None)
    found = allowance(history, settings, at)
    kms = [limit.km for limit in found.limits if limit.rule in RUN_LIMITS and limit.km > 0]
    return min(kms) if kms else None


def plan_status(store: Store, settings: Settings, at: datetime) -> PlanStatus | None:
    history = load_history(store, settings, at)
    return progress(history.plan, history, settings, at) if history.plan else None


def plan_status_json(status: PlanStatus | None) -> dict[str, Any] | None:
    """Where the runner is in the plan (``plan`` in ``check --json``, ``status`` in ``plan
    show --json``): this week's target range (a limit: km rounded down) and what the plan
    does about it."""
    if status is None:
        return None
    target = status.target
    return {
        "id": status.plan.id,
        "week": target.number,
        "week_count": len(status.plan.weeks),
        "week_start": status.week_start.isoformat(),
        "target_low_km": _budget(target.low_km),
        "target_high_km": _budget(target.high_km),
        "rpe": target.rpe,
        "distance_km": _km(status.week_km),
        "status": status.status,
        "reason": status.reason,
    }


def plan_json(status: PlanStatus | None, settings: Settings) -> dict[str, Any] | None:
    """``plan show --json``: the plan week by week, and where the runner is in it. The
    ranges are limits, km rounded down to the metre (the plan keeps them to the micrometre:
    ``3mi`` typed is 4.828032 km); ``usual_km``, the runner's usual runs, to the nearest."""
    if status is None:
        return None
    plan = status.plan
    return {
        "id": plan.id,
        "created_at": units.local_iso(plan.created_at, settings.zone),
        "start_week": plan.start_week.isoformat(),
        "usual_km": [_km(km) for km in plan.usual_km],
        "start_km": [_budget(km) for km in plan.start_km],
        "increase_pct": units.pct(plan.increase),
        "weeks": [
            {
                "week": w.number,
                "low_km": _budget(w.low_km),
                "high_km": _budget(w.high_km),
                "rpe": w.rpe,
            }
            for w in plan.weeks
        ],
        "status": plan_status_json(status),
    }
