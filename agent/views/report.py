"""The load overview behind ``stridewatch history`` and ``stridewatch report``.

:func:`overview` is pure: from a :class:`History` and an instant it builds, week by week, the
distance against that week's cap, the longest run against its 30-day rule, the pain reports,
the acute:chronic ratio as context, the alerts the rules raise and the return-to-run plan's
adherence. The current week comes from the same :func:`agent.advice.checks.assess` as
``check --json``, so the numbers agree. :func:`render_html` turns it into one self-contained
HTML file (jinja2 with autoescape; charts from :mod:`agent.views.charts`). jinja2 and matplotlib are
imported only there, so the other commands never load them.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import __version__, units
from agent.errors import InputError
from agent.models import Run
from agent.rules.load import monotony_load, week_of
from agent.safe_write import check_target, write_file
from agent.views.facts import PAIN_WHEN, new_facts
from agent.views.overview import Overview, RunRow
from agent.views.pages import (
    alert_groups,
    clip,
    glance_alerts,
    latest_runs,
    pain_notes,
    rest_words,
    week_runs,
    weekday_letters,
)

if TYPE_CHECKING:
    from markupsafe import Markup

    from agent.config import Settings


# -- JSON (``history --json``) -------------------------------------------------------------


# -- HTML ----------------------------------------------------------------------------------

# The rule table of DESIGN.md: what each threshold is and where it comes from. The values
# shown are the runner's effective settings, so a changed default is visible to the reader.
SOURCES = (
    (
        "Weekly progression",
        "Physiotherapy guidance (+10-15 % a week); Nielsen et al., JOSPT 2014 (weekly "
        "increases over 30 % and distance-related injuries).",
    ),
    (
        "Single-run spike",
        "Frandsen et al., BJSM 2025 (5,205 runners: hazard ratio 1.64 for a run 10-30 % "
        "longer than the 30-day longest, 2.28 for over 100 %).",
    ),
    (
        "Acute:chronic load",
        "Williams et al., BJSM 2017; Gabbett, BJSM 2016. Criticised by Impellizzeri et al. "
        "2020, so context only: stridewatch never alerts on it alone, nor above a caution.",
    ),
    ("Monotony", "Foster 1998."),
    (
        "Pain during a run",
        "Physiotherapy guidance (3-4/10); the Silbernagel pain-monitoring model allows up to 5.",
    ),
    ("Pain after a run", "Physiotherapy guidance; Silbernagel et al. 2007."),
    (
        "Graded return",
        "Physiotherapy guidance: restart at 2-3 miles at conversational effort (RPE 3-4), "
        "+10-15 % a week while the pain rules hold.",
    ),
)


def thresholds(settings: Settings) -> list[tuple[str, str, str]]:
    """(rule, threshold in force, source) for the report's sources table."""
    p, pain = settings.progression, settings.pain
    values = (
        f"cap at +{p.weekly_warn:.0%} on the baseline week (the larger of the last complete "
        f"week and the mean of the last four); escalated above +{p.weekly_alert:.0%}; danger "
        f"above +{p.weekly_danger:.0%}",
        f"{p.spike_warn:g}x the longest run of the past 30 days; escalated at "
        f"{p.spike_escalate:g}x; danger above {p.spike_danger:g}x",
        f"EWMA 7 / 28 days; caution above {p.acwr_caution:g}",
        f"caution above {p.monotony_caution:g}",
        f"caution above {pain.during_caution}/10; stop and reduce above {pain.during_stop}/10",
        f"back to the pre-run baseline within {pain.return_window_h:g} h; next morning "
        "not above it",
        "the plan holds after a pain caution and steps back a week after a pain warning",
    )
    return [(name, value, source) for (name, source), value in zip(SOURCES, values, strict=True)]


def context_now(view: Overview, settings: Settings) -> dict[str, str]:
    """The context ratios' values, by the name of their row in :data:`SOURCES`: now, and the
    acute:chronic ratio's highest in the weeks shown."""
    acwr = view.assessment.acwr
    found = f"now {acwr:.2f}" if acwr is not None else "now: not yet (needs 28 days)"
    peak = max(view.acwr_days, key=lambda day: day[1], default=None)
    if peak is not None:
        found += f"; highest in these weeks {peak[1]:.2f}, {peak[0]:%a %d %b}"
    monotony = view.assessment.monotony
    srpe = monotony_load(settings) == "srpe"
    on = "session-RPE (log RPE with `stridewatch rpe`)" if srpe else "TRIMP"
    return {
        SOURCES[2][0]: found,
        SOURCES[3][0]: f"now: not known (needs 7 days of {on} load that varies)"
        if monotony is None
        else f"now {units.format_ratio(monotony)}",
    }


