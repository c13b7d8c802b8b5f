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

Files are told apart by their content (FIT signature, XML root), not their names. XML goes
through defusedxml. Every value passes :func:`agent.files.activity.validated` before it can
be stored: nothing negative, non-finite or beyond what a person can do reaches the database.
"""

from __future__ import annotations

import gzip
import io
import itertools
import logging
import os
import stat
import zlib
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agent.errors import StridewatchError
from agent.files import same_run as same
from agent.files.activity import (
    EARLIEST_START,
    MAX_SAMPLE_GAP_S,
    Activity,
    ActivityFileError,
    NotARunError,
    validated,
)
from agent.files.archive import (
    ActivityList,
    Archive,
    CsvRow,
    is_activity_name,
    is_zip_name,
    printable,
)
from agent.files.sports import Sport, classify
from agent.recording.intensity import HeartProfile
from agent.units import (
    MAX_AVG_SPEED,
    MAX_RUN_M,
    MAX_RUN_S,
    DateWindow,
    format_distance,
    format_duration,
)

if TYPE_CHECKING:
    from agent.store import ImportAction, Store

log = logging.getLogger(__name__)

Status = Literal["imported", "duplicate", "skipped", "failed"]
STATUSES: tuple[Status, ...] = ("imported", "duplicate", "skipped", "failed")

# Uncompressed activity files stay far below this: a 24-hour FIT file at one record a second
# is about 4 MB, its TCX about 60 MB. Anything bigger is not an activity (or a gzip bomb);
# an XML file is held in memory about ten times over while it is parsed.
MAX_FILE_BYTES = 128 * 1024 * 1024
# A zip export can be large (years of gzipped files); it is read member by member.
MAX_ZIP_BYTES = 16 * 1024 * 1024 * 1024
# An activity whose file names no sport is judged by its speed: above these, it is a ride or
# a drive. Training runs stay far below 20 km/h on average, and a quarter of a run's points
# above 22 km/h is no run anyone trains.
UNTYPED_MAX_AVG_KMH = 20.0
UNTYPED_MAX_Q3_KMH = 22.0
UNTYPED_MIN_POINTS = 30
# Whatever the file or the runner says, nobody runs faster than this on average: the 5 km
# world record is 23.8 km/h. A "run" above it is a ride or a drive labelled as a run.
RUN_MAX_AVG_KMH = 24.0
# An hour or more at under 3 km/h of moving time is not running (a brisk walk is 5 km/h): a
# watch left running all day, or a distance in the wrong unit.
SLOW_MIN_S = 3600.0
SLOW_MAX_KMH = 3.0


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
            "samples": len(act.samples) if act else None,
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
FileOutcome = Outcome


@dataclass(frozen=True, slots=True)
class Input:
    """One file to import: ``label`` for the runner's lines, ``name`` stored with the run,
    ``load`` its bytes, ``row`` its line of a Strava ``activities.csv``; or, for a line of
    that list with no file, the ``ready`` activity the line describes."""

    label: str
    name: str
    load: Callable[[], bytes]
    row: CsvRow | None = None
    ready: Activity | None = None


class Batch:
    """The files given to ``import``, folders and zips opened: a context manager (zips stay
    open while their members are read). :attr:`inputs` in name order; :attr:`notes` holds
    what a list names but the export lacks."""

    def __init__(self, paths: Iterable[Path], *, within: Path | None = None) -> None:
        """``within``: a folder no ``activities.csv`` is read above (a sync folder's edge)."""
        self._within = within
        self._stack = ExitStack()
        self.inputs: list[Input] = []
        self.notes: list[Outcome] = []
        self._lists: dict[Path, ActivityList | None] = {}
        self._manual_done: set[Path] = set()
        for path in paths:
            self._add(path)

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _add(self, path: Path) -> None:
        if path.is_dir():
            files = [
                found
                for found in sorted(p for p in path.rglob("*") if p.is_file())
                if is_activity_name(found.name) or is_zip_name(found.name)
            ]
            for found in files:
                self._add_file(found)
            lists = {p.parent for p in path.rglob(LIST_NAME) if p.is_file()} | {path.parent}
            for folder in sorted(lists):
                self._add_manual(folder, display(folder / LIST_NAME))
            if not files and not any(self._list_in(folder) for folder in lists):
                reason = "no FIT, TCX, GPX or zip files in this folder"
                self.notes.append(Outcome(display(path), "skipped", reason))
        else:
            self._add_file(path)

    def _add_file(self, path: Path) -> None:
        if is_zip_name(path.name) and path.is_file():
            self._add_zip(path)
            return
        row = self._row_for(path)
        self.inputs.append(Input(display(path), display(path.name), _file_loader(path), row))

    def _row_for(self, path: Path) -> CsvRow | None:
        """The row of an ``activities.csv`` beside the file or one folder up (an unpacked
        Strava export: the list, and the files in ``activities/``)."""
        for folder in (path.parent, path.parent.parent):
            if self._within is not None and not (
                folder == self._within or self._within in folder.parents
            ):
                continue
            listing = self._list_in(folder)
            if listing is not None:
                found = listing.row_for(os.fsdecode(path.relative_to(folder)))
                if found is not None:
                    return found
        return None

    def _list_in(self, folder: Path) -> ActivityList | None:
        if folder not in self._lists:
            csv_path = folder / LIST_NAME
            try:
                self._lists[folder] = (
                    ActivityList(read_file(csv_path)) if csv_path.is_file() else None
                )
            except ActivityFileError:
                self._lists[folder] = None
        return self._lists[folder]

    def _add_manual(self, folder: Path, label: str) -> None:
        listing = self._list_in(folder)
        if listing is None or folder in self._manual_done:
            return
        self._manual_done.add(folder)
        if listing.problem is not None:
            self.notes.append(Outcome(label, "skipped", listing.problem))
        self._add_rows(listing.manual, label)

    def _add_rows(self, rows: Iterable[CsvRow], label: str) -> None:
        for row in rows:
            if classify(row.sport).is_run is not True:
                continue
            item = _listed_run(row, label)
            if isinstance(item, Outcome):
                self.notes.append(item)
            else:
                self.inputs.append(item)

    def _add_zip(self, path: Path) -> None:
        try:
            archive = Archive(path, MAX_FILE_BYTES)
        except ActivityFileError as exc:
            self.notes.append(Outcome(display(path), "failed", str(exc)))
            return
        self._stack.callback(archive.close)
        shown = display(path)
        for label, zipped, info in archive.members:
            load = _member_loader(archive, zipped, info)
            name = info.filename
            self.inputs.append(Input(f"{shown}:{label}", name, load, archive.row_for(name)))
        for label, reason in archive.broken:
            self.notes.append(Outcome(f"{shown}:{label}", "failed", reason))
        for listing in archive.lists:
            where = f"{listing.folder}/{LIST_NAME}".removeprefix("./")
            self._add_rows(listing.manual, f"{shown}:{where}")
        for listed, row in archive.missing():
            self.notes.append(
                Outcome(
                    f"{shown}:{listed}",
                    "failed",
                    f"listed in {LIST_NAME} ({row.name or 'no name'}) but not in the zip",
                )
            )


LIST_NAME = "activities.csv"


def _listed_run(row: CsvRow, label: str) -> Input | Outcome:
    """A run that Strava's list names without a file (entered by hand, or from an app that
    shares no file): stored from the list's start, times and distance in metres."""
    title = f"{row.name or 'a run'} ({row.date or 'no date'})"
    started = row.started_at()
    seconds = row.moving_s or row.elapsed_s
    if started is None or not seconds or row.distance_m is None:
        reason = f"{title}: no file, and the list lacks its date, time or distance in metres"
        return Outcome(label, "skipped", reason)
    activity = Activity(
        started_at=started,
        distance_m=row.distance_m,
        moving_s=seconds,
        elapsed_s=row.elapsed_s or seconds,
        sport=classify(row.sport),
        format="csv",
        name=row.name,
        warning="no activity file: totals from the list",
        external_id=f"strava:{row.activity_id}" if row.activity_id else None,
    )
    return Input(f"{label} [{title}]", LIST_NAME, lambda: b"", row, activity)


def _file_loader(path: Path) -> Callable[[], bytes]:
    return lambda: read_file(path)


def _member_loader(archive: Archive, zipped: Any, info: Any) -> Callable[[], bytes]:
    return lambda: archive.read(zipped, info)


def display(path: Path | str) -> str:
    """A path as text that any terminal can print (names that are not UTF-8 get U+FFFD,
    control characters are dropped)."""
    raw = os.fsencode(path)
    return printable(raw.decode("utf-8", errors="replace"))


# -- the batch ----------------------------------------------------------------------------


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
        legs = read_legs(item.load(), item.name)
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
    return outcomes


def _import_activity(
    store: Store, item: Input, activity: Activity, options: ImportOptions, *, several: bool
) -> Outcome:
    try:
        activity = _prepared(activity, item, options, several=several)
        _check_is_run(activity, several=several)
    except NotARunError as exc:
        return Outcome(item.label, "skipped", str(exc), activity=activity)
    except ActivityFileError as exc:
        return Outcome(item.label, "failed", str(exc), activity=activity)
    return _store(store, item, activity, options)


def _prepared(
    activity: Activity, item: Input, options: ImportOptions, *, several: bool
) -> Activity:
    """The activity with what the runner and the export's list add, then validated."""
    if activity.clock_unset:
        if options.at is None:
            raise ActivityFileError(
                "the device's clock was never set, so the file has no date: import it alone "
                "with --at 'YYYY-MM-DD HH:MM' (when the run started)"
            )
        if options.dated and options.dated != [item.label]:
            raise ActivityFileError(
                f"--at gave its start to {options.dated[0]} already: import files without a "
                "date one at a time"
            )
        options.dated[:] = [item.label]
        activity = activity.shifted_to(options.at)
    elif options.at is not None:
        activity = activity.with_warning("the file has its own date: --at not used")
    row = item.row
    if row is not None:
        activity = replace(activity, name=activity.name or row.name)
        listed = classify(row.sport)
        if listed.is_run is not None and listed.is_run != activity.sport.is_run:
            if activity.sport.is_run is not None and activity.sport.name != "other":
                # The list is what the runner set in Strava later: a ride corrected to a run.
                activity = activity.with_warning(
                    f"{LIST_NAME} calls it a {row.sport}; the file says {activity.sport.name}"
                )
                listed = Sport(f"{listed.name} (as {LIST_NAME} says)", listed.is_run)
            activity = replace(activity, sport=listed)
    if options.sport == "run" and not several and activity.sport.is_run is not True:
        was = activity.sport.name
        activity = replace(activity, sport=classify("running"))
        activity = activity.with_warning(f"taken as a run (--sport run; the file says {was})")
    earliest = options.window.earliest if options.window is not None else EARLIEST_START
    activity = validated(activity, options.now, earliest=earliest)
    if activity.sport.is_run is None:
        _check_speed(activity)
        activity = activity.with_warning("no sport in the file: taken as a run")
    return activity


def _check_is_run(activity: Activity, *, several: bool) -> None:
    """Raise :class:`NotARunError` for what is not a run a person could have made."""
    sport = activity.sport
    kind = "leg" if activity.leg and activity.leg.startswith("leg") else "activity"
    if sport.is_run is False:
        raise NotARunError(f"{sport.name} {kind}, not a run")
    if activity.elapsed_s <= 0 and activity.moving_s <= 0:
        raise NotARunError("no duration (a single point?): not a run")
    if activity.distance_m <= 0:
        raise NotARunError("no distance in the file: nothing to count as a run")
    if activity.distance_m > MAX_RUN_M or activity.elapsed_s > MAX_RUN_S:
        raise NotARunError("longer than any single run: not imported")
    seconds = activity.moving_s or activity.elapsed_s
    speed = activity.distance_m / seconds * 3.6
    if speed > RUN_MAX_AVG_KMH or activity.distance_m / seconds > MAX_AVG_SPEED:
        raise NotARunError(
            f"average {speed:.0f} km/h is faster than anyone runs: a ride or a drive, not a run"
        )
    if seconds >= SLOW_MIN_S and speed < SLOW_MAX_KMH:
        raise NotARunError(
            f"{format_distance(activity.distance_m, 'km', 2)} in {format_duration(seconds)} "
            f"({speed:.1f} km/h) is no run: a watch left running, or a wrong unit?"
        )


def _check_speed(activity: Activity) -> None:
    """An activity of no named sport moving at cycling or driving speed is not a run."""
    average = activity.distance_m / activity.moving_s * 3.6 if activity.moving_s > 0 else 0.0
    speeds = sorted(s[2] * 3.6 for s in activity.samples if s[2] is not None and s[2] > 0)
    q3 = speeds[len(speeds) * 3 // 4] if len(speeds) >= UNTYPED_MIN_POINTS else 0.0
    if average > UNTYPED_MAX_AVG_KMH or q3 > UNTYPED_MAX_Q3_KMH:
        hint = (
            " (import it alone with --sport run if it was one)"
            if average <= RUN_MAX_AVG_KMH
            else ""
        )
        raise NotARunError(
            f"no sport in the file, and it moves at {average:.0f} km/h on average "
            f"({q3:.0f} km/h or more a quarter of the time), like a ride or a drive: "
            f"not a run{hint}"
        )


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


# -- reading one file ---------------------------------------------------------------------


def read_legs(data: bytes, name: str = "") -> list[Activity | ActivityFileError]:
    """The activities of a FIT, TCX or GPX file's bytes (maybe gzipped); a damaged leg as its
    error. Raises :class:`ActivityFileError` for a file that is none of them, and
    :class:`NotARunError` for one that holds no activity."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    try:
        return _decode(data, name)
    except (ActivityFileError, NotARunError):
        raise
    except (
        ValueError,
        TypeError,
        IndexError,
        KeyError,
        LookupError,
        OverflowError,
        RecursionError,
        AssertionError,
    ) as exc:
        # A reader met a file no device writes; one line, never a traceback.
        log.debug("decoder failure", exc_info=True)
        raise ActivityFileError(f"damaged: cannot be decoded ({type(exc).__name__})") from exc


def _decode(data: bytes, name: str) -> list[Activity | ActivityFileError]:
    from agent.files import xmltools

    if len(data) >= 12 and data[8:12] == b".FIT":
        from agent.files.fit import read_fit

        return read_fit(data)
    if xmltools.looks_like_xml(data):
        root = xmltools.parse(data)
        kind = xmltools.local(root)
        if kind == "TrainingCenterDatabase":
            from agent.files.tcx import read_tcx

            found = read_tcx(root)
            if not found:
                raise NotARunError("TCX file without an activity (a course or a workout?)")
            return found
        if kind == "gpx":
            from agent.files.gpx import read_gpx

            return list(read_gpx(root))
        raise ActivityFileError(f"XML, but neither TCX nor GPX (root element <{kind}>)")
    if not data:
        raise ActivityFileError("empty file")
    if data[:4] == b"PK\x03\x04":
        raise ActivityFileError("a zip inside a gzip: unpack it first")
    if name.lower().removesuffix(".gz").endswith(".fit"):
        raise ActivityFileError("damaged FIT file: its header has no FIT signature")
    raise ActivityFileError("not a FIT, TCX or GPX file")


def read_file(path: Path) -> bytes:
    """A regular file's bytes, refusing pipes, devices and anything too big to be an
    activity (a FIFO given as a file would block forever)."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ActivityFileError("is a folder")
        if not stat.S_ISREG(info.st_mode):
            raise ActivityFileError("not a regular file (a pipe or a device?)")
        if info.st_size > MAX_FILE_BYTES:
            raise ActivityFileError("too big to be an activity file")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ActivityFileError("no such file") from None
    except OSError as exc:
        raise ActivityFileError(f"cannot be read: {exc.strerror}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise ActivityFileError("too big to be an activity file")
    return data


def _gunzip(data: bytes) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            out = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ActivityFileError(f"damaged gzip file: {exc}") from exc
    if len(out) > MAX_FILE_BYTES:
        raise ActivityFileError("too big to be an activity file once uncompressed")
    return out
