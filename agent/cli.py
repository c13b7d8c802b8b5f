"""The ``stridewatch`` command: parse, call the library, format. No rules and no SQL here.

Heavy imports (bleak, apscheduler, plyer, rich) happen inside the commands that need them,
so ``stridewatch --version`` and ``stridewatch check`` start fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from agent import __version__
from agent.errors import ConfigError, InputError, StridewatchError
from agent.models import PainReport, Run

F = TypeVar("F", bound=Callable[..., Any])

PAIN_WHEN = ("before", "during", "after", "morning")
PAIN_WHERE = ("knee", "hip", "thigh", "other")


class App:
    """Per-invocation state: where the config and database are, loaded on first use."""

    def __init__(self) -> None:
        self.config_path: Path | None = None
        self.db_path: Path | None = None
        self._settings: Any = None

    @property
    def settings(self) -> Any:
        from agent.config import load_settings

        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    def open_store(self) -> Any:
        from agent.store import Store

        settings = self.settings
        path = self.db_path or settings.db_path()
        return Store.open(path, busy_timeout_s=settings.database.busy_timeout_s)


class StridewatchGroup(click.Group):
    """A group that turns our errors into one line each and the right exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StridewatchError as exc:
            for line in str(exc).splitlines():
                click.echo(f"stridewatch: {line}", err=True)
            ctx.exit(exc.exit_code)


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
        type=click.Path(path_type=Path, dir_okay=False),
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


@click.group(
    cls=StridewatchGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Example: stridewatch log-run --at 2026-11-20T07:30 --distance 6km --duration 36:00",
)
@click.version_option(__version__, "--version", prog_name="stridewatch")
@db_option
@config_option
def cli() -> None:
    """stridewatch watches your running load and warns before it jumps.

    It records runs from Bluetooth footpods and heart-rate straps (or what you log by
    hand), keeps them in a local SQLite file, and applies progression and pain rules.
    """


# -- manual logging ---------------------------------------------------------------------


@cli.command(
    "log-run",
    epilog="Example: stridewatch log-run --at 2026-11-20T07:30 "
    "--distance 6km --duration 36:00 --rpe 4",
)
@click.option(
    "--at",
    "at_text",
    metavar="DATETIME",
    help="Start, ISO 8601; local time in the configured zone unless it has an "
    "offset. Default: now minus the duration.",
)
@click.option(
    "--distance",
    "distance_text",
    required=True,
    metavar="D",
    help="6km, 6000m, 3.7mi, or a bare number in the configured unit.",
)
@click.option(
    "--duration", "duration_text", required=True, metavar="T", help="36:00, 1:05:00, 45m or 1h5m."
)
@click.option("--rpe", type=str, metavar="N", help="Session effort 0-10 (RPE).")
@click.option("--avg-hr", type=str, metavar="N", help="Average heart rate, beats/min.")
@click.option("--note", help="Free text.")
@db_option
@config_option
@pass_app
def log_run(
    app: App,
    at_text: str | None,
    distance_text: str,
    duration_text: str,
    rpe: str | None,
    avg_hr: str | None,
    note: str | None,
) -> None:
    """Log a run without a footpod (treadmill, phone, before stridewatch). Prints its id."""
    from agent import logging_ops, units

    settings = app.settings
    distance_m = units.parse_distance(distance_text, settings.units)
    duration_s = units.parse_duration(duration_text)
    units.check_pace(distance_m, duration_s)
    started = (
        units.parse_datetime(at_text, settings.zone)
        if at_text is not None
        else datetime.now(UTC) - timedelta(seconds=duration_s)
    )
    rpe_value = _parse_int(rpe, "--rpe", 0, 10) if rpe is not None else None
    hr_value = _parse_int(avg_hr, "--avg-hr", 25, 250) if avg_hr is not None else None
    with app.open_store() as store:
        run_id = logging_ops.log_run(
            store,
            started_at=started,
            distance_m=distance_m,
            duration_s=duration_s,
            rpe=rpe_value,
            avg_hr=hr_value,
            note=note,
        )
    click.echo(run_id)


@cli.command("pain", epilog="Example: stridewatch pain 3 --when after --where knee")
@click.argument("score_text", metavar="SCORE")
@click.option(
    "--when",
    "when",
    required=True,
    type=click.Choice(PAIN_WHEN),
    help="Before, during or after a run, or on waking.",
)
@click.option("--at", "at_text", metavar="DATETIME", help="When, ISO 8601. Default: now.")
@click.option("--where", "where", type=click.Choice(PAIN_WHERE), help="Where it hurts.")
@click.option("--run", "run_id", type=str, metavar="ID", help="The run it relates to.")
@click.option("--note", help="Free text.")
@db_option
@config_option
@pass_app
def pain(
    app: App,
    score_text: str,
    when: str,
    at_text: str | None,
    where: str | None,
    run_id: str | None,
    note: str | None,
) -> None:
    """Log a pain score from 0 (none) to 10 (worst). Prints its id."""
    from agent import units

    settings = app.settings
    score = _parse_int(score_text, "SCORE", 0, 10)
    at = units.parse_datetime(at_text, settings.zone) if at_text else datetime.now(UTC)
    run = _parse_int(run_id, "--run", 1, 2**62) if run_id is not None else None
    with app.open_store() as store:
        pain_id = store.add_pain(at=at, score=score, when=when, where=where, run_id=run, note=note)
    click.echo(pain_id)


