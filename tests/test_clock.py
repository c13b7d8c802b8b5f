"""Clocks: virtual time for tests and simulations, sped-up real time for demos."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

import pytest

from agent.clock import VIRTUAL_EPOCH, MonotonicClock, VirtualClock, clock_for_speedup


async def test_virtual_sleepers_wake_in_deadline_order_at_their_deadlines() -> None:
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    await asyncio.gather(sleeper("c", 3.0), sleeper("a", 1.0), sleeper("b", 2.0))
    assert woke == [("a", 1.0), ("b", 2.0), ("c", 3.0)]


async def test_virtual_time_interleaves_repeated_sleeps_of_two_tasks() -> None:
    clock = VirtualClock(start=100.0)
    log: list[tuple[str, float]] = []

    async def ticker(name: str, period: float, count: int) -> None:
        for _ in range(count):
            await clock.sleep(period)
            log.append((name, clock.now()))

    await asyncio.gather(ticker("fast", 1.0, 5), ticker("slow", 2.5, 2))
    assert [t for _, t in log] == sorted(t for _, t in log)
    assert ("slow", 105.0) in log
    assert ("fast", 105.0) in log
    assert clock.now() == 105.0


async def test_manual_clock_moves_only_on_advance() -> None:
    clock = VirtualClock(auto_advance=False)
    task = asyncio.create_task(clock.sleep(1.0))
    await asyncio.sleep(0)
    clock.advance(0.5)
    await asyncio.sleep(0)
    assert not task.done()
    clock.advance(0.75)
    await task
    assert clock.now() == 1.25
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1.0)


async def test_cancelled_sleeper_does_not_hold_up_others() -> None:
    clock = VirtualClock()
    doomed = asyncio.create_task(clock.sleep(1.0))
    await asyncio.sleep(0)
    doomed.cancel()
    await clock.sleep(5.0)
    assert clock.now() == 5.0
    assert doomed.cancelled()


async def test_zero_or_negative_sleep_returns_at_once() -> None:
    clock = VirtualClock(start=3.0)
    await clock.sleep(0)
    await clock.sleep(-2)
    assert clock.now() == 3.0


def test_virtual_wall_time_follows_the_clock() -> None:
    start = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
    clock = VirtualClock(start=50.0, wall_start=start)
    clock.advance(90)
    assert clock.wall() == start + timedelta(seconds=90)
    assert VirtualClock().wall() == VIRTUAL_EPOCH
    with pytest.raises(ValueError, match="timezone-aware"):
        VirtualClock(wall_start=datetime(2026, 3, 1))


async def test_monotonic_clock_runs_faster_by_its_speedup() -> None:
    clock = MonotonicClock(speedup=1000)
    before, wall_before = clock.now(), clock.wall()
    await clock.sleep(2.0)  # 2 ms of real time
    assert clock.now() - before >= 2.0
    assert clock.wall() > wall_before
    assert clock.wall().tzinfo is UTC


@pytest.mark.parametrize("speedup", [0.0, -1.0, math.inf, math.nan])
def test_monotonic_clock_rejects_bad_speedup(speedup: float) -> None:
    with pytest.raises(ValueError, match="speedup"):
        MonotonicClock(speedup)


def test_clock_for_speedup() -> None:
    assert isinstance(clock_for_speedup(math.inf), VirtualClock)
    scaled = clock_for_speedup(60.0)
    assert isinstance(scaled, MonotonicClock)
    assert scaled.speedup == 60.0


def test_real_clock_wall_is_the_system_wall_clock() -> None:
    """At speedup 1 new runs are stamped with the system's wall clock as it is now (set by
    NTP or by hand since the daemon started), not with a time extrapolated from start-up."""
    from datetime import UTC, datetime, timedelta

    from agent.clock import MonotonicClock

    clock = MonotonicClock()
    assert abs(clock.wall() - datetime.now(UTC)) < timedelta(seconds=1)
    assert clock.now() <= clock.now()
