"""Pain reports (``stridewatch pain``, the daemon's check-ins), read as the pain rules see
them (:class:`agent.models.PainReport`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

from agent.models import PainReport, PainWhen, PainWhere
from agent.store.database import StoreBase
from agent.store.rows import insert_row, instant, select_rows, time_window
from agent.store.runs import read_run
from agent.units import utc_iso


class PainMixin(StoreBase):
    def add_pain(
        self,
        *,
        at: datetime,
        score: int,
        when: PainWhen,
        where: PainWhere | None = None,
        run_id: int | None = None,
        note: str | None = None,
    ) -> int:
        """Store a pain report; return its id."""
        if run_id is not None:
            read_run(self, run_id)
        row = {
            "at": utc_iso(at),
            "score": score,
            "timing": when,
            "location": where,
            "run_id": run_id,
            "note": note,
            "created_at": utc_iso(datetime.now(UTC)),
        }
        with self.guard("store the pain report"), self.conn:
            return insert_row(self.conn, "pain", row)

    def pain_reports(
        self, *, until: datetime | None = None, since: datetime | None = None
    ) -> list[PainReport]:
        where, args = time_window("at", since, until)
        with self.guard("read pain reports"):
            rows = select_rows(self.conn, "pain", where, args, order_by="at, id")
            return list(self._usable("pain", rows, _pain_from_row))


def _pain_from_row(row: dict[str, Any]) -> PainReport:
    if row["timing"] not in get_args(PainWhen):
        known = ", ".join(get_args(PainWhen))
        raise ValueError(f"timing {row['timing']!r} is not one of {known}")
    if not (isinstance(row["score"], int) and 0 <= row["score"] <= 10):
        raise ValueError(f"score {row['score']!r} is not a score from 0 to 10")
    return PainReport(
        id=row["id"],
        at=instant(row, "at"),
        score=row["score"],
        when=row["timing"],
        where=row["location"],
        run_id=row["run_id"],
        note=row["note"],
    )
