"""Loading the settings: the layers of their sources, and one line per problem.

Sources, later ones winning: the defaults in :mod:`agent.config` (documented, with
evidence, in ``config/default.toml``), the user file
(``$XDG_CONFIG_HOME/stridewatch/config.toml``), the file given with ``--config``, then
``STRIDEWATCH_*`` environment variables (``STRIDEWATCH_UNITS=mi``,
``STRIDEWATCH_PROGRESSION__WEEKLY_WARN=0.1``: a double underscore separates levels). Every
problem becomes one line naming its source and key path.

Pydantic validates the layers against :mod:`agent.config`'s dataclasses; it is imported only
when a source changed since the last validation (:mod:`agent.config_cache`), and not at all
when no file or variable sets anything (the defaults are valid as they are).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import config_cache
from agent.config import ENV_PREFIX, NOT_SETTINGS, Settings, user_config_path
from agent.config_bounds import Order, OrderError
from agent.config_cache import settings_as_json
from agent.errors import ConfigError
from agent.safe_write import kind_of

if TYPE_CHECKING:
    from pydantic import TypeAdapter


MAX_CONFIG_BYTES = 1_000_000


class _Layers:
    """The merged raw settings, remembering which source set each key."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.origin: dict[tuple[str, ...], str] = {}

    def add(self, values: Mapping[str, Any], source: str, prefix: tuple[str, ...] = ()) -> None:
        target = self.data
        for part in prefix:
            target = target.setdefault(part, {})
        for key, value in values.items():
            path = (*prefix, key)
            if isinstance(value, Mapping) and isinstance(target.get(key, {}), dict):
                target.setdefault(key, {})
                self.add(value, source, path)
            else:
                target[key] = value
                self.origin[path] = source

    def source_of(self, path: tuple[str, ...]) -> str:
        for end in range(len(path), 0, -1):
            if path[:end] in self.origin:
                return self.origin[path[:end]]
        for key, source in self.origin.items():  # a whole unknown table: any key inside it
            if key[: len(path)] == path:
                return source
        return "config"


