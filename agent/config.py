"""Settings: pydantic models, and the loader that layers their sources.

Sources, later ones winning: the defaults in this module (documented, with evidence, in
``config/default.toml``), the user file (``$XDG_CONFIG_HOME/stridewatch/config.toml``), the
file given with ``--config``, then ``STRIDEWATCH_*`` environment variables
(``STRIDEWATCH_UNITS=mi``, ``STRIDEWATCH_PROGRESSION__WEEKLY_WARN=0.1``: a double underscore
separates levels). Every problem becomes one line naming its source and key path.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from agent.errors import ConfigError
from agent.units import DateWindow, years_later

ENV_PREFIX = "STRIDEWATCH_"
# Variables with the prefix that are not settings: where the test suite finds the real
# activity files, and whether it must (README, Development).
NOT_SETTINGS = frozenset({"STRIDEWATCH_CORPUS", "STRIDEWATCH_REQUIRE_CORPUS"})
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _between(low: float, high: float) -> AfterValidator:
    def check(value: float) -> float:
        if not low <= value <= high:
            raise ValueError(f"must be between {low:g} and {high:g}")
        return value

    return AfterValidator(check)


def _check_zone(value: str) -> str:
    if value != "local":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/London, or local") from None
    return value


def _check_address(value: str) -> str:
    parts = value.split(":")
    if len(parts) != 6 or not all(len(p) == 2 and _is_hex(p) for p in parts):
        raise ValueError("must be a Bluetooth address such as C0:FF:EE:00:00:01")
    return value.upper()


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


Fraction = Annotated[float, _between(0, 1)]
Ratio = Annotated[float, _between(1, 10)]
Score = Annotated[int, _between(0, 10)]
Address = Annotated[str, AfterValidator(_check_address)]


def _not_after_this_year(value: int) -> int:
    this_year = datetime.now(UTC).year
    if value > this_year:
        raise ValueError(f"must not be after this year ({this_year}): every date would be refused")
    return value


@dataclass(frozen=True, slots=True)
class Order:
    """Two settings of one section whose values must keep an order: ``low`` below ``high``
    (or at most ``high`` when not ``strict``). Thresholds that escalate, and hysteresis."""

    low: str
    high: str
    strict: bool = True

    def holds(self, low: float, high: float) -> bool:
        return low < high if self.strict else low <= high


class OrderError(ValueError):
    """The orders of a section that its values break; :func:`_describe_order` makes a line of
    each, naming both keys, their values and where each value came from."""

    def __init__(self, broken: list[tuple[Order, float, float]]) -> None:
        relations = (
            f"{o.low} must be {'below' if o.strict else 'at most'} {o.high}" for o, _, _ in broken
        )
        super().__init__("; ".join(relations))
        self.broken = broken


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # The orders this section's values must keep (checked once every value is valid).
    orders: ClassVar[tuple[Order, ...]] = ()

    @model_validator(mode="after")
    def _keep_orders(self) -> Self:
        broken = [
            (order, getattr(self, order.low), getattr(self, order.high))
            for order in self.orders
            if not order.holds(getattr(self, order.low), getattr(self, order.high))
        ]
        if broken:
            raise OrderError(broken)
        return self


class RunnerSettings(_Section):
    max_hr: Annotated[int, _between(100, 240)] = 190
    resting_hr: Annotated[int, _between(25, 120)] = 60
    sex: Literal["female", "male"] = "female"

    # Karvonen zones divide by the heart-rate reserve, max_hr - resting_hr.
    orders = (Order("resting_hr", "max_hr"),)


class SensorSettings(_Section):
    allow: tuple[Address, ...] = ()
    per_foot: tuple[Address, ...] = ()
    low_battery_percent: Annotated[int, _between(0, 100)] = 15
    scan_timeout_s: Annotated[float, _between(1, 120)] = 10.0


class RecordingSettings(_Section):
    start_speed: Annotated[float, _between(0.1, 5)] = 1.0
    pause_below: Annotated[float, _between(0, 5)] = 0.5
    resume_above: Annotated[float, _between(0, 5)] = 0.9
    # Down to 3 s so tests (and a runner who wants it) can close runs quickly.
    idle_timeout_min: Annotated[float, _between(0.05, 240)] = 10.0
    flush_interval_s: Annotated[float, _between(0.1, 300)] = 5.0

    # Hysteresis: a pause ends only above a higher speed; and a run starts at a speed that
    # counts as moving, not at one that pauses it at once.
    orders = (Order("pause_below", "resume_above"), Order("pause_below", "start_speed", False))


class ProgressionSettings(_Section):
    load: Literal["distance", "trimp", "srpe"] = "distance"
    weekly_warn: Fraction = 0.10
    weekly_alert: Fraction = 0.15
    weekly_danger: Fraction = 0.30
    spike_warn: Ratio = 1.10
    spike_escalate: Ratio = 1.30
    spike_danger: Ratio = 2.0
    acwr_caution: Ratio = 1.5
    monotony_caution: Annotated[float, _between(1, 10)] = 2.0
    pain_hold_days: Annotated[int, _between(0, 60)] = 7
    heads_up: bool = True
    # The allowance (config/default.toml gives the evidence for each).
    break_days: Annotated[int, _between(7, 365)] = 14
    return_factor: Fraction = 0.5
    long_break_days: Annotated[int, _between(7, 365)] = 29
    long_break_factor: Fraction = 0.33
    restart_km: Annotated[float, _between(0.5, 20)] = 3.218688
    start_km: Annotated[float, _between(0.5, 20)] = 4.828032
    warmup_days: Annotated[int, _between(0, 90)] = 14
    min_run_km: Annotated[float, _between(0, 20)] = 2.0

    # Escalation steps rise; a longer break is longer, and never allows more.
    orders = (
        Order("weekly_warn", "weekly_alert"),
        Order("weekly_alert", "weekly_danger"),
        Order("spike_warn", "spike_escalate"),
        Order("spike_escalate", "spike_danger"),
        Order("break_days", "long_break_days"),
        Order("long_break_factor", "return_factor", False),
    )


class PlanSettings(_Section):
    runs_per_week: Annotated[int, _between(1, 7)] = 3
    rest_day_weeks: Annotated[int, _between(0, 52)] = 4


class PainSettings(_Section):
    during_caution: Score = 3
    during_stop: Score = 4
    before_caution: Score = 3
    before_stop: Score = 4
    after_caution: Score = 3
    after_stop: Score = 5
    morning_caution: Score = 3
    morning_stop: Score = 4
    severe: Score = 7
    return_window_h: Annotated[float, _between(0.5, 48)] = 4.0
    baseline_days: Annotated[int, _between(3, 60)] = 14
    margin: Annotated[int, _between(0, 5)] = 1

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


class ScheduleSettings(_Section):
    summary: time = time(21, 0)
    morning_checkin: time = time(8, 0)
    after_run_checkin_h: Annotated[float, _between(0.5, 48)] = 4.0


class NotificationSettings(_Section):
    enabled: bool = True
    quiet_start: time = time(22, 0)
    quiet_end: time = time(7, 0)
    retry_interval_s: Annotated[float, _between(1, 86400)] = 900.0
    speak: bool = False
    later_min: Annotated[float, _between(1, 1440)] = 60.0


class DateSettings(_Section):
    earliest_year: Annotated[int, _between(1970, 2100), AfterValidator(_not_after_this_year)] = 1990
    years_ahead: Annotated[int, _between(1, 100)] = 10


class DatabaseSettings(_Section):
    path: str = ""
    busy_timeout_s: Annotated[float, _between(0, 600)] = 5.0


def _check_folder(value: str) -> str:
    if not Path(value).expanduser().is_absolute():
        raise ValueError("must be a full path to a folder (or start with ~)")
    return value


Folder = Annotated[str, AfterValidator(_check_folder)]


class SyncSettings(_Section):
    folders: tuple[Folder, ...] = ()
    poll_folders: tuple[Folder, ...] = ()
    settle_s: Annotated[float, _between(0.5, 300)] = 3.0
    poll_interval_s: Annotated[float, _between(1, 3600)] = 10.0


class Settings(_Section):
    units: Literal["km", "mi"] = "km"
    week_start: Literal[WEEKDAYS] = "monday"  # type: ignore[valid-type]
    timezone: Annotated[str, AfterValidator(_check_zone)] = "local"
    runner: RunnerSettings = Field(default_factory=RunnerSettings)
    sensors: SensorSettings = Field(default_factory=SensorSettings)
    recording: RecordingSettings = Field(default_factory=RecordingSettings)
    progression: ProgressionSettings = Field(default_factory=ProgressionSettings)
    pain: PainSettings = Field(default_factory=PainSettings)
    plan: PlanSettings = Field(default_factory=PlanSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    dates: DateSettings = Field(default_factory=DateSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)

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


class _Layers:
    """The merged raw settings, remembering which source set each key."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.origin: dict[tuple[str, ...], str] = {}

    def add(self, values: Mapping[str, Any], source: str, prefix: tuple[str, ...] = ()) -> None:
        target = self.data
        for part in prefix:
            target = target.setdefault(part, {})
        for key, value in values.items():
            path = (*prefix, key)
            if isinstance(value, Mapping) and isinstance(target.get(key, {}), dict):
                target.setdefault(key, {})
                self.add(value, source, path)
            else:
                target[key] = value
                self.origin[path] = source

    def source_of(self, path: tuple[str, ...]) -> str:
        for end in range(len(path), 0, -1):
            if path[:end] in self.origin:
                return self.origin[path[:end]]
        for key, source in self.origin.items():  # a whole unknown table: any key inside it
            if key[: len(path)] == path:
                return source
        return "config"


