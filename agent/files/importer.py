"""Import a runner's history from activity files: FIT, TCX and GPX, plain or gzipped, in
folders or in zip exports (Strava, Garmin Connect).

Every activity in a file gets one :class:`Outcome` (a triathlon's five legs are five):

- **imported**: a run, stored with its samples in one transaction; totals from the file's
  own summary (FIT session, TCX laps) or, for GPX, from the track.
- **duplicate**: the same run is already stored (overlapping in time, see
  :mod:`agent.files.same_run`), from any source. The better record is kept: when this file is
  better (a FIT over a GPX, any file over a run logged by hand), the stored run takes its data
  and keeps its id, RPE, note and pain reports. The reason says which was kept.
- **skipped**: readable but not a run: a ride, a walk, a swim, a triathlon's other legs, a
  settings file, a route without times, a track moving at cycling or driving speed. The
  load rules count running; a walk or ride would inflate the weeks they compare against.
- **failed**: cannot be read (damaged, truncated, not an activity file, a clock never set);
  one line, and the rest of the batch goes on. A damaged FIT file whose session summary was
  read before the damage is imported with the device's totals, and the outcome says so.

Files are told apart by their content (FIT signature, XML root), not their names
(:mod:`agent.files.reading`). XML goes through defusedxml; a GPX track is read as a stream
and its samples written as they are made, so a file of millions of points is never held
whole. Every value passes :func:`agent.files.activity.validated` before it can be stored:
nothing negative, non-finite or beyond what a person can do reaches the database.

This module runs the import; its parts live beside it and their names stay importable from
here: :mod:`~agent.files.batch` (the files given), :mod:`~agent.files.reading` (one file's
activities), :mod:`~agent.files.judge` (run or not), :mod:`~agent.files.outcome` (what is
said about each).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from agent.files import same_run as same
from agent.files.activity import MAX_SAMPLE_GAP_S, Activity, ActivityFileError, NotARunError
from agent.files.batch import LIST_NAME, Batch, Input, display
from agent.files.judge import (
    RUN_MAX_AVG_KMH,
    SLOW_MAX_KMH,
    SLOW_MIN_S,
    UNTYPED_MAX_AVG_KMH,
    UNTYPED_MAX_Q3_KMH,
    UNTYPED_MIN_POINTS,
    check_is_run,
    prepared,
)
from agent.files.outcome import (
    STATUSES,
    FileOutcome,
    ImportOptions,
    NothingImportedError,
    Outcome,
    Status,
    check_batch,
    summary,
)
from agent.files.reading import MAX_FILE_BYTES, MAX_XML_BYTES, read_file, read_legs, read_legs_from
from agent.recording.intensity import HeartProfile

if TYPE_CHECKING:
    from agent.store import ImportAction, Store

__all__ = [
    "LIST_NAME",
    "MAX_FILE_BYTES",
    "MAX_XML_BYTES",
    "RUN_MAX_AVG_KMH",
    "SLOW_MAX_KMH",
    "SLOW_MIN_S",
    "STATUSES",
    "UNTYPED_MAX_AVG_KMH",
    "UNTYPED_MAX_Q3_KMH",
    "UNTYPED_MIN_POINTS",
    "Batch",
    "FileOutcome",
    "ImportOptions",
    "Input",
    "NothingImportedError",
    "Outcome",
    "Status",
    "check_batch",
    "display",
    "import_input",
    "import_inputs",
    "read_file",
    "read_legs",
    "stored_record",
    "summary",
    "trimp",
]


def import_inputs(
    store: Store,
    inputs: Sequence[Input],
    options: ImportOptions | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    on_input: Callable[[Input], None] | None = None,
) -> list[Outcome]:
    """Import every input in turn: outcomes for each activity, whatever happens to the
    others. ``on_outcome`` hears each outcome, ``on_input`` each finished input."""
    options = options or ImportOptions()
    outcomes: list[Outcome] = []
    for item in inputs:
        for outcome in import_input(store, item, options):
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        if on_input is not None:
            on_input(item)
    return outcomes


def import_input(store: Store, item: Input, options: ImportOptions) -> list[Outcome]:
    """Read, check and store one file's activities; never raises for the file's sake."""
    if item.ready is not None:
        return [_import_activity(store, item, item.ready, options, several=False)]
    try:
        source = item.open()
        try:
            legs = read_legs_from(source, item.name)
        finally:
            source.close()
    except NotARunError as exc:
        return [Outcome(item.label, "skipped", str(exc))]
    except ActivityFileError as exc:
        return [Outcome(item.label, "failed", str(exc))]
    if not legs:
        return [Outcome(item.label, "skipped", "no activity in the file (a course or workout?)")]
    several = len(legs) > 1
    outcomes = []
    for leg in legs:
        if isinstance(leg, ActivityFileError):
            outcomes.append(Outcome(item.label, "failed", str(leg)))
            continue
        outcomes.append(_import_activity(store, item, leg, options, several=several))
    return [outcome.without_samples() for outcome in outcomes]


def _import_activity(
    store: Store, item: Input, activity: Activity, options: ImportOptions, *, several: bool
) -> Outcome:
    try:
        activity = prepared(activity, item, options, several=several)
        check_is_run(activity, several=several)
    except NotARunError as exc:
        return Outcome(item.label, "skipped", str(exc), activity=activity)
    except ActivityFileError as exc:
        return Outcome(item.label, "failed", str(exc), activity=activity)
    return _store(store, item, activity, options)


def _store(store: Store, item: Input, activity: Activity, options: ImportOptions) -> Outcome:
    kind = "export" if activity.exported else activity.format
    new = same.Record(
        activity.started_at, activity.elapsed_s, activity.distance_m, activity.moving_s, kind
    )
    reasons: list[str] = []

    def decide(rows: list[dict[str, Any]]) -> tuple[ImportAction, int | None]:
        matches = [
            (row, record) for row in rows if same.same_run(new, record := stored_record(row))
        ]
        if not matches:
            return "add", None
        if len(matches) > 1:
            ids = [int(row["id"]) for row, _ in matches]
            listed = ", ".join(map(str, ids[:-1])) + f" and {ids[-1]}"
            reasons.append(f"covers runs {listed}, already stored; kept them")
            return "keep", ids[0]
        ((row, stored),) = matches
        action, why = same.choose(new, stored)
        if int(row["id"]) in options.replaces and row["status"] == "closed":
            action, why = "replace", "the file changed since it gave that run: its new content"
        if row["status"] != "closed":
            action, why = "keep", "kept the run being recorded"
        reasons.append(why)
        return action, int(row["id"])

    fields = _run_fields(activity, item.name, options.heart)
    action, run_id = store.add_imported_run_once(fields, activity.samples, decide)
    if action == "add":
        return Outcome(item.label, "imported", None, run_id, activity)
    reason = (
        reasons[0] if reasons[0].startswith("covers") else f"same run as run {run_id}; {reasons[0]}"
    )
    return Outcome(item.label, "duplicate", reason, run_id, activity, action == "replace")


def stored_record(row: dict[str, Any]) -> same.Record:
    """A stored run as a record of a run (see :mod:`agent.files.same_run`)."""
    return same.Record(
        row["started_at"],
        row["elapsed_s"] or 0.0,
        row["distance_m"] or 0.0,
        row["moving_s"] or 0.0,
        same.stored_kind(row["source"], row["import_file"], row.get("external_id")),
    )


def _run_fields(activity: Activity, name: str, heart: HeartProfile | None) -> dict[str, Any]:
    return {
        "trimp": trimp(activity, heart) if heart is not None else None,
        "started_at": activity.started_at,
        "distance_m": activity.distance_m,
        "moving_s": activity.moving_s,
        "elapsed_s": activity.elapsed_s,
        "avg_hr": activity.avg_hr,
        "max_hr": activity.max_hr,
        "avg_cadence": activity.avg_cadence,
        "note": activity.name,
        "import_file": name,
        "external_id": activity.external_id,
    }


def trimp(activity: Activity, heart: HeartProfile) -> float | None:
    """Banister TRIMP of an imported run, as the recorder counts it live: over the samples'
    heart rate where they have it (gaps over 10 s not counted), else from the file's average
    heart rate over the moving time (Banister's own form). None without heart rate."""
    total = seconds = 0.0
    for before, after in itertools.pairwise(activity.samples):
        dt = after[0] - before[0]
        if before[4] and 0 < dt <= MAX_SAMPLE_GAP_S:
            total += heart.banister(before[4], dt)
            seconds += dt
    if seconds:
        return total
    if activity.avg_hr is not None and activity.moving_s > 0:
        return heart.banister(activity.avg_hr, activity.moving_s)
    return None
