"""Every table at 80 columns (issue 17, item 4): on a realistic history, each command that
prints a table or a paragraph gives no line over 80 characters, no line ending in spaces, no
message or command cut with an ellipsis, through a pipe and on a colour terminal alike."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests import cli_history
from tests.cli_history import AT, OVER_AT

NARROW = {"COLUMNS": "80"}
COLOUR = {**NARROW, "FORCE_COLOR": "1", "TERM": "xterm-256color"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A folder with a short path (pytest's own are about 80 characters long)."""
    with tempfile.TemporaryDirectory(prefix="sw") as folder:
        yield Path(folder)


@pytest.fixture
def made(sw: Any, db: Path, short_tmp: Path) -> cli_history.Made:
    return cli_history.build(sw, db, short_tmp)


def commands(made: cli_history.Made) -> list[tuple[str, ...]]:
    return [
        ("runs",),
        ("pain-log",),
        ("check", "--at", AT),
        ("check", "--at", OVER_AT),
        ("summary", "--at", AT),
        ("summary", "--at", OVER_AT),
        ("alerts",),
        ("what-if", "18km", "--at", AT),
        ("what-if", "--week", "thu 8km, sat 10km, sun 18km", "--at", AT),
        ("plan", "show", "--at", AT),
        ("history", "--at", AT),
        ("history", "--at", AT, "--weeks", "4"),
        ("show", str(made.recorded_run)),
        ("show", "1"),
        ("sync", "status"),
        ("sync", "list"),
        ("config", "show"),
        ("decode", "hrm", "10 3e b1 03 de"),
    ]


def problems(stdout: str) -> list[str]:
    """The lines a runner would trip over, each with what is wrong with it."""
    found = []
    for line in stdout.splitlines():
        seen = ANSI.sub("", line)
        if len(seen) > 80:
            found.append(f"{len(seen)} characters: {seen}")
        if seen != seen.rstrip() or ANSI.sub("", line.rstrip()) != seen.rstrip():
            found.append(f"ends in spaces: {seen!r}")
        if "…" in seen:
            found.append(f"cut: {seen}")
    return found


def test_every_table_fits_80_columns(sw: Any, made: cli_history.Made) -> None:
    wrong = {}
    for args in commands(made):
        for env in (NARROW, COLOUR):
            result = sw(*args, env={**env, **made.sync_env})
            assert result.exit_code == 0, (args, result.stderr)
            assert result.stdout.strip(), args
            if found := problems(result.stdout):
                wrong[" ".join(args) + (" (colour)" if env is COLOUR else "")] = found
    assert wrong == {}


def test_through_a_real_pipe(db: Path, made: cli_history.Made) -> None:
    """As a shell pipes it (``stridewatch alerts | less``): no colour, nothing padded."""
    for args in (("alerts",), ("history", "--at", AT), ("runs",)):
        done = subprocess.run(
            [sys.executable, "-m", "agent", "--db", str(db), *args],
            env={**os.environ, **NARROW},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "\x1b[" not in done.stdout
        assert problems(done.stdout) == [], args


def test_messages_go_below_their_row_when_narrow_and_beside_it_when_wide(
    sw: Any, made: cli_history.Made
) -> None:
    narrow = sw("alerts", env=NARROW).stdout.splitlines()
    header = narrow[1]
    assert header.split() == ["raised", "severity", "rule", "run", "delivered"]
    rows = [n for n, line in enumerate(narrow) if re.match(r"\w{3} \d{4}-\d\d-\d\d ", line)]
    assert rows
    for n in rows:
        assert narrow[n + 1].startswith("    ")  # the message, under its row
    wide = sw("alerts", env={"COLUMNS": "160"}).stdout.splitlines()
    assert wide[1].split()[-1] == "message"
    start = wide[1].index("message")
    first = next(line for line in wide if re.match(r"\w{3} \d{4}-\d\d-\d\d ", line))
    assert first[start - 2 : start] == "  "
    assert first[start] != " "  # the message beside its row, in its column


def test_a_command_in_a_message_is_never_cut(sw: Any, made: cli_history.Made) -> None:
    """A command to copy stays on one line, however the message around it wraps."""
    for args in (("alerts",), ("check", "--at", OVER_AT)):
        text = sw(*args, env=NARROW).stdout
        assert "stridewatch pain N --when morning" in " ".join(text.split())
        assert any("stridewatch pain N --when morning" in line for line in text.splitlines())
        ends = ("stridewatch", "stridewatch pain")
        assert not any(line.endswith(ends) for line in text.splitlines())


def test_a_note_is_shown_whole_under_its_run(sw: Any, made: cli_history.Made) -> None:
    out = sw("runs", env=NARROW).stdout
    assert cli_history.NOTE in " ".join(out.split())
    pain = sw("pain-log", env=NARROW).stdout
    assert cli_history.PAIN_NOTE in " ".join(pain.split())


def test_history_bars_use_the_width_and_held_stays_on_its_row(
    sw: Any, made: cli_history.Made
) -> None:
    lines = sw("history", "--at", AT, env=NARROW).stdout.splitlines()
    over = next(line for line in lines if "over cap" in line)
    assert over.endswith("(held)")
    bar = re.search(r"[█░]+│[█░]*", over)
    assert bar is not None
    assert len(bar.group()) >= 20  # at 80 columns, not 11


def test_weeks_from_sunday_head_the_pain_days_from_sunday(sw: Any, made: cli_history.Made) -> None:
    env = {**NARROW, "STRIDEWATCH_WEEK_START": "sunday"}
    out = sw("history", "--at", AT, env=env).stdout
    assert "SMTWTFS" in out
    assert "MTWTFSS" not in out
    data = sw("history", "--at", AT, "--json", env=env).json()
    assert {date.fromisoformat(week["start"]).weekday() for week in data["weeks"]} == {6}


def test_an_empty_history_fits_too(sw: Any) -> None:
    for args in (("runs",), ("pain-log",), ("check",), ("summary",), ("history",), ("alerts",)):
        result = sw(*args, env=NARROW)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip()
        assert problems(result.stdout) == [], args


WIDE_NOTE = "膝の外側が少し痛かったが、最後まで走れた。" * 4  # no spaces: 168 cells
LONG_WORD = "ow" * 60  # a word longer than the line


@pytest.mark.parametrize("note", [WIDE_NOTE, LONG_WORD])
def test_a_note_without_spaces_is_cut_by_display_width(sw: Any, note: str) -> None:
    """A Japanese note (two cells a character, no spaces) or a word longer than the line:
    cut by the cells it takes on screen, never past 80, and nothing of it lost."""
    from rich.cells import cell_len

    logged = sw(
        "log-run", "--at", "2026-11-24T07:00", "--distance", "8km", "--duration", "48:00",
        "--note", note,
    )  # fmt: skip
    assert logged.exit_code == 0, logged.stderr
    pain = sw("pain", "3", "--when", "after", "--at", "2026-11-24T08:30", "--note", note)
    assert pain.exit_code == 0, pain.stderr
    for args in (("runs",), ("pain-log",), ("summary", "--at", "2026-11-24T20:00")):
        out = sw(*args, env=NARROW).stdout
        wide = [line for line in out.splitlines() if cell_len(line) > 80]
        assert wide == [], args
        if args[0] != "summary":
            assert note in "".join(line.strip() for line in out.splitlines()), args
