"""``stridewatch show``: one run's totals, splits, zones and load, for people and for JSON.

Splits are computed from the stored samples (the recorder's cumulative distance and clock
times); runs logged by hand have totals only. Any total or sample value may be missing (an
imported file without cadence, a strap that dropped out): it shows as ``-``, and as null in
JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from agent.config import Settings
from agent.intensity import HeartProfile, session_rpe_load
from agent.store import SampleRow
from agent.units import METRES_PER, Unit, format_distance, format_duration, format_pace
from agent.views import MISSING, duration_text, pace_text


@dataclass(frozen=True, slots=True)
class Split:
    """One km (or mile) of a run; the last one may be shorter."""

    index: int
    distance_m: float
    seconds: float
    avg_hr: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "distance_m": round(self.distance_m, 1),
            "seconds": round(self.seconds, 1),
            "avg_hr": round(self.avg_hr, 1) if self.avg_hr is not None else None,
        }


class _SplitBuilder:
    def __init__(self, unit_m: float) -> None:
        self.unit_m = unit_m
        self.splits: list[Split] = []
        self.start_m = 0.0
        self.seconds = 0.0
        self.beats = 0.0
        self.hr_s = 0.0

    def add(self, d0: float, d1: float, dt: float, hr: int | None) -> None:
        """Add a stretch from distance d0 to d1 taking dt seconds, closing splits it crosses."""
        while d1 >= self.start_m + self.unit_m and d1 > d0:
            boundary = self.start_m + self.unit_m
            part = dt * (boundary - d0) / (d1 - d0)
            self._time(part, hr)
            self._close(self.unit_m)
            dt, d0 = dt - part, boundary
        self._time(dt, hr)

    def _time(self, dt: float, hr: int | None) -> None:
        self.seconds += dt
        if hr:
            self.beats += hr * dt
            self.hr_s += dt

    def _close(self, distance_m: float) -> None:
        avg = self.beats / self.hr_s if self.hr_s else None
        self.splits.append(Split(len(self.splits) + 1, distance_m, self.seconds, avg))
        self.start_m += distance_m
        self.seconds = self.beats = self.hr_s = 0.0

    def finish(self, total_m: float) -> list[Split]:
        rest = total_m - self.start_m
        if rest > 1.0 and self.seconds > 0:
            self._close(rest)
        return self.splits


def splits(samples: list[SampleRow], unit_m: float) -> list[Split]:
    """Splits every ``unit_m`` metres: moving seconds and average HR of each. Samples
    without a distance are skipped (the time to the next one with a distance counts)."""
    builder = _SplitBuilder(unit_m)
    located = [sample for sample in samples if sample[1] is not None]
    for prev, cur in pairwise(located):
        dt = cur[0] - prev[0]
        if dt <= 0 or cur[1] <= prev[1]:
            continue  # standing (paused): not split time
        builder.add(prev[1], cur[1], dt, cur[4])
    return builder.finish(located[-1][1] if located else 0.0)


def summary(row: dict[str, Any], samples: list[SampleRow], settings: Settings) -> dict[str, Any]:
    """The ``show --json`` object: totals, splits, zones and load. Distances in metres."""
    unit: Unit = settings.units
    moving = row["moving_s"]
    return {
        "id": row["id"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"],
        "status": row["status"],
        "source": row["source"],
        "device": row["device"],
        "hr_only": bool(row.get("hr_only")),
        "calibration": row.get("calibration"),
        "totals": _totals(row),
        "splits_unit": unit,
        "splits": [s.as_json() for s in splits(samples, METRES_PER[unit])],
        "zones": _zones(row, settings),
        "below_zone1_s": _below_zone1(row),
        "load": {
            "trimp": _round(row["trimp"], 1),
            "edwards_trimp": _round(row.get("edwards_trimp"), 1),
            "rpe": row["rpe"],
            "session_rpe": _round(session_rpe_load(row["rpe"], moving), 1) if moving else None,
        },
    }


def _totals(row: dict[str, Any]) -> dict[str, Any]:
    distance, moving = row["distance_m"] or 0.0, row["moving_s"]
    return {
        "distance_m": round(distance, 1),
        "moving_s": _round(moving, 1),
        "elapsed_s": _round(row["elapsed_s"], 1),
        "avg_speed": _round(distance / moving if moving and distance else None, 3),
        "max_speed": _round(row.get("max_speed"), 3),
        "avg_hr": _round(row["avg_hr"], 1),
        "max_hr": row["max_hr"],
        "avg_cadence": _round(row["avg_cadence"], 1),
        "max_cadence": row.get("max_cadence"),
    }


def _zone_seconds(row: dict[str, Any]) -> list[float] | None:
    """The stored seconds below zone 1 and in zones 1-5 (``None`` when not recorded)."""
    stored = json.loads(row["zone_s"]) if row.get("zone_s") else None
    return [s or 0.0 for s in stored] if isinstance(stored, list) and stored else None


def _below_zone1(row: dict[str, Any]) -> float | None:
    stored = _zone_seconds(row)
    return stored[0] if stored else None


def _zones(row: dict[str, Any], settings: Settings) -> list[dict[str, Any]]:
    heart = HeartProfile(settings.runner.max_hr, settings.runner.resting_hr, settings.runner.sex)
    stored = _zone_seconds(row)
    bounds = heart.zone_bounds()
    if not stored or not any(stored) or len(stored) <= len(bounds):
        return []
    return [
        {"zone": index, "low_bpm": low, "high_bpm": high, "seconds": stored[index]}
        for index, (low, high) in enumerate(bounds, start=1)
    ]


def _round(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


def print_summary(data: dict[str, Any], settings: Settings) -> None:
    """The human view of :func:`summary`."""
    from rich.console import Console

    console = Console()
    unit: Unit = settings.units
    totals = data["totals"]
    console.print(f"[bold]Run {data['id']}[/bold]  {data['started_at']}  ({data['status']})")
    for label, value in _total_lines(totals, unit, data["hr_only"]):
        console.print(f"  {label:<12} {value}")
    _print_splits(console, data["splits"], unit)
    _print_zones(console, data["zones"])
    load = data["load"]
    parts = [f"{name} {load[key]}" for key, name in _LOADS if load[key] is not None]
    console.print("  load         " + (", ".join(parts) if parts else "-"))


_LOADS = (("trimp", "TRIMP"), ("edwards_trimp", "Edwards"), ("session_rpe", "session-RPE"))


def _total_lines(totals: dict[str, Any], unit: Unit, hr_only: bool) -> list[tuple[str, str]]:
    distance, moving = totals["distance_m"], totals["moving_s"]
    lines = [
        ("distance", "- (heart rate only)" if hr_only else format_distance(distance, unit, 2)),
        ("moving", duration_text(moving)),
        ("elapsed", duration_text(totals["elapsed_s"])),
        ("pace", pace_text(distance, moving, unit)),
    ]
    if totals["max_speed"]:
        lines.append(("best pace", format_pace(1.0, 1.0 / totals["max_speed"], unit)))
    for label, avg, top in (
        ("heart rate", "avg_hr", "max_hr"),
        ("cadence", "avg_cadence", "max_cadence"),
    ):
        if totals[avg] is not None or totals[top] is not None:
            lines.append((label, f"avg {_whole(totals[avg])}, max {_whole(totals[top])}"))
    return lines


def _whole(value: float | None) -> str:
    """``152``, or ``-`` for a value not recorded."""
    return MISSING if value is None else f"{value:.0f}"


def _print_splits(console: Any, rows: list[dict[str, Any]], unit: Unit) -> None:
    from rich.table import Table

    if not rows:
        return
    table = Table(title=f"Splits per {unit}")
    for name in (unit, "time", "pace", "avg HR"):
        table.add_column(name, justify="right")
    for split in rows:
        table.add_row(
            _split_label(split, unit),
            format_duration(split["seconds"]),
            format_pace(split["distance_m"], split["seconds"], unit),
            _whole(split["avg_hr"]),
        )
    console.print(table)


def _split_label(split: dict[str, Any], unit: Unit) -> str:
    """``3`` for a whole km (or mile); the distance, ``0.84``, for a last, shorter one."""
    whole = split["distance_m"] >= METRES_PER[unit] - 1
    return str(split["index"]) if whole else f"{split['distance_m'] / METRES_PER[unit]:.2f}"


def _print_zones(console: Any, zones: list[dict[str, Any]]) -> None:
    from rich.table import Table

    if not zones:
        return
    table = Table(title="Heart-rate zones (Karvonen)")
    for name in ("zone", "bpm", "time"):
        table.add_column(name, justify="right")
    for zone in zones:
        bpm = f"{zone['low_bpm']}-{zone['high_bpm']}"
        table.add_row(str(zone["zone"]), bpm, format_duration(zone["seconds"]))
    console.print(table)
