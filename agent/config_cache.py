"""The settings as last validated, kept so that a command whose sources did not change since
skips pydantic (~100 ms of every command's start-up: benchmarks/, issue 18).

The cache is one private JSON file, ``$XDG_CACHE_HOME/stridewatch/settings.json``: the
validated settings under a key that holds everything validation depended on: the full text
of each config file read (path and contents, in order), the ``STRIDEWATCH_*`` variables, the
home folder (``~`` in folders), this year (``dates.earliest_year`` may not be after it), and
checksums of the code that layers and validates them (every ``agent/config*.py`` module,
pydantic's version). It is used only when the key is
equal in every character, so an edit, however quick, misses it. A checksum over key and
settings makes a cache edited by hand or damaged a miss too, as is a missing or unreadable
one; a cache that cannot be written is left alone.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging
import os
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import platformdirs

from agent.config import Settings

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
CacheKey = dict[str, Any]


def cache_path() -> Path:
    """Where the cache lives: ``$XDG_CACHE_HOME/stridewatch/settings.json``."""
    return Path(platformdirs.user_cache_dir("stridewatch")) / "settings.json"


def cache_key(files: Sequence[tuple[str, str]], environment: Mapping[str, str]) -> CacheKey | None:
    """What validating ``files`` (``(path, text)`` in the order layered) and ``environment``
    (the ``STRIDEWATCH_*`` settings variables) depends on, as JSON values; None (no caching)
    if the code's checksums cannot be read."""
    try:
        rules = _rules_checksums()
    except OSError:
        return None
    return {
        "format": CACHE_FORMAT,
        "rules": rules,
        "home": os.path.expanduser("~"),
        "year": datetime.now(UTC).year,
        "files": [[path, text] for path, text in files],
        "environment": dict(sorted(environment.items())),
    }


def _rules_checksums() -> list[int]:
    """CRC-32 of the code the settings' validation depends on: this package's settings
    modules (by content: a reinstall may keep sizes and times) and pydantic's version file
    (found without importing pydantic)."""
    here = Path(__file__).parent
    paths = sorted(here.glob("config*.py"))  # config, config_bounds, config_load, this one
    spec = importlib.util.find_spec("pydantic")
    if spec is not None and spec.origin is not None:
        paths.append(Path(spec.origin).with_name("version.py"))
    return [zlib.crc32(path.read_bytes()) for path in paths]


def _checksum(key: CacheKey, values: Mapping[str, Any]) -> int:
    text = json.dumps([key, values], sort_keys=True, ensure_ascii=False)
    return zlib.crc32(text.encode("utf-8"))


def load(key: CacheKey) -> Settings | None:
    """The settings cached under ``key``, or None (no cache, another key, or damaged)."""
    try:
        data = json.loads(cache_path().read_bytes())
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        if data.get("checksum") != _checksum(key, data["settings"]):
            return None
        found = _decode(Settings, data["settings"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return found if isinstance(found, Settings) else None


def save(key: CacheKey, settings: Settings) -> None:
    """Cache ``settings`` (validated) under ``key``; a cache that cannot be written is
    logged at debug level and left as it is."""
    from agent.errors import StridewatchError
    from agent.safe_write import write_file

    values = settings_as_json(settings)
    try:
        same = _decode(Settings, values) == settings
    except (ValueError, TypeError):
        same = False
    if not same:  # what is cached must read back as it was validated
        log.debug("settings cache: %r would not read back the same; not cached", settings)
        return
    checksum = _checksum(key, values)
    text = json.dumps({"key": key, "settings": values, "checksum": checksum}, ensure_ascii=False)
    try:
        path = cache_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_file(path, text.encode("utf-8"), force=True)
    except (OSError, StridewatchError) as exc:
        log.debug("settings cache not written: %s", exc)


def settings_as_json(settings: Settings) -> dict[str, Any]:
    """``settings`` as JSON values: sections as objects, times as ``HH:MM:SS``, lists."""
    return dict(json.loads(json.dumps(dataclasses.asdict(settings), default=_time_text)))


def _time_text(value: object) -> str:
    if isinstance(value, time):  # as pydantic writes a time: UTC as Z
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    raise TypeError(f"{type(value).__name__} is not a setting's type")


def _decode(cls: type[Any], data: Mapping[str, Any]) -> Any:
    """An instance of the settings dataclass ``cls`` from :func:`settings_as_json`'s values;
    each field's type is its default's. ``ValueError``/``TypeError`` if they do not fit."""
    fields = dataclasses.fields(cls)
    if set(data) != {field.name for field in fields}:
        raise ValueError(f"{cls.__name__}: other keys than its fields")
    values: dict[str, Any] = {}
    for field in fields:
        default = field.default
        if default is dataclasses.MISSING and field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        raw = data[field.name]
        if dataclasses.is_dataclass(default):
            values[field.name] = _decode(type(default), raw)
        elif isinstance(default, time):
            values[field.name] = time.fromisoformat(raw)
        elif isinstance(default, tuple):
            values[field.name] = tuple(raw)
        elif type(raw) is not type(default):
            raise TypeError(f"{cls.__name__}.{field.name}: {raw!r} is no {type(default)}")
        else:
            values[field.name] = raw
    return cls(**values)
