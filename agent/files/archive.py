"""Bulk exports as zips, read in place (nothing unpacked to disk).

A Strava export holds ``activities.csv`` (one row per activity: id, date, name, type,
``Filename`` such as ``activities/1234.gpx.gz``) and the files under ``activities/``. A
Garmin Connect export nests zips of uploaded FIT files (``DI_CONNECT/.../UploadedFiles_*.zip``)
one level down. :class:`Archive` lists the activity files of both, with each file's row of
``activities.csv`` where there is one.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from agent.files.activity import ActivityFileError

ACTIVITY_SUFFIXES = (".fit", ".tcx", ".gpx")
# Nested zips (Garmin's export) are opened this deep and no deeper.
MAX_NESTING = 2


@dataclass(frozen=True, slots=True)
class CsvRow:
    """What ``activities.csv`` says about one activity (distances in metres, times in s)."""

    activity_id: str | None
    name: str | None
    sport: str | None
    date: str | None
    filename: str | None
    elapsed_s: float | None = None
    moving_s: float | None = None
    distance_m: float | None = None  # Strava's second "Distance" column, in metres

    def started_at(self) -> datetime | None:
        """Strava writes the start in UTC as ``Jan 5, 2026, 7:00:00 AM``."""
        if not self.date:
            return None
        for layout in STRAVA_DATE_LAYOUTS:
            try:
                return datetime.strptime(self.date, layout).replace(tzinfo=UTC)
            except ValueError:
                continue
        return None


# Strava's date layouts in activities.csv (the second one in older exports).
STRAVA_DATE_LAYOUTS = ("%b %d, %Y, %I:%M:%S %p", "%Y-%m-%d %H:%M:%S")


class ActivityList:
    """The rows of one ``activities.csv``: by file (its path relative to the list's folder)
    and the rows with no file (activities entered by hand)."""

    def __init__(self, data: bytes, folder: str = "") -> None:
        self.folder = folder
        self.by_file: dict[str, CsvRow] = {}
        self.manual: list[CsvRow] = []
        self.problem: str | None = None  # why the list could not be used, for the runner
        rows = _csv_rows(data)
        if rows is None:
            self.problem = "cannot be read as a CSV list"
            return
        if not rows:
            return
        header = [cell.strip() for cell in rows[0]]
        if not {"Activity Type", "Filename"} <= set(header):
            self.problem = (
                "its columns are not those of Strava's English export (Activity Type, "
                "Filename); the files import, without its names and hand-entered runs"
            )
            return
        for row in rows[1:]:
            item = _row(header, row)
            if item.filename:
                self.by_file[key(f"{folder}/{item.filename}")] = item
            else:
                self.manual.append(item)

    def row_for(self, path: str) -> CsvRow | None:
        return self.by_file.get(key(path))


def _csv_rows(data: bytes) -> list[list[str]] | None:
    """The cells of a CSV list: UTF-8 (Strava's), else Windows-1252 (re-saved in a
    spreadsheet); comma- or semicolon-separated. None when it is not CSV text."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:
        return None


def _row(header: list[str], row: list[str]) -> CsvRow:
    def cells(title: str) -> list[str]:
        return [row[i].strip() for i, name in enumerate(header) if name == title and i < len(row)]

    def first(title: str) -> str | None:
        found = cells(title)
        return printable(found[0]) or None if found else None

    def number(text: str | None) -> float | None:
        try:
            value = float((text or "").replace(",", ""))
        except ValueError:
            return None
        return value if math.isfinite(value) and value >= 0 else None

    distances = cells("Distance")  # Strava: the athlete's unit first, then metres
    moving = cells("Moving Time")
    return CsvRow(
        activity_id=first("Activity ID"),
        name=first("Activity Name"),
        sport=first("Activity Type"),
        date=first("Activity Date"),
        filename=first("Filename"),
        elapsed_s=number(first("Elapsed Time")),
        moving_s=number(moving[0]) if moving else None,
        distance_m=number(distances[1]) if len(distances) > 1 else None,
    )


def printable(text: str) -> str:
    """``text`` without control characters (a name must not drive the runner's terminal)."""
    return "".join(c for c in text if c.isprintable() or c == " ")


def is_activity_name(name: str) -> bool:
    """``x.fit``, ``x.tcx``, ``x.gpx``, each maybe ``.gz``; not macOS's ``._x`` forks."""
    base = PurePosixPath(name).name
    if base.startswith("._") or "__MACOSX/" in name:
        return False
    return base.lower().removesuffix(".gz").endswith(ACTIVITY_SUFFIXES)


def is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip") and not PurePosixPath(name).name.startswith("._")


class Archive:
    """A zip (maybe holding zips) opened for reading; close it when done. :attr:`members`
    are its activity files (label, zip, entry), :attr:`lists` its ``activities.csv``
    files, :attr:`broken` what could not be opened in it (label, reason)."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._open: list[zipfile.ZipFile] = []
        self.members: list[tuple[str, zipfile.ZipFile, zipfile.ZipInfo]] = []
        self.lists: list[ActivityList] = []
        self.broken: list[tuple[str, str]] = []
        try:
            self._add(zipfile.ZipFile(path), "", 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            self.close()
            raise ActivityFileError(
                f"damaged zip file ({exc}): an interrupted download? download it again"
            ) from exc

    def _add(self, archive: zipfile.ZipFile, prefix: str, depth: int) -> None:
        self._open.append(archive)
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = info.filename
            if PurePosixPath(name).name.lower() == "activities.csv" and "__MACOSX/" not in name:
                self._add_list(archive, info, prefix)
            elif is_activity_name(name):
                self.members.append((f"{prefix}{name}", archive, info))
            elif is_zip_name(name):
                self._add_inner(archive, info, prefix, depth)

    def _add_list(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, prefix: str) -> None:
        label = f"{prefix}{info.filename}"
        try:
            listing = ActivityList(
                self.read(archive, info), str(PurePosixPath(info.filename).parent)
            )
        except ActivityFileError as exc:
            self.broken.append((label, f"{exc}; the files import without its names"))
            return
        if listing.problem is not None:
            self.broken.append((label, listing.problem))
        self.lists.append(listing)

    def _add_inner(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, prefix: str, depth: int
    ) -> None:
        label = f"{prefix}{info.filename}"
        if depth >= MAX_NESTING:
            self.broken.append((label, "a zip inside a zip inside a zip: unpack it first"))
            return
        try:
            inner = zipfile.ZipFile(io.BytesIO(self.read(archive, info)))
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, ActivityFileError) as exc:
            self.broken.append((label, f"damaged zip file: {exc}"))
            return
        self._add(inner, f"{label}:", depth + 1)

    def read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        """An entry's bytes, refusing more than ``max_bytes`` whatever its header claims;
        :class:`ActivityFileError` for a damaged, encrypted or unsupported entry."""
        try:
            with archive.open(info) as handle:
                data = handle.read(self.max_bytes + 1)
        except RuntimeError as exc:  # zipfile's word for an encrypted entry
            raise ActivityFileError(
                "cannot be read from the zip: it is encrypted (a password is needed)"
            ) from exc
        except (zipfile.BadZipFile, NotImplementedError) as exc:
            # A bad checksum, an unsupported compression.
            raise ActivityFileError(f"cannot be read from the zip: {exc}") from exc
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            raise ActivityFileError(f"damaged in the zip: {exc}") from exc
        if len(data) > self.max_bytes:
            raise ActivityFileError("too big to be an activity file once uncompressed")
        return data

    def row_for(self, name: str) -> CsvRow | None:
        """The ``activities.csv`` row of an entry, matched on its path."""
        for listing in self.lists:
            row = listing.row_for(name)
            if row is not None:
                return row
        return None

    def missing(self) -> list[tuple[str, CsvRow]]:
        """(path in the zip, row) of the lists' rows whose file is not in the zip."""
        names = {key(info.filename) for _, _, info in self.members}
        return [
            (path, row)
            for listing in self.lists
            for path, row in listing.by_file.items()
            if path not in names
        ]

    def close(self) -> None:
        for archive in reversed(self._open):
            archive.close()
        self._open.clear()


def key(name: str) -> str:
    """A member path compared case-blind, without ``./`` or a leading ``/``."""
    parts = [p for p in PurePosixPath(name.strip()).parts if p not in ("/", ".")]
    return "/".join(parts).lower()
