"""Progression rules: the weekly jump, the single-run spike, and ACWR and monotony as context.

Pure: ``(history, settings, now) -> list[Alert]``. Messages use the runner's unit; ``data``
holds km. ``data["level"]`` orders escalations within one severity (the +15 % and 1.3x steps
of DESIGN.md), so a stored alert escalates on (severity, level).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.load import (
    History,
    day_start,
    ewma_loads,
    local_date,
    longest_run_km,
    monotony_strain,
    usual_run_km,
    week_of,
)
from agent.models import Alert, Run, Severity
from agent.rules.budget import Budget, budget
from agent.units import format_km

if TYPE_CHECKING:
    from agent.config import Settings

WEEKLY = "weekly-progression"
SPIKE = "single-run-spike"
ACWR = "acwr"
MONOTONY = "monotony"

# A run's spike alert stays on the state for a week after the run, like a pain alert.
SPIKE_ACTIVE = timedelta(days=7)
# Below this (km) nothing is left of the week's cap: the advice is rest, not a 30 m run.
NOTHING_LEFT_KM = 0.05

WEEKLY_SOURCE = "physiotherapy guidance of +10-15 % a week; Nielsen et al. 2014"


def evaluate(history: History, settings: Settings, now: datetime) -> list[Alert]:
    history = history.upto(now)
    return [
        *weekly_progression(history, settings, now),
        *single_run_spike(history, settings, now),
        *acwr(history, settings, now),
        *monotony(history, settings, now),
    ]


def _km(value: float) -> float:
    return round(value, 3)


def _dist(km: float, settings: Settings) -> str:
    return format_km(km, settings.units)


def run_ref(run: Run) -> str:
    """``run:42`` for a stored run, ``planned:1`` for a what-if run (ids 0 and below)."""
    return f"run:{run.id}" if run.id > 0 else f"planned:{1 - run.id}"


# -- weekly progression ------------------------------------------------------------------


def weekly_progression(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """This week against its cap; and the last complete week, if it went over."""
    alerts = []
    current = budget(history, settings, now)
    last_end = day_start(current.week_start, settings.zone) - timedelta(microseconds=1)
    last = _over_cap(budget(history, settings, last_end), settings)
    if last is not None:
        alerts.append(last)
    alert = _over_cap(current, settings) or _before_the_jump(history, current, settings, now)
    if alert is not None:
        alerts.append(alert)
    return alerts


def _week_data(week: Budget) -> dict[str, Any]:
    return {
        "week_start": week.week_start.isoformat(),
        "distance_km": _km(week.distance_km),
        "baseline_km": _km(week.baseline_km or 0.0),
        "cap_km": _km(week.cap_km or 0.0),
        "remaining_km": _km(week.remaining_km or 0.0),
        "change_pct": round(100 * (week.change or 0.0), 1),
        "held": week.held,
    }


def _over_cap(week: Budget, settings: Settings) -> Alert | None:
    if week.cap_km is None or week.change is None or week.distance_km <= week.cap_km:
        return None
    limits = settings.progression
    level = (
        3 if week.change > limits.weekly_danger else 2 if week.change > limits.weekly_alert else 1
    )
    severity: Severity = "danger" if level == 3 else "warning"
    assert week.baseline_km is not None
    held = ", held at the baseline while pain settles" if week.held else ""
    message = (
        f"The week of {week.week_start:%d %b} is at {_dist(week.distance_km, settings)}, "
        f"{100 * week.change:+.0f}% on its {_dist(week.baseline_km, settings)} baseline week and "
        f"over its {_dist(week.cap_km, settings)} cap{held} ({WEEKLY_SOURCE})."
    )
    return Alert(
        rule=WEEKLY,
        severity=severity,
        message=message,
        key=f"{WEEKLY}:{week.week_start.isoformat()}",
        data={**_week_data(week), "level": level},
    )


def _before_the_jump(
    history: History, week: Budget, settings: Settings, now: datetime
) -> Alert | None:
    """Caution while under the cap when less is left than the runner's usual run."""
    usual = usual_run_km(history.runs, now)
    left = week.remaining_km
    if (
        usual is None
        or left is None
        or left >= usual
        or _week_run_done(history, week, settings, now)
    ):
        return None
    assert week.cap_km is not None
    if left < NOTHING_LEFT_KM:
        advice = "rest until the week ends to stay within it"
    else:
        advice = f"a run of {_dist(left, settings)} at most keeps the week within it"
    message = (
        f"Only {_dist(left, settings)} of this week's {_dist(week.cap_km, settings)} cap is "
        f"left, less than your usual {_dist(usual, settings)} run: {advice} ({WEEKLY_SOURCE})."
    )
    data = {**_week_data(week), "usual_run_km": _km(usual), "largest_run_km": _km(left)}
    return Alert(
        rule=WEEKLY,
        severity="caution",
        message=message,
        key=f"{WEEKLY}:{week.week_start.isoformat()}",
        data={**data, "level": 0},
    )


