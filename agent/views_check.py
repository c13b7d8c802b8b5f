"""Human views of ``check``, ``summary``, ``alerts``, ``what-if`` and ``plan``: rich tables in
the runner's unit. Rendering only; rich is imported inside the functions so the ``--json``
paths never load it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from agent.units import format_km

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from agent.checks import Assessment, Summary, WhatIf
    from agent.config import Settings
    from agent.models import Alert
    from agent.rules.budget import Budget
    from agent.rules.plan import PlanStatus
    from agent.store import StoredAlert

# Severity colours, least to most: info dim, caution yellow, warning orange, danger red.
SEVERITY_STYLE = {
    "info": "dim",
    "caution": "yellow",
    "warning": "dark_orange",
    "danger": "bold red",
}
# The cap bar of check and summary (cells), as in ``stridewatch history``.
CAP_BAR_WIDTH = 30
NO_RECENT_RUNS = (
    "No runs in the last 30 days: log one with `stridewatch log-run --distance 6km "
    "--duration 36:00` or import your history with `stridewatch import ~/Downloads/activities/`."
)


def _console() -> Console:
    from rich.console import Console

    return Console()


def _table(title: str, *columns: str) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name)
    return table


def _grid() -> Table:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    return grid


def _dist(km: float | None, settings: Settings) -> str:
    return format_km(km, settings.units)


def _local(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.zone).strftime("%a %Y-%m-%d %H:%M")


def _ratio(value: float | None, missing: str = "-") -> str:
    return missing if value is None else f"{value:.2f}"


def _nothing_recent(week: Budget) -> bool:
    """No run this week, none in the past 30 days and no baseline: nothing to show."""
    return week.distance_km <= 0 and week.longest_30d_km is None and week.baseline_km is None


def _cap_line(week: Budget, settings: Settings) -> Text:
    """``6.0 km  ████░░░│  of its 40.0 km cap``: the week against its cap, as a bar."""
    from rich.text import Text

    from agent.history_view import OVER_STYLE, distance_bar

    line = Text(_dist(week.distance_km, settings) + "  ")
    if week.cap_km is None:
        return line.append("no cap yet: it starts after your first complete week", "dim")
    top = max(week.distance_km, week.cap_km)
    line.append_text(distance_bar(week.distance_km, week.cap_km, top, CAP_BAR_WIDTH))
    line.append(f"  of its {_dist(week.cap_km, settings)} cap")
    if week.held:
        line.append(" (held at the baseline while pain settles)", "yellow")
    if week.change is not None and week.distance_km > week.cap_km:
        line.append(f"  over the cap, {100 * week.change:+.0f}% on the baseline", OVER_STYLE)
    return line


def _left_line(week: Budget, settings: Settings) -> Text:
    from rich.text import Text

    if week.remaining_km is None:
        return Text("-")
    style = "green" if week.remaining_km > 0 else "bold red"
    return Text.assemble((_dist(week.remaining_km, settings), style), " left this week")


def _budget_grid(week: Budget, settings: Settings) -> Table:
    grid = _grid()
    grid.add_row("this week", _cap_line(week, settings))
    grid.add_row("left", _left_line(week, settings))
    if week.next_run_max_km is not None:
        factor = settings.progression.spike_warn
        grid.add_row(
            "next run",
            f"{_dist(week.next_run_max_km, settings)} at most ({factor:.2f} x your longest "
            f"run of 30 days, {_dist(week.longest_30d_km, settings)})",
        )
    baseline = _dist(week.baseline_km, settings) if week.baseline_km else "none yet"
    grid.add_row("last week", f"{_dist(week.last_week_km, settings)}; baseline week {baseline}")
    return grid


def print_alerts_table(alerts: Sequence[Alert], console: Console) -> None:
    """Active alerts, worst first, each in its severity's colour."""
    if not alerts:
        console.print("No alerts: nothing is rising faster than the rules allow.", style="green")
        return
    table = _table("Alerts", "severity", "rule", "message")
    for alert in alerts:
        style = SEVERITY_STYLE[alert.severity]
        table.add_row(alert.severity.upper(), alert.rule, alert.message, style=style)
    console.print(table)


