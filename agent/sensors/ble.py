"""The real sensor driver: footpods and heart-rate straps over Bluetooth LE, through bleak.

:class:`BleDriver` scans by service UUID (RSC 0x1814, Heart Rate 0x180D), connects only to
allow-listed addresses with ``bleak_retry_connector.establish_connection``, subscribes to
the measurement characteristic, reads battery and RSC features, then holds the connection.
When a sensor drops it goes back to waiting for that sensor's advertisement, after a capped
exponential :func:`backoff`. A sensor BlueZ still holds connected (the daemon was killed, or
another program connected it) never advertises; it is taken over directly, without waiting.
Both sensors are handled at once, but BlueZ allows one connect in flight per adapter and
scanning while connecting upsets many adapters, so one lock serialises every connect and
every scanner start/stop, and the scanner is off while connecting.

Notification callbacks only enqueue raw :class:`~agent.sensors.base.Notification` objects;
``decoded_events`` in ``base.py`` decodes them, so downstream cannot tell this driver from
the simulator. bleak's errors are converted here, once, into :class:`BluetoothError`
subclasses with advice a runner can act on.

Over 400 lines: the driver's connection life (scan, take over, connect, subscribe, hold,
reconnect, stop) is one state machine under one lock, and reads best as one class.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

from bleak import BleakClient, BleakScanner
from bleak.args.bluez import BlueZScannerArgs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakError,
)
from bleak_retry_connector import (
    MAX_CONNECT_ATTEMPTS,
    establish_connection,
    get_device,
    get_device_by_adapter,
)

from agent.errors import StridewatchError
from agent.sensors.base import (
    BATTERY_LEVEL,
    END_OF_STREAM,
    HEART_RATE_MEASUREMENT,
    HEART_RATE_SERVICE,
    RSC_FEATURE,
    RSC_MEASUREMENT,
    RSC_SERVICE,
    SERVICE_KIND,
    BatteryLevel,
    Connected,
    Disconnected,
    Notification,
    QueueItem,
    SensorKind,
)
from agent.sensors.gatt import GattDecodeError, RSCFeature, parse_battery_level, parse_rsc_feature
from agent.sensors.pairing import parse_address

logger = logging.getLogger(__name__)

SCAN_SERVICES = [RSC_SERVICE, HEART_RATE_SERVICE]
MEASUREMENT: dict[SensorKind, str] = {"footpod": RSC_MEASUREMENT, "hrm": HEART_RATE_MEASUREMENT}

# Back-off between connection rounds. establish_connection already retries within a round
# (MAX_CONNECT_ATTEMPTS, with its own sub-second back-offs for BlueZ's transient errors);
# these space whole rounds, so a sensor that vanished or keeps dropping costs one round a
# minute at worst, and a sensor that merely blinked is back within a couple of seconds.
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 60.0
# A connection that lasted this long was healthy: its drop starts back-off afresh.
STABLE_SESSION_S = 30.0
# bleak's BlueZ error names that mean bluetoothd itself is not there.
_NO_BLUEZ = {
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
}


# -- errors ------------------------------------------------------------------------------


class BluetoothError(StridewatchError):
    """Bluetooth cannot be used, or a sensor cannot be reached; ``address`` names the sensor."""

    def __init__(self, message: str, *, address: str | None = None) -> None:
        super().__init__(message)
        self.address = address


class BluetoothUnavailableError(BluetoothError):
    """No usable adapter: bluetoothd not running, adapter missing or off, access denied."""


class SensorConnectError(BluetoothError):
    """A sensor did not connect, even after bleak_retry_connector's retries."""


_ADVICE = {
    BleakBluetoothNotAvailableReason.NO_BLUETOOTH: "Bluetooth adapter not found: is bluetoothd "
    "running and the adapter plugged in and powered? (`bluetoothctl show`)",
    BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE: "the Bluetooth adapter cannot act as "
    "a Bluetooth LE central; footpods need a Bluetooth 4.0 (LE) adapter",
    BleakBluetoothNotAvailableReason.POWERED_OFF: "Bluetooth is off: turn it on "
    "(`bluetoothctl power on`, or the desktop's Bluetooth switch)",
    BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM: "access to Bluetooth was denied: run "
    "stridewatch as your desktop user, or add yourself to the bluetooth group",
}


