"""``stridewatch history``: weekly distance as a terminal bar chart, in the runner's unit.

One row per calendar week, oldest first: a bar of the week's distance with the week's cap
marked on it (``│``), the part over the cap in red and the row marked, and the pain reported
on each day of that week on the same row, so pain and load share one time axis. Rendering
only (rich); the numbers come from :mod:`agent.views.overview_build`, the current week's
from the same assessment as ``check``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.rules.load import week_change
from agent.units import (
    budget_json,
    format_against,
    format_budget,
    format_km,
    format_pct,
    km_json,
    local_iso,
    pct,
)
from agent.views.text import next_run_text, say

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from agent.config import Settings
    from agent.views.overview import Overview, WeekRow

UNDER_STYLE = "cyan"
OVER_STYLE = "bold red"
CAP_MARK = "│"
# The bar gets what the other columns leave of the terminal, within these bounds: at 80
# columns that is about 20 cells.
BAR_MIN, BAR_MAX = 10, 50
# The table's padding: one cell each side of every column, none at the edges.
PAD = 1
WEEKDAY_LETTERS = "MTWTFSS"


def weekday_letters(settings: Settings) -> str:
    """The pain columns' heading, from the configured first day of the week (``SMTWTFS``
    for weeks that start on Sunday)."""
    first = settings.first_weekday
    return WEEKDAY_LETTERS[first:] + WEEKDAY_LETTERS[:first]


def week_json(row: WeekRow) -> dict[str, Any]:
    """One week of ``history --json`` (km whatever the display unit), with the names of
    ``check --json``'s ``week``; cap and remaining rounded down, as budgets are."""
    return {
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
        "current": row.current,
        "run_count": len(row.runs),
        "distance_km": km_json(row.distance_km),
        "baseline_km": km_json(row.baseline_km),
        "cap_km": budget_json(row.cap_km),
        "remaining_km": budget_json(row.remaining_km),
        "change_pct": _change_pct(row),
        "over_cap": row.over_cap,
        "held": row.held,
        "longest_run_km": km_json(row.longest.distance_km if row.longest else None),
        "longest_limit_km": budget_json(row.limit_km),
        "longest_over_limit": row.longest_over,
        "pain_max": row.pain_max,
        "pain_by_day": list(row.pain_by_day),
    }


def _change_pct(row: WeekRow) -> float | None:
    """The week against its baseline week; null for this week with nothing run yet (a
    finished week of no runs keeps its -100 %)."""
    change = week_change(row.distance_km, row.baseline_km, finished=not row.current)
    return None if change is None else pct(change)


def history_json(view: Overview, settings: Settings) -> dict[str, Any]:
    """``history --json``: the weeks, oldest first, and the hint shown without any."""
    return {
        "at": local_iso(view.at, settings.zone),
        "weeks": [week_json(row) for row in view.weeks],
        "message": view.empty_message,
    }


def distance_bar(distance_km: float, cap_km: float | None, top_km: float, width: int) -> Text:
    """``█████░░│`` under the cap, ``██████│██`` over it (the part over in red): at most
    ``width`` cells and the cap mark, however little over the cap the week is."""
    from rich.text import Text

    def cells(km: float) -> int:
        return round(km / top_km * width) if top_km > 0 else 0

    bar, done = Text(), cells(distance_km)
    if cap_km is None:
        bar.append("█" * done, UNDER_STYLE)
        return bar
    cap = cells(cap_km)
    over = max(done - cap, 1 if distance_km > cap_km else 0)
    # A week just over a cap at the top of the scale rounds to the cap: its one red cell
    # is taken from before the mark, or the bar would push the status off the line.
    cap = min(cap, width - over)
    bar.append("█" * min(done, cap), UNDER_STYLE)
    bar.append("░" * max(0, cap - done), "dim")
    bar.append(CAP_MARK, "bold")
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


def _status(row: WeekRow, settings: Settings) -> Text:
    from rich.text import Text

    held = Text(" (held)", "yellow") if row.held else ""
    if row.over_cap and row.change is not None:
        return Text.assemble((f"▲ over cap {format_pct(row.change)}", OVER_STYLE), held)
    if row.current and row.remaining_km is not None:
        left = format_budget(row.remaining_km, settings.units)
        return Text.assemble((f"{left} left", "green"), held)
    if row.cap_km is None:
        return Text("no cap yet", "dim")
    return Text("(held)", "yellow") if row.held else Text("")


def _number(km: float | None, settings: Settings) -> str:
    """``34.0``: a cap without its unit (the heading names it), rounded down as budgets
    are; ``-`` when unknown."""
    text = format_budget(km, settings.units)
    return text.rsplit(" ", 1)[0] if km is not None else text


