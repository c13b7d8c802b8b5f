"""A simulated footpod and heart-rate strap: a run model in, spec-exact GATT payloads out.

The simulator is a driver, not a mock: :class:`SimulatedDriver` puts the same
:class:`~agent.sensors.base.Notification` and connection events on its queue that the BLE
driver does, with payloads made by :mod:`agent.sensors.gatt`'s encoders, so everything
downstream runs unchanged. :func:`iter_items` / :func:`iter_notifications` give the same
stream as a plain iterator (an hour-long run in a few tens of milliseconds) for tests,
benchmarks and replay.

The run model, the devices' specs and faults and the ground truth are in
:mod:`agent.sensors.scenario` (re-exported here). Over 400 lines: the simulated devices,
the simulation and its driver share one private timed-item stream, and read as one.

Ground truth (:class:`GroundTruth`, run-relative seconds) records the true distance, moving
time and pauses, the counter restarts and which payloads were made malformed.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import random
from collections.abc import Iterator
from dataclasses import replace
from typing import Final

from agent.clock import Clock, MonotonicClock
from agent.sensors.base import (
    BATTERY_LEVEL,
    END_OF_STREAM,
    HEART_RATE_MEASUREMENT,
    RSC_MEASUREMENT,
    BatteryLevel,
    Connected,
    Disconnected,
    Notification,
    QueueItem,
    SensorEvent,
    SensorKind,
)
from agent.sensors.gatt import (
    HeartRateMeasurement,
    RSCMeasurement,
    encode_battery_level,
    encode_heart_rate,
    encode_rsc_measurement,
)
from agent.sensors.scenario import (
    PHYSICS_STEP_S,
    RUN_WALK_MPS,
    CounterReset,
    DeviceSpec,
    Disconnect,
    Dropout,
    Fault,
    FootpodSpec,
    GroundTruth,
    HeartStrapSpec,
    Malformed,
    RunModel,
    Runner,
    Scenario,
    Timeline,
    cadence_for,
    easy_run,
    intervals,
    pause,
    steady,
    truth_of,
)

CADENCE_NOISE_SPM: Final = 1.5
HR_NOISE_BPM: Final = 0.7
# Running costs about 1 kcal per kg per km (4.184 kJ), nearly independent of pace.
KJ_PER_KG_KM: Final = 4.184
# HRS: energy expended is typically included once every 10 measurements.
ENERGY_EVERY: Final = 10
_U32_DECI = 2**32

__all__ = [
    "PHYSICS_STEP_S",
    "RUN_WALK_MPS",
    "CounterReset",
    "DeviceSpec",
    "Disconnect",
    "Dropout",
    "Fault",
    "FootpodSpec",
    "GroundTruth",
    "HeartStrapSpec",
    "Malformed",
    "RunModel",
    "Runner",
    "Scenario",
    "SimulatedDriver",
    "Simulation",
    "Timeline",
    "cadence_for",
    "easy_run",
    "intervals",
    "iter_items",
    "iter_notifications",
    "pause",
    "steady",
]


# -- devices: one item stream each ----------------------------------------------------------

# Order of items at the same instant: link changes, the battery read after connecting,
# notifications, then the disconnect at the end of the run.
_LINK, _BATTERY, _NOTIFY, _END = 0, 1, 2, 3
_Timed = tuple[float, int, int, int, QueueItem]


def _spans(
    faults: tuple[Fault, ...], cls: type[Dropout | Disconnect], kind: SensorKind
) -> list[tuple[float, float]]:

    return [
        (f.at_s, f.at_s + f.duration_s)
        for f in faults
        if isinstance(f, cls) and f.kind in (None, kind)
    ]


class _Device:
    """One simulated device: link events, battery, and its measurement notifications."""

    kind: SensorKind
    characteristic: str
    order: int

    def __init__(self, sim: Simulation, spec: DeviceSpec) -> None:
        self.spec = spec
        self.tl = sim.timeline
        self.scenario = sim.scenario
        self.rng = random.Random(f"{sim.scenario.seed}/{self.kind}")
        self.fault_rng = random.Random(f"{sim.scenario.seed}/{self.kind}/faults")
        faults = sim.scenario.faults
        self.outages = _spans(faults, Disconnect, self.kind)
        self.quiet = self.outages + _spans(faults, Dropout, self.kind)
        bad = [f for f in faults if isinstance(f, Malformed) and f.kind in (None, self.kind)]
        self.bad_rate = 1 - math.prod(1 - f.rate for f in bad)
        self.bad_times = sorted(t for f in bad for t in f.at_s)
        self.malformed: list[float] = []
        self.items: list[_Timed] = []

    def payload(self, k: int, t: float) -> bytes:
        raise NotImplementedError

    def garbage(self, payload: bytes) -> bytes:
        raise NotImplementedError

    def build(self) -> list[_Timed]:
        self._link_events()
        self._battery_notifications()
        self._measurements()
        return self.items

    def _emit(self, t: float, prio: int, item: QueueItem) -> None:
        self.items.append((t, prio, self.order, len(self.items), item))

    def _offline(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.quiet)

    def _ticks(self, interval: float, phase: float) -> Iterator[tuple[int, float]]:
        end, k = self.tl.duration_s + 1e-9, 0
        while (t := phase + k * interval) <= end:
            yield k, t
            k += 1

    def _battery(self, t: float) -> int:
        spec = self.spec
        return max(0, min(100, round(spec.battery_percent - spec.battery_drain_per_h * t / 3600)))

    def _connect(self, t: float) -> None:
        spec = self.spec
        self._emit(t, _LINK, Connected(spec.address, self.kind, t, spec.name))
        self._emit(t, _BATTERY, BatteryLevel(spec.address, self.kind, t, self._battery(t)))

    def _link_events(self) -> None:
        end, address = self.tl.duration_s, self.spec.address
        self._connect(0.0)
        online_at_end = True
        for a, b in sorted(self.outages):
            if a >= end:
                continue
            self._emit(a, _LINK, Disconnected(address, self.kind, a, "simulated link loss"))
            if b <= end:
                self._connect(b)
            else:
                online_at_end = False
        if self.scenario.disconnect_at_end and online_at_end:
            self._emit(end, _END, Disconnected(address, self.kind, end, "simulation ended"))

    def _battery_notifications(self) -> None:
        interval = self.spec.battery_interval_s
        for _, t in self._ticks(interval, interval):
            if not self._offline(t):
                data = encode_battery_level(self._battery(t))
                self._notify(t, BATTERY_LEVEL, data)

    def _notify(self, t: float, characteristic: str, data: bytes) -> None:
        note = Notification(self.spec.address, self.kind, characteristic, t, data)
        self._emit(t, _NOTIFY, note)

    def _measurements(self) -> None:
        pending = list(reversed(self.bad_times))
        for k, t in self._ticks(self.spec.interval_s, self.spec.phase_s):
            payload = self.payload(k, t)  # always made, so faults do not shift the noise
            if self._offline(t):
                continue
            bad = bool(pending) and pending[-1] <= t
            while pending and pending[-1] <= t:
                pending.pop()
            if self.bad_rate and self.fault_rng.random() < self.bad_rate:
                bad = True
            if bad:
                payload = self.garbage(payload)
                self.malformed.append(t)
            self._notify(t, self.characteristic, payload)


class _Footpod(_Device):
    kind: SensorKind = "footpod"
    characteristic = RSC_MEASUREMENT
    order = 0

    def __init__(self, sim: Simulation, spec: FootpodSpec) -> None:
        super().__init__(sim, spec)
        self.fp = spec
        end = self.tl.duration_s
        resets = [f.at_s for f in sim.scenario.faults if isinstance(f, CounterReset)]
        reconnects = [b for _, b in self.outages if b <= end]
        self.restarts = tuple(sorted(t for t in resets + reconnects if 0 < t <= end))
        self._restart_distance = [self.tl.distance[self.tl.index(t)] for t in self.restarts]

    def payload(self, k: int, t: float) -> bytes:
        tl, spec = self.tl, self.fp
        i = tl.index(t)
        v = tl.speed[i]
        steps = cadence_for(v)
        speed = stride = 0.0
        if steps:
            low, high = (140.0, 200.0) if v >= RUN_WALK_MPS else (90.0, 135.0)
            steps = max(low, min(high, steps + self.rng.gauss(0, CADENCE_NOISE_SPM)))
            speed = min(255.0, v * spec.scale * (1 + self.rng.gauss(0, spec.speed_noise)))
            stride = min(655.0, 2 * speed * 60 / steps)
        m = RSCMeasurement(
            speed_mps=max(0.0, speed),
            cadence_spm=round(steps / 2 if spec.per_foot else steps),
            stride_length_m=stride if spec.stride else None,
            total_distance_m=self._counter(i, t) if spec.total_distance else None,
            running=v >= RUN_WALK_MPS,
        )
        return encode_rsc_measurement(m)

    def _counter(self, i: int, t: float) -> float:
        n = bisect.bisect_right(self.restarts, t)
        base = self._restart_distance[n - 1] if n else 0.0
        raw = round((self.tl.distance[i] - base) * self.fp.scale * 10)
        return (raw % _U32_DECI) / 10  # a u32 counter wraps

    def garbage(self, payload: bytes) -> bytes:
        # Shorter than the 4 bytes every RSC measurement has: always undecodable.
        return payload[: self.fault_rng.randint(0, 3)]


class _HeartStrap(_Device):
    kind: SensorKind = "hrm"
    characteristic = HEART_RATE_MEASUREMENT
    order = 1

    def __init__(self, sim: Simulation, spec: HeartStrapSpec) -> None:
        super().__init__(sim, spec)
        self.hs = spec
        self.beats, self.rr = self._beat_sequence(random.Random(f"{sim.scenario.seed}/beats"))

    def _beat_sequence(self, rng: random.Random) -> tuple[list[float], list[float]]:
        tl, hrv = self.tl, self.tl.run.runner.hrv
        beats: list[float] = []
        rrs: list[float] = []
        t = rng.uniform(0.0, 0.5)
        while t <= tl.duration_s:
            rr = 60 / tl.hr[tl.index(t)] * (1 + rng.gauss(0, hrv))
            t += rr
            beats.append(t)
            rrs.append(rr)
        return beats, rrs

    def payload(self, k: int, t: float) -> bytes:
        tl, spec, runner = self.tl, self.hs, self.tl.run.runner
        i = tl.index(t)
        bpm = tl.hr[i] + self.rng.gauss(0, HR_NOISE_BPM)
        bpm = max(runner.resting_hr, min(runner.max_hr, bpm))
        rr: tuple[float, ...] = ()
        if spec.rr:
            lo = bisect.bisect_right(self.beats, t - spec.interval_s)
            rr = tuple(self.rr[lo : bisect.bisect_right(self.beats, t)])
        energy = None
        if spec.energy and k % ENERGY_EVERY == 0:
            energy = min(0xFFFF, int(KJ_PER_KG_KM * runner.mass_kg * tl.distance[i] / 1000))
        m = HeartRateMeasurement(round(bpm), True if spec.contact else None, energy, rr)
        return encode_heart_rate(m, hr_u16=spec.hr_u16)

    def garbage(self, payload: bytes) -> bytes:
        variant = self.fault_rng.randrange(3)
        if variant == 0:
            return b""
        if variant == 1:  # announces a u16 heart rate, carries one byte
            return bytes((0x01, payload[1]))
        # the flags alone: the heart rate every measurement carries is missing (a strap's
        # dangling odd byte after its RR intervals is salvaged, so it is no fault here)
        return payload[:1]


# -- the simulation ------------------------------------------------------------------------


class Simulation:
    """A scenario played out: the true timeline, every queue item, and the ground truth."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.timeline = Timeline(scenario.run)
        items: list[_Timed] = []
        malformed: list[tuple[SensorKind, float]] = []
        restarts: tuple[float, ...] = ()
        devices: list[_Device] = []
        if scenario.footpod is not None:
            footpod = _Footpod(self, scenario.footpod)
            restarts = footpod.restarts
            devices.append(footpod)
        if scenario.hrm is not None:
            devices.append(_HeartStrap(self, scenario.hrm))
        for device in devices:
            items += device.build()
            malformed += [(device.kind, t) for t in device.malformed]
        items.sort(key=lambda item: item[:4])
        self._items = items
        self.truth = truth_of(self.timeline, restarts, malformed)

    def timed_items(self, start_at: float = 0.0) -> Iterator[tuple[float, QueueItem]]:
        """``(clock time, item)`` in time order; run time 0 is ``start_at``."""
        for t, _, _, _, item in self._items:
            yield start_at + t, _shifted(item, start_at) if start_at else item

    def items(self, start_at: float = 0.0) -> Iterator[QueueItem]:
        for _, item in self.timed_items(start_at):
            yield item


