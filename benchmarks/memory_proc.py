"""The two processes the memory benchmark compares; run as ``python -m benchmarks.memory_proc``.

``daemon DB HOURS`` / ``daemon-stream DB HOURS``: the real :class:`~agent.daemon.supervisor.Daemon`
(``stridewatch run --simulate --speedup inf``) on a simulated run of HOURS, sampling VmRSS at
every simulated hour; prints one JSON line ``{"hwm_kb": ..., "rss_kb": [hour 1, ...]}``.
``daemon`` plays the simulator's scenario (``run --simulate``); ``daemon-stream`` replaces the
driver with :class:`StreamingDriver`, which makes each notification when due, as sensors do.

``floor DB``: a minimal asyncio process that imports bleak and opens the same SQLite file;
prints ``{"hwm_kb": ...}``. It is what any BLE recorder in Python costs before doing anything.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
from pathlib import Path

from agent.clock import Clock
from agent.sensors.base import (
    END_OF_STREAM,
    HEART_RATE_MEASUREMENT,
    RSC_MEASUREMENT,
    Connected,
    Notification,
    QueueItem,
    SensorDriver,
)
from agent.sensors.gatt import (
    HeartRateMeasurement,
    RSCMeasurement,
    encode_heart_rate,
    encode_rsc_measurement,
)
from benchmarks.common import rss_kb

HOUR_S = 3600.0
POD, STRAP = "C0:FF:EE:00:00:01", "C0:FF:EE:00:00:02"


def floor(db: Path) -> dict[str, object]:
    import sqlite3

    import bleak  # noqa: F401  (the import is what is measured)

    async def main() -> None:
        conn = sqlite3.connect(db)
        conn.execute("select count(*) from sqlite_master").fetchone()
        await asyncio.sleep(0.05)
        conn.close()

    asyncio.run(main())
    return {"hwm_kb": rss_kb()[1]}


class StreamingDriver:
    """A footpod and a strap at 1 Hz for ``hours``, each notification made when the clock
    reaches it, as from real sensors: nothing of the run is held in memory in advance (the
    simulator's :class:`~agent.sensors.sim.Simulation` precomputes every payload of a
    scenario, about 5 MB per hour, which is the simulator's memory, not the daemon's)."""

    def __init__(self, hours: float, clock: Clock, queue: asyncio.Queue[QueueItem]) -> None:
        self.queue = queue
        self.hours, self.clock = hours, clock
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._play(), name="bench-sensors")

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait((self._task,))
        await self.queue.put(END_OF_STREAM)

    async def _play(self) -> None:
        origin, distance = self.clock.now(), 0.0
        for kind, address in (("footpod", POD), ("hrm", STRAP)):
            await self.queue.put(Connected(address, kind, origin, "bench"))  # type: ignore[arg-type]
        for k in range(int(self.hours * HOUR_S) + 1):
            speed = 2.9 + 0.1 * math.sin(k / 60)  # a gently varying easy pace
            distance += speed
            await self._at(origin + k)
            rsc = RSCMeasurement(speed, 170, 2 * speed * 60 / 170, distance, True)
            await self._notify(POD, "footpod", RSC_MEASUREMENT, encode_rsc_measurement(rsc))
            await self._at(origin + k + 0.5)
            hrm = HeartRateMeasurement(150 + k % 7, True, None, (0.40, 0.40))
            await self._notify(STRAP, "hrm", HEART_RATE_MEASUREMENT, encode_heart_rate(hrm))
        await self.queue.put(END_OF_STREAM)

    async def _at(self, t: float) -> None:
        # As the simulator does: sleep only when due later. A zero sleep would yield to the
        # loop while not among the clock's sleepers, and the virtual clock would move on to
        # the next sleeper (the daemon's 15-minute timers), leaving this stream behind.
        delay = t - self.clock.now()
        if delay > 0:
            await self.clock.sleep(delay)

    async def _notify(self, address: str, kind: str, char: str, data: bytes) -> None:
        note = Notification(address, kind, char, self.clock.now(), data)  # type: ignore[arg-type]
        await self.queue.put(note)


class SamplingQueue(asyncio.Queue[QueueItem]):
    """The driver's queue, reading VmRSS each time an item crosses into a new simulated hour
    (sampling on the virtual clock itself would move the clock on while the writer works)."""

    def __init__(self) -> None:
        super().__init__()
        self.rss_kb: list[int] = []
        self._origin: float | None = None

    async def put(self, item: QueueItem) -> None:
        at = getattr(item, "received_at", getattr(item, "at", None))
        if at is not None:
            if self._origin is None:
                self._origin = at
            if at - self._origin >= HOUR_S * (len(self.rss_kb) + 1):
                self.rss_kb.append(rss_kb()[0])
        await super().put(item)


def daemon(db: Path, hours: float, streaming: bool) -> dict[str, object]:
    """The daemon on a run of ``hours``: RSS at each simulated hour, and the peak."""
    from agent.config import Settings
    from agent.daemon import supervisor as daemon_mod
    from agent.sensors import sim

    options = daemon_mod.RunOptions(simulate=True, speedup=math.inf, scenario="bench")
    clock = daemon_mod.make_clock(math.inf)
    queue = SamplingQueue()

    def driver() -> SensorDriver:
        if streaming:
            return StreamingDriver(hours, clock, queue)
        scenario = sim.Scenario(sim.easy_run(duration_s=hours * HOUR_S))
        return sim.SimulatedDriver(scenario, clock=clock, queue=queue)

    the_daemon = daemon_mod.Daemon(Settings(), db, options, clock=clock, driver=driver)
    asyncio.run(the_daemon.main())
    hwm = rss_kb()[1]
    import sqlite3

    with sqlite3.connect(db) as conn:  # what was recorded: one run, a sample a second
        runs, samples = conn.execute(
            "select count(distinct id), count(s.t) from runs left join samples s on s.run_id = id"
        ).fetchone()
    return {"hwm_kb": hwm, "rss_kb": queue.rss_kb, "runs": runs, "samples": samples}


if __name__ == "__main__":
    mode, path = sys.argv[1], Path(sys.argv[2])
    if mode == "floor":
        result = floor(path)
    else:
        result = daemon(path, float(sys.argv[3]), streaming=mode == "daemon-stream")
    print(json.dumps(result))
