"""Training intensity from heart rate: Karvonen zones, Banister and Edwards TRIMP, session RPE.

Pure arithmetic on numbers; the recorder feeds it one heart-rate sample at a time, and
``stridewatch show`` and the load rules read what it summed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Sex = Literal["female", "male"]

# Karvonen zones: lower bounds at 50/60/70/80/90 % of heart-rate reserve (HRR = max - rest).
# Below 50 % HRR is "no zone" (walking, standing); it counts towards no Edwards TRIMP.
ZONE_FLOORS = (0.5, 0.6, 0.7, 0.8, 0.9)
ZONES = len(ZONE_FLOORS)

# Banister's TRIMP weights the fraction of heart-rate reserve exponentially, with constants
# fitted to the blood-lactate response of women and of men: a * e^(b * HRr), a = 0.86,
# b = 1.67 (female) and a = 0.64, b = 1.92 (male). Banister, "Modeling elite athletic
# performance", in Physiological Testing of Elite Athletes, 1991; Morton, Fitz-Clarke and
# Banister, J Appl Physiol 69:1171-1177, 1990.
BANISTER: dict[Sex, tuple[float, float]] = {"female": (0.86, 1.67), "male": (0.64, 1.92)}


@dataclass(frozen=True, slots=True)
class HeartProfile:
    """The runner's heart: what zones and TRIMP are computed from."""

    max_hr: float
    resting_hr: float
    sex: Sex = "female"

    @property
    def reserve(self) -> float:
        return self.max_hr - self.resting_hr

    def fraction(self, bpm: float) -> float:
        """Fraction of heart-rate reserve, clamped to ``[0, 1]``."""
        return min(1.0, max(0.0, (bpm - self.resting_hr) / self.reserve))

    def zone(self, bpm: float) -> int:
        """Zone 1..5, or 0 below zone 1 (under 50 % HRR)."""
        hrr = (bpm - self.resting_hr) / self.reserve
        zone = 0
        for index, floor in enumerate(ZONE_FLOORS):
            if hrr >= floor:
                zone = index + 1
        return zone

    def zone_bounds(self) -> list[tuple[int, int]]:
        """Each zone's ``(low, high)`` beats/min, for display; zone 5 ends at max HR."""
        lows = [round(self.resting_hr + floor * self.reserve) for floor in ZONE_FLOORS]
        highs = [*(low - 1 for low in lows[1:]), round(self.max_hr)]
        return list(zip(lows, highs, strict=True))

    def banister(self, bpm: float, seconds: float) -> float:
        """Banister TRIMP of ``seconds`` spent at ``bpm``: minutes x HRr x a x e^(b HRr)."""
        a, b = BANISTER[self.sex]
        hrr = self.fraction(bpm)
        return seconds / 60.0 * hrr * a * math.exp(b * hrr)


def edwards_trimp(zone_s: list[float] | tuple[float, ...]) -> float:
    """Edwards' summated-zone TRIMP: minutes in zone k (1..5) times k.

    ``zone_s[0]`` is time below zone 1 and counts nothing. Edwards, The Heart Rate Monitor
    Book, 1993.
    """
    return sum(index * seconds / 60.0 for index, seconds in enumerate(zone_s))


def session_rpe_load(rpe: int | None, moving_s: float) -> float | None:
    """Foster's session-RPE load: RPE (0-10) x minutes; ``None`` without an RPE."""
    if rpe is None:
        return None
    return rpe * moving_s / 60.0