def _shifted(item: QueueItem, dt: float) -> QueueItem:
    if isinstance(item, Notification):
        return replace(item, received_at=item.received_at + dt)
    if isinstance(item, SensorEvent):
        return replace(item, at=item.at + dt)
    return item


def iter_items(scenario: Scenario, *, start_at: float = 0.0) -> Iterator[QueueItem]:
    """Every notification and link event of ``scenario``, in time order, without waiting."""
    yield from Simulation(scenario).items(start_at)


def iter_notifications(scenario: Scenario, *, start_at: float = 0.0) -> Iterator[Notification]:
    """Only the notifications (footpod, HR strap, battery) of ``scenario``, in time order."""
    for item in iter_items(scenario, start_at=start_at):
        if isinstance(item, Notification):
            yield item


# -- the driver ----------------------------------------------------------------------------


class SimulatedDriver:
    """A :class:`~agent.sensors.base.SensorDriver` that plays a scenario on a clock.

    Items go on :attr:`queue` when the clock reaches their time (run time 0 is the clock's
    ``now()`` at :meth:`start`, kept in :attr:`started_at`). When the scenario is played out,
    or on :meth:`stop`, it puts :data:`~agent.sensors.base.END_OF_STREAM` (unless
    ``end_with_sentinel`` is False); :meth:`stop` first reports a ``Disconnected`` for each
    device still connected. Use ``async with`` or start/stop.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        clock: Clock | None = None,
        queue: asyncio.Queue[QueueItem] | None = None,
        end_with_sentinel: bool = True,
    ) -> None:
        self.simulation = Simulation(scenario)
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.queue: asyncio.Queue[QueueItem] = queue if queue is not None else asyncio.Queue()
        self.end_with_sentinel = end_with_sentinel
        self.started_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected: dict[str, SensorKind] = {}
        self._ended = False

    @property
    def truth(self) -> GroundTruth:
        return self.simulation.truth

    async def start(self) -> None:
        """Start playing; a second call does nothing."""
        if self._task is None:
            self.started_at = self.clock.now()
            self._task = asyncio.create_task(self._play(self.started_at), name="stridewatch-sim")

    async def wait(self) -> None:
        """Until the scenario has been played out (or the driver stopped)."""
        if self._task is not None:
            await asyncio.wait((self._task,))
            if not self._task.cancelled() and (exc := self._task.exception()) is not None:
                raise exc

    async def stop(self) -> None:
        """Stop playing; idempotent."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait((task,))
        for address, kind in list(self._connected.items()):
            await self._put(Disconnected(address, kind, self.clock.now(), "driver stopped"))
        await self._end()

    async def __aenter__(self) -> SimulatedDriver:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _play(self, origin: float) -> None:
        for t, item in self.simulation.timed_items(origin):
            delay = t - self.clock.now()
            if delay > 0:
                await self.clock.sleep(delay)
            await self._put(item)
        await self._end()

    async def _put(self, item: QueueItem) -> None:
        await self.queue.put(item)
        if isinstance(item, Connected):
            self._connected[item.address] = item.kind
        elif isinstance(item, Disconnected):
            self._connected.pop(item.address, None)

    async def _end(self) -> None:
        if self.end_with_sentinel and not self._ended:
            self._ended = True
            await self.queue.put(END_OF_STREAM)