def _week_numbers(row: WeekRow, settings: Settings) -> tuple[str, str]:
    """A week's distance (to the nearest) and its cap (rounded down), without the unit, as
    they compare: a week over its cap reads more than it (:func:`format_against`)."""
    if row.cap_km is None:
        return format_km(row.distance_km, settings.units).rsplit(" ", 1)[0], _number(None, settings)
    done, cap = format_against(row.distance_km, row.cap_km, settings.units)
    return done.rsplit(" ", 1)[0], cap.rsplit(" ", 1)[0]


def _cells(view: Overview, settings: Settings) -> list[list[Text]]:
    """Every column but the bar, per week."""
    from rich.text import Text

    rows = []
    for row in view.weeks:
        style = OVER_STYLE if row.over_cap else ""
        distance, cap = _week_numbers(row, settings)
        rows.append(
            [
                Text(f"{row.start:%a %d %b}" + (" *" if row.current else "  "), style),
                Text(distance, style),
                Text(cap),
                pain_days(row, settings),
                _status(row, settings),
            ]
        )
    return rows


def bar_width(view: Overview, settings: Settings, width: int) -> int:
    """What the other columns leave of ``width`` for the bar, within ``BAR_MIN``-``BAR_MAX``."""
    headings = ("week of", settings.units, "cap", WEEKDAY_LETTERS, "")
    cells = _cells(view, settings)
    others = sum(
        max([len(heading)] + [cell[n].cell_len for cell in cells])
        for n, heading in enumerate(headings)
    )
    padding = 2 * PAD * 5  # six columns, no padding at the outer edges
    return max(BAR_MIN, min(BAR_MAX, width - others - padding))


def _table(view: Overview, settings: Settings, width: int) -> Table:
    from rich.table import Table

    table = Table(box=None, padding=(0, PAD), pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("week of", no_wrap=True)
    table.add_column(settings.units, justify="right", no_wrap=True)
    top = max(max(row.distance_km, row.cap_km or 0.0) for row in view.weeks)
    scale = _number(top, settings)
    table.add_column("0" + scale.rjust(width - 1), no_wrap=True, overflow="crop")
    table.add_column("cap", justify="right", no_wrap=True)
    table.add_column(weekday_letters(settings), no_wrap=True)
    table.add_column("", no_wrap=True)
    for row, cells in zip(view.weeks, _cells(view, settings), strict=True):
        week, distance, cap, pain, status = cells
        bar = distance_bar(row.distance_km, row.cap_km, top, width - 1)  # and the cap mark
        table.add_row(week, distance, bar, cap, pain, status)
    return table


def print_history(view: Overview, settings: Settings, console: Console | None = None) -> None:
    """The chart, a legend, and this week's numbers (the same as ``check``)."""
    from agent.views.text import console as make_console

    console = console or make_console()
    if view.empty_message:
        say(console, view.empty_message)
        _print_now(view, settings, console)
        return
    width = bar_width(view, settings, console.width)
    first = view.weeks[0].start
    count = len(view.weeks)
    console.print(
        f"[bold]Weekly distance ({settings.units}), {count} week{'' if count == 1 else 's'} "
        f"from {first:%a %d %b %Y}[/] to {view.at.astimezone(settings.zone):%a %d %b %Y %H:%M}",
        highlight=False,
    )
    console.print(_table(view, settings, width))
    held = "(held): cap held at the baseline while pain settles\n"
    console.print(
        f"[{UNDER_STYLE}]█[/] distance  [bold]{CAP_MARK}[/] cap  [{OVER_STYLE}]█[/] over the "
        f"cap  * this week\n{held if any(row.held for row in view.weeks) else ''}"
        f"{weekday_letters(settings)}: highest pain each day (0-10, · none)",
        highlight=False,
    )
    _print_now(view, settings, console)


def _print_now(view: Overview, settings: Settings, console: Console) -> None:
    week = view.assessment.allowance
    if not view.has_caps and not view.empty_message:
        say(
            console,
            "Caps start once a complete week of runs is logged: keep logging and the "
            "chart marks each week's cap.",
        )
    if week.cap_km is None:
        say(console, f"Next run: {next_run_text(week, settings)}.")
        return
    done, cap = format_against(week.distance_km, week.cap_km, settings.units)
    say(
        console,
        f"This week: {done} of its {cap} cap, "
        f"{format_budget(week.remaining_km, settings.units)} left; next run "
        f"{next_run_text(week, settings)}.",
    )
