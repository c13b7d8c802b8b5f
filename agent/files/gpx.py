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

The file is read as a stream of parse events (:mod:`agent.files.xmltools`), each point
cleared once read, into columns (:mod:`agent.files.gpx_track`): a 200 MB track costs tens
of megabytes, not gigabytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

from agent.errors import StridewatchError
from agent.files import gpx_track as track
from agent.files import xmltools as x
from agent.files.activity import (
    Activity,
    ActivityFileError,
    NotARunError,
    plausible_hr,
    with_legs,
)
from agent.files.gpx_track import EARTH_RADIUS_M, Piece, Points, haversine_m
from agent.files.sports import Sport, classify

__all__ = ["EARTH_RADIUS_M", "haversine_m", "read_gpx", "read_gpx_events"]

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


def read_gpx(root: Element) -> list[Activity]:
    """The activities of a parsed GPX file: one per sport named by its tracks."""
    return read_gpx_events(root, x.walk(root))


def read_gpx_events(root: Element, events: Iterator[x.Event]) -> list[Activity]:
    """The activities of a GPX file whose root element has started: ``events`` are the
    parse's further events, read to the end (each point cleared once read)."""
    reader = _Reader(root)
    reader.feed(events)
    return reader.activities()


# What a point holds that is read: the first of each.
_POINT_PARTS = frozenset({"time", "hr", "cad"})
_LOCAL = x.LOCAL_NAMES


class _Seen:
    """What the reading met: points at all, positions off the globe, times that are no
    date (how many, and the first)."""

    def __init__(self) -> None:
        self.points = 0
        self.bad_positions = 0
        self.bad_times = 0
        self.first_bad_time: str | None = None


class _Track:
    """A ``<trk>`` being read: its ``<type>`` and its pieces (row ranges in time order)."""

    def __init__(self) -> None:
        self.type: str | None = None
        self.typed = False  # a <type> child was met (the first one counts)
        self.segments = 0
        self.pieces: list[Piece] = []


class _Segment:
    """A ``<trkseg>`` being read: where its rows and its current piece start, how many
    points it had and how many of them without a time."""

    def __init__(self, element: Element, start: int) -> None:
        self.element = element
        self.start = self.piece = start
        self.points = self.untimed = 0
        self.pieces: list[Piece] = []


