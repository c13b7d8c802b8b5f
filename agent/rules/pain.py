"""Pain rules: pain during a run, and pain that has not returned to its pre-run baseline.

Pure: ``(history, settings, now) -> list[Alert]``. A pain alert stays active for
``progression.pain_hold_days`` after the report; while one is active the weekly cap is held at
the baseline (see :mod:`agent.rules.allowance`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from agent.load import History
from agent.models import Alert, PainReport, Run, Severity

if TYPE_CHECKING:
    from agent.config import Settings

DURING = "pain-during"
BASELINE = "pain-baseline"


def evaluate(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Every pain alert active at ``now``."""
    history = history.upto(now)
    return pain_during(history, settings, now) + pain_baseline(history, settings, now)


def active(history: History, settings: Settings, now: datetime) -> bool:
    """Whether a pain rule fired within the hold period before ``now``."""
    return bool(evaluate(history, settings, now))


def _recent(history: History, settings: Settings, now: datetime) -> list[PainReport]:
    since = now - timedelta(days=settings.progression.pain_hold_days)
    return [report for report in history.pain if since < report.at <= now]


def _when(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.zone).strftime("%a %d %b %H:%M")


def pain_during(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Pain during a run above the caution (3/10) or stop (4/10) threshold."""
    alerts = []
    for report in _recent(history, settings, now):
        if report.when == "during" and report.score > settings.pain.during_caution:
            alerts.append(_during_alert(report, settings))
    return alerts


def _during_alert(report: PainReport, settings: Settings) -> Alert:
    caution, stop = settings.pain.during_caution, settings.pain.during_stop
    severity: Severity = "warning" if report.score > stop else "caution"
    said = f"Pain {report.score}/10 during the run on {_when(report.at, settings)}"
    if severity == "warning":
        advice = (
            f"is above the stop threshold of {stop}/10: shorten or stop the run, and keep "
            "the next one no longer than this one until the pain settles"
        )
    else:
        advice = f"is above {caution}/10: ease off, and stop if it passes {stop}/10"
    return Alert(
        rule=DURING,
        severity=severity,
        message=f"{said} {advice} (physiotherapy guidance; Silbernagel et al. 2007).",
        key=f"{DURING}:pain:{report.id}",
        data={
            "pain_id": report.id,
            "score": report.score,
            "at": report.at.isoformat(),
            "caution": caution,
            "stop": stop,
            "run_id": report.run_id,
        },
    )


def pain_baseline(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Pain that has not settled: a late ``after`` or the next ``morning`` score above the
    pre-run baseline. One alert per run."""
    alerts: dict[int, Alert] = {}
    for report in _recent(history, settings, now):
        run = _related_run(report, history, settings)
        if run is None or run.id in alerts:
            continue
        before = pre_run_score(history, run)
        if report.score > before:
            alerts[run.id] = _baseline_alert(report, run, before, settings)
    return list(alerts.values())


def _related_run(report: PainReport, history: History, settings: Settings) -> Run | None:
    """The run a late ``after`` report or the first ``morning`` report after a run is about."""
    if report.when not in ("after", "morning"):
        return None
    ended = [run for run in history.runs if _end(run) <= report.at]
    if report.run_id is not None:
        ended = [run for run in ended if run.id == report.run_id]
    if not ended:
        return None
    run = ended[-1]
    if report.when == "after":
        window = timedelta(hours=settings.pain.return_window_h)
        return run if report.at - _end(run) >= window else None
    earlier_mornings = [
        other
        for other in history.pain
        if other.when == "morning" and _end(run) <= other.at < report.at
    ]
    return None if earlier_mornings else run


def _end(run: Run) -> datetime:
    return run.ended_at or run.started_at + timedelta(seconds=run.elapsed_s)


def pre_run_score(history: History, run: Run) -> int:
    """The latest ``before`` or ``morning`` score before ``run`` started, else 0."""
    scores = [
        report.score
        for report in history.pain
        if report.when in ("before", "morning") and report.at < run.started_at
    ]
    return scores[-1] if scores else 0


def _baseline_alert(report: PainReport, run: Run, before: int, settings: Settings) -> Alert:
    timing = (
        "the morning after"
        if report.when == "morning"
        else f"{settings.pain.return_window_h:g} h or more after"
    )
    message = (
        f"Pain {report.score}/10 on {_when(report.at, settings)}, {timing} the run of "
        f"{_when(run.started_at, settings)}, is above your pre-run {before}/10: do not add "
        "distance until it is back at baseline (physiotherapy guidance; Silbernagel et al. 2007)."
    )
    return Alert(
        rule=BASELINE,
        severity="warning",
        message=message,
        key=f"{BASELINE}:run:{run.id}",
        data={
            "pain_id": report.id,
            "score": report.score,
            "baseline_score": before,
            "at": report.at.isoformat(),
            "when": report.when,
            "run_id": run.id,
            "return_window_h": settings.pain.return_window_h,
        },
    )
