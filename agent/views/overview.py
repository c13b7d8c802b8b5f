"""What the load overview holds, week by week and run by run: the rows behind ``history``,
the report and its charts (built by :func:`agent.views.overview_build.overview`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from agent.models import Alert, PainReport, Run
from agent.rules.load import over, week_change
from agent.rules.plan import PlanStatus, PlanWeek

if TYPE_CHECKING:
    from agent.advice.checks import Assessment


NO_RUNS_YET = (
    "No runs yet: log one with `stridewatch log-run --distance 6km --duration 36:00` "
    "or import your history with `stridewatch import ~/Downloads/activities/`."
)


@dataclass(frozen=True, slots=True)
class WeekRow:
    """One calendar week, seen at its end (the current week: at the overview's instant)."""

    start: date
    runs: tuple[Run, ...]
    distance_km: float
    baseline_km: float | None
    cap_km: float | None
    held: bool
    longest: Run | None
    longest_before_km: float | None
    limit_km: float | None
    pain_by_day: tuple[int | None, ...]
    current: bool

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def over_cap(self) -> bool:
        return self.cap_km is not None and over(self.distance_km, self.cap_km)

    @property
    def remaining_km(self) -> float | None:
        return None if self.cap_km is None else max(0.0, self.cap_km - self.distance_km)

    @property
    def change(self) -> float | None:
        """Against the baseline week (0.08 = +8 %); None with no baseline, or for the week
        under way with nothing run in it yet (a week begun is no change)."""
        return week_change(self.distance_km, self.baseline_km, finished=not self.current)

    @property
    def longest_over(self) -> bool:
        longest, limit = self.longest, self.limit_km
        return longest is not None and limit is not None and over(longest.distance_km, limit)

    @property
    def pain_max(self) -> int | None:
        scores = [score for score in self.pain_by_day if score is not None]
        return max(scores) if scores else None


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run shown in the report, with the single-run rule it ran under and the pain
    reported about it.

    ``longest_before_km`` is the credited longest run of the 30 days before it and
    ``limit_km`` the run limit in force when it started (km, None when unknown: no earlier
    run); ``pain`` holds the reports about it (see :func:`run_pain`).
    """

    run: Run
    longest_before_km: float | None
    limit_km: float | None
    pain: tuple[PainReport, ...]

    @property
    def ratio(self) -> float | None:
        """The run's distance over the 30-day longest before it (1.4 = 40 % longer)."""
        before = self.longest_before_km
        return self.run.distance_km / before if before else None

    @property
    def over_limit(self) -> bool:
        return self.limit_km is not None and over(self.run.distance_km, self.limit_km)

    @property
    def worst_pain(self) -> PainReport | None:
        """The highest pain reported about the run (the latest of equal scores)."""
        return max(reversed(self.pain), key=lambda report: report.score, default=None)


@dataclass(frozen=True, slots=True)
class PeriodAlert:
    """An alert the rules raised during the period: the week it belongs to, and whether it is
    still active at the overview's instant."""

    week: date
    alert: Alert
    active: bool


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One calendar week of the return-to-run plan: the target, what was run, and the
    plan's decision at the end of the week."""

    start: date
    target: PlanWeek
    runs: tuple[Run, ...]
    within: bool
    outcome: PlanStatus


@dataclass(frozen=True, slots=True)
class Overview:
    at: datetime
    weeks: tuple[WeekRow, ...]
    assessment: Assessment
    pain: tuple[PainReport, ...]
    acwr_days: tuple[tuple[date, float], ...]
    alerts: tuple[PeriodAlert, ...]
    plan: tuple[PlanRow, ...]
    older_runs: bool
    run_rows: tuple[RunRow, ...] = ()

    @property
    def runs(self) -> tuple[Run, ...]:
        return tuple(run for week in self.weeks for run in week.runs)

    @property
    def biggest_week(self) -> WeekRow | None:
        """The week furthest above its baseline week (the largest ``change``), if any week
        has a baseline."""
        rows = [row for row in self.weeks if row.change is not None]
        return max(rows, key=lambda row: row.change or 0.0, default=None)

    @property
    def biggest_run(self) -> RunRow | None:
        """The run longest against the 30-day longest before it (the largest ``ratio``)."""
        rows = [row for row in self.run_rows if row.ratio is not None]
        return max(rows, key=lambda row: row.ratio or 0.0, default=None)

    @property
    def latest_pain(self) -> PainReport | None:
        return self.pain[-1] if self.pain else None

    @property
    def worst_pain(self) -> PainReport | None:
        """The highest pain score of the weeks shown (the latest of equal scores)."""
        return max(reversed(self.pain), key=lambda report: report.score, default=None)

    @property
    def over_cap_weeks(self) -> tuple[WeekRow, ...]:
        return tuple(row for row in self.weeks if row.over_cap)

    @property
    def current(self) -> WeekRow | None:
        return self.weeks[-1] if self.weeks else None

    @property
    def has_caps(self) -> bool:
        return any(week.cap_km is not None for week in self.weeks)

    @property
    def empty_message(self) -> str | None:
        """What to say instead of charts when there are no runs to draw."""
        if self.runs:
            return None
        if self.older_runs:
            return (
                f"No runs in the weeks shown, up to {self.at:%Y-%m-%d}: try more --weeks, "
                "or `stridewatch runs`."
            )
        return NO_RUNS_YET


# -- loading -------------------------------------------------------------------------------
