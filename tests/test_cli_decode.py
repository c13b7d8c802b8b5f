"""`stridewatch decode`: a sensor payload in any hex form people paste, read back as fields."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    "args",
    [
        ("16 3c 11 04",),
        ("163c1104",),
        ("0x16,0x3c,0x11,0x04",),
        ("0x16 0x3c 0x11 0x04",),
        ("16", "3c", "11", "04"),  # unquoted: one argument per byte
        ("16:3C:11:04",),
    ],
)
def test_decode_hrm_every_input_form(sw: Any, args: tuple[str, ...]) -> None:
    result = sw("decode", "hrm", *args, use_db=False)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == [
        "heart rate:       60 bpm",
        "sensor contact:   detected",
        "energy expended:  not present",
        "RR intervals:     1.0166 s",
    ]


def test_decode_hrm_json(sw: Any) -> None:
    result = sw("decode", "hrm", "1f 2c 01 e8 03 00 04 00 02", "--json", use_db=False)
    assert result.exit_code == 0
    assert result.json() == {
        "bpm": 300,
        "sensor_contact": True,
        "energy_expended_kj": 1000,
        "rr_intervals_s": [1.0, 0.5],
        "leftover": 0,
    }


def test_decode_rsc_text_and_json(sw: Any) -> None:
    payload = "07 00 03 b4 b0 00 e8 03 00 00"
    text = sw("decode", "rsc", payload, use_db=False)
    assert text.exit_code == 0
    assert "speed:            3.000 m/s (5:33 /km)" in text.stdout
    assert "cadence:          180 /min" in text.stdout
    assert "stride length:    1.76 m" in text.stdout
    assert "total distance:   100.0 m" in text.stdout
    assert "status:           running" in text.stdout
    data = sw("decode", "rsc", payload, "--json", use_db=False).json()
    assert data == {
        "speed_mps": 3.0,
        "cadence_spm": 180,
        "stride_length_m": 1.76,
        "total_distance_m": 100.0,
        "running": True,
        "leftover": 0,
    }


def test_decode_rsc_without_optional_fields(sw: Any) -> None:
    result = sw("decode", "rsc", "00 00 00 00", use_db=False)
    assert "speed:            0.000 m/s\n" in result.stdout
    assert "stride length:    not present" in result.stdout
    assert "status:           walking" in result.stdout


def test_decode_feature_battery_and_locations(sw: Any) -> None:
    feature = sw("decode", "rsc-feature", "03 00", "--json", use_db=False).json()
    assert feature == {
        "stride": True,
        "total_distance": True,
        "walking_running": False,
        "calibration": False,
        "multiple_locations": False,
        "leftover": 0,
    }
    assert sw("decode", "battery", "57", use_db=False).stdout == "battery level:    87%\n"
    assert sw("decode", "battery", "0x57", "--json", use_db=False).json() == {"percent": 87}
    where = sw("decode", "sensor-location", "02", use_db=False).stdout
    assert where == "location:         in shoe (2)\n"
    body = sw("decode", "body-location", "01", "--json", use_db=False).json()
    assert body == {"code": 1, "name": "chest"}


def test_decode_sc_response(sw: Any) -> None:
    result = sw("decode", "sc-response", "10 04 01 01 02", use_db=False)
    assert result.stdout.splitlines() == [
        "request:          request supported sensor locations (0x04)",
        "result:           success (0x01)",
        "locations:        top of shoe (1), in shoe (2)",
    ]
    data = sw("decode", "sc-response", "10,01,02", "--json", use_db=False).json()
    assert data == {
        "request_opcode": 1,
        "result": 2,
        "result_name": "op code not supported",
        "locations": [],
    }


@pytest.mark.parametrize(
    ("kind", "payload", "message"),
    [
        ("hrm", "01 3c", "heart rate measurement: 2 bytes, flags 0x01 announce at least 3"),
        ("hrm", "10", "heart rate measurement: 1 bytes, flags 0x10 announce at least 2"),
        ("rsc", "00 00 03", "RSC measurement: 3 bytes, flags 0x00 announce at least 4"),
        ("battery", "65", "battery level: 101%, must be 0-100"),
        ("sc-response", "01 04 01", "expected response code 0x10"),
        ("hrm", "zz", "HEX: 'zz' is not hexadecimal"),
        ("hrm", "163", "HEX: '163' has an odd number of hex digits"),
        ("rsc", ",", "HEX: no bytes given"),
    ],
)
def test_decode_errors_one_line_exit_2(sw: Any, kind: str, payload: str, message: str) -> None:
    result = sw("decode", kind, payload, use_db=False)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("stridewatch: ")
    assert message in result.stderr


# -- issue 14: what is complete is shown, the rest counted as left over ------------------


def test_decode_strap_capture_with_a_dangling_byte(sw: Any) -> None:
    result = sw("decode", "hrm", "10 3e b1 03 de", use_db=False)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "heart rate:       62 bpm",
        "sensor contact:   not supported",
        "energy expended:  not present",
        "RR intervals:     0.9229 s",
        "left over:        1 byte not decoded, ignored",
    ]
    data = sw("decode", "hrm", "10 3e b1 03 de", "--json", use_db=False).json()
    assert data == {
        "bpm": 62,
        "sensor_contact": None,
        "energy_expended_kj": None,
        "rr_intervals_s": [945 / 1024],
        "leftover": 1,
    }


def test_decode_rsc_with_a_cut_total_distance(sw: Any) -> None:
    text = sw("decode", "rsc", "06 00 03 b4 e8 03", use_db=False)
    assert text.exit_code == 0, text.stderr
    assert "speed:            3.000 m/s (5:33 /km)" in text.stdout
    assert "cadence:          180 /min" in text.stdout
    assert "total distance:   not present" in text.stdout
    assert "status:           running" in text.stdout
    assert text.stdout.endswith("left over:        2 bytes not decoded, ignored\n")
    data = sw("decode", "rsc", "06 00 03 b4 e8 03", "--json", use_db=False).json()
    assert (data["cadence_spm"], data["total_distance_m"], data["leftover"]) == (180, None, 2)


def test_decode_one_byte_rsc_feature(sw: Any) -> None:
    text = sw("decode", "rsc-feature", "03", use_db=False)
    assert text.exit_code == 0, text.stderr
    assert "stride:           yes" in text.stdout
    assert "total distance:   yes" in text.stdout
    assert "left over" not in text.stdout  # nothing beyond the field: only its high byte missing
    data = sw("decode", "rsc-feature", "03 00 aa", "--json", use_db=False).json()
    assert (data["stride"], data["calibration"], data["leftover"]) == (True, False, 1)


def test_decode_unknown_kind_and_missing_hex(sw: Any) -> None:
    unknown = sw("decode", "cadence", "00", use_db=False)
    assert unknown.exit_code == 2
    assert "'cadence' is not one of" in unknown.stderr
    missing = sw("decode", "hrm", use_db=False)
    assert missing.exit_code == 2
    assert "Missing argument 'HEX" in missing.stderr


def test_decode_help_has_example(sw: Any) -> None:
    for flag in ("-h", "--help"):
        result = sw("decode", flag, use_db=False)
        assert result.exit_code == 0
        assert "Example: stridewatch decode hrm 16 3c 11 04" in result.stdout
        assert "(0x2A55)" in result.stdout
