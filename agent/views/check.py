"""Human views of ``check``, ``summary``, ``alerts``, ``what-if`` and ``plan``: rich tables in
the runner's unit. Rendering only; rich is imported inside the functions so the ``--json``
paths never load it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from agent.units import (
    EPS_KM,
    format_against,
    format_budget,
    format_km,
    format_local,
    format_pct,
    format_ratio,
)
from agent.views.text import next_run_text, print_pairs, say

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from agent.advice.checks import Assessment, Summary, WhatIf
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
    "warm-up": (
        "warm-up: under two weeks of history or no complete week yet; the spike rule, and a "
        "cap guessed before a complete week, only inform"
    ),
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
    from agent.views.text import console

    return console()


Pairs = list[tuple[str, "str | Text"]]


def _dist(km: float | None, settings: Settings) -> str:
    return format_km(km, settings.units)


def _local(moment: datetime, settings: Settings) -> str:
    return format_local(moment, settings.zone)


def _ratio(value: float | None, missing: str = "-") -> str:
    return missing if value is None else format_ratio(value)


def _nothing_recent(week: Allowance) -> bool:
    """No run this week, none in the past 30 days and no baseline: nothing to show."""
    return week.distance_km <= 0 and week.longest_30d_km is None and week.baseline_km is None


def _cap_line(week: Allowance, settings: Settings) -> Text:
    """``6.0 km  ████░░░│  of its 40.0 km cap``: the week against its cap, as a bar."""
    from rich.text import Text

    from agent.views.history import OVER_STYLE, distance_bar

    if week.cap_km is None:
        line = Text(format_km(week.distance_km, settings.units) + "  ")
        return line.append("no cap yet: it starts after your first complete week", "dim")
    # The week and its cap as they compare: at the cap reads equal, over it reads more.
    done, cap = format_against(week.distance_km, week.cap_km, settings.units)
    line = Text(done + "  ")
    top = max(week.distance_km, week.cap_km)
    line.append_text(distance_bar(week.distance_km, week.cap_km, top, CAP_BAR_WIDTH))
    line.append(f"  of its {cap} cap")
    if week.held:
        line.append(" (held at the baseline while pain settles)", "yellow")
    if week.change is not None and week.distance_km > week.cap_km + EPS_KM:
        line.append(f"  over the cap, {format_pct(week.change)} on the baseline", OVER_STYLE)
    return line


def _left_line(week: Allowance, settings: Settings) -> Text:
    from rich.text import Text

    if week.remaining_km is None:
        return Text("-")
    style = "green" if week.remaining_km > 0 else "bold red"
    left = format_budget(week.remaining_km, settings.units)
    return Text.assemble((left, style), " left this week")


def _budget_pairs(week: Allowance, settings: Settings) -> Pairs:
    from rich.text import Text

    pairs: Pairs = [
        ("phase", PHASE_TEXT[week.phase]),
        ("this week", _cap_line(week, settings)),
        ("left", _left_line(week, settings)),
        ("next run", next_run_text(week, settings)),
    ]
    for limit in week.limits:
        if limit is not week.binding:
            other = f"{limit.rule}: {format_budget(limit.km, settings.units)} ({limit.reason})"
            pairs.append(("", Text(other, "dim")))
    baseline = format_km(week.baseline_km, settings.units) if week.baseline_km else "none yet"
    if week.baseline_km and week.held:  # the held cap is the baseline: one number, as the cap
        baseline = format_budget(week.baseline_km, settings.units) + ", the cap held"
    last = format_km(week.last_week_km, settings.units) if week.last_week_km is not None else "-"
    base, last_km = week.baseline_km, week.last_week_km
    if base is not None and last_km is not None and abs(base - last_km) < EPS_KM:
        baseline = "last week's" + (", the cap held" if week.held else "")  # one number, once
    pairs.append(("last week", f"{last}; baseline week {baseline}"))
    return pairs


def print_alerts_table(alerts: Sequence[Alert], console: Console) -> None:
    """Active alerts, worst first, each in its severity's colour."""
    from agent.views.text import Row, print_table

    if not alerts:
        console.print("No alerts: nothing is rising faster than the rules allow.", style="green")
        return
    rows = [
        Row((alert.severity.upper(), alert.rule), alert.message, SEVERITY_STYLE[alert.severity])
        for alert in alerts
    ]
    print_table(console, "Alerts", ("severity", "rule"), rows, detail="message")


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
        say(console, NO_RECENT_RUNS)
        pairs: Pairs = [("next run", next_run_text(week, settings))]
    else:
        pairs = _budget_pairs(week, settings)
        acwr = _ratio(assessment.acwr, "not yet (needs 28 days)")
        context = f"acute:chronic {acwr} (context only); monotony {_ratio(assessment.monotony)}"
        pairs.append(("context", context))
    if assessment.plan is not None:
        pairs.append(("return plan", _plan_line(assessment.plan, settings)))
    print_pairs(console, pairs)
    console.print()
    print_alerts_table(assessment.alerts, console)


