"""Alerts: one row per raised condition (its key), escalated but never raised twice; those
the rules raise (``check``, the nightly summary) and those the daemon raises live."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agent.models import Alert, severity_rank
from agent.store.database import StoreBase
from agent.store.rows import StoredAlert, dumps, instant, select_rows, time_window
from agent.units import utc_iso

ALERT_COLUMNS = ("key", "rule", "severity", "message", "data", "raised_at", "run_id")
ALERT_RANK = "select severity, json_extract(data, '$.level') from alerts where key = ?"
_UPSERT_ALERT = (
    f"insert into alerts ({', '.join(ALERT_COLUMNS)}) values ({', '.join('?' * 7)}) "
    "on conflict(key) do update set rule = excluded.rule, severity = excluded.severity, "
    "message = excluded.message, data = excluded.data, raised_at = excluded.raised_at, "
    "run_id = excluded.run_id, delivered_at = null"
)
_LIVE_COLUMNS = (*ALERT_COLUMNS, "at_distance_m")
_UPSERT_LIVE_ALERT = (
    f"insert into alerts ({', '.join(_LIVE_COLUMNS)}) values ({', '.join('?' * 8)}) "
    "on conflict(key) do update set rule = excluded.rule, severity = excluded.severity, "
    "message = excluded.message, data = excluded.data, raised_at = excluded.raised_at, "
    "run_id = excluded.run_id, at_distance_m = excluded.at_distance_m, delivered_at = null"
)


class AlertsMixin(StoreBase):
    def record_alerts(
        self, alerts: Sequence[Alert], *, raised_at: datetime
    ) -> list[tuple[Alert, bool]]:
        """Store alerts that are new, or escalate a stored one of the same key (a higher
        severity, or a higher ``data["level"]`` within it; the escalation is delivered again).
        Returns the stored ones, each with True if it was an escalation."""
        stored: list[tuple[Alert, bool]] = []
        with self.guard("store alerts"), self.conn:
            for alert in alerts:
                found = self.conn.execute(ALERT_RANK, [alert.key]).fetchone()
                if found is not None and stored_rank(found) >= alert_rank(alert):
                    continue
                row = alert_row(alert, raised_at)
                self.conn.execute(_UPSERT_ALERT, [row[name] for name in ALERT_COLUMNS])
                stored.append((alert, found is not None))
        return stored

    def stored_alerts(self, *, since: datetime | None = None) -> list[StoredAlert]:
        """Alerts raised (or last escalated) at or after ``since``, oldest first."""
        where, args = time_window("raised_at", since, None)
        with self.guard("read alerts"):
            rows = select_rows(self.conn, "alerts", where, args, order_by="raised_at, id")
            return list(self._usable("alerts", rows, stored_alert))

    def record_live_alert(
        self,
        alert: Alert,
        *,
        raised_at: datetime,
        run_id: int | None,
        at_distance_m: float | None,
    ) -> int | None:
        """Store an alert raised by the daemon (during run ``run_id`` at ``at_distance_m``, or
        about a sensor with neither), unless its key is stored at the same or a higher rank
        (then None: already said). Returns its row id."""
        row = {**alert_row(alert, raised_at), "run_id": run_id, "at_distance_m": at_distance_m}
        with self.guard("store the alert"), self.conn:
            found = self.conn.execute(ALERT_RANK, [alert.key]).fetchone()
            if found is not None and stored_rank(found) >= alert_rank(alert):
                return None
            self.conn.execute(_UPSERT_LIVE_ALERT, [row[name] for name in _LIVE_COLUMNS])
            (alert_id,) = self.conn.execute(
                "select id from alerts where key = ?", [alert.key]
            ).fetchone()
        return int(alert_id)

    def latest_alert_id(self) -> int:
        """The id of the newest stored alert (0: none yet)."""
        with self.guard("read alerts"):
            (found,) = self.conn.execute("select max(id) from alerts").fetchone()
        return int(found or 0)

    def alert_ids_after(self, alert_id: int) -> tuple[int, ...]:
        """The ids of the alerts stored after alert ``alert_id``."""
        with self.guard("read alerts"):
            rows = self.conn.execute("select id from alerts where id > ? order by id", [alert_id])
            return tuple(int(found) for (found,) in rows)


def stored_alert(row: dict[str, Any]) -> StoredAlert:
    return StoredAlert(
        id=row["id"],
        key=row["key"],
        rule=row["rule"],
        severity=row["severity"],
        message=row["message"],
        data=json.loads(row["data"]) if row["data"] else {},
        raised_at=instant(row, "raised_at"),
        run_id=row["run_id"],
        delivered_at=instant(row, "delivered_at") if row["delivered_at"] else None,
    )


def stored_rank(found: tuple[Any, ...]) -> tuple[int, int]:
    return severity_rank(found[0]), int(found[1] or 0)


def alert_rank(alert: Alert) -> tuple[int, int]:
    return severity_rank(alert.severity), int(alert.data.get("level") or 0)


def alert_row(alert: Alert, raised_at: datetime) -> dict[str, Any]:
    run_id = alert.data.get("run_id")
    return {
        "key": alert.key,
        "rule": alert.rule,
        "severity": alert.severity,
        "message": alert.message,
        "data": dumps(alert.data),
        "raised_at": utc_iso(raised_at),
        "run_id": run_id if isinstance(run_id, int) and run_id > 0 else None,
    }
