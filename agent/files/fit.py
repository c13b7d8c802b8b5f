"""FIT activity files: write a stored run (fit-tool), read a device's file (fitdecode).

Writing follows Garmin's FIT SDK "Activity file" cookbook, so Garmin Connect and Strava take
the file: FileId (type activity), DeviceInfo, a timer start Event, Records, a timer stop_all
Event, one Lap, one Session (running; treadmill, as stridewatch records no GPS) and exactly
one Activity. Cadence is written in FIT's strides/min with ``fractional_cadence``.

Reading uses a second, independent library (fitdecode, MIT), which also checks the CRCs.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.errors import StridewatchError
from agent.files.activity import (
    Activity,
    ActivityFileError,
    NotARunError,
    average_cadence,
    sample_hr,
    with_legs,
)
from agent.files.same_run import EXPORT_SERIAL
from agent.files.sports import Sport, classify
from agent.safe_write import check_target, write_file

if TYPE_CHECKING:
    from agent.models import Run
    from agent.store import SampleRow

# FIT's date_time counts seconds from 1989-12-31T00:00:00Z (FIT SDK, Profile "date_time").
FIT_EPOCH_UNIX_S = 631_065_600
# FIT manufacturer "development" (255): what the SDK asks software without an assigned
# manufacturer id to write; Garmin Connect and Strava accept it.
MANUFACTURER_DEVELOPMENT = 255
# A fixed serial number: with time_created (the run's start) it tells uploads apart, and the
# same run exported twice is recognised as the same file by Garmin Connect.
STRIDEWATCH_SERIAL = EXPORT_SERIAL
PRODUCT_NAME = "stridewatch"
# FIT gives running cadence per foot (strides/min); stridewatch stores steps/min, twice that.
STEPS_PER_STRIDE = 2
# Speed is an unsigned 16-bit count of mm/s.
FIT_MAX_SPEED = 65.535
# Records hold heart rate and strides in one unsigned byte; 255 means "invalid".
FIT_UINT8_MAX = 254


class ExportError(StridewatchError):
    """The FIT file cannot be written where the runner asked."""

    exit_code = 2

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


# The instants a FIT date_time can hold (FIT SDK, Profile "date_time"): an unsigned 32-bit
# count of seconds from the epoch (0xFFFFFFFF is "invalid"), where counts below 0x10000000
# are seconds since the device was switched on, not dates: from 1998-07-03 to 2126-02-06.
FIT_EARLIEST_UNIX_S = FIT_EPOCH_UNIX_S + 0x10000000
# Less 14 hours: the Activity's local_timestamp adds the zone's offset (at most +14:00).
FIT_LATEST_UNIX_S = FIT_EPOCH_UNIX_S + 0xFFFFFFFE - 14 * 3600


class FitRangeError(StridewatchError):
    """A run whose times a FIT file cannot hold (before mid-1998, after early 2126)."""

    exit_code = 2


def default_file_name(run: Run) -> str:
    """``stridewatch-run-12-2026-11-20.fit``."""
    return f"stridewatch-run-{run.id}-{run.started_at:%Y-%m-%d}.fit"


# -- writing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Totals:
    """What the Lap and the Session say, from the run's stored totals and its samples."""

    start_s: int  # unix seconds
    end_s: int
    timer_s: float
    elapsed_s: float
    distance_m: float
    max_speed: float | None
    avg_hr: float | None
    max_hr: float | None
    avg_steps: float | None  # steps/min


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    records: int
    totals: _Totals = field(repr=False)


def export_run(
    run: Run, samples: Sequence[SampleRow], path: Path, *, zone: tzinfo, overwrite: bool = False
) -> ExportResult:
    """Write ``run`` as a FIT activity file at ``path``, private (0600) and atomically
    (:func:`agent.safe_write.write_file`: never through a link, never a half-written file);
    refuse to replace an existing file unless ``overwrite``. Raises
    :class:`agent.safe_write.OutputError` (exit 2) for a path it cannot or may not write."""
    check_target(path, force=overwrite)
    data, records, totals = encode_run(run, samples, zone=zone)
    return ExportResult(write_file(path, data, force=overwrite), records, totals)


