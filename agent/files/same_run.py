"""Is it the same run, and which record of it to keep?

One person runs one run at a time: two records that overlap in time (the watch's FIT and
Strava's GPX of it, a run logged by hand and then imported, a footpod recording and the
watch's file, a watch left running after the run) are records of one run. Same run: they
share at least :data:`MIN_SHARED_S` seconds, or half (:data:`MIN_SHARED`) of the shorter
one's time. A run and a cool-down recorded after it share none. A record overlapping two
stored runs (Strava's one activity of a run and its cool-down, a watch left running from
the morning run to the evening one) covers runs already stored: they stay as they are.
Distance is not compared: GPS tracks differ from the device's distance by a few percent, a
hand-logged distance by more.

Which record to keep (:func:`choose`): the one that covers the run, then the better source.
A record with less than :data:`PARTIAL` of the other's distance and moving time is a part
of the run (a false start, a watch started late): it never replaces the whole, and the whole
replaces it (against a run logged by hand, a file is a part only below half of it).
Otherwise the better source wins (:func:`rank`): a device's FIT over its TCX over a GPX (GPS
track distance), a live recording as good as a FIT, a run logged by hand, a line of Strava's
list or a stridewatch export below any file. Ties keep the stored record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Literal

# The serial number stridewatch writes in its exported FIT files (agent.files.fit).
EXPORT_SERIAL = 0x53570001
MIN_SHARED_S = 60.0
MIN_SHARED = 0.5
# A record with less than this share of the other's distance and moving time is a part of
# the run (a watch started late, a false start): it never replaces the whole.
PARTIAL = 0.9
# Against a run logged by hand or a list's line (rough numbers), a file is the measurement:
# it is a part only below this share.
PARTIAL_OF_ESTIMATE = 0.5
# A record's time for overlapping is its elapsed time, but no more than twice its moving
# time and 10 minutes: a watch left paused for hours was not running all that time.
PAUSED_SLACK_S = 600.0

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
    """One record of a run: its start, elapsed time (s), distance (m), moving time (s) and
    kind (a file format or a stored run's source)."""

    start: datetime
    elapsed_s: float
    distance_m: float
    moving_s: float
    kind: str

    @property
    def span_s(self) -> float:
        """The time the record stands for when records are compared (see
        :data:`PAUSED_SLACK_S`)."""
        elapsed = max(self.elapsed_s, self.moving_s)
        if self.moving_s > 0:
            return min(elapsed, 2 * self.moving_s + PAUSED_SLACK_S)
        return elapsed


def same_run(a: Record, b: Record) -> bool:
    """Whether two records are of one run: they overlap in time enough."""
    a0, b0 = a.start.timestamp(), b.start.timestamp()
    shorter = min(a.span_s, b.span_s)
    if shorter <= 0:
        return abs(a0 - b0) < MIN_SHARED_S  # a record without a duration: the same start
    shared = min(a0 + a.span_s, b0 + b.span_s) - max(a0, b0)
    return shared > 0 and shared >= min(MIN_SHARED_S, MIN_SHARED * shorter)


def _part_of(a: Record, b: Record) -> bool:
    """Whether ``a`` covers clearly less of the run than ``b`` (distance and time)."""
    share = PARTIAL_OF_ESTIMATE if rank(b.kind) == 0 and rank(a.kind) > 0 else PARTIAL
    return a.distance_m < share * b.distance_m and a.moving_s < share * b.moving_s


def choose(new: Record, stored: Record) -> tuple[Literal["replace", "keep"], str]:
    """Whether the new record replaces the stored one, and why, for the runner."""
    if _part_of(new, stored):
        covers = f"{new.distance_m / 1000:.1f} of its {stored.distance_m / 1000:.1f} km"
        return "keep", (
            f"kept the stored {label(stored.kind)}; this {label(new.kind)} covers only {covers}"
        )
    if _part_of(stored, new):
        covers = f"{stored.distance_m / 1000:.1f} of its {new.distance_m / 1000:.1f} km"
        return "replace", (
            f"kept this {label(new.kind)} over the stored {label(stored.kind)}, which "
            f"covers only {covers}"
        )
    if rank(new.kind) > rank(stored.kind):
        return "replace", f"kept this {label(new.kind)} over the stored {label(stored.kind)}"
    return "keep", f"kept the stored {label(stored.kind)}"


def stored_kind(source: str, import_file: str | None, external_id: str | None = None) -> str:
    """The kind of a stored run's record: its file format for imports, else its source;
    ``export`` for a FIT file stridewatch wrote (its serial number in ``external_id``)."""
    if source == "import" and import_file:
        if external_id and f":{EXPORT_SERIAL}:" in external_id:
            return "export"
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
