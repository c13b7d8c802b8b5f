"""Reports over weeks: ``stridewatch history`` in the terminal, ``report`` as one HTML file
for a physiotherapist (agent/views/report.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from agent.cli.app import App, F, at_option, echo_json, instant, json_option, parse_int, with_app
from agent.cli.group import command


def weeks_option(func: F) -> F:
    return click.option(
        "--weeks",
        "weeks_text",
        metavar="N",
        help="How many weeks up to --at, 1-104 (default 12).",
    )(func)


def _overview(app: App, weeks_text: str | None, at_text: str | None) -> Any:
    from agent.views import overview_build

    settings = app.settings
    weeks = overview_build.DEFAULT_WEEKS
    if weeks_text is not None:
        weeks = parse_int(weeks_text, "--weeks", 1, overview_build.MAX_WEEKS)
    return overview_build.load_overview(app.database(), settings, instant(app, at_text), weeks)


@command("history", epilog="Example: stridewatch history --weeks 16")
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
        echo_json(history_view.history_json(view, app.settings))
    else:
        history_view.print_history(view, app.settings)


@command("report", epilog="Example: stridewatch report --weeks 16 -o report.html")
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
        echo_json({"path": str(written), "week_count": len(view.weeks)})
        return
    weeks = len(view.weeks)
    click.echo(f"wrote {written} ({weeks} week{'s' * (weeks != 1)})")
