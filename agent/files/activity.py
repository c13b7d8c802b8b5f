"""One activity as read from a file, the errors a reader raises, and the checks every value
passes before it can reach the database.

Readers build :class:`Activity` values from whatever a file holds; :func:`validated` is the
boundary: totals must be finite and not negative, heart rate and cadence plausible for a
human (else dropped, not stored), sample times finite, and the start a real calendar date.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from agent.errors import StridewatchError
from agent.files.sports import UNKNOWN, Sport

if TYPE_CHECKING:
    from agent.store import SampleRow

Format = Literal["fit", "tcx", "gpx", "csv"]

# A heart rate outside this range (bpm) is a sensor fault or a damaged file, not a person.
HR_RANGE = (25.0, 250.0)
# No runner moves faster than this (m/s; a sprinter's peak is 12.4): a faster sample speed is
# a GPS jump, stored as none.
MAX_SPEED_MPS = 12.5
# Running cadence in steps/min: above 240 nobody runs (sprinters peak near 230-240).
MAX_CADENCE_SPM = 240.0
# A file stating its cadence per foot (strides/min, 60-100 while running) doubles it to
# steps/min; one already in steps/min (150-200) keeps it. A median above this says steps:
# 115 strides/min would be 230 steps/min, a sprint no run sustains.
STRIDES_OR_STEPS = 115.0
# Between two samples more than this apart the runner paused: the gap does not weigh in
# time-weighted averages.
MAX_SAMPLE_GAP_S = 10.0
# A distance (m) or a time (s) above this is a damaged number, not a long run (a week is
# 604,800 s; no run is 10,000 km).
MAX_TOTAL = 1e7
# Samples this far (s) outside an activity's start and end still belong to it (a device's
# last record after its summary's end, a file's first point before the lap's start).
SPAN_SLACK_S = 3600.0
# FIT's epoch (1989-12-31): dates before it come from a device whose clock was never set.
# The default of the config's dates.earliest_year, which callers pass on.
EARLIEST_START = datetime(1990, 1, 1, tzinfo=UTC)


class ActivityFileError(StridewatchError):
    """A file that cannot be read as an activity: damaged, truncated, or another kind."""

    exit_code = 2


class NotARunError(StridewatchError):
    """A readable activity file that holds something other than a run."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Activity:
    """One activity (or one leg of a multisport file) as read from a file, before it is
    checked and stored. Distances in metres, times in seconds, cadence in steps/min."""

    started_at: datetime
    distance_m: float
    moving_s: float
    elapsed_s: float
    sport: Sport = UNKNOWN
    format: Format = "fit"
    # A tuple, or for a long track a collection made on demand (agent.files.gpx_track): it
    # can be iterated again and again, and is never held as a list of tuples.
    samples: Collection[SampleRow] = ()
    avg_hr: float | None = None
    max_hr: float | None = None
    avg_cadence: float | None = None
    external_id: str | None = None
    warning: str | None = None  # e.g. totals salvaged from a damaged file
    name: str | None = None  # the activity's title, where the export gives one
    leg: str | None = None  # "leg 5 of 5" in a file holding several activities
    clock_unset: bool = False  # times are device-relative: the file has no calendar date
    exported: bool = False  # a FIT file stridewatch wrote: a copy, not a device's record

    @property
    def ended_at(self) -> datetime:
        return self.started_at + timedelta(seconds=max(self.elapsed_s, self.moving_s))

    def shifted_to(self, start: datetime) -> Activity:
        """The same activity started at ``start`` (for a file whose clock was never set)."""
        delta = start.timestamp() - self.started_at.timestamp()
        samples = tuple((s[0] + delta, *s[1:]) for s in self.samples)
        return replace(self, started_at=start, samples=samples, clock_unset=False)

    def with_warning(self, text: str) -> Activity:
        return replace(self, warning=f"{self.warning}; {text}" if self.warning else text)


def with_legs(activities: Sequence[Activity], noun: str = "leg") -> list[Activity]:
    """Label each activity "leg i of n" (a multisport file's legs) or "activity i of n" (a
    file holding separate activities) when a file holds more than one."""
    if len(activities) < 2:
        return list(activities)
    n = len(activities)
    return [replace(a, leg=f"{noun} {i} of {n}") for i, a in enumerate(activities, 1)]


