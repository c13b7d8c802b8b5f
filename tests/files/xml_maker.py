"""Small GPX and TCX files made for tests, each reproducing one quirk of real exports."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# One degree of latitude on the mean-radius sphere, in metres: 2 pi R / 360.
METRES_PER_DEGREE = 2 * math.pi * 6_371_008.8 / 360


@dataclass(frozen=True)
class Point:
    t: datetime | str | None  # a str is written as is (hostile times)
    lat: float | str
    lon: float | str = 0.0
    hr: float | str | None = None
    cad: float | str | None = None


def north(start: datetime, seconds: int, speed: float, **extra: object) -> list[Point]:
    """A straight track due north along lon 0 at ``speed`` m/s, a point a second."""
    return [
        Point(start + timedelta(seconds=s), s * speed / METRES_PER_DEGREE, 0.0, **extra)  # type: ignore[arg-type]
        for s in range(seconds + 1)
    ]


def _time(t: datetime | str | None) -> str:
    if t is None:
        return ""
    text = t if isinstance(t, str) else t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"<time>{text}</time>"


def gpx(
    segments: Sequence[Sequence[Point]],
    sport: str | None = None,
    creator: str = "stridewatch tests",
    prefix: str = "",
) -> str:
    """A GPX 1.1 file, one track; ``prefix`` goes before the XML declaration."""
    kind = f"<type>{sport}</type>" if sport is not None else ""
    body = []
    for segment in segments:
        points = []
        for p in segment:
            ext = ""
            if p.hr is not None or p.cad is not None:
                hr = f"<gpxtpx:hr>{p.hr}</gpxtpx:hr>" if p.hr is not None else ""
                cad = f"<gpxtpx:cad>{p.cad}</gpxtpx:cad>" if p.cad is not None else ""
                ext = f"<extensions><gpxtpx:TrackPointExtension>{hr}{cad}"
                ext += "</gpxtpx:TrackPointExtension></extensions>"
            points.append(f'<trkpt lat="{p.lat}" lon="{p.lon}">{_time(p.t)}{ext}</trkpt>')
        body.append("<trkseg>" + "".join(points) + "</trkseg>")
    return (
        f'{prefix}<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<gpx version="1.1" creator="{creator}" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        f"<trk><name>test</name>{kind}{''.join(body)}</trk></gpx>\n"
    )


@dataclass(frozen=True)
class Lap:
    start: datetime
    seconds: float
    metres: float | str
    hr: float | None = None
    points: int = 0  # trackpoints, one every 10 s
    run_cadence: float | None = None  # written as RunCadence in each trackpoint


def tcx_activity(sport: str, laps: Sequence[Lap]) -> str:
    parts = []
    for lap in laps:
        hr = (
            f"<AverageHeartRateBpm><Value>{lap.hr}</Value></AverageHeartRateBpm>"
            f"<MaximumHeartRateBpm><Value>{lap.hr + 10}</Value></MaximumHeartRateBpm>"
            if lap.hr is not None
            else ""
        )
        points = []
        for i in range(lap.points):
            t = lap.start + timedelta(seconds=10 * i)
            cad = (
                f"<Extensions><ns3:TPX><ns3:RunCadence>{lap.run_cadence}</ns3:RunCadence>"
                "</ns3:TPX></Extensions>"
                if lap.run_cadence is not None
                else ""
            )
            points.append(f"<Trackpoint><Time>{t:%Y-%m-%dT%H:%M:%SZ}</Time>{cad}</Trackpoint>")
        parts.append(
            f'<Lap StartTime="{lap.start:%Y-%m-%dT%H:%M:%SZ}">'
            f"<TotalTimeSeconds>{lap.seconds}</TotalTimeSeconds>"
            f"<DistanceMeters>{lap.metres}</DistanceMeters>{hr}"
            f"<Track>{''.join(points)}</Track></Lap>"
        )
    start = laps[0].start
    return (
        f'<Activity Sport="{sport}"><Id>{start:%Y-%m-%dT%H:%M:%SZ}</Id>{"".join(parts)}</Activity>'
    )


def tcx(activities: Sequence[str], *, multisport: bool = False, prefix: str = "") -> str:
    """A TCX file of ``activities`` (from :func:`tcx_activity`), plain or as one
    MultiSportSession (FirstSport, then NextSport for each further one)."""
    if multisport:
        first, *rest = activities
        inner = (
            "<MultiSportSession><Id>2026-03-01T08:00:00Z</Id>"
            f"<FirstSport>{first}</FirstSport>"
            + "".join(f"<NextSport>{a}</NextSport>" for a in rest)
            + "</MultiSportSession>"
        )
    else:
        inner = "".join(activities)
    return (
        f'{prefix}<?xml version="1.0" encoding="UTF-8"?>\n'
        "<TrainingCenterDatabase "
        'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">'
        f"<Activities>{inner}</Activities></TrainingCenterDatabase>\n"
    )
