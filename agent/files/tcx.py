"""Garmin Training Center (TCX) files: every ``<Activity>``, also inside a
``MultiSportSession``, becomes its own :class:`Activity` (or its own error).

Totals come from the laps the device wrote: distance summed, average heart rate weighted by
lap time (a plain mean of lap averages overweighs short laps), the largest maximum. Cadence
(``RunCadence`` or ``Cadence``) is per foot in Garmin's files and per step in some others:
decided per file from the values (:func:`~agent.files.activity.steps_factor`).

The file is read as a stream of parse events (:mod:`agent.files.xmltools`): each trackpoint
is read into an activity's columns and let go, so only the laps' totals stay as elements.
A day's TCX (some 60 MB) costs a few megabytes, not the half gigabyte of its tree.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Collection, Iterator
from datetime import datetime
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

from agent.files import xmltools as x
from agent.files.activity import (
    SPAN_SLACK_S,
    Activity,
    ActivityFileError,
    CadenceUnit,
    SampleTotals,
    weighted_mean,
    with_legs,
)
from agent.files.sports import classify

if TYPE_CHECKING:
    from agent.store import SampleRow

Leg = Activity | ActivityFileError


def read_tcx(root: Element) -> list[Leg]:
    """Each activity of a parsed file, in file order; a damaged one as its error."""
    return read_tcx_events(root, x.walk(root))


def read_tcx_events(root: Element, events: Iterator[x.Event]) -> list[Leg]:
    """:func:`read_tcx` of a file whose root element has started: ``events`` are the
    parse's further events, read to the end (each trackpoint let go once read)."""
    reader = _Reader(root)
    for event, element in events:
        if event == "start":
            reader.start(element)
        else:
            reader.end(element)
    legs = [leg for leg in reader.legs if leg is not None]  # each filled as it ended
    noun = "leg" if reader.multisport else "activity"
    activities = with_legs([leg for leg in legs if isinstance(leg, Activity)], noun)
    labelled = iter(activities)
    return [next(labelled) if isinstance(leg, Activity) else leg for leg in legs]


class TcxSamples(Collection["SampleRow"]):
    """The samples of one activity, in columns (t, distance, speed: NaN for none, cadence
    and heart rate as the file writes them: 0 for none), made into rows when read."""

    def __init__(self) -> None:
        self.t, self.distance, self.speed = array("d"), array("d"), array("d")
        self.cadence, self.hr = array("d"), array("d")
        self.factor = 2

    def append(self, t: float, distance: float, speed: float, cadence: float, hr: float) -> None:
        self.t.append(t)
        self.distance.append(distance)
        self.speed.append(speed)
        self.cadence.append(cadence)
        self.hr.append(hr)

    def __len__(self) -> int:
        return len(self.t)

    def __contains__(self, item: object) -> bool:
        return any(sample == item for sample in self)

    def __iter__(self) -> Iterator[SampleRow]:
        factor = self.factor
        for t, distance, speed, cadence, hr in zip(
            self.t, self.distance, self.speed, self.cadence, self.hr, strict=True
        ):
            yield (
                t,
                distance,
                None if speed != speed else speed,  # NaN: none
                cadence * factor if cadence else None,
                round(hr) if hr else None,
            )


class _Open:
    """An ``<Activity>`` being read: its element (laps stay; trackpoints are let go once
    read into :attr:`samples`), where its leg goes, and what its trackpoints said."""

    def __init__(self, element: Element, slot: int) -> None:
        self.element, self.slot = element, slot
        self.samples = TcxSamples()
        self.unit = CadenceUnit()  # per foot or per step, from every trackpoint's cadence
        self.last_t: float | None = None
        self.distance = 0.0


