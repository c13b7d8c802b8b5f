"""A row stored with a date no command can count with (issue 15, item 7): year 0001 or 9999,
text that is no date, written by hand or by another program with plain sqlite3. Every reader
skips it with one warning line naming the table and the row, and goes on; nothing crashes."""

from __future__ import annotations

import logging
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from agent.daemon import jobs
from agent.store import Store

AT = "2026-11-20T21:00"
# Beyond the calendar once in UTC, far outside the years stored, and no date at all; the
# last one sorts (as text, as SQLite compares it) inside the week every command reads.
IN_THE_WEEK = "2026-11-18T07:00:00+99:00"
BAD_DATES = (
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+00:00",
    "not a date",
    IN_THE_WEEK,
)
INSERT = {
    "runs": "insert into runs (started_at, distance_m, moving_s, elapsed_s, source, status, "
    "created_at) values (?, 5000, 1800, 1800, 'manual', 'closed', '2026-11-20T07:00:00+00:00')",
    "pain": "insert into pain (at, score, timing, created_at) values (?, 6, 'after', 'x')",
    "plans": "insert into plans (created_at, status, data) values (?, 'active', '{}')",
    "declared_levels": "insert into declared_levels (set_at, week_km, long_km) values (?, 25, 10)",
    "alerts": "insert into alerts (key, rule, severity, message, data, raised_at) "
    "values ('hand-made ' || ?1, 'weekly-progression', 'caution', 'hand-made', '{}', ?1)",
}
# The reading commands, all at one instant (what-if plans a run there).
COMMANDS = {
    "runs": ("runs",),
    "pain-log": ("pain-log",),
    "check": ("check", "--at", AT),
    "summary": ("summary", "--at", AT),
    "history": ("history", "--at", AT),
    "report": ("report", "--at", AT, "-o", "OUT/report.html"),
    "what-if": ("what-if", "8km", "--at", AT),
    "plan-show": ("plan", "show", "--at", AT),
    "alerts": ("alerts",),
}
# Which table a command lists whole, whatever the dates.
LISTS = {"runs": "runs", "pain-log": "pain", "alerts": "alerts"}
# The commands that read the history up to --at (runs and pain of the last months, the plan
# and declared level in force then).
HISTORY = {"check", "summary", "history", "report", "what-if", "plan-show"}


def insert(db: Path, sql: str, *values: object) -> int:
    with sqlite3.connect(db) as conn:
        row_id = conn.execute(sql, values).lastrowid
    conn.close()
    assert row_id is not None
    return row_id


def reads(command: str, table: str, value: str) -> bool:
    """Whether ``command`` reads the row: a listing reads its whole table; the history
    reads runs and pain up to --at, and the latest plan and level set by then."""
    if LISTS.get(command) == table:
        return True
    if command not in HISTORY:
        return False
    if table in ("runs", "pain"):
        return value == IN_THE_WEEK
    return table in ("plans", "declared_levels") and value <= AT


@pytest.fixture
def history(sw: Any, db: Path) -> Path:
    """Four weeks of runs and a morning pain report, up to the Thursday of AT."""
    for day, km in (("02", "8km"), ("09", "9km"), ("16", "9km"), ("19", "5km")):
        result = sw(
            "log-run", "--at", f"2026-11-{day}T07:00", "--distance", km, "--duration", "50:00"
        )
        assert result.exit_code == 0, result.stderr
    assert sw("pain", "2", "--when", "morning", "--at", "2026-11-17T07:00").exit_code == 0
    return db


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("stridewatch: warning: ")]


@pytest.mark.parametrize("value", BAD_DATES)
@pytest.mark.parametrize("table", sorted(INSERT))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_reader_skips_a_bad_row_with_one_warning(
    sw: Any, history: Path, tmp_path: Path, command: str, table: str, value: str
) -> None:
    row_id = insert(history, INSERT[table], value)
    args = [part.replace("OUT", str(tmp_path)) for part in COMMANDS[command]]
    result = sw(*args)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    # Nothing on stderr but warnings (these commands print their answer on stdout)...
    assert warnings_in(result.stderr) == result.stderr.splitlines()
    expected = (
        [f"stridewatch: warning: {table} row {row_id}: {'raised_at' if table == 'alerts' else ''}"]
        if reads(command, table, value)
        else []
    )
    # ... one for the bad row, naming it, when the command reads it.
    found = warnings_in(result.stderr)
    assert len(found) == len(expected), found
    for line in found:
        assert re.fullmatch(
            rf"stridewatch: warning: {table} row {row_id}: \w+ '.*' is (not a date|outside "
            r"1970-2200, the years stridewatch stores); skipped \(fix or delete the row\)",
            line,
        ), line


