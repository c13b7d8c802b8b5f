"""``stridewatch config``: check, show or locate the configuration."""

from __future__ import annotations

import click

from agent.cli.app import App, config_option, echo_json, json_option, pass_app
from agent.cli.group import StridewatchGroup


@click.group(
    "config",
    cls=StridewatchGroup,
    epilog="Example: stridewatch config check --config ~/my-stridewatch.toml",
)
def config_group() -> None:
    """Check, show or locate the configuration."""


@config_group.command("check", epilog="Example: stridewatch config check")
@config_option
@pass_app
def config_check(app: App) -> None:
    """Validate every config source; one line per problem, exit status 2 if any."""
    from agent.config import user_config_path

    app.settings  # noqa: B018 - loading is the check; errors propagate as ConfigError
    sources = [str(p) for p in (user_config_path(), app.config_path) if p and p.is_file()]
    click.echo("config OK" + (f" ({', '.join(sources)})" if sources else " (defaults)"))


@config_group.command("show", epilog="Example: stridewatch config show > my-config.toml")
@json_option
@config_option
@pass_app
def config_show(app: App, as_json: bool) -> None:
    """Print the effective settings as TOML (or JSON: the same sections and keys)."""
    from agent.config_cache import settings_as_json
    from agent.config_load import settings_as_toml

    if as_json:
        echo_json(settings_as_json(app.settings))
        return
    click.echo(settings_as_toml(app.settings), nl=False)


@config_group.command("path", epilog="Example: stridewatch config path")
@pass_app
def config_path(app: App) -> None:
    """Print where the user config file is read from (it need not exist)."""
    from agent.config import user_config_path

    click.echo(user_config_path())
