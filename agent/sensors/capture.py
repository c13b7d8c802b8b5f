"""Captures: every raw notification (and connection event) a recording received, one JSON
object a line, and a driver that replays one through the same decode and recorder path.

A line is ``{"t": unix_s, "address": "C0:FF:EE:00:00:01", "kind": "footpod", "char": "2a53",
"hex": "02 2c 01 aa"}`` for a notification (``char`` the 16-bit GATT UUID, or the full UUID
for another), or ``{"t": ..., "address": ..., "kind": ..., "event": "connected" |
"disconnected" | "battery", "percent": 80}`` for what happened to a sensor. A runner can
attach a capture to a bug report (``stridewatch run --capture FILE.jsonl``) and anyone can
play it back (``stridewatch replay FILE.jsonl``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, get_args

from agent.clock import Clock, MonotonicClock
from agent.errors import StridewatchError
from agent.sensors.base import (
    BASE_UUID,
    END_OF_STREAM,
    BatteryLevel,
    Connected,
    Disconnected,
    Notification,
    QueueItem,
    SensorEvent,
    SensorKind,
)

EVENTS = ("connected", "disconnected", "battery")
# Capture times a run can have: 1990-01-01 to 2200-01-01, unix seconds (not milliseconds).
EARLIEST_T = 631_152_000.0
LATEST_T = 7_258_118_400.0

log = logging.getLogger("stridewatch.capture")
UUID_128 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class CaptureError(StridewatchError):
    """A capture file that cannot be written or read; names the file and the line."""

    exit_code = 2


def short_uuid(uuid: str) -> str:
    """``2a53`` for a Bluetooth base UUID, else the UUID as it is."""
    lowered = uuid.lower()
    if len(lowered) == 36 and lowered == BASE_UUID.format(int(lowered[4:8], 16)):
        return lowered[4:8]
    return lowered


def full_uuid(char: str) -> str:
    """The 128-bit UUID of ``2a53`` (or a full UUID as it is)."""
    text = char.lower()
    if len(text) == 4:
        return BASE_UUID.format(int(text, 16))
    if not UUID_128.fullmatch(text):
        raise ValueError(f"not a UUID: {char!r}")
    return text


class CaptureWriter:
    """Appends capture lines to a new file, private (0600) like the database (refusing to
    overwrite one, or to write through a link), flushed each line so a crash keeps what was
    received."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._broken = False
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        try:
            fd = os.open(path, flags, 0o600)
            os.fchmod(fd, 0o600)  # whatever the umask
            self._file: IO[str] = os.fdopen(fd, "w", encoding="utf-8", buffering=1)
        except FileExistsError:
            raise CaptureError(f"{path}: already exists; choose another capture file") from None
        except OSError as exc:
            raise CaptureError(f"{path}: cannot write the capture: {exc.strerror}") from exc

    def write(self, item: Notification | SensorEvent, unix_s: float) -> None:
        line: dict[str, Any] = {"t": round(unix_s, 3), "address": item.address, "kind": item.kind}
        if isinstance(item, Notification):
            line |= {"char": short_uuid(item.characteristic), "hex": item.data.hex(" ")}
        elif isinstance(item, Connected):
            line["event"] = "connected"
        elif isinstance(item, Disconnected):
            line["event"] = "disconnected"
        elif isinstance(item, BatteryLevel):
            line |= {"event": "battery", "percent": item.percent}
        else:
            return
        if self._broken:
            return
        try:
            self._file.write(json.dumps(line) + "\n")
        except OSError as exc:  # a full disk: the capture stops, never the recording
            self._broken = True
            log.warning(
                "%s: cannot write the capture (%s); it stops here, the recording goes on",
                self.path,
                exc.strerror or exc,
            )

    def close(self) -> None:
        try:
            self._file.close()
        except OSError as exc:
            if not self._broken:
                log.warning("%s: the capture's last lines are lost (%s)", self.path, exc)


@dataclass(frozen=True, slots=True)
class CaptureLine:
    """One line of a capture: ``t`` unix seconds; ``data`` and ``char`` for a notification,
    ``event`` (and ``percent``) for a sensor event."""

    t: float
    address: str
    kind: SensorKind
    char: str = ""
    data: bytes = b""
    event: str = ""
    percent: int = 0