def encode_run(
    run: Run, samples: Sequence[SampleRow], *, zone: tzinfo
) -> tuple[bytes, int, _Totals]:
    """The FIT bytes of ``run``, the number of Record messages, and the totals written."""
    from fit_tool.fit_file import FitFile
    from fit_tool.fit_file_builder import FitFileBuilder, calc_records_size
    from fit_tool.fit_file_header import FitFileHeader, ProtocolVersion

    points = _record_points(run, samples)
    totals = _totals(run, samples, points)
    _check_fit_range(run, totals)
    builder = FitFileBuilder(auto_define=True, min_string_size=len(PRODUCT_NAME) + 1)
    builder.add(_file_id(totals))
    builder.add(_device_info(totals))
    builder.add(_timer_event(totals.start_s, start=True))
    builder.add_all([_record(point) for point in points])
    builder.add(_timer_event(totals.end_s, start=False))
    builder.add(_lap(totals))
    builder.add(_session(totals))
    builder.add(_activity(totals, zone))
    # A 14-byte header with its own CRC (the SDK's default) and protocol 2.0.
    header = FitFileHeader(
        records_size=calc_records_size(builder.records),
        protocol_version=ProtocolVersion(2, 0),
        gen_crc=True,
    )
    return FitFile(header, builder.records).to_bytes(), len(points), totals


def _check_fit_range(run: Run, totals: _Totals) -> None:
    """Refuse (one line, exit 2) a run whose times FIT cannot hold: written anyway, a
    1985 run would be read back as "a device clock never set", a 2206 run not at all."""
    if totals.start_s >= FIT_EARLIEST_UNIX_S and totals.end_s <= FIT_LATEST_UNIX_S:
        return
    first, last = (
        datetime.fromtimestamp(s, UTC).date().isoformat()
        for s in (FIT_EARLIEST_UNIX_S, FIT_LATEST_UNIX_S)
    )
    raise FitRangeError(
        f"run {run.id}: started {run.started_at.date().isoformat()}, and a FIT file can only "
        f"hold times from {first} to {last} (seconds since 1989-12-31, below 2^28 taken as "
        "a device clock never set); it cannot be exported"
    )


def _record_points(run: Run, samples: Sequence[SampleRow]) -> list[SampleRow]:
    """One record per whole second (FIT timestamps are seconds; the last sample of a second
    wins); a run without samples gets a start and an end record carrying its totals. A
    sample whose time is no finite number (a damaged row) is left out."""
    samples = [s for s in samples if isinstance(s[0], int | float) and math.isfinite(s[0])]
    if not samples:
        start = run.started_at.timestamp()
        end = start + max(run.elapsed_s, run.moving_s, 1.0)
        return [(start, 0.0, None, None, None), (end, run.distance_m, None, None, None)]
    by_second: dict[int, SampleRow] = {}
    for sample in samples:
        by_second[round(sample[0])] = sample
    return [by_second[second] for second in sorted(by_second)]


def _totals(run: Run, samples: Sequence[SampleRow], points: list[SampleRow]) -> _Totals:
    start = min(round(run.started_at.timestamp()), round(points[0][0]))
    end = max(start + round(run.elapsed_s), round(points[-1][0]))
    hrs = [float(s[4]) for s in samples if s[4]]
    speeds = [s[2] for s in samples if s[2] is not None]
    return _Totals(
        start_s=start,
        end_s=end,
        timer_s=run.moving_s or run.elapsed_s or float(end - start),
        elapsed_s=run.elapsed_s or float(end - start),
        distance_m=run.distance_m,
        max_speed=max(speeds) if speeds else None,
        avg_hr=run.avg_hr if run.avg_hr is not None else (sum(hrs) / len(hrs) if hrs else None),
        max_hr=max(hrs) if hrs else None,
        # The stored average (one definition: agent.files.activity.average_cadence).
        avg_steps=run.avg_cadence or average_cadence(samples),
    )


def _ms(unix_s: float) -> int:
    """fit-tool takes instants as unix milliseconds."""
    return round(unix_s) * 1000


def _strides(steps: float) -> tuple[int, float]:
    """Steps/min as FIT cadence: whole strides/min and the fraction (``fractional_cadence``)."""
    strides = min(steps / STEPS_PER_STRIDE, float(FIT_UINT8_MAX))
    whole = math.floor(strides)
    return whole, strides - whole


