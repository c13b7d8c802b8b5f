"""GATT payloads of footpods and heart-rate straps: one pure decoder and encoder per characteristic.

Decoders take ``bytes`` (or ``bytearray``/``memoryview``) and return a frozen dataclass;
anything malformed raises :class:`GattDecodeError` and nothing else does, whatever the
input. Encoders are the exact inverse for every value they can represent; they raise
``ValueError`` for values that do not fit the wire format (they are for our simulator and
tests, never for untrusted input).

Layouts (little-endian, Bluetooth SIG assigned numbers; DESIGN.md "Bluetooth facts"):

- Heart Rate Measurement 0x2A37 (HRS 1.0 §3.1): flags u8, HR u8 or u16, [energy u16 kJ],
  [RR u16 1/1024 s ...].
- RSC Measurement 0x2A53 (RSCS 1.0 §3.1): flags u8, speed u16 1/256 m/s, cadence u8 1/min,
  [stride length u16 1/100 m], [total distance u32 1/10 m].
- RSC Feature 0x2A54 u16, SC Control Point 0x2A55 responses, Battery Level 0x2A19,
  Body Sensor Location 0x2A38, Sensor Location 0x2A5D.

Receivers ignore reserved flag bits and trailing bytes beyond what the flags announce, as
the specifications ask, so a newer sensor with extra fields still decodes.

Salvage what is complete (issue 14): real straps and bridge apps send payloads cut short or
with a stray byte at the end (a Web Bluetooth capture of a strap: ``10 3e b1 03 de``, one RR
interval and an odd byte). A measurement is refused only when a *required* field is
incomplete (HR: flags and heart rate; RSC: flags, speed and cadence; RSC Feature: its low
byte, which holds every defined bit). An optional field cut short is dropped, as is
everything after it, and the count of bytes not decoded (a cut field, half an RR interval,
trailing bytes) is the value's ``leftover``, for the caller to count and log. Encoders
never write ``leftover``.

Over 400 lines: one section per characteristic, each decoder beside its encoder, its
dataclass and its specification notes, so a reader checks one field layout in one place.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

from agent.errors import StridewatchError

ByteLike = bytes | bytearray | memoryview


class GattDecodeError(StridewatchError, ValueError):
    """A payload that does not match its characteristic's layout; the message is one line."""

    exit_code = 2


# -- helpers --------------------------------------------------------------------------

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U8_U16 = struct.Struct("<BH")

# HRS flags (Heart Rate Service 1.0, Heart Rate Measurement characteristic).
HR_FLAG_U16 = 0x01
HR_FLAG_CONTACT_DETECTED = 0x02
HR_FLAG_CONTACT_SUPPORTED = 0x04
HR_FLAG_ENERGY = 0x08
HR_FLAG_RR = 0x10
# RR intervals and their resolution: 1/1024 s per unit (HRS 1.0).
RR_UNITS_PER_S = 1024

# RSCS flags (Running Speed and Cadence Service 1.0, RSC Measurement characteristic).
RSC_FLAG_STRIDE = 0x01
RSC_FLAG_DISTANCE = 0x02
RSC_FLAG_RUNNING = 0x04
SPEED_UNITS_PER_MPS = 256
STRIDE_UNITS_PER_M = 100
DISTANCE_UNITS_PER_M = 10

# Flags, speed, cadence: what every RSC measurement must carry to be decoded at all.
_RSC_REQUIRED = struct.Struct("<BHB")
# One precompiled layout per combination of the two optional RSC fields (flags & 0x03).
_RSC_LAYOUTS = (
    _RSC_REQUIRED,
    struct.Struct("<BHBH"),
    struct.Struct("<BHBI"),
    struct.Struct("<BHBHI"),
)


def _as_bytes(data: ByteLike) -> bytes:
    return data if isinstance(data, bytes) else bytes(data)


def _short(what: str, n: int, flags: int, need: int) -> GattDecodeError:
    return GattDecodeError(f"{what}: {n} bytes, flags 0x{flags:02x} announce at least {need}")


def _empty(what: str) -> GattDecodeError:
    return GattDecodeError(f"{what}: empty payload")


