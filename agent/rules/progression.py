"""Progression rules: the weekly jump, the single-run spike, and ACWR and monotony as context.

Pure: ``(history, settings, now) -> list[Alert]``. Messages use the runner's unit; ``data``
holds km. ``data["level"]`` orders escalations within one severity (the +15 % and 1.3x steps
of DESIGN.md), so a stored alert escalates on (severity, level).

Over 400 lines: the weekly rule (with its warm-up grading) and the run rules share the
allowance's limits, their wording and their evidence; ACWR and monotony are in
:mod:`agent.rules.context`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.models import Alert, Run, Severity
from agent.rules.allowance import Allowance, allowance
from agent.rules.context import acwr, monotony
from agent.rules.limits import (
    PLAN_SOURCE,
    RETURN_SOURCE,
    START_SOURCE,
    WEEK_SOURCE,
    Limit,
    smallest_run,
)
from agent.rules.load import (
    History,
    day_start,
    local_date,
    over,
    usual_run_km,
)
from agent.units import (
    budget_json,
    format_against,
    format_budget,
    format_km,
    format_pct,
    km_json,
    pct,
)

if TYPE_CHECKING:
    from agent.config import Settings

WEEKLY = "weekly-progression"
SPIKE = "single-run-spike"
RETURN = "return-after-break"
PLAN = "return-plan"
PAIN_LIMIT = "pain-limit"
NO_HISTORY = "no-history"

# A run's spike alert stays on the state for a week after the run, like a pain alert.
SPIKE_ACTIVE = timedelta(days=7)

WEEKLY_SOURCE = WEEK_SOURCE


def evaluate(history: History, settings: Settings, now: datetime) -> list[Alert]:
    history = history.upto(now)
    return [
        *weekly_progression(history, settings, now),
        *run_limits(history, settings, now),
        *acwr(history, settings, now),
        *monotony(history, settings, now),
    ]


def _km(value: float) -> float:
    """A distance done in ``data``: km to the metre (limits go through ``budget_json``)."""
    return round(value, 3)


def _budget(value: float) -> float:
    """A cap, limit or what is left in ``data``: km to the metre, rounded down."""
    return budget_json(value) or 0.0


def _dist(km: float, settings: Settings) -> str:
    return format_km(km, settings.units)


def run_ref(run: Run) -> str:
    """``run:42`` for a stored run, ``planned:1`` for a what-if run (ids 0 and below)."""
    return f"run:{run.id}" if run.id > 0 else f"planned:{1 - run.id}"


# -- weekly progression ------------------------------------------------------------------


def weekly_progression(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """This week against its cap; and the last complete week, if it went over."""
    alerts = []
    current = allowance(history, settings, now)
    last_end = day_start(current.week_start, settings.zone) - timedelta(microseconds=1)
    last_week = allowance(history, settings, last_end)
    # A week over the warm-up's guessed cap said so while it ran; once it is over it is the
    # first complete week, the baseline, and only a graded jump on it (caution or warning)
    # is repeated, not the information.
    last = _over_cap(last_week, settings)
    if last is not None and last.severity != "info":
        alerts.append(last)
    alert = _over_cap(current, settings) or _before_the_jump(history, current, settings, now)
    if alert is not None:
        alerts.append(alert)
    return alerts


def _week_data(week: Allowance) -> dict[str, Any]:
    return {
        "week_start": week.week_start.isoformat(),
        "distance_km": _km(week.distance_km),
        # A held cap is the baseline itself: one number, rounded down as the cap is.
        "baseline_km": budget_json(week.baseline_km)
        if week.cap_km == week.baseline_km
        else km_json(week.baseline_km),
        "cap_km": budget_json(week.cap_km),
        "remaining_km": budget_json(week.remaining_km),
        "change_pct": None if week.change is None else pct(week.change),
        "held": week.held,
    }


def _over_cap(week: Allowance, settings: Settings) -> Alert | None:
    if week.cap_km is None or not over(week.distance_km, week.cap_km):
        return None
    limits = settings.progression
    # The escalation steps are on the baseline week; a cap with no baseline (a plan's
    # volume) stands for baseline x (1 + weekly_warn).
    base = week.baseline_km or week.cap_km / (1 + limits.weekly_warn)
    change = week.distance_km / base - 1
    level = 3 if change > limits.weekly_danger else 2 if change > limits.weekly_alert else 1
    severity: Severity = "danger" if level == 3 else "warning"
    note = ""
    if week.warm_up_cap:
        severity, level, note = _over_guess(week, settings)
    # A held cap is the baseline week itself: that number is shown once, as the cap.
    on_base = (
        ""
        if not week.baseline_km
        else f"{format_pct(change)} on its baseline week and "
        if week.cap_km == week.baseline_km
        else f"{format_pct(change)} on its {_dist(week.baseline_km, settings)} baseline week and "
    )
    done, cap = format_against(week.distance_km, week.cap_km, settings.units)
    message = (
        f"The week of {week.week_start:%d %b} is at {done}, "
        f"{on_base}over its {cap} cap ({week.cap_basis}) ({WEEKLY_SOURCE}).{note}"
    )
    return Alert(
        rule=WEEKLY,
        severity=severity,
        message=message,
        key=f"{WEEKLY}:{week.week_start.isoformat()}",
        data={**_week_data(week), "level": level},
    )


def _over_guess(week: Allowance, settings: Settings) -> tuple[Severity, int, str]:
    """Over the warm-up's guessed cap: graded only on what was measured. The guess (runs a
    week x the longest run) is no baseline, so the week must also be over the same days of
    the partial week the history began in: the smaller of the two excesses past
    ``weekly_alert`` is a caution, past ``weekly_danger`` a warning (never a danger without
    a measured baseline week). A flat routine (the same days as the partial week) stays
    information, however many runs it has a week."""
    limits = settings.progression
    assert week.cap_km is not None
    over_guess = week.distance_km / week.cap_km - 1
    guess = f"the warm-up's guess by {format_pct(over_guess, signed=False)}"
    like = week.partial_like
    if like is None or like[1] <= 0:
        return (
            "info",
            1,
            " With no complete week of history yet this cap is a rough guess, so this is for "
            "information only.",
        )
    done, then = like
    change = min(over_guess, done / then - 1)
    level = 3 if change > limits.weekly_danger else 2 if change > limits.weekly_alert else 1
    severity: Severity = "warning" if level == 3 else "caution" if level == 2 else "info"
    same = (
        f"{_dist(done, settings)} on the days your first, partial week covered against "
        f"{_dist(then, settings)} then ({format_pct(done / then - 1)})"
    )
    if severity == "info":
        return (
            severity,
            level,
            (
                f" Your first week was partial, so this cap is a rough guess: over {guess}, "
                f"{same}; for information only."
            ),
        )
    return (
        severity,
        level,
        (
            f" Your first week was partial, so this cap is a rough guess, but this week is over "
            f"{guess} and {same}: a jump, not a baseline yet."
        ),
    )


def _before_the_jump(
    history: History, week: Allowance, settings: Settings, now: datetime
) -> Alert | None:
    """Caution while under the cap when less is left than the runner's usual run, but at
    least a sensible run (below ``min_run_km`` the allowance itself says rest)."""
    usual = usual_run_km(history.runs, now)
    left = week.remaining_km
    if week.phase in ("return", "plan"):
        return None  # the return level or the plan is the limit, said by the allowance
    if (
        usual is None
        or left is None
        or left >= usual
        or left < smallest_run(usual, settings)
        or _week_run_done(history, week, settings, now)
    ):
        return None
    assert week.cap_km is not None
    budget_text = format_budget(left, settings.units)
    advice = f"a run of {budget_text} at most keeps the week within it"
    message = (
        f"Only {budget_text} of this week's {format_budget(week.cap_km, settings.units)} cap is "
        f"left, less than your usual {_dist(usual, settings)} run: {advice} ({WEEKLY_SOURCE})."
    )
    data = {**_week_data(week), "usual_run_km": _km(usual), "largest_run_km": _budget(left)}
    return Alert(
        rule=WEEKLY,
        severity="caution",
        message=message,
        key=f"{WEEKLY}:{week.week_start.isoformat()}",
        data={**data, "level": 0},
    )


def _week_run_done(history: History, week: Allowance, settings: Settings, now: datetime) -> bool:
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


# -- runs over their allowance -------------------------------------------------------------


def run_limits(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Each run of the past week that went over a limit of the allowance in force when it
    started: the single-run spike (1.10 x the credited 30-day longest; only ``info`` in the
    warm-up), the return after a break, the return plan (range, RPE, runs a week, rest
    days), the pain limit, and the graded start without history."""
    alerts = []
    for run in history.runs:
        if not now - SPIKE_ACTIVE < run.started_at <= now:
            continue
        before = allowance(history.before(run), settings, run.started_at)
        alerts.extend(run_alerts(run, before, settings))
    return alerts


