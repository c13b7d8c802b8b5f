"""Manual logging: ``stridewatch log-run`` and ``stridewatch pain``, each stored with its id on
stdout and what the rules now say on stderr (or all of it as one JSON object)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import click

from agent.cli.app import App, echo_json, instant, json_option, parse_int, with_app
from agent.cli.group import command
from agent.errors import InputError

PAIN_WHEN = ("before", "during", "after", "morning")
PAIN_WHERE = ("knee", "hip", "thigh", "other")
# A run logged with its end this far ahead of the clock is a typo or a plan, not a run done
# (a watch's clock a few minutes fast is neither).
FUTURE_SLACK = timedelta(minutes=10)


@command(
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
    logging_ops.check_run(
        distance_m,
        duration_s,
        distance_text=distance_text,
        duration_text=duration_text,
        unit=settings.units,
    )
    started = _run_start(app, at_text, duration_s, future)
    ends = started + timedelta(seconds=duration_s)
    rpe_value = parse_int(rpe, "--rpe", 0, 10) if rpe is not None else None
    hr_value = parse_int(avg_hr, "--avg-hr", 25, 250) if avg_hr is not None else None
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
            echo_json({"run": run, **checks.verdict_json(store, settings, ends, run_id=run_id)})
            return
        what = _stored_run(run_id, started, distance_m, duration_s, settings)
        extras = [f"RPE {rpe_value}"] if rpe_value is not None else []
        extras += [f"{hr_value} bpm"] if hr_value is not None else []
        _tell([", ".join([what, *extras])])
        _say_verdict(store, settings, ends, run_id=run_id)
    click.echo(run_id)


def _run_start(app: App, at_text: str | None, duration_s: float, future: bool) -> datetime:
    """``--at``, else now minus the duration; a run that would end in the future is refused
    unless ``future``."""
    from agent import units

    settings = app.settings
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
    return started


def _stored_run(
    run_id: int, started: datetime, distance_m: float, duration_s: float, settings: Any
) -> str:
    """``stored run 12: Fri 2026-11-20 07:30, 6.0 km in 36:00 (6:00/km)``."""
    from agent import units
    from agent.views.text import run_distance

    return (
        f"stored run {run_id}: {units.format_local(started, settings.zone)}, "
        f"{run_distance(distance_m, settings.units)} in "
        f"{units.format_duration(duration_s)} "
        f"({units.format_pace(distance_m, duration_s, settings.units)})"
    )


@command(
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
@click.option("--future", is_flag=True, help="Log a report dated in the future.")
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
    future: bool,
    as_json: bool,
) -> None:
    """Log a pain score from 0 (none) to 10 (worst). Prints its id on stdout; what was stored
    and what the rules now say go to stderr (with --json, all of it as one object on
    stdout)."""
    from agent import units
    from agent.files import manual as logging_ops

    settings = app.settings
    score = parse_int(score_text, "SCORE", 0, 10)
    at = instant(app, at_text)
    if not future and at > datetime.now(UTC) + FUTURE_SLACK:
        raise InputError(
            f"--at {at_text}: that is in the future; log pain once it is felt (or add "
            "--future to log it anyway)",
            option="--at",
        )
    run = parse_int(run_id, "--run", 1, 2**62) if run_id is not None else None
    with app.open_store() as store:
        report = logging_ops.log_pain(
            store,
            at=at,
            score=score,
            when=cast(Any, when),
            where=cast(Any, where),
            run_id=run,
            note=note,
            zone=settings.zone,
        )
        pain_id = report.id
        if as_json:
            from agent.advice import checks
            from agent.views import text as views

            verdict = checks.verdict_json(store, settings, at, pain_id=pain_id)
            echo_json({"pain": views.pain_json(report, settings.zone), **verdict})
            return
        where_text = f", {where}" if where else ""
        about = f", about run {run}" if run is not None else ""
        _tell(
            [
                f"stored pain report {pain_id}: {score}/10 {when}{where_text}{about}, "
                f"{units.format_local(at, settings.zone)}"
            ]
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

    _tell(checks.verdict(store, settings, at, pain_id=pain_id, run_id=run_id))


def _tell(paragraphs: list[str]) -> None:
    """Paragraphs on stderr, each wrapped to the terminal, commands and paths whole: what
    was stored and what the rules say are read, not parsed (``--json`` is for scripts)."""
    from agent.views import text as views

    out = views.console(err=True)
    for paragraph in paragraphs:
        views.say(out, paragraph)
