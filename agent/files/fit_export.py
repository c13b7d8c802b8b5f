"""Export a stored run as a FIT activity file, written as its samples are read.

The file follows Garmin's FIT SDK "Activity file" cookbook (so Garmin Connect and Strava
take it): FileId, DeviceInfo, a timer start Event, the Records, a timer stop_all Event, one
Lap, one Session (running; treadmill, as stridewatch records no GPS) and one Activity.

The messages around the records are fit-tool's (:mod:`agent.files.fit_messages`). The
records are packed here, one definition and then 18 bytes each, as the samples come from
the store in chunks: a run of two million samples is written in seconds and never held in
memory (fit-tool makes an object of each, some kilobytes). A record without a speed, heart
rate or cadence carries FIT's "invalid" value for it, as devices write. The header (which
holds the records' size) is written last, over a placeholder, then the file's CRC over it all.
"""

from __future__ import annotations

import math
import struct
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from agent.errors import StridewatchError
from agent.files import fit_messages as msg
from agent.files.activity import SampleTotals
from agent.files.fit_messages import FIT_EPOCH_UNIX_S, FIT_MAX_SPEED, FIT_UINT8_MAX, FitTotals
from agent.safe_write import check_target, write_with

if TYPE_CHECKING:
    from agent.models import Run
    from agent.store import SampleRow

# The instants a FIT date_time can hold (FIT SDK, Profile "date_time"): an unsigned 32-bit
# count of seconds from the epoch (0xFFFFFFFF is "invalid"), where counts below 0x10000000
# are seconds since the device was switched on, not dates: from 1998-07-03 to 2126-02-06.
FIT_EARLIEST_UNIX_S = FIT_EPOCH_UNIX_S + 0x10000000
# Less 14 hours: the Activity's local_timestamp adds the zone's offset (at most +14:00).
FIT_LATEST_UNIX_S = FIT_EPOCH_UNIX_S + 0xFFFFFFFE - 14 * 3600
HEADER_SIZE = 14
# The records' local message type (fit-tool's messages use 0, each defined before use).
RECORD_LOCAL = 1
# Record (global message 20): timestamp (253) uint32, distance (5) uint32 cm, speed (6)
# uint16 mm/s, enhanced_speed (73) uint32 mm/s, heart_rate (3) uint8, cadence (4) uint8
# strides/min, fractional_cadence (53) uint8 1/128 (FIT SDK Profile, "record").
RECORD_FIELDS = (
    *((253, 4, 0x86), (5, 4, 0x86), (6, 2, 0x84), (73, 4, 0x86)),
    *((3, 1, 0x02), (4, 1, 0x02), (53, 1, 0x02)),
)
RECORD = struct.Struct("<BIIHIBBB")
INVALID_U8, INVALID_U16, INVALID_U32 = 0xFF, 0xFFFF, 0xFFFFFFFF
# Records are written this many at a time.
BATCH = 4096


class ExportError(StridewatchError):
    """The FIT file cannot be written where the runner asked."""

    exit_code = 2

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class FitRangeError(StridewatchError):
    """A run whose times a FIT file cannot hold (before mid-1998, after early 2126)."""

    exit_code = 2


def default_file_name(run: Run) -> str:
    """``stridewatch-run-12-2026-11-20.fit``."""
    return f"stridewatch-run-{run.id}-{run.started_at:%Y-%m-%d}.fit"


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    records: int
    totals: FitTotals = field(repr=False)


def export_run(
    run: Run, samples: Iterable[SampleRow], path: Path, *, zone: tzinfo, overwrite: bool = False
) -> ExportResult:
    """Write ``run`` as a FIT activity file at ``path``, private (0600) and atomically
    (:func:`agent.safe_write.write_with`: never through a link, never a half-written file);
    refuse to replace an existing file unless ``overwrite``. ``samples`` in time order (as
    the store gives them), read once. Raises :class:`agent.safe_write.OutputError` (exit 2)
    for a path it cannot or may not write, :class:`FitRangeError` for times FIT cannot hold."""
    check_target(path, force=overwrite)
    written, (records, totals) = write_with(
        path, lambda handle: write_run(handle, run, samples, zone=zone), force=overwrite
    )
    return ExportResult(written, records, totals)


def encode_run(
    run: Run, samples: Iterable[SampleRow], *, zone: tzinfo
) -> tuple[bytes, int, FitTotals]:
    """The FIT bytes of ``run``, the number of Record messages, and the totals written."""
    import io

    out = io.BytesIO()
    records, totals = write_run(out, run, samples, zone=zone)
    return out.getvalue(), records, totals


