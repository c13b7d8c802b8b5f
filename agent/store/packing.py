"""Samples packed several to a row (issue 18): the pure part, samples <-> rows of
``samples_packed``, and the ``samples`` view's SQL (:data:`VIEW`) that unpacks them for any
SQLite client. No database here; :mod:`agent.store.samples` reads and writes the rows, and
migration ``m012_samples_packed`` packs an older file's samples with :func:`pack`.

A row (a *block*) holds up to :data:`PER_ROW` samples of one run in time order: the first
sample's time ``t_us`` (microseconds after the run's ``runs.samples_t0``), the distance its
samples count from (``distance_mm``) and ``data``, :data:`WIDTH` bytes a sample, big-endian:

====== ===== ==============================================================================
bytes  field the sample's value
====== ===== ==============================================================================
0-3    dt    microseconds after the block's ``t_us`` (a block spans at most ~71 minutes)
4-6    dd    millimetres after the block's ``distance_mm``; ``FFFFFF``: no distance
7-8    speed mm/s, 0-65.534 m/s; ``FFFF``: no speed
9-10   cad   1/100 step/min, 0-655.34 steps/min; ``FFFF``: no cadence
11     hr    beats/min, 0-254; ``FF``: no heart rate
====== ===== ==============================================================================

A new block starts when one is full, or when a sample's ``dt`` or ``dd`` does not fit its
width (a pause over an hour, a distance below the block's base or 16.7 km past it). A
distance past 2**53 mm (only a damaged file's) is a block's base of its own, a double (SQLite
stores a REAL) with ``dd`` 0. Blocks of a run never overlap in time, so reading them in key
order gives the samples in time order.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

WIDTH = 12
# 64 samples make a row of ~790 bytes: under the ~1,000 bytes a WITHOUT ROWID row (an index
# B-tree cell) keeps on its page with 4 KiB pages (sqlite.org/fileformat2.html, "payload"),
# so no row spills to an overflow page, and five fill a page.
PER_ROW = 64
NO_DISTANCE = 0xFFFFFF
NO_SPEED = 0xFFFF
NO_CADENCE = 0xFFFF
NO_HR = 0xFF
MAX_DT = 0xFFFFFFFF
_LAYOUT = struct.Struct(">IHBHHB")  # dd as its top 16 bits and its low 8

# A sample as stored: (t_us after the run's anchor, distance mm, speed mm/s, cadence in
# 1/100 step/min, heart rate), whole numbers within their widths, None where missing.
Stored = tuple[int, float | None, int | None, int | None, int | None]
# A row of samples_packed without its run: (t_us, distance_mm, data).
Block = tuple[int, float | None, bytes]


# Times further than this from the run's anchor (microseconds, ~31,700 years) are not stored:
# the view's sums of them stay well inside SQLite's 64-bit integers.
MAX_ABS_T_US = 10**18
# Distances are exact as whole millimetres up to 2**53 (doubles, in the view and here);
# beyond (9e12 m: only a damaged file's), a distance is the nearest double, in a row's base.
MAX_ABS_MM = 2**53


def stored(
    t_us: float,
    mm: float | None,
    speed: float | None,
    cadence: float | None,
    hr: float | None,
    refused: Counter[str],
) -> Stored | None:
    """A sample as stored, from its values in the stored units (not yet whole): each rounded
    to the nearest unit. A value its field cannot hold (no finite number, negative, past its
    width) is stored as none and counted in ``refused`` under its field's name; a sample
    whose time cannot be stored is left out (None), counted under ``"t"``."""
    t = _whole(t_us, -MAX_ABS_T_US, MAX_ABS_T_US, "t", refused)
    if t is None:
        return None
    return (
        t,
        _distance(mm, refused),
        _whole(speed, 0, NO_SPEED - 1, "speed", refused),
        _whole(cadence, 0, NO_CADENCE - 1, "cadence", refused),
        _whole(hr, 0, NO_HR - 1, "hr", refused),
    )


def nearest(value: float) -> int:
    """``value`` to the nearest whole number, halves away from zero, as SQLite's ``round()``
    scaled samples before packing (Python's ``round`` takes halves to even: 46.8125 m would
    read 46.812 m, not 46.813 m). Raises ``OverflowError``/``ValueError`` for inf and nan."""
    return int(value + 0.5) if value >= 0 else int(value - 0.5)


def _distance(mm: float | None, refused: Counter[str]) -> float | None:
    """Whole millimetres; any finite distance is kept (past 2**53 mm as a double, which a
    row's base holds: SQLite stores it as a REAL, and the view adds to it as here)."""
    if mm is None:
        return None
    try:
        whole = nearest(mm)
    except (OverflowError, ValueError, TypeError):  # inf, nan, not a number
        refused["distance"] += 1
        return None
    return whole if -MAX_ABS_MM <= whole <= MAX_ABS_MM else float(whole)


def _whole(
    value: float | None, low: int, high: int, name: str, refused: Counter[str]
) -> int | None:
    if value is None:
        return None
    try:
        whole = nearest(value)
    except (OverflowError, ValueError, TypeError):  # inf, nan, not a number
        whole = None
    if whole is not None and low <= whole <= high:
        return whole
    refused[name] += 1
    return None


@dataclass
class _Builder:
    """A block being filled."""

    start: int
    base: float | None
    data: bytearray = field(default_factory=bytearray)
    last: int = -1  # dt of its last sample

    def take(self, sample: Stored) -> bool:
        """Add ``sample`` (later than the block's last) if it fits; False if it does not."""
        t, mm, speed, cadence, hr = sample
        dt = t - self.start
        if len(self.data) >= PER_ROW * WIDTH or dt > MAX_DT:
            return False
        dd, base = NO_DISTANCE, self.base
        if mm is not None:
            base = mm if base is None else base  # the block's first sample with a distance
            if isinstance(mm, int) and isinstance(base, int):
                dd = mm - base
                if not 0 <= dd < NO_DISTANCE:
                    return False
            elif self.data:
                return False
            else:
                base, dd = mm, 0  # a double's distance (past 2**53 mm): alone in its row
        self.base = base
        self.data += _LAYOUT.pack(
            dt,
            dd >> 8,
            dd & 0xFF,
            NO_SPEED if speed is None else speed,
            NO_CADENCE if cadence is None else cadence,
            NO_HR if hr is None else hr,
        )
        self.last = dt
        return True

    def block(self) -> Block:
        return self.start, self.base, bytes(self.data)


def pack(samples: Iterable[Stored], head: Block | None = None) -> Iterator[Block]:
    """Blocks of ``samples`` (strictly in time order, each within its field's width), as
    they fill. With ``head``, an existing block to go on from, whose last sample is earlier
    than the first of ``samples``: it comes first, with what fitted appended."""
    builder = None
    if head is not None:
        start, base, data = head
        builder = _Builder(start, base, bytearray(data), last_dt(data))
    for sample in samples:
        if builder is None or not builder.take(sample):
            if builder is not None:
                yield builder.block()
            builder = _Builder(sample[0], None)
            builder.take(sample)
    if builder is not None:
        yield builder.block()


def last_dt(data: bytes) -> int:
    """Microseconds from a block's first sample to its last."""
    whole = len(data) - len(data) % WIDTH
    return int.from_bytes(data[whole - WIDTH : whole - WIDTH + 4], "big") if whole else 0


def unpack(block: Block) -> Iterator[Stored]:
    """A block's samples as stored, in time order."""
    start, base, data = block
    for dt, high, low, speed, cadence, hr in _LAYOUT.iter_unpack(_samples_of(data)):
        dd = high << 8 | low
        yield (
            start + dt,
            None if dd == NO_DISTANCE or base is None else base + dd,
            None if speed == NO_SPEED else speed,
            None if cadence == NO_CADENCE else cadence,
            None if hr == NO_HR else hr,
        )


def unpack_si(
    t0: float, block: Block
) -> Iterator[tuple[float, float | None, float | None, float | None, int | None]]:
    """A block's samples in SI units, exactly as the ``samples`` view computes them (the
    same integer sums, each divided once by the same power of ten)."""
    start, base, data = block
    origin = t0 * 1000000 + start
    for dt, high, low, speed, cadence, hr in _LAYOUT.iter_unpack(_samples_of(data)):
        dd = high << 8 | low
        yield (
            (origin + dt) / 1000000.0,
            None if dd == NO_DISTANCE or base is None else (base + dd) / 1000.0,
            None if speed == NO_SPEED else speed / 1000.0,
            None if cadence == NO_CADENCE else cadence / 100.0,
            None if hr == NO_HR else hr,
        )


def _hex_field(first: int, digits: int) -> str:
    """SQL for a whole number stored big-endian at hex digits ``first``.. of ``h`` (the
    sample's 24 hex digits): each digit by its place in '123456789ABCDEF' (0: not found)."""
    value = ""
    for place in range(first, first + digits):
        digit = f"instr('123456789ABCDEF', substr(h, {place}, 1))"
        value = digit if not value else f"({value}) * 16 + {digit}"
    return value


# Pure SQL (no registered function, nothing past SQLite 3.40: no unhex), so any SQLite
# client reads the samples as rows: one per slot filled, each field cut from its hex digits.
VIEW = f"""create view samples as select
    run_id,
    (t0 * 1000000 + t_us + dt) / 1000000.0 as t,
    (distance_mm + nullif(dd, 16777215)) / 1000.0 as distance_m,
    nullif(speed, 65535) / 1000.0 as speed,
    nullif(cadence, 65535) / 100.0 as cadence,
    nullif(hr, 255) as hr
from (select run_id, t0, t_us, distance_mm,
        {_hex_field(1, 8)} as dt,
        {_hex_field(9, 6)} as dd,
        {_hex_field(15, 4)} as speed,
        {_hex_field(19, 4)} as cadence,
        {_hex_field(23, 2)} as hr
    from (select p.run_id as run_id, coalesce(r.samples_t0, 0) as t0, p.t_us as t_us,
            p.distance_mm as distance_mm, hex(substr(p.data, s.slot * {WIDTH} + 1, {WIDTH})) as h
        from samples_packed as p
        join runs as r on r.id = p.run_id
        join sample_slots as s on s.slot < length(p.data) / {WIDTH}))"""


def _samples_of(data: bytes) -> bytes:
    """``data`` cut to whole samples (as the view reads it: a damaged tail is left out)."""
    extra = len(data) % WIDTH
    return data[: len(data) - extra] if extra else data
