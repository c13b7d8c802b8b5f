"""Reading TCX and GPX XML safely: defusedxml (no entity expansion, no network), namespaces
ignored (both formats come in several versions), leading whitespace and byte-order marks
tolerated (Strava's TCX starts with spaces, Polar Flow's with a BOM and a newline).

A file is parsed whole (:func:`parse`) or as a stream of start and end events
(:func:`events`, defusedxml's ``iterparse``), whose reader clears what it has read."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

from agent.files.activity import ActivityFileError

if TYPE_CHECKING:
    from agent.files.streams import Source

# A parse's events: ("start" | "end", element).
Event = tuple[str, Element]

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_LEADING = b" \t\r\n"


def xml_start(data: bytes) -> bytes:
    """``data`` from its first ``<``: a UTF-8 byte-order mark and whitespace before the XML
    declaration are dropped (the parser refuses a declaration that is not at the start).
    UTF-16 files (with their byte-order mark) are read as they are."""
    if data.startswith(UTF16_BOMS):
        return data
    stripped = data.lstrip(_LEADING)
    while stripped.startswith(UTF8_BOM):
        stripped = stripped[len(UTF8_BOM) :].lstrip(_LEADING)
    return stripped


def looks_like_xml(data: bytes) -> bool:
    start = xml_start(data)
    return start.startswith(UTF16_BOMS) or start[:1] == b"<"


def parse(data: bytes) -> Element:
    """The root element; :class:`ActivityFileError` for damaged XML or declared entities."""
    from defusedxml.ElementTree import fromstring

    with _refused():
        return fromstring(xml_start(data))


def skip_to_xml(source: Source) -> bytes:
    """Read past what :func:`xml_start` drops (whitespace, UTF-8 byte-order marks); the next
    bytes, left to be read (enough for :func:`looks_like_xml`)."""
    while True:
        head = source.peek(4096)
        if not head or head.startswith(UTF16_BOMS):
            return head
        dropped = len(head) - len(xml_start(head))
        if not dropped:
            return head
        source.read(dropped)


def events(source: Source) -> Iterator[Event]:
    """The start and end events of the XML read from ``source`` (after
    :func:`skip_to_xml`); :class:`ActivityFileError` for damaged XML or declared entities,
    raised when the parser meets them."""
    from defusedxml.ElementTree import iterparse

    with _refused():
        yield from iterparse(source, events=("start", "end"))


@contextmanager
def _refused() -> Iterator[None]:
    """defusedxml's and the parser's errors as :class:`ActivityFileError`."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException

    try:
        yield
    except DefusedXmlException as exc:
        raise ActivityFileError(f"refused: the XML declares entities ({exc})") from exc
    except ParseError as exc:
        raise ActivityFileError(f"damaged XML: {exc}") from exc
    except (LookupError, ValueError) as exc:  # an encoding Python does not know, say
        raise ActivityFileError(f"damaged XML: {exc}") from exc


def walk(element: Element) -> Iterator[Event]:
    """The events a parse of ``element``'s children would give, then ``element``'s end (for
    a reader of events given a parsed tree); safe for a reader that clears as it goes."""
    for item in list(element):
        yield "start", item
        yield from walk(item)
    yield "end", element


# Tags met, without their namespace: a long file repeats a handful of tags millions of times.
LOCAL_NAMES: dict[object, str] = {}
_LOCAL_MAX = 1024


def local(element: Element) -> str:
    """The tag without its namespace."""
    tag: object = element.tag  # a function for comments and processing instructions
    if not isinstance(tag, str):
        return ""
    name = LOCAL_NAMES.get(tag)
    if name is None:
        name = tag.rsplit("}", 1)[-1]
        if len(LOCAL_NAMES) < _LOCAL_MAX:
            LOCAL_NAMES[tag] = name
    return name


def children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if local(child) == name)


def child(element: Element | None, name: str) -> Element | None:
    return next(children(element, name), None) if element is not None else None


def descendants(element: Element, name: str) -> Iterator[Element]:
    return (el for el in element.iter() if local(el) == name)


def text(element: Element | None) -> str | None:
    return element.text.strip() if element is not None and element.text else None


def number(element: Element | None, *path: str) -> float | None:
    """The finite number in ``element``'s child ``path[0]``, its child ``path[1]``, ...."""
    for name in path:
        element = child(element, name)
    return parse_number(text(element))


def deep_number(element: Element | None, name: str) -> float | None:
    """The number in the first descendant ``name`` (extensions nest at varying depths)."""
    found = next(descendants(element, name), None) if element is not None else None
    return parse_number(text(found))


def parse_number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        parsed = float(value)
    except ValueError:
        return None
    return parsed if math.isfinite(parsed) else None


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 instant as aware UTC; None when absent or not a date this can represent
    (year 0001 with a positive offset, 9999 with a negative one)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