class _Reader:
    """The state of one GPX file's reading: open elements, the track and segment being read,
    and every point kept so far."""

    def __init__(self, root: Element) -> None:
        self.creator = root.get("creator")
        self.stack: list[Element] = [root]
        self.names: list[str] = [x.local(root)]
        self.points = Points()
        self.seen = _Seen()
        self.tracks: list[_Track] = []
        self.segment: _Segment | None = None
        self.groups: dict[str, tuple[Sport, list[Piece]]] = {}
        # The <trkpt> being read: its first <time> child and its first <hr> and <cad> at
        # any depth (Garmin's TrackPointExtension, or another app's).
        self.found: dict[str, Element] = {}

    def feed(self, events: Iterator[x.Event]) -> None:
        """Read the parse's events to the end. A point's own elements (most of a file) are
        handled here, in as few steps as may be; the rest by :meth:`_start` and :meth:`_end`."""
        stack, names, found = self.stack, self.names, self.found
        get, parts = _LOCAL.get, _POINT_PARTS
        depth = 0  # of the <trkpt> being read (0: none)
        for event, element in events:
            if event == "start":
                name = get(element.tag) or x.local(element)
                stack.append(element)
                names.append(name)
                if not depth:
                    depth = self._start(name, element)
                    found.clear()
                elif (
                    name in parts
                    and name not in found
                    and (name != "time" or len(stack) == depth + 1)
                ):
                    found[name] = element
                continue
            level = len(stack)
            stack.pop()
            name = names.pop()
            if not depth:
                self._end(name, element)
            elif level > depth:
                continue  # inside a point: read with it
            else:
                depth = 0
                self._point(element)
            if stack:
                del stack[-1][:]  # read: let it go (and whatever else its parent held)

    def _start(self, name: str, element: Element) -> int:
        """An element starts outside any point; the depth of a ``<trkpt>`` of a track's
        segment that starts, else 0."""
        parent = self.names[-2]
        if name == "trk":
            self.tracks.append(_Track())
        elif name == "trkseg" and parent == "trk":
            self.tracks[-1].segments += 1
            self.segment = _Segment(element, len(self.points))
        elif name == "trkpt" and parent == "trkseg" and self._in_track_segment():
            return len(self.stack)
        return 0

    def _in_track_segment(self) -> bool:
        return len(self.names) >= 3 and self.names[-3] == "trk" and self.segment is not None

    def _end(self, name: str, element: Element) -> None:
        """An element ends outside any point."""
        parent = self.names[-1] if self.names else ""
        if name == "trkseg" and parent == "trk" and self.segment is not None:
            self._end_segment(self.segment)
            self.segment = None
        elif name == "type" and parent == "trk" and not self.tracks[-1].typed:
            self.tracks[-1].typed = True
            self.tracks[-1].type = x.text(element)
        elif name == "trk":
            self._end_track(self.tracks.pop())

    def _point(self, point: Element) -> None:
        """A ``<trkpt>``: a row, unless it has no readable time (dropped: one bad ``<time>``
        does not lose the track) or no position on the globe (a pause marker or a broken
        point: it ends the piece)."""
        seen, segment, found = self.seen, self.segment, self.found
        assert segment is not None
        seen.points += 1
        segment.points += 1
        raw = x.text(found.get("time"))
        moment = x.parse_time(raw)
        if moment is None:
            segment.untimed += 1
            if raw:
                seen.bad_times += 1
                seen.first_bad_time = seen.first_bad_time or raw
            return
        lat, lon = x.parse_number(point.get("lat")), x.parse_number(point.get("lon"))
        if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
            seen.bad_positions += 1
            self._end_piece(segment)
            return
        cadence = x.parse_number(x.text(found.get("cad")))
        beats = plausible_hr(x.parse_number(x.text(found.get("hr"))))
        self.points.append(
            moment.timestamp(),
            lat,
            lon,
            cadence or 0.0,
            round(beats) if beats is not None else 0,
        )

    def _end_piece(self, segment: _Segment) -> None:
        if len(self.points) > segment.piece:
            end = track.in_time_order(self.points, segment.piece, ACTIVITY_GAP_S, MIN_ORDERED_SHARE)
            segment.pieces.append((segment.piece, end))
        segment.piece = len(self.points)

    def _end_segment(self, segment: _Segment) -> None:
        """A route with a few times (waypoints stamped by hand) is no activity: a segment
        where most points have no time is dropped."""
        self._end_piece(segment)
        if segment.untimed > MAX_UNTIMED_SHARE * segment.points:
            self.points.truncate(segment.start)
        elif self.tracks:
            self.tracks[-1].pieces.extend(segment.pieces)

    def _end_track(self, ended: _Track) -> None:
        if not ended.segments:
            return
        sport = classify(ended.type, self.creator)
        self.groups.setdefault(sport.name, (sport, []))[1].extend(ended.pieces)

    def activities(self) -> list[Activity]:
        points = self.points
        found = [
            track.activity(sport, points, group, GPX_MOVING_SPEED)
            for sport, pieces in self.groups.values()
            for group in _real(points, track.clusters(points, pieces, ACTIVITY_GAP_S))
        ]
        points.drop_positions()
        if not found:
            raise self._nothing()
        return with_legs(sorted(found, key=lambda a: a.started_at), "activity")

    def _nothing(self) -> StridewatchError:
        seen = self.seen
        if seen.bad_positions and seen.bad_positions >= seen.points - seen.bad_times:
            return ActivityFileError("its positions are not on the globe (not finite, or beyond)")
        if seen.first_bad_time is not None:
            return ActivityFileError(
                f"its times are not dates a run can have (such as {seen.first_bad_time!r})"
            )
        if seen.points:
            return NotARunError("GPX track without times: cannot tell when or how long it was")
        return NotARunError("GPX file without a track (a route or waypoints only?)")


def _real(points: Points, groups: list[list[Piece]]) -> list[list[Piece]]:
    """The groups that are activities: a group of a handful of points or under a minute
    beside a real one is a stray fix; a short file alone is still what it is."""
    real = [
        group
        for group in groups
        if sum(end - start for start, end in group) >= MIN_POINTS
        and track.span_s(points, group) >= MIN_ACTIVITY_S
    ]
    return real or groups
