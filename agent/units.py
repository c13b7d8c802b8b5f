"""Parsing and formatting of the quantities runners type: distances, durations, times.

Everything is stored in SI units (metres, seconds) and UTC; these functions sit at the edge
where a runner's text comes in or a number goes out in their configured unit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from agent.errors import InputError

Unit = Literal["km", "mi"]

METRES_PER = {
    "m": 1.0,
    "km": 1000.0,
    "k": 1000.0,
    "mi": 1609.344,
    "mile": 1609.344,
    "miles": 1609.344,
}

# The longest single efforts people log are multi-day ultras of a few hundred km; anything
# beyond this is a typo (a bare "6000" read as km), not a run.
MAX_RUN_M = 500_000.0
# A week is more than any continuous effort; longer durations are typos too.
MAX_RUN_S = 7 * 24 * 3600.0
# 10.5 m/s is faster than the 100 m world record; no logged run can average more.
MAX_AVG_SPEED = 10.5

_DISTANCE_RE = re.compile(r"^\s*(-?\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$")
_CLOCK_RE = re.compile(r"^\s*(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d+)?)\s*$")
_HMS_RE = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m(?:in)?)?\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$"
)


def parse_distance(text: str, default_unit: Unit) -> float:
    """Parse ``6km``, ``6000m``, ``3.7mi`` or a bare number in ``default_unit``; return metres."""
    match = _DISTANCE_RE.match(text.lower())
    if match is None:
        raise InputError(f"distance {text!r}: expected a number with km, m or mi, e.g. 6km")
    number, suffix = float(match.group(1)), match.group(2) or default_unit
    if suffix not in METRES_PER:
        raise InputError(f"distance {text!r}: unknown unit {suffix!r}; use km, m or mi")
    metres = number * METRES_PER[suffix]
    if metres <= 0:
        raise InputError(f"distance {text!r}: must be more than 0")
    if metres > MAX_RUN_M:
        raise InputError(f"distance {text!r}: {metres / 1000:.0f} km is not a single run")
    return metres


def parse_duration(text: str) -> float:
    """Parse ``36:00``, ``1:05:00``, ``45m``, ``1h5m`` or ``90s``; return seconds."""
    seconds = _clock_seconds(text)
    if seconds is None:
        seconds = _hms_seconds(text)
    if seconds is None:
        raise InputError(f"duration {text!r}: expected a time such as 36:00, 1:05:00, 45m or 1h5m")
    if seconds <= 0:
        raise InputError(f"duration {text!r}: must be more than 0")
    if seconds > MAX_RUN_S:
        raise InputError(f"duration {text!r}: longer than a week is not a single run")
    return seconds


def _clock_seconds(text: str) -> float | None:
    match = _CLOCK_RE.match(text)
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    if float(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        raise InputError(f"duration {text!r}: minutes and seconds must be below 60")
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def _hms_seconds(text: str) -> float | None:
    match = _HMS_RE.match(text.lower())
    if match is None or not any(match.groups()):
        return None
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


# Instants stridewatch can count with at all: what any version has let into the database
# (older ones took the years 1970 to 2200). Weeks, local times and windows of months around
# them stay far inside Python's calendar (years 1 to 9999), where 0001-01-01T00:00+14:00
# and 9999-12-31T23:59-12:00 are not. A stored date outside them is a damaged or hand-edited
# row: readers skip it (agent/store/), no command counts with it.
STORED_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
STORED_LATEST = datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC)
_STORED_YEARS = f"{STORED_EARLIEST.year}-{STORED_LATEST.year}"


@dataclass(frozen=True, slots=True)
class DateWindow:
    """The instants a runner's dates may be in, both ends included (aware datetimes), and
    the settings that set them (named when a date is refused)."""

    earliest: datetime
    latest: datetime
    settings: str = ""

    def holds(self, moment: datetime) -> bool:
        return self.earliest <= moment <= self.latest

    def holds_day(self, day: date) -> bool:
        return self.earliest.date() <= day <= self.latest.date()

    def refusal(self, what: str, text: str) -> InputError:
        """The one line for a ``what`` (``date``, ``--week``) outside the window."""
        where = f" (the config's {self.settings})" if self.settings else ""
        return InputError(
            f"{what} {text!r}: expected a date from {self.earliest.date().isoformat()} "
            f"to {self.latest.date().isoformat()}{where}"
        )


# Without settings (a library caller, a test): the dates any version could store.
STORABLE = DateWindow(STORED_EARLIEST, STORED_LATEST)


def years_later(moment: datetime, years: int) -> datetime:
    """``moment`` on the same day and time ``years`` later (29 February: the 28th)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def parse_datetime(text: str, zone: tzinfo, window: DateWindow = STORABLE) -> datetime:
    """Parse ISO 8601; without an offset the time is local in ``zone``. Returns aware UTC.

    Raises :class:`InputError` (one line) for text that is not ISO 8601, and for an instant
    outside ``window`` or outside the calendar once converted (``9999-12-31T23:59-12:00``)."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"date {text!r}: expected ISO 8601, e.g. 2026-11-20T07:30 or 2026-11-20T07:30+01:00"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    try:
        moment = parsed.astimezone(UTC)
        moment.astimezone(zone)  # shown in local time later: must exist there too
    except (OverflowError, ValueError):
        raise window.refusal("date", text) from None
    if not window.holds(moment):
        raise window.refusal("date", text)
    return moment


def parse_date(text: str, window: DateWindow = STORABLE, what: str = "date") -> date:
    """Parse an ISO 8601 calendar date such as ``2026-11-23``, within ``window``'s days.
    Raises :class:`InputError` (one line, starting with ``what``) otherwise."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what} {text!r}: expected a date such as 2026-11-23") from None
    if not window.holds_day(day):
        raise window.refusal(what, text)
    return day


