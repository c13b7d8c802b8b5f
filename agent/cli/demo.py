"""``stridewatch demo``: a training block played through the real daemon, in seconds.

A :class:`~agent.clock.VirtualClock` starts three weeks before this week; a
:class:`TrainingBlock` driver plays one simulated footpod-and-strap run per training day
through the real :class:`~agent.daemon.supervisor.Daemon` (recorder, live alerts, timetable, store).
Three weeks build sensibly (about 15 miles a week), then a week jumps to 30 miles with a
long run past the 30-day longest; the next morning the runner answers the check-in with a
pain report. Everything the daemon shows is printed as it would have appeared, and sent to
the desktop too where a notification server exists (the jump week's summaries and every
alert, so a desktop is not flooded). At the end: the weekly table and the database's place.
What is printed, and sent to the desktop, is agent/cli/demo_screen.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from agent.cli.demo_screen import DemoSender, Screen, desktop_notifier, weekly_table
from agent.clock import Clock
from agent.daemon.lock import recording_lock
from agent.daemon.supervisor import Daemon, RunOptions
from agent.daemon.virtual import SettledClock
from agent.rules.load import day_start, local_date
from agent.sensors import sim
from agent.sensors.base import END_OF_STREAM, QueueItem
from agent.store import Store
from agent.units import format_distance, parse_distance

if TYPE_CHECKING:
    from rich.console import Console

    from agent.cli.app import App
    from agent.config import Settings

MILE_M = parse_distance("1mi", "mi")
# The week before the footpod, logged by hand: 14.5 miles, the long run first (Mon, Wed,
# Fri, Sat), so no run in it is a spike on the ones before. Then three weeks that build
# sensibly, each within 1.1x of the one before (weekly cap) and each long run within 1.1x of
# the last (single-run limit): 15.4, 16.3 and 17 miles. Then the jump: 30 miles, with
# Sunday's 8 miles 1.33x the longest run of the month.
BUILD_DAYS = (1, 3, 4, 6)
LOGGED_DAYS = (0, 2, 4, 5)
LOGGED_WEEK = (5.0, 3.0, 3.5, 3.0)
BUILD_WEEKS = ((3.5, 3.5, 3.0, 5.4), (3.5, 4.0, 3.0, 5.8), (3.5, 4.0, 3.5, 6.0))
JUMP_WEEK = ((1, 6.0), (2, 6.0), (3, 6.0), (5, 4.0), (6, 8.0))
EASY_MPS = 2.9  # 9:15 a mile
LONG_MPS = 2.75
RUN_AT = time(7, 0)
PAIN_AT = time(8, 5)  # the runner answers the morning check-in
END_AT = time(21, 30)  # after the last nightly summary
# Footpod samples are written every 30 s of simulated time instead of 5 s: six times fewer
# transactions keep the demo well under a minute; live alerts are checked at each flush.
DEMO_FLUSH_S = 30.0


def training_block(first_day: date) -> list[tuple[date, float]]:
    """(day, miles) of every run, starting on the week that begins ``first_day``."""
    days = [
        (first_day + timedelta(weeks=week, days=day), miles)
        for week, distances in enumerate(BUILD_WEEKS)
        for day, miles in zip(BUILD_DAYS, distances, strict=True)
    ]
    jump = first_day + timedelta(weeks=len(BUILD_WEEKS))
    return days + [(jump + timedelta(days=day), miles) for day, miles in JUMP_WEEK]


def scenario(miles: float, seed: int) -> sim.Scenario:
    speed = LONG_MPS if miles >= 5 else EASY_MPS
    return sim.Scenario(sim.easy_run(distance_m=miles * MILE_M, speed_mps=speed), seed=seed)


Action = Callable[[], Awaitable[None]]


class TrainingBlock:
    """A sensor driver that plays one simulated run at each given instant on ``clock``,
    does each action at its instant, then, at ``until``, ends its stream (which stops the
    daemon). Everything happens in this one timeline, in order."""

    def __init__(
        self,
        sessions: Sequence[tuple[datetime, sim.Scenario | Action]],
        clock: Clock,
        until: datetime,
    ) -> None:
        self.sessions = sorted(sessions, key=lambda session: session[0])
        self.clock = clock
        self.until = until
        self.queue: asyncio.Queue[QueueItem] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._play(), name="training-block")

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait((self._task,))

    async def _play(self) -> None:
        for start, session in self.sessions:
            await self._sleep_until(start)
            if isinstance(session, sim.Scenario):
                await self._run(session)
            else:
                await session()
        await self._sleep_until(self.until)
        await self.queue.put(END_OF_STREAM)

    async def _run(self, scenario: sim.Scenario) -> None:
        """Each item when the clock reaches it (in this task, so the clock knows at once
        that it waits)."""
        for t, item in sim.Simulation(scenario).timed_items(self.clock.now()):
            delay = t - self.clock.now()
            if delay > 0:
                await self.clock.sleep(delay)
            self.queue.put_nowait(item)

    async def _sleep_until(self, moment: datetime) -> None:
        await self.clock.sleep((moment - self.clock.wall()).total_seconds())


def log_first_week(store: Store, settings: Settings, monday: date) -> None:
    """The week before the footpod, as ``stridewatch log-run`` would have stored it."""
    for day, miles in zip(LOGGED_DAYS, LOGGED_WEEK, strict=True):
        seconds = miles * MILE_M / EASY_MPS
        store.add_run(
            started_at=datetime.combine(monday + timedelta(days=day), RUN_AT, settings.zone),
            distance_m=miles * MILE_M,
            moving_s=seconds,
            elapsed_s=seconds,
            source="simulated",  # demo data, whatever it stands for
            note="demo: logged by hand",
        )


def first_week(settings: Settings) -> date:
    """The first footpod week: the block ends on this week's first day."""
    today = datetime.now(settings.zone).date()
    this_week = today - timedelta(days=(today.weekday() - settings.first_weekday) % 7)
    return this_week - timedelta(weeks=len(BUILD_WEEKS) + 1)


