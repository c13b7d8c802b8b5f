"""The graded return-to-run plan: build it, and track where the runner is in it.

Physiotherapy guidance (DESIGN.md): restart at 2-3 miles at conversational effort (RPE 3-4)
even if 6-8 was usual, add 10-15 % a week while the pain rules hold, and hold or step back a
week when they do not. Pure: the plan is data, progress is computed from the history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from agent.errors import InputError

# Plan and PlanWeek are re-exported (``from agent.rules.plan import Plan`` still works): they
# live in agent.models, since the load model's History holds a Plan and took it from here
# while this module imports the load model (an import cycle).
from agent.models import RETURN_RPE as RETURN_RPE
from agent.models import Plan as Plan
from agent.models import PlanWeek as PlanWeek
from agent.models import severity_rank
from agent.rules import pain
from agent.rules.load import History, day_start, over, week_of, weekly_km
from agent.units import floor_to

if TYPE_CHECKING:
    from agent.config import Settings

MILE_KM = 1.609344
# Restart at 2-3 miles whatever the usual run was (physiotherapy guidance, DESIGN.md).
DEFAULT_START_KM = (2 * MILE_KM, 3 * MILE_KM)
# +10-15 % a week: the default plan grows at the cautious end; a plan asked to be shorter
# (--weeks) may not grow faster than the upper end.
DEFAULT_INCREASE = 0.10
MAX_INCREASE = 0.15
# Run ranges are kept to the micrometre and rounded down, never up: "3mi" typed by the
# runner is 4.828032 km, and must be within a week whose top is 3 miles.
PLAN_DIGITS = 6

Status = Literal["not started", "on track", "holding", "stepped back", "complete"]


@dataclass(frozen=True, slots=True)
class PlanStatus:
    """Where the runner is in the plan at some instant."""

    plan: Plan
    step: int
    week_start: date
    week_km: float
    status: Status
    reason: str

    @property
    def target(self) -> PlanWeek:
        return self.plan.weeks[min(self.step, len(self.plan.weeks) - 1)]

    def as_json(self) -> dict[str, Any]:
        target = self.target
        return {
            "id": self.plan.id,
            "week": target.number,
            "weeks": len(self.plan.weeks),
            "week_start": self.week_start.isoformat(),
            "target_low_km": target.low_km,
            "target_high_km": target.high_km,
            "rpe": target.rpe,
            "distance_km": round(self.week_km, 3),
            "status": self.status,
            "reason": self.reason,
        }


# -- building ----------------------------------------------------------------------------


def build_plan(
    usual_km: tuple[float, float],
    *,
    start_km: tuple[float, float] | None = None,
    weeks: int | None = None,
    start_week: date,
    created_at: datetime,
    plan_id: int = 0,
) -> Plan:
    """Weeks of run ranges from ``start_km`` up to ``usual_km``, growing 10-15 % a week."""
    start = start_km or _default_start(usual_km)
    if start[0] > usual_km[0] or start[1] > usual_km[1]:
        raise InputError("--start must not be longer than --usual: the plan builds up to it")
    # The end further from its usual value sets the pace, so no week grows past the rate.
    ratio = max(usual_km[0] / start[0], usual_km[1] / start[1])
    increase = _increase(ratio, weeks)
    count = weeks or _weeks_needed(ratio, DEFAULT_INCREASE)
    return Plan(
        id=plan_id,
        created_at=created_at,
        start_week=start_week,
        usual_km=usual_km,
        start_km=start,
        increase=increase,
        weeks=tuple(_week(n, count, start, usual_km, increase) for n in range(count)),
    )


def _default_start(usual_km: tuple[float, float]) -> tuple[float, float]:
    low, high = DEFAULT_START_KM
    return floor_to(min(low, usual_km[0]), PLAN_DIGITS), floor_to(
        min(high, usual_km[1]), PLAN_DIGITS
    )


def _weeks_needed(ratio: float, increase: float) -> int:
    return 1 + math.ceil(math.log(ratio) / math.log(1 + increase) - 1e-9) if ratio > 1 else 1


def _increase(ratio: float, weeks: int | None) -> float:
    if weeks is None or ratio <= 1:
        return DEFAULT_INCREASE
    if weeks < 2:
        raise InputError("--weeks must be at least 2 when --start is below --usual")
    increase = math.pow(ratio, 1 / (weeks - 1)) - 1
    if increase > MAX_INCREASE + 1e-9:
        needed = _weeks_needed(ratio, MAX_INCREASE)
        raise InputError(
            f"{weeks} weeks would need +{100 * increase:.0f}% a week, more than the 15% the "
            f"guidance allows: use --weeks {needed} or more"
        )
    return increase


def _week(
    n: int, count: int, start: tuple[float, float], usual: tuple[float, float], increase: float
) -> PlanWeek:
    if n == count - 1:
        return PlanWeek(n + 1, floor_to(usual[0], PLAN_DIGITS), floor_to(usual[1], PLAN_DIGITS))
    factor = (1 + increase) ** n
    low, high = min(usual[0], start[0] * factor), min(usual[1], start[1] * factor)
    return PlanWeek(n + 1, floor_to(low, PLAN_DIGITS), floor_to(high, PLAN_DIGITS))


# -- tracking ----------------------------------------------------------------------------


def progress(plan: Plan, history: History, settings: Settings, now: datetime) -> PlanStatus:
    """Replay the plan's complete weeks: advance while pain is quiet, hold after a caution,
    step back a week after a warning; then say how the current week stands."""
    history = history.upto(now)
    current = week_of(now, settings)
    weeks = weekly_km(history.runs, settings)
    step, reason = 0, "first week of the plan"
    status: Status = "on track"
    week = plan.start_week
    while week < current and step < len(plan.weeks):
        step, status, reason = _replay_week(plan, history, settings, week, weeks, step)
        week += timedelta(weeks=1)
    week_km = weeks.get(current, 0.0)
    if current < plan.start_week:
        return PlanStatus(plan, 0, current, week_km, "not started", "the plan starts next week")
    if step >= len(plan.weeks):
        return PlanStatus(plan, step, current, week_km, "complete", "back to your usual runs")
    now_pain = pain.evaluate(history, settings, now)
    off = _off_plan(plan.weeks[min(step, len(plan.weeks) - 1)], history, settings, current)
    if now_pain:
        status, reason = "holding", f"a pain alert is active ({now_pain[0].rule})"
    elif off:
        status, reason = "holding", f"{off} this week"
    return PlanStatus(plan, step, current, week_km, status, reason)


def _replay_week(
    plan: Plan,
    history: History,
    settings: Settings,
    week: date,
    weeks: dict[date, float],
    step: int,
) -> tuple[int, Status, str]:
    worst = _worst_pain(history, settings, week)
    if worst >= severity_rank("warning"):
        return max(0, step - 1), "stepped back", f"pain alert in the week of {week}"
    if worst == severity_rank("caution"):
        return step, "holding", f"pain caution in the week of {week}"
    if weeks.get(week, 0.0) <= 0:
        return step, "holding", f"no runs in the week of {week}"
    off = _off_plan(plan.weeks[min(step, len(plan.weeks) - 1)], history, settings, week)
    if off:
        return step, "holding", f"{off} in the week of {week}"
    return step + 1, "on track", f"the week of {week} went without pain alerts"


def _off_plan(target: PlanWeek, history: History, settings: Settings, week: date) -> str:
    """Why the week did not follow its target (a run above the range or the effort), or ''."""
    start = day_start(week, settings.zone)
    end = day_start(week + timedelta(weeks=1), settings.zone)
    max_rpe = int(target.rpe.split("-")[-1])
    for run in history.runs:
        if not start <= run.started_at < end:
            continue
        if over(run.distance_km, target.high_km):
            return "a run above the plan's range"
        if run.rpe is not None and run.rpe > max_rpe:
            return f"a run at RPE {run.rpe}, above the plan's {target.rpe}"
    return ""


def _worst_pain(history: History, settings: Settings, week: date) -> int:
    """The highest pain alert severity raised by reports within the week (-1 if none)."""
    start = day_start(week, settings.zone)
    end = day_start(week + timedelta(weeks=1), settings.zone) - timedelta(microseconds=1)
    alerts = [
        alert
        for alert in pain.evaluate(history, settings, end, release=False)
        if datetime.fromisoformat(alert.data["at"]) >= start
    ]
    return max((severity_rank(alert.severity) for alert in alerts), default=-1)
