"""Issue 14: decoders keep every complete field of a payload cut short or with stray bytes.

Only payloads whose required fields are incomplete are refused; whatever is not decoded is
counted in the value's ``leftover``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.sensors import gatt
from agent.sensors.gatt import GattDecodeError, HeartRateMeasurement, RSCFeature, RSCMeasurement


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# A real strap through Web Bluetooth: RR present, 8-bit HR 62 bpm, one RR of 0x03b1, odd 0xde.
CAPTURE = h("10 3e b1 03 de")


# -- literal payloads ----------------------------------------------------------------------


def test_strap_capture_with_a_dangling_byte_keeps_heart_rate_and_rr() -> None:
    m = gatt.parse_heart_rate(CAPTURE)
    assert m == HeartRateMeasurement(62, None, None, (945 / 1024,), leftover=1)
    assert gatt.hr_essentials(CAPTURE) == (62, None)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        # energy announced, one of its two bytes
        ("08 3c 10", HeartRateMeasurement(60, None, None, (), leftover=1)),
        ("09 3c 00 10", HeartRateMeasurement(60, None, None, (), leftover=1)),
        # energy announced, none of it: nothing is left over
        ("08 3c", HeartRateMeasurement(60, None, None, (), leftover=0)),
        # energy cut short: the RR intervals after it cannot be read either
        ("1e 3c e8", HeartRateMeasurement(60, True, None, (), leftover=1)),
        # half an RR interval after complete ones
        ("10 3c 00", HeartRateMeasurement(60, None, None, (), leftover=1)),
        ("19 3c 00 10 27 00 04 01", HeartRateMeasurement(60, None, 10000, (1.0,), leftover=1)),
        # bytes the flags do not announce
        ("06 3c 00 04", HeartRateMeasurement(60, True, None, (), leftover=2)),
        ("0e 3c e8 03 00", HeartRateMeasurement(60, True, 1000, (), leftover=1)),
    ],
)
def test_heart_rate_salvage(payload: str, expected: HeartRateMeasurement) -> None:
    assert gatt.parse_heart_rate(h(payload)) == expected
    assert gatt.hr_essentials(h(payload)) == (expected.bpm, expected.sensor_contact)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "heart rate measurement: empty payload"),
        ("10", "heart rate measurement: 1 bytes, flags 0x10 announce at least 2"),
        # 16-bit heart rate announced, one byte of it: the required field is incomplete
        ("01 3c", "heart rate measurement: 2 bytes, flags 0x01 announce at least 3"),
        ("1f 3c", "heart rate measurement: 2 bytes, flags 0x1f announce at least 3"),
    ],
)
def test_heart_rate_without_its_required_fields_is_refused(payload: str, message: str) -> None:
    with pytest.raises(GattDecodeError, match=re.escape(message)):
        gatt.parse_heart_rate(h(payload))
    assert gatt.hr_essentials(h(payload)) is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        # total distance announced, 2 of its 4 bytes
        ("02 00 03 b4 e8 03", RSCMeasurement(3.0, 180, None, None, False, leftover=2)),
        # stride complete, total distance cut
        ("07 00 03 b4 b0 00 e8 03 00", RSCMeasurement(3.0, 180, 1.76, None, True, leftover=3)),
        # stride cut: total distance after it cannot be read either
        ("03 00 03 b4 b0", RSCMeasurement(3.0, 180, None, None, False, leftover=1)),
        ("01 80 02 96", RSCMeasurement(2.5, 150, None, None, False, leftover=0)),
        # a byte beyond what the flags announce
        ("06 00 03 b4 e8 03 00 00 ff", RSCMeasurement(3.0, 180, None, 100.0, True, leftover=1)),
    ],
)
def test_rsc_measurement_salvage(payload: str, expected: RSCMeasurement) -> None:
    assert gatt.parse_rsc_measurement(h(payload)) == expected
    essentials = (expected.speed_mps, expected.cadence_spm, expected.total_distance_m)
    assert gatt.rsc_essentials(h(payload)) == (*essentials, expected.running)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "RSC measurement: empty payload"),
        ("03 00 03", "RSC measurement: 3 bytes, flags 0x03 announce at least 4"),
    ],
)
def test_rsc_measurement_without_its_required_fields_is_refused(payload: str, message: str) -> None:
    with pytest.raises(GattDecodeError, match=re.escape(message)):
        gatt.parse_rsc_measurement(h(payload))
    assert gatt.rsc_essentials(h(payload)) is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        # a bridge app's one-byte feature: the low byte, the high byte taken as 0
        ("00", RSCFeature(False, False, False, False, False)),
        ("03", RSCFeature(True, True, False, False, False)),
        ("1f 00 ff", RSCFeature(True, True, True, True, True, leftover=1)),
    ],
)
def test_rsc_feature_salvage(payload: str, expected: RSCFeature) -> None:
    assert gatt.parse_rsc_feature(h(payload)) == expected


def test_empty_payloads_are_refused() -> None:
    parsers: list[Callable[[bytes], object]] = [
        gatt.parse_heart_rate,
        gatt.parse_rsc_measurement,
        gatt.parse_rsc_feature,
    ]
    for parse in parsers:
        with pytest.raises(GattDecodeError, match="empty payload"):
            parse(b"")


def test_encoders_do_not_write_leftover() -> None:
    m = gatt.parse_heart_rate(CAPTURE)
    assert gatt.encode_heart_rate(m) == CAPTURE[:-1]
    rsc = RSCMeasurement(3.0, 180, None, None, False, leftover=2)
    assert gatt.encode_rsc_measurement(rsc) == h("00 00 03 b4")
    assert gatt.encode_rsc_feature(RSCFeature(True, False, False, False, False, 3)) == h("01 00")


# -- properties ----------------------------------------------------------------------------

u16 = st.integers(0, 0xFFFF)
extras = st.binary(max_size=8)
heart_rates = st.builds(
    HeartRateMeasurement,
    bpm=u16,
    sensor_contact=st.none() | st.booleans(),
    energy_expended_kj=st.none() | u16,
    rr_intervals_s=st.lists(u16.map(lambda v: v / 1024), max_size=6).map(tuple),
)
rsc_measurements = st.builds(
    RSCMeasurement,
    speed_mps=u16.map(lambda v: v / 256),
    cadence_spm=st.integers(0, 255),
    stride_length_m=st.none() | u16.map(lambda v: v / 100),
    total_distance_m=st.none() | st.integers(0, 0xFFFFFFFF).map(lambda v: v / 10),
    running=st.booleans(),
)
features = st.builds(
    RSCFeature, st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans()
)


@given(heart_rates, st.booleans(), extras)
def test_heart_rate_trailing_bytes_lose_no_field(
    m: HeartRateMeasurement, wide: bool, extra: bytes
) -> None:
    payload = gatt.encode_heart_rate(m, hr_u16=wide)
    original = gatt.parse_heart_rate(payload)
    got = gatt.parse_heart_rate(payload + extra)
    if payload[0] & gatt.HR_FLAG_RR:
        # the RR list runs to the end: appended pairs are more intervals, an odd byte is left
        n = len(original.rr_intervals_s)
        assert got.rr_intervals_s[:n] == original.rr_intervals_s
        assert len(got.rr_intervals_s) == n + len(extra) // 2
        assert got == replace(original, rr_intervals_s=got.rr_intervals_s, leftover=len(extra) % 2)
    else:
        assert got == replace(original, leftover=len(extra))
    assert gatt.hr_essentials(payload + extra) == (m.bpm, m.sensor_contact)


@given(rsc_measurements, extras)
def test_rsc_measurement_trailing_bytes_lose_no_field(m: RSCMeasurement, extra: bytes) -> None:
    got = gatt.parse_rsc_measurement(gatt.encode_rsc_measurement(m) + extra)
    assert got == replace(m, leftover=len(extra))
    essentials = gatt.rsc_essentials(gatt.encode_rsc_measurement(m) + extra)
    assert essentials == (m.speed_mps, m.cadence_spm, m.total_distance_m, m.running)


@given(features, extras)
def test_rsc_feature_trailing_bytes_lose_no_field(feature: RSCFeature, extra: bytes) -> None:
    got = gatt.parse_rsc_feature(gatt.encode_rsc_feature(feature) + extra)
    assert got == replace(feature, leftover=len(extra))


@given(heart_rates, st.booleans(), st.data())
def test_heart_rate_truncated_keeps_what_is_complete(
    m: HeartRateMeasurement, wide: bool, data: st.DataObject
) -> None:
    payload = gatt.encode_heart_rate(m, hr_u16=wide)
    required = 3 if payload[0] & gatt.HR_FLAG_U16 else 2
    cut = data.draw(st.integers(0, len(payload)), label="cut")
    if cut < required:
        with pytest.raises(GattDecodeError):
            gatt.parse_heart_rate(payload[:cut])
        assert gatt.hr_essentials(payload[:cut]) is None
        return
    got = gatt.parse_heart_rate(payload[:cut])
    assert (got.bpm, got.sensor_contact) == (m.bpm, m.sensor_contact)
    rr_start = required + (2 if m.energy_expended_kj is not None else 0)
    energy_complete = m.energy_expended_kj is not None and cut >= rr_start
    assert got.energy_expended_kj == (m.energy_expended_kj if energy_complete else None)
    whole_rr = max(0, cut - rr_start) // 2
    assert got.rr_intervals_s == m.rr_intervals_s[:whole_rr]
    # every byte is either decoded or counted as left over
    assert len(gatt.encode_heart_rate(got, hr_u16=wide)) + got.leftover == cut
    assert gatt.hr_essentials(payload[:cut]) == (m.bpm, m.sensor_contact)


@given(rsc_measurements, st.data())
def test_rsc_measurement_truncated_keeps_what_is_complete(
    m: RSCMeasurement, data: st.DataObject
) -> None:
    payload = gatt.encode_rsc_measurement(m)
    cut = data.draw(st.integers(0, len(payload)), label="cut")
    if cut < 4:
        with pytest.raises(GattDecodeError):
            gatt.parse_rsc_measurement(payload[:cut])
        assert gatt.rsc_essentials(payload[:cut]) is None
        return
    got = gatt.parse_rsc_measurement(payload[:cut])
    assert (got.speed_mps, got.cadence_spm, got.running) == (m.speed_mps, m.cadence_spm, m.running)
    stride_end = 6 if m.stride_length_m is not None else 4
    stride_complete = m.stride_length_m is not None and cut >= stride_end
    assert got.stride_length_m == (m.stride_length_m if stride_complete else None)
    distance_complete = m.total_distance_m is not None and cut >= stride_end + 4
    assert got.total_distance_m == (m.total_distance_m if distance_complete else None)
    assert len(gatt.encode_rsc_measurement(got)) + got.leftover == cut
    essentials = (got.speed_mps, got.cadence_spm, got.total_distance_m, got.running)
    assert gatt.rsc_essentials(payload[:cut]) == essentials


@given(features, st.integers(1, 2))
def test_rsc_feature_truncated_keeps_every_defined_bit(feature: RSCFeature, cut: int) -> None:
    assert gatt.parse_rsc_feature(gatt.encode_rsc_feature(feature)[:cut]) == feature