def render_html(view: Overview, settings: Settings) -> str:
    """The report as one self-contained HTML (XHTML-compatible) document."""
    import jinja2

    from agent.views import charts

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("agent.views", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_unbroken,
    )
    env.filters.update(_filters(settings))
    context = {
        "view": view,
        "settings": settings,
        "charts": charts.report_charts(view, settings),
        "thresholds": thresholds(settings),
        "version": __version__,
        "unit": settings.units,
        "week_day": calendar.day_name[settings.first_weekday],
        "zone": settings.timezone if settings.timezone != "local" else str(settings.zone),
        "runs_by_week": _runs_by_week(view, settings),
        "now": context_now(view, settings),
        "latest_runs": latest_runs(view),
        "notes": pain_notes(view),
        "letters": weekday_letters(settings),
    }
    return env.get_template("report.html.j2").render(context)


def _runs_by_week(view: Overview, settings: Settings) -> dict[date, list[RunRow]]:
    """The run rows of each week shown, by the week's first day."""
    found: dict[date, list[RunRow]] = {row.start: [] for row in view.weeks}
    for row in view.run_rows:
        found.setdefault(week_of(row.run.started_at, settings), []).append(row)
    return found


# A number and its unit, which a line must never part ("0.0" at a line's end, "mi" on the
# next): the space between them is a no-break space.
UNIT_SPACE = re.compile(r"(\d) (?=(?:km|mi|h|min|bpm|spm|x)\b|%)")
NO_BREAK = "\u00a0"


def keep_units(text: str) -> str:
    """``text`` with each number tied to its unit (``0.0 mi``, ``4 h``, ``1.1 x``)."""
    return UNIT_SPACE.sub(rf"\1{NO_BREAK}", text)


def _unbroken(value: Any) -> Any:
    """Every text the template prints, its units tied to their numbers (markup, such as
    the charts' SVG, is left as it is)."""
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        return keep_units(value)
    return value


def code(text: str) -> Markup:
    """``text`` escaped, with each `command` in backticks set as ``<code>`` (which the page
    never breaks across lines), and its units tied to their numbers."""
    from markupsafe import Markup, escape

    parts = str(escape(keep_units(text))).split("`")
    return Markup(
        "".join(f"<code>{part}</code>" if n % 2 else part for n, part in enumerate(parts))
    )


def _filters(settings: Settings) -> dict[str, Callable[..., Any]]:
    unit, zone = settings.units, settings.zone

    def dist(km: float | None) -> str:
        return units.format_km(km, unit)

    def budget(km: float | None) -> str:
        return units.format_budget(km, unit)

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%a %d %b %Y %H:%M")

    def short(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%a %d %b %H:%M")

    def pct(change: float | None) -> str:
        return "-" if change is None else units.format_pct(change)

    def ratio(value: float | None) -> str:
        return "not yet (needs 28 days)" if value is None else f"{value:.2f}"

    def pace(run: Run) -> str:
        """A run's pace, m:ss per unit, without the unit (the column says it)."""
        return units.format_pace(run.distance_m, run.moving_s, unit).removesuffix(f"/{unit}")

    def whole(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    def num(km: float) -> str:
        """A distance done in the runner's unit, without the unit (the column says it)."""
        return f"{units.to_unit(km * 1000, unit):.1f}"

    def budget_num(km: float) -> str:
        """A cap in the runner's unit, rounded down, without the unit."""
        return f"{units.floor_to(units.to_unit(km * 1000, unit), 1):.1f}"

    return {
        "dist": dist,
        "budget": budget,
        "local": local,
        "short": short,
        "day": lambda day: day.strftime("%a %d %b %Y"),
        "short_day": lambda day: day.strftime("%a %d %b"),
        "pct": pct,
        "ratio": ratio,
        "clock": units.format_duration,
        "pace": pace,
        "whole": whole,
        "pain_when": lambda when: PAIN_WHEN.get(when, f"in the {when}"),
        "facts": lambda alert: new_facts(alert, settings),
        "code": code,
        "num": num,
        "budget_num": budget_num,
        "weekday": lambda moment: moment.astimezone(zone).strftime("%a"),
        "week_runs": week_runs,
        "rest_words": rest_words,
        "glance_alerts": glance_alerts,
        "alert_groups": alert_groups,
        "clip": clip,
    }


def write_report(view: Overview, settings: Settings, path: Path, *, force: bool = False) -> Path:
    """Render and write the report to ``path`` (private, 0600, atomically:
    :func:`agent.safe_write.write_file`); return the path written. A folder that does not
    exist is an :class:`InputError`; an existing file without ``force``, or a path that is
    not a file, an :class:`agent.safe_write.OutputError` (both exit 2)."""
    target = path.expanduser()
    if not target.parent.is_dir():
        raise InputError(f"-o {path}: folder {target.parent} does not exist")
    check_target(target, force=force)
    return write_file(target, render_html(view, settings).encode("utf-8"), force=force)


def default_file_name(view: Overview, settings: Settings) -> str:
    return f"stridewatch-report-{view.at.astimezone(settings.zone):%Y-%m-%d}.html"