def run_alerts(run: Run, before: Allowance, settings: Settings) -> list[Alert]:
    """The alerts one run raises against the allowance it started with."""
    found: list[Alert] = []
    single = before.limit("single-run")
    if single is not None and over(run.distance_km, single.km) and before.longest_30d_km:
        found.append(_spike_alert(run, before, settings))
    for limit in before.limits:
        if limit.rule == "return" and over(run.distance_km, limit.km):
            found.append(_over_limit(run, limit, RETURN, RETURN_SOURCE, settings))
        elif limit.rule == "pain" and over(run.distance_km, limit.km):
            found.append(_over_limit(run, limit, PAIN_LIMIT, limit.source, settings))
        elif limit.rule == "start" and run.id <= 0 and over(run.distance_km, limit.km):
            # Only a planned run: a stored first run starts the warm-up, which says so.
            found.append(_over_limit(run, limit, NO_HISTORY, START_SOURCE, settings, "info"))
        elif limit.rule == "plan":
            found.extend(_plan_alert(run, limit, before, settings))
    return found


def _run_fields(run: Run) -> dict[str, Any]:
    """The run an alert is about, in its data: a stored run's id (None for a planned run)
    and its distance in km."""
    return {"run_id": run.id if run.id > 0 else None, "distance_km": _km(run.distance_km)}


