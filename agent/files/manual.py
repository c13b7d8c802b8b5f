"""Manual logging: the library side of ``stridewatch log-run``."""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.errors import InputError
from agent.files.same_run import Record, same_run
from agent.store import Store


def log_run(
    store: Store,
    *,
    started_at: datetime,
    distance_m: float,
    duration_s: float,
    rpe: int | None = None,
    avg_hr: int | None = None,
    note: str | None = None,
) -> int:
    """Store a manually logged run unless it is already there (the same run overlaps it in
    time, :mod:`agent.files.same_run`: logged twice, or imported from a watch); return its id.
    Refusing the second keeps the weekly totals honest."""
    from agent.files.importer import stored_record

    logged = Record(started_at, duration_s, distance_m, duration_s, "manual")
    for run in store.runs_overlapping(started_at, started_at + timedelta(seconds=duration_s)):
        if same_run(logged, stored_record(run)):
            raise InputError(f"this run is already stored as run {run['id']}; nothing was added")
    return store.add_run(
        started_at=started_at,
        distance_m=distance_m,
        moving_s=duration_s,
        elapsed_s=duration_s,
        source="manual",
        rpe=rpe,
        avg_hr=avg_hr,
        note=note,
    )
