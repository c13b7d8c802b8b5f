"""An activity file read as a stream: its first bytes looked at before it is read (to tell a
FIT file from XML, a gzip from neither), no more read than a limit, and the errors of the
layer below (a damaged gzip, a disk error) turned into :class:`ActivityFileError` where they
happen, whoever is reading (the XML parser, say)."""

from __future__ import annotations

import gzip
import io
import zlib
from typing import Protocol

from agent.files.activity import ActivityFileError

GZIP_MAGIC = b"\x1f\x8b"
# Read this much at a time from the layer below.
CHUNK = 64 * 1024


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
    def close(self) -> None: ...


class Source:
    """A binary stream with :meth:`peek`, refusing to read past :attr:`limit` bytes (the
    :class:`ActivityFileError` says ``too_big``); errors the stream raises while read are
    :class:`ActivityFileError` saying ``damaged`` and the error."""

    def __init__(
        self,
        raw: Readable,
        *,
        limit: int,
        too_big: str = "too big to be an activity file",
        damaged: str = "cannot be read",
        errors: tuple[type[BaseException], ...] = (OSError,),
    ) -> None:
        self._raw = raw
        self._buffer = b""
        self.limit = limit
        self.read_bytes = 0  # handed out so far
        self._too_big, self._damaged, self._errors = too_big, damaged, errors

    def _fill(self, size: int) -> bytes:
        try:
            return self._raw.read(size)
        except ActivityFileError:
            raise
        except self._errors as exc:
            detail = getattr(exc, "strerror", None) or exc
            raise ActivityFileError(f"{self._damaged}: {detail}") from exc

    def peek(self, size: int) -> bytes:
        """The next ``size`` bytes (fewer at the end), left to be read."""
        while len(self._buffer) < size:
            more = self._fill(max(CHUNK, size - len(self._buffer)))
            if not more:
                break
            self._buffer += more
        return self._buffer[:size]

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when negative)."""
        if size < 0:
            parts, total = [self._buffer], len(self._buffer)
            self._buffer = b""
            while more := self._fill(CHUNK):
                parts.append(more)
                total += len(more)
                self._check(total)
            data = b"".join(parts)
        elif self._buffer:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        else:
            data = self._fill(size)
        self._check(len(data))
        self.read_bytes += len(data)
        return data

    def _check(self, size: int) -> None:
        if self.read_bytes + size > self.limit:
            raise ActivityFileError(self._too_big)

    def seek(self, offset: int, /) -> int:
        raise io.UnsupportedOperation("an activity file is read once, from its start")

    def close(self) -> None:
        self._raw.close()


def gunzipped(source: Source, limit: int) -> Source:
    """The uncompressed content of a gzipped ``source``."""
    raw = gzip.GzipFile(fileobj=source, mode="rb")
    return Source(
        raw,
        limit=limit,
        too_big="too big to be an activity file once uncompressed",
        damaged="damaged gzip file",
        errors=(OSError, EOFError, zlib.error),
    )