def test_the_rest_of_the_history_still_counts(sw: Any, history: Path) -> None:
    before = sw("check", "--at", AT, "--json").json()
    for table in ("runs", "pain"):
        insert(history, INSERT[table], IN_THE_WEEK)
    after = sw("check", "--at", AT, "--json")
    assert after.json()["week"] == before["week"]
    runs = sw("runs", "--json")
    assert [run["id"] for run in runs.json()] == [1, 2, 3, 4]
    assert warnings_in(runs.stderr) == [
        f"stridewatch: warning: runs row 5: started_at '{IN_THE_WEEK}' is not a date; skipped "
        "(fix or delete the row)"
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("not json", "data 'not json' that is not JSON"),
        ("[1, 2]", "data '[1, 2]' that is not a plan"),
        ('{"start_week": "0001-01-01"}', "start_week '0001-01-01' is outside 1970-2200"),
        ('{"start_week": "2026-11-16"}', "data that is not a plan (KeyError)"),
    ],
)
def test_a_plan_whose_data_cannot_be_read_is_skipped(
    sw: Any, history: Path, data: str, problem: str
) -> None:
    assert sw("plan", "return", "--usual", "8-10km", "--at", "2026-11-16T08:00").exit_code == 0
    plan = sw("plan", "show", "--at", AT, "--json").json()
    plan_id = insert(
        history,
        "insert into plans (created_at, status, data) values (?, 'active', ?)",
        "2026-11-18T08:00:00+00:00",
        data,
    )
    for command in ("check", "summary", "history", "plan"):
        args = ("plan", "show") if command == "plan" else (command,)
        result = sw(*args, "--at", AT, "--json")
        assert result.exit_code == 0, result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"stridewatch: warning: plans row {plan_id}: {problem}")
    # Before the bad plan, the plan it replaced is in force as it was.
    before = sw("plan", "show", "--at", "2026-11-17T08:00", "--json")
    assert before.stderr == ""
    assert before.json()["id"] == plan["id"]


def test_commands_about_a_bad_run_refuse_in_one_line(sw: Any, history: Path) -> None:
    run_id = insert(history, INSERT["runs"], "0001-01-01T00:00:00+14:00")
    for args in (
        ("rpe", str(run_id), "4"),
        ("pain", "3", "--when", "after", "--run", str(run_id)),
        ("export", str(run_id)),
    ):
        result = sw(*args)
        assert result.exit_code == 2, args
        assert result.stderr == (
            f"stridewatch: run {run_id}: cannot be used, its started_at "
            "'0001-01-01T00:00:00+14:00' is outside 1970-2200, the years stridewatch stores "
            "(fix or delete the row)\n"
        )
    shown = sw("show", str(run_id), "--json")  # the raw row, as stored
    assert shown.json()["started_at"] == "0001-01-01T00:00:00+14:00"


def test_the_daemons_jobs_skip_bad_rows(
    sw: Any, history: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The nightly summary, the morning and after-run check-ins and the delivery retries."""
    for table in ("runs", "pain", "plans", "declared_levels", "alerts"):
        for value in BAD_DATES:
            insert(history, INSERT[table], value)
    bad_run = insert(
        history,
        "insert into runs (started_at, ended_at, distance_m, source, status, created_at) "
        "values ('2026-11-20T07:00:00+00:00', ?, 5000, 'manual', 'closed', 'x')",
        IN_THE_WEEK.replace("18", "20"),
    )
    insert(
        history,
        "insert into checkins (key, kind, created_at, message) values ('morning:x', "
        "'morning', ?, 'hand-made')",
        IN_THE_WEEK,
    )
    settings = Settings(timezone="UTC")
    at = datetime(2026, 11, 20, 21, tzinfo=UTC)
    since = datetime(2026, 11, 1, tzinfo=UTC)
    with caplog.at_level(logging.WARNING, "stridewatch.store"), Store.open(history) as store:
        assert jobs.nightly(store, settings, at)
        assert jobs.morning(store, settings, datetime(2026, 11, 20, 8, tzinfo=UTC))
        assert not jobs.after_run(store, settings, at, bad_run)
        waiting = store.runs_awaiting_checkin(since=since)
        undelivered = store.undelivered(since=since)
        summary = store.summary_of(at.date())
    assert bad_run not in [run_id for run_id, _ in waiting]
    assert "summary" in [item.kind for item in undelivered]
    assert "morning:x" not in [item.ref for item in undelivered]
    assert all(item.at.year == 2026 for item in undelivered)
    assert summary is not None
    assert summary["data"]["distance_km"] > 0
    skipped = {re.match(r"(\w+) row (.+?): \w+ '", r.getMessage()).groups() for r in caplog.records}
    assert ("runs", str(bad_run)) in skipped
    assert ("checkins", "morning:x") in skipped
    assert {table for table, _ in skipped} == {
        "runs",
        "pain",
        "plans",
        "declared_levels",
        "alerts",
        "checkins",
    }
