"""A simulated footpod and heart-rate strap: a run model in, spec-exact GATT payloads out.

The simulator is a driver, not a mock: :class:`SimulatedDriver` puts the same
:class:`~agent.sensors.base.Notification` and connection events on its queue that the BLE
driver does, with payloads made by :mod:`agent.sensors.gatt`'s encoders, so everything
downstream runs unchanged. :func:`iter_items` / :func:`iter_notifications` give the same
stream as a plain iterator (an hour-long run in a few tens of milliseconds) for tests,
benchmarks and replay.

The model, all deterministic from ``Scenario.seed``:

- The runner follows the segments' target speeds with a bounded acceleration; the true
  distance integrates that speed (:data:`PHYSICS_STEP_S` steps, trapezoid rule).
- Cadence (steps/min, both feet) follows speed; a per-foot device reports half.
- Stride length is the RSC "instantaneous stride length": the distance between two
  successive contacts of the same foot, i.e. two steps: ``2 * speed * 60 / steps_per_min``.
- The total-distance counter is the true distance since the footpod's last restart (a
  counter reset, or a reconnect: real footpods restart it then), times the footpod's
  ``scale`` (an uncalibrated footpod over- or under-reads by a few percent).
- Heart rate approaches a speed-dependent steady state with a first-order lag (``hr_tau_s``)
  and drifts upward with moving time (cardiac drift); RR intervals come from a beat sequence
  at that heart rate with small variability, so 60 / mean RR matches the bpm.

Ground truth (:class:`GroundTruth`, run-relative seconds) records the true distance, moving
time and pauses, the counter restarts and which payloads were made malformed.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
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

PHYSICS_STEP_S: Final = 0.25
# Recreational runners reach a new pace within a few seconds; 1 m/s² bounds speed changes.
ACCELERATION_MPS2: Final = 1.0
# Below this a footpod detects no steps and reports speed and cadence 0.
STANDING_BELOW_MPS: Final = 0.2
# Walk-run transition: people switch gait near 2.0-2.2 m/s (about 7.5 km/h).
RUN_WALK_MPS: Final = 2.2
CADENCE_NOISE_SPM: Final = 1.5
HR_NOISE_BPM: Final = 0.7
# Fraction of heart-rate reserve (Karvonen) at rest standing, and per m/s of speed: ~55% at
# 2.5 m/s (easy), ~85% at 5 m/s (hard), typical for a trained recreational runner.
HR_RESERVE_STANDING: Final = 0.12
HR_RESERVE_PER_MPS: Final = 0.146
# Running costs about 1 kcal per kg per km (4.184 kJ), nearly independent of pace.
KJ_PER_KG_KM: Final = 4.184
# HRS: energy expended is typically included once every 10 measurements.
ENERGY_EVERY: Final = 10
_U32_DECI = 2**32


# -- the run model -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """``duration_s`` at target ``speed_mps`` (0 = standing or a pause)."""

    duration_s: float
    speed_mps: float
    label: str = "steady"

    def __post_init__(self) -> None:
        if not self.duration_s > 0:
            raise ValueError(f"segment duration {self.duration_s} s: must be positive")
        if not 0 <= self.speed_mps <= 10:
            raise ValueError(f"segment speed {self.speed_mps} m/s: must be 0-10")


def warm_up(duration_s: float = 600.0, speed_mps: float = 2.5) -> Segment:
    return Segment(duration_s, speed_mps, "warm-up")


def steady(duration_s: float, speed_mps: float) -> Segment:
    return Segment(duration_s, speed_mps, "steady")


def cool_down(duration_s: float = 300.0, speed_mps: float = 2.4) -> Segment:
    return Segment(duration_s, speed_mps, "cool-down")


def pause(duration_s: float) -> Segment:
    """Standing still, e.g. at a traffic light."""
    return Segment(duration_s, 0.0, "pause")


@dataclass(frozen=True, slots=True)
class Runner:
    """Physiology; ``hr_tau_s`` is the first-order HR response (30-60 s for moderate steps)."""

    resting_hr: float = 55.0
    max_hr: float = 190.0
    hr_tau_s: float = 40.0
    drift_bpm_per_h: float = 6.0
    hrv: float = 0.03
    mass_kg: float = 70.0

    def steady_hr(self, speed_mps: float, moving_s: float) -> float:
        """The heart rate this speed settles at after ``moving_s`` of running (with drift)."""
        reserve = min(0.98, HR_RESERVE_STANDING + HR_RESERVE_PER_MPS * speed_mps)
        drift = self.drift_bpm_per_h * moving_s / 3600 if speed_mps > 0 else 0.0
        hr = self.resting_hr + reserve * (self.max_hr - self.resting_hr) + drift
        return min(self.max_hr, hr)


def cadence_for(speed_mps: float) -> float:
    """Steps per minute (both feet) at a speed: ~150 at 2.5 m/s rising to ~185 at 5 m/s."""
    if speed_mps < STANDING_BELOW_MPS:
        return 0.0
    if speed_mps < RUN_WALK_MPS:
        return 95 + 12 * speed_mps
    return 150 + 14 * (speed_mps - 2.5)


@dataclass(frozen=True, slots=True)
class RunModel:
    segments: tuple[Segment, ...]
    runner: Runner = Runner()

    def __post_init__(self) -> None:
        if not self.segments:
            raise ValueError("a run model needs at least one segment")

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.segments)

    def with_standing(self, before_s: float = 0.0, after_s: float = 0.0) -> RunModel:
        """Standing still before the start and after the finish (neither counts as a pause)."""
        before = (Segment(before_s, 0.0, "standing"),) if before_s > 0 else ()
        after = (Segment(after_s, 0.0, "standing"),) if after_s > 0 else ()
        return replace(self, segments=before + self.segments + after)

    def with_pause(self, at_s: float, duration_s: float) -> RunModel:
        """The same run with a stop of ``duration_s`` inserted at ``at_s`` (run time)."""
        out: list[Segment] = []
        start = 0.0
        for seg in self.segments:
            end = start + seg.duration_s
            if start < at_s < end:
                out += [replace(seg, duration_s=at_s - start), pause(duration_s)]
                out.append(replace(seg, duration_s=end - at_s))
            else:
                out.append(seg)
                if at_s == end:
                    out.append(pause(duration_s))
            start = end
        if len(out) == len(self.segments):
            raise ValueError(f"pause at {at_s} s: outside the run (0-{start} s, exclusive of 0)")
        return replace(self, segments=tuple(out))


def easy_run(
    *,
    distance_m: float | None = None,
    duration_s: float | None = None,
    speed_mps: float = 2.9,
    warm_up_s: float = 300.0,
    runner: Runner = Runner(),
) -> RunModel:
    """A warm-up at 85% of ``speed_mps``, then steady; about ``distance_m`` or ``duration_s``."""
    if (distance_m is None) == (duration_s is None):
        raise ValueError("give exactly one of distance_m and duration_s")
    warm_speed = 0.85 * speed_mps
    if duration_s is None:
        assert distance_m is not None
        if distance_m <= warm_speed * warm_up_s:
            return RunModel((warm_up(distance_m / warm_speed, warm_speed),), runner)
        rest = (distance_m - warm_speed * warm_up_s) / speed_mps
        return RunModel((warm_up(warm_up_s, warm_speed), steady(rest, speed_mps)), runner)
    if duration_s <= warm_up_s:
        return RunModel((warm_up(duration_s, warm_speed),), runner)
    segments = (warm_up(warm_up_s, warm_speed), steady(duration_s - warm_up_s, speed_mps))
    return RunModel(segments, runner)


def intervals(
    reps: int = 6,
    *,
    work_s: float = 180.0,
    work_mps: float = 4.2,
    recovery_s: float = 90.0,
    recovery_mps: float = 2.3,
    warm_up_s: float = 600.0,
    cool_down_s: float = 300.0,
    easy_mps: float = 2.6,
    runner: Runner = Runner(),
) -> RunModel:
    """Warm-up, ``reps`` x (work, recovery jog), cool-down."""
    if reps < 1:
        raise ValueError(f"reps {reps}: need at least one")
    segments = [warm_up(warm_up_s, easy_mps)]
    for _ in range(reps):
        segments += [Segment(work_s, work_mps, "work"), Segment(recovery_s, recovery_mps, "rest")]
    segments.append(cool_down(cool_down_s, easy_mps))
    return RunModel(tuple(segments), runner)


# -- devices and faults --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """What both simulated devices share: identity, notification rate, battery."""

    address: str = "C0:FF:EE:00:00:00"
    name: str = "Sim"
    interval_s: float = 1.0
    phase_s: float = 0.0
    battery_percent: int = 80
    battery_drain_per_h: float = 1.0
    battery_interval_s: float = 300.0


@dataclass(frozen=True, slots=True)
class FootpodSpec(DeviceSpec):
    """Real footpods notify at 1-2 Hz; ``scale`` is the uncalibrated footpod's distance error."""

    address: str = "C0:FF:EE:00:00:01"
    name: str = "SimPod"
    stride: bool = True
    total_distance: bool = True
    per_foot: bool = False
    scale: float = 1.0
    speed_noise: float = 0.01


