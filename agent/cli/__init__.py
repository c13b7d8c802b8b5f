"""The ``stridewatch`` command: parse, call the library, format. No rules and no SQL here.

Heavy imports (bleak, apscheduler, plyer, rich) happen inside the commands that need them,
so ``stridewatch --version`` and ``stridewatch check`` start fast.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from agent import __version__
from agent.errors import ConfigError, InputError, StridewatchError
from agent.models import PainReport, Run

F = TypeVar("F", bound=Callable[..., Any])

PAIN_WHEN = ("before", "during", "after", "morning")
PAIN_WHERE = ("knee", "hip", "thigh", "other")
# A run logged with its end this far ahead of the clock is a typo or a plan, not a run done
# (a watch's clock a few minutes fast is neither).
FUTURE_SLACK = timedelta(minutes=10)


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

    def database(self) -> Path:
        """The database file: ``--db``, else the configured or XDG default."""
        return self.db_path or self.settings.db_path()

    def open_store(self) -> Any:
        from agent.store import Store

        busy_timeout_s = self.settings.database.busy_timeout_s
        return Store.open(self.database(), busy_timeout_s=busy_timeout_s)


class UsageLine(click.UsageError):
    """A usage error (an unknown option, a missing argument, a bad choice) said in one line,
    as every other bad input is, with the help to read; exit status 2."""

    def show(self, file: Any = None) -> None:
        message = " ".join(self.format_message().split())
        path = self.ctx.command_path if self.ctx is not None else "stridewatch"
        command = path.partition(" ")[2]
        where = f"{command}: " if command else ""
        click.echo(f"stridewatch: {where}{message} See '{path} -h'.", err=True)


# A group called without a command shows its help (click raises this usage error for it).
_HELP_ERRORS = (UsageLine, getattr(click.exceptions, "NoArgsIsHelpError", UsageLine))


@contextmanager
def _usage_in_one_line() -> Iterator[None]:
    try:
        yield
    except _HELP_ERRORS:
        raise
    except click.UsageError as exc:
        raise UsageLine(exc.format_message(), exc.ctx) from None


class StridewatchGroup(click.Group):
    """A group that turns our errors into one line each and the right exit status, click's
    usage errors too, and the library's warnings into one line each on stderr."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _usage_in_one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with _usage_in_one_line():
                if ctx.parent is not None:
                    return super().invoke(ctx)
                with _warnings_on_stderr():
                    return super().invoke(ctx)
        except StridewatchError as exc:
            for line in str(exc).splitlines():
                click.echo(f"stridewatch: {line}", err=True)
            ctx.exit(exc.exit_code)


# The library's loggers whose warnings a runner must see whatever the command: a stored
# row skipped because its date is unusable (agent/store/).
WARNING_LOGGERS = ("stridewatch.store",)


class _WarningLine(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"stridewatch: warning: {record.getMessage()}", err=True)


