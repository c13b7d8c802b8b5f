"""Human and JSON views of stored records. Rendering only: no rules, no SQL.

Every table is laid out for 80 columns first: short columns side by side, and a row's
message or note beside it only when the terminal leaves it room to be read, otherwise on the
lines below the row, over the whole width. Nothing is cut with an ellipsis, and no line ends
in spaces (rich pads every line of a table or grid to its width: :func:`console` drops them).
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, cast

from agent.advice.json_out import pain_json as pain_json
from agent.advice.json_out import run_json as run_json
from agent.advice.json_out import whole as whole
from agent.config import Settings
from agent.models import PainReport, Run
from agent.units import (
    Unit,
    format_budget,
    format_distance,
    format_duration,
    format_pace,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from agent.rules.allowance import Allowance

MISSING = "-"
# A message or note beside its row needs this many cells to read as text rather than a
# column of words; with less room it goes on the lines below its row.
DETAIL_MIN = 40
DETAIL_INDENT = 4
GAP = 2
# Spaces (and colour codes among them) at the end of a line.
_TRAILING = re.compile(r"(?:[ \t]|\x1b\[[0-9;]*m)+(?=\n)")


class _Stream(io.TextIOBase):
    """Standard output or error (whatever ``sys.stdout`` or ``sys.stderr`` is at the time)
    without the spaces rich pads each line with, keeping any colour code among them (a reset
    must still reach the terminal)."""

    def __init__(self, name: str = "stdout") -> None:
        self._name = name

    @property
    def _stream(self) -> IO[str]:
        return cast(IO[str], getattr(sys, self._name))

    def write(self, text: str) -> int:
        self._stream.write(_TRAILING.sub(lambda m: re.sub(r"[ \t]", "", m.group()), text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"


def console(*, err: bool = False, **options: Any) -> Console:
    """rich's console on standard output (standard error with ``err``), lines without
    trailing spaces."""
    from rich.console import Console

    return Console(file=cast(IO[str], _Stream("stderr" if err else "stdout")), **options)


# What a terminal would act on rather than show, in text that came from elsewhere (a note
# imported from a file, an old database): C0 and C1 control characters but the newline
# (``\x1b[31m`` recolours the screen, ``\r`` rewrites the line) and the bidirectional
# overrides, embeddings and isolates (U+202E shows the rest of a line reversed: the
# "Trojan Source" characters, CVE-2021-42574).
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def unsafe_char(text: str) -> str | None:
    """``U+001B`` for the first character of ``text`` a terminal would act on, else None."""
    found = UNSAFE.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def shown(text: str) -> str:
    """``text`` with each character a terminal would act on written out (``\x1b``,
    ``\u202e``), so that it is seen, not obeyed."""
    return UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def run_distance(metres: float, unit: Unit) -> str:
    """A run's distance as every terminal view gives it: to the nearest 0.1 (``6.0 km``),
    as messages and ``summary`` give distances done."""
    return format_distance(metres, unit, 1)


# A command the runner may copy is never broken across lines: anything in backticks, or
# ``stridewatch`` with its (sub)command and what follows it that looks like an argument (an
# option and its value, a METAVAR, a distance, a time or a path).
_ARGUMENT = r"(?:--?[a-z][\w-]*(?: (?!-)[^\s()`,;]+)?|[A-Z][A-Z_.]*|[^\s()`,;]*[\d/~:.][^\s()`,;]*)"
_COMMAND = rf"`[^`]+`|stridewatch(?: --db \S+)?(?: [a-z][a-z-]*){{1,2}}(?: {_ARGUMENT})*"
# Nor is a number cut from its unit (``24.5 km``).
_UNBREAKABLE = re.compile(rf"{_COMMAND}|\d+(?:\.\d+)? (?:km|mi|%)(?!\w)")


def line_spans(plain: str, width: int) -> list[tuple[int, int]]:
    """Where to cut ``plain`` into lines of at most ``width`` cells: at spaces and newlines,
    never inside a command (a command longer than ``width`` gets a line of its own), nor
    inside a path or link (kept whole to copy). Any other word wider than the line (a note
    in Chinese or Japanese, written without spaces) is cut by cells, wide characters
    counted as two."""
    from rich.cells import cell_len

    words = _UNBREAKABLE.sub(lambda m: m.group().replace(" ", "\0"), plain)
    commands = [m.span() for m in _UNBREAKABLE.finditer(plain)]
    spans: list[tuple[int, int]] = []
    start = end = -1
    for match in re.finditer(r"\n|[^ \n]+", words):
        if match.group() == "\n":
            spans.append((start, end) if start >= 0 else (match.start(), match.start()))
            start = end = -1
            continue
        pieces = _pieces(plain, match.span(), width, commands)
        for piece_start, piece_end in pieces:
            if start < 0:
                start, end = piece_start, piece_end
            elif cell_len(plain[start:piece_end]) > width:
                spans.append((start, end))
                start, end = piece_start, piece_end
            else:
                end = piece_end
    if start >= 0 or not spans:
        spans.append((max(start, 0), max(end, 0)))
    return spans


def _pieces(
    plain: str, span: tuple[int, int], width: int, commands: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """One word as pieces of at most ``width`` cells: itself when it fits or is a path or
    link; a command (several words held together) broken between its words; anything else
    cut character by character (never inside a wide character)."""
    from rich.cells import cell_len

    start, end = span
    if cell_len(plain[start:end]) <= width:
        return [span]
    if any(a < end and start < b for a, b in commands):
        # A command wider than the line: broken between its words, never inside one.
        words = re.finditer(r"[^ ]+", plain[start:end])
        return [(start + word.start(), start + word.end()) for word in words]
    if "/" in plain[start:end]:
        return [span]
    pieces = []
    cells = 0
    for index in range(start, end):
        size = cell_len(plain[index])
        if cells + size > width and index > start:
            pieces.append((start, index))
            start, cells = index, 0
        cells += size
    pieces.append((start, end))
    return pieces


def wrap(text: str | Text, width: int, style: str = "") -> list[Text]:
    """``text`` as lines of at most ``width`` cells, styles kept, commands whole (one wider
    than the line is broken between its words), what a terminal would act on written out."""
    whole = _text(text, style)
    return [whole[start:end] for start, end in line_spans(whole.plain, width)]


def say(out: Console, text: str | Text, style: str = "", indent: int = 0) -> None:
    """A paragraph, wrapped to the console (no markup: messages hold brackets)."""
    from rich.text import Text

    for line in wrap(text, max(DETAIL_MIN, out.width - indent), style):
        emit(out, Text.assemble(" " * indent, line))


def print_pairs(out: Console, pairs: Sequence[tuple[str, str | Text]]) -> None:
    """``label  text`` lines, the labels bold in a column of their own and each text
    wrapped beside its label."""
    from rich.text import Text

    width = max(len(label) for label, _ in pairs)
    room = max(DETAIL_MIN, out.width - width - GAP)
    for label, text in pairs:
        for n, line in enumerate(wrap(text, room)):
            head = Text(label.ljust(width), "bold") if n == 0 else " " * width
            emit(out, Text.assemble(head, " " * GAP, line))


def emit(out: Console, line: Text) -> None:
    """One line as laid out here: never wrapped or cropped again by rich."""
    line.rstrip()
    out.print(line, no_wrap=True, overflow="ignore", crop=False)


@dataclass(frozen=True, slots=True)
class Row:
    """One row of :func:`print_table`: short cells, and an optional message or note."""

    cells: Sequence[str | Text]
    detail: str | Text = ""
    style: str = ""


def print_table(
    out: Console,
    title: str,
    columns: Sequence[str],
    rows: Sequence[Row],
    *,
    right: Collection[str] = (),
    detail: str = "",
) -> None:
    """A table without borders: a bold title, a header, one line per row. ``detail`` names
    the rows' messages: beside the row when ``DETAIL_MIN`` cells are left for it, else
    indented on the lines below it. Columns named in ``right`` are right-aligned."""
    from rich.text import Text

    cells = [[_text(cell) for cell in row.cells] for row in rows]
    widths = [
        max([len(name)] + [line[n].cell_len for line in cells]) for n, name in enumerate(columns)
    ]
    used = sum(widths) + GAP * (len(widths) - 1)
    room = out.width - used - GAP
    # Beside the rows only when every message fits there (a path is never cut).
    beside = room >= DETAIL_MIN and all(
        line.cell_len <= room for row in rows for line in wrap(row.detail, room)
    )
    if title:
        out.print(Text(title, "bold"))
    names = [*columns, detail] if beside and detail else list(columns)
    emit(out, _line([Text(name, "bold") for name in names], widths, columns, right))
    for row, texts in zip(rows, cells, strict=True):
        line = _line(texts, widths, columns, right, row.style)
        message = wrap(row.detail, room if beside else out.width - DETAIL_INDENT, row.style)
        if not row.detail:
            emit(out, line)
        elif beside:
            first, *rest = message
            emit(out, Text.assemble(line, " " * GAP, first))
            for more in rest:
                emit(out, Text.assemble(" " * (used + GAP), more))
        else:
            emit(out, line)
            for more in message:
                emit(out, Text.assemble(" " * DETAIL_INDENT, more))


def _text(cell: str | Text, style: str = "") -> Text:
    from rich.text import Text

    if isinstance(cell, Text):
        return Text.assemble(cell, style=style) if style else cell
    return Text(shown(cell), style)


def _line(
    cells: Sequence[Text],
    widths: Sequence[int],
    columns: Sequence[str],
    right: Collection[str],
    style: str = "",
) -> Text:
    """The cells padded to their widths with ``GAP`` between."""
    from rich.text import Text

    line = Text(style=style)
    for n, cell in enumerate(cells):
        if n:
            line.append(" " * GAP)
        pad = " " * (widths[n] - cell.cell_len) if n < len(widths) else ""
        if n < len(columns) and columns[n] in right:
            line.append(pad)
            line.append_text(cell)
        else:
            line.append_text(cell)
            line.append(pad)
    return line


def next_run_text(week: Allowance, settings: Settings) -> str:
    """``8.8 km at most (single-run: 1.1 x your longest run ...)``, or rest, with the
    limit that binds it."""
    binding = week.binding
    if binding is None:
        return "no limit known"
    if binding.km <= 0:
        return f"{binding.reason} ({binding.rule})"
    budget = format_budget(binding.km, settings.units)
    return f"{budget} at most ({binding.rule}: {binding.reason})"


def duration_text(seconds: float | None) -> str:
    """``36:00``; ``-`` for a time not known (the store reads a missing one as 0: no run with
    a distance takes no time)."""
    return MISSING if seconds is None or seconds <= 0 else format_duration(seconds)


def pace_text(distance_m: float, seconds: float | None, unit: Unit) -> str:
    """``5:30/km``; ``-`` without a distance or a time."""
    return MISSING if seconds is None or seconds <= 0 else format_pace(distance_m, seconds, unit)


def local_time(run_or_report: Run | PainReport, settings: Settings) -> str:
    """``Tue 2026-09-01 07:00`` in the runner's zone."""
    moment = run_or_report.started_at if isinstance(run_or_report, Run) else run_or_report.at
    return moment.astimezone(settings.zone).strftime("%a %Y-%m-%d %H:%M")


