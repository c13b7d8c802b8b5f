"""Is it the same run, and which record of it to keep?

One person runs one run at a time: two records that overlap in time (the watch's FIT and
Strava's GPX of it, a run logged by hand and then imported, a footpod recording and the
watch's file, a watch left running after the run) are records of one run. Same run: they
share at least :data:`MIN_SHARED_S` seconds, or half (:data:`MIN_SHARED`) of the shorter
one's time. A run and a cool-down recorded after it share none. Distance is not compared:
GPS tracks differ from the device's distance by a few percent, a hand-logged distance by
more.

Which record to keep (:func:`choose`): the one that covers the run, then the better source.
A record with less than :data:`PARTIAL` of the other's distance and moving time is a part
of the run (a false start, a watch started late): it never replaces the whole, and the whole
replaces it. Otherwise the better source wins (:func:`rank`): a device's FIT over its TCX
over a GPX (GPS track distance), a live recording as good as a FIT, a run logged by hand or
a line of Strava's list below any file. Ties keep the stored record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Literal

MIN_SHARED_S = 60.0
MIN_SHARED = 0.5
PARTIAL = 0.75

# How good a record of a run each source is: higher is better, ties keep the stored one.
RANKS = {
    "export": 0,
    "manual": 0,
    "csv": 0,
    "gpx": 1,
    "tcx": 2,
    "fit": 3,
    "ble": 3,
    "simulated": 3,
}
LABELS = {
    "manual": "run logged by hand",
    "csv": "entry of activities.csv",
    "ble": "live recording",
    "simulated": "simulation",
    "export": "stridewatch export",
}


@dataclass(frozen=True, slots=True)
class Record:
    """One record of a run: its start, duration (s; elapsed, or moving where larger),
    distance (m), moving time (s) and kind (a file format or a stored run's source)."""

    start: datetime
    seconds: float
    distance_m: float
    moving_s: float
    kind: str


def same_run(a: Record, b: Record) -> bool:
    """Whether two records are of one run: they overlap in time enough."""
    a0, b0 = a.start.timestamp(), b.start.timestamp()
    shorter = min(a.seconds, b.seconds)
    if shorter <= 0:
        return abs(a0 - b0) < MIN_SHARED_S  # a record without a duration: the same start
    shared = min(a0 + a.seconds, b0 + b.seconds) - max(a0, b0)
    return shared >= min(MIN_SHARED_S, MIN_SHARED * shorter) and shared > 0


def _part_of(a: Record, b: Record) -> bool:
    """Whether ``a`` covers clearly less of the run than ``b`` (both distance and time)."""
    return a.distance_m < PARTIAL * b.distance_m and a.moving_s < PARTIAL * b.moving_s


def choose(new: Record, stored: Record) -> tuple[Literal["replace", "keep"], str]:
    """Whether the new record replaces the stored one, and why, for the runner."""
    if _part_of(new, stored):
        minutes = f"{new.moving_s / 60:.0f} of its {stored.moving_s / 60:.0f} minutes"
        return (
            "keep",
            f"kept the stored {label(stored.kind)}; this {label(new.kind)} covers only {minutes}",
        )
    if _part_of(stored, new):
        minutes = f"{stored.moving_s / 60:.0f} of its {new.moving_s / 60:.0f} minutes"
        return (
            "replace",
            f"kept this {label(new.kind)} over the stored "
            f"{label(stored.kind)}, which covers only {minutes}",
        )
    if rank(new.kind) > rank(stored.kind):
        return "replace", f"kept this {label(new.kind)} over the stored {label(stored.kind)}"
    return "keep", f"kept the stored {label(stored.kind)}"


def stored_kind(source: str, import_file: str | None) -> str:
    """The kind of a stored run's record: its file format for imports, else its source."""
    if source == "import" and import_file:
        name = PurePosixPath(import_file.lower()).name.removesuffix(".gz")
        if name.startswith("stridewatch-run-"):
            return "export"
        for fmt in ("fit", "tcx", "gpx", "csv"):
            if name.endswith(f".{fmt}"):
                return fmt
        return "fit"
    return source


def rank(kind: str) -> int:
    return RANKS.get(kind, 0)


def label(kind: str) -> str:
    """``FIT``, ``GPX``, ``run logged by hand``, ``live recording``."""
    return LABELS.get(kind, kind.upper())
