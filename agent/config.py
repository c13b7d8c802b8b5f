"""Settings: frozen dataclasses, one per section of ``config/default.toml``, with their bounds.

The defaults are documented, with their evidence, in ``config/default.toml``;
:mod:`agent.config_load` layers the sources (that file, the user's, ``--config``,
``STRIDEWATCH_*`` variables) into one :class:`Settings`, validated by pydantic against the
bounds of :mod:`agent.config_bounds` (``Between``, ``Check``, each section's ``Order`` s).
Dataclasses, not pydantic models: every command reads the settings, and pydantic (~100 ms of
start-up: benchmarks/, issue 18) is imported only to validate sources that changed since the
last validation. ``Settings()`` holds the defaults; a section's orders are checked there too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, time, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

# The bounds are named in the fields' annotations, which pydantic resolves in this module.
from agent.config_bounds import (
    Address,
    Between,
    Check,
    Folder,
    Fraction,
    Order,
    OrderError,
    Ratio,
    Score,
    TimeOfDay,
    Zone,
    not_after_this_year,
)
from agent.units import DateWindow, years_later

ENV_PREFIX = "STRIDEWATCH_"
# Variables with the prefix that are not settings: where the test suite finds the real
# activity files, and whether it must (README, Development).
NOT_SETTINGS = frozenset({"STRIDEWATCH_CORPUS", "STRIDEWATCH_REQUIRE_CORPUS"})
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class _Section:
    """What each section shares; each is a frozen dataclass (settings are shared), its equality,
    hash and repr those below."""

    # Pydantic's config for these dataclasses: an unknown key is an error.
    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}
    # The orders this section's values must keep (checked once every value is valid).
    orders: ClassVar[tuple[Order, ...]] = ()

    def __post_init__(self) -> None:
        broken = [
            (order, getattr(self, order.low), getattr(self, order.high))
            for order in self.orders
            if not order.holds(getattr(self, order.low), getattr(self, order.high))
        ]
        if broken:
            raise OrderError(broken)

    # Equality, hash and repr by the fields, written once here: generated for each class
    # (as ``@dataclass`` does, with ``exec``) they were ~0.8 ms of start-up a section.
    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, item.name) for item in fields(self))  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, _Section)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        items = fields(self)  # type: ignore[arg-type]
        shown = ", ".join(f"{item.name}={getattr(self, item.name)!r}" for item in items)
        return f"{type(self).__name__}({shown})"


@dataclass(frozen=True, eq=False, repr=False)
class RunnerSettings(_Section):
    """``[runner]``: the runner's heart rate (beats/min) for zones and TRIMP, and sex for
    TRIMP's weighting."""

    max_hr: Annotated[int, Between(100, 240)] = 190
    resting_hr: Annotated[int, Between(25, 120)] = 60
    sex: Literal["female", "male"] = "female"

    # Karvonen zones divide by the heart-rate reserve, max_hr - resting_hr.
    orders = (Order("resting_hr", "max_hr"),)


@dataclass(frozen=True, eq=False, repr=False)
class SensorSettings(_Section):
    """``[sensors]``: which Bluetooth sensors to use (addresses), which footpods count one
    foot, the battery warning (%) and scan time (s)."""

    allow: tuple[Address, ...] = ()
    per_foot: tuple[Address, ...] = ()
    low_battery_percent: Annotated[int, Between(0, 100)] = 15
    scan_timeout_s: Annotated[float, Between(1, 120)] = 10.0


@dataclass(frozen=True, eq=False, repr=False)
class RecordingSettings(_Section):
    """``[recording]``: when a run starts, pauses and resumes (m/s), when it ends (min
    idle), and how often it is written (s)."""

    start_speed: Annotated[float, Between(0.1, 5)] = 1.0
    pause_below: Annotated[float, Between(0, 5)] = 0.5
    resume_above: Annotated[float, Between(0, 5)] = 0.9
    # Down to 3 s so tests (and a runner who wants it) can close runs quickly.
    idle_timeout_min: Annotated[float, Between(0.05, 240)] = 10.0
    flush_interval_s: Annotated[float, Between(0.1, 300)] = 5.0

    # Hysteresis: a pause ends only above a higher speed; and a run starts at a speed that
    # counts as moving, not at one that pauses it at once.
    orders = (Order("pause_below", "resume_above"), Order("pause_below", "start_speed", False))


