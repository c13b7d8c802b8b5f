"""Graded return-to-run plans (``stridewatch plan return``; one is active at a time) and the
starting levels a runner declared (``stridewatch baseline set``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import closing
from datetime import datetime
from typing import Any, TypeVar

from agent.models import DeclaredLevel
from agent.store.database import StoreBase
from agent.store.rows import dumps, insert_row, instant, select_rows, table_names
from agent.units import stored_day, utc_iso

T = TypeVar("T")

_ACTIVE_PLAN = (
    "select id, created_at, data from plans where created_at <= ? "
    "and (ended_at is null or ended_at > ?) order by created_at desc, id desc limit 1"
)


class PlansMixin(StoreBase):
    def add_plan(self, data: Mapping[str, Any], *, created_at: datetime) -> int:
        """Store a return-to-run plan (its JSON) as the active one; older ones end now."""
        stamp = utc_iso(created_at)
        with self.guard("store the plan"), self.conn:
            self.conn.execute(
                "update plans set status = 'replaced', ended_at = ? where status = 'active'",
                [stamp],
            )
            row = {"created_at": stamp, "status": "active", "data": dumps(dict(data))}
            return insert_row(self.conn, "plans", row)

    def active_plan(self, *, at: datetime, parse: Callable[[int, dict[str, Any]], T]) -> T | None:
        """The plan active at ``at`` (created by then, not yet ended), made by ``parse`` from
        its id and JSON. A plan whose dates are unusable or that ``parse`` cannot make
        (``ValueError``, ``KeyError``, ``TypeError``, ``IndexError``) is skipped with a
        warning, and no plan is active."""
        if "plans" not in table_names(self.conn):
            return None
        stamp = utc_iso(at)

        def make(row: dict[str, Any]) -> T:
            data = _plan_data(row)
            try:
                return parse(int(row["id"]), data)
            except (KeyError, TypeError, IndexError) as exc:
                raise ValueError(f"data that is not a plan ({type(exc).__name__})") from None

        with self.guard("read plans"):
            cursor = self.conn.execute(_ACTIVE_PLAN, [stamp, stamp])
            rows = [dict(zip(("id", "created_at", "data"), row, strict=True)) for row in cursor]
        return next(self._usable("plans", rows[:1], make), None)

    def declare_level(self, *, week_km: float, long_km: float, at: datetime) -> int:
        """Store a declared starting level (km): the baseline week and the longest run."""
        row = {"set_at": utc_iso(at), "week_km": week_km, "long_km": long_km}
        with self.guard("store the declared level"), self.conn:
            return insert_row(self.conn, "declared_levels", row)

    def declared_level(self, *, at: datetime) -> DeclaredLevel | None:
        """The latest level declared at or before ``at``, if any."""
        if "declared_levels" not in table_names(self.conn):
            return None
        with self.guard("read the declared level"):
            rows = select_rows(
                self.conn,
                "declared_levels",
                "set_at <= ?",
                [utc_iso(at)],
                order_by="set_at desc, id desc",
            )
            with closing(self._usable("declared_levels", rows, _level_from_row)) as usable:
                return next(usable, None)


def _plan_data(row: dict[str, Any]) -> dict[str, Any]:
    """A plan row's JSON, its dates checked as the store's own (``ValueError``)."""
    instant(row, "created_at")
    try:
        data = json.loads(row["data"])
    except (TypeError, ValueError):
        raise ValueError(f"data {str(row['data'])[:60]!r} that is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"data {str(row['data'])[:60]!r} that is not a plan")
    if "created_at" in data:
        instant(data, "created_at")
    try:
        stored_day(data.get("start_week"))
    except ValueError as exc:
        raise ValueError(f"start_week {exc}") from None
    return data


def _level_from_row(row: dict[str, Any]) -> DeclaredLevel:
    try:
        week_km, long_km = float(row["week_km"]), float(row["long_km"])
    except (TypeError, ValueError):
        raise ValueError(f"week_km {row['week_km']!r}, long_km {row['long_km']!r}") from None
    return DeclaredLevel(instant(row, "set_at"), week_km, long_km)
