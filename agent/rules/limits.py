"""The limits on the next run, each with its number, why and its source: what is left of
the week's cap, the single-run and return limits, the plan's, the pain limit and a graded
start (the allowance is the smallest, :mod:`agent.rules.allowance`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from agent.models import Alert, Run
from agent.rules import pain
from agent.rules.breaks import Break
from agent.rules.load import (
    EPS_KM,
    LONGEST_WINDOW,
    History,
    local_date,
    usual_run_km,
    week_of,
)
from agent.rules.plan import PlanStatus
from agent.units import floor_to, format_against, format_budget, format_km, to_unit

if TYPE_CHECKING:
    from agent.config import Settings


Phase = Literal["no-history", "warm-up", "building", "return", "plan", "held"]
# A ``before`` pain report is about the run started within this long after it.
BEFORE_LINK = timedelta(hours=12)
DECLARE_HINT = (
    "import past runs (stridewatch import) or declare your level "
    "(stridewatch baseline set --week 25km --long 10km)"
)
LimitRule = Literal["week-cap", "single-run", "return", "plan", "pain", "start"]


WEEK_SOURCE = "physiotherapy guidance of +10-15 % a week; Nielsen et al. 2014"


SPIKE_SOURCE = "Frandsen et al. 2025"


RETURN_SOURCE = "Daniels' Running Formula, returning after time off; graded return to running"


PLAN_SOURCE = "criteria-based return-to-run protocols (Warden et al. 2014)"


PAIN_SOURCE = pain.SOURCE


START_SOURCE = "graded start: 2-3 miles at RPE 3-4 (physiotherapy guidance)"


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit on the next run (km), why, and the evidence behind it."""

    rule: LimitRule
    km: float
    reason: str
    source: str

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "km": floor_to(self.km, 3),
            "reason": self.reason,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class WeekCap:
    """A week's load against its cap: the week's first day, its km so far, last week's and
    the baseline's km, the cap (km; None: none applies) and how it was set."""

    start: date
    distance_km: float
    last_week_km: float | None
    baseline_km: float | None
    cap_km: float | None
    basis: str
    warm_up: bool = False
    # In the warm-up after a partial first week: (this week's km on the days the partial
    # week covers, that partial week's km), a measured like-for-like comparison.
    partial_like: tuple[float, float] | None = None


def dist_fn(settings: Settings) -> Callable[[float], str]:
    """Levels in reasons (a baseline week, the longest run, the weeks before a break): what
    was run, rounded to the nearest as every distance done (caps and limits beside them are
    rounded down: :mod:`agent.units`)."""

    def dist(km: float) -> str:
        return format_km(km, settings.units)

    return dist


def start_limit(phase: Phase, settings: Settings) -> list[Limit]:
    if phase != "no-history":
        return []
    p = settings.progression
    unit = settings.units
    low = floor_to(to_unit(p.restart_km * 1000, unit), 1)
    high = floor_to(to_unit(p.start_km * 1000, unit), 1)
    reason = (
        f"no history to compare against: start with {low:g}-{high:g} {unit} at an easy effort "
        f"(RPE 3-4), and {DECLARE_HINT}"
    )
    return [Limit("start", p.start_km, reason, START_SOURCE)]


def smallest_run(usual: float | None, settings: Settings) -> float:
    """The smallest sensible run: ``min_run_km``, or half the runner's usual run when that
    is smaller (a runner of 1.5 km runs is not told to rest for good)."""
    floor = settings.progression.min_run_km
    return floor if usual is None else min(floor, usual / 2)


def week_limit(week: WeekCap, settings: Settings, usual: float | None) -> list[Limit]:
    if week.cap_km is None:
        return []
    left = max(0.0, week.cap_km - week.distance_km)
    cap = format_budget(week.cap_km, settings.units)
    if left < smallest_run(usual, settings):
        done, cap = format_against(week.distance_km, week.cap_km, settings.units)
        reason = f"rest: the week's cap is reached ({done} of its {cap} cap, {week.basis})"
        return [Limit("week-cap", 0.0, reason, WEEK_SOURCE)]
    reason = (
        f"{format_budget(left, settings.units)} is left of this week's {cap} cap ({week.basis})"
    )
    return [Limit("week-cap", left, reason, WEEK_SOURCE)]


def run_limits(
    longest: float | None, actual: float, brk: Break | None, settings: Settings
) -> list[Limit]:
    found = []
    if brk is not None:
        found.append(Limit("return", brk.run_km, _return_reason(brk, settings), RETURN_SOURCE))
    if longest is not None and (brk is None or brk.restart is not None):
        factor = settings.progression.spike_warn
        since = " since your break" if brk is not None else ""
        credited = ", a run over its limit counted up to it" if longest < actual - EPS_KM else ""
        reason = (
            f"{factor:g} x your longest run of the past 30 days{since} "
            f"({format_km(longest, settings.units)}{credited})"
        )
        found.append(Limit("single-run", longest * factor, reason, SPIKE_SOURCE))
    return found


def actual_longest(history: History, now: datetime, brk: Break | None) -> float:
    """The longest run actually run in the single-run window (for saying it was credited)."""
    since = now - LONGEST_WINDOW
    if brk is not None and brk.restart is not None:
        since = max(since, brk.restart.started_at)
    return max((r.distance_km for r in history.runs if since <= r.started_at <= now), default=0.0)


