"""Files seen in sync folders (:mod:`agent.files.sync`), so that each is imported once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.store.database import StoreBase
from agent.store.rows import select_rows
from agent.store.schema import SYNCED_COLUMNS

_SAVE_SYNCED = (
    f"insert or replace into synced_files ({', '.join(SYNCED_COLUMNS)}) "
    f"values ({', '.join('?' * len(SYNCED_COLUMNS))})"
)


class SyncedMixin(StoreBase):
    def synced_file(self, path: str) -> dict[str, Any] | None:
        """The ``synced_files`` row of ``path``, or None if it was never seen."""
        with self.guard("read the synced files"):
            rows = list(select_rows(self.conn, "synced_files", "path = ?", [path]))
        return rows[0] if rows else None

    def synced_content(self, sha256: str, *, besides: str) -> dict[str, Any] | None:
        """A file other than ``besides`` seen with this content that did not fail, or None."""
        where = "sha256 = ? and path != ? and status != 'failed'"
        with self.guard("read the synced files"):
            rows = select_rows(
                self.conn, "synced_files", where, [sha256, besides], order_by="seen_at", limit=1
            )
            return next(iter(rows), None)

    def save_synced_file(self, row: Mapping[str, Any]) -> None:
        """Insert or replace a ``synced_files`` row (columns :data:`SYNCED_COLUMNS`)."""
        with self.guard("store the synced file"), self.conn:
            self.conn.execute(_SAVE_SYNCED, [row[name] for name in SYNCED_COLUMNS])

    def synced_files(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """The files seen most recently first (``sync status``)."""
        with self.guard("read the synced files"):
            return list(
                select_rows(self.conn, "synced_files", order_by="seen_at desc, path", limit=limit)
            )
