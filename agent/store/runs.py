"""Runs: stored, read as the rules see them (:class:`agent.models.Run`), and as stored
(``show``); a run's RPE. Rows whose dates or amounts no rule can count with are skipped with a
warning (:meth:`~agent.store.database.StoreBase._usable`)."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.errors import NotFoundError
from agent.models import Run, Source
from agent.store.database import StoreBase
from agent.store.rows import amount, insert_row, instant, select_rows, time_window
from agent.units import utc_iso


class RunsMixin(StoreBase):
    def add_run(
        self,
        *,
        started_at: datetime,
        distance_m: float,
        moving_s: float,
        elapsed_s: float,
        source: Source,
        rpe: int | None = None,
        avg_hr: float | None = None,
        note: str | None = None,
        device: str | None = None,
    ) -> int:
        """Store a finished run; return its id."""
        row = {
            "started_at": utc_iso(started_at),
            "ended_at": utc_iso(started_at + timedelta(seconds=elapsed_s)),
            "distance_m": distance_m,
            "moving_s": moving_s,
            "elapsed_s": elapsed_s,
            "source": source,
            "status": "closed",
            "device": device,
            "rpe": rpe,
            "avg_hr": avg_hr,
            "note": note,
            "created_at": utc_iso(datetime.now(UTC)),
        }
        with self.guard("store the run"), self.conn:
            return insert_row(self.conn, "runs", row)

    def runs(self, *, until: datetime | None = None, since: datetime | None = None) -> list[Run]:
        """Closed and open runs that started in ``[since, until]``, oldest first."""
        where, args = time_window("started_at", since, until)
        with self.guard("read runs"):
            rows = select_rows(self.conn, "runs", where, args, order_by="started_at, id")
            return list(self._usable("runs", rows, _run_from_row))

    def last_run_before(self, moment: datetime) -> Run | None:
        """The latest run that started before ``moment``, if any (unusable rows skipped)."""
        with self.guard("read runs"):
            rows = select_rows(
                self.conn,
                "runs",
                "started_at < ?",
                [utc_iso(moment)],
                order_by="started_at desc, id desc",
            )
            with closing(self._usable("runs", rows, _run_from_row)) as usable:
                return next(usable, None)

    def get_run(self, run_id: int) -> Run:
        """Run ``run_id`` (:func:`read_run`)."""
        return read_run(self, run_id)

    def run_row(self, run_id: int) -> dict[str, Any]:
        """Every stored column of one run, for ``stridewatch show``."""
        with self.guard("read the run"):
            rows = list(select_rows(self.conn, "runs", "id = ?", [run_id]))
        if not rows:
            raise NotFoundError(f"run {run_id}: no such run (see `stridewatch runs`)")
        return rows[0]

    def set_rpe(self, run_id: int, rpe: int, srpe: float) -> None:
        """Store a run's RPE and its session-RPE load."""
        self.get_run(run_id)
        with self.guard("store the RPE"), self.conn:
            self.conn.execute("update runs set rpe = ?, srpe = ? where id = ?", [rpe, srpe, run_id])


def read_run(store: StoreBase, run_id: int) -> Run:
    """Run ``run_id`` as the rules see it; :class:`NotFoundError` if there is none, or its
    row cannot be used."""
    with store.guard("read the run"):
        rows = list(select_rows(store.conn, "runs", "id = ?", [run_id]))
    if not rows:
        raise NotFoundError(f"run {run_id}: no such run (see `stridewatch runs`)")
    try:
        return _run_from_row(rows[0])
    except ValueError as exc:
        raise NotFoundError(
            f"run {run_id}: cannot be used, its {exc} (fix or delete the row)"
        ) from None


def _run_from_row(row: dict[str, Any]) -> Run:
    return Run(
        id=row["id"],
        started_at=instant(row, "started_at"),
        ended_at=instant(row, "ended_at") if row["ended_at"] else None,
        distance_m=amount(row, "distance_m"),
        moving_s=amount(row, "moving_s"),
        elapsed_s=amount(row, "elapsed_s"),
        source=row["source"],
        rpe=amount(row, "rpe", required=False),
        avg_hr=amount(row, "avg_hr", required=False),
        trimp=amount(row, "trimp", required=False),
        note=row["note"],
        avg_cadence=amount(row, "avg_cadence", required=False),
    )
