"""The FIT messages around a run's records, built with fit-tool: FileId, DeviceInfo, the timer
Events, one Lap, one Session and the Activity (Garmin's FIT SDK "Activity file" cookbook).
Their numbers come from :class:`FitTotals`; :mod:`agent.files.fit_export` writes them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from agent.files.same_run import EXPORT_SERIAL

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


@dataclass(frozen=True, slots=True)
class FitTotals:
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


def ms(unix_s: float) -> int:
    """fit-tool takes instants as unix milliseconds."""
    return round(unix_s) * 1000


def strides(steps: float) -> tuple[int, float]:
    """Steps/min as FIT cadence: whole strides/min and the fraction (``fractional_cadence``)."""
    per_foot = min(steps / STEPS_PER_STRIDE, float(FIT_UINT8_MAX))
    whole = math.floor(per_foot)
    return whole, per_foot - whole


def file_id_message(totals: FitTotals) -> Any:
    from fit_tool.profile.messages.file_id_message import FileIdMessage
    from fit_tool.profile.profile_type import FileType

    message = FileIdMessage()
    message.type = FileType.ACTIVITY
    message.manufacturer = MANUFACTURER_DEVELOPMENT
    message.product = 0
    message.serial_number = STRIDEWATCH_SERIAL
    message.time_created = ms(totals.start_s)
    return message


def device_info_message(totals: FitTotals) -> Any:
    from fit_tool.profile.messages.device_info_message import DeviceInfoMessage

    from agent import __version__

    message = DeviceInfoMessage()
    message.timestamp = ms(totals.start_s)
    message.device_index = 0  # the creator of the file
    message.manufacturer = MANUFACTURER_DEVELOPMENT
    message.product = 0
    message.serial_number = STRIDEWATCH_SERIAL
    message.product_name = PRODUCT_NAME
    message.software_version = float(".".join(__version__.split(".")[:2]))
    return message


def timer_event_message(unix_s: int, *, start: bool) -> Any:
    from fit_tool.profile.messages.event_message import EventMessage
    from fit_tool.profile.profile_type import Event, EventType

    message = EventMessage()
    message.timestamp = ms(unix_s)
    message.event = Event.TIMER
    message.event_type = EventType.START if start else EventType.STOP_ALL
    message.event_group = 0
    return message


def _summary_fields(message: Any, totals: FitTotals) -> None:
    """The fields a Lap and a Session share."""
    from fit_tool.profile.profile_type import Sport, SubSport

    message.timestamp = ms(totals.end_s)
    message.start_time = ms(totals.start_s)
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
        message.avg_cadence, message.avg_fractional_cadence = strides(totals.avg_steps)


def lap_message(totals: FitTotals) -> Any:
    from fit_tool.profile.messages.lap_message import LapMessage
    from fit_tool.profile.profile_type import Event, EventType, LapTrigger

    message = LapMessage()
    _summary_fields(message, totals)
    message.event = Event.LAP
    message.event_type = EventType.STOP
    message.lap_trigger = LapTrigger.SESSION_END
    return message


def session_message(totals: FitTotals) -> Any:
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


def activity_message(totals: FitTotals, zone: tzinfo) -> Any:
    from fit_tool.profile.messages.activity_message import ActivityMessage
    from fit_tool.profile.profile_type import Activity as ActivityType
    from fit_tool.profile.profile_type import Event, EventType

    end = datetime.fromtimestamp(totals.end_s, zone)
    offset = end.utcoffset()
    message = ActivityMessage()
    message.timestamp = ms(totals.end_s)
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
