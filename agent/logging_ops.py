"""Manual logging: the library side of ``stridewatch log-run``."""

from __future__ import annotations

from datetime import datetime

from agent.errors import InputError
from agent.files.same_run import START_WINDOW_S, same_run
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
    for run in store.runs_starting_near(started_at, START_WINDOW_S):
        span = max(run["elapsed_s"] or 0.0, run["moving_s"] or 0.0)
        if same_run(started_at, duration_s, run["started_at"], span):
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