@dataclass(frozen=True, eq=False, repr=False)
class ProgressionSettings(_Section):
    """``[progression]``: the load measure, the weekly and single-run thresholds, and the
    allowance after breaks (km, days, fractions)."""

    load: Literal["distance", "trimp", "srpe"] = "distance"
    weekly_warn: Fraction = 0.10
    weekly_alert: Fraction = 0.15
    weekly_danger: Fraction = 0.30
    spike_warn: Ratio = 1.10
    spike_escalate: Ratio = 1.30
    spike_danger: Ratio = 2.0
    acwr_caution: Ratio = 1.5
    monotony_caution: Annotated[float, Between(1, 10)] = 2.0
    pain_hold_days: Annotated[int, Between(0, 60)] = 7
    heads_up: bool = True
    # The allowance (config/default.toml gives the evidence for each).
    break_days: Annotated[int, Between(7, 365)] = 14
    return_factor: Fraction = 0.5
    long_break_days: Annotated[int, Between(7, 365)] = 29
    long_break_factor: Fraction = 0.33
    restart_km: Annotated[float, Between(0.5, 20)] = 3.218688
    start_km: Annotated[float, Between(0.5, 20)] = 4.828032
    warmup_days: Annotated[int, Between(0, 90)] = 14
    min_run_km: Annotated[float, Between(0, 20)] = 2.0

    # Escalation steps rise; a longer break is longer, and never allows more.
    orders = (
        Order("weekly_warn", "weekly_alert"),
        Order("weekly_alert", "weekly_danger"),
        Order("spike_warn", "spike_escalate"),
        Order("spike_escalate", "spike_danger"),
        Order("break_days", "long_break_days"),
        Order("long_break_factor", "return_factor", False),
    )


@dataclass(frozen=True, eq=False, repr=False)
class PlanSettings(_Section):
    """``[plan]``: a return plan's runs a week, and every how many weeks a rest week comes."""

    runs_per_week: Annotated[int, Between(1, 7)] = 3
    rest_day_weeks: Annotated[int, Between(0, 52)] = 4


@dataclass(frozen=True, eq=False, repr=False)
class PainSettings(_Section):
    """``[pain]``: pain thresholds (0-10) for each timing, the return window (h) and the
    baseline (days, margin)."""

    during_caution: Score = 3
    during_stop: Score = 4
    before_caution: Score = 3
    before_stop: Score = 4
    after_caution: Score = 3
    after_stop: Score = 5
    morning_caution: Score = 3
    morning_stop: Score = 4
    severe: Score = 7
    return_window_h: Annotated[float, Between(0.5, 48)] = 4.0
    baseline_days: Annotated[int, Between(3, 60)] = 14
    margin: Annotated[int, Between(0, 5)] = 1

    # caution < stop < severe for each timing: each level is above the one before it.
    orders = tuple(
        order
        for timing in ("during", "before", "after", "morning")
        for order in (
            Order(f"{timing}_caution", f"{timing}_stop"),
            Order(f"{timing}_stop", "severe"),
        )
    )


# How late an after-run check-in may still be asked (seconds after it came due): the daemon's
# timetable and a run synced from a watch hours later both use it.
AFTER_RUN_GRACE_S = 8 * 3600


@dataclass(frozen=True, eq=False, repr=False)
class ScheduleSettings(_Section):
    """``[schedule]``: when the nightly summary and the check-ins come (local times; hours
    after a run)."""

    summary: TimeOfDay = time(21, 0)
    morning_checkin: TimeOfDay = time(8, 0)
    after_run_checkin_h: Annotated[float, Between(0.5, 48)] = 4.0


