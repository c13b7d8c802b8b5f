"""A real ``stridewatch run --simulate`` process, killed with SIGKILL mid-run, restarted, and
stopped with SIGTERM: what is in the database afterwards."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from agent.daemon.virtual import SCENARIOS
from agent.sensors import sim
from agent.sensors.base import Measurement, Notification, decode_notification
from agent.sensors.gatt import RSCMeasurement

FLUSH_S = 5.0  # recording.flush_interval_s (the default)
SPEEDUP = 10.0
START_SPEED = 1.0  # recording.start_speed (the default)
# Scheduling slack of a loaded 2-core test machine, in simulated seconds (0.2 s real).
SLACK_S = 2.0


@dataclass
class Daemon:
    """A ``stridewatch run`` subprocess whose stderr is read line by line as it comes."""

    proc: subprocess.Popen[str]
    lines: list[tuple[float, str]] = field(default_factory=list)
    reader: threading.Thread = field(init=False)

    def read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append((time.monotonic(), line.rstrip()))

    def when(self, text: str, timeout: float = 20.0) -> float:
        """The monotonic time a stderr line containing ``text`` was read."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, line in list(self.lines):
                if text in line:
                    return at
            assert self.proc.poll() is None, self.stderr()
            time.sleep(0.005)
        raise AssertionError(f"no {text!r} on stderr:\n{self.stderr()}")

    def stderr(self) -> str:
        return "\n".join(line for _, line in self.lines)


