"""A wall clock that jumps (NTP, a runner setting the time, a laptop's suspend): runs are
stamped with the corrected time, a run in progress keeps its order, nothing is lost or
duplicated. The real daemon on a virtual clock, with simulated sensors."""

from __future__ import annotations

import asyncio
import math
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.cli.demo import TrainingBlock
from agent.clock import Clock
from agent.config import Settings
from agent.daemon.delivery import Note
from agent.daemon.notify import Delivery
from agent.daemon.supervisor import Daemon, RunOptions
from agent.daemon.virtual import SettledClock
from agent.sensors import sim
from agent.sensors.base import END_OF_STREAM, QueueItem

SETTINGS = Settings(timezone="UTC")
MONDAY_6 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


class Screen:
    """The desktop stands in as always reachable: these tests are about time, not delivery."""

    async def deliver(self, note: Note) -> Delivery:
        return Delivery(True, "shown")


class JumpDuring:
    """Plays one simulated run; ``jump_at`` seconds into it, the wall clock moves by
    ``jump_s`` (as NTP or a hand-set clock would), then the stream ends after ``until_s``."""

    def __init__(
        self,
        clock: SettledClock,
        scenario: sim.Scenario,
        jump_at: float,
        jump_s: float,
        until_s: float,
    ) -> None:
        self.clock, self.scenario = clock, scenario
        self.jump_at, self.jump_s, self.until_s = jump_at, jump_s, until_s
        self.queue: asyncio.Queue[QueueItem] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._play())

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait((self._task,))

    async def _play(self) -> None:
        start = self.clock.now()
        jumped = False
        for t, item in sim.Simulation(self.scenario).timed_items(start):
            await _sleep_to(self.clock, t)
            if not jumped and t - start >= self.jump_at:
                self.clock.jump_wall(self.jump_s)
                jumped = True
            self.queue.put_nowait(item)
        await _sleep_to(self.clock, start + self.until_s)
        self.queue.put_nowait(END_OF_STREAM)


async def _sleep_to(clock: Clock, t: float) -> None:
    if t > clock.now():
        await clock.sleep(t - clock.now())


def daemon(db: Path, clock: SettledClock, driver: object) -> Daemon:
    options = RunOptions(simulate=True, speedup=math.inf, scenario="clock test")
    return Daemon(SETTINGS, db, options, clock=clock, driver=lambda: driver, sender=Screen())


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def easy(minutes: float, seed: int = 0) -> sim.Scenario:
    return sim.Scenario(sim.easy_run(duration_s=minutes * 60, warm_up_s=60.0), seed=seed)


async def test_runs_after_a_forward_jump_are_stamped_with_the_corrected_time(
    tmp_path: Path,
) -> None:
    db = tmp_path / "history.db"
    clock = SettledClock(wall_start=MONDAY_6)

    async def set_clock() -> None:
        clock.jump_wall(3 * 3600)  # e.g. the clock was 3 hours slow and NTP fixed it

    sessions = [
        (MONDAY_6 + timedelta(hours=1), easy(20)),
        (MONDAY_6 + timedelta(hours=2), set_clock),
        (MONDAY_6 + timedelta(hours=3), easy(20, seed=1)),
    ]
    block = TrainingBlock(sessions, clock, MONDAY_6 + timedelta(hours=9))
    await daemon(db, clock, block).main()
    runs = rows(db, "select started_at, ended_at, status from runs order by id")
    assert len(runs) == 2
    first, second = (datetime.fromisoformat(str(run[0])) for run in runs)
    assert abs(first - (MONDAY_6 + timedelta(hours=1))) < timedelta(minutes=2)
    # The set-clock moment (08:00) is 11:00 by the corrected clock: the second run, due
    # then, starts at once and is stamped 11:00, not 08:00.
    assert abs(second - (MONDAY_6 + timedelta(hours=5))) < timedelta(minutes=2)
    assert {run[2] for run in runs} == {"closed"}


@pytest.mark.parametrize("jump_s", [-3600.0, 7200.0])
async def test_a_jump_during_a_run_leaves_it_whole_and_in_order(
    tmp_path: Path, jump_s: float
) -> None:
    db = tmp_path / "history.db"
    clock = SettledClock(wall_start=MONDAY_6)
    scenario = easy(30)
    driver = JumpDuring(clock, scenario, jump_at=600.0, jump_s=jump_s, until_s=3600.0)
    await daemon(db, clock, driver).main()
    [(run_id, started, ended, elapsed, distance)] = rows(
        db, "select id, started_at, ended_at, elapsed_s, distance_m from runs"
    )
    started_at = datetime.fromisoformat(str(started))
    assert abs(started_at - MONDAY_6) < timedelta(minutes=2)  # stamped before the jump
    assert datetime.fromisoformat(str(ended)) - started_at == timedelta(seconds=round(elapsed))
    assert 25 * 60 < float(elapsed) < 31 * 60  # the jump is not counted as running time
    truth = sim.Simulation(scenario).truth.distance_m
    assert float(distance) == pytest.approx(truth, rel=0.01)
    samples = rows(db, f"select t, distance_m from samples where run_id = {run_id} order by t")
    times = [t for t, _ in samples]
    assert len(set(times)) == len(times)
    # Samples are keyed by run and time: one stored out of order would show as the distance
    # going down.
    distances = [d for _, d in samples]
    assert distances == sorted(distances)
