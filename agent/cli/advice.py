"""What the rules say: ``stridewatch check``, ``summary``, ``alerts``, ``what-if``, the
return-to-run ``plan`` and the declared ``baseline`` (agent/advice)."""

from __future__ import annotations

import click

from agent.cli.app import App, at_option, echo_json, instant, json_option, parse_int, with_app
from agent.cli.group import StridewatchGroup, command
from agent.errors import InputError


@command("check", epilog="Example: stridewatch check --at 2026-11-20T21:00 --json")
@at_option
@json_option
@with_app
def check_cmd(app: App, at_text: str | None, as_json: bool) -> None:
    """This week's distance, cap and what is left, load context and alerts; stores the
    alerts that are new or escalated."""
    from agent.advice import checks

    at = instant(app, at_text)
    with app.open_store() as store:
        assessment, _ = checks.check(store, app.settings, at)
    if as_json:
        echo_json(checks.check_json(assessment, app.settings))
    else:
        from agent.views import check as views_check

        views_check.print_check(assessment, app.settings)


@command("summary", epilog="Example: stridewatch summary --week 2026-11-16")
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
    at = instant(app, at_text)
    with app.open_store() as store:
        result = checks.summary(store, app.settings, at, week)
    if as_json:
        echo_json(checks.summary_json(result, app.settings))
    else:
        from agent.views import check as views_check

        views_check.print_summary(result, app.settings)


@command("alerts", epilog="Example: stridewatch alerts --since 2026-11-01 --json")
@click.option("--since", "since_text", metavar="DATETIME", help="Only alerts raised since.")
@json_option
@with_app
def alerts_cmd(app: App, since_text: str | None, as_json: bool) -> None:
    """Alerts raised so far: when, rule, severity, for which run, whether delivered."""
    from agent.advice import checks

    since = instant(app, since_text) if since_text else None
    with app.open_store() as store:
        stored = store.stored_alerts(since=since)
    if as_json:
        echo_json([checks.stored_alert_json(alert, app.settings) for alert in stored])
    else:
        from agent.views import check as views_check

        views_check.print_stored_alerts(stored, app.settings)


@command(
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
    at = instant(app, at_text)
    if distance_text is None and week_text is None:
        raise InputError('give a DISTANCE (what-if 18km) or --week "tue 8km, sun 18km"')
    if distance_text is not None and week_text is not None:
        raise InputError('give a DISTANCE (what-if 18km) or --week "tue 8km, sun 18km", not both')
    if week_text is not None:
        plan = checks.parse_week(week_text, settings, at)
    else:
        plan = [(at, units.parse_distance(distance_text or "", settings.units))]
    result = checks.what_if_at(app.database(), settings, plan)
    if as_json:
        echo_json(checks.what_if_json(result, settings))
    else:
        from agent.views import check as views_check

        views_check.print_what_if(result, settings)


@click.group("plan", cls=StridewatchGroup, epilog="Example: stridewatch plan return --usual 6-8mi")
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
    weeks = parse_int(weeks_text, "--weeks", 1, 52) if weeks_text is not None else None
    at = instant(app, at_text)
    with app.open_store() as store:
        checks.start_plan(store, settings, at, usual_km=usual, start_km=start, weeks=weeks)
        status = checks.plan_status(store, settings, at)
    if as_json:
        echo_json(checks.plan_json(status, settings))
    else:
        views_check.print_plan(status, settings)


@plan_group.command("show", epilog="Example: stridewatch plan show --json")
@at_option
@json_option
@with_app
def plan_show(app: App, at_text: str | None, as_json: bool) -> None:
    """The active plan, this week's target and whether it advances, holds or steps back."""
    from agent.advice import checks

    at = instant(app, at_text)
    with app.open_store() as store:
        status = checks.plan_status(store, app.settings, at)
    if as_json:
        echo_json(checks.plan_json(status, app.settings))
    else:
        from agent.views import check as views_check

        views_check.print_plan(status, app.settings)


@click.group(
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
    at = instant(app, at_text)
    with app.open_store() as store:
        store.declare_level(week_km=week_km, long_km=long_km, at=at)
    if as_json:
        echo_json(
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