def _file_id(totals: _Totals) -> Any:
    from fit_tool.profile.messages.file_id_message import FileIdMessage
    from fit_tool.profile.profile_type import FileType

    message = FileIdMessage()
    message.type = FileType.ACTIVITY
    message.manufacturer = MANUFACTURER_DEVELOPMENT
    message.product = 0
    message.serial_number = STRIDEWATCH_SERIAL
    message.time_created = _ms(totals.start_s)
    return message


def _device_info(totals: _Totals) -> Any:
    from fit_tool.profile.messages.device_info_message import DeviceInfoMessage

    from agent import __version__

    message = DeviceInfoMessage()
    message.timestamp = _ms(totals.start_s)
    message.device_index = 0  # the creator of the file
    message.manufacturer = MANUFACTURER_DEVELOPMENT
    message.product = 0
    message.serial_number = STRIDEWATCH_SERIAL
    message.product_name = PRODUCT_NAME
    message.software_version = float(".".join(__version__.split(".")[:2]))
    return message


def _timer_event(unix_s: int, *, start: bool) -> Any:
    from fit_tool.profile.messages.event_message import EventMessage
    from fit_tool.profile.profile_type import Event, EventType

    message = EventMessage()
    message.timestamp = _ms(unix_s)
    message.event = Event.TIMER
    message.event_type = EventType.START if start else EventType.STOP_ALL
    message.event_group = 0
    return message


def _record(point: SampleRow) -> Any:
    from fit_tool.profile.messages.record_message import RecordMessage

    t, distance, speed, steps, hr = point
    message = RecordMessage()
    message.timestamp = _ms(t)
    message.distance = distance
    if speed is not None and 0 <= speed <= FIT_MAX_SPEED:
        message.speed = speed
        message.enhanced_speed = speed
    if hr:
        message.heart_rate = min(hr, FIT_UINT8_MAX)
    if steps is not None:
        message.cadence, message.fractional_cadence = _strides(steps)
    return message


def _summary_fields(message: Any, totals: _Totals) -> None:
    """The fields a Lap and a Session share."""
    from fit_tool.profile.profile_type import Sport, SubSport

    message.timestamp = _ms(totals.end_s)
    message.start_time = _ms(totals.start_s)
    message.total_elapsed_time = totals.elapsed_s
    message.total_timer_time = totals.timer_s
    message.total_distance = totals.distance_m
    message.sport = Sport.RUNNING
    message.sub_sport = SubSport.TREADMILL
    message.message_index = 0
    average = totals.distance_m / totals.timer_s if totals.timer_s > 0 else None
    if average is not None and average <= FIT_MAX_SPEED:
        message.avg_speed = average
        message.enhanced_avg_speed = average
    if totals.max_speed is not None and totals.max_speed <= FIT_MAX_SPEED:
        message.max_speed = totals.max_speed
        message.enhanced_max_speed = totals.max_speed
    if totals.avg_hr is not None:
        message.avg_heart_rate = min(round(totals.avg_hr), FIT_UINT8_MAX)
    if totals.max_hr is not None:
        message.max_heart_rate = min(round(totals.max_hr), FIT_UINT8_MAX)
    if totals.avg_steps:
        message.avg_cadence, message.avg_fractional_cadence = _strides(totals.avg_steps)


def _lap(totals: _Totals) -> Any:
    from fit_tool.profile.messages.lap_message import LapMessage
    from fit_tool.profile.profile_type import Event, EventType, LapTrigger

    message = LapMessage()
    _summary_fields(message, totals)
    message.event = Event.LAP
    message.event_type = EventType.STOP
    message.lap_trigger = LapTrigger.SESSION_END
    return message


def _session(totals: _Totals) -> Any:
    from fit_tool.profile.messages.session_message import SessionMessage
    from fit_tool.profile.profile_type import Event, EventType, SessionTrigger

    message = SessionMessage()
    _summary_fields(message, totals)
    message.event = Event.SESSION
    message.event_type = EventType.STOP
    message.trigger = SessionTrigger.ACTIVITY_END
    message.first_lap_index = 0
    message.num_laps = 1
    return message


