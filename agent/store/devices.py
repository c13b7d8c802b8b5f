"""Sensors (``stridewatch pair``, and footpods the recorder found to count one foot) and the
dated distance calibration factor of each footpod (``stridewatch calibrate``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.store.database import StoreBase
from agent.store.rows import insert_row, select_rows
from agent.units import utc_iso

_UPSERT_DEVICE = (
    "insert into devices (address, name, kind, added_at) values (?, ?, ?, ?) "
    "on conflict(address) do update set name = coalesce(excluded.name, devices.name), "
    "kind = case when excluded.kind = 'unknown' then devices.kind else excluded.kind end"
)


class DevicesMixin(StoreBase):
    def add_device(
        self, *, address: str, kind: str, name: str | None = None, at: datetime | None = None
    ) -> bool:
        """Record a paired sensor; True if it is new. A known one keeps its ``added_at`` and
        ``per_foot``, takes a given ``name``, and takes ``kind`` unless that is ``unknown``."""
        added_at = utc_iso(at or datetime.now(UTC))
        with self.guard("store the device"), self.conn:
            known = self.conn.execute("select 1 from devices where address = ?", [address])
            is_new = known.fetchone() is None
            self.conn.execute(_UPSERT_DEVICE, [address, name, kind, added_at])
        return is_new

    def devices(self) -> list[dict[str, Any]]:
        """Paired or seen sensors: address, name, kind, per_foot, added_at; oldest first."""
        with self.guard("read devices"):
            return list(select_rows(self.conn, "devices", order_by="added_at, address"))

    def add_calibration(self, address: str, factor: float, at: datetime, note: str) -> None:
        """Date a new distance calibration factor for a footpod (old runs keep theirs)."""
        row = {"address": address, "factor": factor, "set_at": utc_iso(at), "note": note}
        with self.guard("store the calibration"), self.conn:
            insert_row(self.conn, "calibrations", row)

    def calibrations(self) -> dict[str, float]:
        """The current calibration factor of every calibrated footpod."""
        sql = "select address, factor from calibrations order by set_at, id"
        with self.guard("read calibrations"):
            return dict(self.conn.execute(sql))

    def per_foot_devices(self) -> set[str]:
        """Footpods known (configured earlier, or detected) to send cadence per foot."""
        with self.guard("read devices"):
            rows = self.conn.execute("select address from devices where per_foot = 1")
            return {address for (address,) in rows}

    def mark_per_foot(self, address: str) -> None:
        """Remember that a footpod sends cadence per foot (detected while recording)."""
        now = utc_iso(datetime.now(UTC))
        with self.guard("store the device"), self.conn:
            self.conn.execute(
                "insert into devices (address, kind, per_foot, added_at) "
                "values (?, 'footpod', 1, ?) on conflict(address) do update set per_foot = 1",
                [address, now],
            )

    def unmark_per_foot(self, address: str) -> None:
        """Forget that a footpod sends cadence per foot (its later runs said otherwise)."""
        with self.guard("store the device"), self.conn:
            self.conn.execute("update devices set per_foot = 0 where address = ?", [address])