@dataclass(frozen=True, slots=True)
class HeartStrapSpec(DeviceSpec):
    """HR straps notify at 1 Hz; half a second after the footpod by default."""

    address: str = "C0:FF:EE:00:00:02"
    name: str = "SimHRM"
    phase_s: float = 0.5
    contact: bool = True
    rr: bool = True
    energy: bool = False
    hr_u16: bool = False


@dataclass(frozen=True, slots=True)
class Dropout:
    """No notifications from ``kind`` (None: both) in [at_s, at_s + duration_s); still connected."""

    at_s: float
    duration_s: float
    kind: SensorKind | None = None


@dataclass(frozen=True, slots=True)
class Disconnect:
    """``Disconnected`` at ``at_s``, ``Connected`` again ``duration_s`` later; the footpod's
    total-distance counter restarts from 0 on reconnect."""

    at_s: float
    duration_s: float
    kind: SensorKind | None = None


@dataclass(frozen=True, slots=True)
class CounterReset:
    """The footpod's total-distance counter restarts from 0 at ``at_s`` (e.g. a power glitch)."""

    at_s: float


@dataclass(frozen=True, slots=True)
class Malformed:
    """Measurement payloads replaced by undecodable bytes: the first one at or after each of
    ``at_s``, and each other one with probability ``rate``."""

    kind: SensorKind | None = None
    rate: float = 0.0
    at_s: tuple[float, ...] = ()