def _return_reason(brk: Break, settings: Settings) -> str:
    unit = settings.units
    low = floor_to(to_unit(brk.usual_km * 1000, unit), 1)
    high = floor_to(to_unit(brk.longest_km * 1000, unit), 1)
    usual = f"{low:g}-{high:g}{unit}" if low < high else f"{high:g}{unit}"
    longest = format_km(brk.longest_km, unit)
    scaled = brk.factor * brk.longest_km
    if brk.run_km > scaled + EPS_KM:
        why = (
            f"a restart run ({brk.factor:g} x your {longest} longest run before the break "
            "would be less)"
        )
    else:
        why = f"{brk.factor:g} x your {longest} longest run before the break"
    return (
        f"{brk.days} days without a run {_day(brk, settings)}: restart at "
        f"{format_budget(brk.run_km, unit)} at an easy effort (RPE 3-4), {why}; for a graded "
        f"return: stridewatch plan return --usual {usual}"
    )


def _day(brk: Break, settings: Settings) -> str:
    if brk.restart is None:
        return "so far"
    return f"before {brk.restart.started_at.astimezone(settings.zone):%a %d %b}"


def plan_limit(
    status: PlanStatus, history: History, settings: Settings, now: datetime
) -> list[Limit]:
    target, zone = status.target, settings.zone
    today = local_date(now, zone)
    start = week_of(now, settings)
    week_runs = [run for run in history.runs if local_date(run.started_at, zone) >= start]
    per_week = settings.plan.runs_per_week
    high = format_budget(target.high_km, settings.units)
    if len(week_runs) >= per_week:
        reason = (
            f"the plan's {per_week} runs this week are done: rest until "
            f"{start + timedelta(weeks=1):%a %d %b}"
        )
        return [Limit("plan", 0.0, reason, PLAN_SOURCE)]
    last = local_date(history.runs[-1].started_at, zone) if history.runs else None
    if last is not None and status.step < settings.plan.rest_day_weeks and (today - last).days <= 1:
        reason = (
            f"rest day: the plan asks for a day off between runs in its first "
            f"{settings.plan.rest_day_weeks} weeks; next run {last + timedelta(days=2):%a %d %b}"
        )
        return [Limit("plan", 0.0, reason, PLAN_SOURCE)]
    low = format_km(target.low_km, settings.units)
    reason = (
        f"week {target.number} of {len(status.plan.weeks)} of your return plan: runs of "
        f"{low}-{high} at RPE {target.rpe}, at most {per_week} a week"
    )
    return [Limit("plan", target.high_km, reason, PLAN_SOURCE)]


def pain_limit(
    holding: list[Alert],
    history: History,
    settings: Settings,
    now: datetime,
    plan: PlanStatus | None,
) -> list[Limit]:
    """No longer than the run that hurt, while a pain alert holds (``holding``: the pain
    warnings and dangers active at ``now``)."""
    found: list[tuple[float, str]] = []
    for alert in holding:
        if alert.severity == "danger":
            score = alert.data["score"]
            reason = (
                f"rest: pain {score}/10 is severe; no running until it settles and a "
                "physiotherapist or doctor has seen it"
            )
            found.append((0.0, reason))
            continue
        run = _run_that_hurt(history, alert.data)
        if run is None:
            usual = usual_run_km(history.runs, now)
            if usual is not None:
                score = alert.data["score"]
                reason = (
                    f"pain {score}/10 with no run to compare: no longer than your usual "
                    f"{format_budget(usual, settings.units)} run until it settles"
                )
                found.append((usual, reason))
            continue
        when = run.started_at.astimezone(settings.zone).strftime("%a %d %b")
        reason = (
            f"pain {alert.data['score']}/10 with the run of {when} "
            f"({format_km(run.distance_km, settings.units)}): no longer than that run until "
            "the pain settles"
        )
        km = run.distance_km
        if alert.data.get("when") == "before":
            # Run in pain that was already there: it counts only up to the usual run before
            # it, so running further through the pain never raises this limit.
            at = datetime.fromisoformat(alert.data["at"])
            usual = usual_run_km([r for r in history.runs if r.started_at < at], at)
            km = min(km, usual) if usual is not None else km
        found.append((km, reason))
    if found and plan is not None:
        low = plan.target.low_km
        reason = (
            f"pain during your return plan: the low end of this week's range "
            f"({format_budget(low, settings.units)}) until the pain settles"
        )
        found.append((low, reason))
    if not found:
        return []
    km, reason = min(found)
    return [Limit("pain", km, reason, PAIN_SOURCE)]


def _run_that_hurt(history: History, data: dict[str, Any]) -> Run | None:
    """The run a pain alert is about: the one it names; for a ``before`` report the run done
    in that pain (started within 12 h after it); otherwise the last run started up to 36 h
    before the report. None when no run is that close."""
    run_id = data.get("run_id")
    if run_id is not None:
        return next((run for run in history.runs if run.id == run_id), None)
    at = datetime.fromisoformat(data["at"])
    if data.get("when") == "before":
        after = [run for run in history.runs if at <= run.started_at <= at + BEFORE_LINK]
        return after[0] if after else None
    before = [run for run in history.runs if at - pain.LINK_WINDOW <= run.started_at <= at]
    return before[-1] if before else None
