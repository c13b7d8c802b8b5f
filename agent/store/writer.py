"""The recorder's flushes into the store (:class:`FlushSink`, one transaction each; and
:func:`load_state`, what the recorder starts from), and the daemon's writer: flushes the
database could not take yet, held in memory, bounded, retried, and saved beside the database
when the daemon has to stop before it could write them (:class:`RecordingWriter`).

Another program can hold the database's write lock for a while (``BEGIN EXCLUSIVE`` in a
sqlite3 shell, a large import by an old version) and a disk can fill up. The run goes on
meanwhile, so the daemon keeps what it could not write in a :class:`Backlog`, in order, and
writes it all when the database takes writes again. The backlog is bounded at
:data:`HELD_MAX_SAMPLES` samples; past that the *oldest* samples are dropped (the run's
totals live in each flush's row and are never dropped, so distance and time stay right).

When the daemon must stop while the database is still locked, the backlog goes to
``DATABASE.held`` (JSON, mode 0600) and the next start writes it before anything else
(:func:`write_held_file`). Written twice by a crash in between, it still stores each run
and each sample once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from agent.errors import DatabaseLockedError, StoreError
from agent.models import Flush, StoredState
from agent.safe_write import write_file
from agent.store import Store, database_file

T = TypeVar("T")

log = logging.getLogger("stridewatch.backlog")

# 6 hours of samples at the footpod's 1 Hz: about 4 MB of tuples, a very long run or an
# afternoon of a full disk. Beyond it the oldest samples go first.
HELD_MAX_SAMPLES = 6 * 3600
HELD_SUFFIX = ".held"
HELD_FORMAT = "stridewatch-held/1"
# How long one flush waits for another program's write lock before the flush is held and
# retried later: the daemon never blocks its writer thread for long, so a stop (which writes
# last, after whatever write is in flight) always fits within the unit's stop timeout.
FLUSH_WAIT_S = 1.0


class FlushSink:
    """Writes the recorder's flushes to a store: one transaction per run, and remembers each
    run's id."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ids: dict[int, int] = {}

    def write(self, flushes: Iterable[Flush]) -> list[int | None]:
        """Write each flush; return each one's run id (None for a discarded false start)."""
        return [self.write_one(flush) for flush in flushes]

    def write_one(self, flush: Flush) -> int | None:
        """Write one flush in its own transactions; return its run id (None: discarded)."""
        for address, per_foot in flush.per_foot:
            if per_foot:
                self.store.mark_per_foot(address)
            else:
                self.store.unmark_per_foot(address)
        if flush.discard:
            run_id = self.ids.pop(flush.key, flush.db_id)
            if run_id is not None:
                self.store.delete_recording(run_id)
            return None
        run_id = self.ids.get(flush.key, flush.db_id)
        run_id = self.store.save_recording(run_id, flush.row, flush.samples)
        if flush.closed:
            self.ids.pop(flush.key, None)
        else:
            self.ids[flush.key] = run_id
        return run_id


def load_state(store: Store) -> StoredState:
    """What the recorder starts from: the open runs a crash left (each with the time of its
    last stored sample), the calibrations, the footpods known to be per-foot."""
    runs = [(row, store.last_sample_t(row["id"])) for row in store.open_recordings()]
    return StoredState(runs, store.calibrations(), store.per_foot_devices())


def held_path(db_path: Path) -> Path:
    """Where a stopping daemon leaves the flushes it could not write: ``DATABASE.held``."""
    return db_path.with_name(db_path.name + HELD_SUFFIX)


def can_wait(exc: StoreError) -> bool:
    """True for a write that may work later: the database locked by another program, a full
    disk, an I/O error, a file made read-only. False for a damaged file or our own bug."""
    if isinstance(exc, DatabaseLockedError):
        return True
    return isinstance(exc.__cause__, sqlite3.OperationalError)


