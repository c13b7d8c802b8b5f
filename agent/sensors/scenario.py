"""The simulated run: what the runner does (segments, speeds, heart rate), which devices
are worn and how they fail, and the ground truth the simulator's payloads are checked against.

:mod:`agent.sensors.sim` turns a :class:`Scenario` into spec-exact GATT payloads.

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

"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Final

from agent.sensors.base import SensorKind

PHYSICS_STEP_S: Final = 0.25
# Recreational runners reach a new pace within a few seconds; 1 m/s² bounds speed changes.
ACCELERATION_MPS2: Final = 1.0
# Below this a footpod detects no steps and reports speed and cadence 0.
STANDING_BELOW_MPS: Final = 0.2
# Walk-run transition: people switch gait near 2.0-2.2 m/s (about 7.5 km/h).
RUN_WALK_MPS: Final = 2.2
# Fraction of heart-rate reserve (Karvonen) at rest standing, and per m/s of speed: ~55% at
# 2.5 m/s (easy), ~85% at 5 m/s (hard), typical for a trained recreational runner.
HR_RESERVE_STANDING: Final = 0.12
HR_RESERVE_PER_MPS: Final = 0.146


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


def truth_of(
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