@pytest.fixture
def start(db: Path) -> Iterator[object]:
    started: list[Daemon] = []

    def run(scenario: str, speedup: float, seed: int = 1) -> Daemon:
        argv = [sys.executable, "-m", "agent", "--db", str(db), "run", "--simulate"]
        argv += ["--speedup", str(speedup), "--scenario", scenario, "--seed", str(seed)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
        daemon = Daemon(proc)
        daemon.reader = threading.Thread(target=daemon.read, daemon=True)
        daemon.reader.start()
        started.append(daemon)
        return daemon

    yield run
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
        daemon.proc.wait(10)
        daemon.reader.join(10)
        assert daemon.proc.stderr is not None
        daemon.proc.stderr.close()


def read_only(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)


def count_samples(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with read_only(db) as conn:
            return int(conn.execute("select count(*) from samples").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def runs(db: Path) -> list[sqlite3.Row]:
    conn = read_only(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("select * from runs order by id").fetchall()
    finally:
        conn.close()


def sample_times(db: Path) -> list[float]:
    """The stored samples' times. Samples are keyed by run and time, so a sample stored out
    of order would sit among earlier ones: it would show as the distance going down."""
    conn = read_only(db)
    try:
        rows = conn.execute("select t, distance_m from samples order by run_id, t").fetchall()
    finally:
        conn.close()
    distances = [distance for _, distance in rows]
    assert distances == sorted(distances), "a sample was stored out of order"
    return [t for t, _ in rows]


def run_start_s(scenario: sim.Scenario) -> float:
    """Run time of the first footpod reading fast enough to start a run."""
    for item in sim.iter_items(scenario):
        if isinstance(item, Notification):
            event = decode_notification(item)
            value = event.value if isinstance(event, Measurement) else None
            if isinstance(value, RSCMeasurement) and value.speed_mps >= START_SPEED:
                return item.received_at
    raise AssertionError("the scenario never starts a run")


def truth_between(scenario: sim.Scenario, t0: float, t1: float) -> float:
    timeline = sim.Simulation(scenario).timeline
    return timeline.sample(t1).distance_m - timeline.sample(t0).distance_m


def test_sigkill_mid_run_then_restart(start: object, db: Path) -> None:
    easy = SCENARIOS["easy"]()
    first: Daemon = start("easy", SPEEDUP)  # type: ignore[operator]
    began = first.when("simulation started")
    while count_samples(db) < 80:  # about 80 simulated seconds in
        time.sleep(0.01)
    first.proc.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    assert first.proc.wait(10) == -signal.SIGKILL

    (run,) = runs(db)
    assert run["status"] == "open"
    times = sample_times(db)
    assert times == sorted(set(times))  # no duplicate samples
    # Truth at the kill: the run time when SIGKILL was sent (read on the test's clock).
    at_kill = (killed - began) * SPEEDUP
    truth = truth_between(easy, run_start_s(easy), at_kill)
    lost = truth - run["distance_m"]
    top_speed = 2.9 * 1.05  # easy_run's speed, with the footpod's noise
    assert -0.01 * truth < lost <= top_speed * (FLUSH_S + SLACK_S)
    # Totals and samples were flushed together: the last sample is the run's distance.
    conn = read_only(db)
    last = conn.execute("select distance_m from samples order by t desc limit 1").fetchone()
    conn.close()
    assert last[0] == pytest.approx(run["distance_m"], abs=0.001)  # samples: to the mm

    # Restarted at once, with the runner still out: the same run goes on, and ends (closed)
    # when the simulated run does.
    second: Daemon = start("short", 120.0, seed=2)  # type: ignore[operator]
    assert second.proc.wait(30) == 0, second.stderr()
    assert "was left open" in second.stderr()
    (after,) = runs(db)
    assert after["id"] == run["id"]
    assert after["status"] == "closed"
    short_truth = sim.Simulation(replace(SCENARIOS["short"](), seed=2)).truth.distance_m
    assert after["distance_m"] == pytest.approx(run["distance_m"] + short_truth, rel=0.01)
    times = sample_times(db)
    assert times == sorted(set(times))


def test_sigkill_then_restart_without_the_runner_closes_the_run(start: object, db: Path) -> None:
    first: Daemon = start("easy", 30.0)  # type: ignore[operator]
    while count_samples(db) < 60:
        time.sleep(0.01)
    first.proc.kill()
    first.proc.wait(10)
    (stored,) = runs(db)
    # The sensors are back but nobody runs: after the idle limit (10 simulated minutes) the
    # run is closed with what was stored.
    second: Daemon = start("standing", 300.0)  # type: ignore[operator]
    assert second.proc.wait(30) == 0, second.stderr()
    # Closed by the idle limit, or (on a loaded machine, where 10 simulated minutes at 300x
    # are 2 s of real time) by the end of the stream: either way once, with what was stored.
    assert second.stderr().count(f"run {stored['id']} closed") == 1
    (run,) = runs(db)
    assert run["status"] == "closed"
    assert run["distance_m"] == stored["distance_m"]
    assert run["moving_s"] == stored["moving_s"]
    assert count_samples(db) == len(set(sample_times(db)))


def test_sigterm_flushes_and_closes_within_5_s(start: object, db: Path) -> None:
    easy = SCENARIOS["easy"]()
    daemon: Daemon = start("easy", SPEEDUP)  # type: ignore[operator]
    began = daemon.when("simulation started")
    while count_samples(db) < 60:
        time.sleep(0.01)
    daemon.proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    assert daemon.proc.wait(10) == 0, daemon.stderr()
    assert time.monotonic() - sent < 5.0
    (run,) = runs(db)
    assert run["status"] == "closed"
    assert "SIGTERM" in daemon.stderr()
    # Everything up to the signal is stored: a clean stop loses no flush interval.
    truth = truth_between(easy, run_start_s(easy), (sent - began) * SPEEDUP)
    assert -0.01 * truth < truth - run["distance_m"] <= 2.9 * 1.05 * SLACK_S


def test_sighup_closes_the_run_cleanly(start: object, db: Path) -> None:
    daemon: Daemon = start("easy", SPEEDUP)  # type: ignore[operator]
    daemon.when("simulation started")
    while count_samples(db) < 60:
        time.sleep(0.01)
    daemon.proc.send_signal(signal.SIGHUP)  # the terminal running it closed
    assert daemon.proc.wait(10) == 0, daemon.stderr()
    (run,) = runs(db)
    assert run["status"] == "closed"
    assert "SIGHUP: finishing the run and stopping" in daemon.stderr()


def test_a_resumed_run_under_the_minimum_keeps_its_samples(start: object, db: Path) -> None:
    """Killed 10 s into a run, then restarted with nobody running: the stored part of the run
    is closed as it is, never deleted as "a few strides" (the rest of it may have been lost
    while the daemon was down; a false start is only a fresh run that stayed short)."""
    first: Daemon = start("easy", SPEEDUP)  # type: ignore[operator]
    while count_samples(db) < 10:
        time.sleep(0.01)
    first.proc.kill()
    first.proc.wait(10)
    (stored,) = runs(db)
    assert stored["moving_s"] < 30  # under recorder.MIN_RUN_S
    kept = sample_times(db)
    second: Daemon = start("standing", 300.0)  # type: ignore[operator]
    assert second.proc.wait(30) == 0, second.stderr()
    assert "a few strides" not in second.stderr()
    (run,) = runs(db)
    assert run["id"] == stored["id"]
    assert run["status"] == "closed"
    assert run["distance_m"] == stored["distance_m"]
    assert set(kept) <= set(sample_times(db))  # every stored sample is still there