def _check_range(name: str, value: int, high: int) -> int:
    if not 0 <= value <= high:
        raise ValueError(f"{name} {value} does not fit the wire format (0-{high})")
    return value


# -- Heart Rate Measurement 0x2A37 ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """``sensor_contact`` is None when the strap does not support contact detection.

    ``energy_expended_kj`` is None when absent or cut short; ``leftover`` counts the bytes not
    decoded (a cut energy field, half an RR interval, bytes the flags do not announce).
    """

    bpm: int
    sensor_contact: bool | None
    energy_expended_kj: int | None
    rr_intervals_s: tuple[float, ...]
    leftover: int = 0


_HRM = "heart rate measurement"


def parse_heart_rate(data: ByteLike) -> HeartRateMeasurement:
    """Decode a Heart Rate Measurement notification. A 0 bpm value is valid (no reading yet).

    Only flags and the heart rate are required; see the module's "salvage" note."""
    buf = _as_bytes(data)
    n = len(buf)
    if not n:
        raise _empty(_HRM)
    flags = buf[0]
    offset = 3 if flags & HR_FLAG_U16 else 2
    if n < offset:
        raise _short(_HRM, n, flags, offset)
    bpm = _U16.unpack_from(buf, 1)[0] if flags & HR_FLAG_U16 else buf[1]
    energy = None
    rr: tuple[float, ...] = ()
    if flags & HR_FLAG_ENERGY:
        if n - offset < 2:  # energy cut short: nothing after it can be read either
            return HeartRateMeasurement(bpm, _contact(flags), None, (), n - offset)
        energy = _U16.unpack_from(buf, offset)[0]
        offset += 2
    if flags & HR_FLAG_RR:
        rr, offset = _rr_intervals(buf, offset)
    return HeartRateMeasurement(bpm, _contact(flags), energy, rr, n - offset)


def _contact(flags: int) -> bool | None:
    # Bits 1-2: 0 and 1 both mean "not supported"; 2 supported, not detected; 3 detected.
    if not flags & HR_FLAG_CONTACT_SUPPORTED:
        return None
    return bool(flags & HR_FLAG_CONTACT_DETECTED)


def _rr_intervals(buf: bytes, offset: int) -> tuple[tuple[float, ...], int]:
    """The whole RR intervals from ``offset`` on, and the offset after the last one (an odd
    byte at the end, as some straps send, is left over)."""
    end = offset + (len(buf) - offset) // 2 * 2
    rr = tuple(v / RR_UNITS_PER_S for (v,) in _U16.iter_unpack(buf[offset:end]))
    return rr, end


def encode_heart_rate(
    m: HeartRateMeasurement, *, hr_u16: bool = False, contact_supported: bool | None = None
) -> bytes:
    """Encode ``m``; ``parse_heart_rate(encode_heart_rate(m)) == m`` for representable values
    (``m.leftover`` is not written: those bytes are unknown).

    ``hr_u16`` forces the 16-bit HR format (used anyway above 255 bpm). ``contact_supported``
    None derives the contact bits from ``m.sensor_contact``; False writes "not supported" as
    code 1 instead of 0 (both occur in the wild) and requires ``m.sensor_contact`` None.
    """
    flags = _contact_bits(m.sensor_contact, contact_supported)
    wide = hr_u16 or m.bpm > 0xFF
    out = bytearray(1)
    if wide:
        flags |= HR_FLAG_U16
        out += _U16.pack(_check_range("bpm", m.bpm, 0xFFFF))
    else:
        out.append(_check_range("bpm", m.bpm, 0xFF))
    if m.energy_expended_kj is not None:
        flags |= HR_FLAG_ENERGY
        out += _U16.pack(_check_range("energy expended", m.energy_expended_kj, 0xFFFF))
    if m.rr_intervals_s:
        flags |= HR_FLAG_RR
        for rr in m.rr_intervals_s:
            out += _U16.pack(_check_range("RR interval", round(rr * RR_UNITS_PER_S), 0xFFFF))
    out[0] = flags
    return bytes(out)


