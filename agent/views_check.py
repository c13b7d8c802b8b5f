"""Human views of ``check``, ``summary``, ``alerts``, ``what-if`` and ``plan``: rich tables in
the runner's unit. Rendering only; rich is imported inside the functions so the ``--json``
paths never load it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from agent.units import format_distance

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from agent.checks import Assessment, Summary, WhatIf
    from agent.config import Settings
    from agent.models import Alert
    from agent.rules.budget import Budget
    from agent.rules.plan import PlanStatus
    from agent.store import StoredAlert

SEVERITY_STYLE = {
    "info": "cyan",
    "caution": "yellow",
    "warning": "dark_orange",
    "danger": "bold red",
}


def _console() -> Console:
    from rich.console import Console

    return Console()


def _table(title: str, *columns: str) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name)
    return table


def _dist(km: float | None, settings: Settings) -> str:
    return "-" if km is None else format_distance(km * 1000, settings.units)


def _local(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.zone).strftime("%a %Y-%m-%d %H:%M")


def _budget_rows(week: Budget, settings: Settings) -> list[tuple[str, str]]:
    no_cap = "no baseline yet: log a full week first"
    held = " (held at baseline: pain)" if week.held else ""
    return [
        ("week from", f"{week.week_start:%a %Y-%m-%d}"),
        ("this week", _dist(week.distance_km, settings)),
        ("last week", _dist(week.last_week_km, settings)),
        ("baseline week", _dist(week.baseline_km, settings) if week.baseline_km else no_cap),
        ("cap", _dist(week.cap_km, settings) + held if week.cap_km else "-"),
        ("left this week", _dist(week.remaining_km, settings)),
        ("longest run, 30 days", _dist(week.longest_30d_km, settings)),
        ("next run at most", _dist(week.next_run_max_km, settings)),
    ]


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_alerts_table(alerts: Sequence[Alert], console: Console) -> None:
    if not alerts:
        console.print("No alerts: nothing is rising faster than the rules allow.")
        return
    table = _table("Alerts", "severity", "rule", "message")
    for alert in alerts:
        style = SEVERITY_STYLE[alert.severity]
        table.add_row(f"[{style}]{alert.severity}[/]", alert.rule, alert.message)
    console.print(table)


def print_check(assessment: Assessment, settings: Settings) -> None:
    console = _console()
    table = _table(f"Load at {_local(assessment.at, settings)}", "", "")
    for name, value in _budget_rows(assessment.budget, settings):
        table.add_row(name, value)
    table.add_row("acute:chronic", _ratio(assessment.acwr))
    table.add_row("monotony", _ratio(assessment.monotony))
    if assessment.plan is not None:
        table.add_row("return plan", _plan_line(assessment.plan, settings))
    console.print(table)
    print_alerts_table(assessment.alerts, console)


def _plan_line(status: PlanStatus, settings: Settings) -> str:
    target = status.target
    return (
        f"week {target.number} of {len(status.plan.weeks)}: runs of "
        f"{_dist(target.low_km, settings)}-{_dist(target.high_km, settings)} at RPE "
        f"{target.rpe}; {status.status} ({status.reason})"
    )


def print_summary(result: Summary, settings: Settings) -> None:
    console = _console()
    assessment = result.assessment
    runs = _table(f"Week of {assessment.budget.week_start:%a %Y-%m-%d}", "start", "distance")
    for run in result.runs:
        runs.add_row(_local(run.started_at, settings), _dist(run.distance_km, settings))
    if not result.runs:
        runs.add_row("no runs yet", "")
    console.print(runs)
    for report in result.pain:
        console.print(f"pain {report.score}/10 {report.when} at {_local(report.at, settings)}")
    print_check(assessment, settings)


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
