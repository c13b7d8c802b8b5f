"""Is it the same run? Two records of one run (the watch's FIT and Strava's GPX of it, a
run logged by hand and then imported, a footpod recording and the watch's file) overlap in
time; two different runs of one person never do.

Same run: the starts are within :data:`START_WINDOW_S` (devices start on a button press,
apps on first movement, a runner logging by hand remembers roughly) and the two share at
least half (:data:`MIN_SHARED`) of the *longer* one's time: a 1-minute fragment inside an
hour's run is not that run (and must never replace it). Distance is not compared: GPS tracks
differ from the device's distance by a few percent, and a hand-logged distance by more.

The better record is kept (:func:`rank`): a device's FIT over its TCX over a GPX (GPS track
distance), a live recording as good as a FIT, a run logged by hand below any file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath

START_WINDOW_S = 900.0
MIN_SHARED = 0.5

# How good a record of a run each source is: higher is better, ties keep the stored one.
RANKS = {"manual": 0, "csv": 0, "gpx": 1, "tcx": 2, "fit": 3, "ble": 3, "simulated": 3}
LABELS = {
    "manual": "run logged by hand",
    "csv": "entry of activities.csv",
    "ble": "live recording",
    "simulated": "simulation",
}


def same_run(a_start: datetime, a_seconds: float, b_start: datetime, b_seconds: float) -> bool:
    """Whether two records (start, duration in s) are one run."""
    a0, b0 = a_start.timestamp(), b_start.timestamp()
    if abs(a0 - b0) > START_WINDOW_S:
        return False
    longer = max(a_seconds, b_seconds)
    if longer <= 0:
        return abs(a0 - b0) < 60  # two records without a duration: the same start only
    shared = min(a0 + a_seconds, b0 + b_seconds) - max(a0, b0)
    return shared >= MIN_SHARED * longer


def stored_kind(source: str, import_file: str | None) -> str:
    """The kind of a stored run's record: its file format for imports, else its source."""
    if source == "import" and import_file:
        name = PurePosixPath(import_file.lower()).name.removesuffix(".gz")
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
