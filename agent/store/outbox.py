"""What the daemon says (:mod:`agent.daemon.delivery`): nightly summaries and pain check-ins
stored before they are sent, and every alert, summary and check-in not yet shown, until a
notification marks it delivered."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from agent.store.database import StoreBase
from agent.store.rows import Outgoing, OutgoingKind, dumps, instant, select_rows
from agent.units import utc_iso

_OUTGOING_TABLES: dict[OutgoingKind, tuple[str, str]] = {
    "alert": ("alerts", "id"),
    "summary": ("summaries", "day"),
    "checkin": ("checkins", "key"),
}
_INSERT_SUMMARY = (
    "insert into summaries (day, created_at, message, data) values (?, ?, ?, ?) "
    "on conflict(day) do nothing"
)
_INSERT_CHECKIN = (
    "insert into checkins (key, kind, run_id, created_at, message) values (?, ?, ?, ?, ?) "
    "on conflict(key) do nothing"
)
_HAS_CHECKIN = "select 1 from checkins where key = ?"
_AWAITING_CHECKIN = (
    "select id, ended_at from runs where status = 'closed' and ended_at >= ? "
    "and 'after:run:' || id not in (select key from checkins) order by ended_at"
)
_UNDELIVERED = (
    "select 'alert', id, raised_at, severity, rule, message from alerts "
    "where delivered_at is null and raised_at >= ?1 "
    "union all select 'summary', day, created_at, null, null, message from summaries "
    "where delivered_at is null and created_at >= ?2 "
    "union all select 'checkin', key, created_at, null, kind, message from checkins "
    "where delivered_at is null and created_at >= ?3 "
    "order by 3"
)


class OutboxMixin(StoreBase):
    def save_summary(self, day: date, at: datetime, message: str, data: Mapping[str, Any]) -> bool:
        """Store the nightly summary of ``day``; False (and nothing changes) if it exists."""
        row = [day.isoformat(), utc_iso(at), message, dumps(dict(data))]
        with self.guard("store the summary"), self.conn:
            cursor = self.conn.execute(_INSERT_SUMMARY, row)
        return cursor.rowcount == 1

    def summary_of(self, day: date) -> dict[str, Any] | None:
        """The stored summary of ``day`` (its row, ``data`` parsed), if any."""
        with self.guard("read the summary"):
            rows = list(select_rows(self.conn, "summaries", "day = ?", [day.isoformat()]))
        return {**rows[0], "data": json.loads(rows[0]["data"] or "{}")} if rows else None

    def save_checkin(
        self, key: str, kind: str, at: datetime, message: str, run_id: int | None = None
    ) -> bool:
        """Store a pain check-in under ``key``; False (and nothing changes) if it exists."""
        row = [key, kind, run_id, utc_iso(at), message]
        with self.guard("store the check-in"), self.conn:
            cursor = self.conn.execute(_INSERT_CHECKIN, row)
        return cursor.rowcount == 1

    def has_checkin(self, key: str) -> bool:
        with self.guard("read check-ins"):
            return self.conn.execute(_HAS_CHECKIN, [key]).fetchone() is not None

    def runs_awaiting_checkin(self, *, since: datetime) -> list[tuple[int, datetime]]:
        """Closed runs that ended at or after ``since`` with no after-run check-in yet:
        ``(run id, ended_at)``, for a restarted daemon to schedule."""
        with self.guard("read runs"):
            rows = self.conn.execute(_AWAITING_CHECKIN, [utc_iso(since)]).fetchall()
        found = ({"id": run_id, "ended_at": ended} for run_id, ended in rows)
        return list(self._usable("runs", found, lambda r: (int(r["id"]), instant(r, "ended_at"))))

    def undelivered(self, *, since: datetime) -> list[Outgoing]:
        """Alerts, summaries and check-ins made since ``since`` that no notification has
        shown yet, oldest first."""
        with self.guard("read undelivered notifications"):
            rows = self.conn.execute(_UNDELIVERED, [utc_iso(since)] * 3).fetchall()
        found: list[Outgoing] = []
        for kind, ref, at, severity, rule, message in rows:
            table, _ = _OUTGOING_TABLES[kind]
            column = "raised_at" if kind == "alert" else "created_at"
            item = {"id": ref, column: at}
            made = self._usable(table, [item], functools.partial(instant, column=column))
            found.extend(Outgoing(kind, str(ref), when, severity, rule, message) for when in made)
        return found

    def mark_alerts_delivered(self, alert_ids: Sequence[int], at: datetime) -> None:
        """Record alerts as shown at ``at`` (another notification spoke for them)."""
        with self.guard("mark alerts delivered"), self.conn:
            self.conn.executemany(
                "update alerts set delivered_at = ? where id = ? and delivered_at is null",
                [(utc_iso(at), alert_id) for alert_id in alert_ids],
            )

    def mark_delivered(self, kind: OutgoingKind, ref: str, at: datetime) -> None:
        """Record that the notification of an alert (``ref`` its id), a summary (its day)
        or a check-in (its key) was shown at ``at``."""
        table, column = _OUTGOING_TABLES[kind]
        with self.guard("mark the notification delivered"), self.conn:
            self.conn.execute(
                f"update {table} set delivered_at = ? where {column} = ?", [utc_iso(at), ref]
            )