def print_runs(runs: list[Run], settings: Settings, title: str = "Runs") -> None:
    out = console()
    if not runs:
        out.print(
            "No runs yet. Log one with: stridewatch log-run --distance 5km --duration 30:00",
            markup=False,
            highlight=False,
        )
        return
    rows = [
        Row(
            (
                str(run.id),
                local_time(run, settings),
                run_distance(run.distance_m, settings.units),
                duration_text(run.moving_s),
                pace_text(run.distance_m, run.moving_s, settings.units),
                run.source,
            ),
            run.note or "",
        )
        for run in runs
    ]
    columns = ("id", "start", "distance", "time", "pace", "source")
    print_table(out, title, columns, rows, right=("id", "distance", "time"), detail="note")


def print_pain(reports: list[PainReport], settings: Settings) -> None:
    out = console()
    if not reports:
        out.print("No pain logged. Log it with: stridewatch pain 2 --when after", highlight=False)
        return
    rows = [
        Row(
            (
                str(report.id),
                local_time(report, settings),
                f"{report.score}/10",
                report.when,
                report.where or "",
                str(report.run_id or ""),
            ),
            report.note or "",
        )
        for report in reports
    ]
    columns = ("id", "at", "score", "when", "where", "run")
    print_table(out, "Pain log", columns, rows, right=("id", "score", "run"), detail="note")


def print_synced(files: list[dict[str, Any]], settings: Settings) -> None:
    """``sync status``: what became of each file, newest first; the file (and why) beside
    its row, or below it on a narrow terminal."""
    from datetime import datetime

    out = console()
    if not files:
        out.print("no synced files yet")
        return
    rows = []
    for item in files:
        try:
            seen = datetime.fromisoformat(item["seen_at"]).astimezone(settings.zone)
            when = seen.strftime("%a %Y-%m-%d %H:%M")
        except ValueError:
            when = str(item["seen_at"])
        ids = item["run_ids"] if item["status"] != "failed" else []
        runs = ", ".join(map(str, ids))
        reason = f": {item['reason']}" if item["reason"] else ""
        rows.append(Row((item["status"], when, runs), f"{item['path']}{reason}"))
    columns = ("status", "seen", "runs")
    print_table(out, "Synced files", columns, rows, detail="file")
