"""A GPX file's points held in columns, and what :mod:`agent.files.gpx` decides from them.

A long track (a multi-day race at a point a second is a 200 MB file, over half a million
points) is never a list of objects: each point is a row of five typed arrays (34 bytes),
a piece of track is a range of rows, and an activity's samples are made from the rows when
they are read (:class:`TrackSamples`), as often as they are read. The rules are those the
module docstring of :mod:`agent.files.gpx` states; the constants live there.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agent.files.activity import (
    MAX_SPEED_MPS,
    Activity,
    SampleTotals,
    steps_factor,
)
from agent.files.sports import Sport

if TYPE_CHECKING:
    from agent.store import SampleRow

# Earth's mean radius (IUGG), for haversine distances between GPX points.
EARTH_RADIUS_M = 6_371_008.8
# Rows [start, end) of the columns: a piece of track, its times strictly increasing.
Piece = tuple[int, int]


class Points:
    """The points of a GPX file, a row each: time (unix s), latitude, longitude, cadence as
    the file writes it (0: none) and heart rate as stored (rounded, plausible; 0: none)."""

    __slots__ = ("cad", "hr", "lat", "lon", "t")

    def __init__(self) -> None:
        self.t = array("d")
        self.lat = array("d")
        self.lon = array("d")
        self.cad = array("d")
        self.hr = array("H")

    def __len__(self) -> int:
        return len(self.t)

    def append(self, t: float, lat: float, lon: float, cad: float, hr: int) -> None:
        self.t.append(t)
        self.lat.append(lat)
        self.lon.append(lon)
        self.cad.append(cad)
        self.hr.append(hr)

    def truncate(self, size: int) -> None:
        for column in self._columns():
            del column[size:]

    def drop_positions(self) -> None:
        """Free the positions once every distance is known (samples need none)."""
        del self.lat[:], self.lon[:]

    def _columns(self) -> tuple[array[Any], ...]:
        return self.t, self.lat, self.lon, self.cad, self.hr

    def keep(self, start: int, rows: list[int] | None, mask: bytearray | None) -> int:
        """Rewrite the rows from ``start`` to the end as the ``rows`` given, or as the rows
        whose ``mask`` byte is set; return the new end."""
        for column in self._columns():
            tail = column[start:]
            if rows is not None:
                kept = (tail[i - start] for i in rows)
            else:
                assert mask is not None
                kept = (v for v, k in zip(tail, mask, strict=True) if k)
            del column[start:]
            column.extend(kept)
        return len(self.t)


def in_time_order(points: Points, start: int, gap_s: float, min_share: float) -> int:
    """Put the rows from ``start`` to the end (one piece, as read) in time order; return
    its new end. File order, dropping points whose time does not move forward and single
    points far ahead of both neighbours (a junk date, more than ``gap_s`` ahead); sorted
    instead when that would keep less than ``min_share`` of them."""
    t = points.t
    end = len(t)
    mask = bytearray(end - start)
    kept = 0
    last = -math.inf
    for i in range(start, end):
        now = t[i]
        if start < i < end - 1 and now - t[i - 1] > gap_s and t[i + 1] < now:
            continue
        if now > last:
            mask[i - start] = 1
            kept += 1
            last = now
    if kept == end - start:
        return end
    if kept >= min_share * (end - start):
        return points.keep(start, None, mask)
    rows: list[int] = []
    for i in sorted(range(start, end), key=t.__getitem__):
        if not rows or t[i] != t[rows[-1]]:
            rows.append(i)  # the first of equal times stands (a stable sort)
    return points.keep(start, rows, None)


def clusters(points: Points, pieces: list[Piece], gap_s: float) -> list[list[Piece]]:
    """Pieces grouped into activities: a gap of more than ``gap_s`` without points starts
    another; the groups as they come (the caller drops stray fixes)."""
    t = points.t
    split: list[Piece] = []
    for start, end in pieces:
        first = start
        for i in range(start + 1, end):
            if t[i] - t[i - 1] > gap_s:
                split.append((first, i))
                first = i
        split.append((first, end))
    groups: list[list[Piece]] = []
    last = -math.inf
    for piece in sorted(split, key=lambda p: t[p[0]]):
        if t[piece[0]] - last > gap_s:
            groups.append([])
        groups[-1].append(piece)
        last = max(last, t[piece[1] - 1])
    return groups


def span_s(points: Points, group: list[Piece]) -> float:
    """From a group's first point to its last."""
    return max(points.t[end - 1] for _, end in group) - points.t[group[0][0]]


