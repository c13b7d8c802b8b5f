"""``stridewatch run``: the daemon, a small asyncio supervisor.

One process, one event loop, a few long-lived tasks, each kept in :attr:`Daemon.tasks`:

- ``sensors``: starts the driver (BLE, or the simulator with ``--simulate``) and feeds its
  queue through :func:`~agent.sensors.base.decoded_events` to :meth:`Recorder.handle`. A
  driver that cannot start (no Bluetooth adapter, bluetoothd down) or that fails is logged
  and restarted after a capped exponential back-off; it never takes the daemon down. The
  BLE driver itself keeps each sensor connected (its own per-sensor back-off). When a
  simulation's stream ends, the daemon stops.
- ``flush``: while a run is active, every ``recording.flush_interval_s`` (clock time), end
  an idle run and hand :meth:`Recorder.take_flushes` to the
  :class:`~agent.store.writer.RecordingWriter`, whose own thread owns the SQLite connection; then
  compare the run's distance with its :class:`~agent.daemon.live.LiveWatch` (thresholds computed
  once, from the history, when the run starts) and queue any live alert.
- ``announce``: stores each live alert and shows it at once (:mod:`agent.daemon.delivery`): the
  alerts of one check as one notification, replacing the run's previous one.
- ``answers``: a button pressed on a pain check-in goes into the pain log
  (:meth:`~agent.daemon.delivery.Dispatcher.answer`); ``speak``: says live alerts aloud with
  ``notifications.speak`` (:mod:`agent.daemon.speech`).
- ``watchdog``: ``WATCHDOG=1`` to systemd at half its watchdog interval, from the event loop,
  so a hung loop stops pinging and systemd restarts the service.
- the timetable (:mod:`agent.daemon.timetable`): nightly summary, pain check-ins, delivery retries;
  apscheduler in real time, the same jobs on the clock's wall time in a simulation.

``READY=1`` goes to systemd once the database is open and the driver's first start was
tried; SIGTERM, SIGINT and SIGHUP set :attr:`Daemon.stopping`, and shutdown (``STOPPING=1``) ends
the active run, writes the last flush, closes the database and stops the driver, well
within systemd's stop timeout.

Over 400 lines: :class:`Daemon` is one supervisor whose tasks share the recorder, the
writer, the timetable and the stop; split, each part would reach into the others' state.
Simulated time and runs are in :mod:`agent.daemon.virtual`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from agent.advice.checks import load_history
from agent.clock import Clock, MonotonicClock
from agent.config import AFTER_RUN_GRACE_S, Settings
from agent.daemon.delivery import (
    DesktopSender,
    Dispatcher,
    Listener,
    Note,
    RunRecorded,
    Sender,
)
from agent.daemon.jobs import DaemonJobs, low_battery_alert
from agent.daemon.live import LiveWatch
from agent.daemon.lock import recording_lock
from agent.daemon.notify import Delivery, Notifier, probe_server
from agent.daemon.service import sd_notify, watchdog_interval_s
from agent.daemon.speech import Speaker
from agent.daemon.timetable import RealTimetable, SimulatedTimetable, Timetable
from agent.daemon.virtual import SCENARIOS, SettledClock, make_writer, simulated_driver
from agent.errors import InputError, StoreError, StridewatchError
from agent.models import Alert, Flush, Source, StoredState
from agent.recording.recorder import Recorder
from agent.rules.allowance import Allowance, allowance
from agent.sensors.base import (
    BatteryLevel,
    LowBatteryPolicy,
    Notification,
    SensorDriver,
    SensorEvent,
    decoded_events,
)
from agent.store import Store
from agent.store.writer import HELD_MAX_SAMPLES, RecordingWriter, Written, reason
from agent.units import format_distance, format_km, from_utc_iso

T = TypeVar("T")
log = logging.getLogger("stridewatch.daemon")

# Wall-clock drift below this is NTP slewing, not a jump worth re-anchoring for.
CLOCK_SLACK_S = 1.0

# systemd's default stop timeout is 90 s and our unit sets 10 s; the shutdown (last flush,
# close) is bounded well below that so SIGKILL never interrupts it.
SHUTDOWN_TIMEOUT_S = 7.0
# Of which the last flush waits this long for another program's lock on the database, then
# saves what it could not write beside it (agent/store/writer.py); a flush in flight waits at most
# writer.FLUSH_WAIT_S before it.
LAST_WRITE_WAIT_S = 3.0
# The sync folders' files are checked for completeness this often (real seconds); a pass the
# database refused is tried again after SYNC_RETRY_S.
SYNC_TICK_S = 1.0
SYNC_RETRY_S = 30.0
# While the database refuses writes (locked, disk full) flushes are retried after the flush
# interval, doubling up to this; what waits is held in memory meanwhile.
WRITE_RETRY_CAP_S = 60.0
# Of which stopping the driver (disconnecting sensors) may take this long; the run is
# written before it.
DRIVER_STOP_TIMEOUT_S = 2.0
# Restarting a driver that failed: 2 s, 4 s, ... capped at a minute, like the BLE driver's
# reconnect rounds (sensors/ble.py): an adapter plugged in later is found within a minute,
# and a missing one costs one log line a minute.
RESTART_BASE_S = 2.0
RESTART_CAP_S = 60.0


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What ``stridewatch run`` was asked for."""

    simulate: bool = False
    speedup: float = 1.0
    devices: tuple[str, ...] = ()
    scenario: str = "easy"
    seed: int = 0
    verbose: bool = False
    capture: Path | None = None  # write every raw notification here (JSON lines)
    replay: Path | None = None  # record from this capture instead of sensors
    instant: bool = False  # with replay: no waiting between lines
    notify: bool = False  # with replay: send alerts to the desktop instead of printing

    @property
    def finite(self) -> bool:
        """A simulation or a replay: the stream ends, and the daemon with it."""
        return self.simulate or self.replay is not None