def read_capture(path: Path) -> list[CaptureLine]:
    """Every line of a capture file, in time order; :class:`CaptureError` naming the first
    line that is not one (exit status 2)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaptureError(f"{path}: no such capture file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CaptureError(f"{path}: cannot read the capture: {exc}") from exc
    numbered = list(_numbered(text))
    lines = []
    for index, (number, raw) in enumerate(numbered):
        try:
            lines.append(_line(path, number, raw))
        except CaptureError:
            if index == len(numbered) - 1 and not text.endswith("\n"):
                # The last line cut off mid-write (the recording was killed): the rest stands.
                log.warning("%s:%d: the last line is cut off; replaying the rest", path, number)
                continue
            raise
    if not lines:
        raise CaptureError(f"{path}: an empty capture, nothing to replay")
    return sorted(lines, key=lambda line: line.t)


def _numbered(text: str) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.strip():
            yield number, raw


def _line(path: Path, number: int, raw: str) -> CaptureLine:
    where = f"{path}:{number}"
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CaptureError(f"{where}: not a JSON object ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise CaptureError(f"{where}: not a JSON object")
    t, address, kind = obj.get("t"), obj.get("address"), obj.get("kind")
    if (
        not isinstance(t, (int, float))
        or isinstance(t, bool)
        or not math.isfinite(t)
        or not EARLIEST_T <= t <= LATEST_T
    ):
        raise CaptureError(f'{where}: "t" must be unix seconds, from 1990 to 2200')
    if not isinstance(address, str) or not address:
        raise CaptureError(f'{where}: "address" must be the sensor\'s address')
    if kind not in get_args(SensorKind):
        raise CaptureError(f'{where}: "kind" must be footpod or hrm')
    sensor: SensorKind = "footpod" if kind == "footpod" else "hrm"
    event = obj.get("event")
    if event is not None:
        if event not in EVENTS:
            raise CaptureError(f'{where}: "event" must be one of {", ".join(EVENTS)}')
        percent = obj.get("percent", 0 if event != "battery" else None)
        if event == "battery" and (
            not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100
        ):
            raise CaptureError(f'{where}: "percent" must be 0-100')
        return CaptureLine(float(t), address, sensor, event=event, percent=int(percent or 0))
    char, data = obj.get("char"), obj.get("hex")
    if not isinstance(char, str) or not char:
        raise CaptureError(f'{where}: "char" must be a characteristic UUID such as 2a53')
    try:
        uuid = full_uuid(char)
    except ValueError:
        raise CaptureError(f'{where}: "char" must be a characteristic UUID such as 2a53') from None
    try:
        payload = bytes.fromhex(data) if isinstance(data, str) else None
    except ValueError:
        payload = None
    if payload is None:
        raise CaptureError(f'{where}: "hex" must be the payload\'s bytes in hex')
    return CaptureLine(float(t), address, sensor, char=uuid, data=payload)


class ReplayClock:
    """Real time ``speedup`` times faster, held at the capture's start until the replay
    begins (:meth:`begin`): opening the database takes what it takes, and the first line is
    still at the capture's first instant, whatever the speedup."""

    def __init__(self, speedup: float, wall_start: datetime) -> None:
        self.speedup = speedup
        self._inner = MonotonicClock(speedup)
        self._wall_start = wall_start
        self._origin = self._inner.now()
        self._began: float | None = None

    def begin(self) -> None:
        if self._began is None:
            self._began = self._inner.now()

    def now(self) -> float:
        if self._began is None:
            return self._origin
        return self._origin + (self._inner.now() - self._began)

    def wall(self) -> datetime:
        return self._wall_start + timedelta(seconds=self.now() - self._origin)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class ReplayDriver:
    """A sensor driver that plays a capture: each line is queued when the clock reaches its
    time (relative to the first line), then the end of the stream."""

    def __init__(self, lines: list[CaptureLine], *, clock: Clock) -> None:
        self.lines = lines
        self.clock = clock
        self.queue: asyncio.Queue[QueueItem] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if isinstance(self.clock, ReplayClock):
            self.clock.begin()
        self._task = asyncio.create_task(self._play(), name="replay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _play(self) -> None:
        """Each line when the clock's wall time reaches it, stamped with the clock instant
        of its own time: the clock starts when the capture did, so however long the start-up
        took, and however late a busy machine wakes the loop, the times are the capture's."""
        for line in self.lines:
            wait = line.t - self.clock.wall().timestamp()
            if wait > 0:
                await self.clock.sleep(wait)
            at = self.clock.now() + (line.t - self.clock.wall().timestamp())
            self.queue.put_nowait(self._item(line, at))
        self.queue.put_nowait(END_OF_STREAM)

    @staticmethod
    def _item(line: CaptureLine, at: float) -> QueueItem:
        if line.event == "connected":
            return Connected(line.address, line.kind, at)
        if line.event == "disconnected":
            return Disconnected(line.address, line.kind, at, "in the capture")
        if line.event == "battery":
            return BatteryLevel(line.address, line.kind, at, line.percent)
        return Notification(line.address, line.kind, line.char, at, line.data)