class Backlog:
    """Flushes not yet written, oldest first, bounded at ``max_samples`` samples in all."""

    def __init__(self, max_samples: int = HELD_MAX_SAMPLES) -> None:
        self.max_samples = max_samples
        self.items: deque[Flush] = deque()
        self.samples = 0
        self.dropped = 0  # samples dropped (oldest first) to stay within the bound

    def __len__(self) -> int:
        return len(self.items)

    def add(self, flushes: Iterable[Flush]) -> None:
        for flush in flushes:
            self.items.append(flush)
            self.samples += len(flush.samples)
        self._trim()

    def first(self) -> Flush | None:
        return self.items[0] if self.items else None

    def done(self) -> None:
        """The first flush was written."""
        flush = self.items.popleft()
        self.samples -= len(flush.samples)

    def _trim(self) -> None:
        excess = self.samples - self.max_samples
        for index, flush in enumerate(self.items):
            if excess <= 0:
                return
            cut = min(excess, len(flush.samples))
            if cut:
                self.items[index] = replace(flush, samples=flush.samples[cut:])
                self.samples -= cut
                self.dropped += cut
                excess -= cut


def save_held(path: Path, flushes: Iterable[Flush], ids: Mapping[int, int]) -> int:
    """Write ``flushes`` to ``path`` (0600, atomically: :func:`agent.safe_write.write_file`);
    ``ids`` gives the stored id of runs inserted earlier in this daemon. Returns the number
    of samples saved. Raises :class:`~agent.safe_write.OutputError` (a full disk, a
    read-only folder)."""
    items = []
    samples = 0
    if path.exists():  # an earlier stop's file the last start could not write: keep it first
        # Its run keys came from another daemon: keep them apart from this one's.
        earlier = [replace(flush, key=-1 - flush.key) for flush in load_held(path)]
        flushes = [*earlier, *flushes]
    for flush in flushes:
        db_id = flush.db_id if flush.db_id is not None else ids.get(flush.key)
        items.append(
            {
                "key": flush.key,
                "db_id": db_id,
                "row": flush.row,
                "samples": flush.samples,
                "closed": flush.closed,
                "per_foot": flush.per_foot,
                "discard": flush.discard,
            }
        )
        samples += len(flush.samples)
    text = json.dumps({"format": HELD_FORMAT, "flushes": items}, separators=(",", ":"))
    write_file(path, text.encode(), force=True)
    return samples


def load_held(path: Path) -> list[Flush]:
    """The flushes in a held file; ``ValueError`` if it is not one."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != HELD_FORMAT:
        raise ValueError("not a stridewatch held-flushes file")
    return [
        Flush(
            key=int(item["key"]),
            db_id=item["db_id"],
            row=dict(item["row"]),
            samples=[tuple(sample) for sample in item["samples"]],
            closed=bool(item["closed"]),
            per_foot=tuple((str(a), bool(p)) for a, p in item["per_foot"]),
            discard=bool(item["discard"]),
        )
        for item in data["flushes"]
    ]


def write_held_file(store: Store, path: Path) -> int:
    """Write a held file left by a daemon that stopped while the database was locked, then
    remove it; return the number of flushes written (0: there was none). A file that cannot
    be read is renamed ``*.unreadable`` with a warning. Written again after a crash, it
    stores nothing twice: samples at or before a run's last stored sample are skipped, and a
    run inserted by the first attempt is found by its start and creation times."""
    if not path.exists():
        return 0
    try:
        flushes = load_held(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        bad = path.with_name(path.name + ".unreadable")
        os.replace(path, bad)
        log.warning("%s could not be read (%s); moved to %s", path, exc, bad)
        return 0
    sink = FlushSink(store)
    for flush in flushes:
        sink.write_one(_not_twice(store, flush, sink.ids))
    path.unlink()
    samples = sum(len(flush.samples) for flush in flushes)
    log.info("wrote %d samples held in %s by the last stop", samples, path)
    return len(flushes)


def _not_twice(store: Store, flush: Flush, ids: Mapping[int, int]) -> Flush:
    """``flush`` without what a first attempt at the held file may already have stored."""
    run_id = ids.get(flush.key, flush.db_id)
    if run_id is None:
        run_id = store.recorded_run_id(flush.row["started_at"], flush.row["created_at"])
    if run_id is None:
        return flush
    last = store.last_sample_t(run_id)
    samples = flush.samples if last is None else [s for s in flush.samples if s[0] > last]
    return replace(flush, db_id=run_id, samples=samples)


@dataclass(frozen=True, slots=True)
class Written:
    """What one :meth:`RecordingWriter.write` did.

    ``done``: the flushes written, oldest first, each with its run id (None: a discarded
    false start); they may include flushes held from earlier calls. ``error``: why the rest
    wait (None: nothing waits). ``held_samples``/``held_flushes``: what waits in memory.
    ``dropped``: samples dropped so far to keep within :data:`HELD_MAX_SAMPLES`. ``saved_to``:
    the held file a stopping writer saved the rest to."""

    done: list[tuple[Flush, int | None]] = field(default_factory=list)
    error: StoreError | None = None
    held_samples: int = 0
    held_flushes: int = 0
    dropped: int = 0
    saved_to: Path | None = None


def reason(exc: StoreError) -> str:
    """A short reason for a write the database refused, for the daemon's log."""
    if isinstance(exc, DatabaseLockedError):
        return "the database is in use by another program"
    return str(exc.__cause__ or exc)


