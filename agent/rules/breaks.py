"""Credited runs and breaks: a run over the limit in force when it started counts only up
to that limit later, and a gap of ``break_days`` or more is a break with a return level
(the level before it, scaled by its length; Daniels' Running Formula)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from agent.models import DeclaredLevel, Run
from agent.rules.load import (
    LONGEST_WINDOW,
    baseline_km,
    complete_weeks,
    credited_weeks,
    partial_week,
    week_of,
    weekly_km,
)

if TYPE_CHECKING:
    from agent.config import Settings


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
class Credited:
    """A run and the km it counts for in the baseline after a break (at most its limit)."""

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
        list[Credited],
        list[tuple[int, date, float]],
        DeclaredLevel | None,
    ]
    | None
) = None


def credit(
    runs: tuple[Run, ...], settings: Settings, declared: DeclaredLevel | None = None
) -> tuple[list[Credited], dict[date, float]]:
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
) -> tuple[list[Credited], list[tuple[int, date, float]]]:
    credited: list[Credited] = []
    restarts: dict[date, float] = {}
    marks: list[tuple[int, date, float]] = []
    warm_up = timedelta(days=settings.progression.warmup_days)
    for run in runs:
        at = run.started_at
        brk = find_break(credited, at, settings, restarts)
        limits = [] if brk is None else [brk.run_km]
        longest = credited_longest(credited, at, settings)
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
        credited.append(Credited(run, km))
    return credited, marks


def _since_break(credited: Sequence[Credited], at: datetime, settings: Settings) -> datetime:
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


def credited_longest(
    credited: Sequence[Credited], at: datetime, settings: Settings
) -> float | None:
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


def find_break(
    credited: Sequence[Credited],
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
    credited: Sequence[Credited],
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
