"""Simulated time and simulated runs: ``run --simulate``, ``replay --instant`` and the demo.

:class:`SettledClock` is a virtual clock that jumps only when the daemon has nothing else
to do, and :class:`SettledWriter` marks the database thread's work on it; :data:`SCENARIOS`
are the simulated runs ``run --simulate --scenario NAME`` plays.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from agent.clock import Clock, VirtualClock
from agent.sensors import sim
from agent.store.writer import RecordingWriter

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.models import Flush, StoredState
    from agent.sensors.base import SensorDriver
    from agent.store import Store
    from agent.store.writer import Written

T = TypeVar("T")


def make_writer(db_path: Path, settings: Settings, clock: Clock) -> RecordingWriter:
    """The daemon's writer: one that holds a :class:`SettledClock` still while it works."""
    timeout = settings.database.busy_timeout_s
    if isinstance(clock, SettledClock):
        return SettledWriter(db_path, timeout, clock)
    return RecordingWriter(db_path, timeout)


# -- virtual time ----------------------------------------------------------------------------

# Loop iterations a SettledClock waits after database work before it jumps: enough for the
# task that waited to run on to its next sleep (a flush, then a live check, then a queue).
SETTLE_STEPS = 8


class SettledClock(VirtualClock):
    """A virtual clock that jumps only when the daemon has nothing else to do.

    :class:`VirtualClock` jumps to the next sleeper on every loop iteration, even while a
    task waits for the database thread, and the daemon's database work would then happen
    at a later simulated time than it belongs to. This clock holds still while work marked
    with :meth:`working` is in flight, and for :data:`SETTLE_STEPS` loop iterations after
    it, so what follows the work (the next sleep of the task that waited) is registered
    before time moves on. It overrides the base class's stepping hook for that.
    """

    def __init__(self, *, wall_start: datetime) -> None:
        super().__init__(wall_start=wall_start)
        self.busy = 0
        self.settle = 0
        self.parked = False

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1
            self.settle = SETTLE_STEPS
            if self.busy == 0 and self.parked:
                self.parked = False
                asyncio.get_running_loop().call_soon(self._auto_step)

    def _auto_step(self) -> None:
        if self.busy:
            self.parked = True  # working() steps again when the work is done
            return
        if self.settle > 0:
            self.settle -= 1
            asyncio.get_running_loop().call_soon(self._auto_step)
            return
        super()._auto_step()


class SettledWriter(RecordingWriter):
    """The daemon's database writer, marking its thread work on a :class:`SettledClock`."""

    def __init__(self, path: Path, busy_timeout_s: float, clock: SettledClock) -> None:
        super().__init__(path, busy_timeout_s)
        self.clock = clock

    async def open(self) -> StoredState:
        with self.clock.working():
            return await super().open()

    async def write(self, flushes: list[Flush]) -> Written:
        with self.clock.working():
            return await super().write(flushes)

    async def last_write(self, flushes: list[Flush], wait_s: float) -> Written:
        with self.clock.working():
            return await super().last_write(flushes, wait_s)

    async def call(self, func: Callable[[Store], T]) -> T:
        with self.clock.working():
            return await super().call(func)

    async def close(self) -> None:
        with self.clock.working():
            await super().close()


def simulated_driver(scenario: str, seed: int, clock: Clock) -> SensorDriver:
    """The simulated footpod and strap playing :data:`SCENARIOS` ``[scenario]``."""
    return sim.SimulatedDriver(replace(SCENARIOS[scenario](), seed=seed), clock=clock)


# Simulated runs for ``run --simulate --scenario NAME`` (demos and the crash tests).
SCENARIOS: dict[str, Callable[[], sim.Scenario]] = {
    "easy": lambda: sim.Scenario(sim.easy_run(duration_s=1800.0)),
    "short": lambda: sim.Scenario(sim.easy_run(duration_s=300.0, warm_up_s=60.0)),
    "long": lambda: sim.Scenario(sim.easy_run(duration_s=5400.0)),
    "intervals": lambda: sim.Scenario(sim.intervals()),
    "pauses": lambda: sim.Scenario(
        sim.easy_run(duration_s=1800.0).with_pause(600.0, 60.0).with_pause(1200.0, 120.0)
    ),
    "hr-only": lambda: sim.Scenario(sim.easy_run(duration_s=1800.0), footpod=None),
    "low-battery": lambda: sim.Scenario(
        sim.easy_run(duration_s=300.0, warm_up_s=60.0),
        footpod=sim.FootpodSpec(battery_percent=12, battery_interval_s=60.0),
    ),
    "standing": lambda: sim.Scenario(sim.RunModel((sim.pause(900.0),))),
    "strides": lambda: sim.Scenario(sim.RunModel((sim.steady(15.0, 3.0), sim.pause(900.0)))),
}
