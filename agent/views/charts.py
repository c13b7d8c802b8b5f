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
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import matplotlib

# Set the non-interactive backend explicitly, before anything draws: no display is needed.
matplotlib.use("Agg")

from matplotlib.dates import DateFormatter, WeekdayLocator, date2num
from matplotlib.figure import Figure

from agent.units import to_unit

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.typing import RcKeyType

    from agent.config import Settings
    from agent.views.overview import Overview, WeekRow

# Colours readable in print and by colour-blind readers (blue / vermilion / black, after
# Okabe & Ito's palette), matching the terminal view's "over cap" red.
UNDER = "#0072B2"
OVER = "#D55E00"
LIMIT = "#000000"
CONTEXT = "#666666"
PAIN_COLOURS = {"before": "#009E73", "during": "#D55E00", "after": "#CC79A7", "morning": "#0072B2"}
# 7.0 inches is narrower than the text width of an A4 or Letter page with 12 mm margins
# (7.3 and 7.6 inches), so a chart printed at the full width is scaled up, never down: text
# drawn at FONT_PT prints at least that large.
WIDTH_IN = 7.0
STORY_HEIGHT_IN = 3.4
# The smallest print size a report reader is expected to read (issue 17: at least 8 pt).
FONT_PT = 8.0
# A bar covers six of the week's seven days, so neighbouring weeks stay apart.
BAR_DAYS = 6.0
# A bar at least this share of its panel's height holds its value label inside.
INSIDE_SHARE = 0.25
# No metadata at all: no date (deterministic output) and no links to the Dublin Core
# vocabulary (the report holds no URL).
NO_METADATA: dict[str, str | None] = {"Date": None, "Format": None, "Type": None, "Creator": None}
STYLE: dict[RcKeyType, Any] = {
    "font.size": FONT_PT,
    "axes.titlesize": FONT_PT + 1,
    "axes.labelsize": FONT_PT,
    "xtick.labelsize": FONT_PT,
    "ytick.labelsize": FONT_PT,
    "legend.fontsize": FONT_PT,
    "svg.fonttype": "none",
}


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart of the report: an SVG, or the message shown instead when there is too
    little history to draw it."""

    id: str
    title: str
    caption: str
    svg: str | None
    message: str | None


def report_charts(view: Overview, settings: Settings) -> dict[str, Chart]:
    """The report's charts by name: ``story``, page one's weeks against their caps, longest
    runs against the 30-day rule and pain log on one time axis."""
    with matplotlib.rc_context(STYLE):
        return {"story": story_chart(view, settings)}


# -- the charts ----------------------------------------------------------------------------


def story_chart(view: Overview, settings: Settings) -> Chart:
    """Three panels on one time axis: weekly distance against the cap, the week's longest
    run against its 30-day limit, and every pain report."""
    chart_id, title = "chart-story", "The weeks, their longest runs and the pain log"
    unit, factor = settings.units, settings.progression.spike_warn
    caption = (
        f"Top: distance per calendar week ({unit}) with the week's cap (black line: the "
        "baseline week plus the progression limit, held at the baseline while pain settles). "
        f"Middle: the week's longest run with its limit ({factor:g}x the longest run of the 30 "
        "days before it). Vermilion: over. Bottom: each pain report (0-10) with the caution "
        f"and stop levels during a run ({settings.pain.during_caution} and "
        f"{settings.pain.during_stop}/10)."
    )
    notes = _story_notes(view)
    if view.empty_message or not view.weeks:
        return Chart(chart_id, title, caption, None, view.empty_message or notes)
    fig = Figure(figsize=(WIDTH_IN, STORY_HEIGHT_IN), layout="constrained")
    weekly, longest, pain = fig.subplots(3, 1, sharex=True, height_ratios=(1.1, 1.0, 0.9))
    _weekly_panel(weekly, view, unit)
    _longest_panel(longest, view, unit, factor)
    _pain_panel(pain, view, settings)
    for ax in (weekly, longest, pain):
        _time_axis(ax, view)
    caption = f"{caption} {notes}" if notes else caption
    return Chart(chart_id, title, caption, _svg(fig, chart_id), None)


def _story_notes(view: Overview) -> str:
    """Why a part of the story chart is missing, in words."""
    notes = []
    if not view.has_caps:
        notes.append("No cap yet: caps start once a complete week of runs is logged.")
    if not any(row.limit_km is not None for row in view.weeks):
        notes.append("No 30-day limit yet: the rule needs an earlier run to compare with.")
    return " ".join(notes)


def _weekly_panel(ax: Axes, view: Overview, unit: str) -> None:
    rows = view.weeks
    heights = [_in(row.distance_km, unit) for row in rows]
    _bars(ax, rows, heights, [row.over_cap for row in rows], ("distance", "over the cap"))
    _ticks(ax, rows, [_maybe_in(row.cap_km, unit) for row in rows], "cap")
    _values(ax, rows, heights)
    _panel_title(ax, f"Weekly distance ({unit}) against the cap")


def _longest_panel(ax: Axes, view: Overview, unit: str, factor: float) -> None:
    rows = [row for row in view.weeks if row.longest is not None]
    heights = [_in(row.longest.distance_km, unit) if row.longest else 0.0 for row in rows]
    flags = [row.longest_over for row in rows]
    _bars(ax, rows, heights, flags, ("longest run", "over its limit"))
    _ticks(
        ax,
        rows,
        [_maybe_in(row.limit_km, unit) for row in rows],
        f"limit: {factor:g}x the 30-day longest",
    )
    _values(ax, rows, heights)
    _ratios(ax, rows, heights)
    _panel_title(ax, f"Longest run of the week ({unit})")


def _pain_panel(ax: Axes, view: Overview, settings: Settings) -> None:
    caution, stop = settings.pain.during_caution, settings.pain.during_stop
    ax.axhline(caution, color=CONTEXT, linestyle="--", linewidth=0.8)
    ax.axhline(stop, color=OVER, linestyle="--", linewidth=0.8)
    for when, colour in PAIN_COLOURS.items():
        reports = [report for report in view.pain if report.when == when]
        if reports:
            at = [
                _x(report.at.astimezone(settings.zone).replace(tzinfo=None)) for report in reports
            ]
            ax.scatter(at, [report.score for report in reports], color=colour, label=when, s=18)
    if not view.pain:
        ax.text(
            0.5,
            0.5,
            "No pain reported in these weeks",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=CONTEXT,
        )
    ax.set_ylim(-0.8, 10.8)
    ax.set_yticks([0, 5, 10])
    _panel_title(ax, "Pain (0-10)")


# -- drawing helpers -----------------------------------------------------------------------


def _in(km: float, unit: str) -> float:
    return to_unit(km * 1000, "mi" if unit == "mi" else "km")


def _maybe_in(km: float | None, unit: str) -> float | None:
    return None if km is None else _in(km, unit)


def _x(moment: datetime) -> float:
    """A (naive, local) instant as a position on the time axis: matplotlib's days."""
    return float(date2num(moment))  # type: ignore[no-untyped-call]  # matplotlib.dates is untyped


