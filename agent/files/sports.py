"""What sport an activity file says it is: run, not a run, or unknown.

Files name the sport in many ways: FIT's ``sport`` enum (``running``, ``cycling``), TCX's
``Sport`` attribute (``Running``, ``Biking``, ``Other``), GPX's free ``<type>`` (Garmin Connect
``running`` / ``trail_running``, Runkeeper ``Running``, Endomondo ``RUNNING`` /
``CYCLING_SPORT``, OpenTracks ``running`` / ``biking``, Polar ``RUNNING`` / ``TREADMILL_RUNNING``,
Strava's own GPX writer a number such as ``9``), Strava's ``activities.csv`` ``Run`` /
``TrailRun`` / ``Ride``. :func:`classify` maps each to a :class:`Sport`: a readable name and
whether it is a run (``None`` when the file does not say, or names something this does not
know: then the activity's speed decides).

Sources: the FIT SDK profile (``sport``), Garmin's TCX schema (``Sport_t``), Strava's upload
API activity types, and the numbers Strava's GPX writer uses (``<type>9</type>`` for a run;
the mapping Strava users documented on GIS Stack Exchange and Stack Overflow).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Strava's GPX writer stores the activity type as a number (not documented by Strava; the
# values its exports carry). Runs are 9 (Run) and 53 (VirtualRun, a treadmill or Zwift run).
STRAVA_GPX_TYPES: dict[int, str] = {
    1: "ride",
    2: "alpine ski",
    3: "backcountry ski",
    4: "hike",
    5: "ice skate",
    6: "inline skate",
    7: "nordic ski",
    8: "roller ski",
    9: "run",
    10: "walk",
    11: "workout",
    12: "snowboard",
    13: "snowshoe",
    14: "kitesurf",
    15: "windsurf",
    16: "swim",
    17: "virtual ride",
    18: "e-bike ride",
    19: "velomobile",
    53: "virtual run",
}
# Runtastic (adidas Running) numbers its sports differently: 1 is running there.
RUNTASTIC_GPX_TYPES: dict[int, str] = {
    1: "run",
    2: "nordic walk",
    3: "ride",
    4: "mountain bike ride",
    5: "other",
    7: "hike",
    18: "swim",
    19: "walk",
    22: "road ride",
}

# Words that make a sport a run: running, trail running, treadmill running, virtual run, jog.
_RUN_WORDS = frozenset({"run", "running", "jog", "jogging", "treadmill", "runs", "trailrun"})
# Word beginnings that make a sport something else than a run: a type naming none of these
# nor a run word (an OpenTracks category is free text: "the category", "Laufen") is unknown.
_OTHER_STEMS = (
    "bik",
    "bicyc",
    "cycl",
    "ride",
    "riding",
    "mtb",
    "gravel",
    "velomobile",
    "handcycl",
    "spin",
    "walk",
    "hik",
    "trek",
    "swim",
    "ski",
    "snow",
    "skat",
    "row",
    "paddl",
    "kayak",
    "canoe",
    "surf",
    "sail",
    "kite",
    "drive",
    "driving",
    "car",
    "motor",
    "bus",
    "train",
    "tram",
    "boat",
    "fly",
    "flight",
    "yoga",
    "pilates",
    "workout",
    "strength",
    "weight",
    "elliptical",
    "stair",
    "climb",
    "golf",
    "tennis",
    "soccer",
    "football",
    "transition",
    "wheelchair",
    "crossfit",
    "fitness",
    "mountaineer",
    "other",
    "horse",
    "dance",
)
# Names that say nothing about the sport: the activity is then judged by its speed.
_UNKNOWN = frozenset({"", "generic", "unknown", "all", "none", "activity", "sport"})


@dataclass(frozen=True, slots=True)
class Sport:
    """A sport as a file names it: ``name`` for people ("ride", "trail running"), and
    ``is_run`` True, False, or None when the file does not say."""

    name: str
    is_run: bool | None


UNKNOWN = Sport("unknown", None)


def classify(text: str | None, creator: str | None = None) -> Sport:
    """The :class:`Sport` of a type name or number as a file writes it.

    ``creator`` is the writing application (GPX ``creator``): numbers are Strava's unless it
    names Runtastic."""
    if text is None:
        return UNKNOWN
    raw = text.strip()
    if raw.isdigit():
        return _numbered(int(raw), creator)
    name = _words(raw)
    if name in _UNKNOWN:
        return UNKNOWN
    words = name.split()
    other = any(word.startswith(_OTHER_STEMS) for word in words)
    runs = _RUN_WORDS & set(words)
    # "treadmill walking" is a walk; a wheelchair race is not running. A run-walk is a run.
    if runs and not (runs == {"treadmill"} and other) and "wheelchair" not in words:
        return Sport(name, True)
    if other:
        return Sport(_READABLE.get(name, name), False)
    return Sport(name, None)


def _numbered(number: int, creator: str | None) -> Sport:
    if creator is not None and "runtastic" in creator.lower():
        name = RUNTASTIC_GPX_TYPES.get(number)
        if name is None or name == "other":
            return Sport(name or f"Runtastic sport {number}", None)
        return Sport(name, name == "run")
    name = STRAVA_GPX_TYPES.get(number, f"Strava activity type {number}")
    return Sport(name, number in (9, 53))


def _words(text: str) -> str:
    """``TrailRun`` / ``TRAIL_RUNNING`` / ``trail-running`` -> ``trail run`` / ``trail running``."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    return " ".join(re.split(r"[\s_\-/]+", spaced.lower())).strip()


# A few names made clearer for the runner (TCX's "Biking", Endomondo's "CYCLING_SPORT").
_READABLE = {
    "biking": "cycling",
    "cycling sport": "cycling",
    "cycling transport": "cycling",
    "mountain biking": "mountain biking",
    "stand up paddling": "stand-up paddling",
}
