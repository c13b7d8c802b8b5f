"""The overview built, pure: from a :class:`~agent.rules.load.History` and an instant, week
by week the distance against that week's cap, the longest run against its 30-day rule, the
pain reports, the acute:chronic ratio as context, the alerts the rules raise and the return
plan's adherence. The current week comes from the same :func:`agent.advice.checks.assess`
as ``check --json``, so the numbers agree. ``history`` and ``report`` show it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from agent.advice.checks import Assessment, assess, load_history
from agent.errors import InputError
from agent.models import Alert, PainReport, Run
from agent.rules import pain as pain_rules
from agent.rules.allowance import BEFORE_LINK, allowance
from agent.rules.evaluate import evaluate, rank
from agent.rules.load import History, acwr, day_start, over, week_of
from agent.rules.plan import progress
from agent.rules.progression import WEEKLY
from agent.views.overview import Overview, PeriodAlert, PlanRow, RunRow, WeekRow

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.store import Store

DEFAULT_WEEKS = 12
MAX_WEEKS = 104
# Before the first week shown, the rules need four baseline weeks, the week before those
# (the cap of the earliest week) and 30 days for the longest-run rule: ten weeks covers all.
CONTEXT_BEFORE = timedelta(weeks=10)
ONE_WEEK = timedelta(weeks=1)


def check_weeks(weeks: int) -> int:
    if not 1 <= weeks <= MAX_WEEKS:
        raise InputError(f"--weeks {weeks}: must be from 1 to {MAX_WEEKS}")
    return weeks


def load_overview(path: Path, settings: Settings, at: datetime, weeks: int) -> Overview:
    """The overview of the database at ``path``, opened read-only (a missing file is an
    empty history and is not created): a report stores nothing."""
    from agent.store import Store

    if not path.expanduser().exists():
        return overview(History(), settings, at, weeks)
    with Store.open_read_only(path, busy_timeout_s=settings.database.busy_timeout_s) as store:
        return overview_from_store(store, settings, at, weeks)


def overview_from_store(store: Store, settings: Settings, at: datetime, weeks: int) -> Overview:
    """The history ``check`` reads at ``at``, widened when more weeks are shown."""
    history = load_history(store, settings, at)
    since = day_start(first_week(settings, at, weeks), settings.zone) - CONTEXT_BEFORE
    if not history.runs or history.runs[0].started_at > since:
        wide = replace(
            history,
            runs=tuple(store.runs(since=since, until=at)),
            pain=tuple(store.pain_reports(since=since, until=at)),
        )
    else:
        wide = history
    older = store.last_run_before(at + timedelta(microseconds=1)) is not None
    assessment = assess(history, settings, at)
    return overview(wide, settings, at, weeks, assessment=assessment, older_runs=older)


def first_week(settings: Settings, at: datetime, weeks: int) -> date:
    return week_of(at, settings) - (check_weeks(weeks) - 1) * ONE_WEEK


# -- the overview (pure) -------------------------------------------------------------------


def overview(
    history: History,
    settings: Settings,
    at: datetime,
    weeks: int,
    *,
    assessment: Assessment | None = None,
    older_runs: bool = False,
) -> Overview:
    """Everything ``history`` and ``report`` show for the ``weeks`` weeks up to ``at``.

    The first week shown is the later of ``weeks`` back and the week of the first run, so a
    new runner is not shown a row of empty weeks. ``assessment`` (the one ``check`` makes)
    is computed here when not given; ``older_runs`` says the store has runs before the
    weeks shown (for the message shown instead of empty charts).
    """
    history = history.upto(at)
    assessment = assessment or assess(history, settings, at)
    starts = _week_starts(history, settings, at, weeks)
    shown_from = day_start(starts[0], settings.zone) if starts else at
    run_rows = _run_rows(history, settings, shown_from)
    limits = {row.run.id: row for row in run_rows}
    rows = tuple(_week_row(history, settings, at, start, assessment, limits) for start in starts)
    return Overview(
        at=at,
        weeks=rows,
        assessment=assessment,
        pain=tuple(report for report in history.pain if report.at >= shown_from),
        acwr_days=_acwr_days(history, settings, at, starts),
        alerts=_period_alerts(history, settings, at, rows, assessment),
        plan=_plan_rows(history, settings, at),
        older_runs=older_runs,
        run_rows=run_rows,
    )


def _week_starts(history: History, settings: Settings, at: datetime, weeks: int) -> list[date]:
    last = week_of(at, settings)
    first = first_week(settings, at, weeks)
    if history.runs:
        first = max(first, min(week_of(history.runs[0].started_at, settings), last))
    elif history.pain:
        first = max(first, min(week_of(history.pain[0].at, settings), last))
    else:
        return []
    return [first + n * ONE_WEEK for n in range((last - first).days // 7 + 1)]


def _run_rows(history: History, settings: Settings, since: datetime) -> tuple[RunRow, ...]:
    """Each run from ``since`` on, with its 30-day rule and the pain reported about it."""
    runs = history.runs
    rows = []
    for index, run in enumerate(runs):
        if run.started_at < since:
            continue
        following = runs[index + 1].started_at if index + 1 < len(runs) else None
        before, limit = _run_limit(history, settings, run)
        rows.append(RunRow(run, before, limit, run_pain(run, following, history.pain)))
    return tuple(rows)


def run_pain(
    run: Run, following: datetime | None, pain: Sequence[PainReport]
) -> tuple[PainReport, ...]:
    """The pain reports about ``run``: those naming it; of those naming no run, a
    ``before`` report in the 12 hours before it started, and ``during``, ``after`` and
    ``morning`` reports from its start until the next run starts, at most 36 hours after
    it ended (the windows the pain rules link reports to runs with)."""
    end = run.ended_at or run.started_at + timedelta(seconds=run.elapsed_s)
    until = end + pain_rules.LINK_WINDOW
    if following is not None:
        until = min(until, following)

    def about(report: PainReport) -> bool:
        if report.run_id is not None:
            return report.run_id == run.id
        if report.when == "before":
            return run.started_at - BEFORE_LINK <= report.at <= run.started_at
        return run.started_at <= report.at < until

    return tuple(report for report in pain if about(report))


def _run_limit(history: History, settings: Settings, run: Run) -> tuple[float | None, float | None]:
    """The credited 30-day longest before ``run`` and the run limit in force when it started
    (the single-run rule; during a plan the plan's range, after a break the return limit),
    from the same allowance the rules use, so a spike never raises a later limit."""
    before = allowance(history.before(run), settings, run.started_at)
    for rule in ("single-run", "return"):
        found = before.limit(rule)
        if found is not None:
            return before.longest_30d_km, found.km
    if before.plan is not None and before.limit("plan") is not None:
        return before.longest_30d_km, before.plan.target.high_km
    return before.longest_30d_km, None


def week_end(start: date, settings: Settings, at: datetime) -> datetime:
    """The last instant of the week starting ``start``, or ``at`` if that comes first."""
    return min(at, day_start(start + ONE_WEEK, settings.zone) - timedelta(microseconds=1))


def _week_row(
    history: History,
    settings: Settings,
    at: datetime,
    start: date,
    assessment: Assessment,
    limits: Mapping[int, RunRow],
) -> WeekRow:
    end = week_end(start, settings, at)
    current = end == at
    week = assessment.allowance if current else allowance(history, settings, end)
    begin = day_start(start, settings.zone)
    runs = tuple(run for run in history.runs if begin <= run.started_at <= end)
    longest = max(runs, key=lambda run: run.distance_km, default=None)
    row = limits.get(longest.id) if longest else None
    before, limit = (row.longest_before_km, row.limit_km) if row else (None, None)
    return WeekRow(
        start=start,
        runs=runs,
        distance_km=week.distance_km,
        baseline_km=week.baseline_km,
        cap_km=week.cap_km,
        held=week.held,
        longest=longest,
        longest_before_km=before,
        limit_km=limit,
        pain_by_day=_pain_by_day(history.pain, settings, start),
        current=current,
    )


def _pain_by_day(
    pain: Sequence[PainReport], settings: Settings, start: date
) -> tuple[int | None, ...]:
    """The highest pain score of each of the week's seven local days (None: no report)."""
    days: list[int | None] = [None] * 7
    for report in pain:
        offset = (report.at.astimezone(settings.zone).date() - start).days
        if 0 <= offset < 7:
            days[offset] = max(days[offset] or 0, report.score)
    return tuple(days)


def _acwr_days(
    history: History, settings: Settings, at: datetime, starts: Sequence[date]
) -> tuple[tuple[date, float], ...]:
    """The acute:chronic ratio at the end of each day shown (once it is defined)."""
    if not starts:
        return ()
    last = at.astimezone(settings.zone).date()
    days = [starts[0] + timedelta(days=n) for n in range((last - starts[0]).days + 1)]
    found = []
    for day in days:
        end = min(at, day_start(day + timedelta(days=1), settings.zone) - timedelta(microseconds=1))
        value = acwr(history, settings, end)
        if value is not None:
            found.append((day, value))
    return tuple(found)


def _period_alerts(
    history: History,
    settings: Settings,
    at: datetime,
    rows: Sequence[WeekRow],
    assessment: Assessment,
) -> tuple[PeriodAlert, ...]:
    """The rules evaluated at the end of each week shown: every condition once, at its
    worst, with the week it was first raised in. They need no stored ``check`` to exist.
    A past week's forecast ("only 2 km of the cap left") is left out: it advises on the
    rest of a week that is over."""
    found: dict[str, PeriodAlert] = {}
    for row in rows:
        if row.current:
            alerts = list(assessment.alerts)
        else:
            alerts = evaluate(history, settings, week_end(row.start, settings, at))
            alerts = [alert for alert in alerts if not _forecast(alert)]
        for alert in alerts:
            kept = found.get(alert.key)
            if kept is None or rank(alert) > rank(kept.alert):
                week = kept.week if kept else row.start
                found[alert.key] = PeriodAlert(week, alert, active=False)
    active = {alert.key for alert in assessment.alerts}
    ordered = sorted(found.values(), key=lambda item: (item.week, -rank(item.alert)[0]))
    return tuple(replace(item, active=item.alert.key in active) for item in ordered)


def _forecast(alert: Alert) -> bool:
    """The weekly rule's caution before the jump (it has level 0; going over has 1-3)."""
    return alert.rule == WEEKLY and alert.data.get("level") == 0


def _plan_rows(history: History, settings: Settings, at: datetime) -> tuple[PlanRow, ...]:
    """Each calendar week of the active plan so far: target, runs, and what the plan did."""
    plan = history.plan
    if plan is None:
        return ()
    rows = []
    week = plan.start_week
    while day_start(week, settings.zone) <= at:
        end = week_end(week, settings, at)
        target = progress(plan, history, settings, end).target
        after = min(at, day_start(week + ONE_WEEK, settings.zone))
        runs = tuple(
            run for run in history.runs if day_start(week, settings.zone) <= run.started_at <= end
        )
        within = not any(over(run.distance_km, target.high_km) for run in runs)
        rows.append(PlanRow(week, target, runs, within, progress(plan, history, settings, after)))
        week += ONE_WEEK
    return tuple(rows)
