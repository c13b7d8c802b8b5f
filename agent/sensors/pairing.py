"""Pairing: put a sensor on the allow-list in the user's config file.

Only allow-listed sensors are connected to automatically (a stranger's footpod in the next
lane must not write into this runner's history), so ``stridewatch pair`` edits
``[sensors] allow`` in the user config, keeping the rest of the file as the runner wrote
it. No Bluetooth here: pairing works from an address alone, with the sensor asleep or miles
away.
"""

from __future__ import annotations

import re
from pathlib import Path

from tomlkit.items import Array

from agent.config_edit import edit_list
from agent.errors import InputError

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
    text and permissions apart from the one array it changes (:mod:`agent.config_edit`).
    """

    def add(allow: Array) -> bool:
        if address in (str(item).upper() for item in allow):
            return False
        allow.append(address)
        return True

    return edit_list(path, "sensors", "allow", add, again="pair again")
