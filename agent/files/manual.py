"""Manual logging: the library side of ``stridewatch log-run`` and ``stridewatch pain``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, tzinfo

from agent.errors import InputError
from agent.files.importer import RUN_MAX_AVG_KMH, SLOW_MAX_KMH
from agent.files.same_run import Record, same_run
from agent.models import PainReport, PainWhen, PainWhere
from agent.store import Store
from agent.units import METRES_PER, Unit, format_local, format_pace

# A run typed by hand is held to the importer's bounds on average speed (agent/files/
# importer.py): above RUN_MAX_AVG_KMH (24 km/h, past the 5 km world record) nobody runs; below
# SLOW_MAX_KMH (3 km/h, slower than a stroll) it is no run. The importer lets a slow file
# under an hour through (a watch's file may hold standing about); a time typed by hand holds
# none, so here the floor applies to any duration. Either way the cause is almost always a
# unit: "1m" (a metre) for 1mi, "5:00" (minutes) for 5:00:00, a bare number in the other unit.
# The floor catches "1m" only when it takes more than a second, so the shortest run is
# MIN_RUN_M besides: nobody logs less than a 100 m sprint, the shortest race there is.
MIN_RUN_M = 100.0
_CHECK = "check the distance's unit (km, m or mi) and the duration (36:00 is 36 minutes)"
_DISTANCE = re.compile(r"^\s*(-?\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*$")


def check_run(
    distance_m: float,
    duration_s: float,
    *,
    distance_text: str,
    duration_text: str,
    unit: Unit,
) -> None:
    """Refuse (one line, :class:`InputError`) a distance and duration that are not a run:
    averaging under 3 or over 24 km/h, or shorter than :data:`MIN_RUN_M`. The line says the
    pace and speed, and what the text typed probably meant."""
    kmh = distance_m / duration_s * 3.6
    given = f"--distance {distance_text.strip()} in --duration {duration_text.strip()}"
    said = f"{given} is {format_pace(distance_m, duration_s, unit)} ({_speed(kmh)})"
    readings = list(_readings(distance_m, duration_s, distance_text, duration_text, unit))
    hint = next((text for metres, seconds, text in readings if _is_run(metres, seconds)), _CHECK)
    if kmh > RUN_MAX_AVG_KMH:
        raise InputError(
            f"{said}, faster than any human runs (the 5 km world record is 23.8 km/h); {hint}",
            option="--distance",
        )
    if kmh < SLOW_MAX_KMH:
        raise InputError(f"{said}, slower than a walk, not a run; {hint}", option="--distance")
    if distance_m < MIN_RUN_M:
        raise InputError(
            f"--distance {distance_text.strip()}: shorter than any run ({MIN_RUN_M:.0f} m at "
            f"least); {readings[0][2] if readings else _CHECK}",
            option="--distance",
        )


def _speed(kmh: float) -> str:
    if kmh >= 1:
        return f"{kmh:.1f} km/h"
    return f"{kmh:.2f} km/h" if kmh >= 0.01 else "under 0.01 km/h"


def _is_run(distance_m: float, duration_s: float) -> bool:
    kmh = distance_m / duration_s * 3.6
    return distance_m >= MIN_RUN_M and SLOW_MAX_KMH <= kmh <= RUN_MAX_AVG_KMH


def _readings(
    distance_m: float, duration_s: float, distance_text: str, duration_text: str, unit: Unit
) -> Iterator[tuple[float, float, str]]:
    """Other readings of the text typed, each (metres, seconds, what to say): a metre for a
    mile, the other unit for a bare number, hours for minutes and minutes for hours."""
    match = _DISTANCE.match(distance_text)
    number, suffix = (match.group(1), match.group(2).lower()) if match else ("", "")
    if suffix == "m":
        one = float(number) == 1
        metres, miles = ("one metre", "a mile") if one else (f"{number} metres", f"{number} miles")
        said = f"{distance_text.strip()} is {metres}; {miles} is {number}mi"
        yield float(number) * METRES_PER["mi"], duration_s, said
    if number and not suffix:
        other: Unit = "km" if unit == "mi" else "mi"
        said = f"a bare {number} is in {unit} (the configured unit); {number}{other} is in {other}"
        yield float(number) * METRES_PER[other], duration_s, said
    clock = duration_text.strip().split(":")  # parse_duration took it: digits and colons
    if len(clock) in (2, 3):
        big, small = int(clock[0]), int(clock[1][:2])
        hours = _words(big, "hour", small, "minute")
        minutes = _words(big, "minute", small, "second")
        if len(clock) == 3:
            said = f"{duration_text.strip()} is {hours}; {minutes} is {big}:{small:02d}"
            yield distance_m, duration_s / 60, said
        else:
            said = f"{duration_text.strip()} is {minutes}; {hours} is {big}:{small:02d}:00"
            yield distance_m, duration_s * 60, said


def _words(big: int, big_name: str, small: int, small_name: str) -> str:
    """``61 hours``, ``1 hour 5 minutes``: a clock's first two fields in words."""
    said = f"{big} {big_name}" + "s" * (big != 1)
    return said + (f" {small} {small_name}" + "s" * (small != 1) if small else "")


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
    from agent.files.importer import stored_record

    logged = Record(started_at, duration_s, distance_m, duration_s, "manual")
    for run in store.runs_overlapping(started_at, started_at + timedelta(seconds=duration_s)):
        if same_run(logged, stored_record(run)):
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


# How each timing says the run it is about, in the line refusing a report dated before it.
_ABOUT = {"during": "during a run", "after": "after a run", "morning": "the morning after a run"}


def log_pain(
    store: Store,
    *,
    at: datetime,
    score: int,
    when: PainWhen,
    where: PainWhere | None = None,
    run_id: int | None = None,
    note: str | None = None,
    zone: tzinfo,
) -> PainReport:
    """Store a pain report; return it. A report about a run (``run_id``) felt during it,
    after it or the morning after cannot be dated before the run started: refused in one
    line (:class:`InputError`), as is a ``run_id`` that names no run (``NotFoundError``).
    (Pain ``before`` a run is dated before it, or logged later with the run named.)"""
    if run_id is not None:
        run = store.get_run(run_id)
        if when != "before" and at < run.started_at:
            raise InputError(
                f"pain at {format_local(at, zone)} is before run {run_id} started "
                f"({format_local(run.started_at, zone)}); pain {_ABOUT[when]} is dated after "
                "its start: give when it was felt with --at",
                option="--at",
            )
    pain_id = store.add_pain(at=at, score=score, when=when, where=where, run_id=run_id, note=note)
    return PainReport(pain_id, at, score, when, where, run_id, note)