def _contact_bits(contact: bool | None, supported: bool | None) -> int:
    if supported is False:
        if contact is not None:
            raise ValueError("contact_supported=False needs sensor_contact None")
        return HR_FLAG_CONTACT_DETECTED  # code 1: "not supported"
    if contact is None:
        if supported:
            raise ValueError("contact_supported=True needs sensor_contact True or False")
        return 0
    return HR_FLAG_CONTACT_SUPPORTED | (HR_FLAG_CONTACT_DETECTED if contact else 0)


# -- RSC Measurement 0x2A53 -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RSCMeasurement:
    """Cadence is as the device reports it: steps/min, or per foot on some footpods.

    ``stride_length_m`` is the RSC "instantaneous stride length", the distance between two
    successive contacts of the same foot; ``total_distance_m`` is the device's counter, which
    restarts on reconnect or power cycle. Either is None when absent or cut short;
    ``leftover`` counts the bytes not decoded (a cut field, bytes the flags do not announce).
    """

    speed_mps: float
    cadence_spm: int
    stride_length_m: float | None
    total_distance_m: float | None
    running: bool
    leftover: int = 0


_RSC = "RSC measurement"


def parse_rsc_measurement(data: ByteLike) -> RSCMeasurement:
    """Decode an RSC Measurement notification.

    Only flags, speed and cadence are required; see the module's "salvage" note."""
    buf = _as_bytes(data)
    n = len(buf)
    if not n:
        raise _empty(_RSC)
    flags = buf[0]
    offset = _RSC_REQUIRED.size
    if n < offset:
        raise _short(_RSC, n, flags, offset)
    _, speed, cadence = _RSC_REQUIRED.unpack_from(buf)
    stride = distance = None
    if flags & RSC_FLAG_STRIDE and n - offset >= 2:
        stride = _U16.unpack_from(buf, offset)[0] / STRIDE_UNITS_PER_M
        offset += 2
    # Total distance follows stride; a cut stride leaves fewer than 4 bytes, so this fails too.
    if flags & RSC_FLAG_DISTANCE and n - offset >= 4:
        distance = _U32.unpack_from(buf, offset)[0] / DISTANCE_UNITS_PER_M
        offset += 4
    running = bool(flags & RSC_FLAG_RUNNING)
    return RSCMeasurement(
        speed / SPEED_UNITS_PER_MPS, cadence, stride, distance, running, n - offset
    )


# -- hot-loop forms for batched replay (agent/recording/recorder.py ``replay``) --------------------

# What every footpod we know sends: stride and total distance present (flags & 0x03 == 3).
_RSC_FULL = _RSC_LAYOUTS[3]
RSCEssentials = tuple[float, int, float | None, bool]
HREssentials = tuple[int, bool | None]


def rsc_essentials(data: ByteLike) -> RSCEssentials | None:
    """``(speed_mps, cadence_spm, total_distance_m, running)`` exactly as
    :func:`parse_rsc_measurement` decodes them (salvaging alike), or None where it would
    raise; builds no objects and raises nothing, for loops over millions of notifications.
    Stride and ``leftover`` are skipped."""
    n = len(data)
    if n >= 10 and data[0] & 0x03 == 0x03:
        flags, speed, cadence, _, total = _RSC_FULL.unpack_from(data)
        return speed / SPEED_UNITS_PER_MPS, cadence, total / DISTANCE_UNITS_PER_M, flags & 4 > 0
    if n < 4:
        return None
    flags, speed, cadence = _RSC_REQUIRED.unpack_from(data)
    total = None
    if flags & RSC_FLAG_DISTANCE:
        offset = 6 if flags & RSC_FLAG_STRIDE else 4
        if n >= offset + 4:
            total = _U32.unpack_from(data, offset)[0] / DISTANCE_UNITS_PER_M
    return speed / SPEED_UNITS_PER_MPS, cadence, total, flags & RSC_FLAG_RUNNING > 0


