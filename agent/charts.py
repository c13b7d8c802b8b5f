"""The report's charts: matplotlib figures saved as inline SVG.

matplotlib does the drawing (Agg backend, set explicitly, and its SVG backend for output):
no SVG is written by hand. Every chart shares the same time axis, from the first week shown
to the end of the last, so a pain score sits under the week it belongs to. Output is
deterministic: no date in the metadata, and a fixed ``svg.hashsalt`` per chart (which also
keeps the ids of several inline SVGs on one page apart).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import matplotlib

# Set the non-interactive backend explicitly, before anything draws: no display is needed.
matplotlib.use("Agg")

from matplotlib.dates import DateFormatter, WeekdayLocator, date2num
from matplotlib.figure import Figure

from agent.units import to_unit

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from agent.config import Settings
    from agent.report import Overview, WeekRow

# Colours readable in print and by colour-blind readers (blue / vermilion / black, after
# Okabe & Ito's palette), matching the terminal view's "over cap" red.
UNDER = "#0072B2"
OVER = "#D55E00"
LIMIT = "#000000"
CONTEXT = "#666666"
PAIN_COLOURS = {"before": "#009E73", "during": "#D55E00", "after": "#CC79A7", "morning": "#0072B2"}
# 10 x 3.2 inches fits an A4 page width with its margins at a readable font size.
FIGSIZE = (10.0, 3.2)
# A bar covers six of the week's seven days, so neighbouring weeks stay apart.
BAR_DAYS = 6.0
# No metadata at all: no date (deterministic output) and no links to the Dublin Core
# vocabulary (the report holds no URL).
NO_METADATA: dict[str, str | None] = {"Date": None, "Format": None, "Type": None, "Creator": None}


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart of the report: an SVG, or the message shown instead when there is too
    little history to draw it."""

    id: str
    title: str
    caption: str
    svg: str | None
    message: str | None


def report_charts(view: Overview, settings: Settings) -> list[Chart]:
    """The report's four charts, in the order they appear."""
    return [
        weekly_chart(view, settings),
        longest_chart(view, settings),
        acwr_chart(view, settings),
        pain_chart(view, settings),
    ]


# -- the four charts ---------------------------------------------------------------------


def weekly_chart(view: Overview, settings: Settings) -> Chart:
    chart_id, title = "chart-weekly", "Weekly distance and its cap"
    caption = (
        f"Bars: distance per calendar week ({settings.units}); black tick: the week's cap "
        "(baseline week x (1 + progression limit), held at the baseline while a pain alert is "
        "active); vermilion: over the cap."
    )
    if not view.has_caps:
        message = (
            "Caps start once a complete week of runs is logged: the first week has no "
            "baseline to compare against."
        )
        return Chart(chart_id, title, caption, None, _why_empty(view) or message)
    fig, ax = _figure(view)
    unit = settings.units
    _bars(
        ax,
        view.weeks,
        [_in(row.distance_km, unit) for row in view.weeks],
        [row.over_cap for row in view.weeks],
        ("distance", "over the cap"),
    )
    _ticks(ax, view.weeks, [_maybe_in(row.cap_km, unit) for row in view.weeks], "cap")
    ax.set_ylabel(unit)
    _legend(fig)
    return Chart(chart_id, title, caption, _svg(fig, chart_id), None)


def longest_chart(view: Overview, settings: Settings) -> Chart:
    chart_id, title = "chart-longest", "Longest run of each week against its 30-day rule"
    factor = settings.progression.spike_warn
    caption = (
        f"Bars: the week's longest run ({settings.units}); black tick: its limit, {factor:g}x "
        "the longest run of the 30 days before it; vermilion: over that limit."
    )
    rows = [row for row in view.weeks if row.longest is not None]
    if not any(row.limit_km is not None for row in rows):
        message = "The 30-day rule needs an earlier run to compare with: log a second run."
        return Chart(chart_id, title, caption, None, _why_empty(view) or message)
    fig, ax = _figure(view)
    unit = settings.units
    longest = [_in(row.longest.distance_km, unit) if row.longest else 0.0 for row in rows]
    _bars(
        ax,
        rows,
        longest,
        [row.longest_over for row in rows],
        ("longest run", "over the 30-day limit"),
    )
    _ticks(ax, rows, [_maybe_in(row.limit_km, unit) for row in rows], f"limit ({factor:g}x)")
    ax.set_ylabel(unit)
    _legend(fig)
    return Chart(chart_id, title, caption, _svg(fig, chart_id), None)


def acwr_chart(view: Overview, settings: Settings) -> Chart:
    chart_id, title = "chart-acwr", "Acute:chronic load ratio (context only)"
    limit = settings.progression.acwr_caution
    caption = (
        f"EWMA 7-day over 28-day {settings.progression.load} load, at the end of each day; "
        f"dashed: the {limit:g} caution line. Context only, never a reason on its own."
    )
    if not view.acwr_days:
        message = "The ratio needs 28 days of history; it appears once four weeks are logged."
        return Chart(chart_id, title, caption, None, _why_empty(view) or message)
    fig, ax = _figure(view)
    days = [_noon(day) for day, _ in view.acwr_days]
    ax.plot(days, [value for _, value in view.acwr_days], color=CONTEXT, label="acute:chronic")
    ax.axhline(limit, color=OVER, linestyle="--", linewidth=1, label=f"caution above {limit:g}")
    top = max(value for _, value in view.acwr_days)
    ax.set_ylim(0, max(top, limit) * 1.15)
    _legend(fig)
    return Chart(chart_id, title, caption, _svg(fig, chart_id), None)


