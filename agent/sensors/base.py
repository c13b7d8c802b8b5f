"""The one interface between sensor drivers and the rest of stridewatch.

A driver (BLE in ``ble.py``, simulated in ``sim.py``) only puts raw :class:`Notification`
objects and connection :class:`SensorEvent` objects on an ``asyncio.Queue``; its
notification callbacks do nothing else. :func:`decoded_events` is the single consumer that
turns notifications into typed :class:`Measurement` events, so nothing downstream can tell
a real footpod from a simulated one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol

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


QueueItem = Notification | SensorEvent


class SensorDriver(Protocol):
    """What the daemon holds: BLE or simulated, chosen in one place from config."""

    queue: asyncio.Queue[QueueItem]

    async def start(self) -> None:
        """Start background work (scanning, connecting, simulating)."""

    async def stop(self) -> None:
        """Stop and release every resource; idempotent."""
