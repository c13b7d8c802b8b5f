"""``plan return``: a graded return built from the runner's usual run and the history's
limits, and where the plan stands now."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from agent import units
from agent.advice.assess import RUN_LIMITS, load_history
from agent.errors import InputError
from agent.rules.allowance import allowance
from agent.rules.load import week_of
from agent.rules.plan import DEFAULT_START_KM, Plan, PlanStatus, build_plan, progress

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.store import Store


# A usual run above this is a typo, not a run to return to (a 100 km ultra is the far end).
MAX_USUAL_RUN_KM = 100.0
# Below this a usual run is a typo too (``0.1km``): a plan of such runs, below the smallest
# run the allowance ever suggests (progression's ``min_run_km``, if larger), plans nothing.
MIN_USUAL_RUN_KM = 1.0


_RANGE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([a-z]*)\s*(?:-\s*(\d+(?:\.\d*)?)\s*([a-z]*))?\s*$")


def parse_range(text: str, option: str, default_unit: units.Unit) -> tuple[float, float]:
    """``6-8mi``, ``6mi-8mi``, ``10-13km`` or ``7mi``: a distance range in km."""
    match = _RANGE.match(text.lower())
    if match is None:
        raise InputError(f"{option} {text!r}: expected a range such as 6-8mi or 10-13km")
    low, low_unit, high, high_unit = match.groups()
    unit = high_unit or low_unit or default_unit
    first = units.parse_distance(f"{low}{low_unit or unit}", default_unit) / 1000
    second = units.parse_distance(f"{high}{unit}", default_unit) / 1000 if high else first
    if second < first:
        raise InputError(f"{option} {text!r}: the range must go from low to high")
    return round(first, 6), round(second, 6)


def start_plan(
    store: Store,
    settings: Settings,
    at: datetime,
    *,
    usual_km: tuple[float, float],
    start_km: tuple[float, float] | None,
    weeks: int | None,
) -> Plan:
    """Build a plan starting in ``at``'s week, store it as the active plan, return it.

    The first week never allows more than the history does now: a given ``--start`` above
    the runner's current run limit is refused, and the default 2-3 mile start is lowered to
    it (after a long break the return limit may be below 3 miles)."""
    if weeks is not None and not 1 <= weeks <= 52:
        raise InputError(f"--weeks {weeks}: must be from 1 to 52")
    if usual_km[1] > MAX_USUAL_RUN_KM:
        raise InputError(
            f"--usual {units.format_km(usual_km[1], settings.units)}: longer than any usual "
            f"run ({units.format_km(MAX_USUAL_RUN_KM, settings.units)} at most)"
        )
    smallest = max(MIN_USUAL_RUN_KM, settings.progression.min_run_km)
    if usual_km[0] < smallest - 1e-9:
        raise InputError(
            f"--usual {units.format_km(usual_km[0], settings.units)}: shorter than any usual "
            f"run ({units.format_km(smallest, settings.units)} at least)"
        )
    limit = _run_limit_now(store, settings, at)
    if start_km is not None and limit is not None and start_km[1] > limit + 1e-6:
        shown = units.format_budget(limit, settings.units)
        raise InputError(
            f"--start: the first week's runs would be longer than your next run may be now "
            f"({shown}); start at {shown} or less"
        )
    if start_km is None and limit is not None and limit < DEFAULT_START_KM[1]:
        # Keep the 2-3 mile shape (low at two thirds of high) below the current limit.
        low, high = DEFAULT_START_KM
        top = min(limit, usual_km[1])
        start_km = (min(low * top / high, usual_km[0]), top)
    plan = build_plan(
        usual_km, start_km=start_km, weeks=weeks, start_week=week_of(at, settings), created_at=at
    )
    plan_id = store.add_plan(plan.as_json(), created_at=at)
    return Plan.from_json({**plan.as_json(), "id": plan_id})


def _run_limit_now(store: Store, settings: Settings, at: datetime) -> float | None:
    """The smallest run limit at ``at`` without any plan (single-run, return, pain, start)."""
    history = replace(load_history(store, settings, at), plan=None)
    found = allowance(history, settings, at)
    kms = [limit.km for limit in found.limits if limit.rule in RUN_LIMITS and limit.km > 0]
    return min(kms) if kms else None


def plan_status(store: Store, settings: Settings, at: datetime) -> PlanStatus | None:
    history = load_history(store, settings, at)
    return progress(history.plan, history, settings, at) if history.plan else None
