"""Clocks: every component that waits or stamps times takes one, so tests run weeks in seconds.

A :class:`Clock` has a monotonic ``now()`` in seconds (for ordering and durations), a
``wall()`` datetime in UTC (for what gets stored), and ``async sleep(seconds)``, all in the
clock's own time.

- :class:`MonotonicClock` is real time, optionally sped up (``speedup=1000`` plays an
  hour-long simulated run in 3.6 s).
- :class:`VirtualClock` is simulated time that only moves when someone sleeps on it or calls
  :meth:`VirtualClock.advance`; with ``auto_advance`` (the default) a sleep completes on the
  next event-loop iteration, with time jumped to its deadline, so an hour takes milliseconds.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

# A fixed, deterministic default start for virtual wall time: a Monday, 07:00 UTC.
VIRTUAL_EPOCH = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


class Clock(Protocol):
    """Monotonic seconds, wall time and sleeping, all in the clock's own time."""

    def now(self) -> float:
        """Monotonic seconds; only differences are meaningful."""
        ...

    def wall(self) -> datetime:
        """The current wall time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time (at once if ``seconds <= 0``)."""
        ...


def _boot_seconds() -> float:
    """Monotonic seconds that keep counting while the machine is suspended (Linux's
    CLOCK_BOOTTIME): a laptop that slept through a run's end must see the idle time pass."""
    return time.clock_gettime(_BOOTTIME)


_BOOTTIME = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


class MonotonicClock:
    """Real time, running ``speedup`` times faster than real time.

    ``now()`` never jumps (suspend included, wall-clock changes excluded). At ``speedup=1``
    ``wall()`` is the system's wall clock itself, so a clock set right by NTP, or changed by
    hand, is what new runs are stamped with; sped up, wall time is simulated from ``now()``.
    """

    def __init__(self, speedup: float = 1.0, *, wall_start: datetime | None = None) -> None:
        if not 0 < speedup < math.inf:
            raise ValueError(f"speedup {speedup}: must be a positive finite number")
        self.speedup = speedup
        self._origin = _boot_seconds()
        self._wall_origin = wall_start or datetime.now(UTC)
        self._real_wall = wall_start is None

    def now(self) -> float:
        return self._origin + (_boot_seconds() - self._origin) * self.speedup

    def wall(self) -> datetime:
        """The system's wall clock at speedup 1 (unless a ``wall_start`` was given, as for
        a replay starting when its capture did); else simulated from ``now()``."""
        if self.speedup == 1.0 and self._real_wall:
            return datetime.now(UTC)
        return self._wall_origin + timedelta(seconds=self.now() - self._origin)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0) / self.speedup)


class VirtualClock:
    """Simulated time: moves on :meth:`advance`, or by itself to the next sleeper's deadline.

    With ``auto_advance`` a sleeping task wakes on the next loop iteration; sleepers always
    wake in deadline order and time never runs backwards. Work that does not sleep on the
    clock takes no simulated time. Without ``auto_advance`` only :meth:`advance` moves time
    (a manual clock for step-by-step tests).
    """

    speedup = math.inf

    def __init__(
        self, start: float = 0.0, *, wall_start: datetime = VIRTUAL_EPOCH, auto_advance: bool = True
    ) -> None:
        if wall_start.tzinfo is None:
            raise ValueError("wall_start must be timezone-aware")
        self._now = start
        self._start = start
        self._wall_start = wall_start.astimezone(UTC)
        self._auto = auto_advance
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._step_scheduled = False

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self._wall_start + timedelta(seconds=self._now - self._start)

    def jump_wall(self, seconds: float) -> None:
        """Move wall time alone, as NTP or a runner setting the clock does (either way);
        ``now()`` and the sleepers are untouched."""
        self._wall_start += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward, waking (in deadline order) every sleeper that falls due."""
        if seconds < 0:
            raise ValueError(f"cannot advance by {seconds} s: time does not run backwards")
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            self._wake_next()
        self._now = target

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), future))
        if self._auto and not self._step_scheduled:
            self._step_scheduled = True
            loop.call_soon(self._auto_step)
        await future

    def _wake_next(self) -> None:
        deadline, _, future = heapq.heappop(self._sleepers)
        self._now = max(self._now, deadline)
        if not future.done():  # a cancelled sleeper leaves its entry behind
            future.set_result(None)

    def _auto_step(self) -> None:
        self._step_scheduled = False
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        if not self._sleepers:
            return
        deadline = self._sleepers[0][0]
        while self._sleepers and self._sleepers[0][0] <= deadline:
            self._wake_next()
        if self._sleepers:
            self._step_scheduled = True
            asyncio.get_running_loop().call_soon(self._auto_step)


def clock_for_speedup(speedup: float) -> Clock:
    """``inf`` -> a :class:`VirtualClock`; a finite speedup -> a :class:`MonotonicClock`."""
    return VirtualClock() if speedup == math.inf else MonotonicClock(speedup)
