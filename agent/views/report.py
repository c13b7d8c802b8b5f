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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from agent import __version__, units
from agent.advice.checks import Assessment, assess, load_history
from agent.errors import InputError
from agent.models import Alert, PainReport, Run
from agent.rules import pain as pain_rules
from agent.rules.allowance import BEFORE_LINK, LIMIT_LABELS, allowance
from agent.rules.evaluate import evaluate, rank
from agent.rules.load import History, acwr, day_start, monotony_load, over, week_of
from agent.rules.plan import progress
from agent.rules.progression import WEEKLY
from agent.safe_write import check_target, write_file
from agent.views.overview import Overview, PeriodAlert, PlanRow, RunRow, WeekRow

if TYPE_CHECKING:
    from markupsafe import Markup

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


# -- what the two pages hold (twelve weeks print on two pages, however much was logged) ---

# Page one names the few most serious active alerts, one per rule and per pain report; the
# details count the rest, by rule. Three leave page one room for its chart.
GLANCE_ALERTS = 3
# The pain notes the details quote, the latest first, and how much of each (about a line):
# `stridewatch pain-log` holds them all, whole.
PAIN_NOTES = 5
NOTE_CHARS = 72
# The runs the details list one per row (one 8 pt line each), the latest. Fifteen (three
# weeks of five runs) is what page two of Letter holds, with about two lines to spare, besides
# the alerts, pain notes and sources of twelve crowded weeks (five runs a week, pain every
# day, alerts by the dozen: tests/test_report_print.py); seventeen spill onto a third page.
# `stridewatch runs` lists them all.
RUN_ROWS = 15
WEEKDAY_LETTERS = "MTWTFSS"


def _latest(alert: Alert) -> str:
    """When an alert's condition arose, as its data says, for ordering (ISO text)."""
    return str(alert.data.get("at") or alert.data.get("week_start") or "")


def glance_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    """The active alerts page one says in words: the most serious (the latest of equals),
    one per rule and one per pain report (a pain report above the runner's usual and above
    the caution level is one story), at most :data:`GLANCE_ALERTS`."""
    chosen: list[Alert] = []
    rules: set[str] = set()
    reports: set[object] = set()
    for alert in sorted(alerts, key=lambda alert: (rank(alert), _latest(alert)), reverse=True):
        report = alert.data.get("pain_id")
        if alert.rule in rules or (report is not None and report in reports):
            continue
        chosen.append(alert)
        rules.add(alert.rule)
        reports.add(report)
        if len(chosen) == GLANCE_ALERTS:
            break
    return chosen


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """One rule's alerts in the weeks shown: the most serious (``head``, the latest of
    equals) said in full, the others counted by the week they were raised in."""

    head: PeriodAlert
    others: tuple[PeriodAlert, ...]

    @property
    def active(self) -> int:
        return sum(item.active for item in (self.head, *self.others))

    @property
    def weeks(self) -> list[tuple[date, int]]:
        """(week, how many of the others were raised in it), oldest first."""
        counts: dict[date, int] = {}
        for item in sorted(self.others, key=lambda item: item.week):
            counts[item.week] = counts.get(item.week, 0) + 1
        return list(counts.items())


def alert_groups(alerts: Sequence[PeriodAlert]) -> list[AlertGroup]:
    """The period's alerts, one group per rule, the most serious group first."""
    by_rule: dict[str, list[PeriodAlert]] = {}
    for item in alerts:
        by_rule.setdefault(item.alert.rule, []).append(item)

    def weight(item: PeriodAlert) -> tuple[tuple[int, int], bool, date, str]:
        return rank(item.alert), item.active, item.week, _latest(item.alert)

    groups = []
    for items in by_rule.values():
        items.sort(key=weight, reverse=True)
        groups.append(AlertGroup(items[0], tuple(items[1:])))
    return sorted(groups, key=lambda group: weight(group.head), reverse=True)


def pain_notes(view: Overview) -> tuple[list[PainReport], int]:
    """The pain reports the report quotes, the latest first, at most :data:`PAIN_NOTES`, and
    how many there are: those with a note, or with no runs to chart (``empty_message``)
    every report."""
    quoted = [report for report in view.pain if report.note or view.empty_message]
    return quoted[::-1][:PAIN_NOTES], len(quoted)