def load_settings(
    config_path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Layer defaults, the user file, ``config_path`` and the environment; validate.

    Raises :class:`ConfigError` with one line per problem (a missing ``config_path``, a file
    that cannot be read or is not TOML, a value out of bounds, an unknown key)."""
    environ = os.environ if environ is None else environ
    user_file = user_config_path()
    # The user's file where something is (a folder or a broken link there is refused).
    files = [user_file] if os.path.lexists(user_file) else []
    if config_path is not None:
        files.append(config_path)
    texts = {path: _read(path) for path in files}
    variables = {
        name: text
        for name, text in environ.items()
        if name.startswith(ENV_PREFIX) and name[len(ENV_PREFIX) :] and name not in NOT_SETTINGS
    }
    if not texts and not variables:
        return Settings()
    read = [(str(path), text) for path, text in texts.items() if isinstance(text, str)]
    key = config_cache.cache_key(read, variables) if len(read) == len(texts) else None
    cached = None if key is None else config_cache.load(key)
    if cached is not None:
        return cached
    settings = _validate_sources(texts, variables)
    if key is not None:
        config_cache.save(key, settings)
    return settings


def _read(path: Path) -> str | OSError:
    """A config file's text, or an ``OSError`` whose message says why there is none. Only
    regular files are read: a FIFO or /dev/zero would block or fill memory."""
    if not path.is_file():
        if path.is_symlink() and not path.exists():
            return OSError("not a config file: a link to nothing")
        if not path.exists():
            return OSError("no such config file")
        return OSError(f"not a config file: {kind_of(path.stat().st_mode)}")
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            megabytes = MAX_CONFIG_BYTES // 1_000_000
            return OSError(f"cannot be read: over {megabytes} MB: no config file is that long")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return OSError(f"cannot be read: {exc}")


def _validate_sources(
    texts: Mapping[Path, str | OSError], variables: Mapping[str, str]
) -> Settings:
    from pydantic import ValidationError

    layers = _Layers()
    problems: list[str] = []
    for path, text in texts.items():
        if isinstance(text, str):
            _add_text(layers, path, text, problems)
        else:
            problems.append(f"{path}: {text}")
    _add_environment(layers, variables, problems)
    if problems:
        raise ConfigError(problems)
    try:
        return validate_settings(layers.data)
    except ValidationError as exc:
        lines = [line for error in exc.errors() for line in _lines(error, layers)]
        raise ConfigError(lines) from None


@functools.cache
def _adapter() -> TypeAdapter[Settings]:
    from pydantic import TypeAdapter

    return TypeAdapter(Settings)


def validate_settings(data: Mapping[str, Any]) -> Settings:
    """Settings from raw values (sections as mappings, as TOML gives them), validated;
    raises ``pydantic.ValidationError``. :func:`load_settings` explains its errors."""
    return _adapter().validate_python(data)


def _add_text(layers: _Layers, path: Path, text: str, problems: list[str]) -> None:
    import tomllib

    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: not valid TOML: {exc}")
        return
    layers.add(values, str(path))


def _add_environment(layers: _Layers, variables: Mapping[str, str], problems: list[str]) -> None:
    for name, text in sorted(variables.items()):
        path = tuple(name[len(ENV_PREFIX) :].lower().split("__"))
        value: Any = _parse_env_value(text)
        for key in reversed(path[1:]):
            value = {key: value}
        layers.add({path[0]: value}, name)


def _parse_env_value(text: str) -> Any:
    """Environment values are TOML values where they parse (``10``, ``true``, ``["a"]``)."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _lines(error: Any, layers: _Layers) -> list[str]:
    """One line per problem: a broken order of a section is one line per pair."""
    found = error.get("ctx", {}).get("error")
    if isinstance(found, OrderError):
        section = tuple(str(part) for part in error["loc"])
        return [_describe_order(section, *broken, layers) for broken in found.broken]
    return [_describe(error, layers)]


def _describe_order(
    section: tuple[str, ...], order: Order, low: float, high: float, layers: _Layers
) -> str:
    """``SOURCE: pain.during_stop: must be above pain.during_caution (3 by default), got 2``:
    the line is about the key that was set (the higher one when both were), and names the
    other key with its value and where that came from."""
    low_path, high_path = (*section, order.low), (*section, order.high)
    if high_path in layers.origin or low_path not in layers.origin:
        key, value, other, other_value = high_path, high, low_path, low
        relation = "above" if order.strict else "at least"
    else:
        key, value, other, other_value = low_path, low, high_path, high
        relation = "below" if order.strict else "at most"
    source = layers.origin.get(key, "default")
    other_source = f"from {layers.origin[other]}" if other in layers.origin else "by default"
    return (
        f"{source}: {'.'.join(key)}: must be {relation} {'.'.join(other)} "
        f"({other_value!r} {other_source}), got {value!r}"
    )


def _describe(error: Any, layers: _Layers) -> str:
    loc = tuple(str(part) for part in error["loc"])
    source = layers.source_of(loc)
    key = ".".join(loc)
    kind = error["type"]
    value = error.get("input")
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"{source}: {key}: unknown setting{_suggest(loc)}"
    if kind == "value_error":
        message = str(error["ctx"]["error"])
    elif kind == "literal_error":
        message = f"must be one of {error['ctx']['expected']}"
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        message = "must be a whole number"
    elif kind in ("float_parsing", "float_type"):
        message = "must be a number"
    elif kind in ("bool_parsing", "bool_type"):
        message = "must be true or false"
    elif kind in ("string_type", "str_type"):
        message = 'must be text in quotes, e.g. "~/stridewatch.db"'
    elif kind.startswith("time"):
        message = "must be a time of day such as 21:00"
    elif kind in ("tuple_type", "list_type"):
        message = 'must be a list, e.g. ["C0:FF:EE:00:00:01"]'
    elif kind in ("model_type", "dict_type", "dataclass_type"):
        message = "must be a table of settings"
    else:
        message = str(error["msg"])
    return f"{source}: {key}: {message}, got {value!r}"


def _suggest(loc: tuple[str, ...]) -> str:
    import difflib

    section: Any = Settings()
    for part in loc[:-1]:
        section = getattr(section, part, None)
        if not dataclasses.is_dataclass(section):
            return ""
    names = [field.name for field in dataclasses.fields(section)]
    close = difflib.get_close_matches(loc[-1], names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def settings_as_toml(settings: Settings) -> str:
    """The effective settings as TOML text, for ``stridewatch config show``."""
    lines: list[str] = []
    data = settings_as_json(settings)
    for key, value in data.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]")
            lines.extend(f"{name} = {_toml_value(item)}" for name, item in value.items())
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        whole_minute = len(value) == 8 and value[2] == ":" and value.endswith(":00")
        text = value[:5] if whole_minute else value  # a time of day: 21:00, 21:30:15
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return repr(value)