class RecordingWriter:
    """The database side of the daemon: one :class:`Store` on one thread of its own, and
    the :class:`Backlog` of flushes the database could not take yet.

    sqlite3 connections belong to the thread that made them, so the store is opened, used
    and closed on the writer thread; the event loop only awaits futures.
    """

    def __init__(self, path: Path, busy_timeout_s: float) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        self.backlog = Backlog()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sw-writer")
        self._sink: FlushSink | None = None
        self._waits = -1.0

    async def open(self) -> StoredState:
        """Open the database, write what a stop left in ``DATABASE.held``, read the state."""
        return await self._call(self._open)

    async def write(self, flushes: list[Flush]) -> Written:
        """Write the held flushes, then ``flushes``; keep whatever the database refuses for
        a reason that may pass (:func:`can_wait`). Other errors raise :class:`StoreError`."""
        return await self._call(self._write, flushes, FLUSH_WAIT_S)

    async def last_write(self, flushes: list[Flush], wait_s: float) -> Written:
        """The stopping daemon's write: wait up to ``wait_s`` for the database, then save
        whatever is still held to ``DATABASE.held`` (written by the next start)."""
        return await self._call(self._last_write, flushes, wait_s)

    async def close(self) -> None:
        await self._call(self._close)
        self._executor.shutdown(wait=True)

    async def call(self, func: Callable[[Store], T]) -> T:
        """Run ``func(store)`` on the writer thread, after every write queued before it
        (the daemon's alerts, summaries and check-ins share the one connection)."""
        return await self._call(self._with_store, func)

    def _store(self, wait_s: float) -> Store:
        assert self._sink is not None, "open() first"
        if wait_s != self._waits:
            self._sink.store.wait_for_lock(wait_s)
            self._waits = wait_s
        return self._sink.store

    def _with_store(self, func: Callable[[Store], T]) -> T:
        return func(self._store(self.busy_timeout_s))

    def _open(self) -> StoredState:
        store = Store.open(self.path, busy_timeout_s=self.busy_timeout_s)
        try:
            write_held_file(store, self._held_path())
        except BaseException:
            store.close()
            raise
        self._sink = FlushSink(store)
        self._waits = self.busy_timeout_s
        return load_state(store)

    def _write(self, flushes: list[Flush], wait_s: float) -> Written:
        self._store(wait_s)
        assert self._sink is not None
        backlog = self.backlog
        backlog.add(flushes)
        done: list[tuple[Flush, int | None]] = []
        while (flush := backlog.first()) is not None:
            try:
                run_id = self._sink.write_one(flush)
            except StoreError as exc:
                if not can_wait(exc):
                    raise
                return Written(done, exc, backlog.samples, len(backlog), backlog.dropped)
            backlog.done()
            done.append((flush, run_id))
        return Written(done, dropped=backlog.dropped)

    def _last_write(self, flushes: list[Flush], wait_s: float) -> Written:
        written = self._write(flushes, wait_s)
        if written.error is None:
            return written
        assert self._sink is not None
        path = self._held_path()
        save_held(path, self.backlog.items, self._sink.ids)
        self.backlog = Backlog()
        return replace(written, saved_to=path)

    def _held_path(self) -> Path:
        """Beside the database's real file, as SQLite's files and the lock are (a link to
        the database leads there; its own folder may not even be writable)."""
        return held_path(database_file(self.path))

    def _close(self) -> None:
        if self._sink is not None:
            self._sink.store.close()
            self._sink = None

    async def _call(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.wrap_future(self._executor.submit(func, *args))
