"""What ``stridewatch demo`` shows, and where: the :class:`Screen` printing what the daemon
shows week by week, the :class:`DemoSender` that also puts alerts on the desktop where one is
reachable, and the weekly table at the end. The block itself is played by agent/cli/demo.py."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from rich.text import Text

from agent.daemon.delivery import DesktopSender, Event, Note, RunRecorded, Shown
from agent.daemon.notify import Delivery, Notifier, probe_server
from agent.daemon.virtual import SettledClock
from agent.store import Store
from agent.units import (
    format_budget,
    format_distance,
    format_duration,
    format_km,
    format_pace,
    format_pct,
)

if TYPE_CHECKING:
    from rich.console import Console

    from agent.config import Settings


class DemoSender:
    """The demo's screen is the terminal: everything counts as shown there. Alerts, and
    the summaries from ``desktop_from`` on, also go to the desktop if one is reachable."""

    def __init__(
        self, desktop: Notifier | None, desktop_from: datetime, clock: SettledClock
    ) -> None:
        self.desktop = desktop
        self.desktop_from = desktop_from
        self.clock = clock

    async def deliver(self, note: Note) -> Delivery:
        item = note.item
        wanted = item.kind == "alert" or (item.kind == "summary" and item.at >= self.desktop_from)
        if self.desktop is None or not wanted:
            return Delivery(True, "")
        with self.clock.working():
            sent = await DesktopSender(self.desktop).deliver(note)
        return Delivery(True, "desktop" if sent.delivered else f"desktop: {sent.detail}", sent.id)


class Screen:
    """Prints what the daemon shows, grouped by week, in local time and in time order.

    A run is reported when the recorder closes it, after the footpod has been idle for
    ``recording.idle_timeout_min``, so a check-in due in the meantime reaches the screen
    before the run it follows. Each line therefore waits until every line timed before it
    has come in: until a line ``hold`` later than it arrives, or :meth:`flush`."""

    # The demo's lines are at most the idle timeout late; this margin covers the run's
    # last flush (``DEMO_FLUSH_S`` in agent/cli/demo.py) and the close itself.
    MARGIN = timedelta(minutes=5)

    def __init__(self, console: Console, settings: Settings, detail_from: datetime) -> None:
        self.console = console
        self.settings = settings
        self.detail_from = detail_from
        self.week: date | None = None
        self.hold = timedelta(minutes=settings.recording.idle_timeout_min) + self.MARGIN
        self.waiting: list[tuple[datetime, int, Text]] = []  # a heap, by time then arrival
        self.order = itertools.count()
        self.latest: datetime | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunRecorded):
            self._run(event)
        else:
            self._shown(event)

    def line(self, at: datetime, *parts: str | tuple[str, str]) -> None:
        """Say ``parts`` (text, or text and a style) at ``at``, once nothing earlier can
        still come."""
        heapq.heappush(self.waiting, (at, next(self.order), Text.assemble(*parts)))
        self.latest = at if self.latest is None else max(self.latest, at)
        while self.waiting and self.waiting[0][0] <= self.latest - self.hold:
            self._print(*heapq.heappop(self.waiting))

    def flush(self) -> None:
        while self.waiting:
            self._print(*heapq.heappop(self.waiting))

    def _print(self, at: datetime, _order: int, text: Text) -> None:
        from agent.views.text import emit, wrap

        local = at.astimezone(self.settings.zone)
        week = local.date() - timedelta(days=(local.weekday() - self.settings.first_weekday) % 7)
        if week != self.week:
            self.week = week
            self.console.print()
            self.console.print(Text(f"Week of {week:%a %d %b %Y}", "bold"))
        stamp = Text.assemble("  ", (f"{local:%a %H:%M}", "dim"), "  ")
        lines = wrap(text, max(40, self.console.width - stamp.cell_len))
        emit(self.console, Text.assemble(stamp, lines[0]))
        for rest in lines[1:]:
            emit(self.console, Text.assemble(" " * stamp.cell_len, rest))

    def _run(self, run: RunRecorded) -> None:
        unit = self.settings.units
        began = run.started_at.astimezone(self.settings.zone)
        self.line(
            run.ended_at,
            (f"recorded run {run.run_id}", "green"),
            f": {format_distance(run.distance_m, unit)} in {format_duration(run.moving_s)} "
            f"({format_pace(run.distance_m, run.moving_s, unit)}), started {began:%H:%M}",
        )

    def _shown(self, shown: Shown) -> None:
        item = shown.item
        where = (f" ({shown.delivery.detail})", "dim") if shown.delivery.detail else ""
        if item.kind == "summary":
            self.line(item.at, ("nightly summary:", "cyan"), f" {item.message}", where)
            return
        if item.kind == "checkin":
            if item.at >= self.detail_from:  # the build weeks' check-ins would drown the rest
                self.line(item.at, (f"pain check-in: {item.message}", "dim"), where)
            return
        style = {"danger": "bold red", "warning": "red", "caution": "yellow"}.get(
            item.severity or "", "cyan"
        )
        kind = "LIVE" if shown.live else "alert"
        self.line(item.at, (f"{kind} {shown.title}:", style), f" {item.message}", where)


async def desktop_notifier(console: Console, settings: Settings) -> Notifier | None:
    """The desktop's notifier, or None when notifications are off or no server answers;
    a line says which."""
    from agent.views.text import say

    if not settings.notifications.enabled:
        say(console, "Desktop notifications are off in your config; everything is printed.")
        return None
    probe = await probe_server()
    if probe.reachable:
        say(
            console,
            f"Desktop notifications: alerts and the jump week's summaries go to the "
            f"{probe.detail} too.",
        )
        return Notifier()
    say(
        console,
        f"Desktop notifications: not available here ({probe.detail}); everything is printed.",
    )
    return None


def weekly_table(
    store: Store, settings: Settings, weeks: Sequence[date], at: datetime, console: Console
) -> None:
    from agent.advice.checks import summary
    from agent.views.text import Row, print_table

    unit = settings.units
    rows = []
    for start in weeks:
        week = summary(store, settings, at, week=start)
        budget = week.assessment.allowance
        over = budget.cap_km is not None and budget.distance_km > budget.cap_km
        change = ""
        if over and budget.change is not None:
            change = f"over cap, {format_pct(budget.change)}"
        elif over:
            change = "over cap"
        cells = (
            f"{start:%a %d %b}",
            str(len(week.runs)),
            format_km(budget.distance_km, unit),
            format_budget(budget.cap_km, unit),
            Text(change, "bold red"),
        )
        rows.append(Row(cells))
    columns = ("week of", "runs", "distance", "cap", "")
    print_table(console, "Your weeks", columns, rows, right=("runs", "distance", "cap"))
