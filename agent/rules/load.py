"""The load model: the numbers the rules compare, computed from a history of run totals.

Everything here is pure: a :class:`History` and an instant go in, numbers come out. Days and
weeks are calendar days and weeks in the configured zone, taken from zoneinfo local dates (never
fixed offsets), so a week that holds a daylight-saving change still runs from local midnight to
local midnight. Distances are in km.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Literal

from agent import units
from agent.models import DeclaredLevel, PainReport, Plan, Run
from agent.units import week_start_of

if TYPE_CHECKING:
    from agent.config import Settings

LoadKind = Literal["distance", "trimp", "srpe"]

# The baseline week is the larger of the last complete week and the mean of the last four
# complete weeks, and one recovery week carries the baseline before it forward, so it does
# not shrink the next week's budget (DESIGN.md).
BASELINE_WEEKS = 4
# A planned recovery week cuts volume by roughly 20-40 %; a week down by half or more is a
# layoff or a flare-up, after which the cap should come down rather than carry forward.
RECOVERY_WEEK_MIN = 0.5
# The single-run spike compares with the longest run of the past 30 days (Frandsen et al.,
# BJSM 2025, defined the spike against exactly this window).
LONGEST_WINDOW = timedelta(days=30)
# The runner's usual run: the median run of the past 4 weeks (issue 5).
USUAL_WINDOW = timedelta(days=28)
# A distance within a millimetre of a limit is at it, not over it: a run of exactly the
# shown allowance or plan top never warns (the same tolerance the units' texts use).
EPS_KM = units.EPS_KM
# EWMA acute and chronic windows in days, with decay 2 / (N + 1) (Williams et al., BJSM 2017).
ACUTE_DAYS = 7
CHRONIC_DAYS = 28
# Foster 1998 computes monotony over the 7 daily loads of a week.
MONOTONY_DAYS = 7


@dataclass(frozen=True, slots=True)
class History:
    """What the rules see: run totals (never samples), pain reports and the active plan."""

    runs: tuple[Run, ...] = ()
    pain: tuple[PainReport, ...] = ()
    plan: Plan | None = None
    declared: DeclaredLevel | None = None

    def upto(self, at: datetime) -> History:
        """Only the runs that started, and pain reported, at or before ``at``."""
        runs = tuple(run for run in self.runs if run.started_at <= at)
        pain = tuple(report for report in self.pain if report.at <= at)
        declared = self.declared if self.declared and self.declared.set_at <= at else None
        if (
            len(runs) == len(self.runs)
            and len(pain) == len(self.pain)
            and declared is self.declared
        ):
            return self
        return replace(self, runs=runs, pain=pain, declared=declared)

    def before(self, run: Run) -> History:
        """The history as it stood just before ``run`` started (runs strictly before it)."""
        at = run.started_at
        runs = tuple(other for other in self.runs if other.started_at < at)
        pain = tuple(report for report in self.pain if report.at < at)
        declared = self.declared if self.declared and self.declared.set_at < at else None
        return replace(self, runs=runs, pain=pain, declared=declared)

    def plus(self, runs: Iterable[Run]) -> History:
        """This history with ``runs`` added (a what-if plan), oldest first."""
        merged = sorted((*self.runs, *runs), key=lambda run: (run.started_at, run.id))
        return replace(self, runs=tuple(merged))


@dataclass(frozen=True, slots=True)
class WeekLoad:
    """One calendar week as the progression rule sees it, at some instant."""

    start: date
    distance_km: float
    last_week_km: float | None
    baseline_km: float | None


def last_week_km(weeks: Mapping[date, float], start: date) -> float | None:
    """The distance of the week before the one starting ``start`` (0 for a week without a
    run); None, unknown, when the history begins after it."""
    last = start - timedelta(weeks=1)
    return weeks.get(last, 0.0) if weeks and min(weeks) <= last else None


def week_change(distance_km: float, baseline_km: float | None, *, finished: bool) -> float | None:
    """A week's distance against its baseline week, as a fraction (0.08 = +8 %).

    None when there is nothing to say: no baseline, or a week not over yet with nothing run
    in it (on Monday morning -100 % is no change, only a week begun). A finished week of
    no runs is -100 %."""
    if not baseline_km or (not finished and distance_km <= 0):
        return None
    return distance_km / baseline_km - 1


def over(distance_km: float, limit_km: float) -> bool:
    """Whether a distance is over a limit (a millimetre's tolerance)."""
    return distance_km > limit_km + EPS_KM


def local_date(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def week_of(moment: datetime, settings: Settings) -> date:
    """The first local day of the calendar week holding ``moment``."""
    return week_start_of(local_date(moment, settings.zone), settings.first_weekday)


def day_start(day: date, zone: tzinfo) -> datetime:
    """Local midnight of ``day`` as an aware instant (DST-correct through zoneinfo)."""
    return datetime.combine(day, time(0), zone)


def run_load(run: Run, kind: LoadKind) -> float:
    """One run's load: km, Banister TRIMP, or session RPE (RPE x moving minutes).

    A run without the chosen measure (no heart rate for TRIMP, no RPE) counts as 0.
    """
    if kind == "distance":
        return run.distance_km
    if kind == "trimp":
        return run.trimp or 0.0
    return (run.rpe or 0) * run.moving_s / 60.0


def daily_loads(
    runs: Iterable[Run], zone: tzinfo, kind: LoadKind = "distance"
) -> dict[date, float]:
    totals: dict[date, float] = {}
    for run in runs:
        day = local_date(run.started_at, zone)
        totals[day] = totals.get(day, 0.0) + run_load(run, kind)
    return totals


def weekly_km(runs: Iterable[Run], settings: Settings) -> dict[date, float]:
    """Distance per calendar week (keyed by the week's first day)."""
    totals: dict[date, float] = {}
    zone, first_weekday = settings.zone, settings.first_weekday
    for run in runs:
        week = week_start_of(local_date(run.started_at, zone), first_weekday)
        totals[week] = totals.get(week, 0.0) + run.distance_km
    return totals


def partial_week(runs: Sequence[Run], settings: Settings) -> date | None:
    """The week the history begins in, when it begins after that week's first day.

    The runs before the first one are unknown (the runner's stridewatch history starts
    there), so that week's total is only part of a week: a runner who starts logging on a
    Thursday did not rest Monday to Wednesday. Such a week is never a baseline week: taken
    as one, it capped the next weeks at +10 % of a part of a week and flagged steady training
    as a jump for weeks (the credit chain carried it on). None when the history begins on a
    week's first day (or has no runs).
    """
    if not runs:
        return None
    first = local_date(min(run.started_at for run in runs), settings.zone)
    week = week_start_of(first, settings.first_weekday)
    return week if first > week else None


def complete_weeks(weeks: Mapping[date, float], partial: date | None) -> dict[date, float]:
    """``weeks`` without the partial week the history begins in (see :func:`partial_week`)."""
    return {week: km for week, km in weeks.items() if week != partial}


def baseline_km(
    weeks: dict[date, float], start: date, flares: frozenset[date] = frozenset()
) -> float | None:
    """The baseline for the week starting ``start``: max(last week, mean of the last four).

    One recovery week (a last week lower than the week before it, by less than half) keeps
    the baseline the week before had, so a planned down week does not shrink the next week's
    budget (DESIGN.md). A deeper drop (a layoff, a flare-up) or two low weeks in a row do
    lower it: after time off, the cap comes down too. A flare week (one in ``flares``: a
    pain warning was active) is never a recovery week: it carries the baseline it had, so
    the week after it is capped at that baseline plus the normal step.
    """
    own = _plain_baseline(weeks, start)
    last = weeks.get(start - timedelta(weeks=1), 0.0)
    before = weeks.get(start - timedelta(weeks=2), 0.0)
    flare = start - timedelta(weeks=1) in flares
    if own is not None and (flare or RECOVERY_WEEK_MIN * before <= last < before):
        carried = _plain_baseline(weeks, start - timedelta(weeks=1))
        return max(own, carried or 0.0)
    return own


def _plain_baseline(weeks: dict[date, float], start: date) -> float | None:
    """max(last complete week, mean of the last four complete weeks).

    Only weeks since the first run count towards the mean (a runner with two weeks of
    history is not diluted by weeks before they began). None without a run in the last four
    complete weeks: there is nothing to compare against.
    """
    earlier = [week for week in weeks if week < start]
    if not earlier:
        return None
    first = min(earlier)
    span = [start - timedelta(weeks=n) for n in range(1, BASELINE_WEEKS + 1)]
    counted = [weeks.get(week, 0.0) for week in span if week >= first]
    if not counted or sum(counted) <= 0:
        return None
    return max(counted[0], sum(counted) / len(counted))


def credited_weeks(
    weeks: dict[date, float],
    growth: float,
    caps: Mapping[date, float] | None = None,
    flares: frozenset[date] = frozenset(),
) -> dict[date, float]:
    """Each week's distance counted only up to its own cap, for the baselines after it.

    A week that jumped over its cap is not a new normal: without this, a 15 -> 30 mile
    jump would become the baseline and raise the following week's cap to 33 miles.
    ``caps`` gives weeks whose cap was set otherwise (the return week after a break).
    """
    credited: dict[date, float] = {}
    for start in sorted(weeks):
        base = baseline_km(credited, start, flares)
        step = 0.0 if start in flares else growth  # a flare week's cap was held
        limit = base * (1 + step) if base is not None else None
        if caps and start in caps:
            limit = caps[start] if limit is None else min(limit, caps[start])
        credited[start] = weeks[start] if limit is None else min(weeks[start], limit)
    return credited


def week_load(history: History, settings: Settings, at: datetime) -> WeekLoad:
    """The calendar week holding ``at``, seen at ``at``."""
    runs = history.upto(at).runs
    weeks = weekly_km(runs, settings)
    start = week_of(at, settings)
    complete = complete_weeks(weeks, partial_week(runs, settings))
    earlier = {week: km for week, km in complete.items() if week < start}
    return WeekLoad(
        start=start,
        distance_km=weeks.get(start, 0.0),
        last_week_km=last_week_km(weeks, start),
        baseline_km=baseline_km(credited_weeks(earlier, settings.progression.weekly_warn), start),
    )


def longest_run_km(runs: Sequence[Run], at: datetime, *, include_at: bool = True) -> float | None:
    """The longest run that started in the 30 days up to ``at`` (None without one).

    ``include_at=False`` leaves out runs starting at ``at`` itself, for comparing a run
    with the runs before it.
    """
    since = at - LONGEST_WINDOW
    distances = [
        run.distance_km
        for run in runs
        if since <= run.started_at < at or (include_at and run.started_at == at)
    ]
    return max(distances) if distances else None


def usual_run_km(runs: Sequence[Run], at: datetime) -> float | None:
    """The median run distance of the four weeks up to ``at``."""
    since = at - USUAL_WINDOW
    distances = [run.distance_km for run in runs if since <= run.started_at <= at]
    return statistics.median(distances) if distances else None


def monotony_load(settings: Settings) -> LoadKind:
    """The load monotony is computed on: session-RPE or TRIMP, never distance (Foster 1998
    defined it on session-RPE load; on distance it flags every steady daily runner)."""
    load = settings.progression.load
    return "srpe" if load == "distance" else load


def _daily_series(
    history: History, settings: Settings, at: datetime, kind: LoadKind | None = None
) -> list[float]:
    """Daily load from the first run's day to ``at``'s day, zeros on rest days."""
    zone = settings.zone
    runs = history.upto(at).runs
    if not runs:
        return []
    loads = daily_loads(runs, zone, kind or settings.progression.load)
    first, last = local_date(runs[0].started_at, zone), local_date(at, zone)
    days = (last - first).days + 1
    return [loads.get(first + timedelta(days=n), 0.0) for n in range(days)]


def ewma(series: Sequence[float], days: int) -> float:
    """Exponentially weighted moving average, decay 2 / (days + 1), starting from 0."""
    decay = 2.0 / (days + 1)
    value = 0.0
    for load in series:
        value = decay * load + (1 - decay) * value
    return value


def ewma_loads(history: History, settings: Settings, at: datetime) -> tuple[float, float] | None:
    """Acute (7 d) and chronic (28 d) EWMA daily loads; None before 28 days of history."""
    series = _daily_series(history, settings, at)
    if len(series) < CHRONIC_DAYS:
        return None
    return ewma(series, ACUTE_DAYS), ewma(series, CHRONIC_DAYS)


def acwr(history: History, settings: Settings, at: datetime) -> float | None:
    """Acute over chronic EWMA load; None before 28 days of history or without load."""
    loads = ewma_loads(history, settings, at)
    if loads is None or loads[1] <= 0:
        return None
    return loads[0] / loads[1]


def monotony_strain(
    history: History, settings: Settings, at: datetime
) -> tuple[float | None, float | None]:
    """Foster's monotony (mean / SD of daily load) and strain (week load x monotony), on
    :func:`monotony_load` (session-RPE unless TRIMP is configured).

    Over the 7 local days ending on ``at``'s day, with the population SD. None when
    undefined: fewer than 7 days of history, or a week with no spread (SD 0).
    """
    series = _daily_series(history, settings, at, monotony_load(settings))[-MONOTONY_DAYS:]
    if len(series) < MONOTONY_DAYS:
        return None, None
    spread = statistics.pstdev(series)
    if spread <= 0:
        return None, None
    value = statistics.fmean(series) / spread
    return value, sum(series) * value
