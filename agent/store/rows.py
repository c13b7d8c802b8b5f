"""What the store hands out besides :mod:`agent.models`' records (:class:`StoredAlert`,
:class:`Outgoing`), and the helpers every reader and writer of a table shares: stored
instants and amounts checked as the rules need them, time windows, JSON text, new ids.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
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
