"""The one interface between sensor drivers and the rest of stridewatch.

A driver (BLE in ``ble.py``, simulated in ``sim.py``) only puts raw :class:`Notification`
objects and connection :class:`SensorEvent` objects on an ``asyncio.Queue``; its
notification callbacks do nothing else. :func:`decoded_events` is the single consumer that
turns notifications into typed :class:`Measurement` events, so nothing downstream can tell
a real footpod from a simulated one.

A driver that has nothing more to say (a simulation played out) puts :data:`END_OF_STREAM`
on its queue; :func:`decoded_events` then ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Literal, Protocol, final

from agent.sensors.gatt import (
    GattDecodeError,
    parse_battery_level,
    parse_heart_rate,
    parse_rsc_measurement,
)

SensorKind = Literal["footpod", "hrm"]

# 16-bit SIG UUIDs in their 128-bit form, as bleak and BlueZ spell them.
BASE_UUID = "0000{:04x}-0000-1000-8000-00805f9b34fb"
RSC_SERVICE = BASE_UUID.format(0x1814)
HEART_RATE_SERVICE = BASE_UUID.format(0x180D)
BATTERY_SERVICE = BASE_UUID.format(0x180F)
HEART_RATE_MEASUREMENT = BASE_UUID.format(0x2A37)
BODY_SENSOR_LOCATION = BASE_UUID.format(0x2A38)
RSC_MEASUREMENT = BASE_UUID.format(0x2A53)
RSC_FEATURE = BASE_UUID.format(0x2A54)
SC_CONTROL_POINT = BASE_UUID.format(0x2A55)
SENSOR_LOCATION = BASE_UUID.format(0x2A5D)
BATTERY_LEVEL = BASE_UUID.format(0x2A19)

SERVICE_KIND: dict[str, SensorKind] = {RSC_SERVICE: "footpod", HEART_RATE_SERVICE: "hrm"}


@dataclass(frozen=True, slots=True)
class Notification:
    """Raw bytes as a characteristic delivered them; ``received_at`` is clock seconds."""

    address: str
    kind: SensorKind
    characteristic: str
    received_at: float
    data: bytes


@dataclass(frozen=True, slots=True)
class SensorEvent:
    """Something that happened to a sensor at clock time ``at``."""

    address: str
    kind: SensorKind
    at: float


@dataclass(frozen=True, slots=True)
class Connected(SensorEvent):
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Disconnected(SensorEvent):
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BatteryLevel(SensorEvent):
    percent: int = 0


@dataclass(frozen=True, slots=True)
class Measurement(SensorEvent):
    """A decoded measurement: ``value`` is a ``HeartRateMeasurement`` or ``RSCMeasurement``."""

    value: object = None


@dataclass(frozen=True, slots=True)
class DecodeFailed(SensorEvent):
    """A malformed payload, counted and skipped."""

    characteristic: str = ""
    data: bytes = b""
    error: str = ""


@final
class EndOfStream:
    """The type of :data:`END_OF_STREAM`: a driver puts it on its queue when it is done."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "END_OF_STREAM"


END_OF_STREAM: Final = EndOfStream()

QueueItem = Notification | SensorEvent | EndOfStream


class SensorDriver(Protocol):
    """What the daemon holds: BLE or simulated, chosen in one place from config."""

    queue: asyncio.Queue[QueueItem]

    async def start(self) -> None:
        """Start background work (scanning, connecting, simulating)."""

    async def stop(self) -> None:
        """Stop and release every resource; idempotent."""


# -- the one consumer: raw notifications -> typed events ------------------------------------

_MEASUREMENT_DECODERS: dict[str, Callable[[bytes], object]] = {
    HEART_RATE_MEASUREMENT: parse_heart_rate,
    RSC_MEASUREMENT: parse_rsc_measurement,
}


def normalize_uuid(uuid: str) -> str:
    """``"2A37"``, ``"0x2a37"`` or an upper-case 128-bit UUID -> bleak's lower-case 128-bit form."""
    text = uuid.strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    if len(text) in (4, 8):
        try:
            return f"{int(text, 16):08x}{RSC_SERVICE[8:]}"
        except ValueError:
            return text
    return text


