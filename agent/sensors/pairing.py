"""Pairing: put a sensor on the allow-list in the user's config file.

Only allow-listed sensors are connected to automatically (a stranger's footpod in the next
lane must not write into this runner's history), so ``stridewatch pair`` edits
``[sensors] allow`` in the user config. The edit goes through tomlkit, which keeps the rest
of the file (comments, order, spacing) as the runner wrote it. No Bluetooth here: pairing
works from an address alone, with the sensor asleep or miles away.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Array

from agent.errors import ConfigError, InputError

# BlueZ and the config spell addresses as six colon-separated hex pairs; we accept "-" too,
# since some phone apps show them that way, and store upper case as BlueZ reports them.
_ADDRESS = re.compile(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}")


def parse_address(text: str) -> str:
    """``c0-ff-ee-00-00-01`` -> ``C0:FF:EE:00:00:01``; anything else is an :class:`InputError`."""
    cleaned = text.strip()
    if not _ADDRESS.fullmatch(cleaned):
        raise InputError(
            f"{text!r} is not a Bluetooth address: expected six hex pairs such as "
            "C0:FF:EE:00:00:01 (see `stridewatch scan`)",
            option="ADDRESS",
        )
    return cleaned.replace("-", ":").upper()


def add_to_allow_list(path: Path, address: str) -> bool:
    """Add ``address`` to ``[sensors] allow`` in the TOML file ``path``; False if already there.

    Creates the file (0600) and its folder (0700) when missing; keeps an existing file's
    text and permissions apart from the one array it changes.
    """
    text = _read(path)
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError([f"{path}: not valid TOML ({exc}); fix it, then pair again"]) from None
    allow = _allow_array(doc, path)
    if address in (str(item).upper() for item in allow):
        return False
    allow.append(address)
    _write_private(path, tomlkit.dumps(doc))
    return True


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot be read: {exc}"]) from None


def _allow_array(doc: Any, path: Path) -> Array:
    """The ``sensors.allow`` array, created (with its table) if the file has none."""
    if "sensors" not in doc:
        if doc.as_string().strip():
            doc.add(tomlkit.nl())
        doc["sensors"] = tomlkit.table()
    sensors = doc["sensors"]
    if not isinstance(sensors, dict):
        raise ConfigError(
            [f"{path}: sensors: must be a table of settings; fix it, then pair again"]
        )
    if "allow" not in sensors:
        sensors["allow"] = tomlkit.array()
    allow = sensors["allow"]
    if not isinstance(allow, Array):
        raise ConfigError([f'{path}: sensors.allow: must be a list, e.g. ["C0:FF:EE:00:00:01"]'])
    return allow


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically: a new file 0600 in a 0700 folder; an old one keeps its mode."""
    folder = path.parent
    try:
        if not folder.exists():
            folder.mkdir(parents=True, mode=0o700)
            folder.chmod(0o700)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
        handle, temp = tempfile.mkstemp(dir=folder, prefix=".config-", suffix=".toml")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(temp, mode)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError([f"{path}: cannot write the config file: {exc.strerror}"]) from exc