def bluetooth_error(exc: BaseException, address: str | None = None) -> BluetoothError:
    """Convert a bleak/D-Bus error into ours, with advice; ``address`` for connect errors."""
    if isinstance(exc, BleakBluetoothNotAvailableError):
        text = _ADVICE.get(exc.reason, f"Bluetooth is not available: {exc}")
        return BluetoothUnavailableError(text, address=address)
    if isinstance(exc, BleakDBusError) and exc.dbus_error in _NO_BLUEZ:
        return BluetoothUnavailableError(
            "bluetoothd is not running: start it (`sudo systemctl start bluetooth`) and retry",
            address=address,
        )
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        return BluetoothUnavailableError(
            f"cannot reach the system D-Bus ({exc}): is dbus running?", address=address
        )
    if address is not None:
        return SensorConnectError(
            f"{address}: cannot connect ({exc or type(exc).__name__}); is the sensor awake "
            "and within a few metres? Shake the footpod or wet the strap's contacts",
            address=address,
        )
    return BluetoothError(f"Bluetooth error: {exc or type(exc).__name__}")


@contextlib.contextmanager
def _converted(address: str | None = None) -> Iterator[None]:
    """The one place bleak's exceptions enter our code."""
    try:
        yield
    except (BleakError, TimeoutError, EOFError, OSError) as exc:
        raise bluetooth_error(exc, address) from exc


# -- pure policies -----------------------------------------------------------------------


def backoff(attempt: int, base_s: float = BACKOFF_BASE_S, cap_s: float = BACKOFF_CAP_S) -> float:
    """Seconds to wait before connection round ``attempt``: 0, then base·2^(attempt-1), capped."""
    if attempt <= 0:
        return 0.0
    return min(cap_s, base_s * 2.0 ** min(attempt - 1, 60))


# The order kinds are listed and subscribed in.
KIND_ORDER: tuple[SensorKind, ...] = ("footpod", "hrm")


# -- scanning for the CLI ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sensor heard while scanning: ``kinds`` it offers (a Wahoo TICKR X or a treadmill
    bridge offers both a footpod's and a strap's service)."""

    address: str
    name: str | None
    kinds: tuple[SensorKind, ...]
    rssi: int

    @property
    def kind(self) -> str:
        """``footpod``, ``hrm`` or ``footpod+hrm``."""
        return "+".join(self.kinds)


def kinds_of(service_uuids: Iterable[str]) -> tuple[SensorKind, ...]:
    """The supported kinds (``footpod`` first, then ``hrm``) among service UUIDs."""
    found = {SERVICE_KIND.get(uuid.lower()) for uuid in service_uuids}
    return tuple(kind for kind in KIND_ORDER if kind in found)


def kind_of(service_uuids: Iterable[str]) -> SensorKind | None:
    """``footpod`` or ``hrm`` (the first of :func:`kinds_of`); None for anything else."""
    kinds = kinds_of(service_uuids)
    return kinds[0] if kinds else None


async def scan(timeout: float, *, adapter: str | None = None) -> list[Candidate]:
    """Listen ``timeout`` seconds for footpods and straps; strongest signal first."""
    found: dict[str, Candidate] = {}

    def heard(device: BLEDevice, adv: AdvertisementData) -> None:
        kinds = kinds_of(adv.service_uuids)
        if kinds:
            name = adv.local_name or device.name
            found[device.address] = Candidate(device.address, name, kinds, adv.rssi)

    bluez: BlueZScannerArgs = {"adapter": adapter} if adapter else {}
    with _converted():
        async with BleakScanner(heard, service_uuids=SCAN_SERVICES, bluez=bluez):
            await asyncio.sleep(timeout)
    return sorted(found.values(), key=lambda c: (-c.rssi, c.address))


# -- the driver ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BleTimings:
    """Back-off and retry knobs; tests shrink them, the defaults suit a runner's morning."""

    backoff_base_s: float = BACKOFF_BASE_S
    backoff_cap_s: float = BACKOFF_CAP_S
    stable_session_s: float = STABLE_SESSION_S
    max_attempts: int = MAX_CONNECT_ATTEMPTS  # per round, inside establish_connection


@dataclass
class _Session:
    """One live connection: ``stack`` disconnects it; ``dropped`` is set by bleak."""

    client: BleakClient
    kinds: tuple[SensorKind, ...]
    dropped: asyncio.Event
    stack: AsyncExitStack


