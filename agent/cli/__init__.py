"""The ``stridewatch`` command: parse, call the library, format. No rules and no SQL here.

This package holds the ``cli`` group and its entry point; each family of commands is a
module of its own (manual logging, listing, config, sensors, recording, advice, daemon,
reports, sync, demo), what they share is :mod:`agent.cli.app` and the click classes they
are made of :mod:`agent.cli.group`. Those modules never import this one.

Heavy imports (bleak, apscheduler, plyer, rich) happen inside the commands that need them,
so ``stridewatch --version`` and ``stridewatch check`` start fast.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence

import click

from agent import __version__
from agent.cli import (
    advice,
    config_cmd,
    daemon_cmd,
    demo_cmd,
    listing,
    manual,
    recording,
    reports,
    sensors,
    sync,
)
from agent.cli.app import App, config_option, db_option
from agent.cli.group import StridewatchGroup
from agent.errors import ConfigError
from agent.models import PainReport, Run


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


# In the order they were written before the split (`stridewatch -h` lists them by name).
cli.add_command(manual.log_run)
cli.add_command(manual.pain)
cli.add_command(listing.runs)
cli.add_command(listing.pain_log)
cli.add_command(config_cmd.config_group)
cli.add_command(sensors.scan)
cli.add_command(sensors.pair)
cli.add_command(sensors.decode)
cli.add_command(recording.show)
cli.add_command(recording.rpe_cmd)
cli.add_command(recording.calibrate)
cli.add_command(daemon_cmd.run_cmd)
cli.add_command(daemon_cmd.replay_cmd)
cli.add_command(recording.export)
cli.add_command(recording.import_)
cli.add_command(advice.check_cmd)
cli.add_command(advice.summary_cmd)
cli.add_command(advice.alerts_cmd)
cli.add_command(advice.what_if_cmd)
cli.add_command(advice.plan_group)
cli.add_command(advice.baseline_group)
cli.add_command(daemon_cmd.notify_test)
cli.add_command(daemon_cmd.service_group)
cli.add_command(reports.history_cmd)
cli.add_command(reports.report_cmd)
cli.add_command(sync.sync_group)
cli.add_command(demo_cmd.demo)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    # A path is passed on as given, UTF-8 or not (text is refused when not: see
    # _refuse_undecodable in agent/cli/group.py). Printed, it goes out as the bytes it came
    # in as, as `ls` prints it, where a UTF-8 locale's strict stdout would stop with a
    # UnicodeEncodeError.
    # So on stderr: an error naming a path (`--config $'km\xe9.toml'`: no such file) shows
    # it as its bytes, not as the lone surrogate Python's backslashreplace would write.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors in ("strict", "backslashreplace"):
            stream.reconfigure(errors="surrogateescape")
    try:
        cli.main(args=argv, prog_name="stridewatch")
    except ConfigError as exc:  # raised outside a group's invoke, e.g. while parsing
        for line in exc.problems:
            click.echo(f"stridewatch: {line}", err=True)
        sys.exit(exc.exit_code)


__all__ = ["App", "PainReport", "Run", "cli", "main"]
