"""Plain records shared between the recorder, the store, the load model and the rules.

They carry no behaviour that touches the database or the clock, so the pure layers (load,
rules) can take them from the store, from a test, or from a what-if plan alike; and the
recorder and the store, which know nothing of each other, exchange samples and flushes as
these records (:class:`Flush`, :class:`StoredState`, :data:`SampleRow`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

Source = Literal["manual", "ble", "simulated", "import"]
PainWhen = Literal["before", "during", "after", "morning"]
PainWhere = Literal["knee", "hip", "thigh", "other"]
Severity = Literal["info", "caution", "warning", "danger"]

SEVERITIES: tuple[Severity, ...] = ("info", "caution", "warning", "danger")
# Conversational effort throughout a return-to-run plan (RPE 3-4/10; DESIGN.md).
RETURN_RPE = "3-4"


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


@dataclass(frozen=True, slots=True)
class PlanWeek:
    """One plan week: the range each run should stay within, and the effort."""

    number: int
    low_km: float
    high_km: float
    rpe: str = RETURN_RPE


@dataclass(frozen=True, slots=True)
class Plan:
    """A graded return-to-run plan as stored: the run range of each week (km), built by
    :func:`agent.rules.plan.build_plan`, tracked by :func:`agent.rules.plan.progress`."""

    id: int
    created_at: datetime
    start_week: date
    usual_km: tuple[float, float]
    start_km: tuple[float, float]
    increase: float
    weeks: tuple[PlanWeek, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "start_week": self.start_week.isoformat(),
            "usual_km": list(self.usual_km),
            "start_km": list(self.start_km),
            "increase": self.increase,
            "weeks": [
                {"week": w.number, "low_km": w.low_km, "high_km": w.high_km, "rpe": w.rpe}
                for w in self.weeks
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(
            id=data["id"],
            created_at=datetime.fromisoformat(data["created_at"]),
            start_week=date.fromisoformat(data["start_week"]),
            usual_km=(data["usual_km"][0], data["usual_km"][1]),
            start_km=(data["start_km"][0], data["start_km"][1]),
            increase=data["increase"],
            weeks=tuple(
                PlanWeek(w["week"], w["low_km"], w["high_km"], w["rpe"]) for w in data["weeks"]
            ),
        )


# -- recording <-> store: what the recorder hands over, and what it starts from ----------

# One sample row as the recorder and the importers produce it: (t unix s, distance_m, speed
# m/s, cadence steps/min, hr bpm); the store adds run_id.
SampleRow = tuple[float, float, float | None, float | None, int | None]


@dataclass(frozen=True, slots=True)
class Flush:
    """What one flush writes: a run's row, its new samples, and newly detected devices."""

    key: int
    db_id: int | None
    row: dict[str, Any]
    samples: list[SampleRow]
    closed: bool
    # Footpods found to send cadence per foot (True) or per step after all (False), in order.
    per_foot: tuple[tuple[str, bool], ...] = ()
    discard: bool = False  # a false start: delete whatever was stored of it


@dataclass(frozen=True, slots=True)
class StoredState:
    """What the recorder needs from the database to start: open runs (each with the time of
    its last stored sample), calibrations, footpods known to be per-foot."""

    open_runs: list[tuple[dict[str, Any], float | None]]
    calibrations: dict[str, float]
    per_foot: set[str]
