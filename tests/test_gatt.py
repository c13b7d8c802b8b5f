"""GATT decoders and encoders on literal spec bytes, and their hypothesis properties."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.errors import StridewatchError
from agent.sensors import gatt
from agent.sensors.gatt import (
    BodySensorLocation,
    GattDecodeError,
    HeartRateMeasurement,
    RSCFeature,
    RSCMeasurement,
    SCControlPointResponse,
    SensorLocation,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# -- Heart Rate Measurement ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("00 3c", HeartRateMeasurement(60, None, None, ())),
        ("00 00", HeartRateMeasurement(0, None, None, ())),  # 0 bpm: no reading yet, valid
        ("01 3c 00", HeartRateMeasurement(60, None, None, ())),  # u16 format
        ("01 2c 01", HeartRateMeasurement(300, None, None, ())),
        ("02 3c", HeartRateMeasurement(60, None, None, ())),  # contact code 1: not supported
        ("04 3c", HeartRateMeasurement(60, False, None, ())),  # code 2: supported, no contact
        ("06 3c", HeartRateMeasurement(60, True, None, ())),  # code 3: contact detected
        ("08 3c 10 27", HeartRateMeasurement(60, None, 10000, ())),
        ("09 2c 01 ff ff", HeartRateMeasurement(300, None, 65535, ())),
        ("10 3c 00 04", HeartRateMeasurement(60, None, None, (1.0,))),
        ("10 3c 00 04 00 02 01 00", HeartRateMeasurement(60, None, None, (1.0, 0.5, 1 / 1024))),
        ("16 3c 11 04", HeartRateMeasurement(60, True, None, (1041 / 1024,))),
        ("1f 2c 01 e8 03 00 04 00 02", HeartRateMeasurement(300, True, 1000, (1.0, 0.5))),
        ("1e 3c e8 03 00 04", HeartRateMeasurement(60, True, 1000, (1.0,))),
        ("10 3c", HeartRateMeasurement(60, None, None, ())),  # RR flag, no interval yet
        ("e0 3c", HeartRateMeasurement(60, None, None, ())),  # reserved bits 5-7 ignored
        ("f6 3c 11 04", HeartRateMeasurement(60, True, None, (1041 / 1024,))),
        ("00 3c ff ee", HeartRateMeasurement(60, None, None, (), leftover=2)),  # trailing
    ],
)
def test_heart_rate_spec_bytes(payload: str, expected: HeartRateMeasurement) -> None:
    assert gatt.parse_heart_rate(h(payload)) == expected


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "heart rate measurement: empty payload"),
        ("00", "heart rate measurement: 1 bytes, flags 0x00 announce at least 2"),
        ("01 3c", "heart rate measurement: 2 bytes, flags 0x01 announce at least 3"),
        ("19 3c", "heart rate measurement: 2 bytes, flags 0x19 announce at least 3"),
    ],
)
def test_heart_rate_malformed(payload: str, message: str) -> None:
    with pytest.raises(GattDecodeError, match=re.escape(message)):
        gatt.parse_heart_rate(h(payload))


def test_heart_rate_encoder_options() -> None:
    m = HeartRateMeasurement(60, None, None, (1.0,))
    assert gatt.encode_heart_rate(m) == h("10 3c 00 04")
    assert gatt.encode_heart_rate(m, hr_u16=True) == h("11 3c 00 00 04")
    assert gatt.encode_heart_rate(m, contact_supported=False) == h("12 3c 00 04")
    detected = HeartRateMeasurement(60, True, 1000, ())
    assert gatt.encode_heart_rate(detected) == h("0e 3c e8 03")
    assert gatt.encode_heart_rate(HeartRateMeasurement(300, False, None, ())) == h("05 2c 01")


@pytest.mark.parametrize(
    ("m", "kwargs"),
    [
        (HeartRateMeasurement(70000, None, None, ()), {}),
        (HeartRateMeasurement(-1, None, None, ()), {}),
        (HeartRateMeasurement(60, None, 70000, ()), {}),
        (HeartRateMeasurement(60, None, None, (64.0,)), {}),
        (HeartRateMeasurement(60, True, None, ()), {"contact_supported": False}),
        (HeartRateMeasurement(60, None, None, ()), {"contact_supported": True}),
    ],
)
def test_heart_rate_encoder_rejects_unrepresentable(
    m: HeartRateMeasurement, kwargs: dict[str, bool]
) -> None:
    with pytest.raises(ValueError, match=r"fit the wire format|contact"):
        gatt.encode_heart_rate(m, **kwargs)


# -- RSC Measurement -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("00 00 03 b4", RSCMeasurement(3.0, 180, None, None, False)),
        ("04 00 03 b4", RSCMeasurement(3.0, 180, None, None, True)),
        ("01 80 02 96 a0 00", RSCMeasurement(2.5, 150, 1.6, None, False)),
        ("02 00 03 b4 e8 03 00 00", RSCMeasurement(3.0, 180, None, 100.0, False)),
        ("07 00 03 b4 b0 00 e8 03 00 00", RSCMeasurement(3.0, 180, 1.76, 100.0, True)),
        ("06 01 00 00 ff ff ff ff", RSCMeasurement(1 / 256, 0, None, 429496729.5, True)),
        ("00 00 00 00", RSCMeasurement(0.0, 0, None, None, False)),
        ("f8 00 03 b4", RSCMeasurement(3.0, 180, None, None, False)),  # reserved bits 3-7
        ("05 ff ff ff ff ff", RSCMeasurement(65535 / 256, 255, 655.35, None, True)),
        ("00 00 03 b4 99", RSCMeasurement(3.0, 180, None, None, False, leftover=1)),
    ],
)
def test_rsc_measurement_spec_bytes(payload: str, expected: RSCMeasurement) -> None:
    assert gatt.parse_rsc_measurement(h(payload)) == expected


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "RSC measurement: empty payload"),
        ("00 00 03", "RSC measurement: 3 bytes, flags 0x00 announce at least 4"),
        ("07 00 03", "RSC measurement: 3 bytes, flags 0x07 announce at least 4"),
        ("07", "RSC measurement: 1 bytes, flags 0x07 announce at least 4"),
    ],
)
def test_rsc_measurement_malformed(payload: str, message: str) -> None:
    with pytest.raises(GattDecodeError, match=message):
        gatt.parse_rsc_measurement(h(payload))


def test_rsc_encoder_rejects_unrepresentable() -> None:
    with pytest.raises(ValueError, match="cadence 256"):
        gatt.encode_rsc_measurement(RSCMeasurement(3.0, 256, None, None, True))
    with pytest.raises(ValueError, match="speed"):
        gatt.encode_rsc_measurement(RSCMeasurement(300.0, 180, None, None, True))
    with pytest.raises(ValueError, match="total distance"):
        gatt.encode_rsc_measurement(RSCMeasurement(3.0, 180, None, 5e8, True))


# -- RSC Feature, locations, control point, battery ----------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("00 00", RSCFeature(False, False, False, False, False)),
        ("01 00", RSCFeature(True, False, False, False, False)),
        ("02 00", RSCFeature(False, True, False, False, False)),
        ("04 00", RSCFeature(False, False, True, False, False)),
        ("08 00", RSCFeature(False, False, False, True, False)),
        ("10 00", RSCFeature(False, False, False, False, True)),
        ("1f 00", RSCFeature(True, True, True, True, True)),
        ("e3 ff", RSCFeature(True, True, False, False, False)),  # reserved bits 5-15
        ("1f", RSCFeature(True, True, True, True, True)),  # low byte only: see test_gatt_salvage
    ],
)
def test_rsc_feature(payload: str, expected: RSCFeature) -> None:
    assert gatt.parse_rsc_feature(h(payload)) == expected


def test_rsc_feature_empty() -> None:
    with pytest.raises(GattDecodeError, match="RSC feature: empty payload"):
        gatt.parse_rsc_feature(b"")


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (0, "other"),
        (1, "top of shoe"),
        (2, "in shoe"),
        (3, "hip"),
        (4, "front wheel"),
        (14, "chest"),
        (15, "spider"),
        (16, "chain ring"),
        (17, "reserved (17)"),
    ],
)
def test_sensor_location(code: int, name: str) -> None:
    location = gatt.parse_sensor_location(bytes((code,)))
    assert (location.code, location.name) == (code, name)
    assert gatt.encode_sensor_location(location) == bytes((code,))


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (0, "other"),
        (1, "chest"),
        (2, "wrist"),
        (3, "finger"),
        (4, "hand"),
        (5, "ear lobe"),
        (6, "foot"),
        (7, "reserved (7)"),
        (255, "reserved (255)"),
    ],
)
def test_body_sensor_location(code: int, name: str) -> None:
    location = gatt.parse_body_sensor_location(bytes((code,)))
    assert (location.code, location.name) == (code, name)
    assert gatt.encode_body_sensor_location(location) == bytes((code,))


@pytest.mark.parametrize(
    "parse", [gatt.parse_sensor_location, gatt.parse_body_sensor_location, gatt.parse_battery_level]
)
def test_single_byte_characteristics_reject_empty(parse: Callable[[bytes], object]) -> None:
    with pytest.raises(GattDecodeError, match="empty payload"):
        parse(b"")


@pytest.mark.parametrize(
    ("payload", "op", "result", "name", "locations"),
    [
        ("10 01 01", 1, 1, "success", ()),
        ("10 02 04", 2, 4, "operation failed", ()),
        ("10 03 03", 3, 3, "invalid parameter", ()),
        ("10 04 02", 4, 2, "op code not supported", ()),
        ("10 04 01 01 02 03", 4, 1, "success", (1, 2, 3)),
        ("10 04 01", 4, 1, "success", ()),
        ("10 04 03 01", 4, 3, "invalid parameter", ()),  # no locations on failure
        ("10 01 01 ff", 1, 1, "success", ()),  # trailing byte ignored
        ("10 01 09", 1, 9, "reserved (0x09)", ()),
    ],
)
def test_sc_control_point_response(
    payload: str, op: int, result: int, name: str, locations: tuple[int, ...]
) -> None:
    r = gatt.parse_sc_control_point_response(h(payload))
    assert (r.request_opcode, r.result, r.result_name) == (op, result, name)
    assert tuple(loc.code for loc in r.locations) == locations


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "0 bytes, expected at least 3"),
        ("10 04", "2 bytes, expected at least 3"),
        ("01 04 01", "op code 0x01, expected response code 0x10"),
    ],
)
def test_sc_control_point_malformed(payload: str, message: str) -> None:
    with pytest.raises(GattDecodeError, match=message):
        gatt.parse_sc_control_point_response(h(payload))


def test_sc_response_encoder() -> None:
    r = SCControlPointResponse(4, 1, (SensorLocation(1), SensorLocation(3)))
    assert gatt.encode_sc_control_point_response(r) == h("10 04 01 01 03")
    with pytest.raises(ValueError, match="locations belong only"):
        gatt.encode_sc_control_point_response(SCControlPointResponse(1, 1, (SensorLocation(1),)))


@pytest.mark.parametrize(
    ("payload", "percent"), [("00", 0), ("57", 87), ("64", 100), ("50 00", 80)]
)
def test_battery_level(payload: str, percent: int) -> None:
    assert gatt.parse_battery_level(h(payload)) == percent
    assert gatt.encode_battery_level(percent) == h(payload)[:1]


@pytest.mark.parametrize("value", [101, 255])
def test_battery_level_over_100(value: int) -> None:
    with pytest.raises(GattDecodeError, match=f"battery level: {value}%, must be 0-100"):
        gatt.parse_battery_level(bytes((value,)))
    with pytest.raises(ValueError, match="battery level"):
        gatt.encode_battery_level(value)


def test_decode_error_is_a_value_error_and_an_input_problem() -> None:
    with pytest.raises(GattDecodeError) as caught:
        gatt.parse_heart_rate(b"")
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, StridewatchError)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("wrap", [bytearray, memoryview])
def test_decoders_accept_bytearray_and_memoryview(wrap: Callable[[bytes], bytes]) -> None:
    data = wrap(h("16 3c 11 04"))
    assert gatt.parse_heart_rate(data) == HeartRateMeasurement(60, True, None, (1041 / 1024,))


# -- hex input for `stridewatch decode` ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "16 3c 11 04",
        "163c1104",
        "0x16,0x3c,0x11,0x04",
        "0x16 0x3c 0x11 0x04",
        "16:3C:11:04",
        "0x163c1104",
        " 16-3c-11-04 ",
        "16, 3c, 11, 4",
    ],
)
def test_parse_hex_forms(text: str) -> None:
    assert gatt.parse_hex(text) == h("16 3c 11 04")


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "no bytes"), ("zz", "'zz' is not hexadecimal"), ("163", "odd number"), ("0x", "0x")],
)
def test_parse_hex_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gatt.parse_hex(text)


# -- properties ----------------------------------------------------------------------------

u16 = st.integers(0, 0xFFFF)
rr_lists = st.lists(u16.map(lambda v: v / 1024), max_size=9).map(tuple)

heart_rates = st.builds(
    HeartRateMeasurement,
    bpm=u16,
    sensor_contact=st.none() | st.booleans(),
    energy_expended_kj=st.none() | u16,
    rr_intervals_s=rr_lists,
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
locations = st.integers(0, 255).map(SensorLocation)
responses = st.one_of(
    st.builds(
        SCControlPointResponse,
        request_opcode=st.integers(0, 255).filter(lambda op: op != 4),
        result=st.integers(0, 255),
    ),
    st.builds(SCControlPointResponse, st.just(4), st.integers(2, 255)),
    st.builds(SCControlPointResponse, st.just(4), st.just(1), st.lists(locations).map(tuple)),
)


@given(heart_rates, st.booleans())
def test_heart_rate_round_trip(m: HeartRateMeasurement, wide: bool) -> None:
    assert gatt.parse_heart_rate(gatt.encode_heart_rate(m, hr_u16=wide)) == m
    if m.sensor_contact is None:
        encoded = gatt.encode_heart_rate(m, contact_supported=False)
        assert gatt.parse_heart_rate(encoded) == m


@given(rsc_measurements)
def test_rsc_measurement_round_trip(m: RSCMeasurement) -> None:
    assert gatt.parse_rsc_measurement(gatt.encode_rsc_measurement(m)) == m


@given(features)
def test_rsc_feature_round_trip(feature: RSCFeature) -> None:
    assert gatt.parse_rsc_feature(gatt.encode_rsc_feature(feature)) == feature


@given(responses)
def test_sc_response_round_trip(r: SCControlPointResponse) -> None:
    assert gatt.parse_sc_control_point_response(gatt.encode_sc_control_point_response(r)) == r


@given(st.integers(0, 100), st.integers(0, 255))
def test_single_byte_round_trips(percent: int, code: int) -> None:
    assert gatt.parse_battery_level(gatt.encode_battery_level(percent)) == percent
    loc, body = SensorLocation(code), BodySensorLocation(code)
    assert gatt.parse_sensor_location(gatt.encode_sensor_location(loc)) == loc
    assert gatt.parse_body_sensor_location(gatt.encode_body_sensor_location(body)) == body


RESULT_TYPES: dict[str, type] = {
    "hrm": HeartRateMeasurement,
    "rsc": RSCMeasurement,
    "rsc-feature": RSCFeature,
    "battery": int,
    "sc-response": SCControlPointResponse,
    "sensor-location": SensorLocation,
    "body-location": BodySensorLocation,
}


@pytest.mark.parametrize("kind", sorted(gatt.DECODERS))
@given(data=st.binary(max_size=24), wrap=st.sampled_from([bytes, bytearray, memoryview]))
def test_arbitrary_bytes_give_a_value_or_gatt_decode_error(
    kind: str, data: bytes, wrap: Callable[[bytes], bytes]
) -> None:
    try:
        value: object = gatt.DECODERS[kind](wrap(data))
    except GattDecodeError as exc:
        value = exc
    if isinstance(value, GattDecodeError):
        assert str(value)
        assert "\n" not in str(value)
    else:
        assert isinstance(value, RESULT_TYPES[kind])