def pain_chart(view: Overview, settings: Settings) -> Chart:
    chart_id, title = "chart-pain", "Pain log"
    caution, stop = settings.pain.during_caution, settings.pain.during_stop
    caption = (
        f"Each pain report (0-10) by when it was given; dashed: caution above {caution}/10 "
        f"and stop-and-reduce above {stop}/10 during a run. Same time axis as the charts above."
    )
    if not view.pain:
        message = "No pain reported in these weeks (stridewatch pain SCORE --when after)."
        return Chart(chart_id, title, caption, None, _why_empty(view) or message)
    fig, ax = _figure(view)
    for when, colour in PAIN_COLOURS.items():
        reports = [report for report in view.pain if report.when == when]
        if reports:
            at = [
                _x(report.at.astimezone(settings.zone).replace(tzinfo=None)) for report in reports
            ]
            ax.scatter(at, [report.score for report in reports], color=colour, label=when, s=28)
    ax.axhline(caution, color=CONTEXT, linestyle="--", linewidth=1)
    ax.axhline(stop, color=OVER, linestyle="--", linewidth=1)
    ax.set_ylim(-0.5, 10.5)
    ax.set_ylabel("pain /10")
    _legend(fig)
    return Chart(chart_id, title, caption, _svg(fig, chart_id), None)


def _why_empty(view: Overview) -> str | None:
    return view.empty_message


# -- drawing helpers -----------------------------------------------------------------------


def _in(km: float, unit: str) -> float:
    return to_unit(km * 1000, "mi" if unit == "mi" else "km")


def _maybe_in(km: float | None, unit: str) -> float | None:
    return None if km is None else _in(km, unit)


def _x(moment: datetime) -> float:
    """A (naive, local) instant as a position on the time axis: matplotlib's days."""
    return float(date2num(moment))  # type: ignore[no-untyped-call]  # matplotlib.dates is untyped


def _noon(day: date) -> float:
    return _x(datetime.combine(day, time(12)))


def _centre(row: WeekRow) -> float:
    return _x(datetime.combine(row.start, time(0)) + timedelta(days=3.5))


def _figure(view: Overview) -> tuple[Figure, Axes]:
    """A figure whose x axis runs over the weeks shown, with a tick on each week's start."""
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    first, last = view.weeks[0].start, view.weeks[-1].start
    ax.set_xlim(
        _x(datetime.combine(first, time(0)) - timedelta(hours=12)),
        _x(datetime.combine(last, time(0)) + timedelta(days=7, hours=12)),
    )
    # matplotlib.dates has no type hints.
    locator = WeekdayLocator(byweekday=first.weekday(), interval=_every(view))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(DateFormatter("%d %b"))  # type: ignore[no-untyped-call]
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _legend(fig: Figure) -> None:
    """The legend in one row above the plot, where it cannot hide a bar."""
    fig.legend(loc="outside upper right", ncols=4, fontsize=8, frameon=False)


def _every(view: Overview) -> int:
    """Label every week up to 16 weeks, then every second or fourth, to keep labels apart."""
    count = len(view.weeks)
    return 1 if count <= 16 else 2 if count <= 32 else 4


def _bars(
    ax: Axes,
    rows: Sequence[WeekRow],
    heights: Sequence[float],
    over: Sequence[bool],
    labels: tuple[str, str],
) -> None:
    """Week bars, those over their limit in the warning colour and labelled above."""
    centres = [_centre(row) for row in rows]
    for colour, label, flagged in ((UNDER, labels[0], False), (OVER, labels[1], True)):
        picked = [(c, h) for c, h, f in zip(centres, heights, over, strict=True) if f is flagged]
        if picked:
            ax.bar(
                [c for c, _ in picked], [h for _, h in picked], BAR_DAYS, color=colour, label=label
            )
    for centre, height, flag in zip(centres, heights, over, strict=True):
        if flag:
            ax.annotate(
                "over",
                (centre, height),
                ha="center",
                va="bottom",
                fontsize=8,
                color=OVER,
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.set_ylim(0, max([*heights, 0.1]) * 1.2)


def _ticks(ax: Axes, rows: Sequence[WeekRow], values: Sequence[float | None], label: str) -> None:
    """A short black line across each bar at its limit (weeks without one have none)."""
    half = BAR_DAYS / 2 + 0.3
    marked = [(_centre(row), value) for row, value in zip(rows, values, strict=True) if value]
    if not marked:
        return
    ax.hlines(
        [value for _, value in marked],
        [centre - half for centre, _ in marked],
        [centre + half for centre, _ in marked],
        colors=LIMIT,
        linewidth=2.2,
        label=label,
    )
    top = max(value for _, value in marked)
    ax.set_ylim(0, max(ax.get_ylim()[1], top * 1.2))


def _svg(fig: Figure, chart_id: str) -> str:
    """The figure as an inline ``<svg>`` element: no XML prologue or DTD (which names a
    URL), ids prefixed with the chart's id so several charts can share one page."""
    fig.draw_without_rendering()
    for number, artist in enumerate(fig.findobj()):
        if artist.get_gid() is None:
            artist.set_gid(f"{chart_id}-{number}")
    out = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": chart_id, "svg.fonttype": "none"}):
        fig.savefig(out, format="svg", metadata=NO_METADATA)
    text = out.getvalue()
    return text[text.index("<svg") :].strip()