def write_run(
    out: BinaryIO, run: Run, samples: Iterable[SampleRow], *, zone: tzinfo
) -> tuple[int, FitTotals]:
    """Write the FIT file of ``run`` to ``out`` (empty, seekable, readable); return the
    number of Record messages and the totals of the Lap and Session."""
    seen = _Seen(cadence=not run.avg_cadence)
    points = _by_second(samples, seen)
    first = next(points, None)
    if first is None:  # no samples: a start and an end record carrying the run's totals
        start = run.started_at.timestamp()
        end = start + max(run.elapsed_s, run.moving_s, 1.0)
        first, points = (start, 0.0, None, None, None), iter([(end, run.distance_m, *_NONE)])
    start_s = min(round(run.started_at.timestamp()), round(first[0]))
    _check_range(run, start_s, start_s + round(run.elapsed_s))
    out.write(bytes(HEADER_SIZE))  # the header, once the records' size is known
    out.write(_head(start_s))
    out.write(_definition())
    count, last = _write_records(out, run, first, points)
    totals = seen.totals(run, start_s, max(start_s + round(run.elapsed_s), round(last)))
    out.write(_tail(totals, zone))
    _finish(out)
    return count, totals


_NONE: tuple[None, None, None] = (None, None, None)


def _check_range(run: Run, start_s: float, end_s: float) -> None:
    """Refuse (one line, exit 2) a run whose times FIT cannot hold: written anyway, a
    1985 run would be read back as "a device clock never set", a 2206 run not at all."""
    if start_s >= FIT_EARLIEST_UNIX_S and end_s <= FIT_LATEST_UNIX_S:
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


class _Seen:
    """What the samples say for the Lap and Session, every sample counted (also those no
    record is written for): heart rates, the fastest speed, and the average cadence when
    the run has none stored."""

    def __init__(self, *, cadence: bool) -> None:
        self.hr_sum, self.hr_n, self.hr_max = 0.0, 0, -math.inf
        self.max_speed: float | None = None
        self.cadence = SampleTotals() if cadence else None

    def add(self, sample: SampleRow) -> None:
        if sample[4]:
            beats = float(sample[4])
            self.hr_sum += beats
            self.hr_n += 1
            self.hr_max = max(self.hr_max, beats)
        speed = sample[2]
        if speed is not None and (self.max_speed is None or speed > self.max_speed):
            self.max_speed = speed
        if self.cadence is not None:
            self.cadence.add(sample)

    def totals(self, run: Run, start: int, end: int) -> FitTotals:
        mean = self.hr_sum / self.hr_n if self.hr_n else None
        return FitTotals(
            start_s=start,
            end_s=end,
            timer_s=run.moving_s or run.elapsed_s or float(end - start),
            elapsed_s=run.elapsed_s or float(end - start),
            distance_m=run.distance_m,
            max_speed=self.max_speed,
            avg_hr=run.avg_hr if run.avg_hr is not None else mean,
            max_hr=self.hr_max if self.hr_n else None,
            # The stored average (one definition: agent.files.activity.average_cadence).
            avg_steps=run.avg_cadence or (self.cadence.cadence if self.cadence else None),
        )


def _by_second(samples: Iterable[SampleRow], seen: _Seen) -> Iterator[SampleRow]:
    """One sample per whole second (FIT timestamps are seconds; the last sample of a second
    wins), from samples in time order; a sample whose time is no finite number (a damaged
    row) is left out. Every sample is shown to ``seen``."""
    held: SampleRow | None = None
    held_second = 0
    for sample in samples:
        seen.add(sample)
        t = sample[0]
        if not (isinstance(t, int | float) and math.isfinite(t)):
            continue
        second = round(t)
        if held is not None and second != held_second:
            yield held
        held, held_second = sample, second
    if held is not None:
        yield held


def _write_records(
    out: BinaryIO, run: Run, first: SampleRow, rest: Iterator[SampleRow]
) -> tuple[int, float]:
    """Write the records, in batches; return how many, and the last one's time."""
    pack, batch, count, last = RECORD.pack, bytearray(), 0, first[0]
    for point in _chain(first, rest):
        last = point[0]
        if round(last) > FIT_LATEST_UNIX_S:
            _check_range(run, FIT_EARLIEST_UNIX_S, round(last))
        batch += pack(RECORD_LOCAL, *_record_values(point))
        count += 1
        if count % BATCH == 0:
            out.write(batch)
            batch.clear()
    out.write(batch)
    return count, last


def _chain(first: SampleRow, rest: Iterator[SampleRow]) -> Iterator[SampleRow]:
    yield first
    yield from rest