# -- the boundary -------------------------------------------------------------------------


def validated(
    activity: Activity, now: datetime, *, earliest: datetime = EARLIEST_START
) -> Activity:
    """``activity`` with every value checked: raises :class:`ActivityFileError` for totals no
    run can have (negative, not finite) or a start that is no real date (before
    ``earliest``, the configured ``dates.earliest_year``, or after ``now``); drops
    implausible heart rates and cadences (stored as none) and samples whose time is not
    finite."""
    for label, value in (
        ("distance", activity.distance_m),
        ("moving time", activity.moving_s),
        ("elapsed time", activity.elapsed_s),
    ):
        if not math.isfinite(value) or value < 0 or value > MAX_TOTAL:
            raise ActivityFileError(f"damaged: its {label} is {value:g}, which no run can have")
    if not activity.clock_unset:
        _check_start(activity.started_at, now, earliest)
    first = activity.started_at.timestamp() - SPAN_SLACK_S
    last = activity.ended_at.timestamp() + SPAN_SLACK_S
    samples: Collection[SampleRow]
    if isinstance(activity.samples, tuple):
        samples = tuple(_checked(activity.samples, first, last))
    else:
        samples = CheckedSamples(activity.samples, first, last)
    return replace(
        activity,
        samples=samples,
        avg_hr=plausible_hr(activity.avg_hr),
        max_hr=plausible_hr(activity.max_hr),
        avg_cadence=plausible_cadence(activity.avg_cadence),
    )


def _checked(samples: Iterable[SampleRow], first: float, last: float) -> Iterator[SampleRow]:
    """The samples whose time is finite, moves forward, and lies within ``first``-``last``
    (a damaged file can hold a record dated decades later; some apps write each second
    twice: the first stands), each with its values checked: a distance from 0 to
    :data:`MAX_TOTAL` (else 0), a speed a runner can have (else none), a plausible cadence
    and heart rate (else none; :func:`plausible_cadence`, :func:`plausible_hr`). Written out
    in one loop: a long track's millions of samples pass here on every read."""
    number, low_hr, high_hr = (int, float), *HR_RANGE
    last_t = -math.inf
    for t, distance, speed, cadence, hr in samples:
        if not (isinstance(t, number) and first <= t <= last and t > last_t):
            continue
        last_t = t
        yield (
            t,
            distance if isinstance(distance, number) and 0 <= distance <= MAX_TOTAL else 0.0,
            speed if isinstance(speed, number) and 0 <= speed <= MAX_SPEED_MPS else None,
            float(cadence)
            if isinstance(cadence, number) and 0 < cadence <= MAX_CADENCE_SPM
            else None,
            round(float(hr)) if isinstance(hr, number) and low_hr <= hr <= high_hr else None,
        )


class CheckedSamples(Collection["SampleRow"]):
    """:func:`validated`'s samples of a long track, checked each time they are read rather
    than held checked: ``base`` is read again for every pass (a track of two million points
    is never a list of tuples)."""

    def __init__(self, base: Collection[SampleRow], first: float, last: float) -> None:
        self._base, self._first, self._last = base, first, last
        self._count: int | None = None

    def __iter__(self) -> Iterator[SampleRow]:
        count = 0
        for sample in _checked(self._base, self._first, self._last):
            count += 1
            yield sample
        self._count = count  # read to the end (stored, say): its length is known

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self)
        return self._count

    def __contains__(self, item: object) -> bool:
        return any(sample == item for sample in self)


def _check_start(start: datetime, now: datetime, earliest: datetime) -> None:
    if start < earliest:
        raise ActivityFileError(
            f"its date {start.date().isoformat()} is before {earliest.date().isoformat()}, "
            "the earliest date stridewatch takes (dates.earliest_year in the config): a "
            "device clock never set?"
        )
    if start > now + timedelta(days=1):
        raise ActivityFileError(
            f"its date {start.date().isoformat()} is in the future (a device clock set wrong?)"
        )


def _finite(value: float | None) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def plausible_hr(value: float | None) -> float | None:
    """A heart rate in bpm if a person can have it, else None."""
    if not _finite(value) or value is None:
        return None
    return float(value) if HR_RANGE[0] <= value <= HR_RANGE[1] else None


