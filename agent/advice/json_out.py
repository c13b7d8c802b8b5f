"""The JSON the advice commands print, in the one vocabulary README's "JSON output"
table lists: distances in km to the metre (caps, limits and what is left rounded down),
instants with the runner's offset, ``null`` for unknown."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from agent import units
from agent.advice.assess import Assessment, Summary, alerts_about
from agent.advice.what_if import WhatIf
from agent.models import Alert, PainReport, Run
from agent.rules.allowance import Allowance, Limit
from agent.rules.plan import PlanStatus
from agent.units import local_iso

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.store import Store, StoredAlert


def _km(value: float) -> float:
    """A distance done: km to the metre, to the nearest (:func:`agent.units.km_json`)."""
    return round(value, units.KM_DIGITS)


def _maybe(value: float | None) -> float | None:
    return units.km_json(value)


def _budget(value: float | None) -> float | None:
    """A budget the runner reads: rounded down to the metre, None when unknown."""
    return units.budget_json(value)


def _ratio(value: float | None) -> float | None:
    """ACWR, monotony or strain: :func:`agent.units.ratio`, as ``check`` shows it."""
    return None if value is None else units.ratio(value)


def week_json(week: Allowance) -> dict[str, Any]:
    """The ``week`` object of ``check``, ``summary`` and ``what-if --json`` (and each week of
    ``history --json``). Without a baseline, baseline and change are null (unknown), as is
    the change of a week with nothing run in it yet and last week's distance when the
    history begins after it; cap and remaining (null without any run) are budgets: never
    negative and rounded down."""
    return {
        "start": week.week_start.isoformat(),
        "end": (week.week_start + timedelta(days=6)).isoformat(),
        "distance_km": _km(week.distance_km),
        # A held cap is the baseline itself: one number, rounded down as the cap is.
        "baseline_km": _budget(week.baseline_km)
        if _cap_is_baseline(week)
        else _maybe(week.baseline_km),
        "cap_km": _budget(week.cap_km),
        "remaining_km": _budget(week.remaining_km),
        "change_pct": None if week.change is None else units.pct(week.change),
        "held": week.held,
        "last_week_km": _maybe(week.last_week_km),
    }


def _cap_is_baseline(week: Allowance) -> bool:
    """A held cap: the baseline week itself (no growth on it)."""
    return week.baseline_km is not None and week.cap_km == week.baseline_km


def limit_json(limit: Limit) -> dict[str, Any]:
    """One of the limits that make the allowance: ``max_km`` rounded down."""
    return {
        "rule": limit.rule,
        "max_km": units.floor_to(limit.km, 3),
        "reason": limit.reason,
        "source": limit.source,
    }


def allowance_json(found: Allowance) -> dict[str, Any]:
    """The allowance fields shared by check, summary and what-if: ``next_run_max_km`` is
    the smallest ``limits`` ``max_km`` (rounded down), ``binding`` that limit's rule."""
    binding = found.binding
    return {
        "phase": found.phase,
        "week": week_json(found),
        "longest_run_30d_km": _maybe(found.longest_30d_km),
        "next_run_max_km": _budget(found.next_run_max_km),
        "binding": None if binding is None else binding.rule,
        "limits": [limit_json(limit) for limit in found.limits],
    }


def alert_json(alert: Alert, settings: Settings) -> dict[str, Any]:
    """An alert as the rules raise it; ``data`` holds the numbers behind it, per rule, its
    instants with the runner's offset (:func:`data_json`)."""
    return {
        "rule": alert.rule,
        "severity": alert.severity,
        "message": alert.message,
        "key": alert.key,
        "data": data_json(alert.data, settings.zone),
    }


def data_json(data: Mapping[str, Any], zone: tzinfo) -> dict[str, Any]:
    """An alert's ``data`` for ``--json``: its instants (``at``, ``*_at``), kept in UTC by
    the rules and the store, with the runner's UTC offset as every other instant in
    ``--json``; everything else as it is."""
    return {key: _instant(key, value, zone) for key, value in data.items()}


def _instant(key: str, value: Any, zone: tzinfo) -> Any:
    if not (key == "at" or key.endswith("_at")) or not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return value if moment.tzinfo is None else units.local_iso(moment, zone)


def check_json(assessment: Assessment, settings: Settings) -> dict[str, Any]:
    """The ``check --json`` contract (distances in km whatever the display unit). ``summary``
    and ``what-if`` share its names."""
    return {
        "at": units.local_iso(assessment.at, settings.zone),
        **allowance_json(assessment.allowance),
        "load_kind": settings.progression.load,
        "acwr": _ratio(assessment.acwr),
        "monotony": _ratio(assessment.monotony),
        "strain": _ratio(assessment.strain),
        "plan": plan_status_json(assessment.plan),
        "alerts": [alert_json(alert, settings) for alert in assessment.alerts],
    }


