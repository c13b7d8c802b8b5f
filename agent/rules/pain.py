"""Pain rules: a pain-monitoring model over every report (Silbernagel et al. 2007).

Pure: ``(history, settings, now) -> list[Alert]``. Four checks, each with its numbers:

- **Levels**, on any report: above the caution level a ``caution``, above the stop level a
  ``warning``, at or above ``pain.severe`` (7) a ``danger``. Each timing has its own levels
  (``pain.during_*``, ``before_*``, ``after_*``, ``morning_*``).
- **Settling**: an ``after`` report ``pain.return_window_h`` or more after a run, or the next
  morning's report, still above the runner's usual pain is a ``warning``. Only a run that
  ended within the last 36 h is linked.
- **Trend**: morning pain above the usual on 2 of the last 3 mornings, or this week's mean
  pain 2 or more above last week's, is a ``warning`` (pain must not rise week to week).
- **Usual pain** (the baseline) is the median of ``before``/``morning`` reports over the
  last ``pain.baseline_days``, or of the period before that if lower (so lingering pain does
  not become the new normal within two weeks). With no such report it is unknown: the levels
  still apply, nothing is ever "above your 0/10".

A ``warning`` or ``danger`` holds the allowance (the week's cap at the baseline week, the next
run no longer than the run that hurt) for ``progression.pain_hold_days`` after its report, or
until a later morning report is back at the usual pain, whichever is first; a settled alert
stays as a ``caution`` that says so. See :mod:`agent.rules.allowance`.

Over 400 lines: the checks share one model's thresholds, usual level and wording, and a
physiotherapist checks them against the model in one place.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.models import Alert, PainReport, Run, Severity
from agent.rules.load import History, local_date, week_of

if TYPE_CHECKING:
    from agent.config import Settings

DURING = "pain-during"
LEVEL = "pain-level"
BASELINE = "pain-baseline"
TREND = "pain-trend"
SOURCE = "physiotherapy guidance; Silbernagel et al. 2007"
# A report is about a run that ended at most this long before it (the next morning at most).
LINK_WINDOW = timedelta(hours=36)
# With no usual pain known, only a pain-free morning has settled.
SETTLED_UNKNOWN = 0
# Trend: 2 of the last 3 mornings above the usual; or a week's mean up by 2 or more.
TREND_MORNINGS, TREND_ABOVE, TREND_WEEK_RISE = 3, 2, 2.0
# A week's mean says something only over a few reports.
TREND_WEEK_REPORTS = 3
HOLDING: tuple[Severity, ...] = ("warning", "danger")
STOP_ADVICE = {
    "during": (
        "shorten or stop the run, and keep the next one no longer than this one until the "
        "pain settles"
    ),
    "before": "skip or shorten today's run, and add no distance until the pain settles",
    "after": "add no distance, and keep the next run no longer than this one until it settles",
    "morning": "keep the next run short and easy, and add no distance until it settles",
}


def evaluate(
    history: History, settings: Settings, now: datetime, *, release: bool = True
) -> list[Alert]:
    """Every pain alert active at ``now``: levels, settling and trend, with settled ones
    released to a caution (``release=False``: as raised, for the plan's weekly review)."""
    history = history.upto(now)
    found = [
        *levels(history, settings, now),
        *settling(history, settings, now),
        *trend(history, settings, now),
    ]
    if not release:
        return found
    return [_release(alert, history, settings) for alert in found]


def active(history: History, settings: Settings, now: datetime) -> bool:
    """Whether a pain ``warning`` or ``danger`` holds the load at ``now``."""
    return any(alert.severity in HOLDING for alert in evaluate(history, settings, now))


def usual_pain(history: History, settings: Settings, at: datetime) -> float | None:
    """The runner's usual pain just before ``at``: the median of ``before``/``morning``
    reports over the last ``pain.baseline_days``, or over the period before it if that is
    lower; None when there is no such report (unknown, never 0)."""
    span = timedelta(days=settings.pain.baseline_days)
    recent, prior = [], []
    for report in history.pain:
        if report.when not in ("before", "morning") or report.at >= at:
            continue
        if at - span <= report.at:
            recent.append(report.score)
        elif at - 2 * span <= report.at:
            prior.append(report.score)
    medians = [statistics.median(scores) for scores in (recent, prior) if scores]
    return min(medians) if medians else None


def above_usual(score: int, usual: float | None, settings: Settings) -> bool:
    """Whether a score is above the usual pain by more than ``pain.margin`` (False when
    the usual pain is unknown)."""
    return usual is not None and score > usual + settings.pain.margin


def _recent(history: History, settings: Settings, now: datetime) -> list[PainReport]:
    since = now - timedelta(days=settings.progression.pain_hold_days)
    return [report for report in history.pain if since < report.at <= now]


def _when(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.zone).strftime("%a %d %b %H:%M")


def _score(value: float) -> str:
    return f"{value:g}/10"


# -- levels --------------------------------------------------------------------------------


def thresholds(report: PainReport, settings: Settings) -> tuple[int, int]:
    """(caution, stop) levels for the report's timing."""
    p = settings.pain
    return {
        "during": (p.during_caution, p.during_stop),
        "before": (p.before_caution, p.before_stop),
        "after": (p.after_caution, p.after_stop),
        "morning": (p.morning_caution, p.morning_stop),
    }[report.when]


def levels(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Any report above its caution or stop level, or at the severe level."""
    return [
        alert
        for report in _recent(history, settings, now)
        if (alert := _level_alert(report, history, settings)) is not None
    ]


def pain_during(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """The level alerts of ``during`` reports alone."""
    return [alert for alert in levels(history, settings, now) if alert.rule == DURING]


def _level_alert(report: PainReport, history: History, settings: Settings) -> Alert | None:
    caution, stop = thresholds(report, settings)
    severe = settings.pain.severe
    if report.score >= severe:
        severity: Severity = "danger"
        advice = (
            f"at or above {severe}/10: stop running and see a physiotherapist or doctor "
            "before the next run"
        )
    elif report.score > stop:
        severity = "warning"
        advice = f"above the stop level of {stop}/10: {STOP_ADVICE[report.when]}"
    elif report.score > caution:
        severity = "caution"
        advice = f"above {caution}/10: ease off, and stop if it passes {stop}/10"
    else:
        return None
    rule = DURING if report.when == "during" else LEVEL
    usual = usual_pain(history, settings, report.at)
    ask = "" if usual is not None else _ask_for_baseline()
    what = {
        "during": "during the run",
        "before": "before a run",
        "after": "after a run",
        "morning": "in the morning",
    }[report.when]
    return Alert(
        rule=rule,
        severity=severity,
        message=(
            f"Pain {report.score}/10 {what} on {_when(report.at, settings)} is {advice} "
            f"({SOURCE}).{ask}"
        ),
        key=f"{rule}:pain:{report.id}",
        data={
            "pain_id": report.id,
            "score": report.score,
            "when": report.when,
            "at": report.at.isoformat(),
            "caution": caution,
            "stop": stop,
            "severe": severe,
            "usual_pain": usual,
            "run_id": report.run_id,
        },
    )


def _ask_for_baseline() -> str:
    return (
        " Your usual pain is not known yet: log a score before a run or in the morning "
        "(stridewatch pain N --when morning)."
    )


# -- settling ------------------------------------------------------------------------------


def settling(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Pain not back at the usual level: a late ``after`` report, or the next morning's.
    One alert per run; nothing without a known usual pain."""
    alerts: dict[int, Alert] = {}
    for report in _recent(history, settings, now):
        run = related_run(report, history, settings)
        if run is None or run.id in alerts:
            continue
        usual = usual_pain(history, settings, run.started_at)
        if above_usual(report.score, usual, settings):
            alerts[run.id] = _settling_alert(report, run, usual or 0.0, settings)
    return list(alerts.values())


def pain_baseline(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """The settling alerts (the rule is named ``pain-baseline``)."""
    return settling(history, settings, now)


def related_run(report: PainReport, history: History, settings: Settings) -> Run | None:
    """The run a late ``after`` report, or the first ``morning`` report on a later day, is
    about: the last run that ended before it, at most 36 h before (or the one it names)."""
    if report.when not in ("after", "morning"):
        return None
    earliest = report.at - LINK_WINDOW
    ended = [run for run in history.runs if earliest <= _end(run) <= report.at]
    if report.run_id is not None:
        ended = [run for run in ended if run.id == report.run_id]
    if not ended:
        return None
    run = ended[-1]
    if report.when == "after":
        window = timedelta(hours=settings.pain.return_window_h)
        return run if report.at - _end(run) >= window else None
    zone = settings.zone
    if local_date(report.at, zone) <= local_date(_end(run), zone):
        return None  # a "morning" report the same day is not the morning after
    earlier = [
        other
        for other in history.pain
        if other.when == "morning"
        and _end(run) <= other.at < report.at
        and local_date(other.at, zone) > local_date(_end(run), zone)
    ]
    return None if earlier else run


def _end(run: Run) -> datetime:
    return run.ended_at or run.started_at + timedelta(seconds=run.elapsed_s)


def _gap_words(report: PainReport, run: Run, settings: Settings) -> str:
    if report.when == "morning":
        return "the morning after"
    hours = (report.at - _end(run)) / timedelta(hours=1)
    return f"{hours:.0f} h after"


def _settling_alert(report: PainReport, run: Run, usual: float, settings: Settings) -> Alert:
    message = (
        f"Pain {report.score}/10 on {_when(report.at, settings)}, "
        f"{_gap_words(report, run, settings)} the run of {_when(run.started_at, settings)}, is "
        f"above your usual {_score(usual)}: pain should settle within "
        f"{settings.pain.return_window_h:g} h and by the next morning; do not add distance "
        f"until it does ({SOURCE})."
    )
    return Alert(
        rule=BASELINE,
        severity="warning",
        message=message,
        key=f"{BASELINE}:run:{run.id}",
        data={
            "pain_id": report.id,
            "score": report.score,
            "baseline_score": usual,
            "at": report.at.isoformat(),
            "when": report.when,
            "run_id": run.id,
            "return_window_h": settings.pain.return_window_h,
        },
    )


# -- trend ---------------------------------------------------------------------------------


def trend(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Rising pain: mornings above the usual, or a week's mean above the last week's."""
    found = _morning_trend(history, settings, now) or _weekly_trend(history, settings, now)
    return [found] if found is not None else []


def _morning_trend(history: History, settings: Settings, now: datetime) -> Alert | None:
    since = now - timedelta(days=7)
    mornings = [r for r in history.pain if r.when == "morning" and since < r.at <= now]
    last = mornings[-TREND_MORNINGS:]
    above = []
    for report in last:
        usual = usual_pain(history, settings, report.at)
        if above_usual(report.score, usual, settings):
            above.append((report, usual or 0.0))
    if len(above) < TREND_ABOVE or last[-1] is not above[-1][0]:
        return None  # not rising, or the latest morning is back at the usual pain
    latest, usual = above[-1]
    scores = ", ".join(str(r.score) for r in last)
    message = (
        f"Morning pain is rising: {len(above)} of your last {len(last)} mornings ({scores}) "
        f"were above your usual {_score(usual)}: hold the load until mornings are back at "
        f"your usual ({SOURCE})."
    )
    return Alert(
        rule=TREND,
        severity="warning",
        message=message,
        key=f"{TREND}:{week_of(now, settings).isoformat()}",
        data={
            "at": latest.at.isoformat(),
            "score": latest.score,
            "mornings": [r.score for r in last],
            "usual_pain": usual,
            "level": 1,
        },
    )


def _weekly_trend(history: History, settings: Settings, now: datetime) -> Alert | None:
    this_week = week_of(now, settings)
    by_week: dict[date, list[PainReport]] = {}
    for report in history.pain:
        week = week_of(report.at, settings)
        if week >= this_week - timedelta(weeks=1):
            by_week.setdefault(week, []).append(report)
    now_reports = by_week.get(this_week, [])
    last_reports = by_week.get(this_week - timedelta(weeks=1), [])
    if min(len(now_reports), len(last_reports)) < TREND_WEEK_REPORTS:
        return None
    now_mean = statistics.fmean(r.score for r in now_reports)
    last_mean = statistics.fmean(r.score for r in last_reports)
    if now_mean - last_mean < TREND_WEEK_RISE:
        return None
    message = (
        f"Pain is rising week to week: a mean of {now_mean:.1f}/10 this week against "
        f"{last_mean:.1f}/10 last week: hold the load until it comes down ({SOURCE})."
    )
    return Alert(
        rule=TREND,
        severity="warning",
        message=message,
        key=f"{TREND}:{this_week.isoformat()}",
        data={
            "at": now_reports[-1].at.isoformat(),
            "score": now_reports[-1].score,
            "week_mean": round(now_mean, 2),
            "last_week_mean": round(last_mean, 2),
            "level": 2,
        },
    )


# -- flare weeks ---------------------------------------------------------------------------

# Flare weeks matter to the baseline weeks only: the 5 weeks before a week are enough.
FLARE_LOOKBACK = timedelta(weeks=6)


def flare_weeks(history: History, settings: Settings, now: datetime) -> frozenset[date]:
    """Weeks (their first day) in which a pain report raised a warning or danger, before any
    release: such a week is a flare, never a recovery week."""
    found = set()
    for report in history.pain:
        if now - FLARE_LOOKBACK <= report.at <= now and _holds(report, history, settings):
            found.add(week_of(report.at, settings))
    return frozenset(found)


def _holds(report: PainReport, history: History, settings: Settings) -> bool:
    alert = _level_alert(report, history, settings)
    if alert is not None and alert.severity in HOLDING:
        return True
    run = related_run(report, history, settings)
    if run is None:
        return False
    return above_usual(report.score, usual_pain(history, settings, run.started_at), settings)


# -- hold and release ----------------------------------------------------------------------


def _release(alert: Alert, history: History, settings: Settings) -> Alert:
    """A holding alert whose pain is back at the usual level on a later morning is kept as
    a ``caution`` that says so, and holds nothing any more."""
    if alert.rule == TREND or alert.severity != "warning":
        return alert  # a danger (severe pain) holds for the whole hold period
    at = datetime.fromisoformat(alert.data["at"])
    usual = usual_pain(history, settings, at)
    settled_at = usual + settings.pain.margin if usual is not None else SETTLED_UNKNOWN
    zone = settings.zone
    for report in history.pain:
        if (
            report.when == "morning"
            and report.at > at
            and local_date(report.at, zone) > local_date(at, zone)
            and report.score <= settled_at
        ):
            return _settled(alert, report, settings)
    return alert


def _settled(alert: Alert, report: PainReport, settings: Settings) -> Alert:
    data: dict[str, Any] = {**alert.data, "settled_at": report.at.isoformat()}
    message = (
        f"{alert.message} It settled: {report.score}/10 on the morning of "
        f"{report.at.astimezone(settings.zone):%a %d %b}."
    )
    return Alert(alert.rule, "caution", message, alert.key, data)
