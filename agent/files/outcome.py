"""What an import says about each activity of each file (:class:`Outcome`), what the runner
told ``import`` (:class:`ImportOptions`), and the batch's verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from agent.errors import StridewatchError
from agent.files.activity import Activity
from agent.recording.intensity import HeartProfile
from agent.units import DateWindow, format_distance, format_duration

Status = Literal["imported", "duplicate", "skipped", "failed"]
STATUSES: tuple[Status, ...] = ("imported", "duplicate", "skipped", "failed")


class NothingImportedError(StridewatchError):
    """No file of the batch gave a run (and none was already stored)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What the runner told ``import``: ``sport`` "run" takes every activity of a single
    activity file as a run, whatever the file says; ``at`` is when the run started, for a file
    whose device clock was never set."""

    sport: Literal["run"] | None = None
    at: datetime | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The runner's heart, for each run's Banister TRIMP (None: no TRIMP stored).
    heart: HeartProfile | None = None
    # The files --at has dated so far: it gives one start, so it dates one file.
    dated: list[str] = field(default_factory=list)
    # The dates the runner's config accepts (Settings.date_window); a file dated outside
    # them fails. None: from 1990 (FIT's epoch) on.
    window: DateWindow | None = None
    # Runs this same file gave before it changed (a sync folder's file written again, or
    # completed after a pause): its new content replaces theirs.
    replaces: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one activity of a file (or to the file, when it could not be read)."""

    file: str
    status: Status
    reason: str | None = None
    run_id: int | None = None
    activity: Activity | None = None
    replaced: bool = False  # a duplicate whose data replaced the stored run's
    # How many samples the activity had, when they are let go (:meth:`without_samples`).
    samples: int | None = None

    def without_samples(self) -> Outcome:
        """This outcome holding its activity's totals, not its samples (a batch of long
        tracks would otherwise hold them all until it ends)."""
        act = self.activity
        if act is None or self.samples is not None:
            return self
        return replace(self, activity=replace(act, samples=()), samples=len(act.samples))

    def as_json(self) -> dict[str, Any]:
        act = self.activity
        return {
            "file": self.file,
            "status": self.status,
            "reason": self.reason,
            "run_id": self.run_id,
            "warning": act.warning if act else None,
            "leg": act.leg if act else None,
            "sport": act.sport.name if act else None,
            "started_at": (
                act.started_at.isoformat(timespec="seconds")
                if act and not act.clock_unset
                else None
            ),
            "distance_km": round(act.distance_m / 1000, 3) if act else None,
            "moving_s": round(act.moving_s, 1) if act else None,
            "samples": (
                self.samples if self.samples is not None else len(act.samples) if act else None
            ),
        }

    def line(self, unit: Literal["km", "mi"]) -> str:
        """One line for the runner: status, file (and leg), and what or why."""
        what = self.reason or ""
        act = self.activity
        if self.status == "imported" and act is not None:
            what = (
                f"run {self.run_id}, {act.started_at:%Y-%m-%d %H:%M} UTC, "
                f"{format_distance(act.distance_m, unit, 2)} in {format_duration(act.moving_s)}"
            ) + (f" (warning: {act.warning})" if act.warning else "")
        where = f"{self.file} [{act.leg}]" if act is not None and act.leg else self.file
        return f"{self.status:<9} {where}: {what}"


# The name kept for scripts written against the one-outcome-per-file importer.


# The name kept for scripts written against the one-outcome-per-file importer.
FileOutcome = Outcome


def summary(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Outcomes per status, every status present."""
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for outcome in outcomes:
        counts[outcome.status] += 1
    return counts


def check_batch(outcomes: Sequence[Outcome]) -> None:
    """Raise :class:`NothingImportedError` unless some activity gave a run that is now
    stored (imported now, or the same as one stored before)."""
    counts = summary(outcomes)
    if counts["imported"] or counts["duplicate"]:
        return
    files = len({outcome.file for outcome in outcomes})
    raise NothingImportedError(
        f"no run imported from {files} file(s): {counts['failed']} failed, "
        f"{counts['skipped']} skipped (see the lines above)"
    )