@contextmanager
def _warnings_on_stderr() -> Iterator[None]:
    """While a command runs, :data:`WARNING_LOGGERS` print ``stridewatch: warning: ...``
    lines on stderr (and only there: the daemon's log format does not repeat them)."""
    handler = _WarningLine(logging.WARNING)
    loggers = [logging.getLogger(name) for name in WARNING_LOGGERS]
    before = [(logger.propagate, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.WARNING)  # whatever a parent logger was set to
    try:
        yield
    finally:
        for logger, (propagate, level) in zip(loggers, before, strict=True):
            logger.removeHandler(handler)
            logger.propagate = propagate
            logger.setLevel(level)


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
@click.option("--future", is_flag=True, help="Log a run that ends in the future (a plan).")
@json_option
@with_app
def log_run(
    app: App,
    at_text: str | None,
    distance_text: str,
    duration_text: str,
    rpe: str | None,
    avg_hr: str | None,
    note: str | None,
    future: bool,
    as_json: bool,
) -> None:
    """Log a run without a footpod (treadmill, phone, before stridewatch). Prints its id on
    stdout; what was stored and what the rules now say go to stderr (with --json, all of it
    as one object on stdout)."""
    from agent import units
    from agent.files import manual as logging_ops

    settings = app.settings
    distance_m = units.parse_distance(distance_text, settings.units)
    duration_s = units.parse_duration(duration_text)
    units.check_pace(distance_m, duration_s)
    started = (
        units.parse_datetime(at_text, settings.zone, settings.date_window())
        if at_text is not None
        else datetime.now(UTC) - timedelta(seconds=duration_s)
    )
    ends = started + timedelta(seconds=duration_s)
    if not future and ends > datetime.now(UTC) + FUTURE_SLACK:
        raise InputError(
            f"--at {at_text}: that run would end in the future; log it once it is run "
            "(or add --future to log it anyway)",
            option="--at",
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
        if as_json:
            from agent.advice import checks
            from agent.views import text as views

            run = views.run_json(store.get_run(run_id), settings.zone)
            _echo_json({"run": run, **checks.verdict_json(store, settings, ends, run_id=run_id)})
            return
        what = (
            f"stored run {run_id}: {units.format_local(started, settings.zone)}, "
            f"{units.format_distance(distance_m, settings.units, 2)} in "
            f"{units.format_duration(duration_s)} "
            f"({units.format_pace(distance_m, duration_s, settings.units)})"
        )
        extras = [f"RPE {rpe_value}"] if rpe_value is not None else []
        extras += [f"{hr_value} bpm"] if hr_value is not None else []
        click.echo(", ".join([what, *extras]), err=True)
        _say_verdict(store, settings, ends, run_id=run_id)
    click.echo(run_id)


@cli.command(
    "pain",
    epilog="Example: stridewatch pain 3 --when after --where knee",
    # so that "pain -1" is a score out of range, not an unknown option
    context_settings={"ignore_unknown_options": True},
)
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
@json_option
@with_app
def pain(
    app: App,
    score_text: str,
    when: str,
    at_text: str | None,
    where: str | None,
    run_id: str | None,
    note: str | None,
    as_json: bool,
) -> None:
    """Log a pain score from 0 (none) to 10 (worst). Prints its id on stdout; what was stored
    and what the rules now say go to stderr (with --json, all of it as one object on
    stdout)."""
    from agent import units

    settings = app.settings
    score = _parse_int(score_text, "SCORE", 0, 10)
    at = _instant(app, at_text)
    run = _parse_int(run_id, "--run", 1, 2**62) if run_id is not None else None
    with app.open_store() as store:
        pain_id = store.add_pain(at=at, score=score, when=when, where=where, run_id=run, note=note)
        if as_json:
            from agent.advice import checks
            from agent.views import text as views

            report = PainReport(pain_id, at, score, cast(Any, when), cast(Any, where), run, note)
            verdict = checks.verdict_json(store, settings, at, pain_id=pain_id)
            _echo_json({"pain": views.pain_json(report, settings.zone), **verdict})
            return
        where_text = f", {where}" if where else ""
        about = f", about run {run}" if run is not None else ""
        click.echo(
            f"stored pain report {pain_id}: {score}/10 {when}{where_text}{about}, "
            f"{units.format_local(at, settings.zone)}",
            err=True,
        )
        _say_verdict(store, settings, at, pain_id=pain_id)
    click.echo(pain_id)


def _say_verdict(
    store: Any,
    settings: Any,
    at: datetime,
    *,
    pain_id: int | None = None,
    run_id: int | None = None,
) -> None:
    """What the rules now say, on stderr (stdout stays the id for scripts)."""
    from agent.advice import checks

    for line in checks.verdict(store, settings, at, pain_id=pain_id, run_id=run_id):
        click.echo(line, err=True)


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
@with_app
def runs(app: App, as_json: bool) -> None:
    """List stored runs, oldest first."""
    from agent.views import text as views

    with app.open_store() as store:
        stored = store.runs()
    if as_json:
        _echo_json([views.run_json(run, app.settings.zone) for run in stored])
    else:
        views.print_runs(stored, app.settings)


@cli.command("pain-log", epilog="Example: stridewatch pain-log --json")
@json_option
@with_app
def pain_log(app: App, as_json: bool) -> None:
    """List stored pain reports, oldest first."""
    from agent.views import text as views

    with app.open_store() as store:
        reports = store.pain_reports()
    if as_json:
        _echo_json([views.pain_json(report, app.settings.zone) for report in reports])
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
@json_option
@config_option
@pass_app
def config_show(app: App, as_json: bool) -> None:
    """Print the effective settings as TOML (or JSON: the same sections and keys)."""
    from agent.config import settings_as_toml

    if as_json:
        _echo_json(app.settings.model_dump(mode="json"))
        return
    click.echo(settings_as_toml(app.settings), nl=False)


@config_group.command("path", epilog="Example: stridewatch config path")
@pass_app
def config_path(app: App) -> None:
    """Print where the user config file is read from (it need not exist)."""
    from agent.config import user_config_path

    click.echo(user_config_path())


# -- sensors: decode, scan, pair (agent/sensors) ---------------------------------------


@cli.command("scan", epilog="Example: stridewatch scan --timeout 5 --json")
@click.option(
    "--timeout",
    "timeout_text",
    metavar="S",
    help="Seconds to listen, 0.1-120 (default: sensors.scan_timeout_s, 10).",
)
@json_option
@config_option
@pass_app
def scan(app: App, timeout_text: str | None, as_json: bool) -> None:
    """List footpods and heart-rate straps in range, strongest signal first.

    Allow-listed sensors (the ones stridewatch connects to) are marked; add one with
    `stridewatch pair ADDRESS`.
    """
    import asyncio

    from agent.sensors import ble

    settings = app.settings
    timeout = settings.sensors.scan_timeout_s
    if timeout_text is not None:
        timeout = _parse_seconds(timeout_text, "--timeout", 0.1, 120.0)
    found = asyncio.run(ble.scan(timeout))
    allowed = set(settings.sensors.allow)
    if as_json:
        _echo_json([_candidate_json(c, c.address in allowed) for c in found])
    elif not found:
        click.echo(
            f"No footpod or heart-rate strap heard in {timeout:g} s. Wake it (walk a few "
            "steps with the footpod, wet the strap's contacts) and scan again."
        )
    else:
        for c in found:
            mark = "*" if c.address in allowed else " "
            click.echo(f"{mark} {c.address}  {c.kind:<11}  {c.rssi:>4} dBm  {c.name or '-'}")
        click.echo("* = allow-listed. Add a sensor with: stridewatch pair ADDRESS")


def _candidate_json(candidate: Any, allowed: bool) -> dict[str, Any]:
    c = candidate
    return {
        "address": c.address,
        "name": c.name,
        "kind": c.kind,
        "kinds": list(c.kinds),
        "rssi": c.rssi,
        "allowed": allowed,
    }


def _parse_seconds(text: str, name: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{name} {text!r}: expected seconds, e.g. 5 or 2.5") from None
    if not low <= value <= high:
        raise InputError(f"{name} {value:g}: must be from {low:g} to {high:g} seconds")
    return value


@cli.command("pair", epilog="Example: stridewatch pair C0:FF:EE:00:00:01 --kind footpod")
@click.argument("address_text", metavar="ADDRESS")
@click.option(
    "--kind",
    type=click.Choice(["footpod", "hrm", "footpod+hrm"]),
    help="What the sensor is (footpod+hrm: one device with both services, such as a "
    "Wahoo TICKR X or a treadmill bridge; stridewatch subscribes to all it offers).",
)
@click.option("--name", help="A name to remember it by (default: what it advertises).")
@with_app
def pair(app: App, address_text: str, kind: str | None, name: str | None) -> None:
    """Allow stridewatch to connect to a sensor: adds ADDRESS to [sensors] allow.

    Writes the user config file (see `stridewatch config path`), keeping the rest of it,
    and records the sensor in the database. The sensor need not be in range.
    """
    from agent.config import user_config_path
    from agent.sensors.pairing import add_to_allow_list, parse_address

    address = parse_address(address_text)
    path = user_config_path()
    added = add_to_allow_list(path, address)
    with app.open_store() as store:
        store.add_device(address=address, kind=kind or "unknown", name=name)
    verb = "added to" if added else "already in"
    click.echo(f"{address} {verb} the allow-list ([sensors] allow) in {path}")


DECODE_KINDS = (
    "hrm",
    "rsc",
    "rsc-feature",
    "battery",
    "sc-response",
    "sensor-location",
    "body-location",
)


@cli.command(
    "decode",
    epilog="Example: stridewatch decode hrm 16 3c 11 04  (also 163c1104 or 0x16,0x3c,0x11,0x04)",
)
@click.argument("kind", metavar="KIND", type=click.Choice(DECODE_KINDS))
@click.argument("hex_parts", metavar="HEX", nargs=-1, required=True)
@json_option
def decode(kind: str, hex_parts: tuple[str, ...], as_json: bool) -> None:
    """Decode one GATT payload copied from a sensor (e.g. from nRF Connect or btmon).

    KIND: hrm (0x2A37), rsc (0x2A53), rsc-feature (0x2A54), battery (0x2A19),
    sc-response (0x2A55), sensor-location (0x2A5D), body-location (0x2A38).

    A payload cut short or with stray bytes shows every field that is complete, and a
    "left over" line (JSON: "leftover") counting the bytes not decoded.
    """
    from agent.sensors import gatt

    try:
        data = gatt.parse_hex(" ".join(hex_parts))
    except ValueError as exc:
        raise InputError(f"HEX: {exc}; expected e.g. '16 3c 11 04'", option="HEX") from None
    value = gatt.DECODERS[kind](data)
    if as_json:
        _echo_json(gatt.as_json(value))
        return
    for label, text in gatt.describe(value):
        click.echo(f"{label + ':':<17} {text}")


# -- recording: show, rpe, calibrate, export, import (agent/recording/recorder.py) ----------------


@cli.command("show", epilog="Example: stridewatch show 12 --json")
@click.argument("run_text", metavar="RUN")
@json_option
@with_app
def show(app: App, run_text: str, as_json: bool) -> None:
    """One run's totals, splits per km (or mile), heart-rate zones and load."""
    from agent.views import run as run_report

    run_id = _parse_int(run_text, "RUN", 1, 2**62)
    with app.open_store() as store:
        row = store.run_row(run_id)
        data = run_report.summary(row, store.run_samples(run_id), app.settings)
    if as_json:
        _echo_json(data)
    else:
        run_report.print_summary(data, app.settings)


@cli.command("rpe", epilog="Example: stridewatch rpe 12 4")
@click.argument("run_text", metavar="RUN")
@click.argument("rpe_text", metavar="N")
@json_option
@with_app
def rpe_cmd(app: App, run_text: str, rpe_text: str, as_json: bool) -> None:
    """Set a run's effort (RPE 0-10); stores its session-RPE load (RPE x minutes)."""
    from agent.recording import recorder

    run_id = _parse_int(run_text, "RUN", 1, 2**62)
    value = _parse_int(rpe_text, "N", 0, 10)
    with app.open_store() as store:
        load = recorder.set_rpe(store, run_id, value)
    if as_json:
        _echo_json({"run_id": run_id, "rpe": value, "session_rpe": round(load, 1)})
        return
    click.echo(f"run {run_id}: RPE {value}, session-RPE load {load:.0f}")


@cli.command(
    "calibrate",
    epilog="Example: stridewatch calibrate C0:FF:EE:00:00:01 --actual-distance 5km --run 12",
)
@click.argument("address")
@click.option("--factor", "factor_text", metavar="F", help="The factor itself, e.g. 1.03.")
@click.option(
    "--actual-distance",
    "actual_text",
    metavar="D",
    help="The measured length of a known course (5km, 3.1mi) run in --run.",
)
@click.option("--run", "run_text", metavar="ID", help="The recorded run over that course.")
@json_option
@with_app
def calibrate(
    app: App,
    address: str,
    factor_text: str | None,
    actual_text: str | None,
    run_text: str | None,
    as_json: bool,
) -> None:
    """Set a footpod's distance calibration factor (dated; old runs keep their own)."""
    from agent import units
    from agent.recording import recorder

    if (factor_text is None) == (actual_text is None):
        raise InputError("give either --factor F, or --actual-distance D with --run ID")
    with app.open_store() as store:
        if factor_text is not None:
            factor = recorder.calibrate_factor(store, address, _parse_float(factor_text))
        else:
            if run_text is None:
                raise InputError("--actual-distance needs --run ID: the run over that course")
            actual = units.parse_distance(actual_text or "", app.settings.units)
            run_id = _parse_int(run_text, "--run", 1, 2**62)
            factor = recorder.calibrate_from_run(store, address, actual, run_id)
    if as_json:
        _echo_json({"address": address.upper(), "factor": round(factor, 4)})
        return
    click.echo(f"{address.upper()}: calibration factor {factor:.4f} from now on")


def _parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"--factor {text!r}: expected a number such as 1.03") from None


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


@cli.command(
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


@cli.command(
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


@cli.command("export", epilog="Example: stridewatch export 12 --format fit -o long-run.fit")
@click.argument("run_text", metavar="RUN")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["fit"]),
    default="fit",
    show_default=True,
    help="File format (FIT: Garmin Connect, Strava and most training apps read it).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Where to write (default: stridewatch-run-ID-DATE.fit in the current folder).",
)
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@json_option
@with_app
def export(
    app: App, run_text: str, fmt: str, output: Path | None, force: bool, as_json: bool
) -> None:
    """Export a stored run as a FIT activity file; prints where it was written."""
    from agent import units
    from agent.files import fit as fitfile

    run_id = _parse_int(run_text, "RUN", 1, 2**62)
    with app.open_store() as store:
        run = store.get_run(run_id)
        path = output or Path(fitfile.default_file_name(run))
        # The samples are read in chunks as the file is written (a run can have millions).
        samples = store.iter_run_samples(run_id)
        result = fitfile.export_run(run, samples, path, zone=app.settings.zone, overwrite=force)
    if as_json:
        _echo_json(
            {
                "path": str(result.path),
                "format": fmt,
                "run_id": run_id,
                "records": result.records,
                "distance_km": round(run.distance_km, 3),
            }
        )
        return
    distance = units.format_distance(run.distance_m, app.settings.units, 2)
    click.echo(f"wrote {result.path} ({fmt.upper()}, {result.records} records, {distance})")


# A batch longer than this gets a progress bar (on a terminal, and not with --json).
PROGRESS_MIN_FILES = 20


@cli.command(
    "import",
    epilog=(
        "Example: stridewatch import ~/Downloads/export_12345.zip\n\n"
        "A file from a watch whose clock was never set: "
        "stridewatch import old-fr70.fit --at '2014-05-03 07:30'"
    ),
)
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="FILE..."
)
@click.option(
    "--sport",
    type=click.Choice(["run"]),
    help="Take each single-activity file as a run, whatever sport it names or its speed "
    "suggests (a run your app labelled as a ride).",
)
@click.option(
    "--at",
    "at_text",
    metavar="DATETIME",
    help="When the run started, for a file whose device clock was never set (no date in "
    "it); local time in the configured zone unless it has an offset.",
)
@json_option
@with_app
def import_(
    app: App, paths: tuple[Path, ...], sport: str | None, at_text: str | None, as_json: bool
) -> None:
    """Import runs from FIT, TCX and GPX files (maybe .gz), folders of them, and zip exports
    (Strava's with its activities.csv, Garmin Connect's).

    Runs only: rides, walks, other sports and a triathlon's other legs are skipped, each
    with its reason; every run leg of a multisport file is a run of its own. The same run
    from two sources (overlapping in time) is stored once, keeping the better record (FIT
    over TCX over GPX, any file over a run logged by hand). A file that cannot be read gets
    one line and the rest goes on. Exit status 0 when at least one run was imported or
    already stored, 2 when none was.
    """
    from agent import units
    from agent.files import importer
    from agent.recording.intensity import HeartProfile

    window = app.settings.date_window()
    at = units.parse_datetime(at_text, app.settings.zone, window) if at_text else None
    runner = app.settings.runner
    heart = HeartProfile(runner.max_hr, runner.resting_hr, runner.sex)
    options = importer.ImportOptions(
        sport="run" if sport else None, at=at, heart=heart, window=window
    )
    with importer.Batch(paths) as batch:
        if not batch.inputs and all(note.status == "skipped" for note in batch.notes):
            raise InputError("no FIT, TCX or GPX files found in " + ", ".join(map(str, paths)))
        if sport and len(batch.inputs) > 1:
            raise InputError(
                f"--sport run is for one file at a time ({len(batch.inputs)} files given): "
                "a folder or an export holds walks and rides too"
            )
        with app.open_store() as store:
            outcomes = _import_with_progress(store, batch, options, as_json, app.settings.units)
    counts = importer.summary(outcomes)
    if as_json:
        files = [_outcome_json(o.as_json(), app.settings.zone) for o in outcomes]
        _echo_json({"files": files, **counts})
    else:
        click.echo(", ".join(f"{n} {status}" for status, n in counts.items()))
    importer.check_batch(outcomes)


def _outcome_json(data: dict[str, Any], zone: Any) -> dict[str, Any]:
    """An imported activity's JSON with its start in the runner's zone, as every time."""
    from agent import units

    if data.get("started_at"):
        data["started_at"] = units.local_iso(datetime.fromisoformat(data["started_at"]), zone)
    return data


def _import_with_progress(
    store: Any, batch: Any, options: Any, quiet: bool, unit: Any
) -> list[Any]:
    """Import the batch, a line per outcome as each is known; a bar over the files for long
    batches on a terminal."""
    from agent.files import importer

    notes: list[importer.Outcome] = list(batch.notes)
    if quiet:
        return notes + importer.import_inputs(store, batch.inputs, options)
    if len(batch.inputs) <= PROGRESS_MIN_FILES or not sys.stdout.isatty():
        for note in notes:
            click.echo(note.line(unit))
        echo = lambda o: click.echo(o.line(unit))  # noqa: E731
        return notes + importer.import_inputs(store, batch.inputs, options, echo)
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("importing", total=len(batch.inputs))

        def said(outcome: importer.Outcome) -> None:
            progress.console.print(outcome.line(unit), markup=False, highlight=False)

        for note in notes:
            said(note)
        return notes + importer.import_inputs(
            store, batch.inputs, options, said, lambda _: progress.advance(task)
        )


# -- load and rules: check, summary, alerts, what-if, plan (agent/rules/load.py, rules/) -----


AT_HELP = (
    "Evaluate at this instant, ISO 8601 (local time in the configured zone unless it has an "
    "offset); only runs and pain up to it count. Default: now."
)


def at_option(func: F) -> F:
    return click.option("--at", "at_text", metavar="DATETIME", help=AT_HELP)(func)


def _instant(app: App, at_text: str | None) -> datetime:
    """``--at`` (within the configured date window), or now."""
    from agent import units

    if not at_text:
        return datetime.now(UTC)
    return units.parse_datetime(at_text, app.settings.zone, app.settings.date_window())


@cli.command("check", epilog="Example: stridewatch check --at 2026-11-20T21:00 --json")
@at_option
@json_option
@with_app
def check_cmd(app: App, at_text: str | None, as_json: bool) -> None:
    """This week's distance, cap and what is left, load context and alerts; stores the
    alerts that are new or escalated."""
    from agent.advice import checks

    at = _instant(app, at_text)
    with app.open_store() as store:
        assessment, _ = checks.check(store, app.settings, at)
    if as_json:
        _echo_json(checks.check_json(assessment, app.settings))
    else:
        from agent.views import check as views_check

        views_check.print_check(assessment, app.settings)


@cli.command("summary", epilog="Example: stridewatch summary --week 2026-11-16")
@at_option
@click.option("--week", "week_text", metavar="DATE", help="Any day of the week to summarise.")
@json_option
@with_app
def summary_cmd(app: App, at_text: str | None, week_text: str | None, as_json: bool) -> None:
    """The week's runs and distance against last week and the cap, load, pain, alerts, and
    what remains for the rest of the week. Stores nothing."""
    from agent import units
    from agent.advice import checks

    week = units.parse_date(week_text, app.settings.date_window(), "--week") if week_text else None
    at = _instant(app, at_text)
    with app.open_store() as store:
        result = checks.summary(store, app.settings, at, week)
    if as_json:
        _echo_json(checks.summary_json(result, app.settings))
    else:
        from agent.views import check as views_check

        views_check.print_summary(result, app.settings)


@cli.command("alerts", epilog="Example: stridewatch alerts --since 2026-11-01 --json")
@click.option("--since", "since_text", metavar="DATETIME", help="Only alerts raised since.")
@json_option
@with_app
def alerts_cmd(app: App, since_text: str | None, as_json: bool) -> None:
    """Alerts raised so far: when, rule, severity, for which run, whether delivered."""
    from agent.advice import checks

    since = _instant(app, since_text) if since_text else None
    with app.open_store() as store:
        stored = store.stored_alerts(since=since)
    if as_json:
        _echo_json([checks.stored_alert_json(alert, app.settings) for alert in stored])
    else:
        from agent.views import check as views_check

        views_check.print_stored_alerts(stored, app.settings)


@cli.command(
    "what-if",
    epilog="Example: stridewatch what-if 18km --at 2026-11-22T08:00, or "
    'stridewatch what-if --week "tue 8km, thu 10km, sun 18km"',
)
@click.argument("distance_text", metavar="[DISTANCE]", required=False)
@click.option(
    "--week",
    "week_text",
    metavar="PLAN",
    help='Planned runs, e.g. "tue 8km, thu 10km, sun 18km": each on the next such day '
    "(or an ISO date), at the time of --at.",
)
@at_option
@json_option
@with_app
def what_if_cmd(
    app: App, distance_text: str | None, week_text: str | None, at_text: str | None, as_json: bool
) -> None:
    """The alerts planned runs would raise, by the same rules as check. Stores nothing."""
    from agent import units
    from agent.advice import checks

    settings = app.settings
    at = _instant(app, at_text)
    if (distance_text is None) == (week_text is None):
        raise InputError('give a DISTANCE (what-if 18km) or --week "tue 8km, sun 18km", not both')
    if week_text is not None:
        plan = checks.parse_week(week_text, settings, at)
    else:
        plan = [(at, units.parse_distance(distance_text or "", settings.units))]
    result = checks.what_if_at(app.database(), settings, plan)
    if as_json:
        _echo_json(checks.what_if_json(result, settings))
    else:
        from agent.views import check as views_check

        views_check.print_what_if(result, settings)


@cli.group("plan", cls=StridewatchGroup, epilog="Example: stridewatch plan return --usual 6-8mi")
def plan_group() -> None:
    """A graded return-to-run plan: build it, and see where you are in it."""


@plan_group.command(
    "return", epilog="Example: stridewatch plan return --usual 6-8mi --start 2-3mi --weeks 10"
)
@click.option("--usual", "usual_text", required=True, metavar="RANGE", help="Usual run, 6-8mi.")
@click.option("--start", "start_text", metavar="RANGE", help="First week's runs (2-3mi).")
@click.option("--weeks", "weeks_text", metavar="N", help="Weeks to reach the usual run.")
@click.option(
    "--at",
    "at_text",
    metavar="DATETIME",
    help="When the plan starts (its first week). Default: now.",
)
@json_option
@with_app
def plan_return(
    app: App,
    usual_text: str,
    start_text: str | None,
    weeks_text: str | None,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Build and store a week-by-week return plan: start low at RPE 3-4, add 10-15% a
    week while pain stays quiet, up to your usual run. Replaces any earlier plan."""
    from agent.advice import checks
    from agent.views import check as views_check

    settings = app.settings
    usual = checks.parse_range(usual_text, "--usual", settings.units)
    start = checks.parse_range(start_text, "--start", settings.units) if start_text else None
    weeks = _parse_int(weeks_text, "--weeks", 1, 52) if weeks_text is not None else None
    at = _instant(app, at_text)
    with app.open_store() as store:
        checks.start_plan(store, settings, at, usual_km=usual, start_km=start, weeks=weeks)
        status = checks.plan_status(store, settings, at)
    if as_json:
        _echo_json(checks.plan_json(status, settings))
    else:
        views_check.print_plan(status, settings)


@plan_group.command("show", epilog="Example: stridewatch plan show --json")
@at_option
@json_option
@with_app
def plan_show(app: App, at_text: str | None, as_json: bool) -> None:
    """The active plan, this week's target and whether it advances, holds or steps back."""
    from agent.advice import checks

    at = _instant(app, at_text)
    with app.open_store() as store:
        status = checks.plan_status(store, app.settings, at)
    if as_json:
        _echo_json(checks.plan_json(status, app.settings))
    else:
        from agent.views import check as views_check

        views_check.print_plan(status, app.settings)


@cli.group(
    "baseline",
    cls=StridewatchGroup,
    epilog="Example: stridewatch baseline set --week 25km --long 10km",
)
def baseline_group() -> None:
    """Declare your current level when stridewatch has no history of yours yet."""


@baseline_group.command("set", epilog="Example: stridewatch baseline set --week 25km --long 10km")
@click.option("--week", "week_text", required=True, metavar="DISTANCE", help="A usual week, 25km.")
@click.option(
    "--long", "long_text", required=True, metavar="DISTANCE", help="Your longest recent run."
)
@click.option("--at", "at_text", metavar="DATETIME", help="When it applies from. Default: now.")
@json_option
@with_app
def baseline_set(
    app: App, week_text: str, long_text: str, at_text: str | None, as_json: bool
) -> None:
    """Store your usual week and longest recent run. They stand in for the baseline week and
    the 30-day longest run until two weeks of your own runs are logged or imported."""
    from agent import units

    settings = app.settings
    week_km = units.parse_distance(week_text, settings.units) / 1000
    long_km = units.parse_distance(long_text, settings.units) / 1000
    # A week of 1-250 km and a long run of 0.5-100 km: outside them it is a typo.
    for option, text, km, low, high in (
        ("--week", week_text, week_km, 1.0, 250.0),
        ("--long", long_text, long_km, 0.5, 100.0),
    ):
        if not low <= km <= high:
            raise InputError(
                f"{option} {text}: expected {units.format_km(low, settings.units)} to "
                f"{units.format_km(high, settings.units, 0)}"
            )
    if long_km > week_km:
        raise InputError(f"--long {long_text}: longer than the --week {week_text} it belongs to")
    at = _instant(app, at_text)
    with app.open_store() as store:
        store.declare_level(week_km=week_km, long_km=long_km, at=at)
    if as_json:
        _echo_json(
            {
                "set_at": units.local_iso(at, settings.zone),
                "baseline_km": round(week_km, 3),
                "longest_run_30d_km": round(long_km, 3),
            }
        )
    else:
        click.echo(
            f"Declared: a usual week of {units.format_km(week_km, settings.units)} and a "
            f"longest run of {units.format_km(long_km, settings.units)},\nused until two "
            "weeks of your own runs exist."
        )


# -- daemon: notify-test, service (agent/daemon/notify.py, agent/daemon/service.py) ----------------


@cli.command("notify-test", epilog="Example: stridewatch notify-test")
@json_option
@config_option
@pass_app
def notify_test(app: App, as_json: bool) -> None:
    """Send one test desktop notification and report exactly what happened."""
    import asyncio

    from agent.daemon.notify import Notifier

    notifier = Notifier(enabled=app.settings.notifications.enabled)
    delivery = asyncio.run(
        notifier.send("stridewatch test notification", "If you can read this, alerts reach you.")
    )
    if as_json:
        _echo_json({"delivered": delivery.delivered, "detail": delivery.detail})
    else:
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
    if all(step.ok for step in steps):
        click.echo("stridewatch will start with your desktop session and watch for your sensors.")
    _report_steps(steps)


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
        _echo_json({"unit": unit, "installed": installed, "enabled": enabled, "running": running})
    else:
        for step in steps:
            click.echo(("yes   " if step.ok else "no    ") + step.text)
    if not all(step.ok for step in steps):
        raise SystemExit(3)  # as `systemctl is-active`: not running (or not installed)


# -- reports: history, report (agent/views/report.py) --


def weeks_option(func: F) -> F:
    return click.option(
        "--weeks",
        "weeks_text",
        metavar="N",
        help="How many weeks up to --at, 1-104 (default 12).",
    )(func)


def _overview(app: App, weeks_text: str | None, at_text: str | None) -> Any:
    from agent.views import report

    settings = app.settings
    weeks = report.DEFAULT_WEEKS
    if weeks_text is not None:
        weeks = _parse_int(weeks_text, "--weeks", 1, report.MAX_WEEKS)
    return report.load_overview(app.database(), settings, _instant(app, at_text), weeks)


@cli.command("history", epilog="Example: stridewatch history --weeks 16")
@weeks_option
@at_option
@json_option
@with_app
def history_cmd(app: App, weeks_text: str | None, at_text: str | None, as_json: bool) -> None:
    """Weekly distance as a bar chart with each week's cap marked, the weeks over it
    highlighted, and the pain reported each day. Stores nothing."""
    from agent.views import history as history_view

    view = _overview(app, weeks_text, at_text)
    if as_json:
        _echo_json(history_view.history_json(view, app.settings))
    else:
        history_view.print_history(view, app.settings)


@cli.command("report", epilog="Example: stridewatch report --weeks 16 -o report.html")
@weeks_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Where to write (default: stridewatch-report-DATE.html in the current folder).",
)
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@at_option
@json_option
@with_app
def report_cmd(
    app: App,
    weeks_text: str | None,
    output: Path | None,
    force: bool,
    at_text: str | None,
    as_json: bool,
) -> None:
    """One self-contained HTML file for a physiotherapist: weekly distance against the caps,
    longest runs against the 30-day rule, load ratio as context, pain, alerts with their
    reasons, the return-to-run plan, and each threshold's source. Works offline, prints on
    A4. Stores nothing."""
    from agent.views import report

    view = _overview(app, weeks_text, at_text)
    path = output or Path(report.default_file_name(view, app.settings))
    written = report.write_report(view, app.settings, path, force=force)
    if as_json:
        _echo_json({"path": str(written), "week_count": len(view.weeks)})
        return
    click.echo(f"wrote {written} ({len(view.weeks)} weeks)")


# -- sync folders (agent/files/sync.py, agent/files/watch.py) -----------------------------------


@cli.group(
    "sync",
    cls=StridewatchGroup,
    invoke_without_command=True,
    epilog="Example: stridewatch sync add ~/Sync/Gadgetbridge; stridewatch sync --once",
)
@click.option("--once", is_flag=True, help="One pass over the folders now, without the daemon.")
@json_option
@db_option
@config_option
@click.pass_context
def sync_group(ctx: click.Context, once: bool, as_json: bool) -> None:
    """Folders of activity files from a watch or a phone, imported as they land.

    The daemon (stridewatch run) watches the folders in sync.folders: each new FIT, TCX or
    GPX file (gzipped or not) or zip export is imported once, as `stridewatch import` would,
    and a synced run gets its verdict at once. `sync --once` does one pass (for cron).
    """
    if ctx.invoked_subcommand is not None:
        if once:
            raise InputError("--once is a pass of its own: give it without a subcommand")
        return
    if not once:
        click.echo(ctx.get_help())
        return
    _sync_once(ctx.ensure_object(App), as_json)


def _sync_once(app: App, as_json: bool) -> None:
    from datetime import UTC, datetime

    from agent.files import sync
    from agent.files.watch import Settler, activity_files

    settings = app.settings
    if not settings.sync.folders:
        raise InputError("no sync folders: add one with `stridewatch sync add PATH`")
    folders = [Path(f).expanduser() for f in settings.sync.folders]
    settler = Settler(settings.sync.settle_s)
    missing = [folder for folder in folders if not folder.is_dir()]
    for folder in folders:
        for path in activity_files(folder):
            settler.seen(path)
    due = settler.due()
    waiting = len(settler)  # still being written: the next pass takes them
    found = [(path, sync.folder_of(path, folders)) for path in due]
    now = datetime.now(UTC)
    said = (lambda _result: None) if as_json else (lambda result: click.echo(result.line()))
    results, verdict = sync.sync_pass(
        app.database(), settings, found, now, keep_verdict=True, say=said
    )
    if as_json:
        message = verdict.alert.message if verdict is not None else None
        files = [r.as_json() for r in results]
        _echo_json({"files": files, "verdict": message, "still_being_written": waiting})
        return
    if verdict is not None:
        click.echo(verdict.alert.message)
    if not results:
        click.echo("nothing new in " + ", ".join(map(str, folders)))
    for folder in missing:
        click.echo(f"{folder}: not there now (a watch not plugged in?)")
    if waiting:
        click.echo(f"{waiting} file(s) still being written: the next pass takes them")


# System folders no activity file lands in: watching them would read the whole machine.
NOT_SYNC_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))


