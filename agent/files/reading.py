"""Reading one activity file: FIT, TCX or GPX, plain or gzipped, told apart by content (FIT
signature, XML root), not by name.

A file is read as a stream (:class:`agent.files.streams.Source`). GPX and TCX are parsed as
they are read and never held whole, so they may be as long as :data:`MAX_XML_BYTES`; a FIT
file is decoded from its bytes, so it stays below :data:`MAX_FILE_BYTES`.
"""

from __future__ import annotations

import io
import logging
import stat
from pathlib import Path
from typing import BinaryIO

from agent.files.activity import Activity, ActivityFileError, NotARunError
from agent.files.streams import GZIP_MAGIC, Source, gunzipped

log = logging.getLogger(__name__)

Leg = Activity | ActivityFileError

# Uncompressed FIT files stay far below this: a 24-hour FIT file at one record a second is
# about 4 MB. Anything bigger is not a FIT file (or a gzip bomb); it is decoded whole.
MAX_FILE_BYTES = 128 * 1024 * 1024
# GPX and TCX are read as they are parsed, a few dozen bytes kept per point: a week at a
# point a second, the longest run stridewatch takes (agent.units.MAX_RUN_S), is about 210 MB
# of GPX in Garmin Connect's wordy layout and 420 MB of TCX. Beyond this a file is no run's.
MAX_XML_BYTES = 1024 * 1024 * 1024
TOO_BIG = "too big to be an activity file"


def read_legs(data: bytes, name: str = "") -> list[Leg]:
    """The activities of a FIT, TCX or GPX file's bytes (maybe gzipped); a damaged leg as its
    error. Raises :class:`ActivityFileError` for a file that is none of them, and
    :class:`NotARunError` for one that holds no activity."""
    return read_legs_from(Source(io.BytesIO(data), limit=MAX_XML_BYTES), name)


def read_legs_from(source: Source, name: str = "") -> list[Leg]:
    """:func:`read_legs` of a file read from ``source``."""
    if source.peek(2) == GZIP_MAGIC:
        source = gunzipped(source, MAX_XML_BYTES)
    try:
        return _decode(source, name)
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


def _decode(source: Source, name: str) -> list[Leg]:
    from agent.files import xmltools

    head = source.peek(12)
    if len(head) >= 12 and head[8:12] == b".FIT":
        from agent.files.fit import read_fit

        source.limit = MAX_FILE_BYTES
        return read_fit(source.read())
    if xmltools.looks_like_xml(xmltools.skip_to_xml(source)):
        return _decode_xml(source)
    if not head:
        raise ActivityFileError("empty file")
    if head[:4] == b"PK\x03\x04":
        raise ActivityFileError("a zip inside a gzip: unpack it first")
    if name.lower().removesuffix(".gz").endswith(".fit"):
        raise ActivityFileError("damaged FIT file: its header has no FIT signature")
    raise ActivityFileError("not a FIT, TCX or GPX file")


def _decode_xml(source: Source) -> list[Leg]:
    """A GPX or TCX file, read as it is parsed."""
    from agent.files import xmltools

    events = xmltools.events(source)
    root = next((element for event, element in events if event == "start"), None)
    if root is None:  # no element: the parser says why
        for _ in events:
            pass
        raise ActivityFileError("damaged XML: no element found")
    kind = xmltools.local(root)
    if kind == "gpx":
        from agent.files.gpx import read_gpx_events

        return list(read_gpx_events(root, events))
    if kind == "TrainingCenterDatabase":
        from agent.files.tcx import read_tcx_events

        found = read_tcx_events(root, events)
        if not found:
            raise NotARunError("TCX file without an activity (a course or a workout?)")
        return found
    for _, element in events:  # damaged XML is said so first, as for any file
        element.clear()
    raise ActivityFileError(f"XML, but neither TCX nor GPX (root element <{kind}>)")


def open_file(path: Path) -> Source:
    """A regular file opened for reading, refusing pipes, devices and anything too big to be
    an activity (a FIFO given as a file would block forever)."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ActivityFileError("is a folder")
        if not stat.S_ISREG(info.st_mode):
            raise ActivityFileError("not a regular file (a pipe or a device?)")
        if info.st_size > MAX_XML_BYTES:
            raise ActivityFileError(TOO_BIG)
        handle: BinaryIO = path.open("rb")
    except FileNotFoundError:
        raise ActivityFileError("no such file") from None
    except OSError as exc:
        raise ActivityFileError(f"cannot be read: {exc.strerror}") from exc
    return Source(handle, limit=MAX_XML_BYTES)


def read_file(path: Path) -> bytes:
    """A regular file's bytes (at most :data:`MAX_FILE_BYTES`), refusing pipes, devices and
    anything bigger (:func:`open_file`)."""
    source = open_file(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ActivityFileError(TOO_BIG)
        source.limit = MAX_FILE_BYTES
        return source.read()
    except OSError as exc:
        raise ActivityFileError(f"cannot be read: {exc.strerror}") from exc
    finally:
        source.close()
