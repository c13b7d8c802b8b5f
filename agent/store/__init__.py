"""The local history: one SQLite file, in WAL mode, upgraded in place by sqlite-utils
migrations; README's "The database" documents every table.

:class:`Store` is a small facade: each concern keeps its methods in a module of its own,

- :mod:`~agent.store.paths`: the file on disk (which file SQLite may open, created private),
- :mod:`~agent.store.database`: opening, closing, errors a runner can act on (``StoreBase``),
- :mod:`~agent.store.schema`: the migrations, :mod:`~agent.store.migrate`: applying them,
- :mod:`~agent.store.runs`, :mod:`~agent.store.recordings`, :mod:`~agent.store.imported`,
  :mod:`~agent.store.samples`: runs (logged, recorded, imported) and their samples (packed
  up to 64 to a row of ``samples_packed``, :mod:`~agent.store.packing` has the layout; shown
  one row per sample in SI units by the ``samples`` view),
- :mod:`~agent.store.pain`, :mod:`~agent.store.alerts`, :mod:`~agent.store.plans`,
  :mod:`~agent.store.outbox` (summaries, check-ins, deliveries), :mod:`~agent.store.devices`
  (sensors and calibrations), :mod:`~agent.store.synced` (sync folders),
- :mod:`~agent.store.rows`: the records the store hands out and the helpers its readers share,
- :mod:`~agent.store.writer`: the daemon's writer thread and the flushes it holds,

and :class:`Store` brings them together. The store imports nothing above it (recording, rules,
advice, files, daemon, views, cli): only :mod:`agent.models`, :mod:`agent.units`,
:mod:`agent.errors` and :mod:`agent.safe_write`. Instants are stored as UTC text
(``2026-11-20T06:30:00+00:00``) in runs, pain and alerts, and as UTC unix seconds in samples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.models import SampleRow
from agent.store.alerts import AlertsMixin
from agent.store.database import StoreBase
from agent.store.devices import DevicesMixin
from agent.store.imported import IMPORTED_COLUMNS, ImportedMixin
from agent.store.migrate import migration_set
from agent.store.outbox import OutboxMixin
from agent.store.pain import PainMixin
from agent.store.paths import SQLITE_HEADER, database_file
from agent.store.plans import PlansMixin
from agent.store.recordings import RECORDED_COLUMNS, RecordingsMixin
from agent.store.rows import ImportAction, Outgoing, OutgoingKind, StoredAlert, dumps
from agent.store.runs import RunsMixin
from agent.store.schema import (
    DISTANCE_SOURCE_COLUMNS,
    MIGRATION_SET,
    RECORDING_RUN_COLUMNS,
    SYNCED_COLUMNS,
)
from agent.store.synced import SyncedMixin

if TYPE_CHECKING:
    from sqlite_utils.migrations import Migrations

__all__ = [
    "DISTANCE_SOURCE_COLUMNS",
    "IMPORTED_COLUMNS",
    "MIGRATION_SET",
    "RECORDED_COLUMNS",
    "RECORDING_RUN_COLUMNS",
    "SQLITE_HEADER",
    "SYNCED_COLUMNS",
    "ImportAction",
    "Outgoing",
    "OutgoingKind",
    "SampleRow",
    "Store",
    "StoredAlert",
    "database_file",
    "dumps",
    "migrations",
]


class Store(
    RunsMixin,
    RecordingsMixin,
    ImportedMixin,
    PainMixin,
    AlertsMixin,
    PlansMixin,
    OutboxMixin,
    DevicesMixin,
    SyncedMixin,
    StoreBase,
):
    """The stridewatch database. Open with :meth:`open` (or :meth:`open_read_only`); close
    with :meth:`close`, or use it as a context manager. Every method is one concern's
    (the modules above); each write is one transaction."""


def __getattr__(name: str) -> Migrations:
    """``agent.store.migrations``: sqlite-utils' migrations of set ``stridewatch``, made on
    first use (so that importing the store does not import sqlite-utils)."""
    if name == "migrations":
        return migration_set()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
