"""Small FIT activity files made for tests with fit-tool (the library the exporter uses):
sessions of any sport, records at one a second, an unset device clock on request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

FIT_EPOCH_UNIX_S = 631_065_600


@dataclass(frozen=True)
class Leg:
    """One session: ``sport`` as fit-tool's Sport name (RUNNING, CYCLING, TRANSITION)."""

    sport: str
    seconds: int
    metres: float
    hr: int | None = None
    strides: int | None = None  # FIT cadence, strides/min


def make_fit(
    start: datetime | int,
    legs: list[Leg],
    *,
    stray_system_time: bool = False,
    elapsed_s: float | None = None,
) -> bytes:
    """A FIT activity file: legs one after another from ``start`` (a datetime, or an int
    of device-relative seconds for a clock never set), a record every second; with
    ``stray_system_time`` one more record stamped in device-relative seconds; ``elapsed_s``
    sets every session's elapsed time (a watch paused for hours), else its timer time."""
    from fit_tool.fit_file_builder import FitFileBuilder
    from fit_tool.profile.messages.activity_message import ActivityMessage
    from fit_tool.profile.messages.file_id_message import FileIdMessage
    from fit_tool.profile.messages.record_message import RecordMessage
    from fit_tool.profile.messages.session_message import SessionMessage
    from fit_tool.profile.profile_type import FileType, Sport

    t0 = start.timestamp() if isinstance(start, datetime) else FIT_EPOCH_UNIX_S + start
    builder = FitFileBuilder(auto_define=True, min_string_size=50)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = 255
    file_id.product = 0
    file_id.serial_number = 1234
    file_id.time_created = round(t0 * 1000)
    builder.add(file_id)
    if stray_system_time:
        stray = RecordMessage()
        stray.timestamp = round((FIT_EPOCH_UNIX_S + 1000) * 1000)
        stray.distance = 0.0
        builder.add(stray)
    sessions = []
    t, distance = t0, 0.0
    for index, leg in enumerate(legs):
        leg_start, leg_distance = t, 0.0
        for second in range(leg.seconds + 1):
            record = RecordMessage()
            record.timestamp = round((leg_start + second) * 1000)
            record.distance = distance + leg.metres * second / leg.seconds
            if leg.hr is not None:
                record.heart_rate = leg.hr
            if leg.strides is not None:
                record.cadence = leg.strides
            builder.add(record)
        leg_distance = leg.metres
        t = leg_start + leg.seconds
        distance += leg_distance
        session = SessionMessage()
        session.message_index = index
        session.timestamp = round(t * 1000)
        session.start_time = round(leg_start * 1000)
        session.total_elapsed_time = float(elapsed_s or leg.seconds)
        session.total_timer_time = float(leg.seconds)
        session.total_distance = leg.metres
        session.sport = getattr(Sport, leg.sport)
        if leg.hr is not None:
            session.avg_heart_rate = leg.hr
            session.max_heart_rate = leg.hr + 10
        if leg.strides is not None:
            session.avg_cadence = leg.strides
        sessions.append(session)
        t += 1
    for session in sessions:
        builder.add(session)
    activity = ActivityMessage()
    activity.timestamp = round(t * 1000)
    activity.num_sessions = len(sessions)
    builder.add(activity)
    return bytes(builder.build().to_bytes())
