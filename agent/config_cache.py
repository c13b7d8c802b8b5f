"""The settings as last validated, kept so that a command whose sources did not change since
skips pydantic (~100 ms of every command's start-up: benchmarks/, issue 18).

The cache is one private JSON file, ``$XDG_CACHE_HOME/stridewatch/settings.json``: the
validated settings under a key that holds everything validation depended on: the full text
of each config file read (path and contents, in order), the ``STRIDEWATCH_*`` variables, this
year (``dates.earliest_year`` may not be after it), and this module's and
:mod:`agent.config`'s file stamps (a new version of the settings' rules). It is used only
when the key is equal in every character, so an edit, however quick, misses it; a missing,
unreadable or damaged cache is a miss too, and a cache that cannot be written is left
alone. Settings are never taken from it without having passed validation once.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import platformdirs

import agent.config
from agent.config import Settings

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
CacheKey = dict[str, Any]


def cache_path() -> Path:
    """Where the cache lives: ``$XDG_CACHE_HOME/stridewatch/settings.json``."""
    return Path(platformdirs.user_cache_dir("stridewatch")) / "settings.json"


def cache_key(files: Sequence[tuple[str, str]], environment: Mapping[str, str]) -> CacheKey:
    """What validating ``files`` (``(path, text)`` in the order layered) and ``environment``
    (the ``STRIDEWATCH_*`` settings variables) depends on, as JSON values."""
    stamps = [_stamp(Path(agent.config.__file__)), _stamp(Path(__file__))]
    return {
        "format": CACHE_FORMAT,
        "rules": stamps,
        "year": datetime.now(UTC).year,
        "files": [[path, text] for path, text in files],
        "environment": dict(sorted(environment.items())),
    }


def _stamp(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_mtime_ns, status.st_size]


def load(key: CacheKey) -> Settings | None:
    """The settings cached under ``key``, or None (no cache, another key, or damaged)."""
    try:
        data = json.loads(cache_path().read_bytes())
        if not isinstance(data, dict) or data.get("key") != key:
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
    text = json.dumps({"key": key, "settings": values}, ensure_ascii=False)
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
    if isinstance(value, time):
        return value.isoformat()
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
