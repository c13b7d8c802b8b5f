"""What every command shares: the :class:`App` (the settings and the store, opened on first
use), the options accepted by many commands, the parsers of their values and the way output
is written (JSON, or wrapped sentences)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from agent.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])


class App:
    """Per-invocation state: where the config and database are, loaded on first use."""

    def __init__(self) -> None:
        self.config_path: Path | None = None
        self.db_path: Path | None = None
        self._settings: Any = None

    @property
    def settings(self) -> Any:
        from agent.config_load import load_settings

        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    def database(self) -> Path:
        """The database file: ``--db``, else the configured or XDG default."""
        return self.db_path or self.settings.db_path()

    def open_store(self) -> Any:
        from agent.store import Store

        busy_timeout_s = self.settings.database.busy_timeout_s
        return Store.open(self.database(), busy_timeout_s=busy_timeout_s)


def _set_db(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.ensure_object(App).db_path = value


def _set_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.ensure_object(App).config_path = value


def db_option(func: F) -> F:
    """``--db PATH``, accepted before or after the command name."""
    return click.option(
        "--db",
        type=click.Path(path_type=Path),  # what is there is checked by the store: one line
        metavar="FILE",
        expose_value=False,
        is_eager=True,
        callback=_set_db,
        help="SQLite database file (default: XDG data dir, or database.path in the config).",
    )(func)


def config_option(func: F) -> F:
    return click.option(
        "--config",
        type=click.Path(path_type=Path, dir_okay=False),
        expose_value=False,
        is_eager=True,
        callback=_set_config,
        help="Config file, layered over the user's config file.",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON.")(func)


pass_app = click.make_pass_decorator(App, ensure=True)


def with_app(func: F) -> F:
    """``--db`` and ``--config`` after the command name, and the :class:`App` passed in."""
    return db_option(config_option(cast(F, pass_app(func))))


AT_HELP = (
    "Evaluate at this instant, ISO 8601 (local time in the configured zone unless it has an "
    "offset); only runs and pain up to it count. Default: now."
)


def at_option(func: F) -> F:
    return click.option("--at", "at_text", metavar="DATETIME", help=AT_HELP)(func)


def instant(app: App, at_text: str | None) -> datetime:
    """``--at`` (within the configured date window), or now."""
    from agent import units

    if not at_text:
        return datetime.now(UTC)
    return units.parse_datetime(at_text, app.settings.zone, app.settings.date_window())


def parse_int(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{name} {text!r}: expected a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise InputError(f"{name} {value}: must be from {low} to {high}")
    return value


def say(text: str) -> None:
    """A message of a sentence or more on stdout, wrapped to the terminal (80 columns through
    a pipe), a command in it never cut."""
    from agent.views import text as views

    views.say(views.console(), text)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