def _record_values(point: SampleRow) -> tuple[int, int, int, int, int, int, int]:
    """A sample as a Record's fields, scaled as the FIT profile says and rounded as fit-tool
    rounds; FIT's invalid value where the sample has none (or one a field cannot hold)."""
    t, distance, speed, steps, hr = point
    timestamp = round(t) - FIT_EPOCH_UNIX_S
    cm = _scaled(distance, 100, INVALID_U32)
    mm_s = INVALID_U16
    enhanced = INVALID_U32
    if speed is not None and 0 <= speed <= FIT_MAX_SPEED:
        mm_s = enhanced = round(speed * 1000)
    beats = INVALID_U8
    if hr:
        beats = _scaled(min(hr, FIT_UINT8_MAX), 1, INVALID_U8)
    cadence = fraction = INVALID_U8
    if steps is not None and math.isfinite(steps) and steps >= 0:
        whole, part = msg.strides(steps)
        cadence, fraction = whole, round(part * 128)
    return timestamp, cm, mm_s, enhanced, beats, cadence, fraction


def _scaled(value: float | None, scale: int, invalid: int) -> int:
    if value is None or not math.isfinite(value):
        return invalid
    scaled = round(value * scale) if scale != 1 else int(value)
    return scaled if 0 <= scaled < invalid else invalid


@cache
def _definition() -> bytes:
    """The Record definition message (little-endian)."""
    head = struct.pack("<BBBHB", 0x40 | RECORD_LOCAL, 0, 0, 20, len(RECORD_FIELDS))
    return head + bytes(b for item in RECORD_FIELDS for b in item)


def _head(start_s: int) -> bytes:
    """FileId, DeviceInfo and the timer start, each with its definition (fit-tool); they
    need only the start."""
    from fit_tool.fit_file_builder import FitFileBuilder

    started = FitTotals(start_s, start_s, 0.0, 0.0, 0.0, None, None, None, None)
    builder = FitFileBuilder(auto_define=True, min_string_size=len(msg.PRODUCT_NAME) + 1)
    builder.add(msg.file_id_message(started))
    builder.add(msg.device_info_message(started))
    builder.add(msg.timer_event_message(start_s, start=True))
    return b"".join(record.to_bytes() for record in builder.records)


def _tail(totals: FitTotals, zone: tzinfo) -> bytes:
    """The timer stop, Lap, Session and Activity, each with its definition (fit-tool)."""
    from fit_tool.fit_file_builder import FitFileBuilder

    builder = FitFileBuilder(auto_define=True, min_string_size=len(msg.PRODUCT_NAME) + 1)
    builder.add(msg.timer_event_message(totals.end_s, start=False))
    builder.add(msg.lap_message(totals))
    builder.add(msg.session_message(totals))
    builder.add(msg.activity_message(totals, zone))
    return b"".join(record.to_bytes() for record in builder.records)


def _finish(out: BinaryIO) -> None:
    """Write the 14-byte header (protocol 2.0, with its own CRC, as the SDK writes) over the
    placeholder, then the file's CRC over everything."""
    from fit_tool.fit_file_header import FitFileHeader, ProtocolVersion

    size = out.seek(0, 2) - HEADER_SIZE
    header = FitFileHeader(
        records_size=size, protocol_version=ProtocolVersion(2, 0), gen_crc=True
    ).to_bytes()
    out.seek(0)
    out.write(header)
    out.seek(0)
    crc = 0
    while chunk := out.read(1 << 20):
        crc = crc16(chunk, crc)
    out.seek(0, 2)
    out.write(struct.pack("<H", crc))


def crc16(data: bytes, crc: int = 0) -> int:
    """FIT's CRC-16 (the SDK's; CRC-16/ARC), two bytes a step through a 65,536-entry table:
    a 40 MB file in about a second where a nibble at a time takes ten."""
    table = _byte_table()
    even = len(data) & ~1 if sys.byteorder == "little" else 0
    if even:
        pairs = _pair_table()
        for word in memoryview(data)[:even].cast("H"):  # b0 | b1 << 8
            crc = pairs[crc ^ word]
    for byte in memoryview(data)[even:]:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


@cache
def _byte_table() -> tuple[int, ...]:
    """The register after one zero byte, for each low byte (the SDK's nibble table, twice)."""
    nibbles = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
               0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)  # fmt: skip
    table = []
    for crc in range(256):
        for _ in range(2):
            crc = ((crc >> 4) & 0x0FFF) ^ nibbles[crc & 0xF]
        table.append(crc)
    return tuple(table)


@cache
def _pair_table() -> tuple[int, ...]:
    """The register after two zero bytes, for each 16-bit register."""
    table = _byte_table()
    after_one = [(x >> 8) ^ table[x & 0xFF] for x in range(1 << 16)]
    return tuple((y >> 8) ^ table[y & 0xFF] for y in after_one)
