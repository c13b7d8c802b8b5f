"""Human and JSON views of stored records. Rendering only: no rules, no SQL."""

from __future__ import annotations

from typing import Any

from agent.config import Settings
from agent.models import PainReport, Run
from agent.units import Unit, format_distance, format_duration, format_pace, utc_iso

MISSING = "-"


def duration_text(seconds: float | None) -> str:
    """``36:00``; ``-`` for a time not known (the store reads a missing one as 0: no run with
    a distance takes no time)."""
    return MISSING if seconds is None or seconds <= 0 else format_duration(seconds)


def pace_text(distance_m: float, seconds: float | None, unit: Unit) -> str:
    """``5:30/km``; ``-`` without a distance or a time."""
    return MISSING if seconds is None or seconds <= 0 else format_pace(distance_m, seconds, unit)


def run_json(run: Run) -> dict[str, Any]:
    """The ``runs --json`` object (a contract: id, started_at, distance_km, moving_s,
    elapsed_s and source are always present)."""
    return {
        "id": run.id,
        "started_at": utc_iso(run.started_at),
        "ended_at": utc_iso(run.ended_at) if run.ended_at else None,
        "distance_km": round(run.distance_km, 3),
        "moving_s": round(run.moving_s, 1),
        "elapsed_s": round(run.elapsed_s, 1),
        "source": run.source,
        "rpe": run.rpe,
        "avg_hr": run.avg_hr,
        "note": run.note,
    }


def pain_json(report: PainReport) -> dict[str, Any]:
    return {
        "id": report.id,
        "at": utc_iso(report.at),
        "score": report.score,
        "when": report.when,
        "where": report.where,
        "run_id": report.run_id,
        "note": report.note,
    }


def print_runs(runs: list[Run], settings: Settings, title: str = "Runs") -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not runs:
        console.print(
            "No runs yet. Log one with: stridewatch log-run --distance 5km --duration 30:00"
        )
        return
    table = Table(title=title)
    for name in ("id", "start", "distance", "time", "pace", "source", "note"):
        table.add_column(name, justify="right" if name in ("id", "distance") else "left")
    for run in runs:
        table.add_row(
            str(run.id),
            run.started_at.astimezone(settings.zone).strftime("%a %Y-%m-%d %H:%M"),
            format_distance(run.distance_m, settings.units, 2),
            duration_text(run.moving_s),
            pace_text(run.distance_m, run.moving_s, settings.units),
            run.source,
            run.note or "",
        )
    console.print(table)


def print_pain(reports: list[PainReport], settings: Settings) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not reports:
        console.print("No pain logged. Log it with: stridewatch pain 2 --when after")
        return
    table = Table(title="Pain log")
    for name in ("id", "at", "score", "when", "where", "run", "note"):
        table.add_column(name)
    for report in reports:
        table.add_row(
            str(report.id),
            report.at.astimezone(settings.zone).strftime("%a %Y-%m-%d %H:%M"),
            f"{report.score}/10",
            report.when,
            report.where or "",
            str(report.run_id or ""),
            report.note or "",
        )
    console.print(table)
