"""Context, never a verdict alone: the acute:chronic workload ratio (Williams et al. 2017;
Gabbett 2016; criticised by Impellizzeri et al. 2020, so at most a caution) and training
monotony (Foster 1998)."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

from agent import units
from agent.models import Alert
from agent.rules.allowance import allowance
from agent.rules.load import (
    CHRONIC_DAYS,
    History,
    ewma_loads,
    monotony_load,
    monotony_strain,
    week_of,
)
from agent.units import (
    format_ratio,
)

if TYPE_CHECKING:
    from agent.config import Settings

ACWR = "acwr"
MONOTONY = "monotony"


def acwr(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Acute:chronic ratio above 1.5: a caution, never more (Impellizzeri et al. 2020).
    Not during a return after a break or a return plan: the chronic load is near zero then,
    so every restart run would flag, and the return limits already bound it."""
    loads = ewma_loads(history, settings, now)
    if loads is None or loads[1] <= 0:
        return []
    if _rebuilding(history, settings, now) or allowance(history, settings, now).phase in (
        "return",
        "plan",
    ):
        return []
    acute, chronic = loads
    ratio, limit = acute / chronic, settings.progression.acwr_caution
    if ratio <= limit:
        return []
    message = (
        f"Your acute:chronic load ratio is {format_ratio(ratio)}, above {limit:g}: context only, "
        "so ease the next few days rather than stop (Williams et al. 2017; Gabbett 2016)."
    )
    return [
        Alert(
            rule=ACWR,
            severity="caution",
            message=message,
            key=f"{ACWR}:{week_of(now, settings).isoformat()}",
            data={
                "acwr": units.ratio(ratio),
                "acute": round(acute, 3),
                "chronic": round(chronic, 3),
                "limit": limit,
                "load": settings.progression.load,
            },
        )
    ]


def _rebuilding(history: History, settings: Settings, now: datetime) -> bool:
    """A restart after a break within the chronic window (28 days): the chronic load is
    still rebuilding, so the ratio says nothing about risk yet."""
    gap = timedelta(days=settings.progression.break_days)
    since = now - timedelta(days=CHRONIC_DAYS)
    runs = history.runs
    return any(
        since < later.started_at <= now and later.started_at - earlier.started_at >= gap
        for earlier, later in pairwise(runs)
    )


def monotony(history: History, settings: Settings, now: datetime) -> list[Alert]:
    """Foster's monotony over the past 7 days above 2.0: a caution."""
    value, strain = monotony_strain(history, settings, now)
    limit = settings.progression.monotony_caution
    if value is None or strain is None or value <= limit:
        return []
    message = (
        f"Your training monotony over the past 7 days is {format_ratio(value)} (mean daily load / "
        "SD), "
        f"above {limit:g}: vary the days with easier and rest days (Foster 1998)."
    )
    return [
        Alert(
            rule=MONOTONY,
            severity="caution",
            message=message,
            key=f"{MONOTONY}:{week_of(now, settings).isoformat()}",
            data={
                "monotony": units.ratio(value),
                "strain": units.ratio(strain),
                "limit": limit,
                "load": monotony_load(settings),
            },
        )
    ]