def _activity(totals: _Totals, zone: tzinfo) -> Any:
    from fit_tool.profile.messages.activity_message import ActivityMessage
    from fit_tool.profile.profile_type import Activity as ActivityType
    from fit_tool.profile.profile_type import Event, EventType

    end = datetime.fromtimestamp(totals.end_s, zone)
    offset = end.utcoffset()
    message = ActivityMessage()
    message.timestamp = _ms(totals.end_s)
    message.total_timer_time = totals.timer_s
    message.num_sessions = 1
    message.type = ActivityType.MANUAL
    message.event = Event.ACTIVITY
    message.event_type = EventType.STOP
    # local_timestamp is FIT seconds in local time (no scaling in fit-tool): it tells
    # Garmin Connect the runner's time zone.
    shift = offset.total_seconds() if offset is not None else 0.0
    message.local_timestamp = round(totals.end_s + shift) - FIT_EPOCH_UNIX_S
    return message


# -- reading ----------------------------------------------------------------------------

# FIT timestamps below this are seconds since the device was switched on, not dates: its
# clock was never set (FIT SDK, Profile "date_time": values < 0x10000000 are system time).
FIT_SYSTEM_TIME_MAX = 0x10000000


class _FitMessages:
    """The messages of a FIT file that make runs, collected as they are decoded."""

    def __init__(self) -> None:
        self.file_type: str | None = None
        self.file_key: str | None = None
        self.sessions: list[Any] = []
        self.samples: list[SampleRow] = []
        self.exported = False  # written by stridewatch's export, not by a device
        self._distance = 0.0

    def add(self, message: Any) -> None:
        if message.name == "record":
            self._add_record(message)
        elif message.name == "session":
            self.sessions.append(message)
        elif message.name == "file_id" and self.file_type is None:
            self.file_type = str(message.get_value("type", fallback=None))
            self.file_key = _file_key(message)
            self.exported = message.get_value("serial_number", fallback=None) == STRIDEWATCH_SERIAL

    def _add_record(self, message: Any) -> None:
        t = self.instant(message.get_value("timestamp", fallback=None))
        if t is None:
            return
        distance = _number(message.get_value("distance", fallback=None))
        self._distance = distance if distance is not None and distance >= 0 else self._distance
        speed = _number(_first(message, "enhanced_speed", "speed"))
        hr = _number(message.get_value("heart_rate", fallback=None))
        self.samples.append(
            (t, self._distance, speed, _cadence_steps(message), round(hr) if hr else None)
        )

    @staticmethod
    def instant(value: Any) -> float | None:
        """Unix seconds of a FIT date_time; device-relative ones (an unset clock) counted
        from the FIT epoch (see :func:`_system_time`)."""
        if isinstance(value, datetime):
            return value.timestamp()
        number = _number(value)
        if number is None or number < 0:
            return None
        return FIT_EPOCH_UNIX_S + number


def _system_time(unix_s: float) -> bool:
    """Whether an instant from :meth:`_FitMessages.instant` was device-relative: the
    device's clock was never set when it was written."""
    return unix_s < FIT_EPOCH_UNIX_S + FIT_SYSTEM_TIME_MAX


