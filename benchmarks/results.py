"""RESULTS.md: every figure against its target, the machine, and the notes behind them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import Figure, Section

# What bounds each target that is not met, and why: written from the profiles in the notes
# (RESULTS.md quotes them); keyed by figure section.
BOUNDS_FILE = Path(__file__).with_name("bounds.md")


def write_results(
    path: Path, sections: list[Section], about: dict[str, str], elapsed: float, *, quick: bool
) -> None:
    figures = [f for s in sections for f in s.figures]
    lines = [
        "# stridewatch benchmarks",
        "",
        "Written by `python -m benchmarks` (run from the repository root with "
        "`.venv/bin/python`). Every figure is a ratio against a baseline measured in the same "
        "run, on the same machine; times are medians of repeated runs.",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        *(f"- {key}: {value}" for key, value in about.items()),
        f"- Whole command: {elapsed:.0f} s" + (" (`--quick`: smoke sizes)" if quick else ""),
        "",
        "## Figures",
        "",
        "| figure | value | target | result | measured |",
        "|---|---|---|---|---|",
        *(_row(f) for f in figures),
        "",
        f"Targets met: {sum(f.passed is True for f in figures)} of "
        f"{sum(f.passed is not None for f in figures)}.",
        "",
    ]
    if BOUNDS_FILE.is_file() and any(f.passed is False for f in figures):
        lines += [BOUNDS_FILE.read_text().rstrip(), ""]
    for section in sections:
        if section.notes:
            lines += [f"## {section.title}: notes", ""]
            for note in section.notes:
                lines += [note, ""]
    path.write_text("\n".join(lines))


def _row(f: Figure) -> str:
    value = f"{f.value:.3g}{f.unit}"
    return f"| {f.section}: {f.name} | {value} | {f.target_text} | {f.verdict} | {f.detail} |"