def verdict_json(
    store: Store,
    settings: Settings,
    at: datetime,
    *,
    pain_id: int | None = None,
    run_id: int | None = None,
) -> dict[str, Any]:
    """:func:`verdict` for ``log-run --json`` and ``pain --json``: the allowance now, and
    the alerts about what was stored."""
    assessment, about = alerts_about(store, settings, at, pain_id=pain_id, run_id=run_id)
    alerts = [alert_json(alert, settings) for alert in about]
    return {**allowance_json(assessment.allowance), "alerts": alerts}


def summary_json(result: Summary, settings: Settings) -> dict[str, Any]:
    """``check --json`` for the week, with the week's runs and pain reports."""

    zone = settings.zone
    return {
        **check_json(result.assessment, settings),
        "load_kind": result.load,
        "runs": [run_json(run, zone) for run in result.runs],
        "pain": [pain_json(report, zone) for report in result.pain],
    }


def stored_alert_json(alert: StoredAlert, settings: Settings) -> dict[str, Any]:
    zone = settings.zone
    return {
        "id": alert.id,
        "raised_at": units.local_iso(alert.raised_at, zone),
        "rule": alert.rule,
        "severity": alert.severity,
        "message": alert.message,
        "key": alert.key,
        "run_id": alert.run_id,
        "delivered": alert.delivered_at is not None,
        "delivered_at": units.local_iso(alert.delivered_at, zone) if alert.delivered_at else None,
        "data": data_json(alert.data, zone),
    }


def what_if_json(result: WhatIf, settings: Settings) -> dict[str, Any]:
    after, zone = result.after, settings.zone
    found = allowance_json(after.allowance)
    return {
        "at": units.local_iso(after.at, zone),
        "phase": found.pop("phase"),
        "planned": [
            {
                "started_at": units.local_iso(run.started_at, zone),
                "distance_km": _km(run.distance_km),
            }
            for run in result.planned
        ],
        **found,
        "active_alerts": [alert_json(alert, settings) for alert in result.active],
        "alerts": [alert_json(alert, settings) for alert in result.alerts],
    }


def plan_status_json(status: PlanStatus | None) -> dict[str, Any] | None:
    """Where the runner is in the plan (``plan`` in ``check --json``, ``status`` in ``plan
    show --json``): this week's target range (a limit: km rounded down) and what the plan
    does about it."""
    if status is None:
        return None
    target = status.target
    return {
        "id": status.plan.id,
        "week": target.number,
        "week_count": len(status.plan.weeks),
        "week_start": status.week_start.isoformat(),
        "target_low_km": _budget(target.low_km),
        "target_high_km": _budget(target.high_km),
        "rpe": target.rpe,
        "distance_km": _km(status.week_km),
        "status": status.status,
        "reason": status.reason,
    }


def plan_json(status: PlanStatus | None, settings: Settings) -> dict[str, Any] | None:
    """``plan show --json``: the plan week by week, and where the runner is in it. The
    ranges are limits, km rounded down to the metre (the plan keeps them to the micrometre:
    ``3mi`` typed is 4.828032 km); ``usual_km``, the runner's usual runs, to the nearest."""
    if status is None:
        return None
    plan = status.plan
    return {
        "id": plan.id,
        "created_at": units.local_iso(plan.created_at, settings.zone),
        "start_week": plan.start_week.isoformat(),
        "usual_km": [_km(km) for km in plan.usual_km],
        "start_km": [_budget(km) for km in plan.start_km],
        "increase_pct": units.pct(plan.increase),
        "weeks": [
            {
                "week": w.number,
                "low_km": _budget(w.low_km),
                "high_km": _budget(w.high_km),
                "rpe": w.rpe,
            }
            for w in plan.weeks
        ],
        "status": plan_status_json(status),
    }


def run_json(run: Run, zone: tzinfo) -> dict[str, Any]:
    """The ``runs --json`` object (a contract: id, started_at, distance_km, moving_s,
    elapsed_s and source are always present)."""
    return {
        "id": run.id,
        "started_at": local_iso(run.started_at, zone),
        "ended_at": local_iso(run.ended_at, zone) if run.ended_at else None,
        "distance_km": round(run.distance_km, 3),
        "moving_s": round(run.moving_s, 1),
        "elapsed_s": round(run.elapsed_s, 1),
        "source": run.source,
        "rpe": run.rpe,
        "avg_hr": whole(run.avg_hr),
        "note": run.note,
    }


def pain_json(report: PainReport, zone: tzinfo) -> dict[str, Any]:
    return {
        "id": report.id,
        "at": local_iso(report.at, zone),
        "score": report.score,
        "when": report.when,
        "where": report.where,
        "run_id": report.run_id,
        "note": report.note,
    }


def whole(value: float | None) -> int | None:
    """A heart rate or cadence as ``--json`` gives it: a whole number, or null."""
    return None if value is None else round(value)