def _sync_folder_arg(text: str) -> Path:
    """A folder as the config keeps it: absolute and normalised (``..`` resolved, links
    kept), ``~`` kept for the home folder. The root and system folders are refused."""
    if not text.strip():
        raise InputError("PATH: give the folder the activity files land in", option="PATH")
    path = Path(os.path.normpath(Path(text).expanduser().absolute()))
    if path == Path("/") or any(path == p or p in path.parents for p in NOT_SYNC_FOLDERS):
        raise InputError(
            f"{path}: a system folder, not where activity files land; give the folder of "
            "the watch's or the phone's files",
            option="PATH",
        )
    home = Path.home()
    return Path("~") / path.relative_to(home) if home in path.parents else path


def _edit_sync_folders(add: Path | None, remove: Path | None) -> tuple[bool, Path]:
    from agent.config import user_config_path
    from agent.config_edit import edit_list

    path = user_config_path()

    def change(folders: Any) -> bool:
        known = [Path(str(f)).expanduser() for f in folders]
        if add is not None:
            if add.expanduser() in known:
                return False
            folders.append(str(add))
            return True
        assert remove is not None
        if remove.expanduser() not in known:
            return False
        del folders[known.index(remove.expanduser())]
        return True

    again = "run sync add again" if add is not None else "run sync remove again"
    return edit_list(path, "sync", "folders", change, again=again), path


