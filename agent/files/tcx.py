"""Garmin Training Center (TCX) files: every ``<Activity>``, also inside a
``MultiSportSession``, becomes its own :class:`Activity` (or its own error).

Totals come from the laps the device wrote: distance summed, average heart rate weighted by
lap time (a plain mean of lap averages overweighs short laps), the largest maximum. Cadence
(``RunCadence`` or ``Cadence``) is per foot in Garmin's files and per step in some others:
decided per file from the values (:func:`~agent.files.activity.steps_factor`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

from agent.files import xmltools as x
from agent.files.activity import (
    SPAN_SLACK_S,
    Activity,
    ActivityFileError,
    average_cadence,
    sample_hr,
    steps_factor,
    weighted_mean,
    with_legs,
)
from agent.files.sports import classify

if TYPE_CHECKING:
    from agent.store import SampleRow

Leg = Activity | ActivityFileError


def read_tcx(root: Element) -> list[Leg]:
    """Each activity of the file, in file order; a damaged one as its error."""
    elements = list(x.descendants(root, "Activity"))
    if not elements:
        return []
    legs: list[Leg] = []
    for element in elements:
        try:
            legs.append(_activity(element))
        except ActivityFileError as exc:
            legs.append(exc)
    multisport = any(True for _ in x.descendants(root, "MultiSportSession"))
    noun = "leg" if multisport else "activity"
    activities = with_legs([leg for leg in legs if isinstance(leg, Activity)], noun)
    labelled = iter(activities)
    return [next(labelled) if isinstance(leg, Activity) else leg for leg in legs]


def _activity(element: Element) -> Activity:
    laps = list(x.children(element, "Lap"))
    points = list(x.descendants(element, "Trackpoint"))
    factor = steps_factor(_raw_cadence(p) for p in points)
    samples = _samples(points, factor)
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
    if samples and end < samples[-1][0] <= end + SPAN_SLACK_S:
        end = samples[-1][0]  # the track goes on past the lap timers (Polar's pauses)
    if not moving and samples:
        moving = samples[-1][0] - samples[0][0]  # lap totals missing: the track's time
    if not distance and samples:
        distance = samples[-1][1]
    hr = [x.number(lap, "AverageHeartRateBpm", "Value") for lap in laps]
    max_hr = [x.number(lap, "MaximumHeartRateBpm", "Value") for lap in laps]
    return Activity(
        started_at=started,
        distance_m=distance,
        moving_s=moving,
        elapsed_s=max(moving, end - started.timestamp()),
        sport=classify(element.get("Sport")),
        format="tcx",
        samples=tuple(samples),
        avg_hr=weighted_mean(zip(hr, times, strict=True)) or sample_hr(samples)[0],
        max_hr=max((h for h in max_hr if h is not None), default=None),
        avg_cadence=average_cadence(samples),
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


def _samples(points: list[Element], factor: int) -> list[SampleRow]:
    samples: list[SampleRow] = []
    distance = 0.0
    last_t = None
    for point in points:
        moment = x.parse_time(x.text(x.child(point, "Time")))
        if moment is None:
            continue
        t = moment.timestamp()
        if last_t is not None and t <= last_t:
            continue  # a repeated or backwards time: keep the first, in file order
        last_t = t
        distance = x.number(point, "DistanceMeters") or distance
        cadence = _raw_cadence(point)
        hr = x.number(point, "HeartRateBpm", "Value")
        speed = x.deep_number(point, "Speed")
        steps = cadence * factor if cadence else None
        samples.append((t, distance, speed, steps, round(hr) if hr else None))
    return samples