def parse_clock_time(text: str) -> time:
    """Parse ``HH:MM`` (24-hour)."""
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"time {text!r}: expected HH:MM, e.g. 21:00") from None


def to_unit(metres: float, unit: Unit) -> float:
    """Metres in the runner's unit (km or mi)."""
    return metres / METRES_PER[unit]


def format_distance(metres: float, unit: Unit, digits: int = 1) -> str:
    """``8.8 km`` or ``5.5 mi``."""
    return f"{to_unit(metres, unit):.{digits}f} {unit}"


def format_km(km: float | None, unit: Unit, digits: int = 1) -> str:
    """A distance held in km (as the rules and JSON hold them) in the runner's unit; ``-``
    for none."""
    return "-" if km is None else format_distance(km * 1000, unit, digits)


def floor_to(value: float, digits: int) -> float:
    """``value`` rounded down to ``digits`` decimals (a budget is never shown larger than it
    is); a hair of tolerance keeps 9.9999999 from showing as 9.9."""
    scale: float = 10.0**digits
    return math.floor(value * scale + 1e-6) / scale


def format_budget(km: float | None, unit: Unit, digits: int = 1) -> str:
    """A budget (what is left, the next run's allowance) in the runner's unit, rounded
    *down* to what is shown, so a run of exactly the shown distance stays within it."""
    if km is None:
        return "-"
    return f"{floor_to(to_unit(km * 1000, unit), digits):.{digits}f} {unit}"


# One rule for every distance a runner reads, in a message, a table or JSON (README, "JSON
# output"): a distance done (a run, a week's total, a baseline week, the longest run) is
# rounded to the nearest shown digit; a cap, a limit, what is left and any maximum are rounded
# *down*, so a run of exactly the shown number stays within it. Percentages (``*_pct``) have
# one decimal and ratios two, the same in a message as in the data beside it.
# A distance within a millimetre of a limit is at it, not over it (the rules' ``EPS_KM``).
EPS_KM = 1e-6
KM_DIGITS = 3  # JSON: km to the metre
PCT_DIGITS = 1
RATIO_DIGITS = 2
# A distance beside its limit takes up to this many decimals to read as it compares (a
# metre in km, under two in miles): see :func:`format_against`.
MAX_DIGITS = 3