class _Reader:
    def __init__(self, root: Element) -> None:
        self.stack: list[Element] = [root]
        self.open: list[_Open] = []
        self.legs: list[Leg | None] = []
        self.multisport = x.local(root) == "MultiSportSession"
        self.point_depth = 0  # of the <Trackpoint> being read (0: none)

    def start(self, element: Element) -> None:
        self.stack.append(element)
        if self.point_depth:
            return
        name = x.local(element)
        if name == "Activity":
            self.open.append(_Open(element, len(self.legs)))
            self.legs.append(None)
        elif name == "Trackpoint":
            self.point_depth = len(self.stack)
        elif name == "MultiSportSession":
            self.multisport = True

    def end(self, element: Element) -> None:
        depth = len(self.stack)
        self.stack.pop()
        if self.point_depth:
            if depth > self.point_depth:
                return  # inside a trackpoint: read with it
            self.point_depth = 0
            if self.open:
                _add_point(self.open[-1], element)
            if self.stack:
                self.stack[-1].remove(element)  # read: let it go
        elif self.open and element is self.open[-1].element:
            ended = self.open.pop()
            try:
                self.legs[ended.slot] = _activity(ended)
            except ActivityFileError as exc:
                self.legs[ended.slot] = exc
            element.clear()


def _add_point(activity: _Open, point: Element) -> None:
    """A ``<Trackpoint>`` of ``activity``: its cadence counts for the file's cadence unit;
    it is a sample unless its time is missing, repeated or backwards (the first stands, in
    file order). A point without a distance has the one before it."""
    cadence = _raw_cadence(point)
    activity.unit.add(cadence)
    moment = x.parse_time(x.text(x.child(point, "Time")))
    if moment is None:
        return
    t = moment.timestamp()
    if activity.last_t is not None and t <= activity.last_t:
        return
    activity.last_t = t
    activity.distance = x.number(point, "DistanceMeters") or activity.distance
    hr = x.number(point, "HeartRateBpm", "Value")
    speed = x.deep_number(point, "Speed")
    activity.samples.append(
        t,
        activity.distance,
        math.nan if speed is None else speed,
        cadence or 0.0,
        hr or 0.0,
    )


def _activity(read: _Open) -> Activity:
    element, samples = read.element, read.samples
    samples.factor = read.unit.factor
    laps = list(x.children(element, "Lap"))
    started = _start(element, laps)
    if started is None or not laps:
        raise ActivityFileError("damaged TCX activity: no laps or no start time")
    times = [x.number(lap, "TotalTimeSeconds") for lap in laps]
    moving = sum(t for t in times if t is not None)
    distance = sum(x.number(lap, "DistanceMeters") or 0.0 for lap in laps)
    # The laps say when the activity ended; a trackpoint dated years off does not.
    lap_ends = [
        start.timestamp() + (seconds or 0.0)
        for lap, seconds in zip(laps, times, strict=True)
        if (start := x.parse_time(lap.get("StartTime"))) is not None
    ]
    end = max(lap_ends, default=started.timestamp() + moving)
    if samples and end < samples.t[-1] <= end + SPAN_SLACK_S:
        end = samples.t[-1]  # the track goes on past the lap timers (Polar's pauses)
    if not moving and samples:
        moving = samples.t[-1] - samples.t[0]  # lap totals missing: the track's time
    if not distance and samples:
        distance = samples.distance[-1]
    hr = [x.number(lap, "AverageHeartRateBpm", "Value") for lap in laps]
    max_hr = [x.number(lap, "MaximumHeartRateBpm", "Value") for lap in laps]
    totals = SampleTotals()
    for sample in samples:
        totals.add(sample)
    return Activity(
        started_at=started,
        distance_m=distance,
        moving_s=moving,
        elapsed_s=max(moving, end - started.timestamp()),
        sport=classify(element.get("Sport")),
        format="tcx",
        samples=samples,
        avg_hr=weighted_mean(zip(hr, times, strict=True)) or totals.hr[0],
        max_hr=max((h for h in max_hr if h is not None), default=None),
        avg_cadence=totals.cadence,
        external_id=f"tcx:{started.isoformat()}",
    )


def _start(element: Element, laps: list[Element]) -> datetime | None:
    for lap in laps:
        started = x.parse_time(lap.get("StartTime"))
        if started is not None:
            return started
    return x.parse_time(x.text(x.child(element, "Id")))


def _raw_cadence(point: Element) -> float | None:
    cadence = x.deep_number(point, "RunCadence")
    return cadence if cadence is not None else x.number(point, "Cadence")