Fault = Dropout | Disconnect | CounterReset | Malformed


@dataclass(frozen=True, slots=True)
class Scenario:
    """A run, the devices that watch it (None: absent) and the faults to inject."""

    run: RunModel
    seed: int = 0
    footpod: FootpodSpec | None = FootpodSpec()
    hrm: HeartStrapSpec | None = HeartStrapSpec()
    faults: tuple[Fault, ...] = ()
    disconnect_at_end: bool = True


# -- ground truth --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TruthSample:
    t: float
    speed_mps: float
    distance_m: float
    hr_bpm: float


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """What really happened, in run-relative seconds.

    A pause is a stretch of zero true speed between the first and last movement; standing
    before the first or after the last movement is neither moving time nor a pause.
    """

    duration_s: float
    distance_m: float
    moving_time_s: float
    pauses: tuple[tuple[float, float], ...]
    moving_from_s: float | None
    moving_until_s: float | None
    counter_restarts_s: tuple[float, ...]
    malformed: tuple[tuple[SensorKind, float], ...]


class Timeline:
    """The true state every :data:`PHYSICS_STEP_S`; lists are read-only by convention."""

    def __init__(self, run: RunModel) -> None:
        self.step_s = PHYSICS_STEP_S
        self.run = run
        n = math.ceil(run.duration_s / self.step_s - 1e-9) + 1
        self.speed = [0.0] * n
        self.distance = [0.0] * n
        self.hr = [0.0] * n
        self._integrate(_targets(run.segments, n, self.step_s))

    def _integrate(self, targets: list[float]) -> None:
        runner, dt = self.run.runner, self.step_s
        alpha = 1 - math.exp(-dt / runner.hr_tau_s)
        max_dv = ACCELERATION_MPS2 * dt
        v = d = moving = 0.0
        hr = self.hr[0] = runner.steady_hr(0.0, 0.0)
        for i in range(1, len(targets) + 1):
            nv = v + max(-max_dv, min(max_dv, targets[i - 1] - v))
            d += (v + nv) / 2 * dt
            if v > 0 or nv > 0:
                moving += dt
            v = nv
            hr += (runner.steady_hr(v, moving) - hr) * alpha
            self.speed[i], self.distance[i], self.hr[i] = v, d, hr

    @property
    def duration_s(self) -> float:
        return (len(self.speed) - 1) * self.step_s

    def index(self, t: float) -> int:
        return max(0, min(len(self.speed) - 1, int(t / self.step_s + 1e-6)))

    def sample(self, t: float) -> TruthSample:
        i = self.index(t)
        return TruthSample(i * self.step_s, self.speed[i], self.distance[i], self.hr[i])

    def moving_intervals(self) -> list[bool]:
        """One flag per step: did the runner move between sample i and i + 1?"""
        s = self.speed
        return [s[i] > 0 or s[i + 1] > 0 for i in range(len(s) - 1)]


def _targets(segments: tuple[Segment, ...], n: int, dt: float) -> list[float]:
    """Target speed for each step (i, i + 1), from the segment holding the step's midpoint."""
    ends = list(_cumulative(s.duration_s for s in segments))
    last = len(segments) - 1
    return [
        segments[min(last, bisect.bisect_right(ends, (i + 0.5) * dt))].speed_mps
        for i in range(n - 1)
    ]


def _cumulative(values: Iterator[float]) -> Iterator[float]:
    total = 0.0
    for v in values:
        total += v
        yield total


def _truth_of(
    tl: Timeline, restarts: tuple[float, ...], malformed: list[tuple[SensorKind, float]]
) -> GroundTruth:
    moving = tl.moving_intervals()
    dt = tl.step_s
    idx = [i for i, m in enumerate(moving) if m]
    pauses: list[tuple[float, float]] = []
    if idx:
        start = None
        for i in range(idx[0], idx[-1] + 1):
            if not moving[i] and start is None:
                start = i
            elif moving[i] and start is not None:
                pauses.append((start * dt, i * dt))
                start = None
    return GroundTruth(
        duration_s=tl.duration_s,
        distance_m=tl.distance[-1],
        moving_time_s=len(idx) * dt,
        pauses=tuple(pauses),
        moving_from_s=idx[0] * dt if idx else None,
        moving_until_s=(idx[-1] + 1) * dt if idx else None,
        counter_restarts_s=restarts,
        malformed=tuple(sorted(malformed, key=lambda km: (km[1], km[0]))),
    )


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
        self.truth = _truth_of(self.timeline, restarts, malformed)

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
