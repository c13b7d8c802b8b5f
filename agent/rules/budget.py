"""Budgets: what the runner may still run this week, and in the next run, before a rule fires.

Pure. The week's cap is the baseline x (1 + ``progression.weekly_warn``), held at the baseline
while a pain alert is active; the next run's limit is ``progression.spike_warn`` x the longest
run of the past 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from agent.load import History, longest_run_km, week_load
from agent.rules import pain

if TYPE_CHECKING:
    from agent.config import Settings


@dataclass(frozen=True, slots=True)
class Budget:
    """The week's numbers at one instant (km). Without a baseline there is no cap."""

    week_start: date
    distance_km: float
    last_week_km: float
    baseline_km: float | None
    cap_km: float | None
    held: bool
    longest_30d_km: float | None
    next_run_max_km: float | None

    @property
    def remaining_km(self) -> float | None:
        """What is left of the cap; never negative (0 once over)."""
        if self.cap_km is None:
            return None
        return max(0.0, self.cap_km - self.distance_km)

    @property
    def change(self) -> float | None:
        """The week's distance against the baseline, as a fraction (0.08 = +8 %)."""
        if not self.baseline_km:
            return None
        return self.distance_km / self.baseline_km - 1


def budget(history: History, settings: Settings, now: datetime) -> Budget:
    """The budgets at ``now``, from the history up to ``now``."""
    history = history.upto(now)
    week = week_load(history, settings, now)
    held = pain.active(history, settings, now)
    cap = None
    if week.baseline_km is not None:
        growth = 0.0 if held else settings.progression.weekly_warn
        cap = week.baseline_km * (1 + growth)
    longest = longest_run_km(history.runs, now)
    return Budget(
        week_start=week.start,
        distance_km=week.distance_km,
        last_week_km=week.last_week_km,
        baseline_km=week.baseline_km,
        cap_km=cap,
        held=held,
        longest_30d_km=longest,
        next_run_max_km=None if longest is None else longest * settings.progression.spike_warn,
    )
