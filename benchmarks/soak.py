"""Soak: the simulated daemon killed with SIGKILL at 20 random moments of a long run and
restarted at once each time; what the database keeps (issue 15).

One database. Each life is a real ``stridewatch run --simulate --scenario long --speedup 20``
process, sent SIGKILL a random 2-8 real seconds (seeded) after it logs "simulation started",
i.e. 40-160 run seconds in; the next life starts at once and resumes the open run ("was left
open: resuming it"). A last life ends with SIGTERM, which closes the run. After every life the
database must hold the one run (open, then closed), every earlier sample, sample times strictly
increasing and distance never going down.

Each restarted simulation plays the scenario from its start (a warm-up at 2.47 m/s that lasts
longer than any life), so every life is a stretch of road whose true distance the simulator
knows (``Simulation(scenario).timeline``, seed-independent). A kill's loss is that truth, from
the life's start to the kill (run seconds = real seconds since "simulation started" x speedup),
minus the distance the database gained in the life, in seconds of running at the true speed of
the flush interval before the kill. It includes the start of the life, which the notes show
apart: a resumed run stays paused until the footpod shows movement for 3 readings (the
recorder's debounce) and the counter's first reading is only a baseline. (The debounce costs
next to no distance: the recorder holds what a paused run covers and adds it on resuming.)

Baseline: the flush interval (``recording.flush_interval_s``, 5 s by default), the most a crash
may lose; the target adds :data:`SLACK_S`.
"""

from __future__ import annotations

import bisect
import itertools
import random
import signal
import sqlite3
import statistics
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from agent.daemon.virtual import SCENARIOS
from agent.sensors import sim
from agent.sensors.base import RSC_MEASUREMENT
from agent.sensors.gatt import rsc_essentials
from benchmarks.common import STRIDEWATCH, Figure, Section, bench_env, scratch

KILLS = 20
SCENARIO = "long"  # 90 minutes: no life reaches its end (the daemon would stop with it)
SPEEDUP = 20.0  # a life of 2-8 real seconds is 40-160 s of running
LIFE_S = (2.0, 8.0)  # real seconds from "simulation started" to the signal
SEED = 15  # the lives' lengths; life i also plays the simulator with seed i (sensor noise)
FLUSH_S = 5.0  # recording.flush_interval_s (the default): what a crash may lose
START_SPEED = 1.0  # recording.start_speed (the default): a fresh run starts at this speed
# What a kill may lose beyond the flush interval, in seconds of running: 1 s for the footpod's
# reading interval (a flush holds the readings made up to its instant; the stretch run since
# the last of them is in none), and 1 s for the start of the life (the counter's first reading
# is a baseline; the resumed run waits, paused, for 3 readings of movement) and scheduling on a
# loaded 2-core machine (50 ms of real time at 20x: the flush's write on the writer thread, a
# late timer, our reading of the "simulation started" line). tests/test_crash.py allows the
# same 2 s beyond the flush interval.
SLACK_S = 2.0
START_TIMEOUT_S = 30.0  # a daemon's start, on a machine busy with other work
STOP_TIMEOUT_S = 15.0  # a SIGTERM's shutdown is bounded by daemon.SHUTDOWN_TIMEOUT_S (7 s)