RESTART_HINT = "restart the daemon to watch it (systemctl --user restart stridewatch)"


@sync_group.command("add", epilog="Example: stridewatch sync add /media/ann/GARMIN/GARMIN/Activity")
@click.argument("folder_text", metavar="PATH")
def sync_add(folder_text: str) -> None:
    """Watch a folder: adds PATH to [sync] folders in the user config file."""
    folder = _sync_folder_arg(folder_text)
    real = folder.expanduser()
    if real.exists() and not real.is_dir():
        raise InputError(f"{real}: not a folder; give the folder the files land in")
    added, path = _edit_sync_folders(folder, None)
    if not added:
        click.echo(f"{folder} is already a sync folder (in {path})")
        return
    there = "" if real.is_dir() else " (not there now: it is watched once it appears)"
    click.echo(f"{folder} added to [sync] folders in {path}{there}; {RESTART_HINT}")


@sync_group.command("remove", epilog="Example: stridewatch sync remove ~/Sync/Gadgetbridge")
@click.argument("folder_text", metavar="PATH")
def sync_remove(folder_text: str) -> None:
    """Stop watching a folder: removes PATH from [sync] folders (its runs stay)."""
    folder = _sync_folder_arg(folder_text)
    removed, path = _edit_sync_folders(None, folder)
    if not removed:
        raise InputError(f"{folder}: not a sync folder (see `stridewatch sync list`)")
    click.echo(f"{folder} removed from [sync] folders in {path}; the runs from it stay")


@sync_group.command("list", epilog="Example: stridewatch sync list --json")
@json_option
@with_app
def sync_list(app: App, as_json: bool) -> None:
    """The sync folders, whether each is there, and how it is watched."""
    from agent.files.watch import mounts, polling_reason

    conf = app.settings.sync
    known = mounts()
    rows = []
    for text in conf.folders:
        folder = Path(text).expanduser()
        reason = polling_reason(folder, conf.poll_folders, known)
        how = f"polled every {conf.poll_interval_s:g} s: {reason}" if reason else "inotify"
        if folder.exists() and not folder.is_dir():
            how = "not a folder: nothing is watched there"
        rows.append({"path": str(folder), "present": folder.is_dir(), "watch": how})
    if as_json:
        _echo_json({"folders": rows})
        return
    from agent.views import text as views

    out = views.console()
    if not rows:
        views.say(out, "no sync folders: add one with `stridewatch sync add PATH`")
    for row in rows:
        state = "" if row["present"] or "not a folder" in str(row["watch"]) else " (not there now)"
        views.say(out, f"{row['path']}{state}: {row['watch']}")


@sync_group.command("status", epilog="Example: stridewatch sync status --json")
@click.option("--limit", "limit_text", metavar="N", help="How many files, newest first (50).")
@json_option
@with_app
def sync_status(app: App, limit_text: str | None, as_json: bool) -> None:
    """What became of the files found in the sync folders, newest first."""
    limit = _parse_int(limit_text, "--limit", 1, 100_000) if limit_text is not None else 50
    with app.open_store() as store:
        rows = store.synced_files(limit=limit)
    files = [_synced_json(row, app.settings.zone) for row in rows]
    if as_json:
        _echo_json({"files": files})
        return
    from agent.views import text as views

    views.print_synced(files, app.settings)


def _synced_json(row: dict[str, Any], zone: Any) -> dict[str, Any]:
    from agent import units

    try:
        seen_at = units.local_iso(units.stored_instant(row["seen_at"]), zone)
    except ValueError:
        seen_at = row["seen_at"]
    return {
        "path": row["path"],
        "folder": row["folder"],
        "status": row["status"],
        "reason": row["reason"],
        "run_ids": json.loads(row["run_ids"] or "[]"),
        "seen_at": seen_at,
        "size_bytes": row["size"],
    }


@sync_group.command("detect", epilog="Example: stridewatch sync detect --yes")
@click.argument("where", nargs=-1, type=click.Path(path_type=Path), metavar="[WHERE]...")
@click.option("--yes", is_flag=True, help="Add what is found without asking.")
@json_option
@with_app
def sync_detect(app: App, where: tuple[Path, ...], yes: bool, as_json: bool) -> None:
    """Find a watch plugged in over USB (GARMIN/Activity, or an Activities folder) and
    offer to add its activity folder. Looks in mounted USB drives, or in each WHERE."""
    from agent.files.watch import find_activity_folders, mounts, removable_mounts

    roots = [p.expanduser() for p in where] or removable_mounts(mounts())
    for root in where:
        if not root.expanduser().is_dir():
            raise InputError(f"{root}: not a folder; give where the watch is mounted")
    found = find_activity_folders(roots)
    known = {Path(f).expanduser() for f in app.settings.sync.folders}
    if as_json:
        _echo_json({"found": [{**f.as_json(), "synced": f.path in known} for f in found]})
        return
    if not found:
        click.echo(
            "no watch found: plug it in (it shows up as a USB drive), or give its folder: "
            "stridewatch sync detect /media/YOU/GARMIN"
        )
        return
    for item in found:
        click.echo(f"{item.device}: {item.path} ({item.fit_files} FIT files)")
        if item.path in known:
            click.echo("  already a sync folder")
        elif not yes and not sys.stdin.isatty():  # nobody to ask: say how
            click.echo(f"  to sync it: stridewatch sync add {shlex.quote(str(item.path))}")
        elif yes or click.confirm("  Add it to the sync folders?", default=True):
            _, path = _edit_sync_folders(_sync_folder_arg(str(item.path)), None)
            click.echo(f"  added to [sync] folders in {path}; {RESTART_HINT}")


# -- demo -------------------------------------------------------------------------------


@cli.command("demo", epilog="Example: stridewatch demo --db /tmp/demo.db")
@click.option(
    "--force", is_flag=True, help="Play into a --db that already holds runs or pain reports."
)
@with_app
def demo(app: App, force: bool) -> None:
    """Show stridewatch at work on simulated data, in a temporary database (or --db, which
    must hold no runs or pain reports unless --force: the demo's runs are simulated)."""
    from agent.cli.demo import run_demo

    run_demo(app, force=force)


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
