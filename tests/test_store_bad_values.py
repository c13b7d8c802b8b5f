"""A stored row with a value the rules cannot count with (edited by hand in Datasette, or
damaged) is skipped with one warning by every reader, like a row with a bad date (issue 15,
item 7): text or infinity for a distance, a negative time, a pain timing in capitals."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

BAD = [
    ("runs", "distance_m", "'far'", "distance_m 'far' is not a number"),
    ("runs", "distance_m", "9e999", "distance_m inf is not a number"),
    ("runs", "moving_s", "-5", "moving_s -5"),
    ("runs", "avg_hr", "'high'", "avg_hr 'high'"),
    ("pain", "timing", "'After'", "timing 'After' is not one of"),
    ("pain", "score", "'lots'", "score 'lots' is not a score"),
]
READERS = [("runs",), ("check",), ("history",), ("pain-log",), ("what-if", "5km"), ("summary",)]


@pytest.mark.parametrize(("table", "column", "value", "said"), BAD)
def test_every_reader_skips_the_row_with_one_warning(
    sw: Any, db: Path, table: str, column: str, value: str, said: str
) -> None:
    for day in (20, 21, 22):
        at = f"2026-11-{day}T07:30"
        assert sw("log-run", "--at", at, "--distance", "6km", "--duration", "36:00").exit_code == 0
    assert sw("pain", "2", "--when", "after", "--at", "2026-11-22T09:00").exit_code == 0
    conn = sqlite3.connect(db)
    conn.execute(f"update {table} set {column} = {value} where id = 1")
    conn.commit()
    conn.close()
    for command in READERS:
        result = sw(*command, "--at", "2026-11-23T09:00") if command[0] in {
            "check", "history", "what-if", "summary"
        } else sw(*command)  # fmt: skip
        assert result.exit_code == 0, (command, result.stderr)
        warnings = [line for line in result.stderr.splitlines() if "warning" in line]
        reads_it = (table, command[0]) not in {("runs", "pain-log"), ("pain", "runs")}
        if reads_it:
            assert any(f"{table} row 1: {said}" in line for line in warnings), (command, warnings)
