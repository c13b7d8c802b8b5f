"""Editing one list in the user's config file (``stridewatch pair``, ``sync add``/``remove``).

The edit goes through tomlkit, which keeps the rest of the file (comments, order, spacing)
as the runner wrote it. A missing file is created 0600 in a 0700 folder; an existing one
keeps its text and permissions apart from the one array changed, replaced atomically.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Array

from agent.errors import ConfigError


def edit_list(
    path: Path, section: str, key: str, change: Callable[[Array], bool], *, again: str
) -> bool:
    """Apply ``change`` to the array ``[section] key`` of the TOML file ``path`` (created,
    with its table, if missing) and write the file if ``change`` returns True; return that.
    Raises :class:`ConfigError` naming the file (``again``: what to do once it is fixed,
    e.g. "pair again") if it cannot be read, parsed or written, or the key is no list."""
    path = Path(os.path.realpath(path))  # a config linked from a dotfiles folder stays so
    text = _read(path)
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError([f"{path}: not valid TOML ({exc}); fix it, then {again}"]) from None
    array = _array(doc, path, section, key, again)
    if not change(array):
        return False
    _write_private(path, tomlkit.dumps(doc))
    return True


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot be read: {exc}"]) from None


def _array(doc: Any, path: Path, section: str, key: str, again: str) -> Array:
    """The ``[section] key`` array, created (with its table) if the file has none."""
    if section not in doc:
        if doc.as_string().strip():
            doc.add(tomlkit.nl())
        doc[section] = tomlkit.table()
    table = doc[section]
    if not isinstance(table, dict):
        raise ConfigError([f"{path}: {section}: must be a table of settings; fix it, then {again}"])
    if key not in table:
        table[key] = tomlkit.array()
    array = table[key]
    if not isinstance(array, Array):
        raise ConfigError([f"{path}: {section}.{key}: must be a list; fix it, then {again}"])
    return array


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
