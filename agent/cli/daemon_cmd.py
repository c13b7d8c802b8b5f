"""The daemon: ``stridewatch run`` records from the sensors, ``replay`` from a capture,
``notify-test`` tries the desktop notifications, ``service`` installs the daemon as a systemd
user service (agent/daemon)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from agent.cli.app import App, config_option, echo_json, json_option, pass_app, say, with_app
from agent.cli.group import StridewatchGroup, command, warn
from agent.errors import InputError

# Simulated or replayed time runs at most this many times faster than real time: 1000x
# plays an hour in 3.6 s. Beyond it a real-time clock only adds rounding (1e308 overflows
# the event loop's timeouts); run's inf and replay's --instant skip the waiting instead.
MAX_SPEEDUP = 1000.0


def _parse_speedup(text: str, *, virtual: bool) -> float:
    """``--speedup``: a number above 0 and at most :data:`MAX_SPEEDUP`; ``inf`` too when
    ``virtual`` (run's virtual clock). One line and exit status 2 for anything else."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if virtual and value == math.inf:
        return value
    if not 0 < value <= MAX_SPEEDUP:  # also refuses nan
        also = ", or inf" if virtual else ""
        raise InputError(
            f"--speedup {text!r}: expected a number above 0 and at most {MAX_SPEEDUP:g}{also}",
            option="--speedup",
        )
    return value


@command(
    "run",
    epilog="Example: stridewatch run --simulate --speedup 60 -v",
)
@click.option("--simulate", is_flag=True, help="Record from the simulated footpod and strap.")
@click.option(
    "--speedup",
    "speedup_text",
    metavar="N",
    help="With --simulate: run simulated time N times faster than real time, up to "
    f"{MAX_SPEEDUP:g} (default 1); inf jumps from one event to the next on a virtual clock.",
)
@click.option(
    "--device",
    "devices",
    multiple=True,
    metavar="ADDRESS",
    help="Connect to this sensor (repeatable); default: sensors.allow in the config.",
)
@click.option(
    "--scenario",
    default="easy",
    show_default=True,
    help="With --simulate: which simulated run (for tests and demos): easy (30 min), "
    "short (5 min), long (90 min), intervals, pauses, hr-only (no footpod), standing, "
    "strides (a false start), low-battery (a footpod at 12%).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="With --simulate: seed.")
@click.option(
    "--capture",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE.jsonl",
    help="Also write every raw notification to this new file, one JSON line each, to "
    "attach to a bug report (see `stridewatch replay`).",
)
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@with_app
def run_cmd(
    app: App,
    simulate: bool,
    speedup_text: str | None,
    devices: tuple[str, ...],
    scenario: str,
    seed: int,
    capture: Path | None,
    verbose: bool,
) -> None:
    """Record runs from the sensors until stopped (SIGTERM or Ctrl-C flush and close)."""
    from agent.daemon import supervisor as daemon

    speedup = _parse_speedup(speedup_text, virtual=True) if speedup_text is not None else 1.0
    options = daemon.RunOptions(
        simulate=simulate,
        speedup=speedup,
        devices=devices,
        scenario=scenario,
        seed=seed,
        verbose=verbose,
        capture=capture,
    )
    settings = app.settings
    daemon.run(settings, app.database(), options)


@command(
    "replay",
    epilog="Example: stridewatch replay run.jsonl --instant --db /tmp/replay.db",
)
@click.argument("capture", metavar="FILE.jsonl", type=click.Path(path_type=Path))
@click.option(
    "--speedup",
    "speedup_text",
    metavar="N",
    help=f"Play the capture N times faster than it was recorded, up to {MAX_SPEEDUP:g} "
    "(default 1; beyond, use --instant: the same run, without waiting).",
)
@click.option("--instant", is_flag=True, help="No waiting between notifications.")
@click.option("--notify", is_flag=True, help="Send live alerts to the desktop, not stdout.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@with_app
def replay_cmd(
    app: App, capture: Path, speedup_text: str | None, instant: bool, notify: bool, verbose: bool
) -> None:
    """Record from a capture (`run --capture`) as the daemon would have: the same decoding,
    recorder and live alerts (printed unless --notify), into the database. Use --db for a
    scratch database: a replay of a run already recorded would store it again."""
    from agent.daemon import supervisor as daemon

    speedup = _parse_speedup(speedup_text, virtual=False) if speedup_text is not None else 1.0
    options = daemon.RunOptions(
        speedup=speedup,
        verbose=verbose,
        replay=capture,
        instant=instant,
        notify=notify,
    )
    daemon.run(app.settings, app.database(), options)


@command("notify-test", epilog="Example: stridewatch notify-test")
@json_option
@config_option
@pass_app
def notify_test(app: App, as_json: bool) -> None:
    """Send one test desktop notification and report exactly what happened."""
    import asyncio

    from agent.daemon.delivery import ICONS
    from agent.daemon.notify import Notifier

    notifier = Notifier(enabled=app.settings.notifications.enabled)
    delivery = asyncio.run(
        notifier.send(
            "stridewatch test notification",
            "If you can read this, alerts reach you.",
            icon=ICONS["info"],  # as an alert has one: the test looks like what it tests
        )
    )
    if as_json:
        echo_json({"delivered": delivery.delivered, "detail": delivery.detail})
    else:
        say(("delivered: " if delivery.delivered else "not delivered: ") + delivery.detail)
    if not delivery.delivered:
        raise SystemExit(1)


# Where a step's text starts, after its mark: "FAIL  wrote ...".
STEP_INDENT = 6


@click.group("service", cls=StridewatchGroup, epilog="Example: stridewatch service install")
def service_group() -> None:
    """Install, remove or inspect the systemd user service that runs the daemon at login."""


def _say_steps(steps: list[Any], marks: tuple[str, str]) -> None:
    """A mark (``ok``/``FAIL``, ``yes``/``no``) per step, then its text wrapped to the
    terminal beneath itself (systemctl's errors run long), commands kept whole."""
    from rich.text import Text

    from agent.views import text as views

    out = views.console()
    room = max(views.DETAIL_MIN, out.width - STEP_INDENT)
    for step in steps:
        mark = marks[0] if step.ok else marks[1]
        for n, line in enumerate(views.wrap(step.text, room)):
            views.emit(out, Text.assemble((mark if n == 0 else "").ljust(STEP_INDENT), line))


def _report_steps(steps: list[Any]) -> None:
    _say_steps(steps, ("ok", "FAIL"))
    if not all(step.ok for step in steps):
        raise SystemExit(1)


@service_group.command("install", epilog="Example: stridewatch service install")
@click.option(
    "--force", is_flag=True, help="Replace a unit file stridewatch did not write (or a link)."
)
@with_app
def service_install(app: App, force: bool) -> None:
    """Write the user unit with this stridewatch's path (and the --db and --config given
    here), reload systemd and enable it. Needs a systemd user manager: a desktop session,
    or `loginctl enable-linger`."""
    from agent.daemon import service
    from agent.store import database_file

    path = database_file(app.database())  # a link's target: the daemon writes beside it
    command = [service.executable()]
    if app.db_path is not None:
        command += ["--db", service.unit_word(str(app.db_path.expanduser().absolute()))]
    if app.config_path is not None:
        config = app.config_path.expanduser().absolute()
        command += ["--config", service.unit_word(str(config))]
    steps = service.install(" ".join([*command, "run"]), [str(path.parent)], force=force)
    if steps[0].ok:  # the unit is written: whether it can see the files it names
        _warn_private_tmp(
            path,
            "the daemon would record into another database there, lost "
            "when it stops: give a --db outside it",
        )
        if app.config_path is not None:
            _warn_private_tmp(app.config_path, "the daemon would not find this config there")
    if all(step.ok for step in steps):
        click.echo("stridewatch will start with your desktop session and watch for your sensors.")
    _report_steps(steps)


def _warn_private_tmp(path: Path, then: str) -> None:
    """A warning when the service would not see ``path`` (its PrivateTmp=yes)."""
    from agent.daemon import service

    tmp = service.in_private_tmp(path)
    if tmp is not None:
        warn(
            f"{path.expanduser().absolute()}: in {tmp}, which the service sees private and "
            f"empty (PrivateTmp=yes); {then}"
        )


@service_group.command("uninstall", epilog="Example: stridewatch service uninstall")
def service_uninstall() -> None:
    """Disable and stop the service and remove its unit file (your data stays)."""
    from agent.daemon import service

    _report_steps(service.uninstall())


@service_group.command("status", epilog="Example: stridewatch service status")
@json_option
def service_status(as_json: bool) -> None:
    """Show whether the unit is installed, enabled and running; exit status 0 when it is
    all three, 3 otherwise."""
    from agent.daemon import service

    steps = service.status()
    if as_json:
        installed, enabled, running = (step.ok for step in steps)
        unit = str(service.unit_path())
        echo_json({"unit": unit, "installed": installed, "enabled": enabled, "running": running})
    else:
        _say_steps(steps, ("yes", "no"))
    if not all(step.ok for step in steps):
        raise SystemExit(3)  # as `systemctl is-active`: not running (or not installed)