class TrackSamples(Collection["SampleRow"]):
    """The samples of one GPX activity, made from the rows as they are read: the rows of
    ``spans``, with the distance and speed worked out for each (``speed`` NaN: none), the
    cadence times ``factor`` (steps per stride, or 1)."""

    def __init__(self, points: Points, factor: int) -> None:
        self.points, self.factor = points, factor
        self.spans: list[Piece] = []
        self.distance = array("d")
        self.speed = array("d")

    def __len__(self) -> int:
        return len(self.distance)

    def __contains__(self, item: object) -> bool:
        return any(sample == item for sample in self)

    def __iter__(self) -> Iterator[SampleRow]:
        t, cad, hr = self.points.t, self.points.cad, self.points.hr
        distance, speed, factor = self.distance, self.speed, self.factor
        k = 0
        for start, end in self.spans:
            for i in range(start, end):
                v, c, h = speed[k], cad[i], hr[i]
                yield (
                    t[i],
                    distance[k],
                    None if v != v else v,  # NaN: no speed
                    c * factor if c else None,
                    h or None,
                )
                k += 1

    @property
    def first_t(self) -> float:
        return self.points.t[self.spans[0][0]]

    @property
    def last_t(self) -> float:
        return self.points.t[self.spans[-1][1] - 1]


def activity(sport: Sport, points: Points, group: list[Piece], moving_speed: float) -> Activity:
    """One activity from a group of pieces (see :func:`agent.files.gpx.read_gpx`)."""
    cad = points.cad
    factor = steps_factor(v for start, end in group for v in cad[start:end])
    segments = sorted(group, key=lambda p: points.t[p[0]])
    samples = TrackSamples(points, factor)
    moving = _fill(samples, segments, moving_speed)
    totals = SampleTotals()
    for sample in samples:
        totals.add(sample)
    first, last = samples.first_t, samples.last_t
    avg_hr, max_hr = totals.hr
    return Activity(
        started_at=datetime.fromtimestamp(first, UTC),
        distance_m=samples.distance[-1],
        moving_s=moving,
        elapsed_s=last - first,
        sport=sport,
        format="gpx",
        samples=samples,
        avg_hr=avg_hr,
        max_hr=max_hr,
        avg_cadence=totals.cadence,
    )


def _fill(samples: TrackSamples, segments: list[Piece], moving_speed: float) -> float:
    """Fill ``samples`` with the segments' rows, each with its cumulative distance and its
    point-to-point speed; return the moving time (steps at ``moving_speed`` or faster).
    Segments that overlap in time with an earlier one lose their overlapping points. When
    the track's usual speed is a runner's, a step faster than any runner (a GPS jump: a
    cold fix, a reflection) adds no distance and no time."""
    t = samples.points.t
    steps = _steps(samples.points, segments)
    jumps = _usual_speed_at_most(t, segments, steps, MAX_SPEED_MPS)
    distance, moving, after, offset = 0.0, 0.0, -math.inf, 0
    for start, end in segments:
        # steps[base + i]: from row i - 1 to row i of this segment
        base, offset = offset - start - 1, offset + end - start - 1
        first = start
        while first < end and t[first] <= after:
            first += 1
        if first == end:
            continue
        samples.spans.append((first, end))
        samples.distance.append(distance)
        samples.speed.append(math.nan)
        segment_moving = 0.0
        for i in range(first + 1, end):
            step, seconds = steps[base + i], t[i] - t[i - 1]
            speed = step / seconds
            if jumps and speed > MAX_SPEED_MPS:
                speed = math.nan  # no distance, no time
            else:
                distance += step
                if speed >= moving_speed:
                    segment_moving += seconds
            samples.distance.append(distance)
            samples.speed.append(speed)
        moving += segment_moving
        after = t[end - 1]
    return moving


def _steps(points: Points, segments: list[Piece]) -> array[float]:
    """The distance (m) from each row to the next within each segment, in order."""
    lat, lon = points.lat, points.lon
    steps = array("d")
    for start, end in segments:
        steps.extend(
            haversine_m(lat[i - 1], lon[i - 1], lat[i], lon[i]) for i in range(start + 1, end)
        )
    return steps


def _usual_speed_at_most(
    t: array[float], segments: list[Piece], steps: array[float], limit: float
) -> bool:
    """Whether the median point-to-point speed is at most ``limit`` m/s (none: yes): a step
    far faster than a track's usual pace is a GPS jump; a track whose usual pace is that
    fast is a vehicle (judged as a whole). Counted, not sorted: the median is at most the
    limit when more than half the speeds are."""
    count = at_most = 0
    k = 0
    for start, end in segments:
        for i in range(start + 1, end):
            at_most += steps[k] / (t[i] - t[i - 1]) <= limit
            k += 1
        count += max(0, end - start - 1)
    return count == 0 or at_most >= count // 2 + 1


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (degrees)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlam = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))
