"""Manual logging: the library side of ``stridewatch log-run``."""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.errors import InputError
from agent.store import Store

# Two entries with the same start (within a minute) and distance (within 1 %) are the same
# run logged twice: refusing the second keeps the weekly totals honest.
DUPLICATE_WINDOW = timedelta(minutes=1)
DUPLICATE_DISTANCE = 0.01


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
    """Store a manually logged run unless it is already there; return its id."""
    for run in store.runs(since=started_at - DUPLICATE_WINDOW, until=started_at + DUPLICATE_WINDOW):
        if abs(run.distance_m - distance_m) <= DUPLICATE_DISTANCE * distance_m:
            raise InputError(f"this run is already stored as run {run.id}; nothing was added")
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