def format_against(done_km: float, limit_km: float, unit: Unit, digits: int = 1) -> tuple[str, str]:
    """A distance done and the cap or limit it is measured against, as two texts that
    compare as the numbers do: ``("6.83 mi", "6.82 mi")`` for a week over its cap, never
    ``6.8 mi, over its 6.8 mi cap``; and never a week within its cap reading over it.

    The limit is rounded down and the distance to the nearest, as everywhere; where that
    would make them read the wrong way round, both take as many more decimals as it takes
    (up to :data:`MAX_DIGITS`). Closer than that: over the limit (by more than a
    millimetre) the distance is rounded up at the last decimal; within it, it reads equal."""
    done, limit = to_unit(done_km * 1000, unit), to_unit(limit_km * 1000, unit)
    over = done_km > limit_km + EPS_KM
    places = digits
    for places in range(digits, max(digits, MAX_DIGITS) + 1):
        shown, cap = round(done, places), floor_to(limit, places)
        if shown > cap if over else shown <= cap:
            return f"{shown:.{places}f} {unit}", f"{cap:.{places}f} {unit}"
    scale = 10.0**places
    cap = floor_to(limit, places)
    shown = max(math.ceil(done * scale - 1e-6) / scale, cap + 1 / scale) if over else cap
    return f"{shown:.{places}f} {unit}", f"{cap:.{places}f} {unit}"


def km_json(km: float | None) -> float | None:
    """A distance done in ``--json``: km to the metre, rounded to the nearest; None stays
    None (unknown)."""
    return None if km is None else round(km, KM_DIGITS)


def budget_json(km: float | None) -> float | None:
    """A cap, limit, what is left or a maximum in ``--json``: km to the metre, rounded down
    (never negative); None stays None."""
    return None if km is None else max(0.0, floor_to(km, KM_DIGITS))


def pct(fraction: float) -> float:
    """A fraction as the percentage every message and ``*_pct`` give: 0.4964 -> 49.6."""
    return round(100 * fraction, PCT_DIGITS) + 0.0  # + 0.0: never -0.0


def format_pct(fraction: float, *, signed: bool = True) -> str:
    """``+49.6%`` (``+50%`` when whole): :func:`pct`, as a message shows it."""
    text = f"{pct(fraction):{'+' if signed else ''}.{PCT_DIGITS}f}".removesuffix(".0")
    return f"{text}%"


def ratio(value: float) -> float:
    """A ratio (ACWR, monotony, strain) as every message, view and ``--json`` give it."""
    return round(value, RATIO_DIGITS) + 0.0


def format_ratio(value: float) -> str:
    """``1.53``: :func:`ratio`, as a message shows it."""
    return f"{ratio(value):.{RATIO_DIGITS}f}"


def format_duration(seconds: float) -> str:
    """``36:00`` or ``1:05:00``."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_pace(distance_m: float, seconds: float, unit: Unit) -> str:
    """Average pace as ``5:30/km``; ``-`` when there is no distance."""
    if distance_m <= 0:
        return "-"
    per_unit = seconds / to_unit(distance_m, unit)
    return f"{format_duration(per_unit)}/{unit}"


def format_local(moment: datetime, zone: tzinfo) -> str:
    """An instant as the runner reads it: ``Fri 2026-11-20 07:30``, in their zone."""
    return moment.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")


def utc_iso(moment: datetime) -> str:
    """The one text form of instants in the database: UTC, seconds, ``+00:00``."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def local_iso(moment: datetime, zone: tzinfo) -> str:
    """An instant as every ``--json`` gives it: ISO 8601 to the second, with the runner's
    UTC offset (``2026-11-20T07:30:00+01:00``)."""
    return moment.astimezone(zone).isoformat(timespec="seconds")


def from_utc_iso(text: str) -> datetime:
    """Inverse of :func:`utc_iso`."""
    return datetime.fromisoformat(text).astimezone(UTC)


def stored_day(value: object) -> date:
    """A stored calendar date (``2026-11-16``) within the years of :func:`stored_instant`;
    ``ValueError`` for anything else."""
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError(f"{value!r} is not a date")
    if not STORED_EARLIEST.date() <= day <= STORED_LATEST.date():
        raise ValueError(f"{value!r} is outside {_STORED_YEARS}, the years stridewatch stores")
    return day


def stored_instant(value: object) -> datetime:
    """A stored instant (ISO 8601 text; without an offset it is UTC, as everything stored)
    as aware UTC. Raises ``ValueError`` for anything else: not text, not a date, or outside
    :data:`STORED_EARLIEST` to :data:`STORED_LATEST` (no version stores such a date)."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(f"{value!r} is not a date")
    outside = ValueError(f"{value!r} is outside {_STORED_YEARS}, the years stridewatch stores")
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise outside from None
    if not STORED_EARLIEST <= moment <= STORED_LATEST:
        raise outside
    return moment


def week_start_of(day: date, first_weekday: int) -> date:
    """The first day of the calendar week holding ``day`` (0 = Monday ... 6 = Sunday)."""
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)