def print_check(assessment: Assessment, settings: Settings, console: Console | None = None) -> None:
    """The week against its cap (a bar), what is left, the next run's limit, load context,
    the plan and the active alerts, in the runner's unit."""
    console = console or _console()
    week = assessment.budget
    console.print(
        f"[bold]Week of {week.week_start:%a %d %b %Y}[/], at {_local(assessment.at, settings)}",
        highlight=False,
    )
    if _nothing_recent(week):
        console.print(NO_RECENT_RUNS, markup=False, highlight=False)
    else:
        grid = _budget_grid(week, settings)
        grid.add_row(
            "context",
            f"acute:chronic {_ratio(assessment.acwr, 'not yet (needs 28 days)')} (context only); "
            f"monotony {_ratio(assessment.monotony)}",
        )
        console.print(grid, highlight=False)
    if assessment.plan is not None:
        console.print(f"[bold]return plan[/]  {_plan_line(assessment.plan, settings)}")
    print_alerts_table(assessment.alerts, console)


def _plan_line(status: PlanStatus, settings: Settings) -> str:
    target = status.target
    return (
        f"week {target.number} of {len(status.plan.weeks)}: runs of "
        f"{_dist(target.low_km, settings)}-{_dist(target.high_km, settings)} at RPE "
        f"{target.rpe}; {status.status} ({status.reason})"
    )


def _runs_table(result: Summary, settings: Settings) -> Table:
    from agent.units import format_duration, format_pace

    table = _table("Runs this week", "day", "distance", "time", "pace", "RPE", "note")
    for run in result.runs:
        table.add_row(
            _local(run.started_at, settings),
            _dist(run.distance_km, settings),
            format_duration(run.moving_s),
            format_pace(run.distance_m, run.moving_s, settings.units),
            "-" if run.rpe is None else str(run.rpe),
            run.note or "",
        )
    return table


def _pain_table(result: Summary, settings: Settings) -> Table:
    from agent.history_view import pain_style

    table = _table("Pain this week", "when", "score", "timing", "where")
    for report in result.pain:
        score = f"[{pain_style(report.score, settings)}]{report.score}/10[/]"
        table.add_row(_local(report.at, settings), score, report.when, report.where or "-")
    return table


def print_summary(result: Summary, settings: Settings, console: Console | None = None) -> None:
    """The week's runs and pain, then the week against its cap and the alerts."""
    console = console or _console()
    if result.runs:
        console.print(_runs_table(result, settings))
    elif not _nothing_recent(result.assessment.budget):
        console.print("No runs this week yet.")
    if result.pain:
        console.print(_pain_table(result, settings))
    print_check(result.assessment, settings, console)


def print_stored_alerts(alerts: Sequence[StoredAlert], settings: Settings) -> None:
    console = _console()
    if not alerts:
        console.print("No alerts stored. `stridewatch check` raises and stores them.")
        return
    table = _table("Alerts raised", "when", "severity", "rule", "run", "delivered", "message")
    for alert in alerts:
        table.add_row(
            _local(alert.raised_at, settings),
            f"[{SEVERITY_STYLE[alert.severity]}]{alert.severity}[/]",
            alert.rule,
            str(alert.run_id or ""),
            "yes" if alert.delivered_at else "no",
            alert.message,
        )
    console.print(table)


def print_what_if(result: WhatIf, settings: Settings) -> None:
    console = _console()
    for run in result.planned:
        console.print(
            f"planned: {_local(run.started_at, settings)} {_dist(run.distance_km, settings)}"
        )
    week = result.after.budget
    if week.cap_km:
        console.print(
            f"the week would be at {_dist(week.distance_km, settings)} of its "
            f"{_dist(week.cap_km, settings)} cap"
        )
    if not result.alerts:
        console.print("No rule would fire: go ahead.")
        return
    print_alerts_table(result.alerts, console)


def print_plan(status: PlanStatus | None, settings: Settings) -> None:
    console = _console()
    if status is None:
        console.print("No return-to-run plan. Make one: stridewatch plan return --usual 6-8mi")
        return
    table = _table("Return-to-run plan", "week", "each run", "effort", "")
    for week in status.plan.weeks:
        mark = "<- now" if week.number == status.target.number else ""
        span = f"{_dist(week.low_km, settings)} - {_dist(week.high_km, settings)}"
        table.add_row(str(week.number), span, f"RPE {week.rpe}", mark)
    console.print(table)
    console.print(_plan_line(status, settings))
