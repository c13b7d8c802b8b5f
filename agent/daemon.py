"""``stridewatch run``: the daemon, a small asyncio supervisor.

One process, one event loop, a few long-lived tasks, each kept in :attr:`Daemon.tasks`:

- ``record``: the driver's queue -> :func:`~agent.sensors.base.decoded_events` ->
  :meth:`Recorder.handle`. When the driver's stream ends (a finished simulation), the daemon
  stops.
- ``flush``: every ``recording.flush_interval_s`` (clock time), end an idle run and hand
  :meth:`Recorder.take_flushes` to the :class:`~agent.recorder.RecordingWriter`, whose own
  thread owns the SQLite connection: the loop never blocks on the database.

SIGTERM and SIGINT set :attr:`Daemon.stopping`; shutdown then ends the active run, writes the
last flush, closes the database and stops the driver, well within systemd's stop timeout.
Later features (scheduler, notifications, live alerts) add tasks in :meth:`Daemon.main`'s
task group and read the recorder's state; the recording path stays as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.clock import Clock, MonotonicClock, VirtualClock
from agent.config import Settings
from agent.errors import InputError
from agent.models import Source
from agent.recorder import Recorder, RecordingWriter, StoredState
from agent.sensors import sim
from agent.sensors.base import SensorDriver, decoded_events

log = logging.getLogger("stridewatch.daemon")

# systemd's default stop timeout is 90 s and our unit sets 10 s; the shutdown (last flush,
# close) is bounded well below that so SIGKILL never interrupts it.
SHUTDOWN_TIMEOUT_S = 4.0


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What ``stridewatch run`` was asked for."""

    simulate: bool = False
    speedup: float = 1.0
    devices: tuple[str, ...] = ()
    scenario: str = "easy"
    seed: int = 0
    verbose: bool = False


def run(settings: Settings, db_path: Path, options: RunOptions) -> None:
    """Run the daemon until SIGTERM/SIGINT (or the end of a simulation)."""
    configure_logging(options.verbose)
    if options.speedup != 1.0 and not options.simulate:
        raise InputError("--speedup only works with --simulate (real sensors run in real time)")
    asyncio.run(Daemon(settings, db_path, options).main())


def make_clock(speedup: float) -> Clock:
    """Real time (sped up for simulations), or with ``--speedup inf`` a virtual clock that
    jumps from one event to the next; both with wall time starting now."""
    if math.isinf(speedup):
        return VirtualClock(wall_start=datetime.now(UTC))
    return MonotonicClock(speedup)


def configure_logging(verbose: bool) -> None:
    """Plain lines on stderr: journald adds the time and the unit name itself."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )


class Daemon:
    """Wires a sensor driver, the recorder and the database writer; see the module doc."""

    def __init__(self, settings: Settings, db_path: Path, options: RunOptions) -> None:
        self.settings = settings
        self.options = options
        self.clock = make_clock(options.speedup)
        self.writer = RecordingWriter(db_path, settings.database.busy_timeout_s)
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.recorder: Recorder | None = None

    async def main(self) -> None:
        stored = await self.writer.open()
        try:
            self.recorder = self._recorder(stored)
            driver = self._driver()
            await driver.start()
            if self.options.simulate:
                log.info(
                    "simulation started: scenario %s, seed %d, speedup %g",
                    self.options.scenario,
                    self.options.seed,
                    self.options.speedup,
                )
            try:
                await self._supervise(self.recorder, driver)
            finally:
                await asyncio.wait_for(self._shutdown(self.recorder, driver), SHUTDOWN_TIMEOUT_S)
        finally:
            await self.writer.close()

    async def _supervise(self, recorder: Recorder, driver: SensorDriver) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        self._spawn("record", self._record(recorder, driver))
        self._spawn("flush", self._flush_every(recorder))
        waiter = asyncio.create_task(self.stopping.wait(), name="stopping")
        await asyncio.wait([waiter, *self.tasks], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task  # re-raises a task's own failure
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)

    def _spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        self.tasks.append(asyncio.create_task(work, name=name))

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("%s: finishing the run and stopping", sig.name)
        self.stopping.set()

    async def _record(self, recorder: Recorder, driver: SensorDriver) -> None:
        async for event in decoded_events(driver.queue):
            recorder.handle(event)
        log.info("the sensor stream ended")

    async def _flush_every(self, recorder: Recorder) -> None:
        interval = self.settings.recording.flush_interval_s
        while True:
            await self.clock.sleep(interval)
            recorder.tick(self.clock.now())
            await self._write(recorder)

    async def _write(self, recorder: Recorder) -> None:
        flushes = recorder.take_flushes()
        # Shielded: once taken from the recorder, a flush must reach the database even if
        # the flushing task is cancelled by a stop; the writer's one thread keeps the order.
        written = await asyncio.shield(self.writer.write(flushes))
        for flush, run_id in zip(flushes, written, strict=True):
            if run_id is None:
                log.info("a few strides, not a run: discarded")
            elif flush.closed:
                km = flush.row["distance_m"] / 1000
                log.info("run %d closed: %.2f km, %.0f s moving", run_id, km, flush.row["moving_s"])
            elif flush.samples:
                log.debug("run %d: %d samples flushed", run_id, len(flush.samples))

    async def _shutdown(self, recorder: Recorder, driver: SensorDriver) -> None:
        recorder.stop()
        await self._write(recorder)
        await driver.stop()

    # -- parts -------------------------------------------------------------------------

    def _recorder(self, stored: StoredState) -> Recorder:
        source: Source = "simulated" if self.options.simulate else "ble"
        recorder = Recorder(
            self.settings,
            epoch=self._epoch(stored),
            source=source,
            calibrations=stored.calibrations,
            per_foot=stored.per_foot,
        )
        for index, (row, last_sample_t) in enumerate(stored.open_runs):
            recorder.resume(row, last_sample_t)
            if index < len(stored.open_runs) - 1:
                recorder.stop()  # only the latest can still be going on
                continue
            log.info("run %d was left open: resuming it if the runner is still out", row["id"])
            recorder.tick(self.clock.now())
        return recorder

    def _epoch(self, stored: StoredState) -> float:
        """Unix seconds at clock 0. A sped-up simulation runs ahead of the wall clock, so a
        restarted one continues after the stored run's last instant, keeping samples in order."""
        epoch = self.clock.wall().timestamp() - self.clock.now()
        if self.options.simulate and stored.open_runs:
            last = max(row["last_active_t"] or 0.0 for row, _ in stored.open_runs)
            epoch = max(epoch, last + 1.0 - self.clock.now())
        return epoch

    def _driver(self) -> SensorDriver:
        if self.options.simulate:
            return _simulated_driver(self.options, self.clock)
        from agent.sensors.ble import BleDriver

        allow = self.options.devices or self.settings.sensors.allow
        if not allow:
            raise InputError(
                "no sensors to record from: pair one (stridewatch pair ADDRESS), "
                "pass --device ADDRESS, or try --simulate"
            )
        return BleDriver(allow, clock=self.clock.now)


def _simulated_driver(options: RunOptions, clock: Clock) -> SensorDriver:
    factory = SCENARIOS.get(options.scenario)
    if factory is None:
        raise InputError(
            f"--scenario {options.scenario!r}: choose one of {', '.join(sorted(SCENARIOS))}"
        )
    return sim.SimulatedDriver(replace(factory(), seed=options.seed), clock=clock)


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
    "standing": lambda: sim.Scenario(sim.RunModel((sim.pause(900.0),))),
    "strides": lambda: sim.Scenario(sim.RunModel((sim.steady(15.0, 3.0), sim.pause(900.0)))),
}