class BleDriver:
    """Keep allow-listed footpods and heart-rate straps connected; feed :attr:`queue`.

    ``allow`` holds the addresses to connect to (``settings.sensors.allow``); advertisements
    of every other sensor are ignored. ``clock`` stamps notifications and events (seconds).
    """

    def __init__(
        self,
        allow: Iterable[str],
        *,
        clock: Callable[[], float] = time.monotonic,
        timings: BleTimings | None = None,
        adapter: str | None = None,
    ) -> None:
        self.queue: asyncio.Queue[QueueItem] = asyncio.Queue()
        self.features: dict[str, RSCFeature] = {}
        self.connect_failures: dict[str, int] = {}
        self._allow = frozenset(parse_address(a) for a in allow)
        self._clock = clock
        self._timings = timings or BleTimings()
        self._bluez: BlueZScannerArgs = {"adapter": adapter} if adapter else {}
        self._lock = asyncio.Lock()  # one connect, or one scanner change, at a time
        self._scanner: BleakScanner | None = None
        self._waiting: dict[str, asyncio.Future[BLEDevice]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def start(self) -> None:
        """Start scanning for the allow-listed sensors; raise BluetoothError if we cannot."""
        if self._tasks or not self._allow:
            return
        loop = asyncio.get_running_loop()
        for address in self._allow:
            self._waiting[address] = loop.create_future()
        async with self._lock:
            await self._sync_scanner()  # fails fast: no adapter, bluetoothd down
        for address in sorted(self._allow):
            self._spawn(self._keep_connected(address), f"ble {address}")

    async def stop(self) -> None:
        """Cancel every task, disconnect every sensor, stop scanning; idempotent."""
        self._stopping = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        async with self._lock:
            try:
                await self._sync_scanner()
            except BluetoothError as exc:
                logger.warning("while stopping: %s", exc)
        if tasks:
            self.queue.put_nowait(END_OF_STREAM)
        self._tasks.clear()

    def _spawn(self, work: Awaitable[None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s stopped", task.get_name(), exc_info=task.exception())

    # -- one sensor's life: wait for it, connect, hold, back off, again -------------------

    async def _keep_connected(self, address: str) -> None:
        failures = 0
        while True:
            await asyncio.sleep(self._backoff(failures))
            try:
                lasted = await self._session(address)
            except BluetoothError as exc:
                failures += 1
                self.connect_failures[address] = self.connect_failures.get(address, 0) + 1
                logger.warning("%s (retrying in %.1f s)", exc, self._backoff(failures))
                continue
            failures = 0 if lasted >= self._timings.stable_session_s else failures + 1

    async def _session(self, address: str) -> float:
        """Wait for the sensor, connect, hold until it drops; return seconds connected."""
        device = await self._connected_in_bluez(address) or await self._advertisement(address)
        session = await self._connect(address, device)
        return await self._hold(address, session)

    def _backoff(self, failures: int) -> float:
        t = self._timings
        return backoff(failures, t.backoff_base_s, t.backoff_cap_s)

    async def _connected_in_bluez(self, address: str) -> BLEDevice | None:
        """The sensor, if BlueZ already holds a connection to it: after a crash (kill -9
        leaves BlueZ's connection up) a connected footpod does not advertise, so waiting for
        it would wait forever. bleak then skips ``Connect`` and subscribes again."""
        adapter = self._bluez.get("adapter")
        try:
            if adapter:
                device = await get_device_by_adapter(address, adapter)
            else:
                device = await get_device(address)
        except Exception as exc:  # a probe only: on any trouble, wait for advertisements
            logger.debug("%s: cannot ask BlueZ about it: %r", address, exc)
            return None
        details = device.details if device is not None else None
        if not (isinstance(details, dict) and details.get("props", {}).get("Connected")):
            return None
        logger.info("%s: already connected in BlueZ; taking the connection over", address)
        return device

    async def _advertisement(self, address: str) -> BLEDevice:
        """Wait until ``address`` advertises; the scanner runs while anyone waits."""
        future = self._waiting.get(address)
        if future is None or future.cancelled():
            future = self._waiting[address] = asyncio.get_running_loop().create_future()
        try:
            if not future.done():
                async with self._lock:
                    await self._sync_scanner()
            return await future
        finally:
            self._waiting.pop(address, None)

    def _on_advertisement(self, device: BLEDevice, adv: AdvertisementData) -> None:
        future = self._waiting.get(device.address.upper())
        if future is not None and not future.done():
            future.set_result(device)

    async def _sync_scanner(self, *, pause: bool = False) -> None:
        """Under ``_lock``: scan iff a sensor waits for its advertisement and not ``pause``."""
        wanted = not (pause or self._stopping) and any(not f.done() for f in self._waiting.values())
        if wanted and self._scanner is None:
            scanner = BleakScanner(
                self._on_advertisement, service_uuids=SCAN_SERVICES, bluez=self._bluez
            )
            with _converted():
                await scanner.start()
            self._scanner = scanner
        elif not wanted and self._scanner is not None:
            scanner, self._scanner = self._scanner, None
            with _converted():
                await scanner.stop()

    async def _connect(self, address: str, device: BLEDevice) -> _Session:
        """Connect with the scanner off, one connect at a time."""
        async with self._lock:
            await self._sync_scanner(pause=True)
            try:
                with _converted(address):
                    return await self._open(address, device)
            finally:
                await self._resume_scanner()

    async def _resume_scanner(self) -> None:
        """Under ``_lock``, after a connect; if scanning cannot restart, waiters retry later."""
        try:
            await self._sync_scanner()
        except BluetoothError as exc:
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(exc)

    async def _open(self, address: str, device: BLEDevice) -> _Session:
        dropped = asyncio.Event()
        async with AsyncExitStack() as stack:
            client = await establish_connection(
                BleakClient,
                device,
                device.name or "sensor",
                disconnected_callback=lambda _client: dropped.set(),
                max_attempts=self._timings.max_attempts,
            )
            stack.push_async_callback(client.disconnect)
            kinds = _kinds_of_client(client)
            # Every supported measurement the device offers: one strap-and-footpod device
            # streams both, each as its own kind.
            for kind in kinds:
                await client.start_notify(MEASUREMENT[kind], self._enqueuer(address, kind))
            await self._read_features(client, address, kinds)
            await self._watch_battery(client, address, kinds[0])
            for kind in kinds:
                self.queue.put_nowait(Connected(address, kind, self._clock(), name=device.name))
            return _Session(client, kinds, dropped, stack.pop_all())
        raise AssertionError("unreachable: the exit stack does not swallow exceptions")

    async def _hold(self, address: str, session: _Session) -> float:
        """Wait for the drop (or cancellation); disconnect; report; return seconds held."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        reason = "stopped"
        try:
            with _converted(address):
                async with session.stack:  # disconnects, whatever ends the wait
                    await session.dropped.wait()
                    reason = "connection lost"
        finally:
            for kind in session.kinds:
                self.queue.put_nowait(Disconnected(address, kind, self._clock(), reason))
        return loop.time() - began

    def _enqueuer(
        self, address: str, kind: SensorKind
    ) -> Callable[[BleakGATTCharacteristic, bytearray], None]:
        def on_notify(char: BleakGATTCharacteristic, data: bytearray) -> None:
            item = Notification(address, kind, char.uuid, self._clock(), bytes(data))
            self.queue.put_nowait(item)

        return on_notify

    async def _read_features(
        self, client: BleakClient, address: str, kinds: tuple[SensorKind, ...]
    ) -> None:
        if "footpod" not in kinds or client.services.get_characteristic(RSC_FEATURE) is None:
            return
        try:
            self.features[address] = parse_rsc_feature(await client.read_gatt_char(RSC_FEATURE))
        except GattDecodeError as exc:
            logger.warning("%s: ignoring its RSC feature value: %s", address, exc)

    async def _watch_battery(self, client: BleakClient, address: str, kind: SensorKind) -> None:
        """Read the battery level once; subscribe to it too when the sensor notifies it."""
        char = client.services.get_characteristic(BATTERY_LEVEL)
        if char is None:
            return
        try:
            percent = parse_battery_level(await client.read_gatt_char(char))
        except GattDecodeError as exc:
            logger.warning("%s: ignoring its battery level: %s", address, exc)
        else:
            self.queue.put_nowait(BatteryLevel(address, kind, self._clock(), percent))
        if "notify" in char.properties:
            await client.start_notify(char, self._enqueuer(address, kind))


def _kinds_of_client(client: BleakClient) -> tuple[SensorKind, ...]:
    """The kinds a connected device offers, ``footpod`` first."""
    services = client.services
    kinds: list[SensorKind] = []
    if services.get_service(RSC_SERVICE) is not None:
        kinds.append("footpod")
    if services.get_service(HEART_RATE_SERVICE) is not None:
        kinds.append("hrm")
    if not kinds:
        raise BleakError("neither a Running Speed and Cadence nor a Heart Rate service")
    return tuple(kinds)
