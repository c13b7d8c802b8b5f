"""FIT activity files: read a device's file (fitdecode); write a stored run
(:mod:`agent.files.fit_export`, whose names stay importable from here).

Reading uses fitdecode (MIT), a library independent of the writer (fit-tool), which also
checks the CRCs.
"""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agent.files.activity import (
    Activity,
    ActivityFileError,
    NotARunError,
    average_cadence,
    sample_hr,
    with_legs,
)
from agent.files.fit_export import (
    FIT_EARLIEST_UNIX_S,
    FIT_LATEST_UNIX_S,
    ExportError,
    ExportResult,
    FitRangeError,
    default_file_name,
    encode_run,
    export_run,
)
from agent.files.fit_messages import (
    FIT_EPOCH_UNIX_S,
    FIT_MAX_SPEED,
    FIT_UINT8_MAX,
    MANUFACTURER_DEVELOPMENT,
    PRODUCT_NAME,
    STEPS_PER_STRIDE,
    STRIDEWATCH_SERIAL,
)
from agent.files.sports import Sport, classify

if TYPE_CHECKING:
    from agent.store import SampleRow

__all__ = [
    "FIT_EARLIEST_UNIX_S",
    "FIT_EPOCH_UNIX_S",
    "FIT_LATEST_UNIX_S",
    "FIT_MAX_SPEED",
    "FIT_SYSTEM_TIME_MAX",
    "FIT_UINT8_MAX",
    "MANUFACTURER_DEVELOPMENT",
    "PRODUCT_NAME",
    "STEPS_PER_STRIDE",
    "STRIDEWATCH_SERIAL",
    "ExportError",
    "ExportResult",
    "FitRangeError",
    "default_file_name",
    "encode_run",
    "export_run",
    "read_fit",
]

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