def plausible_cadence(value: float | None) -> float | None:
    """A cadence in steps/min if a runner can have it (above 0, at most 240), else None:
    a cadence of 0 is no cadence measured."""
    if not _finite(value) or value is None:
        return None
    return float(value) if 0 < value <= MAX_CADENCE_SPM else None


# -- cadence and averages -----------------------------------------------------------------


def steps_factor(values: Iterable[float | None]) -> int:
    """2 when a file's cadence values are per foot (strides/min), 1 when they are already
    steps/min: decided from the median of the values above zero."""
    unit = CadenceUnit()
    for value in values:
        unit.add(value)
    return unit.factor


class CadenceUnit:
    """:func:`steps_factor` of values met one by one. The median is counted, not sorted: it
    is above :data:`STRIDES_OR_STEPS` when at most half the values are not."""

    __slots__ = ("_at_most", "_present")

    def __init__(self) -> None:
        self._present = self._at_most = 0

    def add(self, value: float | None) -> None:
        if value is not None and math.isfinite(value) and value > 0:
            self._present += 1
            self._at_most += value <= STRIDES_OR_STEPS

    @property
    def factor(self) -> int:
        if not self._present:
            return 2
        return 1 if self._at_most <= self._present // 2 else 2


class SampleTotals:
    """What the samples of a run say about it, read one by one: the mean and maximum heart
    rate (:func:`sample_hr`) and the average cadence (:func:`average_cadence`). One pass
    over a long track gives all three."""

    __slots__ = ("_before", "_cadence", "_hr_max", "_hr_n", "_hr_sum", "_n", "_sum", "_weight")

    def __init__(self) -> None:
        self._before: SampleRow | None = None
        self._cadence = self._weight = 0.0
        self._sum, self._n = 0.0, 0  # every cadence, for samples too far apart to weigh
        self._hr_sum, self._hr_n, self._hr_max = 0.0, 0, -math.inf

    def add(self, sample: SampleRow) -> None:
        before = self._before
        if before is not None:
            cadence = before[3]
            dt = sample[0] - before[0]
            if cadence and 0 < dt <= MAX_SAMPLE_GAP_S:
                self._cadence += cadence * dt
                self._weight += dt
        if sample[3]:
            self._sum += sample[3]
            self._n += 1
        if sample[4]:
            beats = float(sample[4])
            self._hr_sum += beats
            self._hr_n += 1
            self._hr_max = max(self._hr_max, beats)
        self._before = sample

    @property
    def hr(self) -> tuple[float | None, float | None]:
        if not self._hr_n:
            return None, None
        return self._hr_sum / self._hr_n, self._hr_max

    @property
    def cadence(self) -> float | None:
        if self._weight:
            return self._cadence / self._weight
        return self._sum / self._n if self._n else None


def totals_of(samples: Iterable[SampleRow]) -> SampleTotals:
    totals = SampleTotals()
    for sample in samples:
        totals.add(sample)
    return totals


def average_cadence(samples: Iterable[SampleRow]) -> float | None:
    """The run's average cadence, steps/min: time-weighted over the samples with a cadence
    (zeros are no cadence: standing, or no footpod), gaps over 10 s not weighed; the plain
    mean of the cadences when no two samples are close enough to weigh. The one definition
    for imported runs and FIT export; the recorder counts the same way live."""
    return totals_of(samples).cadence


def sample_hr(samples: Iterable[SampleRow]) -> tuple[float | None, float | None]:
    """The mean and the maximum heart rate (bpm) of the samples that have one, for files
    whose summary lacks them (a GPX, a TCX without lap averages, the Fenix 2's FIT)."""
    return totals_of(samples).hr


def weighted_mean(pairs: Iterable[tuple[float | None, float | None]]) -> float | None:
    """The mean of ``value`` weighted by ``weight`` over pairs where both are present and the
    weight is above zero (lap averages weighted by lap time)."""
    total = weight = 0.0
    for value, w in pairs:
        if value is not None and w is not None and w > 0:
            total += value * w
            weight += w
    return total / weight if weight else None