def _parse_int(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{name} {text!r}: expected a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise InputError(f"{name} {value}: must be from {low} to {high}")
    return value


# -- listing ----------------------------------------------------------------------------


@cli.command("runs", epilog="Example: stridewatch runs --json")
@json_option
@db_option
@config_option
@pass_app
def runs(app: App, as_json: bool) -> None:
    """List stored runs, oldest first."""
    from agent import views

    with app.open_store() as store:
        stored = store.runs()
    if as_json:
        _echo_json([views.run_json(run) for run in stored])
    else:
        views.print_runs(stored, app.settings)


@cli.command("pain-log", epilog="Example: stridewatch pain-log --json")
@json_option
@db_option
@config_option
@pass_app
def pain_log(app: App, as_json: bool) -> None:
    """List stored pain reports, oldest first."""
    from agent import views

    with app.open_store() as store:
        reports = store.pain_reports()
    if as_json:
        _echo_json([views.pain_json(report) for report in reports])
    else:
        views.print_pain(reports, app.settings)


# -- config -----------------------------------------------------------------------------


@cli.group(
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
@config_option
@pass_app
def config_show(app: App) -> None:
    """Print the effective settings as TOML."""
    from agent.config import settings_as_toml

    click.echo(settings_as_toml(app.settings), nl=False)


@config_group.command("path", epilog="Example: stridewatch config path")
@pass_app
def config_path(app: App) -> None:
    """Print where the user config file is read from (it need not exist)."""
    from agent.config import user_config_path

    click.echo(user_config_path())


# -- sensors: decode, scan, pair (agent/sensors) ---------------------------------------


# -- recording: show, rpe, calibrate, export, import (agent/recorder.py) ----------------


# -- load and rules: check, summary, alerts, what-if, plan (agent/load.py, rules/) -----


# -- daemon: notify-test, service (agent/notify.py, agent/service.py) ---------------------


@cli.command("notify-test", epilog="Example: stridewatch notify-test")
@config_option
@pass_app
def notify_test(app: App) -> None:
    """Send one test desktop notification and report exactly what happened."""
    import asyncio

    from agent.notify import Notifier

    notifier = Notifier(enabled=app.settings.notifications.enabled)
    delivery = asyncio.run(
        notifier.send("stridewatch test notification", "If you can read this, alerts reach you.")
    )
    click.echo(("delivered: " if delivery.delivered else "not delivered: ") + delivery.detail)
    if not delivery.delivered:
        raise SystemExit(1)


@cli.group("service", cls=StridewatchGroup, epilog="Example: stridewatch service install")
def service_group() -> None:
    """Install, remove or inspect the systemd user service that runs the daemon at login."""


def _report_steps(steps: list[Any]) -> None:
    for step in steps:
        click.echo(("ok    " if step.ok else "FAIL  ") + step.text)
    if not all(step.ok for step in steps):
        raise SystemExit(1)


@service_group.command("install", epilog="Example: stridewatch service install")
@db_option
@config_option
@pass_app
def service_install(app: App) -> None:
    """Write the user unit with this stridewatch's path, reload systemd and enable it."""
    from agent import service

    path = app.db_path or app.settings.db_path()
    steps = service.install(f"{service.executable()} run", [str(path.parent)])
    click.echo("stridewatch will start with your desktop session and watch for your sensors.")
    _report_steps(steps)


@service_group.command("uninstall", epilog="Example: stridewatch service uninstall")
def service_uninstall() -> None:
    """Disable and stop the service and remove its unit file (your data stays)."""
    from agent import service

    _report_steps(service.uninstall())


@service_group.command("status", epilog="Example: stridewatch service status")
def service_status() -> None:
    """Show whether the unit is installed, enabled and running."""
    from agent import service

    for step in service.status():
        click.echo(("yes   " if step.ok else "no    ") + step.text)


# -- demo -------------------------------------------------------------------------------


@cli.command("demo", epilog="Example: stridewatch demo --db /tmp/demo.db")
@db_option
@config_option
@pass_app
def demo(app: App) -> None:
    """Show stridewatch at work on simulated data, in a temporary database."""
    from agent import demo as demo_mod

    demo_mod.run_demo(app)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        cli.main(args=argv, prog_name="stridewatch")
    except ConfigError as exc:  # raised outside a group's invoke, e.g. while parsing
        for line in exc.problems:
            click.echo(f"stridewatch: {line}", err=True)
        sys.exit(exc.exit_code)


__all__ = ["App", "PainReport", "Run", "cli", "main"]
