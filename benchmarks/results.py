"""RESULTS.md: every figure against its target, the machine, and the notes behind them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from benchmarks.common import Figure, Section

# What bounds each target that is not met, and why: written from the profiles in the notes
# (RESULTS.md quotes them); keyed by figure section.
BOUNDS_FILE = Path(__file__).with_name("bounds.md")
T = TypeVar("T")


INTRO = (
    "Written by `python -m benchmarks` (run from the repository root with "
    "`.venv/bin/python`). Every figure is a ratio against a baseline measured in the same "
    "run, on the same machine; times are medians of repeated runs."
)
REMEASURED = "- Re-measured alone (`--merge`): "


def write_results(
    path: Path, sections: list[Section], about: dict[str, str], elapsed: float, *, quick: bool
) -> None:
    header = [
        f"- Date: {_now()}",
        *(f"- {key}: {value}" for key, value in about.items()),
        f"- Whole command: {elapsed:.0f} s" + (" (`--quick`: smoke sizes)" if quick else ""),
    ]
    rows = [_row(f) for s in sections for f in s.figures]
    path.write_text(_render(header, rows, [(s.title, s.notes) for s in sections]))


def merge_results(
    path: Path, sections: dict[str, Section], about: dict[str, str], elapsed: float
) -> None:
    """Put the figures and notes of ``sections`` (by benchmark name) into the RESULTS.md at
    ``path`` in place of their earlier ones, keeping every other figure and note, and the
    header of the run that measured them, as they were; the header says what was re-measured,
    when, and on what if the machine differs."""
    if not path.is_file():
        write_results(path, list(sections.values()), about, elapsed, quick=False)
        return
    header, rows, notes = _parse(path.read_text())
    keys = set(sections) | {f.section for s in sections.values() for f in s.figures}
    names = ", ".join(f"`{name}`" for name in sections)
    header = [line for line in header if not line.startswith(REMEASURED + names + " ")]
    differs = [f"{k} {v}" for k, v in about.items() if f"- {k}: {v}" not in header]
    header.append(f"{REMEASURED}{names} on {_now()}, {elapsed:.0f} s; " + "; ".join(differs))
    new_rows = [_row(f) for s in sections.values() for f in s.figures]
    rows = _replace(rows, lambda row: _key(row) in keys, new_rows)
    titles = {s.title for s in sections.values()}
    new_notes = [(s.title, s.notes) for s in sections.values()]
    notes = _replace(notes, lambda note: note[0] in titles, new_notes)
    path.write_text(_render(header, rows, notes))


def _render(header: list[str], rows: list[str], notes: list[tuple[str, list[str]]]) -> str:
    verdicts = [_verdict(row) for row in rows]
    lines = [
        "# stridewatch benchmarks",
        "",
        INTRO,
        "",
        *header,
        "",
        "## Figures",
        "",
        "| figure | value | target | result | measured |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Targets met: {verdicts.count('pass')} of {len(verdicts) - verdicts.count('-')}.",
        "",
    ]
    if BOUNDS_FILE.is_file() and "FAIL" in verdicts:
        lines += [BOUNDS_FILE.read_text().rstrip(), ""]
    for title, texts in notes:
        if texts:
            lines += [f"## {title}: notes", ""]
            for note in texts:
                lines += [note, ""]
    return "\n".join(lines)


def _parse(text: str) -> tuple[list[str], list[str], list[tuple[str, list[str]]]]:
    """(header lines, figure rows, notes by section title) of a RESULTS.md we wrote."""
    figures_at = text.index("\n## Figures\n")
    header = [line for line in text[:figures_at].splitlines() if line.startswith("- ")]
    table, _, rest = text[figures_at:].partition("\nTargets met:")
    rows = [line for line in table.splitlines() if line.startswith("| ") and " | " in line]
    notes = []
    for block in rest.split("\n## ")[1:]:
        heading, _, body = block.partition("\n")
        if heading.endswith(": notes"):
            notes.append((heading.removesuffix(": notes"), [body.strip()]))
    return header, rows[1:], notes  # rows[0] is the table's heading


def _replace(old: list[T], stale: Callable[[T], bool], new: list[T]) -> list[T]:
    """``old`` without its stale items, ``new`` where the first stale one was (or at the end)."""
    at = next((i for i, item in enumerate(old) if stale(item)), len(old))
    return old[:at] + new + [item for item in old[at:] if not stale(item)]


def _row(f: Figure) -> str:
    value = f"{f.value:.3g}{f.unit}"
    return f"| {f.section}: {f.name} | {value} | {f.target_text} | {f.verdict} | {f.detail} |"


def _key(row: str) -> str:
    """The section of a figure row: ``soak`` in ``| soak: runs lost ... |``."""
    return row.removeprefix("| ").partition(":")[0]


def _verdict(row: str) -> str:
    return row.split(" | ")[3]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