async def play(settings: Settings, db_path: Path, console: Console) -> datetime:
    """Play the block; return the (virtual) instant it ended."""
    zone = settings.zone
    first = first_week(settings)
    clock = SettledClock(wall_start=day_start(first, zone) + timedelta(hours=6))
    runs = training_block(first)
    sessions: list[tuple[datetime, sim.Scenario | Action]] = [
        (datetime.combine(day, RUN_AT, zone), scenario(miles, seed))
        for seed, (day, miles) in enumerate(runs)
    ]
    pain_day = runs[-1][0] + timedelta(days=1)
    until = datetime.combine(pain_day, END_AT, zone)
    desktop = await desktop_notifier(console, settings)
    jump_start = day_start(first + timedelta(weeks=len(BUILD_WEEKS)), zone)
    screen = Screen(console, settings, jump_start)
    pain_at = datetime.combine(pain_day, PAIN_AT, zone)
    sessions.append((pain_at, lambda: _answer_checkin(daemon, screen, pain_at)))
    daemon = Daemon(
        settings,
        db_path,
        RunOptions(simulate=True, speedup=math.inf, scenario="training block"),
        clock=clock,
        driver=lambda: TrainingBlock(sessions, clock, until),
        sender=DemoSender(desktop, jump_start, clock),
        listener=screen,
    )
    await daemon.main()
    screen.flush()
    return until


async def _answer_checkin(daemon: Daemon, screen: Screen, at: datetime) -> None:
    """The morning after the long run the knee hurts: the runner logs it, as with
    ``stridewatch pain 5 --when morning --where knee``."""
    await daemon.writer.call(
        lambda store: store.add_pain(at=at, score=5, when="morning", where="knee", note="demo")
    )
    screen.line(at, ("you:", "magenta"), " stridewatch pain 5 --when morning --where knee")


def run_demo(app: App, *, force: bool = False) -> None:
    """Play the demo into ``--db`` (a new temporary database by default). A database that
    holds runs or pain reports is refused unless ``force``: the demo's simulated runs and
    knee pain would mix into a real history."""
    if app.db_path is None:
        app.db_path = Path(tempfile.mkdtemp(prefix="stridewatch-demo-")) / "stridewatch.db"
    with recording_lock(app.database()):  # a daemon recording there would lose its run
        if not force:
            _refuse_a_history(app)
        _play_demo(app)


def _play_demo(app: App) -> None:
    from agent.views.text import console as make_console
    from agent.views.text import say

    settings = app.settings
    recording = dataclasses.replace(settings.recording, flush_interval_s=DEMO_FLUSH_S)
    settings = dataclasses.replace(settings, recording=recording)
    console = make_console()
    say(
        console,
        Text.assemble(
            ("stridewatch demo", "bold"),
            ": three weeks that build from about 15 miles, then a week of 30 with a long run "
            "past your longest, played through the real daemon on simulated sensors and a "
            "fast clock.",
        ),
    )
    logging.getLogger("stridewatch").setLevel(logging.ERROR)  # the demo prints what matters
    with app.open_store() as store:
        log_first_week(store, settings, first_week(settings) - timedelta(weeks=1))
    total = format_distance(sum(LOGGED_WEEK) * MILE_M, settings.units)
    console.print(f"The week before, logged by hand: {len(LOGGED_WEEK)} runs, {total}.")
    ended = asyncio.run(play(settings, app.database(), console))
    _finish(app, settings, console, ended)


def _refuse_a_history(app: App) -> None:
    from agent.errors import InputError, NotFoundError

    try:
        with Store.open_read_only(app.database()) as store:
            if store.schema_version() == "none":
                return  # a new file (zero bytes, as `touch` leaves it): the demo may fill it
            counts = store.counts()
    except NotFoundError:
        return  # no database yet, or an empty one: the demo may fill it
    if counts["runs"] or counts["pain"]:
        runs, pain = counts["runs"], counts["pain"]
        held = f"{runs} run{'s' * (runs != 1)} and {pain} pain report{'s' * (pain != 1)}"
        raise InputError(
            f"{app.database()}: holds {held}; the demo would add simulated runs and a knee "
            "pain to them. Use a new file (or no --db), or add --force to play it into this "
            "one anyway"
        )


def _finish(app: App, settings: Settings, console: Console, ended: datetime) -> None:
    from agent.views.text import say

    with app.open_store() as store:
        runs = store.runs()
        if runs:
            first, last = _week(runs[0].started_at, settings), _week(ended, settings)
            weeks = [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]
            console.print()
            weekly_table(store, settings, weeks, ended, console)
        counts = store.counts()
        console.print()
        say(
            console,
            f"database: {store.path} ("
            + ", ".join(f"{n} {t}" for t, n in counts.items())
            + f"); try: stridewatch --db {store.path} history",
        )


def _week(moment: datetime, settings: Settings) -> date:
    day = local_date(moment, settings.zone)
    return day - timedelta(days=(day.weekday() - settings.first_weekday) % 7)