@dataclass
class Daemon:
    """A ``stridewatch run`` subprocess whose stderr lines are stamped as they come."""

    proc: subprocess.Popen[str]
    lines: list[tuple[float, str]] = field(default_factory=list)
    reader: threading.Thread | None = None

    @classmethod
    def start(cls, argv: list[str], env: dict[str, str]) -> Daemon:
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
        daemon = cls(proc)
        daemon.reader = threading.Thread(target=daemon._read, daemon=True)
        daemon.reader.start()
        return daemon

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append((time.monotonic(), line.rstrip()))

    def when(self, text: str) -> float:
        """The monotonic time a stderr line containing ``text`` was read."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for at, line in list(self.lines):
                if text in line:
                    return at
            if self.proc.poll() is not None:
                break
            time.sleep(0.002)
        self.end(signal.SIGKILL)
        raise RuntimeError(f"soak: no {text!r} from the daemon:\n{self.stderr()}")

    def end(self, sig: signal.Signals) -> int | None:
        """Send ``sig`` (if still running), wait, and return the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        if self.reader is not None:
            self.reader.join(STOP_TIMEOUT_S)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        return code

    def stderr(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Never leave a daemon behind, whatever went wrong."""
        if self.proc.poll() is None:
            self.end(signal.SIGKILL)


@dataclass(frozen=True, slots=True)
class Stored:
    """What the database holds between lives."""

    runs: list[tuple[int, str, float]]  # (id, status, distance_m)
    # (t, distance_m) in time order: samples are keyed by run and time, so one stored out of
    # order would sit among the earlier ones (and distance would go down).
    samples: list[tuple[float, float]]

    @classmethod
    def read(cls, db: Path) -> Stored:
        if not db.exists():
            return cls([], [])
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            runs = conn.execute("select id, status, distance_m from runs order by id").fetchall()
            samples = conn.execute("select t, distance_m from samples order by t").fetchall()
        finally:
            conn.close()
        return cls(runs, samples)

    @property
    def distance_m(self) -> float:
        return sum(distance or 0.0 for _, _, distance in self.runs)


@dataclass(frozen=True, slots=True)
class Life:
    """One daemon's life: how long, what was true, what was stored, what went wrong."""

    index: int
    sig: str
    real_s: float
    sim_s: float
    truth_m: float
    gained_m: float
    speed_mps: float  # true speed over the flush interval before the signal
    readings: int  # footpod readings the simulator made in the life
    gained_samples: int
    tail_m: float  # true distance from the life's last stored reading to the signal
    run_faults: tuple[str, ...]  # not the one run, open after a kill and closed at the end
    sample_faults: tuple[str, ...]  # duplicates, disorder, distance down, samples gone

    @property
    def faults(self) -> tuple[str, ...]:
        return self.run_faults + self.sample_faults

    @property
    def lost_s(self) -> float:
        return (self.truth_m - self.gained_m) / self.speed_mps

    @property
    def tail_s(self) -> float:
        """Lost after the last stored reading: the flush interval's share of the loss."""
        return self.tail_m / self.speed_mps

    @property
    def start_s(self) -> float:
        """Lost before it: the start of the life (debounce, counter baseline)."""
        return self.lost_s - self.tail_s

    @property
    def missing_samples(self) -> int:
        return self.readings - self.gained_samples


class Truth:
    """The scenario's true distance and footpod readings, in run seconds."""

    def __init__(self, scenario: sim.Scenario) -> None:
        self.scenario = scenario
        self.timeline = sim.Simulation(scenario).timeline
        self.readings = [
            n.received_at
            for n in sim.iter_notifications(scenario)
            if n.characteristic == RSC_MEASUREMENT
        ]

    def distance(self, t0: float, t1: float) -> float:
        return self.timeline.sample(t1).distance_m - self.timeline.sample(t0).distance_m

    def readings_until(self, t: float) -> int:
        return bisect.bisect_right(self.readings, t)

    def run_start_s(self, seed: int) -> float:
        """Run time of the first footpod reading that starts a fresh run (speed or flag)."""
        for n in sim.iter_notifications(replace(self.scenario, seed=seed)):
            fields = rsc_essentials(n.data) if n.characteristic == RSC_MEASUREMENT else None
            if fields is not None and (fields[0] >= START_SPEED or fields[3]):
                return n.received_at
        raise RuntimeError(f"soak: scenario {SCENARIO!r} never starts a run")


def run(quick: bool) -> Section:
    kills, life_s = (2, (1.0, 2.0)) if quick else (KILLS, LIFE_S)
    with scratch("soak") as folder:
        return report(soak(folder, kills, life_s), kills)


def report(lives: list[Life], kills: int) -> Section:
    """The figures of a soak, the table of its lives, and every fault found, for RESULTS.md."""
    section = Section("Soak (SIGKILL and restart)")
    for name, value, target, unit, detail in (*_integrity(lives, kills), *_losses(lives)):
        section.add(Figure("soak", name, value, target, False, unit=unit, detail=detail))
    section.notes.append(_table(lives))
    faults = [f"life {life.index}: {fault}" for life in lives for fault in life.faults]
    if faults:
        section.notes.append("Faults found:\n\n" + "\n".join(f"- {f}" for f in faults))
    return section


def soak(folder: Path, kills: int, life_s: tuple[float, float]) -> list[Life]:
    """``kills`` lives ended by SIGKILL, then one by SIGTERM, on one database."""
    db = folder / "soak.db"
    env = {**bench_env(folder), "PYTHONUNBUFFERED": "1", "TZ": "UTC"}
    truth = Truth(SCENARIOS[SCENARIO]())
    rng = random.Random(SEED)
    lives: list[Life] = []
    first_id: int | None = None
    for index in range(kills + 1):
        sig = signal.SIGKILL if index < kills else signal.SIGTERM
        lives.append(_life(db, env, truth, index, rng.uniform(*life_s), sig, first_id))
        runs = Stored.read(db).runs
        if first_id is None and runs:
            first_id = runs[0][0]
    return lives


def _life(
    db: Path,
    env: dict[str, str],
    truth: Truth,
    index: int,
    wait_s: float,
    sig: signal.Signals,
    first_id: int | None,
) -> Life:
    before = Stored.read(db)
    argv = [STRIDEWATCH, "--db", str(db), "run", "--simulate", "--speedup", f"{SPEEDUP:g}"]
    with Daemon.start([*argv, "--scenario", SCENARIO, "--seed", str(index)], env) as daemon:
        began = daemon.when("simulation started")
        time.sleep(max(0.0, began + wait_s - time.monotonic()))
        sent = time.monotonic()
        code = daemon.end(sig)
    after = Stored.read(db)
    sim_s = (sent - began) * SPEEDUP
    stored_until = _stored_until(truth, index, before, after)
    run_faults = _run_faults(after, sig, first_id)
    if code != (-sig if sig == signal.SIGKILL else 0):
        run_faults.append(f"exit status {code} after {sig.name}: {daemon.stderr()[-300:]!r}")
    if index > 0 and "was left open" not in daemon.stderr():
        run_faults.append("the open run was not resumed")
    return Life(
        index=index,
        sig=sig.name,
        real_s=sent - began,
        sim_s=sim_s,
        truth_m=truth.distance(0.0, sim_s),
        gained_m=after.distance_m - before.distance_m,
        speed_mps=truth.distance(sim_s - FLUSH_S, sim_s) / FLUSH_S,
        readings=truth.readings_until(sim_s),
        gained_samples=len(after.samples) - len(before.samples),
        tail_m=truth.distance(stored_until, sim_s),
        run_faults=tuple(run_faults),
        sample_faults=tuple(_sample_faults(before, after)),
    )


def _stored_until(truth: Truth, seed: int, before: Stored, after: Stored) -> float:
    """Run time of the life's last stored reading: its first one (the scenario's start for a
    resumed run, else the reading that started the run) plus the stored samples' span (their
    times are the readings' run times on another origin)."""
    first = truth.readings[0] if before.runs else truth.run_start_s(seed)
    added = after.samples[len(before.samples) :]
    return first + (added[-1][0] - added[0][0]) if added else first


def _run_faults(after: Stored, sig: signal.Signals, first_id: int | None) -> list[str]:
    """Anything but the one run: open after a kill, closed after SIGTERM."""
    status = "closed" if sig == signal.SIGTERM else "open"
    if len(after.runs) != 1:
        return [f"{len(after.runs)} runs stored: {after.runs}"]
    run_id, stored_status, _ = after.runs[0]
    if (first_id is not None and run_id != first_id) or stored_status != status:
        return [f"the run is {after.runs[0]}, expected run {first_id or run_id} {status}"]
    return []


def _sample_faults(before: Stored, after: Stored) -> list[str]:
    """Earlier samples changed or gone, duplicate or out-of-order times, distance going down
    (the first of each), and a last sample that is not the run's distance."""
    faults = []
    samples = after.samples
    if samples[: len(before.samples)] != before.samples:
        faults.append("samples stored by earlier lives changed or went")
    pairs = list(itertools.pairwise(samples))
    for kind, bad in (
        ("sample time not after the one before", [b[0] <= a[0] for a, b in pairs]),
        ("sample distance below the one before", [b[1] < a[1] for a, b in pairs]),
    ):
        if any(bad):
            i = bad.index(True)
            faults.append(f"{sum(bad)} x {kind}, first {samples[i]} -> {samples[i + 1]}")
    # Samples keep distance to the millimetre (agent/store/samples.py), the run's total as is.
    if after.runs and samples and abs(samples[-1][1] - after.runs[-1][2]) > 0.0005:
        faults.append(
            f"last sample at {samples[-1][1]} m, run at {after.runs[-1][2]} m "
            "(totals and samples not flushed together)"
        )
    return faults


_Row = tuple[str, float, float | None, str, str]


def _integrity(lives: list[Life], kills: int) -> list[_Row]:
    stored = (
        f"{len(lives)} lives; {sum(x.gained_samples for x in lives)} samples, "
        f"{sum(x.gained_m for x in lives) / 1000:.2f} km stored"
    )
    return [
        (
            f"runs lost or split (SIGKILL x{kills}, then SIGTERM)",
            sum(bool(life.run_faults) for life in lives),
            0.0,
            "",
            "lives after which the database did not hold the one run, open after a kill "
            f"and closed after the SIGTERM; {stored}",
        ),
        (
            "lives leaving duplicate, out-of-order or lost samples, or distance going down",
            sum(bool(life.sample_faults) for life in lives),
            0.0,
            "",
            "checked after every life: earlier samples all kept, times strictly increasing, "
            "distance non-decreasing, the last sample at the run's distance",
        ),
    ]


def _losses(lives: list[Life]) -> list[_Row]:
    killed = [life for life in lives if life.sig == "SIGKILL"]
    lost = [life.lost_s for life in killed]
    worst = max(killed, key=lambda life: life.lost_s)
    gap = max(killed, key=lambda life: life.missing_samples)
    target = (FLUSH_S + SLACK_S) / FLUSH_S
    return [
        (
            "seconds of running lost per kill, median",
            statistics.median(lost),
            None,
            " s",
            "true distance of the life minus what the database gained, at the true speed. Of "
            f"it, after the last stored reading: {_spread(x.tail_s for x in killed)}; at the "
            f"life's start (the run's start, then each resumed run's debounce): "
            f"{_spread(x.start_s for x in killed)}",
        ),
        (
            "seconds of running lost per kill, max",
            max(lost),
            None,
            " s",
            f"life {worst.index}: {worst.truth_m:.1f} m true, {worst.gained_m:.1f} m stored, "
            f"{worst.speed_mps:.2f} m/s, killed {worst.sim_s:.1f} s in",
        ),
        (
            "max seconds lost per kill / flush interval",
            max(lost) / FLUSH_S,
            target,
            "x",
            f"{max(lost):.2f} s vs {FLUSH_S:g} s; target 1x + {SLACK_S:g} s (a footpod reading "
            f"interval; a life's start and scheduling); the clean stop (SIGTERM) lost "
            f"{lives[-1].lost_s:.2f} s",
        ),
        (
            "max footpod readings not stored per kill / readings per flush interval",
            gap.missing_samples / FLUSH_S,
            target,
            "x",
            f"life {gap.index}: {gap.missing_samples} of {gap.readings} readings (1 Hz); "
            f"median {statistics.median(x.missing_samples for x in killed):g}",
        ),
    ]


def _spread(values: Iterable[float]) -> str:
    ordered = sorted(values)
    return f"median {_s(statistics.median(ordered))} s, max {_s(ordered[-1])} s"


def _s(seconds: float) -> str:
    """Seconds to 2 decimals, never "-0.00"."""
    return f"{round(seconds, 2) + 0.0:.2f}"


def _table(lives: list[Life]) -> str:
    rows = [
        f"| {life.index} | {life.sig} | {life.real_s:.2f} | {life.sim_s:.1f} | "
        f"{life.truth_m:.1f} | {life.gained_m:.1f} | {_s(life.lost_s)} | {_s(life.start_s)} | "
        f"{_s(life.tail_s)} | {life.missing_samples} of {life.readings} | "
        f"{'; '.join(life.faults) or 'none'} |"
        for life in lives
    ]
    return (
        f'Each life: real seconds from "simulation started" to the signal, run seconds '
        f"({SPEEDUP:g}x), the true distance covered, what the database gained, the loss in "
        "seconds of running at the true speed (at the life's start, and after its last stored "
        "reading), footpod readings (1 Hz) made before the signal and not stored (negative: "
        "the daemon stored a reading or so after the signal was sent), and what was wrong with "
        "the database after the life.\n\n"
        "| life | signal | real s | run s | true m | stored m | lost s | at start s "
        "| after last stored s | readings not stored | faults |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )
