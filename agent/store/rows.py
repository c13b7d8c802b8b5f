"""What the store hands out besides :mod:`agent.models`' records (:class:`StoredAlert`,
:class:`Outgoing`), and the helpers every reader and writer of a table shares: rows as dicts
and new rows (plain :mod:`sqlite3`, as sqlite-utils' ``rows_where`` and ``insert`` did),
stored instants and amounts checked as the rules need them, time windows, JSON text.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from agent.models import Severity
from agent.units import stored_instant, utc_iso

# What an import does with a run: add it, replace a stored record of it, or keep the stored.
ImportAction = Literal["add", "replace", "keep"]

OutgoingKind = Literal["alert", "summary", "checkin"]


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert as stored: when it was raised (or last escalated), for which run, delivered."""

    id: int
    key: str
    rule: str
    severity: Severity
    message: str
    data: dict[str, Any]
    raised_at: datetime
    run_id: int | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Something waiting to be shown as a notification: ``ref`` is the alert's id, the
    summary's day or the check-in's key; ``severity`` and ``rule`` are set for alerts."""

    kind: OutgoingKind
    ref: str
    at: datetime
    severity: str | None
    rule: str | None
    message: str


def table_names(conn: sqlite3.Connection) -> list[str]:
    """The tables of the database (not its views), in the order they were created."""
    return [name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")]


def select_rows(
    conn: sqlite3.Connection,
    table: str,
    where: str | None = None,
    args: Sequence[Any] = (),
    *,
    order_by: str | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Every column of ``table``'s rows matching ``where``, as dicts, lazily; none if the
    table does not exist (a file opened read-only before a migration added it)."""
    sql = f"select * from [{table}]"
    sql += f" where {where}" if where else ""
    sql += f" order by {order_by}" if order_by else ""
    sql += f" limit {int(limit)}" if limit is not None else ""
    try:
        cursor = conn.execute(sql, args)
    except sqlite3.OperationalError as exc:
        if str(exc).startswith("no such table"):
            return
        raise
    columns = [column[0] for column in cursor.description]
    for row in cursor:
        yield dict(zip(columns, row, strict=True))


def insert_row(conn: sqlite3.Connection, table: str, row: Mapping[str, Any]) -> int:
    """Insert ``row`` (column: value) into ``table``; return its rowid (its ``id``)."""
    columns = ", ".join(f"[{name}]" for name in row)
    marks = ", ".join("?" for _ in row)
    cursor = conn.execute(f"insert into [{table}] ({columns}) values ({marks})", list(row.values()))
    return last_pk(cursor.lastrowid)


def dumps(data: Any) -> str:
    """JSON text for ``data`` columns."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def last_pk(value: object) -> int:
    assert isinstance(value, int), value
    return value


def time_window(
    column: str, since: datetime | None, until: datetime | None
) -> tuple[str | None, list[Any]]:
    clauses, args = [], []
    if since is not None:
        clauses.append(f"{column} >= ?")
        args.append(utc_iso(since))
    if until is not None:
        clauses.append(f"{column} <= ?")
        args.append(utc_iso(until))
    return (" and ".join(clauses) or None), args


def instant(row: Mapping[str, Any], column: str) -> datetime:
    """``row[column]`` as aware UTC; ``ValueError`` naming the column when it is no date
    stridewatch can count with (:func:`agent.units.stored_instant`)."""
    try:
        return stored_instant(row[column])
    except ValueError as exc:
        raise ValueError(f"{column} {exc}") from None


def with_start(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "started_at": instant(row, "started_at")}


def amount(row: Mapping[str, Any], column: str, *, required: bool = True) -> Any:
    """A stored number the rules count with: finite and not negative (None where it may be
    missing); else ``ValueError`` naming it, and the reader skips the row."""
    value = row[column]
    if value is None and not required:
        return None
    value = 0.0 if value is None else value
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{column} {value!r} is not a number stridewatch can count with")
    return value
