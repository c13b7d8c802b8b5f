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

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

from agent.models import Alert, DeclaredLevel, Run
from agent.rules import pain
from agent.rules.load import (
    EPS_KM,
    LONGEST_WINDOW,
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
from agent.units import floor_to, format_against, format_budget, format_km, to_unit

if TYPE_CHECKING:
    from agent.config import Settings

LimitRule = Literal["week-cap", "single-run", "return", "plan", "pain", "start"]
Phase = Literal["no-history", "warm-up", "building", "return", "plan", "held"]

# A ``before`` pain report is about the run started within this long after it.
BEFORE_LINK = timedelta(hours=12)
# A plan is "in force" in these states; "not started" and "complete" leave the usual rules.
PLAN_ACTIVE = ("on track", "holding", "stepped back")

WEEK_SOURCE = "physiotherapy guidance of +10-15 % a week; Nielsen et al. 2014"
SPIKE_SOURCE = "Frandsen et al. 2025"
RETURN_SOURCE = "Daniels' Running Formula, returning after time off; graded return to running"
PLAN_SOURCE = "criteria-based return-to-run protocols (Warden et al. 2014)"
PAIN_SOURCE = "physiotherapy guidance; Silbernagel et al. 2007"
START_SOURCE = "graded start: 2-3 miles at RPE 3-4 (physiotherapy guidance)"
# A few words for each limit, where a sentence is too long (a notification's last line).
LIMIT_LABELS: dict[str, str] = {
    "week-cap": "what is left of the week's cap",
    "single-run": "1.1x your longest run of 30 days",
    "return": "your return after a break",
    "plan": "your return plan",
    "pain": "no longer than the run that hurt",
    "start": "a graded start: no history yet",
}
DECLARE_HINT = (
    "import past runs (stridewatch import) or declare your level "
    "(stridewatch baseline set --week 25km --long 10km)"
)


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
class Break:
    """A gap of ``break_days`` or more without a run, and the return level after it."""

    last: Run
    restart: Run | None
    days: int
    factor: float
    longest_km: float
    week_km: float
    run_km: float
    week_cap_km: float
    usual_km: float


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


@dataclass(frozen=True, slots=True)
class _Credited:
    run: Run
    km: float


def _gap(settings: Settings) -> timedelta:
    return timedelta(days=settings.progression.break_days)


# The last credit pass: (settings, runs, credited, restarts with the run index they came
# at). The pass is causal (a run's credit depends only on the runs before it), so the
# history before any of those runs, which the rules ask for run by run, is a prefix of it.
_last_pass: (
    tuple[
        Settings,
        tuple[Run, ...],
        list[_Credited],
        list[tuple[int, date, float]],
        DeclaredLevel | None,
    ]
    | None
) = None


def _credit(
    runs: tuple[Run, ...], settings: Settings, declared: DeclaredLevel | None = None
) -> tuple[list[_Credited], dict[date, float]]:
    """Each run counted up to the single-run or return limit in force when it started, and
    the return week caps (week start -> km) of every restart."""
    global _last_pass
    known = _last_pass
    count = len(runs)
    if (
        known is not None
        and known[0] is settings
        and known[4] == declared
        and runs == known[1][:count]
    ):
        restarts = {week: km for n, week, km in known[3] if n < count}
        return known[2][:count], restarts
    credited, marks = _credit_pass(runs, settings, declared)
    _last_pass = (settings, runs, credited, marks, declared)
    return list(credited), {week: km for _, week, km in marks}


def _credit_pass(
    runs: Sequence[Run], settings: Settings, declared: DeclaredLevel | None
) -> tuple[list[_Credited], list[tuple[int, date, float]]]:
    credited: list[_Credited] = []
    restarts: dict[date, float] = {}
    marks: list[tuple[int, date, float]] = []
    warm_up = timedelta(days=settings.progression.warmup_days)
    for run in runs:
        at = run.started_at
        brk = _break(credited, at, settings, restarts)
        limits = [] if brk is None else [brk.run_km]
        longest = _longest(credited, at, settings)
        # In the warm-up the spike rule only informs: one or two runs do not set a level,
        # so a run then counts up to spike_danger (2x) the longest before it, not 1.1x (a
        # usual long run in the first week must not warn for weeks; a 3x jump still
        # cannot raise the next allowance).
        in_warm_up = at - runs[0].started_at < warm_up
        rates = settings.progression
        factor = rates.spike_danger if in_warm_up else rates.spike_warn
        if in_warm_up and declared is not None and declared.set_at <= at:
            # A declared level is trusted: runs count against it as after a warm-up.
            longest = max(longest or 0.0, declared.long_km)
            factor = rates.spike_warn
        if longest is not None and (brk is None or brk.restart is not None):
            limits.append(longest * factor)
        if brk is not None and brk.restart is None:
            restarts[week_of(at, settings)] = brk.week_cap_km
            marks.append((len(credited), week_of(at, settings), brk.week_cap_km))
        km = min([run.distance_km, *limits])
        credited.append(_Credited(run, km))
    return credited, marks


def _since_break(credited: Sequence[_Credited], at: datetime, settings: Settings) -> datetime:
    """The start of the window the single-run rule reads: 30 days, or since the end of the
    last break within them."""
    since, gap = at - LONGEST_WINDOW, _gap(settings)
    for n in range(len(credited) - 1, 0, -1):
        later, earlier = credited[n].run.started_at, credited[n - 1].run.started_at
        if later < since:
            break
        if later - earlier >= gap:
            return later
    return since


def _longest(credited: Sequence[_Credited], at: datetime, settings: Settings) -> float | None:
    """The credited longest run in the window before (and at) ``at``."""
    if credited and at - credited[-1].run.started_at >= _gap(settings):
        return None
    since = _since_break(credited, at, settings)
    found = None
    for c in reversed(credited):
        if c.run.started_at < since:
            break
        if c.run.started_at <= at and (found is None or c.km > found):
            found = c.km
    return found


def _break(
    credited: Sequence[_Credited],
    at: datetime,
    settings: Settings,
    restarts: dict[date, float],
) -> Break | None:
    """The break ``at`` is in: still off (no run since), or restarted in ``at``'s week."""
    if not credited:
        return None
    gap, week = _gap(settings), week_of(at, settings)
    if at - credited[-1].run.started_at >= gap:
        return _return_level(credited, len(credited) - 1, None, at, settings, restarts)
    for n in range(len(credited) - 1, 0, -1):
        later = credited[n].run
        if week_of(later.started_at, settings) != week:
            return None
        if later.started_at - credited[n - 1].run.started_at >= gap:
            return _return_level(credited, n - 1, later, later.started_at, settings, restarts)
    return None


def _return_level(
    credited: Sequence[_Credited],
    last: int,
    restart: Run | None,
    end: datetime,
    settings: Settings,
    restarts: dict[date, float],
) -> Break:
    """The pre-break level scaled by the break's length (Daniels: x0.5 after up to four
    weeks off, x0.33 after more), never below a restart run (nor above the old level)."""
    p = settings.progression
    before = credited[: last + 1]
    last_run = before[-1].run
    days = (end - last_run.started_at) // timedelta(days=1)
    factor = p.long_break_factor if days >= p.long_break_days else p.return_factor
    window = [c.km for c in before if last_run.started_at - LONGEST_WINDOW <= c.run.started_at]
    longest = max(window)
    weeks = weekly_km((c.run for c in before), settings)
    partial = partial_week([c.run for c in before], settings)
    credited_w = credited_weeks(complete_weeks(weeks, partial), p.weekly_warn, restarts)
    week_km = baseline_km(credited_w, week_of(last_run.started_at, settings) + timedelta(weeks=1))
    # Before the first complete week, the part of a week known is the only level there is
    # (too low, if anything: the return starts lower, never higher).
    week_km = week_km or (credited_w[max(credited_w)] if credited_w else weeks[max(weeks)])
    usual = statistics.median(window)
    return Break(
        last=last_run,
        restart=restart,
        days=days,
        factor=factor,
        longest_km=longest,
        week_km=week_km,
        run_km=_scaled(factor, longest, p.restart_km),
        week_cap_km=_scaled(factor, week_km, p.restart_km),
        usual_km=usual,
    )


def _scaled(factor: float, level: float, restart: float) -> float:
    """``factor`` x the pre-break level, never below a restart run, nor above the old level
    when that was shorter than a restart run."""
    return max(factor * level, min(restart, level)) if level > 0 else restart


# -- the allowance -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Week:
    start: date
    distance_km: float
    last_week_km: float | None
    baseline_km: float | None
    cap_km: float | None
    basis: str
    warm_up: bool = False


def allowance(history: History, settings: Settings, now: datetime) -> Allowance:
    """The allowance at ``now``, from the history up to ``now``. Pure."""
    history = _in_order(history.upto(now))
    credited, restarts = _credit(history.runs, settings, history.declared)
    brk = _break(credited, now, settings, restarts)
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
    longest = _longest(credited, now, settings)
    # In a return the usual run is the one before the break (the same however long it is).
    usual = brk.usual_km if brk is not None else usual_run_km(history.runs, now)
    if declared and history.declared:
        longest = max(longest or 0.0, history.declared.long_km)
    actual = _actual_longest(history, now, brk)
    # Most specific first: on a tie the first one binds (a return says more than a cap).
    limits = [
        *_start_limit(phase, settings),
        *_pain_limit(holding, history, settings, now, status if plan_on else None),
        *(_plan_limit(status, history, settings, now) if plan_on and status else ()),
        *([] if plan_on else _run_limits(longest, actual, brk, settings)),
        *_week_limit(week, settings, usual),
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


def _week(
    history: History,
    settings: Settings,
    now: datetime,
    restarts: dict[date, float],
    held: bool,
    brk: Break | None,
    declared: bool,
) -> _Week:
    p = settings.progression
    weeks = weekly_km(history.runs, settings)
    start = week_of(now, settings)
    complete = complete_weeks(weeks, partial_week(history.runs, settings))
    earlier = {week: km for week, km in complete.items() if week < start}
    flares = pain.flare_weeks(history, settings, now)
    credited = credited_weeks(earlier, p.weekly_warn, restarts, flares)
    # After a restart, only the weeks since it count: the weeks before the break are not
    # the runner's level any more (the return week is the new start).
    restart = max((week for week in restarts if week < start), default=None)
    if restart is not None:
        credited = {week: km for week, km in credited.items() if week >= restart}
    base = baseline_km(credited, start, flares)
    dist = _dist_fn(settings)
    if brk is not None:
        # The return level alone: the usual baseline decays through a break (its weeks of
        # zero), and would make a longer break allow more once the restart floor applies.
        level = brk.week_cap_km
        basis = (
            f"the return level: {brk.factor:g} x your {dist(brk.week_km)} weeks before the "
            f"{brk.days}-day break"
        )
        return _Week(start, weeks.get(start, 0.0), _last(weeks, start), level, level, basis)
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
        return _Week(
            start, weeks.get(start, 0.0), _last(weeks, start), None, cap, basis, warm_up=True
        )
    if base is None:
        basis = ""
    elif held:
        # The cap is the baseline itself: one number, shown once, as the cap (rounded down).
        basis = "held at your baseline week while pain settles"
    else:
        basis = f"your {dist(base)} baseline week + {100 * growth:.0f} %"
    return _Week(start, weeks.get(start, 0.0), _last(weeks, start), base, cap, basis)


def _last(weeks: dict[date, float], start: date) -> float | None:
    return last_week_km(weeks, start)


def _plan_week(week: _Week, status: PlanStatus, settings: Settings) -> _Week:
    """During a plan the week's cap is the plan's volume: its runs a week at its top range."""
    runs, high = settings.plan.runs_per_week, status.target.high_km
    top = format_budget(high, settings.units)
    basis = f"week {status.target.number} of the plan: {runs} runs of up to {top}"
    return _Week(week.start, week.distance_km, week.last_week_km, None, runs * high, basis)


def _dist_fn(settings: Settings) -> Callable[[float], str]:
    """Levels in reasons (a baseline week, the longest run, the weeks before a break): what
    was run, rounded to the nearest as every distance done (caps and limits beside them are
    rounded down: :mod:`agent.units`)."""

    def dist(km: float) -> str:
        return format_km(km, settings.units)

    return dist


def _start_limit(phase: Phase, settings: Settings) -> list[Limit]:
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


def _week_limit(week: _Week, settings: Settings, usual: float | None) -> list[Limit]:
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


def _run_limits(
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


def _actual_longest(history: History, now: datetime, brk: Break | None) -> float:
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


def _plan_limit(
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


def _pain_limit(
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