def load_settings(
    config_path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Layer defaults, the user file, ``config_path`` and the environment; validate."""
    environ = os.environ if environ is None else environ
    layers = _Layers()
    problems: list[str] = []
    user_file = user_config_path()
    if user_file.is_file():
        _add_file(layers, user_file, problems)
    if config_path is not None:
        if not config_path.is_file():
            problems.append(f"{config_path}: no such config file")
        else:
            _add_file(layers, config_path, problems)
    _add_environment(layers, environ, problems)
    if problems:
        raise ConfigError(problems)
    try:
        return Settings.model_validate(layers.data)
    except ValidationError as exc:
        lines = [line for error in exc.errors() for line in _lines(error, layers)]
        raise ConfigError(lines) from None


def _add_file(layers: _Layers, path: Path, problems: list[str]) -> None:
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: not valid TOML: {exc}")
        return
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot be read: {exc}")
        return
    layers.add(values, str(path))


def _add_environment(layers: _Layers, environ: Mapping[str, str], problems: list[str]) -> None:
    for name, text in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or not name[len(ENV_PREFIX) :]:
            continue
        if name in NOT_SETTINGS:
            continue
        path = tuple(name[len(ENV_PREFIX) :].lower().split("__"))
        value: Any = _parse_env_value(text)
        for key in reversed(path[1:]):
            value = {key: value}
        layers.add({path[0]: value}, name)


def _parse_env_value(text: str) -> Any:
    """Environment values are TOML values where they parse (``10``, ``true``, ``["a"]``)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _lines(error: Any, layers: _Layers) -> list[str]:
    """One line per problem: a broken order of a section is one line per pair."""
    found = error.get("ctx", {}).get("error")
    if isinstance(found, OrderError):
        section = tuple(str(part) for part in error["loc"])
        return [_describe_order(section, *broken, layers) for broken in found.broken]
    return [_describe(error, layers)]


def _describe_order(
    section: tuple[str, ...], order: Order, low: float, high: float, layers: _Layers
) -> str:
    """``SOURCE: pain.during_stop: must be above pain.during_caution (3 by default), got 2``:
    the line is about the key that was set (the higher one when both were), and names the
    other key with its value and where that came from."""
    low_path, high_path = (*section, order.low), (*section, order.high)
    if high_path in layers.origin or low_path not in layers.origin:
        key, value, other, other_value = high_path, high, low_path, low
        relation = "above" if order.strict else "at least"
    else:
        key, value, other, other_value = low_path, low, high_path, high
        relation = "below" if order.strict else "at most"
    source = layers.origin.get(key, "default")
    other_source = f"from {layers.origin[other]}" if other in layers.origin else "by default"
    return (
        f"{source}: {'.'.join(key)}: must be {relation} {'.'.join(other)} "
        f"({other_value!r} {other_source}), got {value!r}"
    )


def _describe(error: Any, layers: _Layers) -> str:
    loc = tuple(str(part) for part in error["loc"])
    source = layers.source_of(loc)
    key = ".".join(loc)
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        return f"{source}: {key}: unknown setting{_suggest(loc)}"
    if kind == "value_error":
        message = str(error["ctx"]["error"])
    elif kind == "literal_error":
        message = f"must be one of {error['ctx']['expected']}"
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        message = "must be a whole number"
    elif kind in ("float_parsing", "float_type"):
        message = "must be a number"
    elif kind in ("bool_parsing", "bool_type"):
        message = "must be true or false"
    elif kind.startswith("time"):
        message = "must be a time of day such as 21:00"
    elif kind in ("tuple_type", "list_type"):
        message = 'must be a list, e.g. ["C0:FF:EE:00:00:01"]'
    elif kind in ("model_type", "dict_type"):
        message = "must be a table of settings"
    else:
        message = str(error["msg"])
    return f"{source}: {key}: {message}, got {value!r}"


def _suggest(loc: tuple[str, ...]) -> str:
    model: Any = Settings
    for part in loc[:-1]:
        field = model.model_fields.get(part)
        if field is None or not isinstance(field.annotation, type):
            return ""
        model = field.annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return ""
    close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def settings_as_toml(settings: Settings) -> str:
    """The effective settings as TOML text, for ``stridewatch config show``."""
    lines: list[str] = []
    data = settings.model_dump(mode="json")
    for key, value in data.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]")
            lines.extend(f"{name} = {_toml_value(item)}" for name, item in value.items())
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value[:5] if len(value) == 8 and value[2] == ":" and value[5] == ":" else value
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return repr(value)
