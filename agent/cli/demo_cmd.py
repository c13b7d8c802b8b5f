"""``stridewatch demo``; the demo itself is agent/cli/demo.py, imported when it is played
(it imports the daemon)."""

from __future__ import annotations

import click

from agent.cli.app import App, with_app
from agent.cli.group import command


@command("demo", epilog="Example: stridewatch demo --db /tmp/demo.db")
@click.option(
    "--force", is_flag=True, help="Play into a --db that already holds runs or pain reports."
)
@with_app
def demo(app: App, force: bool) -> None:
    """Show stridewatch at work on simulated data, in a temporary database (or --db, which
    must hold no runs or pain reports unless --force: the demo's runs are simulated)."""
    from agent.cli.demo import run_demo

    run_demo(app, force=force)