def _centre(row: WeekRow) -> float:
    return _x(datetime.combine(row.start, time(0)) + timedelta(days=3.5))


def _time_axis(ax: Axes, view: Overview) -> None:
    """The x axis over the weeks shown, with a tick on each week's start."""
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


def _panel_title(ax: Axes, title: str) -> None:
    """The panel's title on the left and its legend in one row on the right, both above the
    plot, where they cannot hide a bar."""
    if title:
        ax.set_title(title, loc="left", fontweight="bold")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncols=4,
            frameon=False,
            borderaxespad=0.1,
            handlelength=1.5,
            columnspacing=1.0,
        )


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
    """Week bars, those over their limit in the warning colour."""
    centres = [_centre(row) for row in rows]
    for colour, label, flagged in ((UNDER, labels[0], False), (OVER, labels[1], True)):
        picked = [(c, h) for c, h, f in zip(centres, heights, over, strict=True) if f is flagged]
        if picked:
            ax.bar(
                [c for c, _ in picked], [h for _, h in picked], BAR_DAYS, color=colour, label=label
            )
    ax.set_ylim(0, max([*heights, 0.1]) * 1.25)


def _values(ax: Axes, rows: Sequence[WeekRow], heights: Sequence[float]) -> None:
    """Each bar's value, in white inside its top (above a bar too short to hold it), where
    the cap line, drawn across the bar's full width above it, cannot cross the figure."""
    top = ax.get_ylim()[1]
    for row, height in zip(rows, heights, strict=True):
        inside = height >= INSIDE_SHARE * top
        ax.annotate(
            f"{height:.0f}",
            (_centre(row), height),
            ha="center",
            va="top" if inside else "bottom",
            color="white" if inside else LIMIT,
            xytext=(0, -1.5 if inside else 1.5),
            textcoords="offset points",
        )


def _ratios(ax: Axes, rows: Sequence[WeekRow], heights: Sequence[float]) -> None:
    """Above each bar over its limit, its ratio to the 30-day longest (``1.6x``)."""
    for row, height in zip(rows, heights, strict=True):
        before = row.longest_before_km
        if row.longest is None or not row.longest_over or not before:
            continue
        ax.annotate(
            f"{row.longest.distance_km / before:.1f}x",
            (_centre(row), height),
            ha="center",
            va="bottom",
            color=OVER,
            fontweight="bold",
            xytext=(0, 1.5),
            textcoords="offset points",
        )


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
    ax.set_ylim(0, max(ax.get_ylim()[1], top * 1.25))


def _svg(fig: Figure, chart_id: str) -> str:
    """The figure as an inline ``<svg>`` element: no XML prologue or DTD (which names a
    URL), ids prefixed with the chart's id so several charts can share one page."""
    fig.draw_without_rendering()
    for number, artist in enumerate(fig.findobj()):
        if artist.get_gid() is None:
            artist.set_gid(f"{chart_id}-{number}")
    out = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": chart_id}):
        fig.savefig(out, format="svg", metadata=NO_METADATA)
    text = out.getvalue()
    return text[text.index("<svg") :].strip()