def clip(text: str, chars: int = NOTE_CHARS) -> str:
    """``text`` cut at a word before ``chars``, with an ellipsis (about a printed line)."""
    text = " ".join(text.split())
    if len(text) <= chars:
        return text
    return text[: chars - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def rest_words(reason: str) -> tuple[str, str]:
    """A reason to rest as its head word(s) and the rest: ``rest day: the plan asks ...``
    is ``("rest day", "the plan asks ...")``, so "rest" is not said twice; a reason that
    does not start with it (``the plan's 3 runs this week are done: ...``) is the rest."""
    head, colon, tail = reason.partition(": ")
    if colon and head.startswith("rest"):
        return head, tail
    return "rest", reason


def weekday_letters(settings: Settings) -> list[str]:
    """The initials of the week's days from its first (``M T W T F S S``)."""
    return [WEEKDAY_LETTERS[(settings.first_weekday + n) % 7] for n in range(7)]


def latest_runs(view: Overview) -> tuple[list[RunRow], int]:
    """The runs the details list, oldest first: the latest :data:`RUN_ROWS` of the weeks
    shown, and how many earlier runs of those weeks are left out."""
    rows = list(view.run_rows)
    return rows[-RUN_ROWS:], max(0, len(rows) - RUN_ROWS)


def week_runs(rows: Sequence[RunRow], longest: Run | None) -> list[RunRow]:
    """The runs a week's row names: its longest and any other over its limit, in order."""
    return [row for row in rows if row.run == longest or row.over_limit]


# -- alert data in words -------------------------------------------------------------------

# The keys of an alert's ``data`` a reader needs no words for: ids, and the level that orders
# escalations within one severity.
QUIET_KEYS = frozenset({"level", "pain_id", "key"})
PAIN_WHEN = {"before": "before a run", "during": "during a run", "after": "after a run"}
HELD = "held at the baseline while pain settles"
# How far a number in an alert's ``data`` may be from the one its message was written from:
# the rules store km to 3 decimals, percentages to 1, ratios to 3 and means to 2.
KM_EPS = 0.0005
PCT_EPS = 0.05
RATIO_EPS = 0.0005
MEAN_EPS = 0.005


def alert_facts(alert: Alert, settings: Settings) -> list[str]:
    """The numbers behind ``alert`` (its ``data``, distances in km) as short phrases in the
    runner's unit and time zone, in a fixed order: ``["34.0 mi", "cap 15.2 mi, held at the
    baseline while pain settles", "left 0.0 mi"]``. Each number reads as the alert's message
    writes it (:meth:`Said.number`). Unknown values say so; keys without a phrase of their
    own read ``key: value``."""
    said = Said(alert.data, settings, alert.message)
    facts = []
    for key in sorted(alert.data, key=lambda key: (FACT_ORDER.get(key, len(FACT_ORDER)), key)):
        value = alert.data[key]
        if key in QUIET_KEYS or (key == "held" and not value):
            continue
        phrase = FACTS.get(key)
        facts.append(phrase(value, said) if phrase else _plain(key, value))
    return [fact for fact in facts if fact]


def new_facts(alert: Alert, settings: Settings) -> list[str]:
    """:func:`alert_facts` less those whose every number the alert's message already gives
    (the message says "+39% on its 24.5 km baseline week": no "baseline week 24.5 km")."""
    return [
        fact
        for fact in alert_facts(alert, settings)
        if not _told(NUMBER.findall(fact), alert.message)
    ]


# A number as phrases and messages write them: 24.5, 08:20, 5 (of 5/10).
NUMBER = re.compile(r"\d+(?:[.:]\d+)?")


def _told(numbers: Sequence[str], message: str) -> bool:
    """Whether ``message`` gives each of ``numbers`` (none: it does not)."""
    return bool(numbers) and all(_says(message, number) for number in numbers)


def _says(message: str, text: str) -> bool:
    """Whether ``message`` holds ``text`` (``18.2 mi``, ``+77%``, ``1.53``) as a whole number,
    not as part of a longer one (``118.2 mi``, ``1.534``); spaces match any space."""
    pattern = r"\s".join(re.escape(part) for part in text.split())
    return re.search(rf"(?<![\d.:]){pattern}(?![\d]|[.:]\d)", message) is not None


Form: TypeAlias = "Callable[[float], str]"


@dataclass(frozen=True, slots=True)
class Said:
    """What the phrases of one alert's facts read: its ``data``, the settings, and its
    ``message``, whose numbers the phrases write the same way."""

    data: Mapping[str, Any]
    settings: Settings
    message: str

    def number(self, value: float, form: Form, eps: float, *others: Form) -> str:
        """``value`` written by ``form``, as the message writes it.

        The message was written from the exact value, ``data`` holds it rounded (to within
        ``eps``): where the two fall either side of a rounding step (``data`` 76.5 % for a
        message's +77 %), the neighbour the message gives is the one written. ``others``
        are the forms a message may use instead (a limit to the nearest 0.1 where the rule
        for limits is down): used only when the message gives the number in one of them."""
        for way in (form, *others):
            candidates = dict.fromkeys(way(value + step) for step in (0.0, -eps, eps))
            for text in candidates:
                if _says(self.message, text):
                    return text
        return form(value)

    def distance(self, km: float, *, budget: bool = False) -> str:
        """A distance held in km in the runner's unit: one run or week done to the nearest
        0.1, a budget (cap, limit, what is left) rounded down, as the messages write them."""
        unit = self.settings.units

        def done(km: float) -> str:
            return units.format_km(km, unit)

        def down(km: float) -> str:
            return units.format_budget(km, unit)

        first, other = (down, done) if budget else (done, down)
        return self.number(km, first, KM_EPS, other)


def _plain(key: str, value: Any) -> str:
    shown = "not known" if value is None else value
    return f"{key.replace('_', ' ')}: {shown}"


FactPhrase: TypeAlias = "Callable[[Any, Said], str]"


def _fact_km(label: str, budget: bool = False) -> FactPhrase:
    """A phrase for a distance in km: ``"{label} 15.2 mi"`` (rounded down for a budget)."""

    def phrase(value: Any, said: Said) -> str:
        if value is None:
            return f"{label} not known yet".strip()
        return f"{label} {said.distance(value, budget=budget)}".strip()

    return phrase


def _fact_ratio(template: str, digits: int = 2) -> FactPhrase:
    """A phrase for a ratio or mean: ``template`` holding ``{}`` for the number."""

    def phrase(value: Any, said: Said) -> str:
        eps = MEAN_EPS if digits == 1 else RATIO_EPS
        return template.format(said.number(value, lambda v: f"{v:.{digits}f}", eps))

    return phrase


def _fact_change(value: Any, said: Said) -> str:
    if value is None:
        return ""

    def one_decimal(v: float) -> str:
        return units.format_pct(v / 100)

    def whole(v: float) -> str:
        return f"{v:+.0f}%"

    return said.number(value, one_decimal, PCT_EPS, whole) + " on the baseline week"


def _fact_when(value: Any, said: Said) -> str:
    moment = datetime.fromisoformat(value).astimezone(said.settings.zone)
    return moment.strftime("%a %d %b %H:%M")


def _fact_load(value: Any, said: Said) -> str:
    """A daily load of the acute:chronic rule: a distance for the distance load."""
    if said.data.get("load") == "distance":
        return said.distance(value) + " a day"
    return said.number(value, lambda v: f"{v:.1f}", RATIO_EPS) + " a day"


def _fact_limit(value: Any, said: Said) -> str:
    if isinstance(value, str) and said.data.get("limit_km") == 0:
        return "limit: rest"  # the label ("no longer than the run that hurt") would not be
    if isinstance(value, str):
        return f"limit set by {LIMIT_LABELS.get(value, value)}"
    return f"caution above {value:g}"


def _fact_usual(value: Any, said: Said) -> str:
    return "usual pain not known yet" if value is None else f"usual pain {value:g}/10"


def _fact_cap(value: Any, said: Said) -> str:
    held = f", {HELD}" if said.data.get("held") else ""
    return _fact_km("cap", budget=True)(value, said) + held


FACTS: dict[str, FactPhrase] = {
    "week_start": lambda v, a: f"week of {date.fromisoformat(v):%a %d %b}",
    "run_id": lambda v, a: "" if v is None else f"run {v}",
    "distance_km": _fact_km(""),
    "change_pct": _fact_change,
    "baseline_km": _fact_km("baseline week"),
    "cap_km": _fact_cap,
    "held": lambda v, a: "" if "cap_km" in a.data else f"cap {HELD}",
    "remaining_km": _fact_km("left", budget=True),
    "usual_run_km": _fact_km("usual run"),
    "largest_run_km": _fact_km("largest run that fits", budget=True),
    "longest_30d_km": _fact_km("longest of the 30 days before"),
    "ratio": _fact_ratio("{}x that longest run"),
    "limit": _fact_limit,
    "limit_km": _fact_km("limit", budget=True),
    "target_high_km": _fact_km("plan range up to", budget=True),
    "plan_week": lambda v, a: f"plan week {v}",
    "rpe": lambda v, a: "RPE not logged" if v is None else f"RPE {v}/10",
    "score": lambda v, a: f"pain {v}/10",
    "when": lambda v, a: PAIN_WHEN.get(v, f"in the {v}"),
    "at": _fact_when,
    "caution": lambda v, a: f"caution above {v}/10",
    "stop": lambda v, a: f"stop above {v}/10",
    "severe": lambda v, a: f"severe from {v}/10",
    "usual_pain": _fact_usual,
    "baseline_score": _fact_usual,
    "return_window_h": lambda v, a: f"to settle within {v:g} h",
    "settled_at": lambda v, a: "settled " + _fact_when(v, a),
    "mornings": lambda v, a: "mornings " + ", ".join(f"{n}/10" for n in v),
    "week_mean": _fact_ratio("mean {}/10 this week", digits=1),
    "last_week_mean": _fact_ratio("{}/10 the week before", digits=1),
    "acwr": _fact_ratio("ratio {}"),
    "acute": lambda v, a: "7-day load " + _fact_load(v, a),
    "chronic": lambda v, a: "28-day load " + _fact_load(v, a),
    "monotony": _fact_ratio("monotony {}"),
    "strain": lambda v, a: "strain " + a.number(v, lambda v: f"{v:.0f}", RATIO_EPS),
    "load": lambda v, a: f"load counted as {v}",
}
# The order phrases are read in: what it is about, then the numbers, then the thresholds.
FACT_ORDER = {key: n for n, key in enumerate(FACTS)}


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
