"""Runs from sensor readings: the state machine, distance, cadence, intensity, and the flush.

:class:`Recorder` is synchronous and does no I/O: it takes decoded sensor events
(:mod:`agent.sensors.base`) stamped with clock seconds, and keeps at most one active run:

    idle ─(speed ≥ start_speed or running flag)─▶ running ⇄ paused ─(idle timeout, stop)─▶ done

Pausing has hysteresis (below ``pause_below``, resume above ``resume_above``) and a debounce of
:data:`DEBOUNCE_SAMPLES`. What happens while paused (distance walked, heart-rate load) is held
*pending*: it joins the run when the runner moves again and is dropped if the run ends there,
so a run ends at its last movement, and time the footpod's counter advances is moving time
whatever its speed field says. Heart rate never counts as movement; a heart-rate strap with no
footpod records an HR-only session (time and load, no distance).

Distance comes from the footpod's total-distance counter, else from speed over time; a counter
that stays still while speed says the runner moves is frozen, and speed takes over (the run's
``distance_source`` says which gave it). Cadence is stored only where it can be human; whether a
footpod counts one foot is decided, and undone, only from :data:`PER_FOOT_DECIDE_S` of running.

:meth:`Recorder.take_flushes` hands out what changed since the last call as
:class:`~agent.models.Flush` objects; :class:`agent.store.writer.FlushSink` writes them to the
store (one transaction each), and :class:`agent.store.writer.RecordingWriter` does that on a
thread of its own for the daemon. Recording and the store never import each other: what this
module needs of the store is the :class:`RunStore` and :class:`Sink` protocols, which the
store's classes satisfy as they are.

Over 400 lines: the state machine and the accumulators it drives (odometer, intensity,
the active run) change together on every sample, and the flush is what they add up to.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from agent.config import Settings
from agent.errors import InputError
from agent.models import Flush, Run, SampleRow, Source
from agent.recording.intensity import ZONES, HeartProfile, edwards_trimp, session_rpe_load
from agent.sensors.base import (
    HEART_RATE_MEASUREMENT,
    RSC_MEASUREMENT,
    Connected,
    DecodeFailed,
    Disconnected,
    Measurement,
    Notification,
    QueueItem,
    SensorEvent,
    decode_notification,
)
from agent.sensors.gatt import (
    HeartRateMeasurement,
    RSCMeasurement,
    hr_essentials,
    rsc_essentials,
)
from agent.units import utc_iso

State = Literal["idle", "running", "paused"]
DistanceSource = Literal["counter", "speed"]

log = logging.getLogger("stridewatch.recorder")


# -- what this module needs of the store (structural: agent.store's classes satisfy them) ----


class RunStore(Protocol):
    """The store as the ``rpe`` and ``calibrate`` helpers and :func:`replay` use it."""

    def get_run(self, run_id: int) -> Run: ...

    def run_row(self, run_id: int) -> dict[str, Any]: ...

    def set_rpe(self, run_id: int, rpe: int, srpe: float) -> None: ...

    def add_calibration(self, address: str, factor: float, at: datetime, note: str) -> None: ...

    def batched_writes(self) -> AbstractContextManager[None]: ...


class Sink(Protocol):
    """Where :func:`replay` writes flushes (:class:`agent.store.writer.FlushSink`)."""

    @property
    def store(self) -> RunStore: ...

    def write(self, flushes: Iterable[Flush]) -> list[int | None]: ...


# Consecutive samples needed to pause or resume: one slow footpod sample (a stumble, a
# packet decoded mid-stride) must not pause a run. At ~1 Hz footpods this is ~3 s.
DEBOUNCE_SAMPLES = 3
# Gaps between samples longer than this are not bridged by integrating speed, nor counted as
# moving time: nobody knows what the runner did in a 20 s dropout. A total-distance counter
# does know, so a counter delta over a longer gap is kept (and its time counts as moving).
MAX_GAP_S = 5.0
# A counter step faster than this over its interval is a glitch or a counter from another
# session, not running: 12 m/s is above the 100 m world-record average (10.4 m/s).
MAX_SPEED_MPS = 12.0
# A counter step is compared with at least this interval, so two notifications that arrive
# in the same instant (BlueZ batching) do not turn a 0.3 m step into an "impossible" speed.
MIN_COUNTER_DT_S = 1.0
# A total-distance counter that stays still this long while speed says the runner moves at
# least FROZEN_MIN_SPEED_MPS is frozen (a treadmill emulator for Zwift sends the flag with the
# counter stuck at 10 dm): distance comes from speed, from the start of the stillness. 1 m/s
# for 5 s is 50 counter units (1/10 m); a working counter moves within a second or two.
FROZEN_COUNTER_S = 5.0
FROZEN_MIN_SPEED_MPS = 1.0
# Cadence a human can have, in steps/min: nobody moves at under 40; above 2 m/s (8:20/km, a
# run) runners take 150-200 and never under 100; above 240 is a doubled per-step reading or
# noise (elite distance runners stay near 200). Anything else is stored as unknown (None).
RUNNING_SPEED_MPS = 2.0
MIN_CADENCE = 40.0
RUNNING_MIN_CADENCE = 100.0
MAX_CADENCE = 240.0
# Per-foot footpods report half the step rate: above RUNNING_SPEED_MPS their raw cadence is
# 60-110 (half of 120-220); a per-step footpod's is 110-240. One sample proves nothing (a
# footpod's first estimate lags: 60/min at 2.5 m/s, then 170), so a footpod is taken to be
# per-foot, or per-step again, only after this many seconds of running whose cadence says so
# without a sample saying otherwise; samples in between have no cadence.
PER_FOOT_MIN_CADENCE = 60
PER_FOOT_MAX_CADENCE = 110
PER_FOOT_DECIDE_S = 30.0
# An HR-only session starts after this long at or above this fraction of heart-rate reserve
# with no footpod around: easy running is above 50 % HRR, sitting at a desk is far below 40 %.
HR_ONLY_MIN_HRR = 0.4
HR_ONLY_START_S = 60.0
# A "run" with less moving time than this was a few strides (to the car, across a room):
# it is dropped when it ends, and deleted if a flush had already stored it. Not a run taken
# over after a crash: whatever was stored of it stays (the rest of it may have been lost).
MIN_RUN_S = 30.0


class Intensity:
    """Heart-rate sums of a run: time, beats, maximum, TRIMP, time per zone.

    ``per_bpm`` caches each heart rate's (Banister TRIMP per second, zone): heart rates are
    whole beats/min, so a run needs a few dozen ``exp`` calls, not one per sample.
    """

    __slots__ = ("beats", "heart", "hr_s", "max_hr", "per_bpm", "trimp", "zone_s")

    def __init__(self, heart: HeartProfile, per_bpm: dict[int, tuple[float, int]]) -> None:
        self.heart = heart
        self.per_bpm = per_bpm
        self.hr_s = 0.0
        self.beats = 0.0  # bpm x seconds: avg = beats / hr_s
        self.max_hr = 0.0
        self.trimp = 0.0
        # Index 0 is time below zone 1; 1..5 are Karvonen zones 1..5.
        self.zone_s = [0.0] * (ZONES + 1)

    def add_all(self, pending: list[tuple[int, float]]) -> None:
        """Take every held ``(bpm, seconds)`` and empty the list (once per footpod sample:
        the loop body is inlined, a call per heart-rate sample showed in replay's profile)."""
        per_bpm, zone_s = self.per_bpm, self.zone_s
        for bpm, seconds in pending:
            if bpm > self.max_hr:
                self.max_hr = bpm
            if seconds <= 0:
                continue
            per = per_bpm.get(bpm)
            if per is None:
                per = per_bpm[bpm] = (self.heart.banister(bpm, 1.0), self.heart.zone(bpm))
            self.hr_s += seconds
            self.beats += bpm * seconds
            self.trimp += per[0] * seconds
            zone_s[per[1]] += seconds
        pending.clear()


class Odometer:
    """Distance from one footpod: total-distance counter deltas, else speed over time (also
    while the counter is frozen). After each :meth:`step`, ``from_speed`` says where its
    metres came from and ``counter_speed`` is the counter's advance per second (0 if none)."""

    __slots__ = (
        "changed_t",
        "counter_speed",
        "factor",
        "from_speed",
        "last_speed",
        "last_t",
        "last_total",
        "stall_counted",
        "still_m",
        "still_s",
    )

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.reset()

    def reset(self) -> None:
        """Forget the counter and the last sample: after a reconnect both start afresh."""
        self.last_total: float | None = None
        self.last_t: float | None = None
        self.last_speed = 0.0
        self.from_speed = False
        self.counter_speed = 0.0
        self.still_s = 0.0  # counter still while speed says moving: seconds, and
        self.still_m = 0.0  # metres by speed not yet counted
        self.stall_counted = 0.0  # metres counted by speed since the counter last moved
        self.changed_t: float | None = None  # when the counter last changed

    def step(self, t: float, speed: float, total: float | None) -> tuple[float, float]:
        """Advance to a sample; return (calibrated metres, seconds of moving time covered)."""
        last_t = self.last_t
        dt = 0.0 if last_t is None or t < last_t else t - last_t
        self.counter_speed = 0.0
        if total is not None:
            metres, covered = self._count(t, dt, speed, total)
        else:
            self.last_total, self.from_speed = None, True
            covered = dt if dt <= MAX_GAP_S else 0.0
            metres = (speed + self.last_speed) / 2.0 * covered
        self.last_t, self.last_speed = t, speed
        return metres * self.factor, covered

    def _count(self, t: float, dt: float, speed: float, total: float) -> tuple[float, float]:
        """A counter step is judged over the time since the counter last moved (a treadmill
        counting in 0.01-mile steps moves every few seconds, by 16 m at once); metres already
        counted from speed while it stood still are not counted again."""
        last, self.last_total = self.last_total, total
        if total == last and speed >= FROZEN_MIN_SPEED_MPS:
            return self._still(dt, speed)
        counted = self.stall_counted
        self.still_s = self.still_m = self.stall_counted = 0.0
        self.from_speed = False
        metres = 0.0  # first value, a restarted counter, or an impossible step: baseline
        if last is not None and total > last:
            delta = total - last
            since = t - self.changed_t if self.changed_t is not None else dt
            span = max(since, dt, MIN_COUNTER_DT_S)
            if delta <= MAX_SPEED_MPS * span:
                metres, self.counter_speed = max(0.0, delta - counted), delta / span
        if total != last:
            self.changed_t = t
        return metres, dt if dt <= MAX_GAP_S or metres > 0 else 0.0

    def _still(self, dt: float, speed: float) -> tuple[float, float]:
        """The counter did not move while speed says the runner did: speed's metres are held
        for :data:`FROZEN_COUNTER_S`, then counted (the counter is frozen) from then on."""
        covered = dt if dt <= MAX_GAP_S else 0.0
        self.still_s += covered
        self.still_m += (speed + self.last_speed) / 2.0 * covered
        if self.still_s <= FROZEN_COUNTER_S:
            return 0.0, covered
        metres, self.still_m, self.from_speed = self.still_m, 0.0, True
        self.stall_counted += metres
        return metres, covered


@dataclass(slots=True)
class ActiveRun:
    """The run being recorded: its totals so far and the samples not yet flushed."""

    key: int
    start_t: float
    source: Source
    created_at: str
    hr: Intensity
    device: str | None = None
    hr_only: bool = False
    calibration: float = 1.0
    db_id: int | None = None
    resumed: bool = False  # taken over from a crash: its stored samples are never deleted
    state: State = "running"
    last_active_t: float = 0.0
    last_sample_t: float = float("-inf")
    distance_m: float = 0.0
    pending_m: float = 0.0
    counter_m: float = 0.0  # metres from the counter and from speed: the distance source
    speed_m: float = 0.0
    moving_s: float = 0.0
    streak: int = 0
    tentative_s: float = 0.0
    cadence_s: float = 0.0
    steps: float = 0.0
    max_cadence: float = 0.0
    max_speed: float = 0.0
    # Heart-rate samples since the last movement: (bpm, seconds). They join ``intensity``
    # when the runner moves again and are dropped if the run ends first.
    pending: list[tuple[int, float]] = field(default_factory=list)
    samples: list[SampleRow] = field(default_factory=list)

    @property
    def elapsed_s(self) -> float:
        return max(0.0, self.last_active_t - self.start_t)


class Recorder:
    """The run state machine. Feed it events with :meth:`handle`; flush with
    :meth:`take_flushes`. ``epoch`` turns clock seconds into unix seconds (wall time)."""

    def __init__(
        self,
        settings: Settings,
        *,
        epoch: float,
        source: Source = "ble",
        calibrations: Mapping[str, float] | None = None,
        per_foot: Iterable[str] = (),
    ) -> None:
        rec = settings.recording
        self.epoch = epoch
        self.source: Source = source
        self.heart = HeartProfile(
            settings.runner.max_hr, settings.runner.resting_hr, settings.runner.sex
        )
        self.start_speed, self.pause_below = rec.start_speed, rec.pause_below
        self.resume_above, self.idle_s = rec.resume_above, rec.idle_timeout_min * 60.0
        self.calibrations = dict(calibrations or {})
        self._declared = {a.upper() for a in settings.sensors.per_foot}
        self.per_foot = {*self._declared, *(a.upper() for a in per_foot)}
        self.active: ActiveRun | None = None
        self.decode_failures = 0
        # GATT bytes past the fields a payload's flags announce, per device, since the last
        # run ended (logged the first time).
        self.leftover_bytes: dict[str, int] = {}
        self._keys = itertools.count(1)
        self._odometers: dict[str, Odometer] = {}
        self._finished: list[Flush] = []
        self._new_per_foot: list[tuple[str, bool]] = []
        # Footpods whose cadence says the opposite of self.per_foot: (last t, seconds so far).
        self._against: dict[str, tuple[float, float]] = {}
        self._footpods: set[str] = set()
        self._footpod_t = float("-inf")
        self._hr_t: float | None = None
        self._hr = 0
        self._effort_since: float | None = None
        self._pre: list[tuple[int, float]] = []
        self._per_bpm: dict[int, tuple[float, int]] = {}

    # -- public ------------------------------------------------------------------------

    @property
    def state(self) -> State:
        return "idle" if self.active is None else self.active.state

    def handle(self, event: SensorEvent) -> None:
        """Take one sensor event (in clock-time order)."""
        at = event.at
        if type(event) is Measurement:
            value = event.value
            leftover = getattr(value, "leftover", 0)
            if leftover:
                self._leftover(event.address, leftover)
            if type(value) is RSCMeasurement:
                speed, cadence = value.speed_mps, value.cadence_spm
                total, running = value.total_distance_m, value.running
                self.handle_rsc(event.address, at, speed, cadence, total, running)
                return
            if type(value) is HeartRateMeasurement:
                self.handle_hr(at, value.bpm, value.sensor_contact)
                return
        self.tick(at)
        if isinstance(event, Connected | Disconnected):
            self._on_connection(event)
        elif isinstance(event, DecodeFailed):
            self.decode_failures += 1

    def tick(self, now: float) -> None:
        """End the active run once it has been idle for ``idle_timeout_min``."""
        run = self.active
        if run is not None and now - run.last_active_t >= self.idle_s:
            self._end(run)

    def stop(self) -> None:
        """The daemon stops: end the active run at its last movement."""
        if self.active is not None:
            self._end(self.active)

    def resume(self, row: Mapping[str, Any], last_sample_t: float | None) -> None:
        """Take over a run a crash left ``open``; it ends at the next :meth:`tick` unless
        the runner moves again within the idle limit."""
        if self.active is not None:
            self._end(self.active)
        hr = Intensity(self.heart, self._per_bpm)
        run = _run_from_stored(row, next(self._keys), self.epoch, hr)
        if last_sample_t is not None:
            run.last_sample_t = last_sample_t
        self.active = run

    def take_flushes(self) -> list[Flush]:
        """Runs ended since the last call, then the active run's progress (if any)."""
        flushes, self._finished = self._finished, []
        if self.active is not None:
            flushes.append(self._flush(self.active, closed=False))
        return flushes

    @property
    def unflushed(self) -> int:
        """Samples held in memory, waiting for the next flush."""
        held = sum(len(f.samples) for f in self._finished)
        return held + (len(self.active.samples) if self.active is not None else 0)

    # -- footpod -----------------------------------------------------------------------

    def handle_rsc(
        self, address: str, t: float, speed: float, steps: int, total: float | None, running: bool
    ) -> None:
        """:meth:`handle` of an RSC measurement, as ``gatt.rsc_essentials`` gives its fields
        (replay's hot loop calls this directly: no event objects)."""
        run = self.active
        if run is not None and t - run.last_active_t >= self.idle_s:
            self._end(run)
            run = None
        odometer = self._odometers.get(address) or self._odometer(address)
        metres, dt = odometer.step(t, speed, total)
        self._footpod_t = t
        if run is None or run.hr_only:
            if speed < self.start_speed and not running:
                return
            run = self._start_footpod(run, address, t)
            metres = dt = 0.0
        elif run.device is None:
            run.device = address
        elif run.device != address:
            return  # a second footpod: the run follows the one it started with
        cadence = self._cadence(address, t, speed, steps) if steps > 0 else None
        if metres:
            if odometer.from_speed:
                run.speed_m += metres
            else:
                run.counter_m += metres
        # A counter advancing at a runner's pace is movement, whatever the speed field says.
        counted = odometer.counter_speed
        self._advance(run, t, dt, metres, counted if counted > speed else speed, speed, cadence)
        self._emit(run, t, speed, cadence)

    def _advance(
        self,
        run: ActiveRun,
        t: float,
        dt: float,
        metres: float,
        moving: float,
        speed: float,
        cadence: float | None,
    ) -> None:
        """Move the state machine on ``moving`` m/s (speed, or the counter's if faster)."""
        if run.state == "running":
            run.distance_m += metres
            if moving >= self.pause_below:
                run.moving_s += run.tentative_s + dt
                run.tentative_s, run.streak = 0.0, 0
                self._moved(run, t, dt, speed, cadence)
            else:
                run.tentative_s += dt
                run.streak += 1
                if run.streak >= DEBOUNCE_SAMPLES:
                    run.state, run.tentative_s, run.streak = "paused", 0.0, 0
            return
        run.pending_m += metres
        if moving < self.resume_above:
            run.tentative_s, run.streak = 0.0, 0
            return
        run.tentative_s += dt
        run.streak += 1
        if run.streak >= DEBOUNCE_SAMPLES:
            run.moving_s += run.tentative_s
            run.state, run.tentative_s, run.streak = "running", 0.0, 0
            self._moved(run, t, dt, speed, cadence)

    def _moved(
        self, run: ActiveRun, t: float, dt: float, speed: float, cadence: float | None
    ) -> None:
        """The footpod saw the runner move: count speed and cadence, then :meth:`_activity`
        (inlined: this runs once per footpod sample)."""
        if speed <= MAX_SPEED_MPS and speed > run.max_speed:
            run.max_speed = speed
        if cadence:
            run.cadence_s += dt
            run.steps += cadence * dt
            if cadence > run.max_cadence:
                run.max_cadence = cadence
        run.last_active_t = t
        run.distance_m += run.pending_m
        run.pending_m = 0.0
        if run.pending:
            run.hr.add_all(run.pending)

    def _activity(self, run: ActiveRun, t: float) -> None:
        """The runner moved at ``t``: what was pending belongs to the run."""
        run.last_active_t = t
        run.distance_m += run.pending_m
        run.pending_m = 0.0
        if run.pending:
            run.hr.add_all(run.pending)

    def _cadence(self, address: str, t: float, speed: float, steps: int) -> float | None:
        """Steps/min from a footpod's cadence (``steps`` > 0), or None where unknown."""
        per_foot = self._per_foot(address, t, speed, steps)
        if per_foot is None:
            return None
        cadence = steps * 2.0 if per_foot else float(steps)
        if cadence > MAX_CADENCE or cadence < MIN_CADENCE:
            return None
        if speed > RUNNING_SPEED_MPS and cadence < RUNNING_MIN_CADENCE:
            return None
        return cadence

    def _per_foot(self, address: str, t: float, speed: float, steps: int) -> bool | None:
        """Whether ``address`` counts one foot, as of this sample; None while this sample
        says otherwise for less than :data:`PER_FOOT_DECIDE_S` (its cadence is unknown)."""
        believed = address in self.per_foot
        if speed <= RUNNING_SPEED_MPS or not PER_FOOT_MIN_CADENCE <= steps <= MAX_CADENCE:
            return believed  # no evidence either way
        if (steps < PER_FOOT_MAX_CADENCE) == believed:
            self._against.pop(address, None)
            return believed
        last_t, against_s = self._against.get(address, (t, 0.0))
        if 0 < t - last_t <= MAX_GAP_S:
            against_s += t - last_t
        if against_s < PER_FOOT_DECIDE_S:
            self._against[address] = (t, against_s)
            return None
        del self._against[address]
        self._decide_per_foot(address, not believed)
        return not believed

    def _decide_per_foot(self, address: str, per_foot: bool) -> None:
        self._new_per_foot.append((address, per_foot))
        if per_foot:
            self.per_foot.add(address)
            log.info("footpod %s sends cadence per foot: doubled from now on", address)
            return
        self.per_foot.discard(address)
        log.info("footpod %s sends cadence per step after all: no longer doubled", address)
        if address in self._declared:
            log.warning("footpod %s: remove it from sensors.per_foot in the config", address)

    def _leftover(self, address: str, count: int) -> None:
        seen = self.leftover_bytes.get(address)
        self.leftover_bytes[address] = (seen or 0) + count
        if seen is None:
            what = "byte(s) past the fields its flags announce: ignored, counted per run"
            log.info("%s sends %d %s", address, count, what)

    def _odometer(self, address: str) -> Odometer:
        odometer = self._odometers.get(address)
        if odometer is None:
            odometer = Odometer(self.calibrations.get(address, 1.0))
            self._odometers[address] = odometer
        return odometer

    def _start_footpod(self, run: ActiveRun | None, address: str, t: float) -> ActiveRun:
        if run is None:
            run = self._new_run(t)
        run.hr_only, run.device, run.state = False, address, "running"
        run.calibration = self._odometer(address).factor
        run.last_active_t = t
        return run

    # -- heart rate --------------------------------------------------------------------

    def handle_hr(self, t: float, bpm: int, contact: bool | None) -> None:
        """:meth:`handle` of a heart-rate measurement, as ``gatt.hr_essentials`` gives it."""
        run = self.active
        if run is not None and t - run.last_active_t >= self.idle_s:
            self._end(run)
        if bpm <= 0 or contact is False:
            self._hr_t = None  # strap off the skin: its numbers are noise
            return
        last, self._hr_t, self._hr = self._hr_t, t, bpm
        dt = t - last if last is not None and 0 < t - last <= MAX_GAP_S else 0.0
        run = self.active
        if run is None:
            self._maybe_start_hr_only(t, bpm, dt)
            return
        run.pending.append((bpm, dt))
        if run.hr_only:
            if self.heart.fraction(bpm) >= HR_ONLY_MIN_HRR:
                run.moving_s += dt
                self._activity(run, t)
            self._emit(run, t, None, None)

    def _maybe_start_hr_only(self, t: float, bpm: int, dt: float) -> None:
        footpod_near = bool(self._footpods) or t - self._footpod_t <= HR_ONLY_START_S
        if footpod_near or self.heart.fraction(bpm) < HR_ONLY_MIN_HRR:
            self._effort_since = None
            self._pre.clear()
            return
        if self._effort_since is None:
            self._effort_since = t
        self._pre.append((bpm, dt))
        if t - self._effort_since >= HR_ONLY_START_S:
            run = self._new_run(self._effort_since)
            run.hr_only, run.moving_s = True, t - self._effort_since
            run.hr.add_all(self._pre)
            self._effort_since = None
            run.last_active_t = t
            self._emit(run, t, None, None)

    # -- runs --------------------------------------------------------------------------

    def _on_connection(self, event: Connected | Disconnected) -> None:
        if event.kind == "footpod":
            self._odometer(event.address).reset()
            if isinstance(event, Connected):
                self._footpods.add(event.address)
            else:
                self._footpods.discard(event.address)
        else:
            self._hr_t = None

    def _new_run(self, t: float) -> ActiveRun:
        now = utc_iso(datetime.now(UTC))
        hr = Intensity(self.heart, self._per_bpm)
        run = ActiveRun(next(self._keys), t, self.source, now, hr)
        run.last_active_t = t
        self.active = run
        return run

    def _emit(self, run: ActiveRun, t: float, speed: float | None, cadence: float | None) -> None:
        wall = self.epoch + t
        if wall <= run.last_sample_t:
            return  # never two samples at one instant, nor one older than what is stored
        run.last_sample_t = wall
        hr = self._hr if self._hr_t is not None and t - self._hr_t <= MAX_GAP_S else None
        run.samples.append((wall, run.distance_m, speed, cadence, hr))

    def _end(self, run: ActiveRun) -> None:
        run.pending_m, run.tentative_s = 0.0, 0.0
        run.pending.clear()
        flush = self._flush(run, closed=True)
        if run.moving_s < MIN_RUN_S and not run.resumed:
            flush = replace(flush, samples=[], discard=True)
        self._finished.append(flush)
        self.active = None
        self.leftover_bytes = {}

    def _flush(self, run: ActiveRun, *, closed: bool) -> Flush:
        samples, run.samples = run.samples, []
        per_foot, self._new_per_foot = tuple(self._new_per_foot), []
        row = _row(run, self.epoch, closed)
        return Flush(run.key, run.db_id, row, samples, closed, per_foot)


def _row(run: ActiveRun, epoch: float, closed: bool) -> dict[str, Any]:
    """The ``runs`` columns of a run (see ``store.RECORDED_COLUMNS``)."""
    hr = run.hr
    start = epoch + run.start_t
    return {
        "started_at": utc_iso(datetime.fromtimestamp(start, UTC)),
        "ended_at": utc_iso(datetime.fromtimestamp(start + run.elapsed_s, UTC)),
        "distance_m": 0.0 if run.hr_only else run.distance_m,
        "moving_s": run.moving_s,
        "elapsed_s": run.elapsed_s,
        "source": run.source,
        "status": "closed" if closed else "open",
        "device": run.device,
        "avg_hr": hr.beats / hr.hr_s if hr.hr_s else None,
        "max_hr": hr.max_hr or None,
        # A time-weighted mean never exceeds the largest value (floating point may: 240.00..03)
        "avg_cadence": min(run.steps / run.cadence_s, run.max_cadence or math.inf)
        if run.cadence_s
        else None,
        "trimp": hr.trimp if hr.hr_s else None,
        "created_at": run.created_at,
        "max_cadence": run.max_cadence or None,
        "avg_speed": run.distance_m / run.moving_s if run.moving_s and not run.hr_only else None,
        "max_speed": run.max_speed or None,
        "edwards_trimp": edwards_trimp(hr.zone_s) if hr.hr_s else None,
        "zone_s": json.dumps([round(s, 1) for s in hr.zone_s]),
        "hr_only": int(run.hr_only),
        "calibration": run.calibration,
        "hr_s": hr.hr_s,
        "cadence_s": run.cadence_s,
        "last_active_t": epoch + run.last_active_t,
        "flushed_at": utc_iso(datetime.now(UTC)),
        "distance_source": None if run.hr_only else _distance_source(run),
    }


def _distance_source(run: ActiveRun) -> DistanceSource | None:
    """Where most of a run's distance came from (None: no distance yet)."""
    if run.speed_m > run.counter_m:
        return "speed"
    return "counter" if run.counter_m else None


def _run_from_stored(row: Mapping[str, Any], key: int, epoch: float, hr: Intensity) -> ActiveRun:
    """An open run as a crash left it, ready to continue (paused until the runner moves)."""
    last_active = row["last_active_t"] - epoch
    distance = row["distance_m"] or 0.0
    cadence_s = row["cadence_s"] or 0.0
    avg_cadence = row["avg_cadence"] or 0.0
    if avg_cadence > MAX_CADENCE:  # stored by a build that still doubled any cadence
        avg_cadence = cadence_s = 0.0
    max_cadence = row["max_cadence"] or 0.0
    run = ActiveRun(
        key=key,
        start_t=last_active - (row["elapsed_s"] or 0.0),
        source=row["source"],
        created_at=row["created_at"],
        hr=hr,
        device=row["device"],
        hr_only=bool(row["hr_only"]),
        calibration=row["calibration"] or 1.0,
        db_id=row["id"],
        resumed=True,
        state="paused",
        last_active_t=last_active,
        distance_m=distance,
        moving_s=row["moving_s"] or 0.0,
        cadence_s=cadence_s,
        steps=avg_cadence * cadence_s,
        max_cadence=max_cadence if max_cadence <= MAX_CADENCE else 0.0,
        max_speed=row["max_speed"] or 0.0,
    )
    if row.get("distance_source") == "speed":
        run.speed_m = distance
    else:
        run.counter_m = distance
    _restore_intensity(hr, row)
    return run


def _restore_intensity(acc: Intensity, row: Mapping[str, Any]) -> None:
    acc.hr_s = row["hr_s"] or 0.0
    acc.beats = (row["avg_hr"] or 0.0) * acc.hr_s
    acc.max_hr = row["max_hr"] or 0.0
    acc.trimp = row["trimp"] or 0.0
    if row["zone_s"]:
        acc.zone_s = [float(s) for s in json.loads(row["zone_s"])]


# -- commands: rpe, calibrate ------------------------------------------------------------

# Footpods drift a few percent until calibrated; a factor outside this range means a wrong
# course length or the wrong run, not a footpod error.
CALIBRATION_RANGE = (0.7, 1.3)
_ADDRESS = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$")


def set_rpe(store: RunStore, run_id: int, rpe: int) -> float:
    """Store a run's RPE; return its session-RPE load (RPE x moving minutes)."""
    run = store.get_run(run_id)
    load = session_rpe_load(rpe, run.moving_s) or 0.0
    store.set_rpe(run_id, rpe, load)
    return load


def calibrate_factor(store: RunStore, address: str, factor: float) -> float:
    """Date a calibration factor for a footpod; return it."""
    address = _address(address)
    low, high = CALIBRATION_RANGE
    if not low <= factor <= high:
        raise InputError(
            f"--factor {factor:g}: must be between {low} and {high} (footpods are off by a "
            "few percent; check the value)"
        )
    store.add_calibration(address, factor, datetime.now(UTC), f"set to {factor:g}")
    return factor


def calibrate_from_run(store: RunStore, address: str, actual_m: float, run_id: int) -> float:
    """The factor that would have made run ``run_id`` measure ``actual_m``; stored, returned."""
    address = _address(address)
    row = store.run_row(run_id)
    if row["device"] != address:
        raise InputError(
            f"run {run_id} was not recorded with footpod {address}"
            + (f" (it was {row['device']})" if row["device"] else "")
        )
    recorded = row["distance_m"] or 0.0
    if recorded <= 0:
        raise InputError(f"run {run_id} has no distance to calibrate from")
    factor = (row.get("calibration") or 1.0) * actual_m / recorded
    low, high = CALIBRATION_RANGE
    if not low <= factor <= high:
        raise InputError(
            f"run {run_id} measured {recorded / 1000:.2f} km, the course {actual_m / 1000:.2f} "
            f"km: a factor of {factor:.2f} is not a footpod error; check the run and the course"
        )
    note = f"run {run_id}: recorded {recorded:.0f} m, course {actual_m:.0f} m"
    store.add_calibration(address, factor, datetime.now(UTC), note)
    return factor


def _address(text: str) -> str:
    address = text.strip().upper()
    if not _ADDRESS.match(address):
        raise InputError(f"{text!r}: expected a Bluetooth address such as C0:FF:EE:00:00:01")
    return address


def replay(
    items: Iterable[QueueItem], recorder: Recorder, sink: Sink, *, batch: int = 5000
) -> None:
    """Batched mode: decode and record ``items`` as fast as they come, writing every ``batch``
    samples (one transaction each), then end the run. For history replays and benchmarks.

    Footpod and heart-rate payloads take the allocation-free decoders (``rsc_essentials``,
    ``hr_essentials``: the same values :meth:`Recorder.handle` would take from the decoded
    event); anything they refuse, and every other item, goes the general way. Commits are
    not fsync'ed one by one (``batched_writes``: :meth:`agent.store.Store.batched_writes`)."""
    with sink.store.batched_writes():
        _replay_items(items, recorder, sink, batch)
        recorder.stop()
        sink.write(recorder.take_flushes())


def _replay_items(items: Iterable[QueueItem], recorder: Recorder, sink: Sink, batch: int) -> None:
    handle, on_rsc, on_hr = recorder.handle, recorder.handle_rsc, recorder.handle_hr
    for item in items:
        if type(item) is Notification:
            char = item.characteristic
            if char == RSC_MEASUREMENT and (rsc := rsc_essentials(item.data)) is not None:
                on_rsc(item.address, item.received_at, *rsc)
            elif char == HEART_RATE_MEASUREMENT and (hr := hr_essentials(item.data)) is not None:
                on_hr(item.received_at, *hr)
            else:
                handle(decode_notification(item))
        elif isinstance(item, SensorEvent):
            handle(item)
        else:
            continue
        active = recorder.active
        if active is not None and len(active.samples) >= batch:
            sink.write(recorder.take_flushes())
