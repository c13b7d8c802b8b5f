"""Import a runner's history from activity files: FIT, TCX and GPX (Garmin and Strava exports).

Each file becomes at most one run with ``source`` import and its samples, stored in one
transaction. What a runner can expect, file by file (one :class:`FileOutcome` each):

- **imported**: a run, with its totals from the file's own summary (FIT session, TCX laps) or,
  for GPX, from the track (haversine distance; moving time where the pace is a running one).
- **duplicate**: a stored run (from any source) started within a minute of it and has a
  distance within 1%: nothing is stored twice, whichever export it came from.
- **skipped**: a file that is readable but is not a run: a ride, a walk, a swim, a settings
  file, a GPX route without times. The load rules count running; a walk or ride would
  inflate the weekly distance they compare against.
- **failed**: a file that cannot be read (damaged, truncated, not an activity file); the
  reason is one line and the rest of the batch goes on. A damaged FIT file whose session
  summary was read before the damage is imported with the totals the device wrote, and the
  outcome says so.

Files are told apart by their content (FIT signature, XML root), not their names; ``.gz`` files
as in Strava's bulk export are read too. XML goes through defusedxml: an activity file from
anywhere must not be able to expand entities or reach the network.
"""

from __future__ import annotations

import gzip
import io
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from xml.etree.ElementTree import Element

from agent.errors import StridewatchError
from agent.units import MAX_AVG_SPEED, MAX_RUN_M, MAX_RUN_S, format_distance, format_duration

if TYPE_CHECKING:
    from agent.store import SampleRow, Store

Status = Literal["imported", "duplicate", "skipped", "failed"]

SUFFIXES = (".fit", ".tcx", ".gpx")
# Uncompressed activity files stay far below this: a 24-hour FIT file at one record a second
# is about 4 MB, its TCX about 60 MB. Anything bigger is not an activity (or a gzip bomb).
MAX_FILE_BYTES = 256 * 1024 * 1024
# Earth's mean radius (IUGG), for haversine distances between GPX points.
EARTH_RADIUS_M = 6_371_008.8
# Between two GPX points, a pace slower than this is standing still (the recorder's
# auto-pause threshold, issue 4: pause below ~0.5 m/s); those seconds are not moving time.
GPX_MOVING_SPEED = 0.5
# TCX, GPX (Garmin's TrackPointExtension) and FIT give running cadence per foot
# (strides/min, ~80-95); stridewatch stores steps/min, twice that.
STEPS_PER_STRIDE = 2


class ActivityFileError(StridewatchError):
    """A file that cannot be read as an activity: damaged, truncated, or another kind."""

    exit_code = 2


class NotARunError(StridewatchError):
    """A readable activity file that holds something other than a run."""

    exit_code = 2


class NothingImportedError(StridewatchError):
    """No file of the batch gave a run (and none was already stored)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Activity:
    """One activity as read from a file, before it is checked and stored."""

    started_at: datetime
    distance_m: float
    moving_s: float
    elapsed_s: float
    sport: str | None  # lower case as the file names it ("running", "biking"); None if unnamed
    samples: tuple[SampleRow, ...] = ()
    avg_hr: float | None = None
    max_hr: float | None = None
    avg_cadence: float | None = None  # steps/min
    external_id: str | None = None
    warning: str | None = None  # e.g. totals salvaged from a damaged file


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What happened to one file of a batch."""

    path: Path
    status: Status
    reason: str | None = None
    run_id: int | None = None
    activity: Activity | None = None

    def as_json(self) -> dict[str, Any]:
        act = self.activity
        return {
            "file": str(self.path),
            "status": self.status,
            "reason": self.reason,
            "run_id": self.run_id,
            "started_at": act.started_at.isoformat(timespec="seconds") if act else None,
            "distance_km": round(act.distance_m / 1000, 3) if act else None,
            "moving_s": round(act.moving_s, 1) if act else None,
            "samples": len(act.samples) if act else None,
        }

    def line(self, unit: Literal["km", "mi"]) -> str:
        """One line for the runner: status, file, and what or why."""
        what = self.reason or ""
        if self.status == "imported" and self.activity is not None:
            act = self.activity
            what = (
                f"run {self.run_id}, {act.started_at:%Y-%m-%d %H:%M} UTC, "
                f"{format_distance(act.distance_m, unit, 2)} in {format_duration(act.moving_s)}"
            ) + (f" (warning: {act.warning})" if act.warning else "")
        return f"{self.status:<9} {self.path}: {what}"