def _number(value: Any) -> float | None:
    """A finite scalar number; None for arrays, strings, missing and non-finite values
    (a damaged file can put an array where the profile has a scalar)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _first(message: Any, *names: str) -> Any:
    for name in names:
        value = message.get_value(name, fallback=None)
        if value is not None:
            return value
    return None


def _cadence_steps(message: Any, prefix: str = "") -> float | None:
    """FIT cadence (strides/min) and its fraction, as steps/min."""
    strides = _number(_first(message, f"{prefix}running_cadence", f"{prefix}cadence"))
    if not strides:
        return None
    fraction = _number(message.get_value(f"{prefix}fractional_cadence", fallback=None))
    return (strides + (fraction or 0.0)) * STEPS_PER_STRIDE


def _file_key(message: Any) -> str | None:
    created = message.get_value("time_created", fallback=None)
    if not isinstance(created, datetime):
        return None
    maker = message.get_value("manufacturer", fallback=None)
    serial = message.get_value("serial_number", fallback=None)
    return f"fit:{maker}:{serial}:{created.isoformat()}"


def read_fit(data: bytes) -> list[Activity | ActivityFileError]:
    """Decode a FIT activity file: one :class:`Activity` per session (a triathlon's swim,
    transitions, ride and run are five), running or not (the caller decides). A file damaged
    after its session summaries keeps them, with a warning."""
    import fitdecode

    messages = _FitMessages()
    damage = None
    try:
        with fitdecode.FitReader(
            io.BytesIO(data),
            check_crc=fitdecode.CrcCheck.RAISE,
            error_handling=fitdecode.ErrorHandling.IGNORE,
        ) as reader:
            for frame in reader:
                if isinstance(frame, fitdecode.FitDataMessage):
                    messages.add(frame)
    except fitdecode.FitError as exc:
        damage = _damage(exc)
    except Exception as exc:
        # fitdecode trusts field sizes and types and checks some with assert: a mutated file
        # can break its decoding in any way. What was read before stands, as for damage.
        damage = f"the decoder failed ({type(exc).__name__}: {exc})"
    return _activities_from(messages, damage)


def _damage(exc: Exception) -> str:
    import fitdecode

    if isinstance(exc, fitdecode.FitEOFError):
        return f"the file ends early ({exc})"
    if isinstance(exc, fitdecode.FitCRCError):
        return f"checksum mismatch ({exc})"
    return str(exc)


def _activities_from(
    messages: _FitMessages, damage: str | None
) -> list[Activity | ActivityFileError]:
    if messages.file_type is None:
        raise ActivityFileError(f"damaged FIT file: {damage or 'no file_id message'}")
    if messages.file_type != "activity":
        raise NotARunError(f"a FIT {messages.file_type} file, not an activity")
    if not messages.sessions:
        reason = damage or "no session summary (was the recording finished?)"
        raise ActivityFileError(f"damaged FIT file: {reason}")
    warning = None
    if damage is not None:
        count = len(messages.samples)
        warning = f"damaged file ({damage}); kept the device's totals and {count} samples"
    sessions = messages.sessions
    legs: list[Activity | ActivityFileError] = []
    for session in sessions:
        try:
            legs.append(_session_activity(messages, session, warning, alone=len(sessions) == 1))
        except ActivityFileError as exc:
            legs.append(exc)
    activities = iter(with_legs([leg for leg in legs if isinstance(leg, Activity)]))
    return [next(activities) if isinstance(leg, Activity) else leg for leg in legs]


def _session_activity(
    messages: _FitMessages, session: Any, warning: str | None, *, alone: bool
) -> Activity:
    start = messages.instant(session.get_value("start_time", fallback=None))
    if start is None:
        start = messages.instant(session.get_value("timestamp", fallback=None))
    if start is None:
        raise ActivityFileError("damaged FIT session: no start time")

    def total(name: str) -> float:
        value = _number(session.get_value(name, fallback=None))
        return value if value is not None else 0.0

    timer = total("total_timer_time")
    elapsed = total("total_elapsed_time") or timer
    end = start + elapsed
    # One session keeps every record; in a multisport file each leg keeps its own span.
    samples = tuple(s for s in messages.samples if alone or (start <= s[0] <= end))
    if not alone and samples:
        offset = samples[0][1]
        samples = tuple((s[0], max(0.0, s[1] - offset), *s[2:]) for s in samples)
    sport = _session_sport(session)
    mean_hr, max_hr = sample_hr(samples)
    return Activity(
        started_at=datetime.fromtimestamp(start, UTC),
        distance_m=total("total_distance") or (samples[-1][1] if samples else 0.0),
        moving_s=timer,
        elapsed_s=elapsed,
        sport=sport,
        format="fit",
        samples=samples,
        avg_hr=_number(session.get_value("avg_heart_rate", fallback=None)) or mean_hr,
        max_hr=_number(session.get_value("max_heart_rate", fallback=None)) or max_hr,
        avg_cadence=_cadence_steps(session, "avg_") or average_cadence(samples),
        external_id=_session_key(messages.file_key, start, alone),
        warning=warning,
        # The session's own start decides: a stray device-relative record in a dated file
        # is dropped at the boundary as outside the run.
        clock_unset=_system_time(start),
        exported=messages.exported,
    )


def _session_sport(session: Any) -> Sport:
    sport = session.get_value("sport", fallback=None)
    sub = session.get_value("sub_sport", fallback=None)
    found = classify(str(sport) if isinstance(sport, str) else None)
    if isinstance(sub, str) and sub not in ("generic", "all") and found.is_run is not None:
        return Sport(f"{found.name} ({sub.replace('_', ' ')})", found.is_run)
    return found


def _session_key(file_key: str | None, start: float, alone: bool) -> str | None:
    if file_key is None or alone:
        return file_key
    return f"{file_key}:{datetime.fromtimestamp(start, UTC).isoformat()}"