def plan_range(low_km: float, high_km: float, settings: Settings) -> str:
    """``6.0 km-8.0 km``: a plan week's range, written as the rules write it in their
    messages (agent/rules/progression.py, limits.py), the top rounded down as budgets are."""
    return f"{_dist(low_km, settings)}-{format_budget(high_km, settings.units)}"


def _plan_line(status: PlanStatus, settings: Settings) -> str:
    target = status.target
    return (
        f"week {target.number} of {len(status.plan.weeks)}: runs of "
        f"{plan_range(target.low_km, target.high_km, settings)} at RPE {target.rpe}; "
        f"{status.status} ({status.reason})"
    )


def _print_runs(result: Summary, settings: Settings, console: Console) -> None:
    from agent.views.text import Row, duration_text, pace_text, print_table

    rows = [
        Row(
            (
                _local(run.started_at, settings),
                _dist(run.distance_km, settings),
                duration_text(run.moving_s),
                pace_text(run.distance_m, run.moving_s, settings.units),
                "-" if run.rpe is None else str(run.rpe),
            ),
            run.note or "",
        )
        for run in result.runs
    ]
    columns = ("day", "distance", "time", "pace", "RPE")
    print_table(
        console, "Runs this week", columns, rows, right=("distance", "time", "RPE"), detail="note"
    )


def _print_pain(result: Summary, settings: Settings, console: Console) -> None:
    from rich.text import Text

    from agent.views.history import pain_style
    from agent.views.text import Row, print_table

    rows = [
        Row(
            (
                _local(report.at, settings),
                Text(f"{report.score}/10", pain_style(report.score, settings)),
                report.when,
                report.where or "-",
            ),
            report.note or "",
        )
        for report in result.pain
    ]
    columns = ("when", "score", "timing", "where")
    print_table(console, "Pain this week", columns, rows, right=("score",), detail="note")


def print_summary(result: Summary, settings: Settings, console: Console | None = None) -> None:
    """The week's runs and pain, then the week against its cap and the alerts."""
    console = console or _console()
    if result.runs:
        _print_runs(result, settings, console)
    elif not _nothing_recent(result.assessment.allowance):
        console.print("No runs this week yet.")
    if result.pain:
        console.print()
        _print_pain(result, settings, console)
    console.print()
    print_check(result.assessment, settings, console)


def print_stored_alerts(alerts: Sequence[StoredAlert], settings: Settings) -> None:
    """Alerts raised so far, oldest first; each message beside its row, or below it on a
    narrow terminal."""
    from rich.text import Text

    from agent.views.text import Row, print_table

    console = _console()
    if not alerts:
        say(console, "No alerts stored. `stridewatch check` raises and stores them.")
        return
    rows = [
        Row(
            (
                _local(alert.raised_at, settings),
                Text(alert.severity, SEVERITY_STYLE[alert.severity]),
                alert.rule,
                str(alert.run_id or ""),
                "yes" if alert.delivered_at else "no",
            ),
            alert.message,
        )
        for alert in alerts
    ]
    columns = ("raised", "severity", "rule", "run", "delivered")
    print_table(console, "Alerts raised", columns, rows, right=("run",), detail="message")


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
        done, cap = format_against(week.distance_km, week.cap_km, settings.units)
        say(console, f"the week would be at {done} of its {cap} cap")
    if result.alerts:
        console.print("The planned runs would add:")
        print_alerts_table(result.alerts, console)
    say(console, f"after them, next run: {next_run_text(week, settings)}")
    added = max((severity_rank(alert.severity) for alert in result.alerts), default=-1)
    active = max((severity_rank(alert.severity) for alert in result.active), default=-1)
    if week.phase == "no-history" or (week.phase == "warm-up" and result.alerts):
        say(
            console,
            "Too little history to compare against: import past runs (stridewatch import) "
            "or declare your level (stridewatch baseline set --week 25km --long 10km).",
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
    from agent.views.text import Row, print_table

    console = _console()
    if status is None:
        say(console, "No return-to-run plan. Make one: stridewatch plan return --usual 6-8mi")
        return
    rows = [
        Row(
            (
                str(week.number),
                plan_range(week.low_km, week.high_km, settings),
                f"RPE {week.rpe}",
                "<- now" if week.number == status.target.number else "",
            )
        )
        for week in status.plan.weeks
    ]
    columns = ("week", "each run", "effort", "")
    print_table(console, "Return-to-run plan", columns, rows, right=("week",))
    say(console, _plan_line(status, settings))
