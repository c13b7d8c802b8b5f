"""Human views of ``check``, ``summary``, ``alerts``, ``what-if`` and ``plan``: rich tables in
the runner's unit. Rendering only; rich is imported inside the functions so the ``--json``
paths never load it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from agent.units import format_budget, format_km, format_local

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from agent.checks import Assessment, Summary, WhatIf
    from agent.config import Settings
    from agent.models import Alert
    from agent.rules.allowance import Allowance
    from agent.rules.plan import PlanStatus
    from agent.store import StoredAlert

# Severity colours, least to most: info dim, caution yellow, warning orange, danger red.
SEVERITY_STYLE = {
    "info": "dim",
    "caution": "yellow",
    "warning": "dark_orange",
    "danger": "bold red",
}
PHASE_TEXT = {
    "no-history": "no history yet: nothing to compare against",
    "warm-up": "warm-up: under two weeks of history, the spike rule only informs",
    "building": "building",
    "return": "return after a break",
    "plan": "following a return-to-run plan",
    "held": "held: a pain alert holds the cap",
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
    return format_local(moment, settings.zone)


def _ratio(value: float | None, missing: str = "-") -> str:
    return missing if value is None else f"{value:.2f}"


def _nothing_recent(week: Allowance) -> bool:
    """No run this week, none in the past 30 days and no baseline: nothing to show."""
    return week.distance_km <= 0 and week.longest_30d_km is None and week.baseline_km is None


def _cap_line(week: Allowance, settings: Settings) -> Text:
    """``6.0 km  ████░░░│  of its 40.0 km cap``: the week against its cap, as a bar."""
    from rich.text import Text

    from agent.history_view import OVER_STYLE, distance_bar

    # Rounded down like the cap, so a week exactly at its cap shows equal to it.
    line = Text(format_budget(week.distance_km, settings.units) + "  ")
    if week.cap_km is None:
        return line.append("no cap yet: it starts after your first complete week", "dim")
    top = max(week.distance_km, week.cap_km)
    line.append_text(distance_bar(week.distance_km, week.cap_km, top, CAP_BAR_WIDTH))
    line.append(f"  of its {format_budget(week.cap_km, settings.units)} cap")
    if week.held:
        line.append(" (held at the baseline while pain settles)", "yellow")
    if week.change is not None and week.distance_km > week.cap_km:
        line.append(f"  over the cap, {100 * week.change:+.0f}% on the baseline", OVER_STYLE)
    return line


def _left_line(week: Allowance, settings: Settings) -> Text:
    from rich.text import Text

    if week.remaining_km is None:
        return Text("-")
    style = "green" if week.remaining_km > 0 else "bold red"
    left = format_budget(week.remaining_km, settings.units)
    return Text.assemble((left, style), " left this week")


def next_run_text(week: Allowance, settings: Settings) -> str:
    """``8.8 km at most (single-run: 1.1 x your longest run ...)``, or rest, with the
    limit that binds it."""
    binding = week.binding
    if binding is None:
        return "no limit known"
    if binding.km <= 0:
        return f"{binding.reason} ({binding.rule})"
    budget = format_budget(binding.km, settings.units)
    return f"{budget} at most ({binding.rule}: {binding.reason})"


def _budget_grid(week: Allowance, settings: Settings) -> Table:
    from rich.text import Text

    grid = _grid()
    grid.add_row("phase", PHASE_TEXT[week.phase])
    grid.add_row("this week", _cap_line(week, settings))
    grid.add_row("left", _left_line(week, settings))
    grid.add_row("next run", next_run_text(week, settings))
    for limit in week.limits:
        if limit is not week.binding:
            other = f"{limit.rule}: {format_budget(limit.km, settings.units)} ({limit.reason})"
            grid.add_row("", Text(other, "dim"))
    baseline = format_budget(week.baseline_km, settings.units) if week.baseline_km else "none yet"
    last = format_budget(week.last_week_km, settings.units)
    grid.add_row("last week", f"{last}; baseline week {baseline}")
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
    week = assessment.allowance
    console.print(
        f"[bold]Week of {week.week_start:%a %d %b %Y}[/], at {_local(assessment.at, settings)}",
        highlight=False,
    )
    if _nothing_recent(week):
        console.print(NO_RECENT_RUNS, markup=False, highlight=False)
        console.print(f"next run: {next_run_text(week, settings)}", markup=False, highlight=False)
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
        f"{_dist(target.low_km, settings)}-{format_budget(target.high_km, settings.units)} at RPE "
        f"{target.rpe}; {status.status} ({status.reason})"
    )


def _runs_table(result: Summary, settings: Settings) -> Table:
    from agent.views import duration_text, pace_text

    table = _table("Runs this week", "day", "distance", "time", "pace", "RPE", "note")
    for run in result.runs:
        table.add_row(
            _local(run.started_at, settings),
            _dist(run.distance_km, settings),
            duration_text(run.moving_s),
            pace_text(run.distance_m, run.moving_s, settings.units),
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
    elif not _nothing_recent(result.assessment.allowance):
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
    """What is already active, what the planned runs add, and the allowance after them.
    "Go ahead" only when nothing at warning or above is active or added."""
    from agent.models import severity_rank

    console = _console()
    for run in result.planned:
        console.print(
            f"planned: {_local(run.started_at, settings)} {_dist(run.distance_km, settings)}"
        )
    if result.active:
        console.print("Already active:")
        print_alerts_table(result.active, console)
    week = result.after.allowance
    if week.cap_km:
        console.print(
            f"the week would be at {format_budget(week.distance_km, settings.units)} of its "
            f"{format_budget(week.cap_km, settings.units)} cap"
        )
    if result.alerts:
        console.print("The planned runs would add:")
        print_alerts_table(result.alerts, console)
    console.print(f"after them, next run: {next_run_text(week, settings)}", highlight=False)
    added = max((severity_rank(alert.severity) for alert in result.alerts), default=-1)
    active = max((severity_rank(alert.severity) for alert in result.active), default=-1)
    if week.phase == "no-history" or (week.phase == "warm-up" and result.alerts):
        console.print(
            "Too little history to compare against: import past runs (stridewatch import) "
            "or declare your level (stridewatch baseline set --week 25km --long 10km).",
            highlight=False,
        )
    if added >= severity_rank("warning"):
        console.print("Not advised: see the alerts the planned runs would add.", style="bold red")
    elif active >= severity_rank("warning"):
        console.print(
            "Within your allowance, but mind the alerts already active above.", style="yellow"
        )
    elif not result.alerts and week.phase == "warm-up":
        console.print("No rule would fire, though two weeks of history say little yet.")
    elif not result.alerts and week.phase != "no-history":
        if active >= severity_rank("caution"):
            console.print("No rule would fire for these runs; mind the cautions above.")
        else:
            console.print("No rule would fire: go ahead.")


def print_plan(status: PlanStatus | None, settings: Settings) -> None:
    console = _console()
    if status is None:
        console.print("No return-to-run plan. Make one: stridewatch plan return --usual 6-8mi")
        return
    table = _table("Return-to-run plan", "week", "each run", "effort", "")
    for week in status.plan.weeks:
        mark = "<- now" if week.number == status.target.number else ""
        span = f"{_dist(week.low_km, settings)} - {format_budget(week.high_km, settings.units)}"
        table.add_row(str(week.number), span, f"RPE {week.rpe}", mark)
    console.print(table)
    console.print(_plan_line(status, settings))