@dataclass(frozen=True, eq=False, repr=False)
class NotificationSettings(_Section):
    """``[notifications]``: whether and when to notify (quiet hours), retries (s), speech,
    and "later" (min)."""

    enabled: bool = True
    quiet_start: TimeOfDay = time(22, 0)
    quiet_end: TimeOfDay = time(7, 0)
    retry_interval_s: Annotated[float, Between(1, 86400)] = 900.0
    speak: bool = False
    later_min: Annotated[float, Between(1, 1440)] = 60.0


@dataclass(frozen=True, eq=False, repr=False)
class DateSettings(_Section):
    """``[dates]``: the dates a runner's input may hold (from a year, to years ahead)."""

    earliest_year: Annotated[int, Between(1970, 2100), Check(not_after_this_year)] = 1990
    years_ahead: Annotated[int, Between(1, 100)] = 10


@dataclass(frozen=True, eq=False, repr=False)
class DatabaseSettings(_Section):
    """``[database]``: where the database is, and how long to wait for a lock (s)."""

    path: str = ""
    busy_timeout_s: Annotated[float, Between(0, 600)] = 5.0


@dataclass(frozen=True, eq=False, repr=False)
class SyncSettings(_Section):
    """``[sync]``: folders to import runs from (watched or polled), and their timing (s)."""

    folders: tuple[Folder, ...] = ()
    poll_folders: tuple[Folder, ...] = ()
    settle_s: Annotated[float, Between(0.5, 300)] = 3.0
    poll_interval_s: Annotated[float, Between(1, 3600)] = 10.0


@dataclass(frozen=True, eq=False, repr=False)
class Settings(_Section):
    """Every setting, as validated (:func:`agent.config_load.load_settings`) or the defaults
    (``Settings()``)."""

    units: Literal["km", "mi"] = "km"
    week_start: Literal[WEEKDAYS] = "monday"  # type: ignore[valid-type]
    timezone: Zone = "local"
    runner: RunnerSettings = field(default_factory=RunnerSettings)
    sensors: SensorSettings = field(default_factory=SensorSettings)
    recording: RecordingSettings = field(default_factory=RecordingSettings)
    progression: ProgressionSettings = field(default_factory=ProgressionSettings)
    pain: PainSettings = field(default_factory=PainSettings)
    plan: PlanSettings = field(default_factory=PlanSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    dates: DateSettings = field(default_factory=DateSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)

    @cached_property
    def zone(self) -> tzinfo:
        """The configured time zone; ``local`` is the system's zone. Resolved once per
        settings object: resolving ``/etc/localtime`` on every use was two thirds of
        ``check``'s own time over 180 days of runs (benchmarks/)."""
        return ZoneInfo(self.timezone) if self.timezone != "local" else system_zone()

    @property
    def first_weekday(self) -> int:
        return WEEKDAYS.index(self.week_start)

    def date_window(self, now: datetime | None = None) -> DateWindow:
        """The dates a runner's input may hold (``--at``, ``--since``, ``--week``, imported
        files): from 1 January of ``dates.earliest_year`` (local time) to
        ``dates.years_ahead`` years after ``now`` (default: the clock)."""
        now = datetime.now(UTC) if now is None else now
        earliest = datetime(self.dates.earliest_year, 1, 1, tzinfo=self.zone)
        latest = years_later(now.astimezone(self.zone), self.dates.years_ahead)
        return DateWindow(earliest, latest, "dates.earliest_year, dates.years_ahead")

    def db_path(self) -> Path:
        """Where the database lives: the configured path or the XDG data dir."""
        if self.database.path:
            return Path(self.database.path).expanduser()
        return Path(platformdirs.user_data_dir("stridewatch")) / "stridewatch.db"


def system_zone() -> tzinfo:
    """The system time zone as a DST-aware zone: ``$TZ``, then ``/etc/localtime``, else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        link = Path("/etc/localtime")
        if link.is_symlink():
            name = str(link.resolve()).partition("zoneinfo/")[2]
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def user_config_path() -> Path:
    """The user's config file: ``$XDG_CONFIG_HOME/stridewatch/config.toml``."""
    return Path(platformdirs.user_config_dir("stridewatch")) / "config.toml"