def run(settings: Settings, db_path: Path, options: RunOptions) -> None:
    """Run the daemon until SIGTERM/SIGINT (or the end of a simulation)."""
    configure_logging(options.verbose)
    # A file-size limit (ulimit -f) then makes a write fail with EFBIG, which the writer
    # holds and retries like a full disk, instead of killing the daemon mid-run.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    if options.replay is not None:
        with recording_lock(db_path):
            asyncio.run(_replay(settings, db_path, options))
        return
    if options.speedup != 1.0 and not options.simulate:
        raise InputError("--speedup only works with --simulate (real sensors run in real time)")
    if options.simulate and options.scenario not in SCENARIOS:
        raise InputError(
            f"--scenario {options.scenario!r}: choose one of {', '.join(sorted(SCENARIOS))}"
        )
    if not options.simulate and not (
        options.devices or settings.sensors.allow or settings.sync.folders
    ):
        raise InputError(
            "no sensors to record from and no folders to sync: pair one (stridewatch pair "
            "ADDRESS), pass --device ADDRESS, add a folder (stridewatch sync add PATH), or "
            "try --simulate"
        )
    with recording_lock(db_path):
        asyncio.run(Daemon(settings, db_path, options).main())


async def _replay(settings: Settings, db_path: Path, options: RunOptions) -> None:
    """Record from a capture: the same decode, recorder, flushes and live alerts as the
    daemon, on a clock that starts when the capture did."""
    from agent.sensors.capture import ReplayClock, ReplayDriver, read_capture

    assert options.replay is not None
    lines = read_capture(options.replay)
    start = datetime.fromtimestamp(lines[0].t, UTC)
    _refuse_recorded(db_path, start, datetime.fromtimestamp(lines[-1].t, UTC))
    clock: Clock = (
        SettledClock(wall_start=start) if options.instant else ReplayClock(options.speedup, start)
    )
    sender = None if options.notify else PrintSender()
    daemon = Daemon(
        settings,
        db_path,
        options,
        clock=clock,
        driver=lambda: ReplayDriver(lines, clock=clock),
        sender=sender,
    )
    await daemon.main()