def collect_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and the activity files (``.fit``, ``.tcx``, ``.gpx``, each maybe
    ``.gz``) found under any folder given, in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and _looks_like(p)))
        else:
            found.append(path)
    return found


def _looks_like(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(SUFFIXES)


def import_files(
    store: Store, paths: Sequence[Path], on_done: Callable[[FileOutcome], None] | None = None
) -> list[FileOutcome]:
    """Import every file in turn; one outcome per file, whatever happens to the others."""
    outcomes = []
    for path in paths:
        outcome = import_file(store, path)
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
    return outcomes


def import_file(store: Store, path: Path) -> FileOutcome:
    """Read, check and store one file (one transaction); never raises for the file's sake."""
    try:
        activity = read_activity(path)
        _check_is_run(activity)
    except NotARunError as exc:
        return FileOutcome(path, "skipped", str(exc))
    except ActivityFileError as exc:
        return FileOutcome(path, "failed", str(exc))
    same = store.find_duplicate_run(activity.started_at, activity.distance_m)
    if same is not None:
        return FileOutcome(path, "duplicate", f"same run as run {same}", same, activity)
    run_id = store.add_imported_run(_run_fields(activity, path), activity.samples)
    return FileOutcome(path, "imported", None, run_id, activity)


def _run_fields(activity: Activity, path: Path) -> dict[str, Any]:
    return {
        "started_at": activity.started_at,
        "distance_m": activity.distance_m,
        "moving_s": activity.moving_s,
        "elapsed_s": activity.elapsed_s,
        "avg_hr": activity.avg_hr,
        "max_hr": activity.max_hr,
        "avg_cadence": activity.avg_cadence,
        "import_file": path.name,
        "external_id": activity.external_id,
    }


def summary(outcomes: Sequence[FileOutcome]) -> dict[str, int]:
    """Files per status, every status present."""
    counts = dict.fromkeys(("imported", "duplicate", "skipped", "failed"), 0)
    for outcome in outcomes:
        counts[outcome.status] += 1
    return counts


def check_batch(outcomes: Sequence[FileOutcome]) -> None:
    """Raise :class:`NothingImportedError` unless some file gave a run that is now stored
    (imported now, or a duplicate of one stored before)."""
    counts = summary(outcomes)
    if counts["imported"] or counts["duplicate"]:
        return
    raise NothingImportedError(
        f"no run imported from {len(outcomes)} file(s): {counts['failed']} failed, "
        f"{counts['skipped']} skipped (see the lines above)"
    )


# -- reading one file -------------------------------------------------------------------


def read_activity(path: Path) -> Activity:
    """Read a FIT, TCX or GPX file (maybe gzipped) into an :class:`Activity`."""
    data = _read_bytes(path)
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    if len(data) >= 12 and data[8:12] == b".FIT":
        from agent.fitfile import read_fit

        return read_fit(data)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        return _read_xml(data)
    if not data:
        raise ActivityFileError("empty file")
    if path.name.lower().removesuffix(".gz").endswith(".fit"):
        raise ActivityFileError("damaged FIT file: its header has no FIT signature")
    raise ActivityFileError("not a FIT, TCX or GPX file")


def _read_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ActivityFileError("no such file") from None
    except IsADirectoryError:
        raise ActivityFileError("is a folder") from None
    except OSError as exc:
        raise ActivityFileError(f"cannot be read: {exc.strerror}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise ActivityFileError("too big to be an activity file")
    return data


def _gunzip(data: bytes) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            out = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise ActivityFileError(f"damaged gzip file: {exc}") from exc
    if len(out) > MAX_FILE_BYTES:
        raise ActivityFileError("too big to be an activity file once uncompressed")
    return out


def _read_xml(data: bytes) -> Activity:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(data)
    except DefusedXmlException as exc:
        raise ActivityFileError(f"refused: the XML declares entities ({exc})") from exc
    except ParseError as exc:
        raise ActivityFileError(f"damaged XML: {exc}") from exc
    kind = _local(root)
    if kind == "TrainingCenterDatabase":
        return read_tcx(root)
    if kind == "gpx":
        return read_gpx(root)
    raise ActivityFileError(f"XML, but neither TCX nor GPX (root element <{kind}>)")


def _check_is_run(activity: Activity) -> None:
    """Raise :class:`NotARunError` for what is not a run a person could have made."""
    sport = activity.sport
    if sport is not None and "run" not in sport:
        raise NotARunError(f"{sport} activity, not a run")
    if activity.elapsed_s <= 0 and activity.moving_s <= 0:
        raise NotARunError("no duration (a single point?): not a run")
    if activity.distance_m > MAX_RUN_M or activity.elapsed_s > MAX_RUN_S:
        raise NotARunError("longer than any single run: not imported")
    if activity.moving_s > 0 and activity.distance_m / activity.moving_s > MAX_AVG_SPEED:
        speed = activity.distance_m / activity.moving_s * 3.6
        raise NotARunError(f"average {speed:.0f} km/h is faster than anyone runs: not a run")


# -- XML helpers ------------------------------------------------------------------------


def _local(element: Element) -> str:
    """The tag without its namespace: TCX and GPX come in several namespace versions."""
    return element.tag.rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if _local(child) == name)


def _child(element: Element, name: str) -> Element | None:
    return next(_children(element, name), None)


def _descendants(element: Element, name: str) -> Iterator[Element]:
    return (el for el in element.iter() if _local(el) == name)


def _number(element: Element | None, *path: str) -> float | None:
    """The number in ``element``'s child ``path[0]``, its child ``path[1]``, ... ."""
    for name in path:
        element = _child(element, name) if element is not None else None
    return _parse_number(element)


def _deep_number(element: Element | None, name: str) -> float | None:
    """The number in the first descendant ``name`` (extensions nest at varying depths)."""
    found = next(_descendants(element, name), None) if element is not None else None
    return _parse_number(found)


def _parse_number(element: Element | None) -> float | None:
    if element is None or element.text is None:
        return None
    try:
        value = float(element.text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _max(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _steps(strides: float | None) -> float | None:
    return strides * STEPS_PER_STRIDE if strides is not None else None


# -- TCX --------------------------------------------------------------------------------


def read_tcx(root: Element) -> Activity:
    """The first Activity of a Garmin Training Center file (Sport, Laps, Trackpoints)."""
    activity = next(_descendants(root, "Activity"), None)
    if activity is None:
        raise NotARunError("TCX file without an activity (a course or a workout?)")
    laps = list(_children(activity, "Lap"))
    samples = _tcx_samples(activity)
    starts = [_time(lap.get("StartTime")) for lap in laps]
    started = next((s for s in starts if s is not None), None) or _time(
        getattr(_child(activity, "Id"), "text", None)
    )
    if started is None or not laps:
        raise ActivityFileError("damaged TCX file: an activity without laps or a start time")
    moving = sum(_number(lap, "TotalTimeSeconds") or 0.0 for lap in laps)
    distance = sum(_number(lap, "DistanceMeters") or 0.0 for lap in laps)
    end = samples[-1][0] if samples else started.timestamp() + moving
    return Activity(
        started_at=started,
        distance_m=distance or (samples[-1][1] if samples else 0.0),
        moving_s=moving,
        elapsed_s=max(moving, end - started.timestamp()),
        sport=(activity.get("Sport") or "").lower() or None,
        samples=tuple(samples),
        avg_hr=_mean(_number(lap, "AverageHeartRateBpm", "Value") for lap in laps),
        max_hr=_max(_number(lap, "MaximumHeartRateBpm", "Value") for lap in laps),
        avg_cadence=_mean(s[3] for s in samples),
        external_id=f"tcx:{started.isoformat()}",
    )


def _tcx_samples(activity: Element) -> list[SampleRow]:
    samples: list[SampleRow] = []
    distance = 0.0
    for point in _descendants(activity, "Trackpoint"):
        moment = _time(getattr(_child(point, "Time"), "text", None))
        if moment is None:
            continue
        distance = _number(point, "DistanceMeters") or distance
        cadence = _deep_number(point, "RunCadence")
        if cadence is None:
            cadence = _number(point, "Cadence")
        hr = _number(point, "HeartRateBpm", "Value")
        speed = _deep_number(point, "Speed")
        samples.append(
            (moment.timestamp(), distance, speed, _steps(cadence), int(hr) if hr else None)
        )
    return samples


# -- GPX --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _GpxPoint:
    t: float
    lat: float
    lon: float
    hr: int | None
    cadence: float | None  # steps/min


def read_gpx(root: Element) -> Activity:
    """A GPX track: every segment of every track, in time order. Distance is the haversine
    sum within segments (a new segment is a gap, not bridged)."""
    segments = [_gpx_segment(seg) for seg in _descendants(root, "trkseg")]
    segments = [seg for seg in segments if seg]
    if not segments:
        if any(True for _ in _descendants(root, "trkpt")):
            raise NotARunError("GPX track without times: cannot tell when or how long it was")
        raise NotARunError("GPX file without a track (a route or waypoints only?)")
    samples, moving = _gpx_samples(segments)
    first, last = samples[0][0], samples[-1][0]
    types = [el.text.strip().lower() for el in _gpx_types(root) if el.text]
    return Activity(
        started_at=datetime.fromtimestamp(first, UTC),
        distance_m=samples[-1][1],
        moving_s=moving,
        elapsed_s=last - first,
        sport=types[0] if types else None,
        samples=tuple(samples),
        warning=None if types else "no sport in the file: taken as a run",
        avg_hr=_mean(s[4] for s in samples),
        max_hr=_max(s[4] for s in samples),
        avg_cadence=_mean(s[3] for s in samples),
    )


def _gpx_types(root: Element) -> Iterator[Element]:
    """Each track's ``<type>`` (Garmin and Strava write e.g. ``running``)."""
    for track in _descendants(root, "trk"):
        yield from _children(track, "type")


def _gpx_segment(segment: Element) -> list[_GpxPoint]:
    points = []
    for point in _children(segment, "trkpt"):
        moment = _time(getattr(_child(point, "time"), "text", None))
        try:
            lat, lon = float(point.get("lat", "")), float(point.get("lon", ""))
        except ValueError:
            continue
        if moment is None:
            return []
        hr = _deep_number(point, "hr")
        cadence = _steps(_deep_number(point, "cad"))
        points.append(_GpxPoint(moment.timestamp(), lat, lon, int(hr) if hr else None, cadence))
    return sorted(points, key=lambda p: p.t)


def _gpx_samples(segments: list[list[_GpxPoint]]) -> tuple[list[SampleRow], float]:
    """Samples with cumulative distance and point-to-point speed; and the moving time."""
    samples: list[SampleRow] = []
    moving = 0.0
    for segment in sorted(segments, key=lambda seg: seg[0].t):
        start = samples[-1][1] if samples else 0.0
        moving += _gpx_segment_samples(segment, start, samples)
    return samples, moving


def _gpx_segment_samples(segment: list[_GpxPoint], distance: float, out: list[SampleRow]) -> float:
    """Append one segment's samples (distance continuing from ``distance``); return its
    moving seconds."""
    moving = 0.0
    out.append((segment[0].t, distance, None, segment[0].cadence, segment[0].hr))
    for before, point in itertools.pairwise(segment):
        seconds = point.t - before.t
        step = haversine_m(before.lat, before.lon, point.lat, point.lon)
        distance += step
        speed = step / seconds if seconds > 0 else None
        if speed is not None and speed >= GPX_MOVING_SPEED:
            moving += seconds
        out.append((point.t, distance, speed, point.cadence, point.hr))
    return moving


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (degrees)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlam = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))
