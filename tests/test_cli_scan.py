"""`stridewatch scan` against a mock BlueZ, and `stridewatch pair` writing the user config."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent.config import user_config_path
from agent.store import Store
from tests.bluez.rig import BluezMock

pytest_plugins = ["tests.bluez.fixtures"]  # the bluez and system_bus fixtures

POD = "C0:FF:EE:00:00:01"
STRAP = "C0:FF:EE:00:00:02"


def test_scan_json_lists_sensors_and_marks_the_allow_listed(bluez: BluezMock, sw: Any) -> None:
    bluez.add_sensor(POD, "Stryd", "footpod", rssi=-71)
    bluez.add_sensor(STRAP, "Polar H10", "hrm", rssi=-48)
    bluez.add_sensor("C0:FF:EE:00:00:03", "Bike cadence", "other", rssi=-30)
    assert sw("pair", POD).exit_code == 0
    result = sw("scan", "--timeout", "0.4", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == [
        {
            "address": STRAP,
            "name": "Polar H10",
            "kind": "hrm",
            "kinds": ["hrm"],
            "rssi": -48,
            "allowed": False,
        },
        {
            "address": POD,
            "name": "Stryd",
            "kind": "footpod",
            "kinds": ["footpod"],
            "rssi": -71,
            "allowed": True,
        },
    ]


def test_scan_table_marks_the_allow_listed(bluez: BluezMock, sw: Any) -> None:
    bluez.add_sensor(POD, "Stryd", "footpod", rssi=-71)
    bluez.add_sensor(STRAP, "Polar H10", "hrm", rssi=-48)
    env = {"STRIDEWATCH_SENSORS__ALLOW": f'["{STRAP}"]'}
    result = sw("scan", "--timeout", "0.3", env=env)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["*", STRAP, "hrm", "-48", "dBm", "Polar", "H10"]
    assert lines[1].split() == [POD, "footpod", "-71", "dBm", "Stryd"]
    assert "stridewatch pair ADDRESS" in lines[2]


def test_scan_says_what_to_do_when_nothing_is_heard(bluez: BluezMock, sw: Any) -> None:
    bluez.add_sensor(POD, "Stryd", "footpod", advertising=False)
    result = sw("scan", "--timeout", "0.2", env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert result.stdout.startswith("No footpod or heart-rate strap heard in 0.2 s. Wake it")
    assert max(len(line) for line in result.stdout.splitlines()) <= 80  # wrapped, not one line


def test_scan_without_bluetoothd_fails_with_one_line(system_bus: str, sw: Any) -> None:
    result = sw("scan", "--timeout", "0.2")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "stridewatch: bluetoothd is not running: start it (`sudo systemctl start bluetooth`) "
        "and retry"
    ]


@pytest.mark.parametrize("timeout", ["0", "soon", "500"])
def test_scan_rejects_a_bad_timeout(sw: Any, timeout: str) -> None:
    result = sw("scan", "--timeout", timeout)
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("stridewatch: --timeout ")


def test_pair_writes_the_user_config_privately(sw: Any, db: Path) -> None:
    result = sw("pair", "c0-ff-ee-00-00-01", "--kind", "footpod", "--name", "Stryd")
    assert result.exit_code == 0, result.stderr
    path = user_config_path()
    assert result.stdout == f"{POD} added to the allow-list ([sensors] allow) in {path}\n"
    assert path.read_text() == f'[sensors]\nallow = ["{POD}"]\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert f'allow = ["{POD}"]' in sw("config", "show").stdout
    assert sw("pair", POD).exit_code == 0  # again, without --kind or --name
    with Store.open(db) as store:
        [device] = store.devices()
    assert (device["address"], device["name"], device["kind"]) == (POD, "Stryd", "footpod")


def test_pair_keeps_the_rest_of_the_file(sw: Any, db: Path) -> None:
    path = user_config_path()
    path.parent.mkdir(parents=True)
    original = (
        '# my settings\nunits = "mi"  # I think in miles\n\n'
        f'[sensors]\nallow = [\n  "{STRAP}",  # chest strap\n]\nlow_battery_percent = 20\n'
    )
    path.write_text(original)
    assert sw("pair", POD).exit_code == 0
    again = sw("pair", POD)
    assert again.stdout.startswith(f"{POD} already in the allow-list")
    expected = original.replace("  # chest strap\n", f'  # chest strap\n  "{POD}",\n')
    assert path.read_text() == expected
    shown = sw("config", "show").stdout
    assert f'allow = ["{STRAP}", "{POD}"]' in shown
    assert 'units = "mi"' in shown
    with Store.open(db) as store:
        assert [(d["address"], d["kind"]) for d in store.devices()] == [(POD, "unknown")]


@pytest.mark.parametrize("address", ["nonsense", "C0:FF:EE:00:00", "GG:FF:EE:00:00:01", ""])
def test_pair_rejects_a_bad_address_with_one_line(sw: Any, address: str) -> None:
    result = sw("pair", address)
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"stridewatch: {address!r} is not a Bluetooth address")
    assert not user_config_path().exists()


def test_pair_refuses_a_config_it_cannot_parse(sw: Any) -> None:
    path = user_config_path()
    path.parent.mkdir(parents=True)
    path.write_text("[sensors\nallow = [")
    result = sw("pair", POD)
    assert result.exit_code == 2
    assert path.read_text() == "[sensors\nallow = ["


@pytest.mark.parametrize("command", ["scan", "pair"])
def test_help_has_an_example(sw: Any, command: str) -> None:
    result = sw(command, "-h")
    assert result.exit_code == 0
    assert f"Example: stridewatch {command}" in result.stdout


def test_scan_in_another_process_shares_the_mock_by_bus_address(
    bluez: BluezMock, tmp_path: Path
) -> None:
    """What the daemon's end-to-end test relies on: only the bus address crosses over."""
    bluez.add_sensor(POD, "Stryd", "footpod", rssi=-60)
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bluez.bus_address}
    argv = [sys.executable, "-m", "agent", "--db", str(tmp_path / "x.db"), "scan", "--json"]
    done = subprocess.run(
        [*argv, "--timeout", "0.3"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert [c["address"] for c in json.loads(done.stdout)] == [POD]


def test_pair_a_device_with_both_services(sw: Any, db: Path) -> None:
    result = sw("pair", POD, "--kind", "footpod+hrm", "--name", "TICKR X")
    assert result.exit_code == 0, result.stderr
    with Store.open(db) as store:
        [device] = store.devices()
    assert device["kind"] == "footpod+hrm"
    assert "footpod+hrm" in sw("pair", "--help", use_db=False).stdout