def _refuse_recorded(db_path: Path, start: datetime, end: datetime) -> None:
    """A replay into a database that already holds a run in the capture's time would store
    that run twice (as ``log-run`` and ``import`` refuse to): say so instead."""
    if not db_path.expanduser().is_file():
        return
    with Store.open_read_only(db_path) as store:
        found = store.runs_overlapping(start, end)
    if found:
        raise InputError(
            f"{db_path} already has run {found[0]['id']} in the capture's time; replay into "
            "another database (--db PATH)"
        )


class PrintSender:
    """Prints what would be shown (a replay's alerts), instead of a desktop notification."""

    async def deliver(self, note: Note) -> Delivery:
        print(f"{note.title}: {note.body}", flush=True)
        return Delivery(True, "printed")


def make_clock(speedup: float) -> Clock:
    """Real time (sped up for simulations), or with ``--speedup inf`` a virtual clock that
    jumps from one event to the next; both with wall time starting now."""
    if math.isinf(speedup):
        return SettledClock(wall_start=datetime.now(UTC))
    return MonotonicClock(speedup)


def configure_logging(verbose: bool) -> None:
    """Plain lines on stderr: journald adds the time and the unit name itself."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for noisy in ("apscheduler", "bleak", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


def restart_delay(failures: int) -> float:
    """Seconds before restarting a driver after ``failures`` failures in a row."""
    if failures <= 0:
        return 0.0
    return min(RESTART_CAP_S, RESTART_BASE_S * 2.0 ** min(failures - 1, 30))


def live_budget(store: Store, settings: Settings, started_at: datetime) -> Allowance:
    """The allowance just before a run started: the history is read once per run, and the
    run itself (already stored while open) is left out."""
    before = started_at - timedelta(microseconds=1)
    return allowance(load_history(store, settings, before), settings, before)


# Signals that stop the daemon cleanly (the run flushed and closed). SIGHUP too: the terminal
# running `stridewatch run` closed, or a reload asked of a daemon that reads its config once
# at start; either way it must never die with the run left open. (The unit defines no
# reload, so systemd never sends it; a `kill -HUP` stops the service as `systemctl stop`.)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Daemon:
    """Wires the sensor driver, recorder, writer, live alerts and timetable; see the module
    doc. ``clock``, ``driver``, ``sender``, ``listener`` and ``writer`` replace the defaults
    (the demo plays a training block on a virtual clock and prints what is shown)."""

    timetable: Timetable

    def __init__(
        self,
        settings: Settings,
        db_path: Path,
        options: RunOptions,
        *,
        clock: Clock | None = None,
        driver: Callable[[], SensorDriver] | None = None,
        sender: Sender | None = None,
        listener: Listener | None = None,
        writer: RecordingWriter | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.clock = clock if clock is not None else make_clock(options.speedup)
        self.writer = writer or make_writer(db_path, settings, self.clock)
        # A pressed button (notification id, action key), from the notifier's connection.
        self._answers: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        self.notifier: Notifier | None = None
        if sender is None:
            self.notifier = Notifier(
                enabled=settings.notifications.enabled,
                on_action=lambda shown_id, action: self._answers.put_nowait((shown_id, action)),
            )
            sender = DesktopSender(self.notifier)
        self.speaker = Speaker() if settings.notifications.speak else None
        self.dispatcher = Dispatcher(
            settings, self.writer, sender, self.clock, listener, speaker=self.speaker
        )
        self.listener = listener
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.recorder: Recorder | None = None
        self.driver: SensorDriver | None = None
        self._make_driver = driver or self._driver
        self._ready = False
        self._closing = False
        self._moving = asyncio.Event()
        self._held_since: float | None = None  # clock time the database first refused
        self._write_failures = 0
        self._dropped = 0
        self._watches: dict[int, LiveWatch] = {}
        # The alerts of one check (one live check, or one sensor's low battery), the run and
        # distance they are about (None for a sensor's) and when they were raised.
        self._alerts: asyncio.Queue[tuple[list[Alert], int | None, float | None, datetime]] = (
            asyncio.Queue()
        )
        self._battery = LowBatteryPolicy(settings.sensors.low_battery_percent)
        self._probe: asyncio.Task[None] | None = None
        self._capture = None
        if options.capture is not None:
            from agent.sensors.capture import CaptureWriter

            self._capture = CaptureWriter(options.capture)

    async def main(self) -> None:
        self.timetable = self._timetable()  # in the loop: apscheduler binds to it
        # The desktop notifier keeps its bus connection open while the daemon runs, to
        # replace its notifications and hear the buttons pressed on them.
        async with self.notifier or contextlib.nullcontext():
            await self._main()

    async def _main(self) -> None:
        stored = await self.writer.open()
        try:
            self.recorder = self._recorder(stored)
            await self._reschedule_checkins()
            try:
                await self._supervise(self.recorder)
            finally:
                try:
                    await asyncio.wait_for(self._shutdown(self.recorder), SHUTDOWN_TIMEOUT_S)
                except TimeoutError:
                    log.warning("the stop took over %g s; leaving", SHUTDOWN_TIMEOUT_S)
                finally:
                    # Kept until the stop is done: a second SIGTERM (or Ctrl-C) while the
                    # run is written must not kill the process before it is saved.
                    loop = asyncio.get_running_loop()
                    for sig in STOP_SIGNALS:
                        loop.remove_signal_handler(sig)
        finally:
            if self._capture is not None:
                self._capture.close()
            await self.writer.close()

    async def _supervise(self, recorder: Recorder) -> None:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)
        if self.options.finite or self.options.devices or self.settings.sensors.allow:
            self._spawn("sensors", self._sensors(recorder))
        else:
            log.info("sensors: none paired; watching the sync folders only")
            self._announce_ready()
        if self.settings.sync.folders and not self.options.finite:
            self._spawn("sync", self._sync())
        self._spawn("flush", self._flush_every(recorder))
        self._spawn("announce", self._announce())
        if self.notifier is not None:
            self._spawn("answers", self._answer_checkins())
        if self.speaker is not None:
            self._spawn("speak", self.speaker.run())
        interval = watchdog_interval_s()
        if interval is not None:
            self._spawn("watchdog", self._watchdog(interval))
        self.timetable.start()
        waiter = asyncio.create_task(self.stopping.wait(), name="stopping")
        await asyncio.wait([waiter, *self.tasks], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task  # re-raises a task's own failure

    def _spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        self.tasks.append(asyncio.create_task(work, name=name))

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.stopping.is_set():
            log.info("%s: already stopping; the run is being saved", sig.name)
            return
        log.info("%s: finishing the run and stopping", sig.name)
        self.stopping.set()

    def _announce_ready(self) -> None:
        if not self._ready:
            self._ready = True
            sd_notify("READY=1")
            log.info("ready: recording to %s", self.writer.path)

    # -- sensors -------------------------------------------------------------------------

    async def _sensors(self, recorder: Recorder) -> None:
        """Start the driver and record from it; restart it with back-off when it fails."""
        failures = 0
        while True:
            driver = self._make_driver()
            if await self._start(driver, failures):
                failures = 0
                self.driver = driver
                if await self._record(recorder, driver):
                    return  # a simulation played out
            failures += 1
            await self._stop_driver(driver)
            await self.clock.sleep(restart_delay(failures))

    async def _start(self, driver: SensorDriver, failures: int) -> bool:
        try:
            await driver.start()
        except Exception as exc:  # any driver failure: log it, retry, never go down
            text = str(exc) if isinstance(exc, StridewatchError) else repr(exc)
            log.warning("sensors: %s; retrying in %g s", text, restart_delay(failures + 1))
            self._announce_ready()
            return False
        if self.options.simulate:
            log.info(
                "simulation started: scenario %s, seed %d, speedup %g",
                self.options.scenario,
                self.options.seed,
                self.options.speedup,
            )
        elif self.options.replay is not None:
            log.info("replaying %s", self.options.replay)
        else:
            allow = self.options.devices or self.settings.sensors.allow
            log.info("sensors: watching for %s", ", ".join(allow))
        self._announce_ready()
        return True

    async def _record(self, recorder: Recorder, driver: SensorDriver) -> bool:
        """Record until the stream ends (True); False if recording failed."""
        try:
            async for event in decoded_events(driver.queue, tap=self._tap):
                if recorder.active is None:
                    self._reanchor(recorder)
                recorder.handle(event)
                if recorder.active is not None:
                    self._moving.set()
                if isinstance(event, BatteryLevel):
                    self._check_battery(event)
        except Exception:
            log.exception("recording from the sensors failed; restarting the driver")
            return False
        log.info("the sensor stream ended")
        return self.options.finite

    def _tap(self, item: Notification | SensorEvent) -> None:
        """Write a raw item to the capture (``run --capture``), stamped in unix seconds."""
        if self._capture is None:
            return
        at = item.received_at if isinstance(item, Notification) else item.at
        unix_s = self.clock.wall().timestamp() - (self.clock.now() - at)
        self._capture.write(item, unix_s)

    async def _stop_driver(self, driver: SensorDriver) -> None:
        try:
            await driver.stop()
        except Exception as exc:
            log.warning("while stopping the sensors: %r", exc)
        if self.driver is driver:
            self.driver = None

    # -- sync folders (agent/files/sync.py) -------------------------------------------------------

    async def _sync(self) -> None:
        """Watch the sync folders; import each file once it is complete, in a thread with a
        connection of its own (the recorder's writes go on meanwhile); then one notification
        for what was stored, and the after-run check-ins of recent runs."""
        from agent.files.watch import FolderWatcher, Settler

        conf = self.settings.sync
        noted = asyncio.Event()
        settler = Settler(conf.settle_s, wake=noted.set)
        watcher = FolderWatcher(
            conf.folders,
            settler,
            poll_folders=conf.poll_folders,
            poll_interval_s=conf.poll_interval_s,
        )
        async with asyncio.TaskGroup() as group:
            group.create_task(watcher.run(), name="sync-watch")
            while True:
                if not len(settler):  # nothing waits to settle: sleep until a file is noted
                    noted.clear()
                    await noted.wait()
                await asyncio.sleep(SYNC_TICK_S)
                due = settler.due()
                if due and not await self._sync_files(due, watcher.folders):
                    for path in due:  # the database refused: seen again after a pause
                        settler.seen(path)
                    await asyncio.sleep(SYNC_RETRY_S)

    async def _sync_files(self, due: list[Path], folders: list[Path]) -> bool:
        from agent.files import sync

        at = self.clock.wall()
        found = [(path, sync.folder_of(path, folders)) for path in due]
        try:
            _, verdict = await asyncio.to_thread(
                sync.sync_pass, self.writer.path, self.settings, found, at
            )
        except StoreError as exc:
            log.warning("sync: %s; trying again in %g s", exc, SYNC_RETRY_S)
            return False
        if verdict is None:
            return True
        try:
            await self.dispatcher.notice(verdict.alert, at=at, run_id=verdict.run_id)
            covered = verdict.covered
            await self.writer.call(lambda s: s.mark_alerts_delivered(covered, at))
        except StridewatchError as exc:
            log.error("sync: the notification of run %d: %s", verdict.run_id, exc)
        for run_id, ended in verdict.checkins:
            self.timetable.after_run(run_id, ended)
        return True

    # -- flushes and live alerts -----------------------------------------------------------

    async def _flush_every(self, recorder: Recorder) -> None:
        interval = self.settings.recording.flush_interval_s
        while True:
            if recorder.active is None and self._held_since is None:
                self._moving.clear()
                await self._moving.wait()
            backoff = 2.0 ** min(self._write_failures, 10)
            await self.clock.sleep(min(interval * backoff, max(interval, WRITE_RETRY_CAP_S)))
            recorder.tick(self.clock.now())
            await self._write(recorder, live=True)

    async def _write(self, recorder: Recorder, *, live: bool = False, last: bool = False) -> None:
        flushes = recorder.take_flushes()
        # Shielded: once taken from the recorder, a flush must reach the database (or the
        # writer's backlog) even if the flushing task is cancelled by a stop; the writer's
        # one thread keeps the order.
        if last:
            try:
                written = await asyncio.shield(self.writer.last_write(flushes, LAST_WRITE_WAIT_S))
            except StridewatchError as exc:
                log.error("the database refused the last flush, and saving it failed: %s", exc)
                return
        else:
            written = await asyncio.shield(self.writer.write(flushes))
        self._note_backlog(written)
        for flush, run_id in written.done:
            if run_id is None:
                log.info("a few strides, not a run: discarded")
                self._watches.pop(flush.key, None)
            elif flush.closed:
                self._watches.pop(flush.key, None)
                self._closed(flush, run_id)
            else:
                log.debug("run %d: %d samples flushed", run_id, len(flush.samples))
                # "Turn around now" is for a runner still running, not one who has stopped.
                if live and recorder.state == "running":
                    try:
                        await self._check_live(flush, run_id)
                    except StoreError as exc:
                        log.warning("live check of run %d skipped: %s", run_id, reason(exc))

    def _note_backlog(self, written: Written) -> None:
        """Say once that the database refuses writes, once that it takes them again, once
        that the oldest samples are being dropped, and where a stop saved what was held."""
        now = self.clock.now()
        if written.error is not None:
            self._write_failures += 1
            if self._held_since is None:
                self._held_since = now
                log.warning(
                    "cannot write to %s: %s; keeping the run in memory (up to %d h of "
                    "samples) and retrying",
                    self.writer.path,
                    reason(written.error),
                    HELD_MAX_SAMPLES // 3600,
                )
        elif self._held_since is not None:
            held_s = now - self._held_since
            log.info("the database takes writes again: caught up after %.0f s", held_s)
            self._held_since = None
            self._write_failures = 0
        if written.dropped > self._dropped:
            if not self._dropped:
                log.warning(
                    "over %d samples held: dropping the oldest (the run's distance and "
                    "time are kept)",
                    HELD_MAX_SAMPLES,
                )
            self._dropped = written.dropped
        if written.saved_to is not None:
            log.warning(
                "the database still refused writes at the stop: %d samples saved to %s; "
                "the next start writes them",
                written.held_samples,
                written.saved_to,
            )

    def _closed(self, flush: Flush, run_id: int) -> None:
        row = flush.row
        log.info(
            "run %d closed: %s, %.0f s moving",
            run_id,
            format_distance(row["distance_m"], self.settings.units, 2),
            row["moving_s"],
        )
        if self.listener is not None:
            started, ended = from_utc_iso(row["started_at"]), from_utc_iso(row["ended_at"])
            self.listener(RunRecorded(run_id, started, ended, row["distance_m"], row["moving_s"]))
        if not self._closing:
            when = self.timetable.after_run(run_id, from_utc_iso(row["ended_at"]))
            log.debug("run %d: pain check-in at %s", run_id, when.isoformat())

    async def _check_live(self, flush: Flush, run_id: int) -> None:
        watch = self._watches.get(flush.key)
        if watch is None:
            started = from_utc_iso(flush.row["started_at"])
            week = await self.writer.call(lambda s: live_budget(s, self.settings, started))
            watch = self._watches[flush.key] = LiveWatch(week, self.settings, run_id)
            unit = self.settings.units
            at_km = ", ".join(format_km(t.at_km, unit, 2) for t in watch.pending)
            log.debug("run %d: live thresholds at %s", run_id, at_km or "none")
        if not flush.samples:
            return  # nothing new since the last flush: the runner is not moving on
        # Raised when the runner reached the distance (the flush's last sample), not later.
        distance_m = flush.row["distance_m"]
        at = datetime.fromtimestamp(flush.samples[-1][0], UTC)
        alerts = watch.check(distance_m)
        if alerts:  # passed in one check: one notification
            self._alerts.put_nowait((alerts, run_id, distance_m, at))

    def _check_battery(self, event: BatteryLevel) -> None:
        """A low battery is said once per sensor per (local) day."""
        at = self.clock.wall()
        day = at.astimezone(self.settings.zone).date()
        if self._battery.check(event, day):
            alert = low_battery_alert(event, day, self._battery.threshold)
            self._alerts.put_nowait(([alert], None, None, at))

    async def _announce(self) -> None:
        self._probe = asyncio.create_task(self._probe_notifications(), name="probe")
        while True:
            alerts, run_id, distance_m, at = await self._alerts.get()
            try:
                if run_id is None or distance_m is None:
                    for alert in alerts:
                        await self.dispatcher.notice(alert, at=at)
                else:
                    await self.dispatcher.live_all(
                        alerts, run_id=run_id, distance_m=distance_m, at=at
                    )
            except StridewatchError as exc:
                log.error("live alert %s: %s", ", ".join(alert.key for alert in alerts), exc)

    async def _answer_checkins(self) -> None:
        while True:
            shown_id, action = await self._answers.get()
            await self.dispatcher.answer(shown_id, action)

    async def _probe_notifications(self) -> None:
        if not self.settings.notifications.enabled:
            log.info("notifications: off (notifications.enabled = false)")
            return
        probe = await probe_server()
        if probe.reachable:
            log.info("notifications: %s", probe.detail)
        else:
            log.warning("notifications: %s; alerts are kept and retried", probe.detail)

    async def _watchdog(self, interval: float) -> None:
        while True:  # real time: systemd's watchdog knows nothing of simulated clocks
            sd_notify("WATCHDOG=1")
            await asyncio.sleep(interval)

    async def _reschedule_checkins(self) -> None:
        """After a restart: the after-run check-ins of recent runs not yet made."""
        hours = self.settings.schedule.after_run_checkin_h
        since = self.clock.wall() - timedelta(hours=hours, seconds=AFTER_RUN_GRACE_S)
        runs = await self.writer.call(lambda s: s.runs_awaiting_checkin(since=since))
        for run_id, ended_at in runs:
            self.timetable.after_run(run_id, ended_at)

    async def _shutdown(self, recorder: Recorder) -> None:
        self._closing = True
        sd_notify("STOPPING=1")
        await self.timetable.stop()
        recorder.stop()
        await self._write(recorder, last=True)
        if self.driver is not None:
            try:
                await asyncio.wait_for(self._stop_driver(self.driver), DRIVER_STOP_TIMEOUT_S)
            except TimeoutError:  # e.g. bluetoothd went away: the run is safe, just go
                log.warning("the sensors did not stop within %g s; leaving", DRIVER_STOP_TIMEOUT_S)

    # -- parts -------------------------------------------------------------------------

    def _timetable(self) -> Timetable:
        jobs = DaemonJobs(self.settings, self.dispatcher)
        clock = self.clock
        if isinstance(clock, MonotonicClock) and clock.speedup == 1.0:
            return RealTimetable(self.settings, jobs)
        return SimulatedTimetable(self.settings, jobs, clock)

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

    def _reanchor(self, recorder: Recorder) -> None:
        """Between runs, follow the wall clock again: it may have been set by NTP or by hand
        since the last run. A run in progress keeps its anchor, so its samples stay in order
        whatever the wall clock does. (A restarted sped-up simulation runs ahead of the wall
        clock and never moves back.)"""
        epoch = self.clock.wall().timestamp() - self.clock.now()
        if abs(epoch - recorder.epoch) > CLOCK_SLACK_S and not (
            self.options.finite and epoch < recorder.epoch
        ):
            log.info("the wall clock moved by %+.0f s: new runs follow it", epoch - recorder.epoch)
            recorder.epoch = epoch

    def _epoch(self, stored: StoredState) -> float:
        """Unix seconds at clock 0. A sped-up simulation runs ahead of the wall clock, so a
        restarted one continues after the stored run's last instant, keeping samples in order."""
        epoch = self.clock.wall().timestamp() - self.clock.now()
        if self.options.finite and stored.open_runs:
            last = max(row["last_active_t"] or 0.0 for row, _ in stored.open_runs)
            epoch = max(epoch, last + 1.0 - self.clock.now())
        return epoch

    def _driver(self) -> SensorDriver:
        if self.options.simulate:
            return simulated_driver(self.options.scenario, self.options.seed, self.clock)
        from agent.sensors.ble import BleDriver

        allow = self.options.devices or self.settings.sensors.allow
        return BleDriver(allow, clock=self.clock.now)