def decode_notification(n: Notification) -> SensorEvent:
    """Decode one notification by characteristic; never raises.

    Heart rate and RSC measurements become :class:`Measurement` (``value`` a
    ``HeartRateMeasurement`` or ``RSCMeasurement``), battery level a :class:`BatteryLevel`;
    a malformed payload, or a characteristic we have no decoder for, a :class:`DecodeFailed`.
    Event times are the notification's ``received_at``.
    """
    char = n.characteristic
    if char not in _MEASUREMENT_DECODERS and char != BATTERY_LEVEL:
        char = normalize_uuid(char)
    try:
        if char == BATTERY_LEVEL:
            return BatteryLevel(n.address, n.kind, n.received_at, parse_battery_level(n.data))
        decoder = _MEASUREMENT_DECODERS.get(char)
        if decoder is None:
            return _failed(n, f"no decoder for characteristic {n.characteristic}")
        return Measurement(n.address, n.kind, n.received_at, decoder(n.data))
    except GattDecodeError as exc:
        return _failed(n, str(exc))


def _failed(n: Notification, error: str) -> DecodeFailed:
    return DecodeFailed(n.address, n.kind, n.received_at, n.characteristic, bytes(n.data), error)


@dataclass(slots=True)
class DecodeStats:
    """What :func:`decoded_events` has seen; ``failed_by_address`` counts malformed payloads."""

    decoded: int = 0
    failed: int = 0
    failed_by_address: dict[str, int] = field(default_factory=dict)

    def count(self, event: SensorEvent) -> None:
        if isinstance(event, DecodeFailed):
            self.failed += 1
            self.failed_by_address[event.address] = self.failed_by_address.get(event.address, 0) + 1
        else:
            self.decoded += 1


async def decoded_events(
    queue: asyncio.Queue[QueueItem],
    *,
    stats: DecodeStats | None = None,
    tap: Callable[[Notification | SensorEvent], None] | None = None,
) -> AsyncIterator[SensorEvent]:
    """Yield every queue item as a typed event, in queue order; never raises on bad data.

    Notifications are decoded with :func:`decode_notification` (malformed ones become
    :class:`DecodeFailed`, counted in ``stats``); other events pass through unchanged. Each
    item is marked ``task_done`` once decoded. The iterator ends when it takes
    :data:`END_OF_STREAM` from the queue. ``tap`` sees every raw item first (a capture).
    Cancelling the consuming task raises ``CancelledError`` out of the pending
    ``queue.get()``, as usual in asyncio.
    """
    while True:
        item = await queue.get()
        queue.task_done()
        if isinstance(item, EndOfStream):
            return
        if tap is not None:
            tap(item)  # the raw item, before decoding: what a capture keeps
        if isinstance(item, Notification):
            event = decode_notification(item)
            if stats is not None:
                stats.count(event)
            yield event
        else:
            yield item


# -- low battery ------------------------------------------------------------------------

# sensors.low_battery_percent's default (config/default.toml): coin cells in footpods and
# straps fall off a cliff below ~15%, leaving a run or two.
LOW_BATTERY_PERCENT = 15


def low_battery_due(
    percent: int,
    today: date,
    last_reported: date | None,
    threshold: int = LOW_BATTERY_PERCENT,
) -> bool:
    """Report a low battery now? At or below ``threshold``, and not yet reported ``today``."""
    return percent <= threshold and last_reported != today


class LowBatteryPolicy:
    """Remembers, per sensor, the day its low battery was last reported (once a day)."""

    def __init__(self, threshold: int = LOW_BATTERY_PERCENT) -> None:
        self.threshold = threshold
        self.last_reported: dict[str, date] = {}

    def check(self, event: BatteryLevel, today: date) -> bool:
        """True when ``event`` should become a notification; records it as reported."""
        due = low_battery_due(
            event.percent, today, self.last_reported.get(event.address), self.threshold
        )
        if due:
            self.last_reported[event.address] = today
        return due
