"""``stridewatch demo``: stridewatch at work on simulated data.

For now it seeds a short, sensible training history (simulated runs, as a footpod would
have recorded them) into a fresh database and shows what is stored. The daemon issue grows
it into a training block played through the real daemon with live alerts.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from agent.units import format_distance

if TYPE_CHECKING:
    from agent.cli import App

# Three easy weeks of a runner returning from injury: 4 runs a week, building ~10 %/week
# with a longer run on Sunday (distances in km).
DEMO_WEEKS = (
    (5.0, 5.0, 5.5, 8.0),
    (5.5, 5.5, 6.0, 8.8),
    (6.0, 6.0, 6.5, 9.6),
)
DEMO_DAYS = (1, 3, 4, 6)  # Tue, Thu, Fri, Sun
EASY_PACE_S_PER_KM = 360.0


def run_demo(app: App) -> None:
    if app.db_path is None:
        app.db_path = Path(tempfile.mkdtemp(prefix="stridewatch-demo-")) / "stridewatch.db"
    settings = app.settings
    zone = settings.zone
    today = datetime.now(zone).date()
    monday = today - timedelta(days=today.weekday() + 7 * len(DEMO_WEEKS))
    with app.open_store() as store:
        for week, distances in enumerate(DEMO_WEEKS):
            for day, km in zip(DEMO_DAYS, distances, strict=True):
                start = datetime.combine(
                    monday + timedelta(days=7 * week + day), time(7, 0), zone
                ).astimezone(UTC)
                run_id = store.add_run(
                    started_at=start,
                    distance_m=km * 1000,
                    moving_s=km * EASY_PACE_S_PER_KM,
                    elapsed_s=km * EASY_PACE_S_PER_KM + 60,
                    source="simulated",
                    rpe=4,
                    note="demo",
                )
                click.echo(
                    f"recorded run {run_id}: {start.astimezone(zone):%a %Y-%m-%d} "
                    f"{format_distance(km * 1000, settings.units)}"
                )
        from agent.views import print_runs

        print_runs(store.runs(), settings, title="Demo history")
        counts = store.counts()
        click.echo(
            f"database: {store.path} (schema {store.schema_version()}; "
            + ", ".join(f"{n} {t}" for t, n in counts.items())
            + ")"
        )
