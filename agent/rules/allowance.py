"""The allowance: how far the runner may run next, and this week. Computed here, once.

Pure: ``(history, settings, now) -> Allowance``. The next run's allowance is the smallest of
named :class:`Limit` s, each with its number, a sentence saying why and its source:

- ``week-cap``: what is left of the week's cap (baseline week x (1 + ``weekly_warn``); the
  baseline itself while pain holds it; the return level after a break; the plan's weekly
  volume during a plan; before a complete week, the warm-up's guess of ``runs_per_week``
  runs of the longest so far). Less than ``min_run_km`` left is no sensible run: 0, rest.
- ``single-run``: ``spike_warn`` x the credited longest run of the past 30 days, counting
  only runs since the last break (Frandsen et al. 2025).
- ``return``: after ``break_days`` or more without a run, the level before the break scaled
  by the break's length, never below a restart run (Daniels' Running Formula).
- ``plan``: the active return plan's upper range, runs a week and rest days.
- ``pain``: while a pain alert is active, no longer than the run that hurt.
- ``start``: no history at all, a graded start of 2-3 miles.

Credited history: a run over the single-run or return limit in force when it started counts
only up to that limit when later limits are computed, as a week over its cap counts only up
to its cap, so a jump never raises the next allowance. Every view reads this one object.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

from agent.rules import pain
from agent.rules.breaks import Break, credit, credited_longest, find_break
from agent.rules.limits import (
    BEFORE_LINK,
    Limit,
    LimitRule,
    Phase,
    WeekCap,
    actual_longest,
    dist_fn,
    pain_limit,
    plan_limit,
    run_limits,
    smallest_run,
    start_limit,
    week_limit,
)
from agent.rules.load import (
    History,
    baseline_km,
    complete_weeks,
    credited_weeks,
    last_week_km,
    local_date,
    partial_week,
    usual_run_km,
    week_change,
    week_of,
    weekly_km,
)
from agent.rules.plan import PlanStatus, progress
from agent.units import format_budget

# Re-exported: the limits and breaks are part of what an allowance is.
__all__ = [
    "BEFORE_LINK",
    "LIMIT_LABELS",
    "Allowance",
    "Break",
    "Limit",
    "LimitRule",
    "Phase",
    "allowance",
    "smallest_run",
]

if TYPE_CHECKING:
    from agent.config import Settings


# A plan is "in force" in these states; "not started" and "complete" leave the usual rules.
PLAN_ACTIVE = ("on track", "holding", "stepped back")

# A few words for each limit, where a sentence is too long (a notification's last line).
LIMIT_LABELS: dict[str, str] = {
    "week-cap": "what is left of the week's cap",
    "single-run": "1.1x your longest run of 30 days",
    "return": "your return after a break",
    "plan": "your return plan",
    "pain": "no longer than the run that hurt",
    "start": "a graded start: no history yet",
}


@dataclass(frozen=True, slots=True)
class Allowance:
    """The week's numbers and the next run's limits at one instant (km).

    ``baseline_km`` is None when unknown (no complete week yet: the week the history begins
    in is one only if it begins on the week's first day); ``cap_km`` and ``remaining_km``
    then come from the warm-up's guess (``warm_up_cap``: going over it only informs), or are
    None without any run. ``longest_30d_km`` is the credited longest run of the past 30 days
    since the last break. ``next_run_max_km`` is the smallest limit and ``binding`` the limit
    that sets it.
    """

    at: datetime
    phase: Phase
    week_start: date
    distance_km: float
    last_week_km: float | None
    baseline_km: float | None
    cap_km: float | None
    held: bool
    longest_30d_km: float | None
    usual_run_km: float | None
    limits: tuple[Limit, ...]
    cap_basis: str = ""
    warm_up_cap: bool = False
    partial_like: tuple[float, float] | None = None
    break_: Break | None = None
    plan: PlanStatus | None = None

    @property
    def remaining_km(self) -> float | None:
        """What is left of the cap; never negative (0 once over)."""
        if self.cap_km is None:
            return None
        return max(0.0, self.cap_km - self.distance_km)

    @property
    def change(self) -> float | None:
        """The week's distance against the baseline, as a fraction (0.08 = +8 %); None
        without a baseline, or with nothing run yet this week (:func:`week_change`)."""
        return week_change(self.distance_km, self.baseline_km, finished=False)

    @property
    def binding(self) -> Limit | None:
        """The smallest limit (the first listed on a tie)."""
        return min(self.limits, key=lambda limit: limit.km) if self.limits else None

    @property
    def next_run_max_km(self) -> float | None:
        binding = self.binding
        return None if binding is None else binding.km

    def limit(self, rule: LimitRule) -> Limit | None:
        return next((limit for limit in self.limits if limit.rule == rule), None)


# -- credited runs and breaks ---------------------------------------------------------------


# -- the allowance -------------------------------------------------------------------------


def allowance(history: History, settings: Settings, now: datetime) -> Allowance:
    """The allowance at ``now``, from the history up to ``now``. Pure."""
    history = _in_order(history.upto(now))
    credited, restarts = credit(history.runs, settings, history.declared)
    brk = find_break(credited, now, settings, restarts)
    holding = [a for a in pain.evaluate(history, settings, now) if a.severity in pain.HOLDING]
    held = bool(holding)
    status = progress(history.plan, history, settings, now) if history.plan else None
    plan_on = status is not None and status.status in PLAN_ACTIVE
    declared = _declared_in_force(history, settings, now, brk)
    phase = _phase(history, settings, now, held=held, plan_on=plan_on, brk=brk)
    if declared and phase == "warm-up":
        phase = "building"
    week = _week(history, settings, now, restarts, held, brk, declared)
    if week.warm_up and phase == "building":
        phase = "warm-up"  # the cap is still the warm-up's guess: no complete week yet
    if plan_on:
        assert status is not None
        week = _plan_week(week, status, settings)
    longest = credited_longest(credited, now, settings)
    # In a return the usual run is the one before the break (the same however long it is).
    usual = brk.usual_km if brk is not None else usual_run_km(history.runs, now)
    if declared and history.declared:
        longest = max(longest or 0.0, history.declared.long_km)
    actual = actual_longest(history, now, brk)
    # Most specific first: on a tie the first one binds (a return says more than a cap).
    limits = [
        *start_limit(phase, settings),
        *pain_limit(holding, history, settings, now, status if plan_on else None),
        *(plan_limit(status, history, settings, now) if plan_on and status else ()),
        *([] if plan_on else run_limits(longest, actual, brk, settings)),
        *week_limit(week, settings, usual),
    ]
    return Allowance(
        at=now,
        phase=phase,
        week_start=week.start,
        distance_km=week.distance_km,
        last_week_km=week.last_week_km,
        baseline_km=week.baseline_km,
        cap_km=week.cap_km,
        held=held,
        longest_30d_km=longest,
        usual_run_km=usual,
        limits=tuple(limits),
        cap_basis=week.basis,
        warm_up_cap=week.warm_up and not plan_on,
        partial_like=week.partial_like if week.warm_up and not plan_on else None,
        break_=brk,
        plan=status,
    )


def _in_order(history: History) -> History:
    """Runs oldest first (the store gives them so; a hand-built history may not)."""
    runs = history.runs
    if all(a.started_at <= b.started_at for a, b in pairwise(runs)):
        return history
    return replace(history, runs=tuple(sorted(runs, key=lambda run: (run.started_at, run.id))))


def _phase(
    history: History,
    settings: Settings,
    now: datetime,
    *,
    held: bool,
    plan_on: bool,
    brk: Break | None,
) -> Phase:
    if not history.runs and history.declared is None:
        return "no-history"
    if held:
        return "held"
    if plan_on:
        return "plan"
    if brk is not None:
        return "return"
    if _in_warm_up(history, settings, now):
        return "warm-up"
    return "building"


def _in_warm_up(history: History, settings: Settings, now: datetime) -> bool:
    if not history.runs:
        return True
    return now - history.runs[0].started_at < timedelta(days=settings.progression.warmup_days)


def _declared_in_force(
    history: History, settings: Settings, now: datetime, brk: Break | None
) -> bool:
    """A declared level stands in until the runner's own history covers a warm-up."""
    return history.declared is not None and brk is None and _in_warm_up(history, settings, now)


def _baseline(
    history: History,
    settings: Settings,
    now: datetime,
    weeks: dict[date, float],
    restarts: dict[date, float],
) -> float | None:
    """The baseline week of ``now``'s week: complete weeks before it, credited up to their
    caps, since the last restart (the weeks before a break are not the runner's level any
    more: the return week is the new start)."""
    start = week_of(now, settings)
    complete = complete_weeks(weeks, partial_week(history.runs, settings))
    earlier = {week: km for week, km in complete.items() if week < start}
    flares = pain.flare_weeks(history, settings, now)
    credited = credited_weeks(earlier, settings.progression.weekly_warn, restarts, flares)
    restart = max((week for week in restarts if week < start), default=None)
    if restart is not None:
        credited = {week: km for week, km in credited.items() if week >= restart}
    return baseline_km(credited, start, flares)


def _week(
    history: History,
    settings: Settings,
    now: datetime,
    restarts: dict[date, float],
    held: bool,
    brk: Break | None,
    declared: bool,
) -> WeekCap:
    p = settings.progression
    weeks = weekly_km(history.runs, settings)
    start = week_of(now, settings)
    base = _baseline(history, settings, now, weeks, restarts)
    dist = dist_fn(settings)
    if brk is not None:
        # The return level alone: the usual baseline decays through a break (its weeks of
        # zero), and would make a longer break allow more once the restart floor applies.
        level = brk.week_cap_km
        basis = (
            f"the return level: {brk.factor:g} x your {dist(brk.week_km)} weeks before the "
            f"{brk.days}-day break"
        )
        return WeekCap(start, weeks.get(start, 0.0), _last(weeks, start), level, level, basis)
    if declared and history.declared is not None:
        base = history.declared.week_km
    growth = 0.0 if held else p.weekly_warn
    cap = None if base is None else base * (1 + growth)
    if base is None and history.runs:
        # No complete week to compare with yet (the first week, or a week the history
        # begins in the middle of): a plan's number of runs of the longest run so far, so
        # following the single-run limit daily cannot run away. A rough guess: going over
        # it only informs, and the first complete week becomes the baseline.
        longest = max(run.distance_km for run in history.runs)
        runs = settings.plan.runs_per_week
        cap = runs * longest
        basis = f"warm-up: {runs} runs of your longest run so far ({dist(longest)})"
        return WeekCap(
            start,
            weeks.get(start, 0.0),
            _last(weeks, start),
            None,
            cap,
            basis,
            warm_up=True,
            partial_like=_partial_like(history, settings, start, now),
        )
    if base is None:
        basis = ""
    elif held:
        # The cap is the baseline itself: one number, shown once, as the cap (rounded down).
        basis = "held at your baseline week while pain settles"
    else:
        basis = f"your {dist(base)} baseline week + {100 * growth:.0f} %"
    return WeekCap(start, weeks.get(start, 0.0), _last(weeks, start), base, cap, basis)


def _partial_like(
    history: History, settings: Settings, start: date, now: datetime
) -> tuple[float, float] | None:
    """A week after the partial week the history begins in, on the same days of the week
    that partial week covers (from its first run), up to ``now``'s day of the week: (this
    week's km on them, the partial week's km on them). None without a partial week before
    ``start``."""
    partial = partial_week(history.runs, settings)
    if partial is None or partial >= start:
        return None
    first = min(local_date(run.started_at, settings.zone) for run in history.runs) - partial
    upto = local_date(now, settings.zone) - start
    done = then = 0.0
    for run in history.runs:
        day = local_date(run.started_at, settings.zone)
        if first <= day - partial <= upto:
            then += run.distance_km
        elif first <= day - start <= upto:
            done += run.distance_km
    return done, then


def _last(weeks: dict[date, float], start: date) -> float | None:
    return last_week_km(weeks, start)


def _plan_week(week: WeekCap, status: PlanStatus, settings: Settings) -> WeekCap:
    """During a plan the week's cap is the plan's volume: its runs a week at its top range."""
    runs, high = settings.plan.runs_per_week, status.target.high_km
    top = format_budget(high, settings.units)
    basis = f"week {status.target.number} of the plan: {runs} runs of up to {top}"
    return WeekCap(week.start, week.distance_km, week.last_week_km, None, runs * high, basis)