def _the_run(run: Run, settings: Settings, distance: str | None = None) -> str:
    """``The run of Wed 28 Oct, 10.0 km`` (``The planned run`` for a what-if run);
    ``distance`` is the run's distance as shown beside a limit (:func:`format_against`)."""
    when = run.started_at.astimezone(settings.zone).strftime("%a %d %b")
    what = "The planned run" if run.id <= 0 else "The run"
    return f"{what} of {when}, {distance or _dist(run.distance_km, settings)}"


def _level(ratio: float, settings: Settings) -> int:
    """Escalation on a run limit, as the spike rule escalates on its own: the limit stands
    at ``spike_warn``; level 2 past ``spike_escalate``, 3 (danger) past ``spike_danger``."""
    p = settings.progression
    if ratio > p.spike_danger / p.spike_warn:
        return 3
    return 2 if ratio > p.spike_escalate / p.spike_warn else 1


def _spike_alert(run: Run, before: Allowance, settings: Settings) -> Alert:
    limits = settings.progression
    longest = before.longest_30d_km or 0.0
    ratio = run.distance_km / longest
    level = 3 if ratio > limits.spike_danger else 2 if ratio > limits.spike_escalate else 1
    severity: Severity = "danger" if level == 3 else "warning"
    note = ""
    if before.phase == "warm-up":
        severity = "info"
        note = " With under two weeks of history this is for information only."
    # The percentage is the data's ratio, as shown: "36.4% longer" beside "ratio": 1.364.
    shown_ratio = round(ratio, 3)
    done, limit = format_against(run.distance_km, longest * limits.spike_warn, settings.units)
    message = (
        f"{_the_run(run, settings, done)}, is {format_pct(shown_ratio - 1, signed=False)} "
        f"longer than your longest run of the 30 days before it "
        f"({_dist(longest, settings)}; limit {limit}) (Frandsen et al. 2025).{note}"
    )
    return Alert(
        rule=SPIKE,
        severity=severity,
        message=message,
        key=f"{SPIKE}:{run_ref(run)}",
        data={
            **_run_fields(run),
            "longest_30d_km": _km(longest),
            "limit_km": _budget(longest * limits.spike_warn),
            "ratio": shown_ratio,
            "level": level,
        },
    )


def _over_limit(
    run: Run,
    limit: Limit,
    rule: str,
    source: str,
    settings: Settings,
    severity: Severity | None = None,
) -> Alert:
    ratio = run.distance_km / limit.km if limit.km > 0 else float("inf")
    level = _level(ratio, settings)
    done, shown = format_against(run.distance_km, limit.km, settings.units)
    message = (
        f"{_the_run(run, settings, done)}, is over its {shown} limit: {limit.reason} ({source})."
    )
    return Alert(
        rule=rule,
        severity=severity or ("danger" if level == 3 else "warning"),
        message=message,
        key=f"{rule}:{run_ref(run)}",
        data={
            **_run_fields(run),
            "limit": limit.rule,
            "limit_km": _budget(limit.km),
            "level": level,
        },
    )


def _plan_alert(run: Run, limit: Limit, before: Allowance, settings: Settings) -> list[Alert]:
    """Above the plan's range or its RPE, on a rest day or past its runs a week: a caution
    (and the plan does not advance that week); far above the range, a warning or danger."""
    status = before.plan
    if status is None:
        return []
    target = status.target
    high, max_rpe = target.high_km, int(target.rpe.split("-")[-1])
    problems = []
    done, top = format_against(run.distance_km, high, settings.units)
    if limit.km <= 0:
        problems.append(limit.reason)
    if over(run.distance_km, high):
        problems.append(f"above this week's range of {_dist(target.low_km, settings)}-{top}")
    if run.rpe is not None and run.rpe > max_rpe:
        problems.append(f"RPE {run.rpe}, above the plan's {target.rpe}")
    if not problems:
        return []
    level = _level(run.distance_km / high, settings) if over(run.distance_km, high) else 0
    severity: Severity = "caution" if level <= 1 else "danger" if level == 3 else "warning"
    message = (
        f"{_the_run(run, settings, done)}, does not follow week "
        f"{target.number} of your return plan: {'; '.join(problems)}. The plan holds this "
        f"week ({PLAN_SOURCE})."
    )
    return [
        Alert(
            rule=PLAN,
            severity=severity,
            message=message,
            key=f"{PLAN}:{run_ref(run)}",
            data={
                **_run_fields(run),
                "rpe": run.rpe,
                "plan_week": target.number,
                "target_high_km": _budget(high),
                "limit_km": _budget(limit.km),
                "level": max(level, 1),
            },
        )
    ]
