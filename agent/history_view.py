"""``stridewatch history``: weekly distance as a terminal bar chart, in the runner's unit.

One row per calendar week, oldest first: a bar of the week's distance with the week's cap
marked on it (``│``), the part over the cap in red and the row marked, and the pain reported
on each day of that week on the same row, so pain and load share one time axis. Rendering
only (rich); the numbers come from :mod:`agent.report`, the current week's from the same
assessment as ``check``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.units import format_budget, format_km

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from agent.config import Settings
    from agent.report import Overview, WeekRow

UNDER_STYLE = "cyan"
OVER_STYLE = "bold red"
CAP_MARK = "│"
# Columns other than the bar take about 60 cells; the bar gets the rest, within these bounds.
BAR_MIN, BAR_MAX, OTHER_COLUMNS = 10, 50, 72
WEEKDAY_LETTERS = "MTWTFSS"


def distance_bar(distance_km: float, cap_km: float | None, top_km: float, width: int) -> Text:
    """``█████░░│`` under the cap, ``██████│██`` over it (the part over in red)."""
    from rich.text import Text

    def cells(km: float) -> int:
        return round(km / top_km * width) if top_km > 0 else 0

    bar, done = Text(), cells(distance_km)
    if cap_km is None:
        bar.append("█" * done, UNDER_STYLE)
        return bar
    cap = cells(cap_km)
    bar.append("█" * min(done, cap), UNDER_STYLE)
    bar.append("░" * max(0, cap - done), "dim")
    bar.append(CAP_MARK, "bold")
    over = max(done - cap, 1 if distance_km > cap_km else 0)
    bar.append("█" * over, OVER_STYLE)
    return bar


def pain_style(score: int, settings: Settings) -> str:
    """Pain coloured against the during-run thresholds (3 and 4 of 10 by default)."""
    if score > settings.pain.during_stop:
        return "bold red"
    if score > settings.pain.during_caution:
        return "dark_orange"
    return "yellow" if score > 0 else "green"


def pain_days(row: WeekRow, settings: Settings) -> Text:
    """The week's highest pain score per day, ``·`` for a day without a report."""
    from rich.text import Text

    text = Text()
    for score in row.pain_by_day:
        if score is None:
            text.append("·", "dim")
        else:
            text.append("X" if score >= 10 else str(score), pain_style(score, settings))
    return text


def _dist(km: float | None, settings: Settings) -> str:
    return format_km(km, settings.units)


def _status(row: WeekRow, settings: Settings) -> Text:
    from rich.text import Text

    held = Text(" (held)", "yellow") if row.held else ""
    if row.over_cap and row.change is not None:
        return Text.assemble((f"▲ over cap {100 * row.change:+.0f}%", OVER_STYLE), held)
    if row.current and row.remaining_km is not None:
        left = format_budget(row.remaining_km, settings.units)
        return Text.assemble((f"{left} left", "green"), held)
    if row.cap_km is None:
        return Text("no cap yet", "dim")
    return Text("(held)", "yellow") if row.held else Text("")


def _table(view: Overview, settings: Settings, width: int) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    table.add_column("week of", no_wrap=True)
    table.add_column("distance", justify="right", no_wrap=True, min_width=8)
    top = max(max(row.distance_km, row.cap_km or 0.0) for row in view.weeks)
    scale = _dist(top, settings)
    table.add_column("0" + scale.rjust(width), no_wrap=True, overflow="crop")
    table.add_column("cap", justify="right", no_wrap=True, min_width=8)
    table.add_column(WEEKDAY_LETTERS, no_wrap=True, min_width=7)
    table.add_column("")
    for row in view.weeks:
        style = OVER_STYLE if row.over_cap else ""
        table.add_row(
            Text(f"{row.start:%a %d %b}" + (" *" if row.current else "  "), style),
            Text(format_budget(row.distance_km, settings.units), style),
            distance_bar(row.distance_km, row.cap_km, top, width),
            format_budget(row.cap_km, settings.units),
            pain_days(row, settings),
            _status(row, settings),
        )
    return table


def print_history(view: Overview, settings: Settings, console: Console | None = None) -> None:
    """The chart, a legend, and this week's numbers (the same as ``check``)."""
    from rich.console import Console

    console = console or Console()
    if view.empty_message:
        console.print(view.empty_message, markup=False, highlight=False)
        _print_now(view, settings, console)
        return
    width = max(BAR_MIN, min(BAR_MAX, console.width - OTHER_COLUMNS))
    first = view.weeks[0].start
    console.print(
        f"[bold]Weekly distance ({settings.units}), {len(view.weeks)} weeks from "
        f"{first:%d %b %Y}[/] to {view.at.astimezone(settings.zone):%a %d %b %Y %H:%M}"
    )
    console.print(_table(view, settings, width))
    console.print(
        f"[{UNDER_STYLE}]█[/] distance  [bold]{CAP_MARK}[/] cap  [{OVER_STYLE}]█[/] over the "
        f"cap  (held): cap held at the baseline while pain settles\n{WEEKDAY_LETTERS}: "
        "highest pain each day (0-10, · none)  * this week",
        highlight=False,
    )
    _print_now(view, settings, console)


def _print_now(view: Overview, settings: Settings, console: Console) -> None:
    week = view.assessment.allowance
    if not view.has_caps and not view.empty_message:
        console.print(
            "Caps start once a complete week of runs is logged: keep logging and the "
            "chart marks each week's cap.",
            highlight=False,
        )
    from agent.views_check import next_run_text

    if week.cap_km is None:
        console.print(f"Next run: {next_run_text(week, settings)}.", highlight=False)
        return
    console.print(
        f"This week: {format_budget(week.distance_km, settings.units)} of its "
        f"{format_budget(week.cap_km, settings.units)} "
        f"cap, {format_budget(week.remaining_km, settings.units)} left; next run "
        f"{next_run_text(week, settings)}.",
        highlight=False,
    )
