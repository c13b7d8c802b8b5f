"""The files given to ``import``: folders walked, zips opened, Strava's ``activities.csv``
read for names and for the runs it lists without a file."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.files.activity import Activity, ActivityFileError
from agent.files.archive import (
    ActivityList,
    Archive,
    CsvRow,
    is_activity_name,
    is_zip_name,
    printable,
)
from agent.files.outcome import Outcome
from agent.files.reading import MAX_FILE_BYTES, open_file, read_file
from agent.files.sports import classify
from agent.files.streams import Source

LIST_NAME = "activities.csv"


@dataclass(frozen=True, slots=True)
class Input:
    """One file to import: ``label`` for the runner's lines, ``name`` stored with the run,
    ``open`` its content as a stream, ``row`` its line of a Strava ``activities.csv``; or,
    for a line of that list with no file, the ``ready`` activity the line describes."""

    label: str
    name: str
    open: Callable[[], Source]
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
    return Input(f"{label} [{title}]", LIST_NAME, _nothing, row, activity)


def _nothing() -> Source:
    return Source(io.BytesIO(b""), limit=0)


def _file_loader(path: Path) -> Callable[[], Source]:
    return lambda: open_file(path)


def _member_loader(archive: Archive, zipped: Any, info: Any) -> Callable[[], Source]:
    """A zip's entry, read whole (at most :data:`MAX_FILE_BYTES`) when opened."""
    return lambda: Source(io.BytesIO(archive.read(zipped, info)), limit=MAX_FILE_BYTES)


def display(path: Path | str) -> str:
    """A path as text that any terminal can print (names that are not UTF-8 get U+FFFD,
    control characters are dropped)."""
    raw = os.fsencode(path)
    return printable(raw.decode("utf-8", errors="replace"))