def hr_essentials(data: ByteLike) -> HREssentials | None:
    """``(bpm, sensor_contact)`` exactly as :func:`parse_heart_rate` decodes them, or None
    where it would raise (flags or heart rate incomplete); the rest is skipped."""
    n = len(data)
    if not n:
        return None
    flags = data[0]
    if n < (3 if flags & HR_FLAG_U16 else 2):
        return None
    bpm = data[1] | data[2] << 8 if flags & HR_FLAG_U16 else data[1]
    if flags & HR_FLAG_CONTACT_SUPPORTED:
        return bpm, flags & HR_FLAG_CONTACT_DETECTED > 0
    return bpm, None


def encode_rsc_measurement(m: RSCMeasurement) -> bytes:
    """Encode ``m``; the inverse of :func:`parse_rsc_measurement` for representable values."""
    flags = RSC_FLAG_RUNNING if m.running else 0
    speed = _check_range("speed", round(m.speed_mps * SPEED_UNITS_PER_MPS), 0xFFFF)
    values = [speed, _check_range("cadence", m.cadence_spm, 0xFF)]
    if m.stride_length_m is not None:
        flags |= RSC_FLAG_STRIDE
        values.append(_check_range("stride", round(m.stride_length_m * STRIDE_UNITS_PER_M), 0xFFFF))
    if m.total_distance_m is not None:
        flags |= RSC_FLAG_DISTANCE
        raw = round(m.total_distance_m * DISTANCE_UNITS_PER_M)
        values.append(_check_range("total distance", raw, 0xFFFFFFFF))
    return _RSC_LAYOUTS[flags & 0x03].pack(flags, *values)


# -- RSC Feature 0x2A54 ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RSCFeature:
    """Which optional RSC fields and procedures the footpod supports; ``leftover`` counts
    bytes after the u16 bit field."""

    stride: bool
    total_distance: bool
    walking_running: bool
    calibration: bool
    multiple_locations: bool
    leftover: int = 0


_FEATURE_BITS = ("stride", "total_distance", "walking_running", "calibration", "multiple_locations")


def parse_rsc_feature(data: ByteLike) -> RSCFeature:
    """Decode the u16 RSC Feature bit field; reserved bits 5-15 are ignored.

    One byte alone (some bridge apps send only the low byte) is read as the low byte: every
    defined bit (0-4) is in it, and the high byte holds only reserved bits."""
    buf = _as_bytes(data)
    if not buf:
        raise _empty("RSC feature")
    bits = buf[0]
    stride, distance, walking, calibration, locations = (bool(bits >> i & 1) for i in range(5))
    leftover = max(0, len(buf) - 2)
    return RSCFeature(stride, distance, walking, calibration, locations, leftover)


def encode_rsc_feature(feature: RSCFeature) -> bytes:
    """The u16 bit field of ``feature`` (``leftover`` is not written)."""
    bits = sum(1 << i for i, name in enumerate(_FEATURE_BITS) if getattr(feature, name))
    return _U16.pack(bits)


# -- Sensor Location 0x2A5D and Body Sensor Location 0x2A38 ---------------------------------

# GATT Specification Supplement, Sensor Location (0x2A5D); 17-255 are reserved.
SENSOR_LOCATIONS = (
    "other",
    "top of shoe",
    "in shoe",
    "hip",
    "front wheel",
    "left crank",
    "right crank",
    "left pedal",
    "right pedal",
    "front hub",
    "rear dropout",
    "chainstay",
    "rear wheel",
    "rear hub",
    "chest",
    "spider",
    "chain ring",
)
# Heart Rate Service, Body Sensor Location (0x2A38); 7-255 are reserved.
BODY_SENSOR_LOCATIONS = ("other", "chest", "wrist", "finger", "hand", "ear lobe", "foot")


def _location_name(names: tuple[str, ...], code: int) -> str:
    return names[code] if 0 <= code < len(names) else f"reserved ({code})"


@dataclass(frozen=True, slots=True)
class SensorLocation:
    """Where an RSC/CSC sensor sits; ``name`` follows from ``code``."""

    code: int
    name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _location_name(SENSOR_LOCATIONS, self.code))


@dataclass(frozen=True, slots=True)
class BodySensorLocation:
    """Where a heart-rate sensor sits; ``name`` follows from ``code``."""

    code: int
    name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _location_name(BODY_SENSOR_LOCATIONS, self.code))