def _week_run_done(history: History, week: Budget, settings: Settings, now: datetime) -> bool:
    """On the week's last day, once that day's run is done, a caution about the rest of the
    week has nothing left to prevent (it would only repeat, every week, after the fact)."""
    today = local_date(now, settings.zone)
    if today != week.week_start + timedelta(days=6):
        return False
    return any(
        local_date(run.started_at, settings.zone) == today
        for run in history.runs
        if run.started_at <= now
    )


# -- single-run spike --------------------------------------------------------------------


def single_run_spike(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Each run of the past week longer than 1.10 x the longest of the 30 days before it."""
    alerts = []
    for run in history.runs:
        if not now - SPIKE_ACTIVE < run.started_at <= now:
            continue
        longest = longest_run_km(history.runs, run.started_at, include_at=False)
        if longest is not None and run.distance_km > longest * settings.progression.spike_warn:
            alerts.append(_spike_alert(run, longest, settings))
    return alerts


def _spike_alert(run: Run, longest: float, settings: Settings) -> Alert:
    limits = settings.progression
    ratio = run.distance_km / longest
    level = 3 if ratio > limits.spike_danger else 2 if ratio > limits.spike_escalate else 1
    when = run.started_at.astimezone(settings.zone).strftime("%a %d %b")
    what = "The planned run" if run.id <= 0 else "The run"
    message = (
        f"{what} of {when}, {_dist(run.distance_km, settings)}, is {100 * (ratio - 1):.0f}% "
        f"longer than your longest run of the 30 days before it "
        f"({_dist(longest, settings)}; limit {_dist(longest * limits.spike_warn, settings)}) "
        "(Frandsen et al. 2025)."
    )
    return Alert(
        rule=SPIKE,
        severity="danger" if level == 3 else "warning",
        message=message,
        key=f"{SPIKE}:{run_ref(run)}",
        data={
            "run_id": run.id if run.id > 0 else None,
            "distance_km": _km(run.distance_km),
            "longest_30d_km": _km(longest),
            "limit_km": _km(longest * limits.spike_warn),
            "ratio": round(ratio, 3),
            "level": level,
        },
    )


# -- context: ACWR and monotony ----------------------------------------------------------


def acwr(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Acute:chronic ratio above 1.5: a caution, never more (Impellizzeri et al. 2020)."""
    loads = ewma_loads(history, settings, now)
    if loads is None or loads[1] <= 0:
        return []
    acute, chronic = loads
    ratio, limit = acute / chronic, settings.progression.acwr_caution
    if ratio <= limit:
        return []
    message = (
        f"Your acute:chronic load ratio is {ratio:.2f}, above {limit:g}: context only, "
        "so ease the next few days rather than stop (Williams et al. 2017; Gabbett 2016)."
    )
    return [
        Alert(
            rule=ACWR,
            severity="caution",
            message=message,
            key=f"{ACWR}:{week_of(now, settings).isoformat()}",
            data={
                "acwr": round(ratio, 3),
                "acute": round(acute, 3),
                "chronic": round(chronic, 3),
                "limit": limit,
                "load": settings.progression.load,
            },
        )
    ]


def monotony(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Foster's monotony over the past 7 days above 2.0: a caution."""
    value, strain = monotony_strain(history, settings, now)
    limit = settings.progression.monotony_caution
    if value is None or strain is None or value <= limit:
        return []
    message = (
        f"Your training monotony over the past 7 days is {value:.2f} (mean daily load / SD), "
        f"above {limit:g}: vary the days with easier and rest days (Foster 1998)."
    )
    return [
        Alert(
            rule=MONOTONY,
            severity="caution",
            message=message,
            key=f"{MONOTONY}:{week_of(now, settings).isoformat()}",
            data={
                "monotony": round(value, 3),
                "strain": round(strain, 3),
                "limit": limit,
                "load": settings.progression.load,
            },
        )
    ]
