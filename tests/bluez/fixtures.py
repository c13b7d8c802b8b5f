"""pytest fixtures of the mock-BlueZ rig (see ``tests/bluez/rig.py``).

Use them from a test module with ``pytest_plugins = ["tests.bluez.fixtures"]``:

- ``system_bus``: a private system bus with nothing on it (no bluetoothd); yields its address
  and sets ``DBUS_SYSTEM_BUS_ADDRESS`` for the test.
- ``bluez``: a :class:`~tests.bluez.rig.BluezMock` (adapter hci0, no sensors) on that bus.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bluez.rig import BluezMock, private_system_bus, spawn_bluez


@pytest.fixture
def system_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private system bus with nothing on it (no bluetoothd); yields its address."""
    with private_system_bus() as address:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
        yield address


@pytest.fixture
def bluez(system_bus: str, tmp_path: Path) -> Iterator[BluezMock]:
    """A mock BlueZ (adapter hci0, no sensors yet) on ``system_bus``, for this test only."""
    with spawn_bluez(system_bus, tmp_path / "bluez.log") as mock:
        yield mock