def parse_sensor_location(data: ByteLike) -> SensorLocation:
    buf = _as_bytes(data)
    if not buf:
        raise _empty("sensor location")
    return SensorLocation(buf[0])


def encode_sensor_location(location: SensorLocation) -> bytes:
    return bytes((_check_range("sensor location", location.code, 0xFF),))


def parse_body_sensor_location(data: ByteLike) -> BodySensorLocation:
    buf = _as_bytes(data)
    if not buf:
        raise _empty("body sensor location")
    return BodySensorLocation(buf[0])


def encode_body_sensor_location(location: BodySensorLocation) -> bytes:
    return bytes((_check_range("body sensor location", location.code, 0xFF),))


# -- SC Control Point 0x2A55 responses ------------------------------------------------------

SC_RESPONSE_CODE = 0x10
SC_SET_CUMULATIVE_VALUE = 0x01
SC_START_CALIBRATION = 0x02
SC_UPDATE_LOCATION = 0x03
SC_REQUEST_LOCATIONS = 0x04
SC_SUCCESS = 0x01
SC_RESULTS = {
    0x01: "success",
    0x02: "op code not supported",
    0x03: "invalid parameter",
    0x04: "operation failed",
}
SC_OPCODES = {
    0x01: "set cumulative value",
    0x02: "start sensor calibration",
    0x03: "update sensor location",
    0x04: "request supported sensor locations",
}


@dataclass(frozen=True, slots=True)
class SCControlPointResponse:
    """``10 <op> <result> [locations...]``; locations only for a successful request 0x04."""

    request_opcode: int
    result: int
    result_name: str = field(init=False)
    locations: tuple[SensorLocation, ...] = ()

    def __post_init__(self) -> None:
        name = SC_RESULTS.get(self.result, f"reserved (0x{self.result:02x})")
        object.__setattr__(self, "result_name", name)


_SCR = "SC control point response"


def parse_sc_control_point_response(data: ByteLike) -> SCControlPointResponse:
    """Decode an SC Control Point indication; other op codes than 0x10 are not responses."""
    buf = _as_bytes(data)
    if len(buf) < 3:
        raise GattDecodeError(f"{_SCR}: {len(buf)} bytes, expected at least 3")
    if buf[0] != SC_RESPONSE_CODE:
        raise GattDecodeError(f"{_SCR}: op code 0x{buf[0]:02x}, expected response code 0x10")
    op, result = buf[1], buf[2]
    locations: tuple[SensorLocation, ...] = ()
    if op == SC_REQUEST_LOCATIONS and result == SC_SUCCESS:
        locations = tuple(SensorLocation(code) for code in buf[3:])
    return SCControlPointResponse(op, result, locations)


def encode_sc_control_point_response(response: SCControlPointResponse) -> bytes:
    op = _check_range("request op code", response.request_opcode, 0xFF)
    result = _check_range("result", response.result, 0xFF)
    codes = [_check_range("location", loc.code, 0xFF) for loc in response.locations]
    if codes and not (op == SC_REQUEST_LOCATIONS and result == SC_SUCCESS):
        raise ValueError("locations belong only to a successful request-locations response")
    return bytes((SC_RESPONSE_CODE, op, result, *codes))


# -- Battery Level 0x2A19 -------------------------------------------------------------------


def parse_battery_level(data: ByteLike) -> int:
    """Battery percent, 0-100."""
    buf = _as_bytes(data)
    if not buf:
        raise _empty("battery level")
    if buf[0] > 100:
        raise GattDecodeError(f"battery level: {buf[0]}%, must be 0-100")
    return buf[0]


def encode_battery_level(percent: int) -> bytes:
    return bytes((_check_range("battery level", percent, 100),))


# -- for the `stridewatch decode` command ---------------------------------------------------

DECODERS: dict[str, Callable[[ByteLike], object]] = {
    "hrm": parse_heart_rate,
    "rsc": parse_rsc_measurement,
    "rsc-feature": parse_rsc_feature,
    "battery": parse_battery_level,
    "sc-response": parse_sc_control_point_response,
    "sensor-location": parse_sensor_location,
    "body-location": parse_body_sensor_location,
}

