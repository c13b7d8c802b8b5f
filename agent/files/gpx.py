"""GPX tracks: a GPS track with times is an activity; its distance is the haversine sum of
the points (a GPS track's distance, ranked below a device's own in FIT or TCX).

What real files do, and what is read:

- the sport is the track's ``<type>``, a word or (Strava) a number; tracks of different
  types are separate activities, tracks of one type (or none) one activity;
- points come in file order: where a few times go backwards (apps that interleave heart-rate
  points) or repeat, those points are dropped; a file mostly in reverse is sorted;
- a point outside the globe (OpenTracks' old pause markers at latitude 100 and 200, or not
  finite) is no position: it ends a segment, and the distance is never bridged across it;
- heart rate and cadence come from Garmin's TrackPointExtension (``hr``, ``cad``); cadence is
  per foot or per step as the file's values say.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

from agent.files import xmltools as x
from agent.files.activity import (
    MAX_SPEED_MPS,
    Activity,
    ActivityFileError,
    NotARunError,
    average_cadence,
    plausible_hr,
    sample_hr,
    steps_factor,
    with_legs,
)
from agent.files.sports import Sport, classify

if TYPE_CHECKING:
    from agent.store import SampleRow

# Earth's mean radius (IUGG), for haversine distances between GPX points.
EARTH_RADIUS_M = 6_371_008.8
# Between two points, a pace slower than this is standing still (the recorder's auto-pause
# threshold); those seconds are not moving time.
GPX_MOVING_SPEED = 0.5
# A segment whose times run forward for fewer than half its points is taken as unordered
# (written in reverse, say) and sorted; otherwise the file's order stands.
MIN_ORDERED_SHARE = 0.5
# More than this (s) without a point starts another activity (the runs of two days in one
# file); fewer points than MIN_POINTS, or under MIN_ACTIVITY_S, is a stray fix.
ACTIVITY_GAP_S = 3600.0
MIN_POINTS = 5
MIN_ACTIVITY_S = 60.0
# A segment with more than this share of its points untimed is a route, not a recording.
MAX_UNTIMED_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class _Point:
    t: float
    lat: float
    lon: float
    hr: float | None
    cadence: float | None  # as the file writes it


def read_gpx(root: Element) -> list[Activity]:
    """The activities of a GPX file: one per sport named by its tracks."""
    creator = root.get("creator")
    groups: dict[str, tuple[Sport, list[list[_Point]]]] = {}
    seen = _Seen()
    for track in x.descendants(root, "trk"):
        sport = _track_sport(track, creator)
        for segment in x.children(track, "trkseg"):
            pieces = _segments(segment, seen)
            groups.setdefault(sport.name, (sport, []))[1].extend(pieces)
    activities = [
        _activity(sport, cluster) for sport, segs in groups.values() for cluster in _clusters(segs)
    ]
    if not activities:
        if seen.bad_positions and seen.bad_positions >= seen.points - len(seen.bad_times):
            raise ActivityFileError("its positions are not on the globe (not finite, or beyond)")
        if seen.bad_times:
            raise ActivityFileError(
                f"its times are not dates a run can have (such as {seen.bad_times[0]!r})"
            )
        if seen.points:
            raise NotARunError("GPX track without times: cannot tell when or how long it was")
        raise NotARunError("GPX file without a track (a route or waypoints only?)")
    return with_legs(sorted(activities, key=lambda a: a.started_at), "activity")


class _Seen:
    """What the reading met: points at all, and times that are no date."""

    def __init__(self) -> None:
        self.points = 0
        self.bad_positions = 0
        self.bad_times: list[str] = []


def _track_sport(track: Element, creator: str | None) -> Sport:
    return classify(x.text(x.child(track, "type")), creator)


def _segments(segment: Element, seen: _Seen) -> list[list[_Point]]:
    """A ``<trkseg>`` as runs of valid points in time order. A point without a readable
    time is dropped (one bad ``<time>`` does not lose the track); a segment where most points
    have none is a route drawn on a map, not an activity."""
    pieces: list[list[_Point]] = [[]]
    points = list(x.children(segment, "trkpt"))
    untimed = 0
    for point in points:
        seen.points += 1
        raw = x.text(x.child(point, "time"))
        moment = x.parse_time(raw)
        if moment is None:
            untimed += 1
            if raw:
                seen.bad_times.append(raw)
            continue
        lat, lon = x.parse_number(point.get("lat")), x.parse_number(point.get("lon"))
        if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
            seen.bad_positions += 1
            pieces.append([])  # a pause marker or a broken point: not a position
            continue
        hr, cadence = x.deep_number(point, "hr"), x.deep_number(point, "cad")
        pieces[-1].append(_Point(moment.timestamp(), lat, lon, hr, cadence))
    if untimed > MAX_UNTIMED_SHARE * len(points):
        return []  # a route with a few times (waypoints stamped by hand): no activity
    return [ordered for piece in pieces if (ordered := _in_time_order(piece))]


def _in_time_order(points: list[_Point]) -> list[_Point]:
    """File order, dropping points whose time does not move forward and single points far
    ahead of both neighbours (a junk date); sorted instead when that would drop most."""
    kept: list[_Point] = []
    for i, point in enumerate(points):
        if 0 < i < len(points) - 1:
            before, after = points[i - 1].t, points[i + 1].t
            if point.t - before > ACTIVITY_GAP_S and after < point.t:
                continue
        if not kept or point.t > kept[-1].t:
            kept.append(point)
    if len(kept) >= MIN_ORDERED_SHARE * len(points):
        return kept
    by_time: dict[float, _Point] = {}
    for point in sorted(points, key=lambda p: p.t):
        by_time.setdefault(point.t, point)
    return list(by_time.values())


def _clusters(segments: list[list[_Point]]) -> list[list[list[_Point]]]:
    """Segments grouped into activities: a gap of more than :data:`ACTIVITY_GAP_S` without
    points starts another (two days' runs in one file, a morning and an evening); a group
    of a handful of points or under a minute beside a real one is a stray fix."""
    pieces: list[list[_Point]] = []
    for segment in segments:
        piece = [segment[0]]
        for before, point in itertools.pairwise(segment):
            if point.t - before.t > ACTIVITY_GAP_S:
                pieces.append(piece)
                piece = []
            piece.append(point)
        pieces.append(piece)
    clusters: list[list[list[_Point]]] = []
    last = -math.inf
    for piece in sorted(pieces, key=lambda p: p[0].t):
        if piece[0].t - last > ACTIVITY_GAP_S:
            clusters.append([])
        clusters[-1].append(piece)
        last = max(last, piece[-1].t)
    real = [
        cluster
        for cluster in clusters
        if sum(len(p) for p in cluster) >= MIN_POINTS
        and max(p[-1].t for p in cluster) - cluster[0][0].t >= MIN_ACTIVITY_S
    ]
    return real or clusters  # a short file alone is still what it is


def _activity(sport: Sport, segments: list[list[_Point]]) -> Activity:
    factor = steps_factor(p.cadence for seg in segments for p in seg)
    samples, moving = _samples(sorted(segments, key=lambda seg: seg[0].t), factor)
    first, last = samples[0][0], samples[-1][0]
    avg_hr, max_hr = sample_hr(samples)
    return Activity(
        started_at=datetime.fromtimestamp(first, UTC),
        distance_m=samples[-1][1],
        moving_s=moving,
        elapsed_s=last - first,
        sport=sport,
        format="gpx",
        samples=tuple(samples),
        avg_hr=avg_hr,
        max_hr=max_hr,
        avg_cadence=average_cadence(samples),
    )


def _samples(segments: list[list[_Point]], factor: int) -> tuple[list[SampleRow], float]:
    """Samples with cumulative distance and point-to-point speed; and the moving time.
    Segments that overlap in time with an earlier one lose their overlapping points."""
    samples: list[SampleRow] = []
    moving = 0.0
    jumps = _usual_speed(segments) <= MAX_SPEED_MPS
    for segment in segments:
        after = samples[-1][0] if samples else -math.inf
        points = [p for p in segment if p.t > after]
        if points:
            start = samples[-1][1] if samples else 0.0
            moving += _segment_samples(points, start, factor, samples, jumps=jumps)
    return samples, moving


def _usual_speed(segments: list[list[_Point]]) -> float:
    """The median point-to-point speed (m/s): a step far faster than a track's usual pace
    is a GPS jump; a track whose usual pace is that fast is a vehicle (judged as a whole)."""
    speeds = sorted(
        haversine_m(a.lat, a.lon, b.lat, b.lon) / (b.t - a.t)
        for segment in segments
        for a, b in itertools.pairwise(segment)
    )
    return speeds[len(speeds) // 2] if speeds else 0.0


def _segment_samples(
    segment: list[_Point], distance: float, factor: int, out: list[SampleRow], *, jumps: bool
) -> float:
    """Append one segment's samples (distance continuing from ``distance``); return its
    moving seconds. With ``jumps``, a step faster than any runner adds nothing."""
    moving = 0.0
    out.append(_sample(segment[0], distance, None, factor))
    for before, point in itertools.pairwise(segment):
        seconds = point.t - before.t
        step = haversine_m(before.lat, before.lon, point.lat, point.lon)
        speed: float | None = step / seconds
        if jumps and speed is not None and speed > MAX_SPEED_MPS:
            speed = None  # a GPS jump (a cold fix, a reflection): no distance, no time
        else:
            distance += step
            if speed is not None and speed >= GPX_MOVING_SPEED:
                moving += seconds
        out.append(_sample(point, distance, speed, factor))
    return moving


def _sample(point: _Point, distance: float, speed: float | None, factor: int) -> SampleRow:
    cadence = point.cadence * factor if point.cadence else None
    beats = plausible_hr(point.hr)
    hr = round(beats) if beats is not None else None
    return (point.t, distance, speed, cadence, hr)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (degrees)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlam = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))
