"""The bounds a setting may have, as ``Annotated`` metadata pydantic applies when it validates
the settings (:mod:`agent.config_load`), and the orders between settings that a section checks
when built (:class:`Order`). Nothing here imports pydantic: it is imported only to validate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler


class Check:
    """A bound on a setting, as ``Annotated`` metadata that pydantic runs after the type's own
    validation: ``func`` returns the value (perhaps normalised) or raises ``ValueError``."""

    def __init__(self, func: Callable[[Any], Any], *, before: bool = False) -> None:
        self.func, self.before = func, before

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        from pydantic_core import core_schema

        if self.before:  # on the value as given, before the type's validation
            return core_schema.no_info_before_validator_function(self.func, handler(source))
        return core_schema.no_info_after_validator_function(self.func, handler(source))


class Between(Check):
    """A number from ``low`` to ``high``, both included."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__(self.check)
        self.low, self.high = low, high

    def check(self, value: float) -> float:
        if not self.low <= value <= self.high:
            raise ValueError(f"must be between {self.low:g} and {self.high:g}")
        return value


def _time_of_day(value: object) -> object:
    # pydantic would read a number as seconds after midnight (2130: 00:35:30).
    if not isinstance(value, str | time):
        raise ValueError("must be a time of day such as 21:00")
    return value


def _local(value: time) -> time:
    # Times of day are in the configured zone; an offset would be compared with local times.
    if value.tzinfo is not None:
        raise ValueError("must be a time of day such as 21:00, without an offset")
    return value


TimeOfDay = Annotated[time, Check(_time_of_day, before=True), Check(_local)]


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


Fraction = Annotated[float, Between(0, 1)]
Ratio = Annotated[float, Between(1, 10)]
Score = Annotated[int, Between(0, 10)]
Address = Annotated[str, Check(_check_address)]
Zone = Annotated[str, Check(_check_zone)]


def not_after_this_year(value: int) -> int:
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


def _check_folder(value: str) -> str:
    try:
        full = Path(value).expanduser()
    except RuntimeError:  # ~name of no such user
        raise ValueError("must be a full path to a folder (~ of no user here)") from None
    if not full.is_absolute():
        raise ValueError("must be a full path to a folder (or start with ~)")
    return value


Folder = Annotated[str, Check(_check_folder)]