_HEX_SEPARATORS = re.compile(r"[\s,:;-]+")
_HEX_TOKEN = re.compile(r"(?:0[xX])?([0-9a-fA-F]+)")


def parse_hex(text: str) -> bytes:
    """``16 3c 11 04``, ``163c1104``, ``0x16,0x3c,...``, ``16:3C`` -> bytes; ValueError if not."""
    tokens = [t for t in _HEX_SEPARATORS.split(text.strip()) if t]
    if not tokens:
        raise ValueError("no bytes given")
    out = bytearray()
    for token in tokens:
        match = _HEX_TOKEN.fullmatch(token)
        if match is None:
            raise ValueError(f"{token!r} is not hexadecimal")
        digits = match.group(1)
        if len(digits) == 1 and len(tokens) > 1:
            digits = "0" + digits
        if len(digits) % 2:
            raise ValueError(f"{token!r} has an odd number of hex digits")
        out += bytes.fromhex(digits)
    return bytes(out)


def as_json(value: object) -> dict[str, Any]:
    """The decoded value as a JSON-ready dict of its fields (battery: ``{"percent": N}``)."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return {"percent": value}


def describe(value: object) -> list[tuple[str, str]]:
    """(label, text) per field, for people reading a sensor's payload."""
    if isinstance(value, HeartRateMeasurement):
        return _describe_hrm(value) + _describe_leftover(value.leftover)
    if isinstance(value, RSCMeasurement):
        return _describe_rsc(value) + _describe_leftover(value.leftover)
    if isinstance(value, RSCFeature):
        bits = [(name.replace("_", " "), _yes(getattr(value, name))) for name in _FEATURE_BITS]
        return bits + _describe_leftover(value.leftover)
    if isinstance(value, SCControlPointResponse):
        return _describe_sc(value)
    if isinstance(value, SensorLocation | BodySensorLocation):
        return [("location", f"{value.name} ({value.code})")]
    return [("battery level", f"{value}%")]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _describe_leftover(leftover: int) -> list[tuple[str, str]]:
    if not leftover:
        return []
    return [("left over", f"{leftover} byte{'s' if leftover > 1 else ''} not decoded, ignored")]


def _describe_hrm(m: HeartRateMeasurement) -> list[tuple[str, str]]:
    contact = {None: "not supported", True: "detected", False: "not detected"}
    rr = ", ".join(f"{s:.4f} s" for s in m.rr_intervals_s) or "none"
    energy = "not present" if m.energy_expended_kj is None else f"{m.energy_expended_kj} kJ"
    return [
        ("heart rate", f"{m.bpm} bpm"),
        ("sensor contact", contact[m.sensor_contact]),
        ("energy expended", energy),
        ("RR intervals", rr),
    ]


def _describe_rsc(m: RSCMeasurement) -> list[tuple[str, str]]:
    pace = ""
    if m.speed_mps > 0:
        minutes, seconds = divmod(round(1000 / m.speed_mps), 60)
        pace = f" ({minutes}:{seconds:02d} /km)"
    stride = "not present" if m.stride_length_m is None else f"{m.stride_length_m:.2f} m"
    total = "not present" if m.total_distance_m is None else f"{m.total_distance_m:.1f} m"
    return [
        ("speed", f"{m.speed_mps:.3f} m/s{pace}"),
        ("cadence", f"{m.cadence_spm} /min"),
        ("stride length", stride),
        ("total distance", total),
        ("status", "running" if m.running else "walking"),
    ]


def _describe_sc(r: SCControlPointResponse) -> list[tuple[str, str]]:
    op = SC_OPCODES.get(r.request_opcode, "reserved")
    lines = [
        ("request", f"{op} (0x{r.request_opcode:02x})"),
        ("result", f"{r.result_name} (0x{r.result:02x})"),
    ]
    if r.locations:
        lines.append(("locations", ", ".join(f"{loc.name} ({loc.code})" for loc in r.locations)))
    return lines
