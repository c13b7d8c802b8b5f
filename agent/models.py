"""Plain records shared between the store, the load model and the rules.

They carry no behaviour that touches the database or the clock, so the pure layers (load,
rules) can take them from the store, from a test, or from a what-if plan alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Source = Literal["manual", "ble", "simulated", "import"]
PainWhen = Literal["before", "during", "after", "morning"]
PainWhere = Literal["knee", "hip", "thigh", "other"]
Severity = Literal["info", "caution", "warning", "danger"]

SEVERITIES: tuple[Severity, ...] = ("info", "caution", "warning", "danger")


@dataclass(frozen=True, slots=True)
class Run:
    """One run as the rules see it: totals only, never samples."""

    id: int
    started_at: datetime
    distance_m: float
    moving_s: float
    elapsed_s: float
    source: Source
    ended_at: datetime | None = None
    rpe: int | None = None
    avg_hr: float | None = None
    trimp: float | None = None
    note: str | None = None
    avg_cadence: float | None = None  # steps/min

    @property
    def distance_km(self) -> float:
        return self.distance_m / 1000.0


@dataclass(frozen=True, slots=True)
class PainReport:
    """A pain score (0-10) the runner logged, with when in relation to running."""

    id: int
    at: datetime
    score: int
    when: PainWhen
    where: PainWhere | None = None
    run_id: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class DeclaredLevel:
    """A starting level the runner declared (``stridewatch baseline set``), in km: used as
    the baseline week and the longest run until the runner's own history covers a warm-up."""

    set_at: datetime
    week_km: float
    long_km: float


@dataclass(frozen=True, slots=True)
class Alert:
    """What a rule says: always with the numbers behind it and a stable key."""

    rule: str
    severity: Severity
    message: str
    key: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "data": self.data,
            "key": self.key,
        }


def severity_rank(severity: Severity) -> int:
    """``info < caution < warning < danger`` as 0..3."""
    return SEVERITIES.index(severity)
