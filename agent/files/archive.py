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
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from agent.files.activity import ActivityFileError

ACTIVITY_SUFFIXES = (".fit", ".tcx", ".gpx")
# Nested zips (Garmin's export) are opened this deep and no deeper.
MAX_NESTING = 2


@dataclass(frozen=True, slots=True)
class CsvRow:
    """What ``activities.csv`` says about one activity."""

    activity_id: str | None
    name: str | None
    sport: str | None
    date: str | None
    filename: str | None


def is_activity_name(name: str) -> bool:
    """``x.fit``, ``x.tcx``, ``x.gpx``, each maybe ``.gz``."""
    return name.lower().removesuffix(".gz").endswith(ACTIVITY_SUFFIXES)


def is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


class Archive:
    """A zip (maybe holding zips) opened for reading; close it when done."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._open: list[zipfile.ZipFile] = []
        self.members: list[tuple[str, zipfile.ZipFile, str]] = []  # (label, zip, name)
        self.rows: dict[str, CsvRow] = {}
        self.manual_rows: list[CsvRow] = []
        try:
            self._add(zipfile.ZipFile(path), "", 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            self.close()
            raise ActivityFileError(f"damaged zip file: {exc}") from exc

    def _add(self, archive: zipfile.ZipFile, prefix: str, depth: int) -> None:
        self._open.append(archive)
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = info.filename
            if PurePosixPath(name).name.lower() == "activities.csv" and not self.rows:
                self._read_csv(self.read(archive, name))
            elif is_activity_name(name):
                self.members.append((f"{prefix}{name}", archive, name))
            elif is_zip_name(name) and depth < MAX_NESTING:
                inner = zipfile.ZipFile(io.BytesIO(self.read(archive, name)))
                self._add(inner, f"{prefix}{name}:", depth + 1)

    def read(self, archive: zipfile.ZipFile, name: str) -> bytes:
        """A member's bytes, refusing more than ``max_bytes`` whatever its header claims."""
        with archive.open(name) as handle:
            data = handle.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise ActivityFileError("too big to be an activity file once uncompressed")
        return data

    def _read_csv(self, data: bytes) -> None:
        try:
            rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        except (UnicodeDecodeError, csv.Error):
            return  # the files still import; only names and types from the list are lost
        if not rows:
            return
        header = [cell.strip() for cell in rows[0]]

        def column(row: list[str], title: str) -> str | None:
            if title not in header:
                return None
            index = header.index(title)  # Strava repeats some titles: the first is the summary
            value = row[index].strip() if index < len(row) else ""
            return value or None

        for row in rows[1:]:
            item = CsvRow(
                activity_id=column(row, "Activity ID"),
                name=column(row, "Activity Name"),
                sport=column(row, "Activity Type"),
                date=column(row, "Activity Date"),
                filename=column(row, "Filename"),
            )
            if item.filename:
                self.rows[_key(item.filename)] = item
            else:
                self.manual_rows.append(item)

    def row_for(self, name: str) -> CsvRow | None:
        """The ``activities.csv`` row of a member, matched on its path."""
        return self.rows.get(_key(name))

    def close(self) -> None:
        for archive in reversed(self._open):
            archive.close()
        self._open.clear()


def _key(name: str) -> str:
    return str(PurePosixPath(name.strip().lstrip("/"))).lower()
