"""Listing: ``stridewatch runs`` and ``stridewatch pain-log``, what is stored, oldest first."""

from __future__ import annotations

from agent.cli.app import App, echo_json, json_option, with_app
from agent.cli.group import command


@command("runs", epilog="Example: stridewatch runs --json")
@json_option
@with_app
def runs(app: App, as_json: bool) -> None:
    """List stored runs, oldest first."""
    from agent.views import text as views

    with app.open_store() as store:
        stored = store.runs()
    if as_json:
        echo_json([views.run_json(run, app.settings.zone) for run in stored])
    else:
        views.print_runs(stored, app.settings)


@command("pain-log", epilog="Example: stridewatch pain-log --json")
@json_option
@with_app
def pain_log(app: App, as_json: bool) -> None:
    """List stored pain reports, oldest first."""
    from agent.views import text as views

    with app.open_store() as store:
        reports = store.pain_reports()
    if as_json:
        echo_json([views.pain_json(report, app.settings.zone) for report in reports])
    else:
        views.print_pain(reports, app.settings)
