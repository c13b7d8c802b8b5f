"""A long GPX track as Garmin Connect writes it, for the big-file benchmark and its tests.

Garmin Connect's export: indented, latitude and longitude as the float64 of the device's
semicircles (15-17 digits), elevation as a float32 widened to float64 (``296.20001220703125``),
times with milliseconds, heart rate and cadence (strides/min) in Garmin's
TrackPointExtension v1 (prefix ``ns3``). About 360 bytes a point: 200 MB is some 555,000
points, 6.4 days at one point a second.

The track is a multi-day race (a six-day race, say): each day 16 hours on the move at a
walk-run pace that varies through the day (1.0-1.3 m/s), then 8 hours asleep (the watch
recording on: the position wanders by centimetres, heart rate low, no cadence). It stays
within what one run may be (under 7 days, under 500 km, over 3 km/h while moving).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

START = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
# Metres per degree of latitude on the mean-radius sphere (agent.files.gpx.EARTH_RADIUS_M).
METRES_PER_DEGREE = 2 * math.pi * 6_371_008.8 / 360
DAY_S = 86_400
MOVING_S = 16 * 3600  # of each day; the rest asleep
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<gpx creator="Garmin Connect" version="1.1"
  xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/11.xsd"
  xmlns:ns3="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
  xmlns="http://www.topografix.com/GPX/1/1"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xmlns:ns2="http://www.garmin.com/xmlschemas/GpxExtensions/v3">
  <metadata>
    <link href="connect.garmin.com">
      <text>Garmin Connect</text>
    </link>
    <time>{start}</time>
  </metadata>
  <trk>
    <name>Six-day race</name>
    <type>running</type>
    <trkseg>
"""
POINT = """      <trkpt lat="{lat!r}" lon="{lon!r}">
        <ele>{ele!r}</ele>
        <time>{time}</time>
        <extensions>
          <ns3:TrackPointExtension>
            <ns3:hr>{hr}</ns3:hr>
            <ns3:cad>{cad}</ns3:cad>
          </ns3:TrackPointExtension>
        </extensions>
      </trkpt>
"""
TAIL = """    </trkseg>
  </trk>
</gpx>
"""
_FLOAT32 = struct.Struct("<f")
# What one point takes, near enough to size a file before writing it.
POINT_BYTES = 344


def points_for(size_bytes: int) -> int:
    """How many points make a file of about ``size_bytes``."""
    return max(2, size_bytes // POINT_BYTES)


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def points(count: int, start: datetime = START) -> Iterator[str]:
    """The ``<trkpt>`` elements of a track of ``count`` points, a second apart."""
    lat, lon, heading = 46.05, 14.5, 0.3
    t0 = start.timestamp()
    for k in range(count):
        of_day = k % DAY_S
        if of_day < MOVING_S:
            speed = 1.15 + 0.15 * math.sin(k / 1800)  # walk-run, slower and faster by turns
            hr, cad = 118 + round(12 * math.sin(k / 900)), 74 + k % 5
        else:
            speed = 0.03 * math.sin(k / 7)  # asleep: the fix wanders a little
            hr, cad = 58 + k % 3, 0
        heading += 0.002 * math.sin(k / 5000)
        lat += speed * math.cos(heading) / METRES_PER_DEGREE
        lon += speed * math.sin(heading) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
        # float32 elevation, as the device stores it, widened as Garmin Connect writes it
        (ele,) = _FLOAT32.unpack(_FLOAT32.pack(300 + 40 * math.sin(k / 3000)))
        yield POINT.format(lat=lat, lon=lon, ele=ele, time=_stamp(t0 + k), hr=hr, cad=cad)


def write_gpx(path: Path, count: int, start: datetime = START) -> Path:
    """Write a track of ``count`` points at ``path``; return the path."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(HEAD.format(start=_stamp(start.timestamp())))
        batch: list[str] = []
        for text in points(count, start):
            batch.append(text)
            if len(batch) >= 10_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
        out.write(TAIL)
    return path
