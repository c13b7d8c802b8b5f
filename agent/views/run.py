"""``stridewatch show``: one run's totals, splits, zones and load, for people and for JSON.

Splits are computed from the stored samples (the recorder's cumulative distance and clock
times); runs logged by hand have totals only. Any total or sample value may be missing (an
imported file without cadence, a strap that dropped out): it shows as ``-``, and as null in
JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from agent.config import Settings
from agent.recording.intensity import HeartProfile, session_rpe_load
from agent.store import SampleRow
from agent.units import (
    METRES_PER,
    Unit,
    floor_to,
    format_duration,
    format_local,
    format_pace,
    local_iso,
    stored_instant,
)
from agent.views.text import (
    MISSING,
    Row,
    console,
    duration_text,
    pace_text,
    print_pairs,
    print_table,
    run_distance,
    whole,
)

if TYPE_CHECKING:
    from rich.console import Console


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
            "distance_km": round(self.distance_m / 1000, 3),
            "moving_s": round(self.seconds, 1),
            "avg_hr": whole(self.avg_hr),
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
    """The ``show --json`` object: totals, splits, zones and load, in the JSON vocabulary
    every command shares (distances in km, durations in seconds, times in the runner's
    zone)."""
    unit: Unit = settings.units
    moving = row["moving_s"]
    return {
        "id": row["id"],
        "started_at": _instant(row["started_at"], settings),
        "ended_at": _instant(row["ended_at"], settings),
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


def _instant(stored: str | None, settings: Settings) -> str | None:
    """A stored instant in the runner's zone; text no date can be read from, as stored
    (``show`` is how a runner finds such a row)."""
    if stored is None:
        return None
    try:
        return local_iso(stored_instant(stored), settings.zone)
    except ValueError:
        return stored


def _totals(row: dict[str, Any]) -> dict[str, Any]:
    distance, moving = row["distance_m"] or 0.0, row["moving_s"]
    return {
        "distance_km": round(distance / 1000, 3),
        "moving_s": _round(moving, 1),
        "elapsed_s": _round(row["elapsed_s"], 1),
        "avg_speed_mps": _round(distance / moving if moving and distance else None, 3),
        "max_speed_mps": _round(row.get("max_speed"), 3),
        "avg_hr": whole(row["avg_hr"]),
        "max_hr": whole(row["max_hr"]),
        "avg_cadence": whole(row["avg_cadence"]),
        "max_cadence": whole(row.get("max_cadence")),
    }


def _zone_seconds(row: dict[str, Any]) -> list[float] | None:
    """The stored seconds below zone 1 and in zones 1-5 (``None`` when not recorded)."""
    stored = json.loads(row["zone_s"]) if row.get("zone_s") else None
    return [s or 0.0 for s in stored] if isinstance(stored, list) and stored else None


def _below_zone1(row: dict[str, Any]) -> float | None:
    stored = _zone_seconds(row)
    return _round(stored[0], 1) if stored else None


def _zones(row: dict[str, Any], settings: Settings) -> list[dict[str, Any]]:
    heart = HeartProfile(settings.runner.max_hr, settings.runner.resting_hr, settings.runner.sex)
    stored = _zone_seconds(row)
    bounds = heart.zone_bounds()
    if not stored or not any(stored) or len(stored) <= len(bounds):
        return []
    return [
        {"zone": index, "low_bpm": low, "high_bpm": high, "time_s": _round(stored[index], 1)}
        for index, (low, high) in enumerate(bounds, start=1)
    ]


def _round(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


def print_summary(data: dict[str, Any], settings: Settings, note: str | None = None) -> None:
    """The human view of :func:`summary`, and the run's note (written out where it holds
    what a terminal would act on: :func:`agent.views.text.shown`)."""
    out = console()
    unit: Unit = settings.units
    totals = data["totals"]
    out.print(
        f"[bold]Run {data['id']}[/bold]  {_local(data['started_at'], settings)}  "
        f"({data['status']})",
        highlight=False,
    )
    pairs = _total_lines(totals, unit, data["hr_only"])
    load = data["load"]
    parts = [f"{name} {load[key]}" for key, name in _LOADS if load[key] is not None]
    pairs.append(("load", ", ".join(parts) if parts else MISSING))
    if note:
        pairs.append(("note", note))
    print_pairs(out, [(f"  {label}", value) for label, value in pairs])
    _print_splits(out, data["splits"], unit)
    _print_zones(out, data)


_LOADS = (("trimp", "TRIMP"), ("edwards_trimp", "Edwards"), ("session_rpe", "session-RPE"))


def _local(text: str | None, settings: Settings) -> str:
    """``Sun 2026-11-29 07:00`` in the runner's zone; as stored if it is no date."""
    try:
        return format_local(datetime.fromisoformat(text or ""), settings.zone)
    except ValueError:
        return str(text)


def _total_lines(totals: dict[str, Any], unit: Unit, hr_only: bool) -> list[tuple[str, str]]:
    distance, moving = totals["distance_km"] * 1000, totals["moving_s"]
    lines = [
        ("distance", "- (heart rate only)" if hr_only else run_distance(distance, unit)),
        ("moving", duration_text(moving)),
        ("elapsed", duration_text(totals["elapsed_s"])),
        ("pace", pace_text(distance, moving, unit)),
    ]
    if totals["max_speed_mps"]:
        lines.append(("best pace", format_pace(1.0, 1.0 / totals["max_speed_mps"], unit)))
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


def _print_splits(out: Console, rows: list[dict[str, Any]], unit: Unit) -> None:
    if not rows:
        return
    table = [
        Row(
            (
                _split_label(split, unit),
                format_duration(split["moving_s"]),
                format_pace(_split_metres(split, unit), split["moving_s"], unit),
                _whole(split["avg_hr"]),
            )
        )
        for split in rows
    ]
    out.print()
    columns = (unit, "time", "pace", "avg HR")
    print_table(out, f"Splits per {unit}", columns, table, right=columns)


def _split_metres(split: dict[str, Any], unit: Unit) -> float:
    """A split's distance: a whole km (or mile) exactly, not as rounded for JSON (a mile is
    1.609 km there, which made a 8:56 mile's pace 8:57/mi)."""
    metres: float = split["distance_km"] * 1000
    # within a metre of the unit it is whole: the samples' distances are no finer
    return METRES_PER[unit] if metres >= METRES_PER[unit] - 1 else metres


def _split_label(split: dict[str, Any], unit: Unit) -> str:
    """``3`` for a whole km (or mile); the distance, ``0.84``, for a last, shorter one,
    rounded down: 0.997 mi is ``0.99``, never ``1.00`` (which would read as a whole mile)."""
    metres = _split_metres(split, unit)
    whole = metres == METRES_PER[unit]
    return str(split["index"]) if whole else f"{floor_to(metres / METRES_PER[unit], 2):.2f}"


def _print_zones(out: Console, data: dict[str, Any]) -> None:
    """Zones 1-5, the time below zone 1, and their total: the run's heart-rate time."""
    zones = data["zones"]
    if not zones:
        return
    below = data["below_zone1_s"] or 0.0
    rows = [Row(("below 1", f"< {zones[0]['low_bpm']}", format_duration(below)))]
    rows += [
        Row((str(z["zone"]), f"{z['low_bpm']}-{z['high_bpm']}", format_duration(z["time_s"])))
        for z in zones
    ]
    total = below + sum(z["time_s"] for z in zones)
    rows.append(Row(("total", "", format_duration(total))))
    out.print()
    columns = ("zone", "bpm", "time")
    print_table(out, "Heart-rate zones (Karvonen)", columns, rows, right=columns)
